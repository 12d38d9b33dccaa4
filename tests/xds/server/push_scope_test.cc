#include "xds/server/push_scope.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "tests/xds/test_mesh.h"
#include "xds/gen/resource.h"

namespace meshd::xds {
namespace {

std::string Mesh(int weight, const std::string& ratings_ip, const std::string& extra = "") {
  return R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: reviews}
spec:
  hosts: [reviews.default.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 9080, name: grpc}]
  endpoints: [{address: 10.0.0.1}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ratings}
spec:
  hosts: [ratings.default.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 9080, name: grpc}]
  endpoints: [{address: )" +
         ratings_ip + R"(}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - {destination: {host: reviews}, weight: )" +
         std::to_string(weight) + R"(}
    - {destination: {host: ratings}, weight: )" +
         std::to_string(100 - weight) + "}\n" + extra;
}

model::PushRequest Changed(model::Kind kind, const std::string& name) {
  model::PushRequest r;
  r.full = true;
  r.configs_updated.insert({kind, "default", name});
  return r;
}

model::Proxy P() {
  model::Proxy p;
  p.ns = "default";
  return p;
}

const std::string kReviews = "outbound|9080||reviews.default.svc.cluster.local";
const std::string kRatings = "outbound|9080||ratings.default.svc.cluster.local";

TEST_CASE("a VirtualService change scopes to its hosts", "[scope]") {
  auto before = testing::SnapshotFromYaml(Mesh(80, "10.0.0.2"), 1);
  auto after = testing::SnapshotFromYaml(Mesh(50, "10.0.0.2"), 2);
  PushScope s =
      ComputeScope(before.get(), *after, Changed(model::Kind::kVirtualService, "reviews"));
  CHECK_FALSE(s.all);
  CHECK(s.hosts == std::set<std::string>{"reviews.default.svc.cluster.local"});
  CHECK(Affects(s, kListenerType, "reviews:9080", P(), *after));
  CHECK(Affects(s, kRouteType, kReviews, P(), *after));
  CHECK_FALSE(Affects(s, kListenerType, "ratings:9080", P(), *after));
  CHECK_FALSE(Affects(s, kEndpointType, kRatings, P(), *after));
}

TEST_CASE("a ServiceEntry whose endpoints alone changed is an endpoint-only change", "[scope]") {
  auto before = testing::SnapshotFromYaml(Mesh(80, "10.0.0.2"), 1);
  auto after = testing::SnapshotFromYaml(Mesh(80, "10.0.0.3"), 2);
  PushScope s = ComputeScope(before.get(), *after, Changed(model::Kind::kServiceEntry, "ratings"));
  CHECK(s.hosts.empty());
  CHECK(s.endpoint_hosts == std::set<std::string>{"ratings.default.svc.cluster.local"});
  CHECK(Affects(s, kEndpointType, kRatings, P(), *after));
  CHECK_FALSE(Affects(s, kRouteType, kRatings, P(), *after));
  CHECK_FALSE(Affects(s, kListenerType, "ratings:9080", P(), *after));
}

TEST_CASE("a DNS ServiceEntry's endpoints are in CDS: changing them is a full change, as istiod",
          "[scope]") {
  std::string dns_before = Mesh(80, "10.0.0.2");
  std::string dns_after = Mesh(80, "10.0.0.3");
  for (std::string* y : {&dns_before, &dns_after}) {
    // ratings resolves by DNS (its STATIC line is the second one).
    auto at = y->find("resolution: STATIC", y->find("name: ratings"));
    y->replace(at, 18, "resolution: DNS");
  }
  auto before = testing::SnapshotFromYaml(dns_before, 1);
  auto after = testing::SnapshotFromYaml(dns_after, 2);
  PushScope s = ComputeScope(before.get(), *after, Changed(model::Kind::kServiceEntry, "ratings"));
  CHECK(s.hosts == std::set<std::string>{"ratings.default.svc.cluster.local"});
  CHECK(Affects(s, kClusterType, kRatings, P(), *after));
}

TEST_CASE("security and sidecar changes, or no previous snapshot, affect everything", "[scope]") {
  auto before = testing::SnapshotFromYaml(Mesh(80, "10.0.0.2"), 1);
  CHECK(ComputeScope(nullptr, *before, Changed(model::Kind::kVirtualService, "reviews")).all);
  CHECK(ComputeScope(before.get(), *before, Changed(model::Kind::kPeerAuthentication, "x")).all);
  model::PushRequest synced;
  synced.full = true;
  CHECK(ComputeScope(before.get(), *before, synced).all);
}

TEST_CASE("a removed service still reaches the listeners that named it", "[scope]") {
  auto before = testing::SnapshotFromYaml(Mesh(80, "10.0.0.2"), 1);
  std::string without = Mesh(100, "10.0.0.2");
  auto after = testing::SnapshotFromYaml(without.substr(0, without.find("---")), 2);
  PushScope s = ComputeScope(before.get(), *after, Changed(model::Kind::kServiceEntry, "ratings"));
  CHECK(Affects(s, kListenerType, "ratings:9080", P(), *after));
}

}  // namespace
}  // namespace meshd::xds

namespace meshd::xds {
namespace {

TEST_CASE("subscription host sets give the per-name answers", "[scope]") {
  auto before = testing::SnapshotFromYaml(Mesh(80, "10.0.0.2"), 1);
  auto after = testing::SnapshotFromYaml(Mesh(50, "10.0.0.3"), 2);
  model::PushRequest req;
  req.full = true;
  req.configs_updated = {{model::Kind::kVirtualService, "default", "reviews"},
                         {model::Kind::kServiceEntry, "default", "ratings"}};
  PushScope s = ComputeScope(before.get(), *after, req);
  const std::vector<std::pair<std::string, std::set<std::string>>> subscriptions = {
      {kListenerType, {"reviews:9080"}},
      {kListenerType, {"ratings:9080"}},
      {kListenerType, {"ratings.default:9080", "xds.istio.io/grpc/lds/inbound/10.0.0.1:9080"}},
      {kRouteType, {kRatings}},
      {kRouteType, {kReviews}},
      {kEndpointType, {kRatings}},
      {kClusterType, {kReviews, kRatings}},
  };
  for (const auto& [type, names] : subscriptions) {
    bool by_name = false;
    for (const auto& n : names) by_name = by_name || Affects(s, type, n, P(), *after);
    CAPTURE(type, *names.begin());
    CHECK(Affects(s, type, HostsOf(type, names), "default", "cluster.local") == by_name);
  }
}

TEST_CASE("every name a scope affects is in one of the scope's buckets or the empty one",
          "[scope]") {
  // What the server's stream index (IndexStream) and the cache's Advance rely on.
  PushScope s;
  s.hosts = {"reviews.default.svc.cluster.local"};
  s.endpoint_hosts = {"ratings.other.svc.cluster.local"};
  std::vector<uint64_t> buckets = ScopeBuckets(s);
  buckets.push_back(BucketId(""));
  const std::vector<std::pair<std::string, std::string>> names = {
      {kListenerType, "reviews:9080"},
      {kListenerType, "reviews.default:9080"},
      {kListenerType, "reviews.default.svc:9080"},
      {kListenerType, "reviews.default.svc.cluster.local:9080"},
      {kListenerType, "reviewsx:9080"},
      {kListenerType, "details:9080"},
      {kListenerType, "xds.istio.io/grpc/lds/inbound/10.0.0.1:9080"},
      {kRouteType, "outbound|9080||reviews.default.svc.cluster.local"},
      {kRouteType, "9080"},
      {kClusterType, "outbound|9080|v1|reviews.default.svc.cluster.local"},
      {kEndpointType, "outbound|9080||ratings.other.svc.cluster.local"},
      {kEndpointType, "outbound|9080||details.default.svc.cluster.local"},
  };
  size_t affected = 0;
  for (const auto& [type, name] : names) {
    CAPTURE(type, name);
    const bool in_bucket = std::find(buckets.begin(), buckets.end(),
                                     BucketId(HostBucket(type, name))) != buckets.end();
    if (Affects(s, type, HostsOf(type, {name}), "default", "cluster.local")) {
      ++affected;
      CHECK(in_bucket);
    }
  }
  CHECK(affected == 9);
  // A subscription's buckets from its hosts are those of its names.
  for (std::string type : {kListenerType, kRouteType, kClusterType, kEndpointType}) {
    std::set<std::string> subscription;
    std::vector<uint64_t> by_name;
    for (const auto& [t, name] : names) {
      subscription.insert(name);
      by_name.push_back(BucketId(HostBucket(type, name)));
    }
    std::vector<uint64_t> by_hosts;
    AppendBuckets(HostsOf(type, subscription), &by_hosts);
    for (auto* v : {&by_name, &by_hosts}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    CAPTURE(type);
    CHECK(by_hosts == by_name);
  }  // every name above but reviewsx, details and the details EDS
  // Names of other hosts fall outside: the index leaves their streams alone.
  CHECK(std::find(buckets.begin(), buckets.end(), BucketId("details")) == buckets.end());
}

}  // namespace
}  // namespace meshd::xds
