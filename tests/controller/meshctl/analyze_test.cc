// meshctl analyze: decode errors and the cross-object checks on files, each finding naming
// object and field; the exit-code rule (errors vs warnings).
#include "controller/meshctl/analyze.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "absl/strings/match.h"

namespace meshd::meshctl {
namespace {

constexpr char kBase[] = R"(apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  ports: [{port: 9080, name: http}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets:
  - name: v1
    labels: {version: v1}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
)";

std::string TempDir() {
  char tmpl[] = "/tmp/meshctl-analyze-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::vector<Finding> AnalyzeDir(const std::string& extra) {
  std::string dir = TempDir();
  Write(dir + "/base.yaml", kBase);
  Write(dir + "/extra.yaml", extra);
  AnalyzeInput input;
  REQUIRE(LoadPaths({dir}, &input).ok());
  return Analyze(input);
}

bool Has(const std::vector<Finding>& fs, const std::string& code, const std::string& object,
         const std::string& field) {
  for (const auto& f : fs) {
    if (f.code == code && f.object == object && f.field == field) return true;
  }
  return false;
}

std::string Dump(const std::vector<Finding>& fs) {
  std::string s;
  for (const auto& f : fs) s += f.ToString() + "\n";
  return s;
}

TEST_CASE("analyze: a clean config has no findings", "[analyze]") {
  auto fs = AnalyzeDir(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  gateways: [public, mesh]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
)");
  INFO(Dump(fs));
  CHECK(fs.empty());
  CHECK_FALSE(HasErrors(fs));
}

TEST_CASE("analyze: VirtualService to a missing subset and a missing gateway", "[analyze]") {
  auto fs = AnalyzeDir(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  gateways: [nope]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 50
    - destination: {host: reviews, subset: v3}
      weight: 50
)");
  INFO(Dump(fs));
  CHECK(Has(fs, "MissingSubset", "VirtualService default/reviews",
            "spec.http[0].route[1].destination.subset"));
  CHECK(Has(fs, "MissingGateway", "VirtualService default/reviews", "spec.gateways[0]"));
  CHECK(fs.size() == 2);
  CHECK(HasErrors(fs));
  CHECK(absl::StrContains(fs[0].ToString(), "\"v3\""));
}

TEST_CASE("analyze: conflicting VirtualService hosts on the same gateway", "[analyze]") {
  auto fs = AnalyzeDir(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: default}
spec:
  hosts: [reviews.default.svc.cluster.local]
  http: [{route: [{destination: {host: reviews}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: default}
spec:
  hosts: [other, reviews]
  http: [{route: [{destination: {host: reviews}}]}]
)");
  INFO(Dump(fs));
  CHECK(Has(fs, "ConflictingHosts", "VirtualService default/b", "spec.hosts[1]"));
  CHECK(fs.size() == 1);
}

TEST_CASE("analyze: a DestinationRule matching no service is a warning (exit 0)", "[analyze]") {
  auto fs = AnalyzeDir(R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ghost, namespace: default}
spec:
  host: ghost
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: default}
spec:
  hosts: [api.example.com]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ext, namespace: default}
spec:
  host: api.example.com
)");
  INFO(Dump(fs));
  CHECK(Has(fs, "UnusedDestinationRule", "DestinationRule default/ghost", "spec.host"));
  CHECK(fs.size() == 1);
  CHECK_FALSE(HasErrors(fs));
}

TEST_CASE("analyze: objects meshd rejects are errors naming object and field", "[analyze]") {
  auto fs = AnalyzeDir(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bad, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
      weight: -5
)");
  INFO(Dump(fs));
  REQUIRE(!fs.empty());
  CHECK(fs[0].code == "InvalidConfig");
  CHECK(fs[0].object == "VirtualService default/bad");
  CHECK(absl::StartsWith(fs[0].field, "spec.http[0]"));
  CHECK(HasErrors(fs));
}

TEST_CASE("analyze: a missing path is an error, not a finding", "[analyze]") {
  AnalyzeInput input;
  CHECK(absl::IsNotFound(LoadPaths({"/nonexistent/meshctl"}, &input)));
}

TEST_CASE("analyze --live: configs and services from /debug/configz", "[analyze]") {
  nlohmann::json configz = {
      {"configs",
       {{{"kind", "VirtualService"},
         {"namespace", "default"},
         {"name", "r"},
         {"origin", "kube"},
         {"spec",
          {{"hosts", {"reviews"}},
           {"http",
            {{{"route", {{{"destination", {{"host", "reviews"}, {"subset", "v9"}}}}}}}}}}}}}},
      {"services", {{{"hostname", "reviews.default.svc.cluster.local"}}}},
      {"rejected",
       {{{"file", "/etc/x.yaml"},
         {"kind", "Gateway default/g"},
         {"error", "Gateway default/g: spec.servers: required"}}}}};
  AnalyzeInput input;
  LoadConfigz(configz, &input);
  auto fs = Analyze(input);
  INFO(Dump(fs));
  CHECK(Has(fs, "InvalidConfig", "Gateway default/g", "spec.servers"));
  CHECK(Has(fs, "MissingSubset", "VirtualService default/r",
            "spec.http[0].route[0].destination.subset"));
}

}  // namespace
}  // namespace meshd::meshctl
