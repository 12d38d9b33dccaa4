#include "xds/gen/grpc_generator.h"
#include "tests/xds/test_mesh.h"

#include <catch2/catch.hpp>

#include <algorithm>

#include "controller/config/decoder.h"
#include "controller/config/yaml.h"
#include "controller/registry.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace meshd::xds {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;
namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;

const char* kMesh = R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews.default.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 9080, name: grpc, protocol: GRPC}]
  endpoints:
  - {address: 10.0.0.1, labels: {version: v1}, locality: us/east-1a}
  - {address: 10.0.0.2, labels: {version: v2}, weight: 3}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
    connectionPool: {http: {http2MaxRequests: 50}}
    outlierDetection: {consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50}
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      loadBalancer: {consistentHash: {httpHeaderName: x-user}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}, uri: {prefix: /meshd.test.Echo/}}]
    fault: {delay: {fixedDelay: 2s, percentage: {value: 12.5}}, abort: {grpcStatus: UNAVAILABLE}}
    route: [{destination: {host: reviews, subset: v2}}]
  - timeout: 3s
    retries: {attempts: 2, retryOn: unavailable, perTryTimeout: 1s}
    route:
    - {destination: {host: reviews, subset: v1}, weight: 80}
    - {destination: {host: reviews, subset: v2}, weight: 20}
)";

model::SnapshotPtr Build(const std::string& yaml) { return testing::SnapshotFromYaml(yaml); }

model::Proxy Client() {
  model::Proxy p;
  p.id = "sidecar~10.0.0.9~client.default~default.svc.cluster.local";
  p.ns = "default";
  p.generator = "grpc";
  return p;
}

template <typename T>
T Unpack(const ResourcePtr& r) {
  T out;
  REQUIRE(r->any.UnpackTo(&out));
  return out;
}

const std::string kHost = "reviews.default.svc.cluster.local";

TEST_CASE("LDS: api_listener with RDS over ADS, fault then router", "[gen]") {
  auto snap = Build(kMesh);
  GrpcGenerator gen;
  for (const std::string& name : std::vector<std::string>{"reviews:9080", "reviews.default:9080",
                                                          "reviews", kHost + ":9080"}) {
    Resources r = gen.Listeners(Client(), *snap, {name});
    REQUIRE(r.size() == 1);
    CHECK(r[0]->name == name);
    hcm::HttpConnectionManager m;
    REQUIRE(Unpack<Listener>(r[0]).api_listener().api_listener().UnpackTo(&m));
    CHECK(m.rds().route_config_name() == "outbound|9080||" + kHost);
    CHECK(m.rds().config_source().has_ads());
    REQUIRE(m.http_filters_size() == 2);
    CHECK(m.http_filters(0).name() == "envoy.filters.http.fault");
    CHECK(m.http_filters(1).name() == "envoy.filters.http.router");
  }
  CHECK(gen.Listeners(Client(), *snap, {"ratings:9080", "reviews:1234"}).empty());
  CHECK(gen.Listeners(Client(), *snap, {}).size() == 1);  // wildcard: every service port
}

TEST_CASE("RDS: matches, weights with exact total, fault, timeout, retries; no invented catch-all",
          "[gen]") {
  auto snap = Build(kMesh);
  Resources r = GrpcGenerator().Routes(Client(), *snap, {"outbound|9080||" + kHost});
  REQUIRE(r.size() == 1);
  auto rc = Unpack<RouteConfiguration>(r[0]);
  REQUIRE(rc.virtual_hosts_size() == 1);
  const auto& routes = rc.virtual_hosts(0).routes();
  // istiod routes by the VirtualService's routes only: no catch-all route is appended.
  REQUIRE(routes.size() == 2);
  CHECK(routes[0].match().prefix() == "/meshd.test.Echo/");
  CHECK(routes[0].match().headers(0).name() == "end-user");
  CHECK(routes[0].match().headers(0).exact_match() == "jason");
  CHECK(routes[0].route().cluster() == "outbound|9080|v2|" + kHost);
  CHECK(routes[0].route().hash_policy(0).header().header_name() == "x-user");
  envoy::extensions::filters::http::fault::v3::HTTPFault fault;
  REQUIRE(routes[0].typed_per_filter_config().at("envoy.filters.http.fault").UnpackTo(&fault));
  CHECK(fault.delay().fixed_delay().seconds() == 2);
  CHECK(fault.delay().percentage().numerator() == 125000);
  CHECK(fault.delay().percentage().denominator() == envoy::type::v3::FractionalPercent::MILLION);
  CHECK(fault.abort().grpc_status() == 14);
  // An unset percentage is every request (1,000,000 per million).
  CHECK(fault.abort().percentage().numerator() == 1000000);
  CHECK(fault.abort().percentage().denominator() == envoy::type::v3::FractionalPercent::MILLION);
  const auto& split = routes[1].route();
  REQUIRE(split.weighted_clusters().clusters_size() == 2);
  CHECK(split.weighted_clusters().clusters(0).weight().value() == 80);
  CHECK(split.weighted_clusters().total_weight().value() == 100);
  CHECK(split.max_stream_duration().grpc_timeout_header_max().seconds() == 3);
  CHECK(split.retry_policy().num_retries().value() == 2);
  CHECK(split.retry_policy().retry_on() == "unavailable");
}

TEST_CASE("CDS: EDS over ADS, policies per subset, ring hash, limits, outliers", "[gen]") {
  auto snap = Build(kMesh);
  Resources r = GrpcGenerator().Clusters(Client(), *snap, {});
  REQUIRE(r.size() == 3);
  std::map<std::string, Cluster> by_name;
  for (const auto& res : r) by_name[res->name] = Unpack<Cluster>(res);
  const Cluster& v1 = by_name.at("outbound|9080|v1|" + kHost);
  CHECK(v1.type() == Cluster::EDS);
  CHECK(v1.eds_cluster_config().eds_config().has_ads());
  CHECK(v1.lb_policy() == Cluster::ROUND_ROBIN);
  CHECK(v1.circuit_breakers().thresholds(0).max_requests().value() == 50);
  CHECK(v1.outlier_detection().consecutive_5xx().value() == 5);
  CHECK(v1.outlier_detection().max_ejection_percent().value() == 50);
  CHECK(by_name.at("outbound|9080|v2|" + kHost).lb_policy() == Cluster::RING_HASH);
  CHECK(GrpcGenerator().Clusters(Client(), *snap, {"outbound|9080|v9|" + kHost}).empty());
}

TEST_CASE("EDS: subset filtering, every locality weighted", "[gen]") {
  auto snap = Build(kMesh);
  GrpcGenerator gen;
  auto all =
      Unpack<ClusterLoadAssignment>(gen.Endpoints(Client(), *snap, {"outbound|9080||" + kHost})[0]);
  CHECK(all.endpoints_size() == 2);  // two localities
  for (const auto& l : all.endpoints()) {
    CHECK(l.has_locality());
    CHECK(l.load_balancing_weight().value() > 0);
  }
  auto v2 = Unpack<ClusterLoadAssignment>(
      gen.Endpoints(Client(), *snap, {"outbound|9080|v2|" + kHost})[0]);
  REQUIRE(v2.endpoints_size() == 1);
  REQUIRE(v2.endpoints(0).lb_endpoints_size() == 1);
  CHECK(v2.endpoints(0).lb_endpoints(0).endpoint().address().socket_address().address() ==
        "10.0.0.2");
  CHECK(v2.endpoints(0).load_balancing_weight().value() == 3);
}

TEST_CASE("consistency: every route's clusters and every cluster's endpoints exist", "[gen]") {
  auto snap = Build(kMesh);
  GrpcGenerator gen;
  std::set<std::string> clusters;
  for (const auto& c : gen.Clusters(Client(), *snap, {})) clusters.insert(c->name);
  for (const auto& l : gen.Listeners(Client(), *snap, {})) {
    hcm::HttpConnectionManager m;
    REQUIRE(Unpack<Listener>(l).api_listener().api_listener().UnpackTo(&m));
    Resources routes = gen.Routes(Client(), *snap, {m.rds().route_config_name()});
    REQUIRE(routes.size() == 1);
    const RouteConfiguration rc = Unpack<RouteConfiguration>(routes[0]);
    for (const auto& route : rc.virtual_hosts(0).routes()) {
      if (!route.route().cluster().empty()) CHECK(clusters.count(route.route().cluster()));
      for (const auto& wc : route.route().weighted_clusters().clusters()) {
        CHECK(clusters.count(wc.name()));
      }
    }
  }
  for (const auto& name : clusters) CHECK(gen.Endpoints(Client(), *snap, {name}).size() == 1);
}

TEST_CASE("cluster names round-trip", "[gen]") {
  ClusterName cn;
  REQUIRE(ParseClusterName(BuildClusterName(9080, "v1", kHost), &cn));
  CHECK(cn.port == 9080);
  CHECK(cn.subset == "v1");
  CHECK(cn.host == kHost);
  CHECK_FALSE(ParseClusterName("inbound|9080||", &cn));
}

std::vector<std::string> OriginNames(const ResourcePtr& r) {
  if (r->origins == nullptr) return {"null"};
  std::vector<std::string> out;
  for (const auto& k : *r->origins) out.push_back(k.ToString());
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("gRPC resources record the objects they were built from", "[gen][origins]") {
  auto snap = Build(kMesh);
  GrpcGenerator gen;
  Resources rds = gen.Routes(Client(), *snap, {"outbound|9080||" + kHost});
  REQUIRE(rds.size() == 1);
  CHECK(OriginNames(rds[0]) == std::vector<std::string>{"VirtualService/default/reviews"});
  std::vector<std::string> destination = {"DestinationRule/default/reviews",
                                          "ServiceEntry/default/reviews"};
  Resources cds = gen.Clusters(Client(), *snap, {"outbound|9080|v2|" + kHost});
  REQUIRE(cds.size() == 1);
  CHECK(OriginNames(cds[0]) == destination);
  Resources eds = gen.Endpoints(Client(), *snap, {"outbound|9080|v1|" + kHost});
  REQUIRE(eds.size() == 1);
  CHECK(OriginNames(eds[0]) == destination);
  Resources lds = gen.Listeners(Client(), *snap, {"reviews:9080"});
  REQUIRE(lds.size() == 1);
  CHECK(OriginNames(lds[0]) == std::vector<std::string>{"ServiceEntry/default/reviews"});
}

}  // namespace
}  // namespace meshd::xds
