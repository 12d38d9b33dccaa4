#include "xds/gen/envoy_generator.h"
#include "tests/xds/gen/bookinfo.h"
#include "tests/xds/test_mesh.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "absl/strings/str_join.h"

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "xds/validate/config_set.h"

namespace meshd::xds {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;
namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;

// Bookinfo (bookinfo.h) with reviews routed by header and 80/20, ratings by method and query.
const std::string kBookinfo = std::string(testing::kBookinfoServices) + R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - name: jason
    match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - name: split
    route:
    - {destination: {host: reviews, subset: v1}, weight: 80}
    - {destination: {host: reviews, subset: v3}, weight: 20}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http:
  - fault: {abort: {httpStatus: 500, percentage: {value: 100}}}
    match: [{method: {exact: POST}, queryParams: {debug: {exact: "1"}}}]
    route: [{destination: {host: ratings}}]
    timeout: 1s
)";

model::Proxy Sidecar() { return testing::ProductpageSidecar(); }

template <typename T>
std::map<std::string, T> Unpack(const Resources& rs) {
  std::map<std::string, T> out;
  for (const auto& r : rs) {
    T msg;
    REQUIRE(r->any.UnpackTo(&msg));
    out[r->name] = msg;
  }
  return out;
}

std::vector<std::string> Names(const Resources& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(r->name);
  return out;
}

TEST_CASE("Envoy sidecar listeners carry istiod's names", "[envoy]") {
  auto snap = testing::SnapshotFromYaml(kBookinfo);
  EnvoyGenerator gen;
  model::Proxy proxy = Sidecar();
  auto listeners = Unpack<Listener>(gen.Generate(kListenerType, proxy, *snap, {}));
  CHECK(
      Names(gen.Generate(kListenerType, proxy, *snap, {})) ==
      std::vector<std::string>{"virtualOutbound", "0.0.0.0_9080", "0.0.0.0_443", "10.0.0.20_3306"});
  const Listener& vo = listeners["virtualOutbound"];
  CHECK(vo.address().socket_address().port_value() == 15001);
  CHECK(vo.use_original_dst().value());
  CHECK(vo.filter_chains(0).name() == "virtualOutbound-catchall-tcp");

  const Listener& http = listeners["0.0.0.0_9080"];
  CHECK_FALSE(http.bind_to_port().value());
  hcm::HttpConnectionManager m;
  REQUIRE(http.filter_chains(0).filters(0).typed_config().UnpackTo(&m));
  CHECK(m.rds().route_config_name() == "9080");
  CHECK(m.http_filters(m.http_filters_size() - 1).name() == "envoy.filters.http.router");

  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy tcp;
  REQUIRE(listeners["10.0.0.20_3306"].filter_chains(0).filters(0).typed_config().UnpackTo(&tcp));
  CHECK(tcp.cluster() == "outbound|3306||mysql.db.svc.cluster.local");

  auto inbound = Unpack<Listener>(gen.GenerateOwn(kListenerType, proxy, *snap));
  REQUIRE(inbound.count("virtualInbound"));
  const Listener& vi = inbound["virtualInbound"];
  CHECK(vi.address().socket_address().port_value() == 15006);
  CHECK(vi.listener_filters(0).name() == "envoy.filters.listener.original_dst");
  // PERMISSIVE by default: mTLS, the workload's own TLS, plaintext on 9080, then catch-alls.
  std::vector<std::string> chains;
  for (const auto& fc : vi.filter_chains()) chains.push_back(fc.name());
  CHECK(chains == std::vector<std::string>{
                      "inbound|9080||-mtls", "inbound|9080||-tls", "inbound|9080||-plaintext",
                      "virtualInbound-catchall-mtls", "virtualInbound-catchall-tls",
                      "virtualInbound-catchall-plaintext"});
}

TEST_CASE("PeerAuthentication STRICT leaves only the mTLS inbound chain", "[envoy]") {
  std::string yaml = kBookinfo + R"(
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: default}
spec: {mtls: {mode: STRICT}}
)";
  auto snap = testing::SnapshotFromYaml(yaml);
  EnvoyGenerator gen;
  auto inbound = Unpack<Listener>(gen.GenerateOwn(kListenerType, Sidecar(), *snap));
  const Listener& vi = inbound["virtualInbound"];
  std::vector<std::string> chains;
  for (const auto& fc : vi.filter_chains()) chains.push_back(fc.name());
  CHECK(chains == std::vector<std::string>{"inbound|9080||-mtls", "virtualInbound-catchall-mtls"});
  const auto& m = vi.filter_chains(0).filter_chain_match();
  CHECK(m.destination_port().value() == 9080);
  CHECK(m.transport_protocol() == "tls");
  CHECK(m.application_protocols_size() == 3);
  envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext ctx;
  REQUIRE(vi.filter_chains(0).transport_socket().typed_config().UnpackTo(&ctx));
  CHECK(ctx.require_client_certificate().value());
  CHECK(ctx.common_tls_context().tls_certificate_sds_secret_configs(0).name() == "default");
}

TEST_CASE("Envoy clusters: outbound per subset, LEAST_REQUEST, auto mTLS, special clusters",
          "[envoy]") {
  auto snap = testing::SnapshotFromYaml(kBookinfo);
  EnvoyGenerator gen;
  model::Proxy proxy = Sidecar();
  auto clusters = Unpack<Cluster>(gen.Generate(kClusterType, proxy, *snap, {}));
  for (const char* name : {"outbound|9080||reviews.default.svc.cluster.local",
                           "outbound|9080|v1|reviews.default.svc.cluster.local",
                           "outbound|9080|v2|reviews.default.svc.cluster.local",
                           "outbound|9080|v3|reviews.default.svc.cluster.local",
                           "outbound|9080||ratings.default.svc.cluster.local",
                           "outbound|3306||mysql.db.svc.cluster.local", "PassthroughCluster",
                           "BlackHoleCluster", "InboundPassthroughCluster"}) {
    CHECK(clusters.count(name) == 1);
  }
  const Cluster& v1 = clusters["outbound|9080|v1|reviews.default.svc.cluster.local"];
  CHECK(v1.type() == Cluster::EDS);
  CHECK(v1.lb_policy() == Cluster::LEAST_REQUEST);
  REQUIRE(v1.transport_socket_matches_size() == 2);
  CHECK(v1.transport_socket_matches(0).name() == "tlsMode-istio");
  CHECK(v1.transport_socket_matches(0).match().fields().at("tlsMode").string_value() == "istio");
  envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext up;
  REQUIRE(v1.transport_socket_matches(0).transport_socket().typed_config().UnpackTo(&up));
  CHECK(up.sni() == "outbound_.9080_.v1_.reviews.default.svc.cluster.local");
  CHECK(up.common_tls_context().tls_certificate_sds_secret_configs(0).name() == "default");
  CHECK(up.common_tls_context()
            .combined_validation_context()
            .validation_context_sds_secret_config()
            .name() == "ROOTCA");
  CHECK(clusters["PassthroughCluster"].type() == Cluster::ORIGINAL_DST);
  CHECK(clusters["BlackHoleCluster"].type() == Cluster::STATIC);

  auto own = Unpack<Cluster>(gen.GenerateOwn(kClusterType, proxy, *snap));
  REQUIRE(own.count("inbound|9080||"));
  CHECK(own["inbound|9080||"].upstream_bind_config().source_address().address() == "127.0.0.6");
}

TEST_CASE("Envoy routes: VirtualService order, weights, header match; unmatched gets 404",
          "[envoy]") {
  auto snap = testing::SnapshotFromYaml(kBookinfo);
  EnvoyGenerator gen;
  auto routes = Unpack<RouteConfiguration>(gen.Generate(kRouteType, Sidecar(), *snap, {"9080"}));
  const RouteConfiguration& rc = routes["9080"];
  std::map<std::string, const envoy::config::route::v3::VirtualHost*> vhosts;
  for (const auto& vh : rc.virtual_hosts()) vhosts[vh.name()] = &vh;
  REQUIRE(vhosts.count("reviews.default.svc.cluster.local:9080"));
  REQUIRE(vhosts.count("allow_any"));
  const auto& reviews = *vhosts["reviews.default.svc.cluster.local:9080"];
  std::set<std::string> domains(reviews.domains().begin(), reviews.domains().end());
  for (const char* d :
       {"reviews.default.svc.cluster.local", "reviews.default.svc.cluster.local:9080", "reviews",
        "reviews:9080", "reviews.default", "10.0.0.10:9080"}) {
    CHECK(domains.count(d) == 1);
  }
  REQUIRE(reviews.routes_size() == 2);  // no catch-all appended
  CHECK(reviews.routes(0).name() == "jason");
  CHECK(reviews.routes(0).match().headers(0).name() == "end-user");
  CHECK(reviews.routes(0).route().cluster() ==
        "outbound|9080|v2|reviews.default.svc.cluster.local");
  const auto& wc = reviews.routes(1).route().weighted_clusters();
  REQUIRE(wc.clusters_size() == 2);
  CHECK(wc.clusters(0).weight().value() == 80);
  CHECK(wc.clusters(1).name() == "outbound|9080|v3|reviews.default.svc.cluster.local");

  const auto& ratings = *vhosts["ratings.default.svc.cluster.local:9080"];
  REQUIRE(ratings.routes_size() == 1);
  const auto& match = ratings.routes(0).match();
  // method and query parameter are honoured, never widened.
  REQUIRE(match.headers_size() == 1);
  CHECK(match.headers(0).name() == ":method");
  REQUIRE(match.query_parameters_size() == 1);
  CHECK(match.query_parameters(0).name() == "debug");
  CHECK(ratings.routes(0).route().timeout().seconds() == 1);
  CHECK(ratings.routes(0).typed_per_filter_config().count("envoy.filters.http.fault") == 1);
}

TEST_CASE("Envoy routes: no VirtualService gives istiod's default route and retry policy",
          "[envoy]") {
  auto snap = testing::SnapshotFromYaml(kBookinfo);
  EnvoyGenerator gen;
  auto routes = Unpack<RouteConfiguration>(gen.Generate(kRouteType, Sidecar(), *snap, {"9080"}));
  for (const auto& vh : routes["9080"].virtual_hosts()) {
    if (vh.name() != "productpage.default.svc.cluster.local:9080") continue;
    REQUIRE(vh.routes_size() == 1);
    CHECK(vh.routes(0).name() == "default");
    CHECK(vh.routes(0).route().cluster() == "outbound|9080||productpage.default.svc.cluster.local");
    CHECK(vh.routes(0).route().retry_policy().num_retries().value() == 2);
    CHECK(vh.routes(0).route().timeout().seconds() == 0);
    return;
  }
  FAIL("no productpage virtual host");
}

TEST_CASE("Every RDS and EDS name asked for is answered", "[envoy]") {
  auto snap = testing::SnapshotFromYaml(kBookinfo);
  EnvoyGenerator gen;
  CHECK(Names(gen.Generate(kRouteType, Sidecar(), *snap, {"7777", "weird"})) ==
        std::vector<std::string>{"7777", "weird"});
  CHECK(
      Names(gen.Generate(kEndpointType, Sidecar(), *snap, {"outbound|1|x|nope.svc", "garbage"})) ==
      std::vector<std::string>{"outbound|1|x|nope.svc", "garbage"});
}

TEST_CASE("EDS carries tlsMode metadata and locality priorities with outlier detection",
          "[envoy]") {
  std::string yaml = kBookinfo + R"(
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-locality, namespace: istio-system}
spec:
  host: reviews.default.svc.cluster.local
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 3}
)";
  // The rule in the proxy's namespace (no outlier detection) wins over the root namespace's.
  auto snap = testing::SnapshotFromYaml(yaml);
  EnvoyGenerator gen;
  model::Proxy proxy = Sidecar();
  proxy.locality = "us/east/a";
  auto eds = Unpack<ClusterLoadAssignment>(gen.Generate(
      kEndpointType, proxy, *snap, {"outbound|9080||reviews.default.svc.cluster.local"}));
  const auto& cla = eds["outbound|9080||reviews.default.svc.cluster.local"];
  for (const auto& g : cla.endpoints()) CHECK(g.priority() == 0);

  model::Proxy other = proxy;
  other.ns = "other";
  auto eds2 = Unpack<ClusterLoadAssignment>(gen.Generate(
      kEndpointType, other, *snap, {"outbound|9080||reviews.default.svc.cluster.local"}));
  std::map<std::string, uint32_t> priority;
  bool tls_metadata = false;
  for (const auto& g : eds2["outbound|9080||reviews.default.svc.cluster.local"].endpoints()) {
    priority[g.locality().region() + "/" + g.locality().zone()] = g.priority();
    for (const auto& ep : g.lb_endpoints()) {
      auto it = ep.metadata().filter_metadata().find("envoy.transport_socket_match");
      if (it != ep.metadata().filter_metadata().end()) tls_metadata = true;
    }
  }
  // DestinationRuleFor: namespace "other" has none, the service's namespace has one without
  // outlier detection: still no priorities.
  CHECK(priority["us/east"] == 0);
  CHECK(tls_metadata);

  // With outlier detection in the rule that applies, endpoints are ordered by the proxy's
  // locality (istiod): same subzone first, then same zone, then elsewhere, priorities dense.
  std::string with_od = kBookinfo + R"(
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy: {outlierDetection: {consecutive5xxErrors: 3}}
)";
  auto snap_od = testing::SnapshotFromYaml(with_od);
  auto eds3 = Unpack<ClusterLoadAssignment>(gen.Generate(
      kEndpointType, proxy, *snap_od, {"outbound|9080||reviews.default.svc.cluster.local"}));
  std::map<std::string, uint32_t> by_locality;
  for (const auto& g : eds3["outbound|9080||reviews.default.svc.cluster.local"].endpoints()) {
    by_locality[g.locality().region() + "/" + g.locality().zone() + "/" + g.locality().sub_zone()] =
        g.priority();
  }
  CHECK(by_locality ==
        std::map<std::string, uint32_t>{{"us/east/a", 0}, {"us/east/b", 1}, {"eu/west/a", 2}});
}

TEST_CASE("Sidecar egress hosts scope what a sidecar sees; REGISTRY_ONLY blackholes", "[envoy]") {
  std::string yaml = kBookinfo + R"(
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec:
  egress: [{hosts: ["./*"]}]
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
)";
  auto snap = testing::SnapshotFromYaml(yaml);
  EnvoyGenerator gen;
  model::Proxy proxy = Sidecar();
  auto clusters = Unpack<Cluster>(gen.Generate(kClusterType, proxy, *snap, {}));
  CHECK(clusters.count("outbound|3306||mysql.db.svc.cluster.local") == 0);
  CHECK(clusters.count("outbound|9080||reviews.default.svc.cluster.local") == 1);
  auto listeners = Unpack<Listener>(gen.Generate(kListenerType, proxy, *snap, {}));
  CHECK(listeners["virtualOutbound"].filter_chains(0).name() == "virtualOutbound-blackhole");
  auto routes = Unpack<RouteConfiguration>(gen.Generate(kRouteType, proxy, *snap, {"9080"}));
  const auto& rc = routes["9080"];
  CHECK(rc.virtual_hosts(rc.virtual_hosts_size() - 1).name() == "block_all");
}

TEST_CASE("MeshConfig outboundTrafficPolicy REGISTRY_ONLY applies where no Sidecar overrides",
          "[envoy][mesh_config]") {
  auto mesh = std::make_shared<model::MeshConfig>();
  mesh->outbound_registry_only = true;
  EnvoyGenerator gen;
  model::Proxy proxy = Sidecar();
  auto snap = testing::SnapshotFromYaml(kBookinfo, 1, "cluster.local", {}, mesh);
  auto listeners = Unpack<Listener>(gen.Generate(kListenerType, proxy, *snap, {}));
  CHECK(listeners["virtualOutbound"].filter_chains(0).name() == "virtualOutbound-blackhole");
  // A namespace's Sidecar may open it again (ALLOW_ANY).
  auto open = testing::SnapshotFromYaml(kBookinfo + R"(
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec:
  outboundTrafficPolicy: {mode: ALLOW_ANY}
)",
                                        1, "cluster.local", {}, mesh);
  listeners = Unpack<Listener>(gen.Generate(kListenerType, proxy, *open, {}));
  CHECK(listeners["virtualOutbound"].filter_chains(0).name() == "virtualOutbound-catchall-tcp");
}

TEST_CASE("MeshConfig defaultServiceExportTo hides services that set no exportTo",
          "[envoy][mesh_config]") {
  auto mesh = std::make_shared<model::MeshConfig>();
  mesh->default_service_export_to = {"."};
  EnvoyGenerator gen;
  model::Proxy proxy = Sidecar();  // namespace default
  auto snap = testing::SnapshotFromYaml(kBookinfo, 1, "cluster.local", {}, mesh);
  auto clusters = Unpack<Cluster>(gen.Generate(kClusterType, proxy, *snap, {}));
  CHECK(clusters.count("outbound|9080||reviews.default.svc.cluster.local") == 1);
  CHECK(clusters.count("outbound|3306||mysql.db.svc.cluster.local") == 0);
}

std::vector<std::string> Validate(const Resources& resources) {
  auto set = ConfigSetFromResources(resources);
  REQUIRE(set.ok());
  return ValidateConfigSet(*set);
}

TEST_CASE("Sidecar config is clean under Envoy's validation rules (PERMISSIVE, STRICT, scoped)",
          "[envoy][validate]") {
  EnvoyGenerator gen;
  for (const char* extra : {"", R"(
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings, namespace: default}
spec:
  host: ratings
  trafficPolicy:
    loadBalancer: {consistentHash: {httpCookie: {name: user, ttl: 10s}}}
    connectionPool: {tcp: {maxConnections: 10, connectTimeout: 2s}, http: {http2MaxRequests: 100}}
    outlierDetection: {consecutive5xxErrors: 2, interval: 5s, baseEjectionTime: 30s}
    tls: {mode: ISTIO_MUTUAL}
)",
                            R"(
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec:
  egress: [{hosts: ["./*", "istio-system/*"]}]
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
)"}) {
    auto snap = testing::SnapshotFromYaml(kBookinfo + extra);
    std::vector<std::string> errors = Validate(testing::FullConfig(gen, Sidecar(), *snap));
    INFO(absl::StrJoin(errors, "\n"));
    CHECK(errors.empty());
  }
}

const std::string kGateway = std::string(testing::kIngressGateway) + R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo, namespace: default}
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - match: [{uri: {exact: /productpage}}, {uri: {prefix: /static}}]
    route: [{destination: {host: productpage, port: {number: 9080}}}]
)";

TEST_CASE("Gateway: servers become 0.0.0.0_<targetPort> listeners, http.<port> and https RDS",
          "[envoy]") {
  auto snap = testing::SnapshotFromYaml(kBookinfo + kGateway);
  EnvoyGenerator gen;
  model::Proxy gw = testing::IngressGateway();
  REQUIRE(gw.IsRouter());
  Resources lds = gen.Generate(kListenerType, gw, *snap, {});
  CHECK(Names(lds) == std::vector<std::string>{"0.0.0.0_8080", "0.0.0.0_8443"});
  CHECK(gen.GenerateOwn(kListenerType, gw, *snap).empty());
  auto listeners = Unpack<Listener>(lds);
  const Listener& https = listeners["0.0.0.0_8443"];
  REQUIRE(https.filter_chains_size() == 1);
  CHECK(https.filter_chains(0).filter_chain_match().server_names(0) == "bookinfo.example.com");
  envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext ctx;
  REQUIRE(https.filter_chains(0).transport_socket().typed_config().UnpackTo(&ctx));
  CHECK(ctx.common_tls_context().tls_certificate_sds_secret_configs(0).name() ==
        "kubernetes://bookinfo-cert");
  hcm::HttpConnectionManager m;
  REQUIRE(https.filter_chains(0).filters(0).typed_config().UnpackTo(&m));
  CHECK(m.rds().route_config_name() == "https.443.https.bookinfo-gateway.default");

  auto routes = Unpack<RouteConfiguration>(gen.Generate(
      kRouteType, gw, *snap, {"http.8080", "https.443.https.bookinfo-gateway.default"}));
  const auto& http = routes["http.8080"];
  REQUIRE(http.virtual_hosts_size() == 1);
  CHECK(http.virtual_hosts(0).name() == "*:80");
  REQUIRE(http.virtual_hosts(0).routes_size() == 2);
  CHECK(http.virtual_hosts(0).routes(0).match().path() == "/productpage");
  CHECK(http.virtual_hosts(0).routes(1).route().cluster() ==
        "outbound|9080||productpage.default.svc.cluster.local");
  CHECK(routes["https.443.https.bookinfo-gateway.default"].virtual_hosts(0).name() == "*:443");

  std::vector<std::string> errors = Validate(testing::FullConfig(gen, gw, *snap));
  INFO(absl::StrJoin(errors, "\n"));
  CHECK(errors.empty());
}

TEST_CASE("Gateway credentialName is served as SDS kubernetes://<name> to gateways only",
          "[envoy]") {
  model::Credential cert{"CHAIN", "KEY", ""};
  model::Credential ca{"", "", "CA"};
  auto snap = testing::SnapshotFromYaml(kBookinfo + kGateway, 1, "cluster.local",
                                        {{"istio-system/bookinfo-cert", cert},
                                         {"istio-system/bookinfo-cert-cacert", ca},
                                         {"default/bookinfo-cert", cert}});
  EnvoyGenerator gen;
  model::Proxy gw = testing::IngressGateway();
  auto secrets = Unpack<envoy::extensions::transport_sockets::tls::v3::Secret>(gen.Generate(
      kSecretType, gw, *snap,
      {"kubernetes://bookinfo-cert", "kubernetes://bookinfo-cert-cacert", "kubernetes://nope"}));
  REQUIRE(secrets.size() == 2);  // a missing secret is not answered: Envoy waits for it
  CHECK(
      secrets["kubernetes://bookinfo-cert"].tls_certificate().certificate_chain().inline_bytes() ==
      "CHAIN");
  CHECK(secrets["kubernetes://bookinfo-cert-cacert"]
            .validation_context()
            .trusted_ca()
            .inline_bytes() == "CA");
  // A sidecar asking for the same name gets nothing, in any namespace.
  CHECK(gen.Generate(kSecretType, Sidecar(), *snap, {"kubernetes://bookinfo-cert"}).empty());
}

// A checker that answers from a fixed list of "<ns>/<service account>" allowed in their own
// namespace, and records what was asked.
class ListedSecretAccess : public model::SecretAccessChecker {
 public:
  explicit ListedSecretAccess(std::set<std::string> allowed) : allowed_(std::move(allowed)) {}
  bool MayReadSecrets(const std::string& sa_ns, const std::string& sa,
                      const std::string& secret_ns) override {
    asked.push_back(sa_ns + "/" + sa + "@" + secret_ns);
    return sa_ns == secret_ns && allowed_.count(sa_ns + "/" + sa) > 0;
  }
  std::vector<std::string> asked;

 private:
  std::set<std::string> allowed_;
};

TEST_CASE("Gateway credentials only for a service account allowed to read the secrets",
          "[envoy][secret_access]") {
  model::Credential cert{"CHAIN", "KEY", ""};
  auto snap = testing::SnapshotFromYaml(kBookinfo + kGateway, 1, "cluster.local",
                                        {{"istio-system/bookinfo-cert", cert}});
  EnvoyGenerator gen;
  auto access = std::make_shared<ListedSecretAccess>(
      std::set<std::string>{"istio-system/istio-ingressgateway-service-account"});
  gen.SetSecretAccessChecker(access);
  model::Proxy gw = testing::IngressGateway();
  gw.service_account = "istio-ingressgateway-service-account";
  CHECK(Names(gen.Generate(kSecretType, gw, *snap, {"kubernetes://bookinfo-cert"})) ==
        std::vector<std::string>{"kubernetes://bookinfo-cert"});
  CHECK(access->asked ==
        std::vector<std::string>{"istio-system/istio-ingressgateway-service-account@istio-system"});
  model::Proxy other = gw;
  other.service_account = "default";
  CHECK(gen.Generate(kSecretType, other, *snap, {"kubernetes://bookinfo-cert"}).empty());
}

TEST_CASE("Gateway listeners follow the gateway Service's targetPort, whichever pod asks",
          "[envoy]") {
  auto snap = testing::SnapshotFromYaml(kBookinfo + kGateway);
  EnvoyGenerator gen;
  // A second gateway pod, not (yet) among the Service's endpoints, with the same labels: the
  // same listeners as the first (they share a cached view).
  model::Proxy fresh = testing::IngressGateway();
  fresh.ip = "10.2.0.99";
  fresh.ips = {"10.2.0.99"};
  CHECK(Names(gen.Generate(kListenerType, fresh, *snap, {})) ==
        std::vector<std::string>{"0.0.0.0_8080", "0.0.0.0_8443"});
  CHECK(Names(gen.Generate(kListenerType, testing::IngressGateway(), *snap, {})) ==
        std::vector<std::string>{"0.0.0.0_8080", "0.0.0.0_8443"});
}

// The origins a generator recorded for resource `name` of `rs`, as "Kind/ns/name" sorted as
// strings; "null" when none were recorded.
std::vector<std::string> OriginsOf(const Resources& rs, const std::string& name) {
  for (const auto& r : rs) {
    if (r->name != name) continue;
    if (r->origins == nullptr) return {"null"};
    std::vector<std::string> out;
    for (const auto& k : *r->origins) out.push_back(k.ToString());
    std::sort(out.begin(), out.end());
    return out;
  }
  FAIL("no resource " << name);
  return {};
}

TEST_CASE(
    "A route configuration records exactly the VirtualServices whose virtual hosts it carries",
    "[envoy][origins]") {
  // details' VirtualService is exported to another namespace only; mysql's is TCP.
  auto snap = testing::SnapshotFromYaml(kBookinfo + R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: details, namespace: default}
spec:
  hosts: [details]
  exportTo: [other]
  http: [{route: [{destination: {host: details}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mysql, namespace: db}
spec:
  hosts: [mysql.db.svc.cluster.local]
  tcp: [{route: [{destination: {host: mysql.db.svc.cluster.local}}]}]
)");
  EnvoyGenerator gen;
  Resources routes = gen.Generate(kRouteType, Sidecar(), *snap, {"9080", "80"});
  CHECK(OriginsOf(routes, "9080") == std::vector<std::string>{"VirtualService/default/ratings",
                                                              "VirtualService/default/reviews"});
  // Recorded, and empty: no object shaped the port-80 routes (not "every VirtualService").
  CHECK(OriginsOf(routes, "80").empty());

  Resources lds = gen.Generate(kListenerType, Sidecar(), *snap, {});
  // A TCP listener: the VirtualService of its tcp routes and the ServiceEntry of its service.
  CHECK(OriginsOf(lds, "10.0.0.20_3306") ==
        std::vector<std::string>{"ServiceEntry/db/mysql", "VirtualService/db/mysql"});
  // No Sidecar: the virtual outbound and HTTP listeners come from no object.
  CHECK(OriginsOf(lds, "virtualOutbound").empty());
  CHECK(OriginsOf(lds, "0.0.0.0_9080").empty());
}

TEST_CASE("A route configuration records the DestinationRule whose consistent hash it uses",
          "[envoy][origins]") {
  auto snap = testing::SnapshotFromYaml(kBookinfo + R"(
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings, namespace: default}
spec:
  host: ratings
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}}
)");
  EnvoyGenerator gen;
  Resources routes = gen.Generate(kRouteType, Sidecar(), *snap, {"9080"});
  CHECK(OriginsOf(routes, "9080") == std::vector<std::string>{"DestinationRule/default/ratings",
                                                              "VirtualService/default/ratings",
                                                              "VirtualService/default/reviews"});
}

TEST_CASE("A cluster and its endpoints record their DestinationRule and ServiceEntry",
          "[envoy][origins]") {
  auto snap = testing::SnapshotFromYaml(kBookinfo);
  EnvoyGenerator gen;
  Resources cds = gen.Generate(kClusterType, Sidecar(), *snap, {});
  std::vector<std::string> reviews = {"DestinationRule/default/reviews",
                                      "ServiceEntry/default/reviews"};
  CHECK(OriginsOf(cds, "outbound|9080|v1|reviews.default.svc.cluster.local") == reviews);
  CHECK(OriginsOf(cds, "outbound|9080||reviews.default.svc.cluster.local") == reviews);
  CHECK(OriginsOf(cds, "outbound|9080||ratings.default.svc.cluster.local") ==
        std::vector<std::string>{"ServiceEntry/default/ratings"});
  CHECK(OriginsOf(cds, "BlackHoleCluster") == std::vector<std::string>{"null"});
  Resources eds = gen.Generate(kEndpointType, Sidecar(), *snap,
                               {"outbound|9080|v2|reviews.default.svc.cluster.local"});
  CHECK(OriginsOf(eds, "outbound|9080|v2|reviews.default.svc.cluster.local") == reviews);
}

TEST_CASE(
    "The inbound listener records the PeerAuthentications, AuthorizationPolicies and "
    "RequestAuthentications that select the workload",
    "[envoy][origins]") {
  auto snap = testing::SnapshotFromYaml(kBookinfo + R"(
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: default}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: reviews, namespace: default}
spec: {selector: {matchLabels: {app: reviews}}, mtls: {mode: PERMISSIVE}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: productpage, namespace: default}
spec:
  selector: {matchLabels: {app: productpage}}
  rules: [{from: [{source: {namespaces: [default]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ratings, namespace: default}
spec:
  selector: {matchLabels: {app: ratings}}
  rules: [{from: [{source: {namespaces: [default]}}]}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: default}
spec:
  jwtRules: [{issuer: "https://issuer.example.com", jwks: '{"keys": []}'}]
)");
  EnvoyGenerator gen;
  Resources own = gen.GenerateOwn(kListenerType, Sidecar(), *snap);
  CHECK(OriginsOf(own, "virtualInbound") ==
        std::vector<std::string>{"AuthorizationPolicy/default/productpage",
                                 "PeerAuthentication/default/default",
                                 "RequestAuthentication/default/jwt"});
}

TEST_CASE("A Sidecar is recorded behind the listeners and routes it scopes", "[envoy][origins]") {
  auto snap = testing::SnapshotFromYaml(kBookinfo + R"(
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec:
  egress: [{hosts: ["./*"]}]
)");
  EnvoyGenerator gen;
  Resources lds = gen.Generate(kListenerType, Sidecar(), *snap, {});
  CHECK(OriginsOf(lds, "virtualOutbound") == std::vector<std::string>{"Sidecar/default/default"});
  CHECK(OriginsOf(lds, "0.0.0.0_9080") == std::vector<std::string>{"Sidecar/default/default"});
  Resources rds = gen.Generate(kRouteType, Sidecar(), *snap, {"9080"});
  CHECK(OriginsOf(rds, "9080") == std::vector<std::string>{"Sidecar/default/default",
                                                           "VirtualService/default/ratings",
                                                           "VirtualService/default/reviews"});
}

TEST_CASE("Gateway listeners, routes and secrets record their Gateway and VirtualServices",
          "[envoy][origins]") {
  model::Credential cert{"CHAIN", "KEY", ""};
  auto snap = testing::SnapshotFromYaml(kBookinfo + kGateway, 1, "cluster.local",
                                        {{"istio-system/bookinfo-cert", cert}});
  EnvoyGenerator gen;
  model::Proxy gw = testing::IngressGateway();
  std::vector<std::string> gateway = {"Gateway/default/bookinfo-gateway"};
  Resources lds = gen.Generate(kListenerType, gw, *snap, {});
  CHECK(OriginsOf(lds, "0.0.0.0_8080") == gateway);
  CHECK(OriginsOf(lds, "0.0.0.0_8443") == gateway);
  Resources rds = gen.Generate(kRouteType, gw, *snap,
                               {"http.8080", "https.443.https.bookinfo-gateway.default"});
  std::vector<std::string> routed = {"Gateway/default/bookinfo-gateway",
                                     "VirtualService/default/bookinfo"};
  CHECK(OriginsOf(rds, "http.8080") == routed);
  CHECK(OriginsOf(rds, "https.443.https.bookinfo-gateway.default") == routed);
  Resources sds = gen.Generate(kSecretType, gw, *snap, {"kubernetes://bookinfo-cert"});
  CHECK(OriginsOf(sds, "kubernetes://bookinfo-cert") == gateway);
}

}  // namespace
}  // namespace meshd::xds
