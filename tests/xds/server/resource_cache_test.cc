#include "xds/server/resource_cache.h"

#include <catch2/catch.hpp>
#include <set>

#include "xds/server/push_scope.h"

namespace meshd::xds {
namespace {

Resources One(const std::string& name) {
  auto r = std::make_shared<Resource>();
  r->name = name;
  return {r};
}

model::Proxy Proxy(const std::string& ns, std::map<std::string, std::string> labels) {
  model::Proxy p;
  p.ns = ns;
  p.labels = std::move(labels);
  p.generator = "grpc";
  return p;
}

TEST_CASE("same view shares entries; another view never sees them", "[cache]") {
  ResourceCache cache;
  uint64_t a = ViewKey(Proxy("default", {{"app", "x"}}));
  uint64_t a2 = ViewKey(Proxy("default", {{"app", "x"}}));
  uint64_t b = ViewKey(Proxy("default", {{"app", "y"}}));
  uint64_t c = ViewKey(Proxy("other", {{"app", "x"}}));
  CHECK(a == a2);
  CHECK(a != b);
  CHECK(a != c);
  cache.Put(1, kRouteType, a, "r", One("from-a"));
  REQUIRE(cache.Get(1, kRouteType, a2, "r") != nullptr);
  CHECK((*cache.Get(1, kRouteType, a2, "r"))[0]->name == "from-a");
  CHECK(cache.Get(1, kRouteType, b, "r") == nullptr);
  CHECK(cache.Get(1, kRouteType, c, "r") == nullptr);
  CHECK(cache.Get(1, kClusterType, a, "r") == nullptr);
}

TEST_CASE("the shared view ignores labels no config selects on", "[cache]") {
  model::Proxy v1 = Proxy("default", {{"app", "reviews"}, {"version", "v1"}});
  model::Proxy v2 = Proxy("default", {{"app", "ratings"}, {"version", "v2"}});
  CHECK(ViewKey(v1, {}) == ViewKey(v2, {}));
  CHECK(ViewKey(v1, {"tier"}) == ViewKey(v2, {"tier"}));
  CHECK(ViewKey(v1, {"version"}) != ViewKey(v2, {"version"}));
  CHECK(ViewKey(v1, {}) != ViewKey(Proxy("other", {{"app", "reviews"}}), {}));

  // A VirtualService match on sourceLabels makes its keys part of the view.
  auto vs = std::make_shared<model::Config>();
  vs->key = {model::Kind::kVirtualService, "default", "reviews"};
  model::VirtualService spec;
  spec.hosts = {"reviews"};
  model::HttpRoute route;
  model::HttpMatch match;
  match.source_labels = {{"version", "v1"}};
  route.matches.push_back(match);
  spec.http.push_back(route);
  vs->model = spec;
  model::Snapshot::Data data;
  data.version = 1;
  data.configs[vs->key] = vs;
  model::Snapshot snapshot(std::move(data));
  CHECK(SelectedLabelKeys(snapshot) == std::set<std::string>{"version"});
  CHECK(SelectedLabelKeys(model::Snapshot(model::Snapshot::Data{})).empty());

  // So does a DestinationRule's workloadSelector.
  auto dr = std::make_shared<model::Config>();
  dr->key = {model::Kind::kDestinationRule, "default", "canary"};
  model::DestinationRule dr_spec;
  dr_spec.host = "reviews";
  dr_spec.workload_selector = std::map<std::string, std::string>{{"track", "canary"}};
  dr->model = dr_spec;
  model::Snapshot::Data with_dr;
  with_dr.configs[dr->key] = dr;
  CHECK(SelectedLabelKeys(model::Snapshot(std::move(with_dr))) == std::set<std::string>{"track"});
}

TEST_CASE("entries never outlive their snapshot", "[cache]") {
  ResourceCache cache;
  cache.Put(1, kRouteType, 7, "r", One("v1"));
  CHECK(cache.Get(2, kRouteType, 7, "r") == nullptr);
  cache.Reset(2);
  CHECK(cache.Get(1, kRouteType, 7, "r") == nullptr);
  cache.Put(1, kRouteType, 7, "r", One("late"));  // generated from an older snapshot
  CHECK(cache.Get(2, kRouteType, 7, "r") == nullptr);
  CHECK(cache.Get(1, kRouteType, 7, "r") == nullptr);
  cache.Reset(1);  // never goes back
  cache.Put(2, kRouteType, 7, "r", One("v2"));
  CHECK((*cache.Get(2, kRouteType, 7, "r"))[0]->name == "v2");
  CHECK(cache.stats().entries == 1);
}

TEST_CASE("a new snapshot keeps the entries its change cannot touch", "[cache]") {
  ResourceCache cache;
  const std::string a = "outbound|9080||a.default.svc.cluster.local";
  const std::string b = "outbound|9080||b.default.svc.cluster.local";
  const std::string c = "outbound|9080||c.default.svc.cluster.local";
  cache.Put(1, kRouteType, 7, a, One("a"), "default");
  cache.Put(1, kRouteType, 7, b, One("b"), "default");
  cache.Put(1, kRouteType, 7, c, One("c"), "default");
  cache.Put(1, kListenerType, 7, "a:9080", One("a-listener"), "default");
  cache.Put(1, kClusterType, 7, "*", One("all"), "default");
  std::set<std::string> asked;
  // Only the entries of the changed hosts' buckets ("a", "b") and of the empty one ("*") are
  // asked; c's entry is kept unasked.
  cache.Advance(2, {BucketId("a"), BucketId("b")},
                [&](const std::string& type, const std::string& name, const std::string& ns) {
                  asked.insert(name);
                  CHECK(ns == "default");
                  return type == kRouteType && name == b;
                });
  CHECK(asked == std::set<std::string>{a, b, "a:9080", "*"});
  CHECK(cache.Get(2, kRouteType, 7, a) == nullptr);
  CHECK(cache.Get(2, kListenerType, 7, "a:9080") == nullptr);
  CHECK(cache.Get(2, kClusterType, 7, "*") == nullptr);
  REQUIRE(cache.Get(2, kRouteType, 7, b) != nullptr);
  CHECK((*cache.Get(2, kRouteType, 7, b))[0]->name == "b");
  REQUIRE(cache.Get(2, kRouteType, 7, c) != nullptr);
  CHECK(cache.Get(1, kRouteType, 7, b) == nullptr);  // the old version is gone
  cache.Advance(2, {BucketId("b"), BucketId("c")},
                [](const std::string&, const std::string&, const std::string&) {
                  return false;
                });  // not newer: ignored
  CHECK(cache.stats().entries == 2);
  // A re-generated entry is indexed once: a later change to its host still drops it.
  cache.Put(2, kRouteType, 7, a, One("a2"), "default");
  cache.Put(2, kRouteType, 7, a, One("a3"), "default");
  cache.Advance(3, {BucketId("a")},
                [](const std::string&, const std::string&, const std::string&) { return false; });
  CHECK(cache.Get(3, kRouteType, 7, a) == nullptr);
  CHECK(cache.stats().entries == 2);
}

TEST_CASE("HostBucket: the first label of the host a name refers to", "[cache]") {
  CHECK(HostBucket(kClusterType, "outbound|9080|v1|reviews.default.svc.cluster.local") ==
        "reviews");
  CHECK(HostBucket(kEndpointType, "outbound|9080||reviews") == "reviews");
  CHECK(HostBucket(kListenerType, "reviews.default:9080") == "reviews");
  CHECK(HostBucket(kListenerType, "reviews") == "reviews");
  CHECK(HostBucket(kListenerType, "xds.istio.io/grpc/lds/inbound/0.0.0.0:9080").empty());
  CHECK(HostBucket(kClusterType, "inbound|9080||").empty());
  CHECK(HostBucket(kClusterType, "*").empty());
  CHECK(FirstLabel("reviews.default.svc.cluster.local") == "reviews");
}

}  // namespace
}  // namespace meshd::xds
