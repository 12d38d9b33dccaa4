// MeshConfig parsing: istiod's field names and defaults, every error with its field path, and
// the fields meshd does not apply accepted with a warning (a mesh config written for istiod
// must load).
#include "controller/config/mesh_config.h"

#include <catch2/catch.hpp>

namespace meshd::config {
namespace {

TEST_CASE("ParseMeshConfig: empty text gives istiod's defaults", "[mesh_config]") {
  auto parsed = ParseMeshConfig("");
  REQUIRE(parsed.ok());
  const model::MeshConfig& m = parsed->mesh;
  CHECK(m.root_namespace == "istio-system");
  CHECK(m.trust_domain == "cluster.local");
  CHECK(m.default_service_export_to == std::vector<std::string>{"*"});
  CHECK_FALSE(m.outbound_registry_only);
  CHECK(m.enable_auto_mtls);
  CHECK(parsed->warnings.empty());
}

TEST_CASE("ParseMeshConfig: the fields meshd applies", "[mesh_config]") {
  auto parsed = ParseMeshConfig(R"(
rootNamespace: mesh-root
trustDomain: example.org
trustDomainAliases: [old.example.org]
defaultServiceExportTo: ["."]
defaultVirtualServiceExportTo: ["*"]
defaultDestinationRuleExportTo: [".", "istio-system"]
outboundTrafficPolicy:
  mode: REGISTRY_ONLY
enableAutoMtls: false
connectTimeout: 5s
defaultConfig:
  discoveryAddress: meshd.istio-system.svc:15012
  tracing: {}
extensionProviders:
- name: opa
  envoyExtAuthzGrpc:
    service: opa.opa.svc.cluster.local
    port: 9191
    timeout: 250ms
    failOpen: true
- name: http-authz
  envoyExtAuthzHttp:
    service: authz.foo.svc.cluster.local
    port: 8000
    pathPrefix: /check
    includeRequestHeadersInCheck: [authorization, cookie]
    headersToUpstreamOnAllow: [x-user]
- name: zipkin
  zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411}
)");
  REQUIRE(parsed.ok());
  const model::MeshConfig& m = parsed->mesh;
  CHECK(m.root_namespace == "mesh-root");
  CHECK(m.trust_domain == "example.org");
  CHECK(m.trust_domain_aliases == std::vector<std::string>{"old.example.org"});
  CHECK(m.default_service_export_to == std::vector<std::string>{"."});
  CHECK(m.default_destination_rule_export_to == std::vector<std::string>{".", "istio-system"});
  CHECK(m.outbound_registry_only);
  CHECK_FALSE(m.enable_auto_mtls);
  CHECK(m.connect_timeout == absl::Seconds(5));
  CHECK(m.discovery_address == "meshd.istio-system.svc:15012");
  REQUIRE(m.ext_authz_providers.size() == 2);
  const model::ExtAuthzProvider* opa = m.FindExtAuthz("opa");
  REQUIRE(opa != nullptr);
  CHECK(opa->kind == model::ExtAuthzProvider::Kind::kGrpc);
  CHECK(opa->port == 9191);
  CHECK(opa->timeout == absl::Milliseconds(250));
  CHECK(opa->fail_open);
  const model::ExtAuthzProvider* http = m.FindExtAuthz("http-authz");
  REQUIRE(http != nullptr);
  CHECK(http->path_prefix == "/check");
  CHECK(http->include_request_headers_in_check.size() == 2);
  CHECK(m.FindExtAuthz("zipkin") == nullptr);
  // Accepted but not applied: named.
  CHECK(std::count(parsed->warnings.begin(), parsed->warnings.end(),
                   "defaultConfig.tracing: proxy setting, not applied by meshd") == 1);
  CHECK(std::count(parsed->warnings.begin(), parsed->warnings.end(),
                   "extensionProviders[2].zipkin: provider kind not applied by meshd") == 1);
}

TEST_CASE("ParseMeshConfig: every bad field is named with its path", "[mesh_config]") {
  auto parsed = ParseMeshConfig(R"(
rootNamespace: 7
outboundTrafficPolicy: {mode: SOMETIMES}
enableAutoMtls: "yes"
defaultServiceExportTo: []
extensionProviders:
- name: a
  envoyExtAuthzHttp: {service: a.b.svc, port: 70000}
- name: a
  envoyExtAuthzGrpc: {service: c.d.svc, port: 1}
)");
  REQUIRE_FALSE(parsed.ok());
  std::string msg(parsed.status().message());
  CHECK_THAT(msg, Catch::Contains("rootNamespace: expected a string"));
  CHECK_THAT(msg, Catch::Contains("outboundTrafficPolicy.mode: unknown mode \"SOMETIMES\""));
  CHECK_THAT(msg, Catch::Contains("enableAutoMtls: expected true or false"));
  CHECK_THAT(msg, Catch::Contains("defaultServiceExportTo: must not be empty"));
  CHECK_THAT(msg, Catch::Contains("extensionProviders[0].envoyExtAuthzHttp.port: expected a port"));
  CHECK_THAT(msg, Catch::Contains("extensionProviders[1].name: duplicate provider name \"a\""));
}

TEST_CASE("ParseMeshConfig: unknown fields are ignored with a warning, not refused",
          "[mesh_config]") {
  auto parsed = ParseMeshConfig("enableTracing: true\nsomethingNew: 1\n");
  REQUIRE(parsed.ok());
  CHECK(parsed->warnings == std::vector<std::string>{"enableTracing: not applied by meshd",
                                                     "somethingNew: unknown field, ignored"});
}

TEST_CASE("ParseMeshConfig: YAML syntax errors and non-mappings are refused", "[mesh_config]") {
  CHECK_FALSE(ParseMeshConfig("rootNamespace: [unclosed").ok());
  CHECK_FALSE(ParseMeshConfig("- a\n- b\n").ok());
}

}  // namespace
}  // namespace meshd::config
