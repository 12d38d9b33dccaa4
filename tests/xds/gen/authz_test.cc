// AuthorizationPolicy / RequestAuthentication on Envoy sidecars' inbound chains and proxyless
// gRPC server listeners: decisions asserted through the offline simulator's RBAC and jwt_authn
// evaluation (tests/xds/sim), plus the shape istiod gives the filters and Envoy's validation
// rules on the whole generated config.
#include "xds/gen/authz.h"

#include <catch2/catch.hpp>

#include "controller/common/metrics.h"
#include "controller/config/mesh_config.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/http/ext_authz/v3/ext_authz.pb.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/ext_authz/v3/ext_authz.pb.h"
#include "envoy/extensions/filters/network/rbac/v3/rbac.pb.h"
#include "tests/xds/gen/bookinfo.h"
#include "tests/xds/sim/envoy_sim.h"
#include "tests/xds/sim/rbac_eval.h"
#include "tests/xds/test_mesh.h"
#include "xds/gen/envoy_generator.h"
#include "xds/gen/server_listener.h"
#include "xds/validate/config_set.h"

namespace meshd::xds {
namespace {

namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;

sim::Mesh Load(const model::Proxy& proxy, const model::Snapshot& snap) {
  sim::Mesh mesh;
  REQUIRE(mesh.AddResources(testing::FullConfig(EnvoyGenerator(), proxy, snap)).ok());
  return mesh;
}

std::vector<std::string> Validate(const model::Proxy& proxy, const model::Snapshot& snap) {
  auto set = ConfigSetFromResources(testing::FullConfig(EnvoyGenerator(), proxy, snap));
  REQUIRE(set.ok());
  return ValidateConfigSet(*set);
}

// An mTLS request to productpage (10.1.0.1:9080) from `sa` in `ns`.
sim::Request FromIdentity(const std::string& ns, const std::string& sa,
                          const std::string& path = "/", const std::string& method = "GET") {
  sim::Request r = sim::Request::Inbound("10.1.0.1", 9080);
  r.transport_protocol = "tls";
  r.alpn = {"istio-http/1.1"};
  r.peer_principal = "spiffe://cluster.local/ns/" + ns + "/sa/" + sa;
  r.path = path;
  r.method = method;
  return r;
}

std::string Mesh(const std::string& policies) {
  return std::string(testing::kBookinfoServices) + policies;
}

TEST_CASE("ALLOW by principal: the named identity passes, any other gets 403 (default deny)",
          "[authz][sim]") {
  auto snap = testing::SnapshotFromYaml(Mesh(R"(
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-client, namespace: default}
spec:
  selector: {matchLabels: {app: productpage}}
  action: ALLOW
  rules:
  - from: [{source: {principals: [cluster.local/ns/default/sa/client]}}]
)"));
  sim::Mesh mesh = Load(testing::ProductpageSidecar(), *snap);
  auto ok = mesh.Simulate(FromIdentity("default", "client"));
  INFO(ok.ToString());
  CHECK(ok.cluster() == "inbound|9080||");
  auto denied = mesh.Simulate(FromIdentity("default", "other"));
  INFO(denied.ToString());
  CHECK(denied.decision == sim::Decision::kDenied);
  CHECK(denied.http_status == 403);
  CHECK(denied.authz_policy.empty());  // no ALLOW rule matched
  // Plaintext has no identity at all.
  sim::Request plain = sim::Request::Inbound("10.1.0.1", 9080);
  plain.alpn = {"http/1.1"};
  CHECK(mesh.Simulate(plain).decision == sim::Decision::kDenied);
  // A workload the selector does not pick is untouched.
  model::Proxy ratings;
  model::ParseNodeId("sidecar~10.1.0.21~ratings-abc.default~default.svc.cluster.local", &ratings);
  ratings.ips = {"10.1.0.21"};
  ratings.labels = {{"app", "ratings"}};
  CHECK(BuildAuthzFilters(ratings, *snap, AuthzTarget::kEnvoyHttp).empty());
  CHECK(Validate(testing::ProductpageSidecar(), *snap).empty());
}

TEST_CASE("DENY wins over ALLOW; filters in istiod's order with istiod's policy names",
          "[authz][sim]") {
  auto snap = testing::SnapshotFromYaml(Mesh(R"(
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-ns, namespace: default}
spec:
  rules:
  - from: [{source: {namespaces: [default]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: istio-system}
spec:
  action: DENY
  rules:
  - to: [{operation: {paths: [/admin*]}}]
)"));
  AuthzFilters f = BuildAuthzFilters(testing::ProductpageSidecar(), *snap, AuthzTarget::kEnvoyHttp);
  REQUIRE(f.http.size() == 2);
  envoy::extensions::filters::http::rbac::v3::RBAC deny, allow;
  REQUIRE(f.http[0].typed_config().UnpackTo(&deny));
  REQUIRE(f.http[1].typed_config().UnpackTo(&allow));
  CHECK(f.http[0].name() == "envoy.filters.http.rbac");
  CHECK(deny.rules().action() == envoy::config::rbac::v3::RBAC::DENY);
  CHECK(deny.rules().policies().count("ns[istio-system]-policy[deny-admin]-rule[0]") == 1);
  CHECK(allow.rules().policies().count("ns[default]-policy[allow-ns]-rule[0]") == 1);

  sim::Mesh mesh = Load(testing::ProductpageSidecar(), *snap);
  CHECK(mesh.Simulate(FromIdentity("default", "client", "/productpage")).ok());
  auto admin = mesh.Simulate(FromIdentity("default", "client", "/admin/users"));
  INFO(admin.ToString());
  CHECK(admin.decision == sim::Decision::kDenied);
  CHECK(admin.authz_policy == "ns[istio-system]-policy[deny-admin]-rule[0]");
  auto foreign = mesh.Simulate(FromIdentity("other", "client", "/productpage"));
  CHECK(foreign.decision == sim::Decision::kDenied);
  CHECK(Validate(testing::ProductpageSidecar(), *snap).empty());
}

TEST_CASE("Operations: path templates, methods, notPaths, headers, ports", "[authz][sim]") {
  auto snap = testing::SnapshotFromYaml(Mesh(R"(
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: api, namespace: default}
spec:
  selector: {matchLabels: {app: productpage}}
  rules:
  - to: [{operation: {methods: [GET], paths: ["/api/{*}/info", "/static/{**}"], ports: ["9080"]}}]
  - to: [{operation: {methods: [POST], notPaths: ["/private*"]}}]
    when:
    - key: request.headers[x-token]
      values: [secret]
)"));
  sim::Mesh mesh = Load(testing::ProductpageSidecar(), *snap);
  CHECK(mesh.Simulate(FromIdentity("default", "a", "/api/v1/info")).ok());
  CHECK(mesh.Simulate(FromIdentity("default", "a", "/api/v1/info?x=1")).ok());
  CHECK(mesh.Simulate(FromIdentity("default", "a", "/static/css/site.css")).ok());
  CHECK(mesh.Simulate(FromIdentity("default", "a", "/api/v1/x/info")).decision ==
        sim::Decision::kDenied);
  CHECK(mesh.Simulate(FromIdentity("default", "a", "/api/v1/info", "DELETE")).decision ==
        sim::Decision::kDenied);
  sim::Request post = FromIdentity("default", "a", "/orders", "POST");
  CHECK(mesh.Simulate(post).decision == sim::Decision::kDenied);  // no header
  post.WithHeader("x-token", "secret");
  CHECK(mesh.Simulate(post).ok());
  sim::Request priv = FromIdentity("default", "a", "/private/x", "POST");
  priv.WithHeader("x-token", "secret");
  CHECK(mesh.Simulate(priv).decision == sim::Decision::kDenied);
  CHECK(Validate(testing::ProductpageSidecar(), *snap).empty());
}

model::Proxy Mysql() {
  model::Proxy p;
  model::ParseNodeId("sidecar~10.1.0.41~mysql-abc.db~db.svc.cluster.local", &p);
  p.ips = {"10.1.0.41"};
  p.labels = {{"app", "mysql"}};
  return p;
}

sim::Request MysqlFrom(const std::string& ns) {
  sim::Request r = sim::Request::Inbound("10.1.0.41", 3306);
  r.transport_protocol = "tls";
  r.alpn = {"istio-peer-exchange", "istio"};
  r.peer_principal = "spiffe://cluster.local/ns/" + ns + "/sa/app";
  return r;
}

TEST_CASE("TCP chains: network RBAC; HTTP-only fields fail closed as istiod", "[authz][sim]") {
  auto snap = testing::SnapshotFromYaml(Mesh(R"(
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: mysql, namespace: db}
spec:
  selector: {matchLabels: {app: mysql}}
  rules:
  - from: [{source: {namespaces: [default]}}]
    to: [{operation: {ports: ["3306"]}}]
  - from: [{source: {namespaces: [ops]}}]
    to: [{operation: {methods: [GET]}}]
)"));
  sim::Mesh mesh = Load(Mysql(), *snap);
  auto ok = mesh.Simulate(MysqlFrom("default"));
  INFO(ok.ToString());
  CHECK(ok.decision == sim::Decision::kTcp);
  CHECK(ok.network_filters.front() == "envoy.filters.network.rbac");
  // The ops rule names an HTTP-only field: on TCP it never matches.
  auto ops = mesh.Simulate(MysqlFrom("ops"));
  CHECK(ops.decision == sim::Decision::kDenied);
  AuthzFilters f = BuildAuthzFilters(Mysql(), *snap, AuthzTarget::kEnvoyTcp);
  REQUIRE(f.warnings.size() == 1);
  CHECK(f.warnings[0] ==
        "AuthorizationPolicy db/mysql rules[1]: methods is HTTP-only; the rule never matches on "
        "TCP chains");
  CHECK(Validate(Mysql(), *snap).empty());

  // A DENY with an HTTP-only field drops the field: it denies every connection it would have
  // matched on the other fields (here: all).
  auto deny = testing::SnapshotFromYaml(Mesh(R"(
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-get, namespace: db}
spec:
  action: DENY
  rules:
  - to: [{operation: {methods: [GET]}}]
)"));
  auto refused = Load(Mysql(), *deny).Simulate(MysqlFrom("default"));
  INFO(refused.ToString());
  CHECK(refused.decision == sim::Decision::kDenied);
  CHECK(refused.authz_policy == "ns[db]-policy[deny-get]-rule[0]");
}

TEST_CASE("RequestAuthentication: jwt_authn before RBAC; requestPrincipals and claims",
          "[authz][jwt][sim]") {
  auto snap = testing::SnapshotFromYaml(Mesh(R"(
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: default}
spec:
  selector: {matchLabels: {app: productpage}}
  jwtRules:
  - issuer: https://issuer.example.com
    jwks: '{"keys":[]}'
    fromHeaders: [{name: x-jwt, prefix: "Bearer "}]
    outputPayloadToHeader: x-jwt-payload
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: require-jwt, namespace: default}
spec:
  selector: {matchLabels: {app: productpage}}
  rules:
  - from: [{source: {requestPrincipals: [https://issuer.example.com/alice]}}]
  - when:
    - key: request.auth.claims[groups]
      values: [admins]
    - key: request.auth.claims[org][team]
      values: [infra]
)"));
  sim::Mesh mesh = Load(testing::ProductpageSidecar(), *snap);
  sim::Request alice = FromIdentity("default", "web");
  alice.jwt_payload = {{"iss", {"https://issuer.example.com"}}, {"sub", {"alice"}}};
  auto a = mesh.Simulate(alice);
  INFO(a.ToString());
  CHECK(a.ok());
  REQUIRE(a.http_filters.size() >= 2);
  CHECK(a.http_filters[0] == "envoy.filters.http.jwt_authn");
  sim::Request bob = alice;
  bob.jwt_payload["sub"] = {"bob"};
  CHECK(mesh.Simulate(bob).decision == sim::Decision::kDenied);
  bob.jwt_payload["groups"] = {"users", "admins"};
  bob.jwt_payload["org.team"] = {"infra"};
  CHECK(mesh.Simulate(bob).ok());
  // No token: jwt_authn lets it through, the ALLOW policy refuses it.
  auto none = mesh.Simulate(FromIdentity("default", "web"));
  CHECK(none.decision == sim::Decision::kDenied);
  CHECK(none.http_status == 403);
  sim::Request bad = alice;
  bad.jwt_invalid = true;
  auto b = mesh.Simulate(bad);
  CHECK(b.decision == sim::Decision::kDenied);
  CHECK(b.http_status == 401);
  CHECK(Validate(testing::ProductpageSidecar(), *snap).empty());
}

TEST_CASE("CUSTOM without a known provider fails closed for the workload", "[authz][sim]") {
  auto snap = testing::SnapshotFromYaml(Mesh(R"(
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext, namespace: default}
spec:
  action: CUSTOM
  provider: {name: my-authz}
  rules: [{to: [{operation: {paths: [/x]}}]}]
)"));
  AuthzFilters f = BuildAuthzFilters(testing::ProductpageSidecar(), *snap, AuthzTarget::kEnvoyHttp);
  REQUIRE(f.errors.size() == 1);
  CHECK(f.errors[0] ==
        "AuthorizationPolicy default/ext: CUSTOM provider \"my-authz\" is not a known extension "
        "provider");
  auto r = Load(testing::ProductpageSidecar(), *snap).Simulate(FromIdentity("default", "a"));
  CHECK(r.decision == sim::Decision::kDenied);
}

model::Proxy GrpcServer() {
  model::Proxy p;
  model::ParseNodeId("sidecar~10.1.0.1~echo-abc.default~default.svc.cluster.local", &p);
  p.generator = "grpc";
  p.labels = {{"app", "echo"}};
  return p;
}

// The RBAC filters of the gRPC server listener for 10.1.0.1:50051, in order.
std::vector<envoy::extensions::filters::http::rbac::v3::RBAC> GrpcRbac(
    const model::Snapshot& snap, std::vector<std::string>* names = nullptr) {
  Resources rs =
      ServerListeners(GrpcServer(), snap, {"xds.istio.io/grpc/lds/inbound/10.1.0.1:50051"});
  REQUIRE(rs.size() == 1);
  envoy::config::listener::v3::Listener l;
  REQUIRE(rs[0]->any.UnpackTo(&l));
  hcm::HttpConnectionManager m;
  REQUIRE(l.filter_chains(0).filters(0).typed_config().UnpackTo(&m));
  std::vector<envoy::extensions::filters::http::rbac::v3::RBAC> out;
  REQUIRE(m.http_filters(m.http_filters_size() - 1).name() == "envoy.filters.http.router");
  for (const auto& f : m.http_filters()) {
    envoy::extensions::filters::http::rbac::v3::RBAC r;
    if (f.typed_config().UnpackTo(&r)) {
      out.push_back(r);
      if (names != nullptr) names->push_back(f.name());
    }
  }
  return out;
}

bool GrpcAllows(const std::vector<envoy::extensions::filters::http::rbac::v3::RBAC>& filters,
                const std::string& principal, const std::string& path) {
  sim::RbacInput in;
  in.principal = principal;
  in.direct_remote_ip = "10.0.0.9";
  in.destination_ip = "10.1.0.1";
  in.destination_port = 50051;
  in.http = true;
  in.path = path;
  in.headers = {{":method", "POST"}, {":authority", "echo:50051"}, {":path", path}};
  for (const auto& f : filters) {
    if (!sim::EvaluateRbac(f.rules(), in).allowed) return false;
  }
  return true;
}

TEST_CASE("Proxyless gRPC server: RBAC before the router, unique names, A41 matchers",
          "[authz][grpc]") {
  auto snap = testing::SnapshotFromYaml(R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-a, namespace: default}
spec:
  selector: {matchLabels: {app: echo}}
  rules:
  - from: [{source: {principals: [cluster.local/ns/default/sa/a]}}]
    to: [{operation: {paths: [/echo.Echo/*]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-b-admin, namespace: default}
spec:
  selector: {matchLabels: {app: echo}}
  action: DENY
  rules:
  - to: [{operation: {paths: [/echo.Echo/Admin]}}]
)");
  std::vector<std::string> names;
  auto filters = GrpcRbac(*snap, &names);
  CHECK(names ==
        std::vector<std::string>{"envoy.filters.http.rbac.deny", "envoy.filters.http.rbac.allow"});
  const std::string a = "spiffe://cluster.local/ns/default/sa/a";
  CHECK(GrpcAllows(filters, a, "/echo.Echo/Echo"));
  CHECK_FALSE(GrpcAllows(filters, a, "/echo.Echo/Admin"));
  CHECK_FALSE(GrpcAllows(filters, "spiffe://cluster.local/ns/default/sa/b", "/echo.Echo/Echo"));
  CHECK_FALSE(GrpcAllows(filters, "", "/echo.Echo/Echo"));
}

TEST_CASE("Proxyless gRPC server: a field gRPC cannot evaluate fails closed", "[authz][grpc]") {
  auto snap = testing::SnapshotFromYaml(R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: jwt-only, namespace: default}
spec:
  action: DENY
  rules:
  - from: [{source: {notRequestPrincipals: ["*"]}}]
)");
  AuthzFilters f = BuildAuthzFilters(GrpcServer(), *snap, AuthzTarget::kGrpc);
  REQUIRE(f.errors.size() == 1);
  CHECK(f.errors[0] ==
        "AuthorizationPolicy default/jwt-only rules[0]: notRequestPrincipals is not supported by "
        "proxyless gRPC");
  std::vector<std::string> names;
  auto filters = GrpcRbac(*snap, &names);
  REQUIRE_FALSE(names.empty());
  CHECK(names[0] == "envoy.filters.http.rbac.fail-closed");
  CHECK_FALSE(GrpcAllows(filters, "spiffe://cluster.local/ns/default/sa/a", "/echo.Echo/Echo"));
}

TEST_CASE("Proxyless gRPC server: header matchers use the fields gRPC 1.51 reads",
          "[authz][grpc]") {
  // gRPC 1.51 NACKs HeaderMatcher.string_match ("invalid route header matcher specified");
  // Envoy gets string_match, gRPC the per-kind fields, with the same decisions.
  auto snap = testing::SnapshotFromYaml(R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: headers, namespace: default}
spec:
  selector: {matchLabels: {app: echo}}
  rules:
  - to: [{operation: {hosts: [Echo.Example.com], methods: [POST]}}]
    when: [{key: "request.headers[x-role]", values: [admin*]}]
)");
  auto text = [&](AuthzTarget target) {
    std::string out;
    for (const auto& f : BuildAuthzFilters(GrpcServer(), *snap, target).http) {
      envoy::extensions::filters::http::rbac::v3::RBAC rbac;
      REQUIRE(f.typed_config().UnpackTo(&rbac));
      out += rbac.DebugString();
    }
    return out;
  };
  const std::string grpc = text(AuthzTarget::kGrpc);
  CHECK(grpc.find("string_match") == std::string::npos);
  CHECK(grpc.find("prefix_match: \"admin\"") != std::string::npos);
  CHECK(grpc.find("exact_match: \"POST\"") != std::string::npos);
  CHECK(grpc.find("(?i)Echo\\\\.Example\\\\.com") != std::string::npos);
  CHECK(text(AuthzTarget::kEnvoyHttp).find("string_match") != std::string::npos);
  std::vector<std::string> names;
  auto filters = GrpcRbac(*snap, &names);
  CHECK_FALSE(GrpcAllows(filters, "spiffe://cluster.local/ns/default/sa/a", "/echo.Echo/Echo"));
}

TEST_CASE("Trust domain aliases expand principals", "[authz]") {
  auto snap = testing::SnapshotFromYaml(R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-a, namespace: default}
spec:
  rules:
  - from: [{source: {principals: [cluster.local/ns/default/sa/a]}}]
)");
  AuthzFilters f = BuildAuthzFilters(GrpcServer(), *snap, AuthzTarget::kGrpc, {"old.example.com"});
  REQUIRE(f.http.size() == 1);
  envoy::extensions::filters::http::rbac::v3::RBAC r;
  REQUIRE(f.http[0].typed_config().UnpackTo(&r));
  sim::RbacInput in;
  in.principal = "spiffe://old.example.com/ns/default/sa/a";
  CHECK(sim::EvaluateRbac(r.rules(), in).allowed);
  in.principal = "spiffe://other.example.com/ns/default/sa/a";
  CHECK_FALSE(sim::EvaluateRbac(r.rules(), in).allowed);
}

// ---- CUSTOM → ext_authz ----

// MeshConfig with ext_authz providers: an HTTP one, a gRPC one, one whose service is unknown.
model::MeshConfigPtr ExtAuthzMesh() {
  auto parsed = config::ParseMeshConfig(R"(
extensionProviders:
- name: http-authz
  envoyExtAuthzHttp:
    service: ext-authz.foo.svc.cluster.local
    port: 8000
    pathPrefix: /check
    timeout: 2s
    statusOnError: "503"
    includeRequestHeadersInCheck: [x-ext-authz]
    headersToUpstreamOnAllow: [x-ext-authz-check-result]
    headersToDownstreamOnDeny: [x-ext-authz-check-result]
- name: grpc-authz
  envoyExtAuthzGrpc:
    service: foo/ext-authz.foo.svc.cluster.local
    port: 9000
    failOpen: true
- name: nowhere
  envoyExtAuthzGrpc: {service: missing.foo.svc.cluster.local, port: 9000}
)");
  REQUIRE(parsed.ok());
  return std::make_shared<const model::MeshConfig>(parsed->mesh);
}

constexpr char kExtAuthzService[] = R"(
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext-authz, namespace: foo}
spec:
  hosts: [ext-authz.foo.svc.cluster.local]
  addresses: [10.0.0.50]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 8000, name: http, protocol: HTTP}, {number: 9000, name: grpc, protocol: GRPC}]
  endpoints: [{address: 10.1.0.50}]
)";

model::SnapshotPtr CustomSnapshot(const std::string& policies) {
  return testing::SnapshotFromYaml(Mesh(std::string(kExtAuthzService) + policies), 1,
                                   "cluster.local", {}, ExtAuthzMesh());
}

std::string CustomPolicy(const std::string& name, const std::string& ns,
                         const std::string& provider, const std::string& paths = "[/admin*]") {
  return "\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: " +
         name + ", namespace: " + ns +
         "}\nspec:\n  action: CUSTOM\n  provider: {name: " + provider +
         "}\n  rules: [{to: [{operation: {paths: " + paths + "}}]}]\n";
}

TEST_CASE("CUSTOM with an HTTP provider: shadow RBAC tags, ext_authz asks only for those requests",
          "[authz][sim]") {
  auto snap = CustomSnapshot(CustomPolicy("ext", "default", "http-authz"));
  AuthzFilters f = BuildAuthzFilters(testing::ProductpageSidecar(), *snap, AuthzTarget::kEnvoyHttp);
  CHECK(f.errors.empty());
  REQUIRE(f.http.size() == 2);
  CHECK(f.http[0].name() == "envoy.filters.http.rbac");
  envoy::extensions::filters::http::rbac::v3::RBAC shadow;
  REQUIRE(f.http[0].typed_config().UnpackTo(&shadow));
  CHECK_FALSE(shadow.has_rules());  // tags only, never refuses
  CHECK(shadow.shadow_rules_stat_prefix() == "istio_ext_authz_");
  CHECK(shadow.shadow_rules().policies().count("istio-ext-authz-ns[default]-policy[ext]-rule[0]") ==
        1);

  CHECK(f.http[1].name() == "envoy.filters.http.ext_authz");
  envoy::extensions::filters::http::ext_authz::v3::ExtAuthz ea;
  REQUIRE(f.http[1].typed_config().UnpackTo(&ea));
  const auto& http = ea.http_service();
  CHECK(http.server_uri().cluster() == "outbound|8000||ext-authz.foo.svc.cluster.local");
  CHECK(http.server_uri().uri() == "http://ext-authz.foo.svc.cluster.local:8000");
  CHECK(http.server_uri().timeout().seconds() == 2);
  CHECK(http.path_prefix() == "/check");
  REQUIRE(http.authorization_request().allowed_headers().patterns_size() == 1);
  CHECK(http.authorization_request().allowed_headers().patterns(0).exact() == "x-ext-authz");
  CHECK(http.authorization_request().allowed_headers().patterns(0).ignore_case());
  CHECK(http.authorization_response().allowed_upstream_headers().patterns(0).exact() ==
        "x-ext-authz-check-result");
  CHECK(http.authorization_response().allowed_client_headers().patterns(0).exact() ==
        "x-ext-authz-check-result");
  CHECK_FALSE(ea.failure_mode_allow());
  CHECK(ea.status_on_error().code() == 503);
  CHECK(ea.transport_api_version() == envoy::config::core::v3::V3);
  CHECK(ea.filter_enabled_metadata().filter() == "envoy.filters.http.rbac");
  REQUIRE(ea.filter_enabled_metadata().path_size() == 1);
  CHECK(ea.filter_enabled_metadata().path(0).key() == "istio_ext_authz_shadow_effective_policy_id");
  CHECK(ea.filter_enabled_metadata().value().string_match().prefix() == "istio-ext-authz");

  sim::Mesh mesh = Load(testing::ProductpageSidecar(), *snap);
  // /admin: selected by the CUSTOM rule, the provider is asked and denies → 403.
  sim::Request admin = FromIdentity("default", "client", "/admin/users");
  admin.ext_authz_allow = false;
  auto denied = mesh.Simulate(admin);
  INFO(denied.ToString());
  CHECK(denied.decision == sim::Decision::kDenied);
  CHECK(denied.http_status == 403);
  CHECK(denied.authz_filter == "envoy.filters.http.ext_authz");
  CHECK(denied.ext_authz_checked ==
        std::vector<std::string>{"outbound|8000||ext-authz.foo.svc.cluster.local"});
  // ... and allows → forwarded.
  admin.ext_authz_allow = true;
  auto allowed = mesh.Simulate(admin);
  CHECK(allowed.cluster() == "inbound|9080||");
  CHECK(allowed.ext_authz_checked.size() == 1);
  // The provider does not answer: not fail-open → statusOnError.
  admin.ext_authz_allow.reset();
  auto down = mesh.Simulate(admin);
  CHECK(down.decision == sim::Decision::kDenied);
  CHECK(down.http_status == 503);
  // /public: not selected, the provider is never asked (even though it would deny).
  sim::Request pub = FromIdentity("default", "client", "/public");
  pub.ext_authz_allow = false;
  auto open = mesh.Simulate(pub);
  INFO(open.ToString());
  CHECK(open.cluster() == "inbound|9080||");
  CHECK(open.ext_authz_checked.empty());
  CHECK(Validate(testing::ProductpageSidecar(), *snap).empty());
}

TEST_CASE("CUSTOM with a gRPC provider: grpc_service on HTTP chains, network ext_authz on TCP",
          "[authz][sim]") {
  auto snap = CustomSnapshot(CustomPolicy("ext", "default", "grpc-authz") +
                             CustomPolicy("ext-db", "db", "grpc-authz", "[/x]"));
  AuthzFilters f = BuildAuthzFilters(testing::ProductpageSidecar(), *snap, AuthzTarget::kEnvoyHttp);
  REQUIRE(f.http.size() == 2);
  envoy::extensions::filters::http::ext_authz::v3::ExtAuthz ea;
  REQUIRE(f.http[1].typed_config().UnpackTo(&ea));
  CHECK_FALSE(ea.has_http_service());
  CHECK(ea.grpc_service().envoy_grpc().cluster_name() ==
        "outbound|9000||ext-authz.foo.svc.cluster.local");
  CHECK(ea.grpc_service().envoy_grpc().authority() == "ext-authz.foo.svc.cluster.local");
  CHECK(ea.grpc_service().timeout().seconds() == 600);  // MeshConfig's default
  CHECK(ea.failure_mode_allow());
  CHECK(ea.transport_api_version() == envoy::config::core::v3::V3);

  sim::Mesh mesh = Load(testing::ProductpageSidecar(), *snap);
  sim::Request admin = FromIdentity("default", "client", "/admin");
  admin.ext_authz_allow = false;
  CHECK(mesh.Simulate(admin).decision == sim::Decision::kDenied);
  admin.ext_authz_allow.reset();  // no answer, failOpen → forwarded
  auto open = mesh.Simulate(admin);
  INFO(open.ToString());
  CHECK(open.cluster() == "inbound|9080||");
  CHECK(open.ext_authz_checked.size() == 1);
  CHECK(Validate(testing::ProductpageSidecar(), *snap).empty());

  // TCP: shadow network RBAC (the HTTP-only path is dropped from the CUSTOM rule, so it selects
  // every connection), then the network ext_authz filter.
  AuthzFilters tcp = BuildAuthzFilters(Mysql(), *snap, AuthzTarget::kEnvoyTcp);
  CHECK(tcp.errors.empty());
  REQUIRE(tcp.network.size() == 2);
  CHECK(tcp.network[0].name() == "envoy.filters.network.rbac");
  CHECK(tcp.network[1].name() == "envoy.filters.network.ext_authz");
  envoy::extensions::filters::network::ext_authz::v3::ExtAuthz nea;
  REQUIRE(tcp.network[1].typed_config().UnpackTo(&nea));
  CHECK(nea.grpc_service().envoy_grpc().cluster_name() ==
        "outbound|9000||ext-authz.foo.svc.cluster.local");
  CHECK(nea.filter_enabled_metadata().filter() == "envoy.filters.network.rbac");
  CHECK(nea.transport_api_version() == envoy::config::core::v3::V3);
  sim::Mesh db = Load(Mysql(), *snap);
  sim::Request conn = MysqlFrom("default");
  conn.ext_authz_allow = false;
  auto refused = db.Simulate(conn);
  INFO(refused.ToString());
  CHECK(refused.decision == sim::Decision::kDenied);
  CHECK(refused.authz_filter == "envoy.filters.network.ext_authz");
  conn.ext_authz_allow = true;
  CHECK(db.Simulate(conn).decision == sim::Decision::kTcp);
  CHECK(Validate(Mysql(), *snap).empty());
}

TEST_CASE("CUSTOM fails closed, named: unknown service, HTTP provider on TCP, two providers",
          "[authz][sim]") {
  {
    auto snap = CustomSnapshot(CustomPolicy("ext", "default", "nowhere"));
    AuthzFilters f =
        BuildAuthzFilters(testing::ProductpageSidecar(), *snap, AuthzTarget::kEnvoyHttp);
    REQUIRE(f.errors.size() == 1);
    CHECK(f.errors[0] ==
          "AuthorizationPolicy default/ext: CUSTOM provider \"nowhere\": service "
          "\"missing.foo.svc.cluster.local\" of extension provider \"nowhere\" is not in the "
          "service registry");
    CHECK(f.failed_policies == std::vector<std::string>{"default/ext"});
    auto r = Load(testing::ProductpageSidecar(), *snap).Simulate(FromIdentity("default", "a"));
    CHECK(r.decision == sim::Decision::kDenied);
    CHECK(r.ext_authz_checked.empty());
  }
  {
    auto snap = CustomSnapshot(CustomPolicy("ext-db", "db", "http-authz"));
    AuthzFilters tcp = BuildAuthzFilters(Mysql(), *snap, AuthzTarget::kEnvoyTcp);
    REQUIRE(tcp.errors.size() == 1);
    CHECK(tcp.errors[0] ==
          "AuthorizationPolicy db/ext-db: CUSTOM provider \"http-authz\" is an HTTP ext_authz "
          "service (envoyExtAuthzHttp); TCP traffic needs a gRPC provider (envoyExtAuthzGrpc)");
    sim::Request conn = MysqlFrom("default");
    conn.ext_authz_allow = true;
    CHECK(Load(Mysql(), *snap).Simulate(conn).decision == sim::Decision::kDenied);
    // The same policy works on HTTP chains.
    CHECK(BuildAuthzFilters(Mysql(), *snap, AuthzTarget::kEnvoyHttp).errors.empty());
    // /debug/configz's listing for the policy.
    auto policy = snap->FindConfig({model::Kind::kAuthorizationPolicy, "db", "ext-db"});
    REQUIRE(policy != nullptr);
    CHECK(AuthzFailClosedReasons(*policy, *snap) ==
          std::vector<std::string>{
              "not applied to Envoy sidecars (TCP): " + tcp.errors[0],
              "not applied to proxyless gRPC: AuthorizationPolicy db/ext-db: CUSTOM provider "
              "\"http-authz\": ext_authz is not supported by proxyless gRPC"});
  }
  {
    auto snap = CustomSnapshot(CustomPolicy("a", "default", "http-authz") +
                               CustomPolicy("b", "default", "grpc-authz"));
    AuthzFilters f =
        BuildAuthzFilters(testing::ProductpageSidecar(), *snap, AuthzTarget::kEnvoyHttp);
    REQUIRE(f.errors.size() == 1);
    CHECK(f.errors[0] ==
          "AuthorizationPolicy default/b: CUSTOM provider \"grpc-authz\": only one provider per "
          "workload is supported, and \"http-authz\" is already in use");
  }
}

TEST_CASE("CUSTOM before DENY before ALLOW", "[authz][sim]") {
  auto snap = CustomSnapshot(CustomPolicy("ext", "default", "http-authz") + R"(
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-secret, namespace: default}
spec:
  action: DENY
  rules: [{to: [{operation: {paths: [/admin/secret]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-default, namespace: default}
spec:
  rules: [{from: [{source: {namespaces: [default]}}]}]
)");
  AuthzFilters f = BuildAuthzFilters(testing::ProductpageSidecar(), *snap, AuthzTarget::kEnvoyHttp);
  REQUIRE(f.http.size() == 4);
  CHECK(f.http[1].name() == "envoy.filters.http.ext_authz");
  envoy::extensions::filters::http::rbac::v3::RBAC deny, allow;
  REQUIRE(f.http[2].typed_config().UnpackTo(&deny));
  REQUIRE(f.http[3].typed_config().UnpackTo(&allow));
  CHECK(deny.rules().action() == envoy::config::rbac::v3::RBAC::DENY);
  CHECK(allow.rules().action() == envoy::config::rbac::v3::RBAC::ALLOW);

  sim::Mesh mesh = Load(testing::ProductpageSidecar(), *snap);
  // The provider refuses first: DENY never sees it.
  sim::Request secret = FromIdentity("default", "client", "/admin/secret");
  secret.ext_authz_allow = false;
  CHECK(mesh.Simulate(secret).authz_filter == "envoy.filters.http.ext_authz");
  // The provider allows, DENY still refuses.
  secret.ext_authz_allow = true;
  auto r = mesh.Simulate(secret);
  INFO(r.ToString());
  CHECK(r.decision == sim::Decision::kDenied);
  CHECK(r.authz_policy == "ns[default]-policy[deny-secret]-rule[0]");
  CHECK(r.ext_authz_checked.size() == 1);
  // ALLOW still applies after an allowing provider.
  sim::Request foreign = FromIdentity("other", "client", "/admin/x");
  foreign.ext_authz_allow = true;
  auto f2 = mesh.Simulate(foreign);
  CHECK(f2.decision == sim::Decision::kDenied);
  CHECK(f2.authz_policy.empty());
  CHECK(Validate(testing::ProductpageSidecar(), *snap).empty());
}

TEST_CASE("CUSTOM on proxyless gRPC stays fail-closed; reasons logged and counted once",
          "[authz][grpc]") {
  auto snap = CustomSnapshot(CustomPolicy("ext-grpc-once", "default", "grpc-authz"));
  AuthzFilters f = BuildAuthzFilters(GrpcServer(), *snap, AuthzTarget::kGrpc);
  REQUIRE(f.errors.size() == 1);
  CHECK(f.errors[0] ==
        "AuthorizationPolicy default/ext-grpc-once: CUSTOM provider \"grpc-authz\": ext_authz is "
        "not supported by proxyless gRPC");
  std::vector<std::string> names;
  auto filters = GrpcRbac(*snap, &names);
  REQUIRE_FALSE(names.empty());
  CHECK(names[0] == "envoy.filters.http.rbac.fail-closed");
  CHECK_FALSE(GrpcAllows(filters, "spiffe://cluster.local/ns/default/sa/a", "/echo.Echo/Echo"));
  // Generated again (another push): still counted once.
  GrpcRbac(*snap);
  auto& counter = Metrics::Get().authz_fail_closed.Add(
      {{"policy", "default/ext-grpc-once"}, {"proxy_type", "proxyless-grpc"}});
  CHECK(counter.Value() == 1);
}

}  // namespace
}  // namespace meshd::xds
