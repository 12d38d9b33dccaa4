#include "xds/gen/resource.h"

#include <catch2/catch.hpp>

namespace meshd::xds {
namespace {

TEST_CASE("OriginSet: sorted, unique, shared; empty when nothing shaped the resource",
          "[origins]") {
  OriginSet set;
  set.Add(model::ConfigKey{model::Kind::kVirtualService, "default", "reviews"});
  set.Add(model::ConfigKey{model::Kind::kDestinationRule, "default", "reviews"});
  set.Add(model::ConfigKey{model::Kind::kVirtualService, "default", "reviews"});
  set.Add(static_cast<const model::Config*>(nullptr));
  Origins built = set.Build();
  REQUIRE(built != nullptr);
  REQUIRE(built->size() == 2);
  CHECK((*built)[0].ToString() == "VirtualService/default/reviews");
  CHECK((*built)[1].ToString() == "DestinationRule/default/reviews");
  Origins none = OriginSet().Build();
  REQUIRE(none != nullptr);  // recorded: no object, unlike null (not recorded)
  CHECK(none->empty());
  CHECK(none == OriginSet().Build());  // one shared empty set, no allocation per resource
}

TEST_CASE("ServiceEntryOf: the ServiceEntry behind a registry service", "[origins]") {
  model::Service se;
  se.origin = "ServiceEntry/default/reviews";
  REQUIRE(ServiceEntryOf(se).has_value());
  CHECK(ServiceEntryOf(se)->ToString() == "ServiceEntry/default/reviews");
  model::Service kube;
  kube.origin = "Service/default/reviews";
  CHECK_FALSE(ServiceEntryOf(kube).has_value());
}

}  // namespace
}  // namespace meshd::xds
