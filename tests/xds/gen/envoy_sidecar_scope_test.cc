// Sidecar CR listeners in the Envoy generator's output, walked by the offline simulator:
// ingress listeners (port, defaultEndpoint, captureMode, tls) define the inbound side; egress
// listeners with a port (and bind) get only their hosts on that port. Names as istiod's.
#include <catch2/catch.hpp>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "tests/xds/gen/bookinfo.h"
#include "tests/xds/sim/envoy_sim.h"
#include "tests/xds/test_mesh.h"
#include "xds/gen/envoy_generator.h"
#include "xds/validate/config_set.h"

namespace meshd::xds {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::listener::v3::Listener;

const std::string kSidecar = std::string(testing::kBookinfoServices) + R"(
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: productpage, namespace: default}
spec:
  workloadSelector: {labels: {app: productpage}}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: http}
    defaultEndpoint: 127.0.0.1:8080
  - port: {number: 9443, protocol: HTTPS, name: https}
    defaultEndpoint: 0.0.0.0:8443
    tls: {mode: SIMPLE, serverCertificate: /etc/certs/cert.pem, privateKey: /etc/certs/key.pem}
  - port: {number: 7070, protocol: TCP, name: tcp}
    captureMode: NONE
    defaultEndpoint: 127.0.0.1:7071
  egress:
  - port: {number: 9080, protocol: HTTP, name: http}
    hosts: [./reviews.default.svc.cluster.local]
  - port: {number: 3306, protocol: TCP, name: mysql}
    bind: 127.0.0.2
    captureMode: NONE
    hosts: [db/*]
  - port: {number: 8000, protocol: HTTP, name: http-local}
    bind: 127.0.0.3
    captureMode: NONE
    hosts: [./details.default.svc.cluster.local]
  - hosts: [./*]
)";

const std::string kReviews = "reviews.default.svc.cluster.local";

std::map<std::string, Listener> Listeners(const Resources& resources) {
  std::map<std::string, Listener> out;
  for (const auto& r : resources) {
    Listener l;
    if (r->any.UnpackTo(&l)) out[r->name] = l;
  }
  return out;
}

std::map<std::string, Cluster> Clusters(const Resources& resources) {
  std::map<std::string, Cluster> out;
  for (const auto& r : resources) {
    Cluster c;
    if (r->any.UnpackTo(&c)) out[r->name] = c;
  }
  return out;
}

TEST_CASE("Sidecar egress port and bind: only that listener's hosts, istiod's names",
          "[envoy][sim][sidecar]") {
  auto snap = testing::SnapshotFromYaml(kSidecar);
  EnvoyGenerator gen;
  model::Proxy proxy = testing::ProductpageSidecar();
  Resources all = testing::FullConfig(gen, proxy, *snap);
  auto set = ConfigSetFromResources(all);
  REQUIRE(set.ok());
  CHECK(ValidateConfigSet(*set) == std::vector<std::string>{});

  auto listeners = Listeners(gen.Generate(kListenerType, proxy, *snap, {}));
  CHECK(listeners.count("0.0.0.0_9080") == 1);
  CHECK(listeners.count("127.0.0.2_3306") == 1);
  CHECK(listeners.count("127.0.0.3_8000") == 1);
  CHECK(listeners.count("10.0.0.20_3306") == 0);  // the bind replaces the VIP
  CHECK(listeners.count("0.0.0.0_443") == 1);     // cnn, from the catch-all "./*"
  // captureMode NONE: the listener binds its address; captured ones do not.
  CHECK_FALSE(listeners["127.0.0.2_3306"].has_bind_to_port());
  CHECK(listeners["0.0.0.0_9080"].bind_to_port().value() == false);

  sim::Mesh mesh;
  REQUIRE(mesh.AddResources(all).ok());
  // Port 9080 serves reviews only: ratings is not in that listener's hosts (passthrough).
  auto reviews = mesh.Simulate(sim::Request::OutboundHttp("10.0.0.10", 9080, "reviews:9080"));
  INFO(reviews.ToString());
  CHECK(reviews.route_config == "9080");
  CHECK(reviews.virtual_host == kReviews + ":9080");
  CHECK(reviews.cluster() == "outbound|9080||" + kReviews);
  auto ratings = mesh.Simulate(sim::Request::OutboundHttp("10.0.0.11", 9080, "ratings:9080"));
  INFO(ratings.ToString());
  CHECK(ratings.virtual_host == "allow_any");
  CHECK(ratings.cluster() == "PassthroughCluster");

  // The bound TCP egress listener forwards to mysql in db.
  auto mysql = mesh.Simulate(sim::Request::Direct("127.0.0.2", 3306));
  INFO(mysql.ToString());
  CHECK(mysql.decision == sim::Decision::kTcp);
  CHECK(mysql.listener == "127.0.0.2_3306");
  CHECK(mysql.cluster() == "outbound|3306||mysql.db.svc.cluster.local");

  // The bound HTTP egress listener on 8000 has its own RDS "<bind>:<port>"; details has one
  // port (9080), which the listener's port maps to.
  sim::Request d = sim::Request::Direct("127.0.0.3", 8000);
  d.authority = "details:8000";
  auto details = mesh.Simulate(d);
  INFO(details.ToString());
  CHECK(details.route_config == "127.0.0.3:8000");
  CHECK(details.virtual_host == "details.default.svc.cluster.local:8000");
  CHECK(details.cluster() == "outbound|9080||details.default.svc.cluster.local");
}

TEST_CASE("Sidecar ingress: defaultEndpoint, tls and captureMode NONE define the inbound side",
          "[envoy][sim][sidecar]") {
  auto snap = testing::SnapshotFromYaml(kSidecar);
  EnvoyGenerator gen;
  model::Proxy proxy = testing::ProductpageSidecar();
  Resources all = testing::FullConfig(gen, proxy, *snap);
  sim::Mesh mesh;
  REQUIRE(mesh.AddResources(all).ok());

  auto clusters = Clusters(gen.GenerateOwn(kClusterType, proxy, *snap));
  REQUIRE(clusters.count("inbound|9080||") == 1);
  CHECK(clusters["inbound|9080||"].type() == Cluster::STATIC);
  CHECK_FALSE(clusters["inbound|9080||"].has_upstream_bind_config());
  REQUIRE(clusters.count("inbound|9443||") == 1);
  CHECK(clusters["inbound|9443||"].upstream_bind_config().source_address().address() ==
        "127.0.0.6");

  // 127.0.0.1:8080: the app listens on the loopback.
  sim::Request plain = sim::Request::Inbound("10.1.0.1", 9080);
  plain.alpn = {"http/1.1"};
  auto a = mesh.Simulate(plain);
  INFO(a.ToString());
  CHECK(a.filter_chain == "inbound|9080||-plaintext");
  CHECK(a.cluster() == "inbound|9080||");
  REQUIRE(a.clusters.size() == 1);
  REQUIRE(a.clusters[0].info.priorities.size() == 1);
  CHECK(a.clusters[0].info.priorities[0].endpoints.at(0).address == "127.0.0.1:8080");

  // tls: the Sidecar's certificate terminates TLS; 0.0.0.0:8443 is the pod's own IP.
  sim::Request tls = sim::Request::Inbound("10.1.0.1", 9443);
  tls.transport_protocol = "tls";
  tls.sni = "productpage.example.com";
  tls.alpn = {"h2"};
  tls.authority = "productpage";
  auto b = mesh.Simulate(tls);
  INFO(b.ToString());
  CHECK(b.filter_chain == "inbound|9443||-tls");
  CHECK(b.downstream_tls);
  CHECK(b.cluster() == "inbound|9443||");
  REQUIRE(b.clusters.size() == 1);
  CHECK(b.clusters[0].info.priorities.at(0).endpoints.at(0).address == "10.1.0.1:8443");

  // captureMode NONE: a listener of its own on the proxy's IP, not a virtualInbound chain.
  auto listeners = Listeners(gen.GenerateOwn(kListenerType, proxy, *snap));
  CHECK(listeners.count("10.1.0.1_7070") == 1);
  auto c = mesh.Simulate(sim::Request::Direct("10.1.0.1", 7070));
  INFO(c.ToString());
  CHECK(c.listener == "10.1.0.1_7070");
  CHECK(c.decision == sim::Decision::kTcp);
  CHECK(c.clusters.at(0).info.priorities.at(0).endpoints.at(0).address == "127.0.0.1:7071");

  // A port no ingress listener names is not an inbound port any more: passthrough catch-all.
  auto d = mesh.Simulate(sim::Request::Inbound("10.1.0.1", 5000));
  INFO(d.ToString());
  CHECK(d.cluster() == "InboundPassthroughCluster");
}

}  // namespace
}  // namespace meshd::xds
