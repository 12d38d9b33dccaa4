#include "controller/kube/kube_registry.h"

#include <catch2/catch.hpp>

namespace meshd::kube {
namespace {

using nlohmann::json;

TEST_CASE("kube registry: a Service becomes a service with protocols", "[kube][registry]") {
  json svc = json::parse(R"({"metadata":{"name":"reviews","namespace":"default"},
    "spec":{"clusterIP":"10.96.0.11","ports":[
      {"name":"grpc","port":9080,"targetPort":9080},
      {"name":"web","port":80,"appProtocol":"http2"},
      {"name":"http-admin","port":8080},
      {"name":"dns","port":53,"protocol":"UDP"},
      {"port":9000}]}})");
  auto s = ServiceFromKube(svc, "cluster.local");
  REQUIRE(s.has_value());
  CHECK(s->hostname == "reviews.default.svc.cluster.local");
  CHECK(s->ns == "default");
  CHECK(s->addresses == std::vector<std::string>{"10.96.0.11"});
  REQUIRE(s->ports.size() == 5);
  CHECK(s->ports[0].protocol == "GRPC");
  CHECK(s->ports[0].target_port == 9080);
  CHECK(s->ports[1].protocol == "HTTP2");
  CHECK(s->ports[2].protocol == "HTTP");
  CHECK(s->ports[3].protocol == "UDP");
  CHECK(s->ports[4].protocol == "TCP");
  CHECK(!ServiceFromKube(json::parse(R"({"metadata":{"name":"x"}})"), "cluster.local"));
}

TEST_CASE("kube registry: EndpointSlices + Pods + Nodes become endpoints", "[kube][registry]") {
  model::Service svc;
  svc.hostname = "reviews.default.svc.cluster.local";
  svc.ports = {{"grpc", 9080, "GRPC", 0}};
  EndpointInputs in;
  in.slices.push_back(json::parse(R"({"metadata":{"name":"s1","namespace":"default"},
    "addressType":"IPv4","ports":[{"name":"grpc","port":50051}],
    "endpoints":[
      {"addresses":["10.0.0.1"],"conditions":{"ready":true},"zone":"z1","nodeName":"n1",
       "targetRef":{"kind":"Pod","name":"p1"}},
      {"addresses":["10.0.0.2"],"conditions":{"ready":false,"serving":true,"terminating":true},
       "targetRef":{"kind":"Pod","name":"p2","namespace":"default"}},
      {"addresses":["10.0.0.3"],"hostname":"reviews-2"},
      {"addresses":["10.0.0.1"],"conditions":{"ready":true}}]})"));
  in.slices.push_back(json::parse(R"({"metadata":{"name":"s2","namespace":"default"},
    "addressType":"FQDN","ports":[{"name":"grpc","port":1}],"endpoints":[{"addresses":["x.y"]}]})"));
  in.pod = [](const std::string& key) -> std::optional<json> {
    if (key != "default/p1") return std::nullopt;
    return json::parse(R"({"metadata":{"labels":{"app":"reviews","version":"v1"}},
                          "spec":{"serviceAccountName":"bookinfo"}})");
  };
  in.node = [](const std::string& name) -> std::optional<json> {
    if (name != "n1") return std::nullopt;
    return json::parse(R"({"metadata":{"labels":{"topology.kubernetes.io/region":"r1"}}})");
  };
  auto eps = EndpointsFromSlices(svc, in);
  REQUIRE(eps.size() == 3);  // the duplicate 10.0.0.1 and the FQDN slice are left out
  CHECK(eps[0].address == "10.0.0.1");
  CHECK(eps[0].port == 50051);
  CHECK(eps[0].service_port == 9080);
  CHECK(eps[0].healthy);
  CHECK(eps[0].labels == std::map<std::string, std::string>{{"app", "reviews"}, {"version", "v1"}});
  CHECK(eps[0].service_account == "bookinfo");
  CHECK(eps[0].locality == "r1/z1");
  CHECK(eps[1].address == "10.0.0.2");
  CHECK(!eps[1].healthy);  // terminating
  CHECK(eps[1].service_account == "default");
  CHECK(eps[2].address == "10.0.0.3");
  CHECK(eps[2].healthy);  // conditions unset: ready
  CHECK(eps[2].locality.empty());
  CHECK(eps[2].hostname == "reviews-2");  // a StatefulSet pod's DNS name, for NDS
  CHECK(eps[0].hostname.empty());
}

}  // namespace
}  // namespace meshd::kube

namespace meshd::kube {
namespace {

TEST_CASE("kube registry: a TLS secret becomes a gateway credential, as istiod reads it",
          "[kube][registry]") {
  auto secret = [](nlohmann::json data) {
    return nlohmann::json{{"metadata", {{"name", "c"}, {"namespace", "istio-system"}}},
                          {"data", std::move(data)}};
  };
  // "tls.crt"/"tls.key" (kubernetes.io/tls), base64 as the API server returns it.
  auto tls = CredentialFromSecret(secret({{"tls.crt", "Q0VSVA=="}, {"tls.key", "S0VZ"}}));
  REQUIRE(tls.has_value());
  CHECK(tls->cert_chain == "CERT");
  CHECK(tls->private_key == "KEY");
  CHECK(tls->ca_cert.empty());
  // The generic form: "cert"/"key"/"cacert".
  auto generic =
      CredentialFromSecret(secret({{"cert", "Q0VSVA=="}, {"key", "S0VZ"}, {"cacert", "Q0E="}}));
  REQUIRE(generic.has_value());
  CHECK(generic->ca_cert == "CA");
  // A CA-only secret (the "<name>-cacert" form).
  auto ca = CredentialFromSecret(secret({{"ca.crt", "Q0E="}}));
  REQUIRE(ca.has_value());
  CHECK(ca->cert_chain.empty());
  // Not TLS material, or not base64: not a credential.
  CHECK_FALSE(CredentialFromSecret(secret({{"token", "eHl6"}})).has_value());
  CHECK_FALSE(CredentialFromSecret(secret({{"tls.crt", "%%%"}, {"tls.key", "S0VZ"}})).has_value());
  CHECK_FALSE(CredentialFromSecret(nlohmann::json::array()).has_value());
}

}  // namespace
}  // namespace meshd::kube
