#include "controller/config/decoder.h"

#include <catch2/catch.hpp>

#include "controller/config/yaml.h"
#include "istio/networking/v1alpha3/service_entry.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"

namespace meshd::config {
namespace {

namespace net = istio::networking::v1alpha3;

absl::StatusOr<model::ConfigPtr> DecodeYaml(const std::string& yaml) {
  auto docs = ParseYamlDocuments(yaml);
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  return DecodeObject((*docs)[0].value, DecodeOptions{"test"});
}

std::string Error(const std::string& yaml) {
  auto c = DecodeYaml(yaml);
  REQUIRE_FALSE(c.ok());
  return std::string(c.status().message());
}

const char* kVs = R"(
apiVersion: networking.istio.io/VERSION
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 80
    - destination: {host: reviews, subset: v2}
      weight: 20
)";

std::string Vs(const std::string& version) {
  std::string s = kVs;
  s.replace(s.find("VERSION"), 7, version);
  return s;
}

TEST_CASE("VirtualService decodes in v1, v1beta1 and v1alpha3", "[config]") {
  for (const char* v : {"v1", "v1beta1", "v1alpha3"}) {
    auto c = DecodeYaml(Vs(v));
    REQUIRE(c.ok());
    CHECK((*c)->key.ToString() == "VirtualService/shop/reviews");
    const auto* spec = (*c)->SpecAs<net::VirtualService>();
    REQUIRE(spec != nullptr);
    CHECK(spec->http(0).route(1).weight() == 20);
  }
}

TEST_CASE("an unserved version is rejected by name", "[config]") {
  CHECK(Error(Vs("v2")) ==
        "VirtualService shop/reviews: apiVersion: version \"v2\" of networking.istio.io is not "
        "served; use one of v1, v1beta1, v1alpha3");
}

TEST_CASE("unknown kinds are NotFound so sources can skip them", "[config]") {
  auto docs = ParseYamlDocuments("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n");
  auto c = DecodeObject((*docs)[0].value, DecodeOptions{"test"});
  CHECK(absl::IsNotFound(c.status()));
}

TEST_CASE("validation errors name object and field paths", "[config]") {
  CHECK(Error(R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bad}
spec:
  hosts: [reviews]
  http:
  - match:
    - uri: {regex: "(unclosed"}
      headers: {End-User: {exact: jason}}
    route:
    - destination: {subset: v1}
      weight: -1
    - destination: {host: reviews}
    retries: {attempts: 3, retryOn: "5xx,sometimes"}
    fault:
      abort: {grpcStatus: NOPE, percentage: {value: 150}}
)") == "VirtualService default/bad: "
       "spec.http[0].match[0].uri.regex: \"(unclosed\" is not a valid RE2 regex: missing ): "
       "(unclosed; "
       "spec.http[0].match[0].headers[End-User]: header name must be non-empty and lower case; "
       "spec.http[0].route[0].destination.host: required field is missing; "
       "spec.http[0].route[0].weight: weight must not be negative; "
       "spec.http[0].retries.retryOn: unknown retry policy \"sometimes\"; "
       "spec.http[0].fault.abort.grpcStatus: \"NOPE\" is not a gRPC status code name; "
       "spec.http[0].fault.abort.percentage.value: percentage 150 must be in [0, 100]");
}

TEST_CASE("metadata name and spec are required", "[config]") {
  CHECK(Error("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {}\n") ==
        "DestinationRule default/: metadata.name: required field is missing; spec: required "
        "field is missing");
}

TEST_CASE("DestinationRule rules", "[config]") {
  CHECK(Error(R"(
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: r, namespace: ns}
spec:
  host: reviews
  trafficPolicy:
    outlierDetection: {maxEjectionPercent: 120, interval: 0s}
    loadBalancer: {consistentHash: {}}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v1, labels: {version: v2}}
  - {name: V_3}
)") == "DestinationRule ns/r: "
       "spec.trafficPolicy.loadBalancer.consistentHash: one of httpHeaderName, httpCookie, "
       "useSourceIp or httpQueryParameterName is required; "
       "spec.trafficPolicy.outlierDetection.interval: duration must be at least 1ms; "
       "spec.trafficPolicy.outlierDetection.maxEjectionPercent: must be in [0, 100]; "
       "spec.subsets[1].name: subset \"v1\" is defined more than once; "
       "spec.subsets[2].name: \"V_3\" is not a valid subset name (a DNS label)");
}

TEST_CASE("ServiceEntry rules", "[config]") {
  CHECK(Error(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se}
spec:
  hosts: ["*"]
  resolution: STATIC
  ports: [{number: 0, name: grpc, protocol: QUIC}]
  endpoints:
  - {address: not-an-ip, ports: {http: 80}}
)") == "ServiceEntry default/se: "
       "spec.hosts[0]: \"*\" is not allowed in a ServiceEntry; "
       "spec.ports[0].number: port number 0 must be in [1, 65535]; "
       "spec.ports[0].protocol: unknown protocol \"QUIC\"; "
       "spec.endpoints[0].address: \"not-an-ip\" is not an IP address (resolution STATIC); "
       "spec.endpoints[0].ports[http]: no service port is named \"http\"");
}

TEST_CASE("equal content hashes for equal objects, different for changes", "[config]") {
  auto a = DecodeYaml(Vs("v1"));
  auto b = DecodeYaml(Vs("v1beta1"));
  std::string changed = Vs("v1");
  changed.replace(changed.find("weight: 80"), 10, "weight: 70");
  auto c = DecodeYaml(changed);
  CHECK((*a)->content_hash == (*b)->content_hash);
  CHECK((*a)->content_hash != (*c)->content_hash);
}

}  // namespace
}  // namespace meshd::config

namespace meshd::config {
namespace {

TEST_CASE("ValidateSpec refuses a message of another kind instead of casting it", "[config]") {
  istio::networking::v1alpha3::ServiceEntry se;
  se.add_hosts("api.example.com");
  absl::Status wrong = ValidateSpec(model::Kind::kSidecar, se, "default");
  CHECK(wrong.message() ==
        "spec: a Sidecar spec must be a istio.networking.v1alpha3.Sidecar, got "
        "istio.networking.v1alpha3.ServiceEntry");
  // As its own kind it goes through that kind's rules.
  CHECK(ValidateSpec(model::Kind::kServiceEntry, se, "default").ok());
  CHECK(ValidateSpec(model::Kind::kServiceEntry, istio::networking::v1alpha3::ServiceEntry(),
                     "default")
            .message() == "spec.hosts: at least one host is required");
}

}  // namespace
}  // namespace meshd::config
