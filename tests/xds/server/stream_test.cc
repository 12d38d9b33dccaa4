#include "xds/server/stream.h"

#include <catch2/catch.hpp>

namespace meshd::xds {
namespace {

ResourcePtr Route(const std::string& name, Origins origins) {
  auto r = std::make_shared<Resource>();
  r->name = name;
  r->origins = std::move(origins);
  return r;
}

TEST_CASE("A NACK keeps the NACKed resources' names and origins until the next ACK",
          "[stream][origins]") {
  OriginSet reviews;
  reviews.Add(model::ConfigKey{model::Kind::kVirtualService, "default", "reviews"});
  Origins vs = reviews.Build();
  TypeProgress p;
  RecordSent(kRouteType, "n1", "1", 10, &p);
  p.in_flight = {Route("9080", vs), Route("80", OriginSet().Build()), Route("x", nullptr)};
  RecordReply(RequestKind::kNack, "n1", "bad route", "sidecar~1~a.default~x", kRouteType, &p);
  CHECK(p.in_flight.empty());
  CHECK(p.nack_names == std::vector<std::string>{"9080", "80", "x"});
  REQUIRE(p.nack_origins.size() == 3);
  CHECK(p.nack_origins[0] == vs);  // shared, not copied
  CHECK(p.nack_origins[1]->empty());
  CHECK(p.nack_origins[2] == nullptr);
  TypeStatus st = StatusOf(kRouteType, p, 3, false);
  CHECK(st.nack_origins == p.nack_origins);

  RecordSent(kRouteType, "n2", "2", 10, &p);
  RecordReply(RequestKind::kAck, "n2", "", "sidecar~1~a.default~x", kRouteType, &p);
  CHECK(p.nack_names.empty());
  CHECK(p.nack_origins.empty());
}

}  // namespace
}  // namespace meshd::xds
