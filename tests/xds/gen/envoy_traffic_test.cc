// Routing intent of the Envoy generator's output, walked the way Envoy matches by the offline
// simulator (tests/xds/sim): Bookinfo-style requests from a sidecar and through a gateway,
// asserting where each request goes — not the shape of the protos.
#include <catch2/catch.hpp>

#include "tests/xds/gen/bookinfo.h"
#include "tests/xds/sim/envoy_sim.h"
#include "tests/xds/test_mesh.h"
#include "xds/gen/envoy_generator.h"
#include "xds/validate/config_set.h"

namespace meshd::xds {
namespace {

const std::string kMesh = std::string(testing::kBookinfoServices) + R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 50}
    - {destination: {host: reviews, subset: v3}, weight: 50}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    fault: {delay: {fixedDelay: 7s, percentage: {value: 100}}}
    route: [{destination: {host: ratings}}]
  - match: [{uri: {prefix: /ratings}}]
    route: [{destination: {host: ratings}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: details, namespace: default}
spec:
  hosts: [details]
  http:
  - route: [{destination: {host: details}}]
    timeout: 500ms
    retries: {attempts: 3, perTryTimeout: 100ms, retryOn: 5xx}
)";

const std::string kReviews = "reviews.default.svc.cluster.local";

model::Proxy Productpage() { return testing::ProductpageSidecar(); }

// The proxy's whole config (testing::FullConfig) loaded in a simulator.
sim::Mesh Load(const model::Proxy& proxy, const model::Snapshot& snap) {
  sim::Mesh mesh;
  REQUIRE(mesh.AddResources(testing::FullConfig(EnvoyGenerator(), proxy, snap)).ok());
  return mesh;
}

TEST_CASE("Bookinfo from a sidecar: reviews by header and by weight", "[envoy][sim]") {
  auto snap = testing::SnapshotFromYaml(kMesh);
  sim::Mesh mesh = Load(Productpage(), *snap);

  auto jason = mesh.Simulate(sim::Request::OutboundHttp("10.0.0.10", 9080, "reviews:9080")
                                 .WithHeader("end-user", "jason"));
  INFO(jason.ToString());
  CHECK(jason.listener == "0.0.0.0_9080");
  CHECK(jason.virtual_host == kReviews + ":9080");
  CHECK(jason.cluster() == "outbound|9080|v2|" + kReviews);
  // The v2 endpoint is injected (tlsMode istio): auto mTLS with Istio's SNI and SDS secrets.
  REQUIRE(jason.clusters.size() == 1);
  const auto& eps = jason.clusters[0].info.priorities.at(0).endpoints;
  REQUIRE(eps.size() == 1);
  CHECK(eps[0].transport.tls);
  CHECK(eps[0].transport.sni == "outbound_.9080_.v2_." + kReviews);

  auto anyone = mesh.Simulate(
      sim::Request::OutboundHttp("10.0.0.10", 9080, "reviews.default.svc.cluster.local:9080"));
  INFO(anyone.ToString());
  auto split = anyone.Distribution();
  CHECK(split["outbound|9080|v1|" + kReviews] == Approx(0.5));
  CHECK(split["outbound|9080|v3|" + kReviews] == Approx(0.5));
  // v3 is not injected: plaintext to it.
  for (const auto& t : anyone.clusters) {
    if (t.cluster != "outbound|9080|v3|" + kReviews) continue;
    CHECK_FALSE(t.info.priorities.at(0).endpoints.at(0).transport.tls);
  }
}

TEST_CASE("Bookinfo: ratings delay fault for jason; unmatched path gets 404, never widened",
          "[envoy][sim]") {
  auto snap = testing::SnapshotFromYaml(kMesh);
  sim::Mesh mesh = Load(Productpage(), *snap);
  auto jason = mesh.Simulate(sim::Request::OutboundHttp("10.0.0.11", 9080, "ratings:9080", "/x")
                                 .WithHeader("end-user", "jason"));
  INFO(jason.ToString());
  CHECK(jason.fault.present);
  CHECK(jason.fault.delay);
  CHECK(jason.fault.delay_duration == absl::Seconds(7));
  CHECK(jason.fault.delay_percent == Approx(100));

  auto other = mesh.Simulate(sim::Request::OutboundHttp("10.0.0.11", 9080, "ratings:9080", "/x"));
  INFO(other.ToString());
  CHECK(other.decision == sim::Decision::kNotFound);
  CHECK(other.http_status == 404);
  auto ok =
      mesh.Simulate(sim::Request::OutboundHttp("10.0.0.11", 9080, "ratings:9080", "/ratings/0"));
  CHECK(ok.cluster() == "outbound|9080||ratings.default.svc.cluster.local");
  CHECK_FALSE(ok.fault.present);
}

TEST_CASE("Bookinfo: details timeout and retries; no VirtualService keeps istiod's defaults",
          "[envoy][sim]") {
  auto snap = testing::SnapshotFromYaml(kMesh);
  sim::Mesh mesh = Load(Productpage(), *snap);
  auto details = mesh.Simulate(sim::Request::OutboundHttp("10.0.0.13", 9080, "details:9080"));
  INFO(details.ToString());
  CHECK(details.timeout == absl::Milliseconds(500));
  CHECK(details.retry.num_retries == 3);
  CHECK(details.retry.retry_on == "5xx");
  CHECK(details.retry.per_try_timeout == absl::Milliseconds(100));

  auto self = mesh.Simulate(sim::Request::OutboundHttp("10.0.0.12", 9080, "productpage:9080"));
  INFO(self.ToString());
  CHECK(self.route == "default");
  CHECK(self.timeout == absl::ZeroDuration());  // istiod disables Envoy's 15 s default
  CHECK(self.retry.num_retries == 2);
}

TEST_CASE(
    "Unknown hosts: passthrough under ALLOW_ANY, refused under REGISTRY_ONLY; egress "
    "ServiceEntry reachable",
    "[envoy][sim]") {
  auto snap = testing::SnapshotFromYaml(kMesh);
  sim::Mesh open = Load(Productpage(), *snap);
  auto tcp = open.Simulate(sim::Request::OutboundTcp("93.184.216.34", 5432));
  INFO(tcp.ToString());
  CHECK(tcp.decision == sim::Decision::kTcp);
  CHECK(tcp.cluster() == "PassthroughCluster");
  auto http = open.Simulate(sim::Request::OutboundHttp("93.184.216.34", 9080, "example.com"));
  CHECK(http.virtual_host == "allow_any");
  CHECK(http.cluster() == "PassthroughCluster");

  std::string locked = kMesh + R"(
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec:
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
)";
  auto snap2 = testing::SnapshotFromYaml(locked);
  sim::Mesh closed = Load(Productpage(), *snap2);
  auto blocked = closed.Simulate(sim::Request::OutboundTcp("93.184.216.34", 5432));
  INFO(blocked.ToString());
  CHECK(blocked.decision != sim::Decision::kTcp);
  auto blocked_http =
      closed.Simulate(sim::Request::OutboundHttp("93.184.216.34", 9080, "example.com"));
  CHECK(blocked_http.virtual_host == "block_all");
  CHECK(blocked_http.http_status == 502);
  // The egress ServiceEntry (TLS, DNS, no VIP) stays reachable on its own listener.
  // The egress ServiceEntry (TLS, DNS, no VIP) stays reachable on its own listener, by SNI;
  // other TLS on that port falls through to the black hole (REGISTRY_ONLY).
  sim::Request tls = sim::Request::OutboundTcp("151.101.1.67", 443);
  tls.transport_protocol = "tls";
  tls.sni = "edition.cnn.com";
  auto cnn = closed.Simulate(tls);
  INFO(cnn.ToString());
  CHECK(cnn.listener == "0.0.0.0_443");
  CHECK(cnn.cluster() == "outbound|443||edition.cnn.com");
  tls.sni = "example.org";
  auto other = closed.Simulate(tls);
  INFO(other.ToString());
  CHECK(other.default_filter_chain);
  CHECK(other.filter_chain == "PassthroughFilterChain");
  CHECK(other.decision == sim::Decision::kDropped);
}

TEST_CASE("VirtualService host that is not a service gets a vhost on port 80 (istiod)",
          "[envoy][sim]") {
  std::string yaml = kMesh + R"(
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin, namespace: default}
spec:
  hosts: [httpbin.default.svc.cluster.local]
  addresses: [10.0.0.30]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 10.1.0.50}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: foo, namespace: default}
spec:
  hosts: [foo.example.com]
  http:
  - match: [{uri: {prefix: /reviews}}]
    route: [{destination: {host: reviews, subset: v1}}]
)";
  auto snap = testing::SnapshotFromYaml(yaml);
  EnvoyGenerator gen;
  Resources all = testing::FullConfig(gen, Productpage(), *snap);
  auto set = ConfigSetFromResources(all);
  REQUIRE(set.ok());
  CHECK(ValidateConfigSet(*set) == std::vector<std::string>{});
  sim::Mesh mesh;
  REQUIRE(mesh.AddResources(all).ok());
  auto r =
      mesh.Simulate(sim::Request::OutboundHttp("203.0.113.7", 80, "foo.example.com", "/reviews/1"));
  INFO(r.ToString());
  CHECK(r.route_config == "80");
  CHECK(r.virtual_host == "foo.example.com:80");
  CHECK(r.cluster() == "outbound|9080|v1|" + kReviews);
  auto miss = mesh.Simulate(sim::Request::OutboundHttp("203.0.113.7", 80, "foo.example.com", "/x"));
  CHECK(miss.http_status == 404);
  // Not on the other HTTP ports: istiod adds such hosts on port 80 only.
  auto other = mesh.Simulate(sim::Request::OutboundHttp("203.0.113.7", 9080, "foo.example.com"));
  CHECK(other.virtual_host == "allow_any");
}

TEST_CASE("TLS without a VIP: SNI chains, VirtualService tls routes by sniHosts", "[envoy][sim]") {
  std::string yaml = kMesh + R"(
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: wiki, namespace: default}
spec:
  hosts: ["*.wikipedia.org"]
  location: MESH_EXTERNAL
  resolution: NONE
  ports: [{number: 443, name: tls, protocol: TLS}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: egressgateway, namespace: default}
spec:
  hosts: [egress.default.svc.cluster.local]
  addresses: [10.0.0.40]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 443, name: tls, protocol: TLS}]
  endpoints: [{address: 10.1.0.60}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: wiki, namespace: default}
spec:
  hosts: ["*.wikipedia.org"]
  tls:
  - match: [{port: 443, sniHosts: [en.wikipedia.org]}]
    route: [{destination: {host: egress.default.svc.cluster.local, port: {number: 443}}}]
)";
  auto snap = testing::SnapshotFromYaml(yaml);
  EnvoyGenerator gen;
  Resources all = testing::FullConfig(gen, Productpage(), *snap);
  auto set = ConfigSetFromResources(all);
  REQUIRE(set.ok());
  CHECK(ValidateConfigSet(*set) == std::vector<std::string>{});
  sim::Mesh mesh;
  REQUIRE(mesh.AddResources(all).ok());
  sim::Request tls = sim::Request::OutboundTcp("198.35.26.96", 443);
  tls.transport_protocol = "tls";
  tls.sni = "en.wikipedia.org";
  auto en = mesh.Simulate(tls);
  INFO(en.ToString());
  CHECK(en.listener == "0.0.0.0_443");
  CHECK(en.cluster() == "outbound|443||egress.default.svc.cluster.local");
  tls.sni = "edition.cnn.com";
  auto cnn = mesh.Simulate(tls);
  INFO(cnn.ToString());
  CHECK(cnn.cluster() == "outbound|443||edition.cnn.com");
  // Another wikipedia host: not routed by the VirtualService; ALLOW_ANY passes it through.
  tls.sni = "de.wikipedia.org";
  auto de = mesh.Simulate(tls);
  INFO(de.ToString());
  CHECK(de.cluster() == "PassthroughCluster");
}

TEST_CASE("TCP VirtualService routes: destinationSubnets chains, then the rest", "[envoy][sim]") {
  std::string yaml = kMesh + R"(
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: mysql-replica, namespace: db}
spec:
  hosts: [mysql-replica.db.svc.cluster.local]
  addresses: [10.0.0.21]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 3306, name: tcp, protocol: TCP}]
  endpoints: [{address: 10.1.0.42}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mysql, namespace: db}
spec:
  hosts: [mysql.db.svc.cluster.local]
  tcp:
  - match: [{port: 3306, destinationSubnets: [10.0.0.20/32]}]
    route: [{destination: {host: mysql-replica.db.svc.cluster.local}}]
)";
  auto snap = testing::SnapshotFromYaml(yaml);
  EnvoyGenerator gen;
  Resources all = testing::FullConfig(gen, Productpage(), *snap);
  auto set = ConfigSetFromResources(all);
  REQUIRE(set.ok());
  CHECK(ValidateConfigSet(*set) == std::vector<std::string>{});
  sim::Mesh mesh;
  REQUIRE(mesh.AddResources(all).ok());
  auto r = mesh.Simulate(sim::Request::OutboundTcp("10.0.0.20", 3306));
  INFO(r.ToString());
  CHECK(r.listener == "10.0.0.20_3306");
  CHECK(r.cluster() == "outbound|3306||mysql-replica.db.svc.cluster.local");
}

TEST_CASE("Inbound: PERMISSIVE takes mTLS and plaintext, STRICT refuses plaintext",
          "[envoy][sim]") {
  auto snap = testing::SnapshotFromYaml(kMesh);
  sim::Mesh permissive = Load(Productpage(), *snap);
  sim::Request mtls = sim::Request::Inbound("10.1.0.1", 9080);
  mtls.transport_protocol = "tls";
  mtls.alpn = {"istio-http/1.1"};
  auto a = permissive.Simulate(mtls);
  INFO(a.ToString());
  CHECK(a.filter_chain == "inbound|9080||-mtls");
  CHECK(a.downstream_tls);
  CHECK(a.cluster() == "inbound|9080||");
  sim::Request plain = sim::Request::Inbound("10.1.0.1", 9080);
  plain.alpn = {"http/1.1"};
  auto b = permissive.Simulate(plain);
  INFO(b.ToString());
  CHECK(b.filter_chain == "inbound|9080||-plaintext");
  CHECK(b.cluster() == "inbound|9080||");

  std::string strict = kMesh + R"(
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
)";
  auto snap2 = testing::SnapshotFromYaml(strict);
  sim::Mesh locked = Load(Productpage(), *snap2);
  CHECK(locked.Simulate(mtls).cluster() == "inbound|9080||");
  auto refused = locked.Simulate(plain);
  INFO(refused.ToString());
  CHECK(refused.decision == sim::Decision::kDropped);
}

TEST_CASE("Gateway: HTTP and HTTPS (credentialName) routes to productpage", "[envoy][sim]") {
  std::string yaml = kMesh + testing::kIngressGateway + R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo, namespace: default}
spec:
  hosts: [bookinfo.example.com]
  gateways: [bookinfo-gateway]
  http:
  - match: [{uri: {exact: /productpage}}]
    route: [{destination: {host: productpage, port: {number: 9080}}}]
)";
  auto snap = testing::SnapshotFromYaml(yaml);
  model::Proxy gw = testing::IngressGateway();
  sim::Mesh mesh = Load(gw, *snap);
  sim::Request h = sim::Request::Direct("10.2.0.1", 8080);
  h.authority = "bookinfo.example.com";
  h.path = "/productpage";
  auto r = mesh.Simulate(h);
  INFO(r.ToString());
  CHECK(r.listener == "0.0.0.0_8080");
  CHECK(r.route_config == "http.8080");
  CHECK(r.cluster() == "outbound|9080||productpage.default.svc.cluster.local");
  h.path = "/admin";
  CHECK(mesh.Simulate(h).http_status == 404);

  sim::Request s = sim::Request::Direct("10.2.0.1", 8443);
  s.transport_protocol = "tls";
  s.sni = "bookinfo.example.com";
  s.authority = "bookinfo.example.com";
  s.path = "/productpage";
  auto t = mesh.Simulate(s);
  INFO(t.ToString());
  CHECK(t.downstream_tls);
  CHECK(t.route_config == "https.443.https.bookinfo-gateway.default");
  CHECK(t.cluster() == "outbound|9080||productpage.default.svc.cluster.local");
  s.sni = "other.example.com";
  CHECK(mesh.Simulate(s).decision == sim::Decision::kDropped);
}

}  // namespace
}  // namespace meshd::xds
