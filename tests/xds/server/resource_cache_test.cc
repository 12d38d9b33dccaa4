#include "xds/server/resource_cache.h"

#include <catch2/catch.hpp>

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

}  // namespace
}  // namespace meshd::xds
