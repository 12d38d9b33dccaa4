#include "controller/debouncer.h"

#include <catch2/catch.hpp>

namespace meshd {
namespace {

model::PushRequest Req(const std::string& name, bool full = true) {
  model::PushRequest r;
  r.full = full;
  r.configs_updated.insert({model::Kind::kVirtualService, "default", name});
  r.merged = 1;
  return r;
}

TEST_CASE("fires after the quiet period and merges", "[debounce]") {
  absl::Time t0 = absl::UnixEpoch();
  Debouncer d(absl::Milliseconds(100), absl::Seconds(10));
  CHECK_FALSE(d.Deadline().has_value());
  d.Add(Req("a"), t0);
  d.Add(Req("b", false), t0 + absl::Milliseconds(50));
  CHECK(*d.Deadline() == t0 + absl::Milliseconds(150));
  CHECK_FALSE(d.Poll(t0 + absl::Milliseconds(149)).has_value());
  auto fired = d.Poll(t0 + absl::Milliseconds(150));
  REQUIRE(fired.has_value());
  CHECK(fired->full);
  CHECK(fired->configs_updated.size() == 2);
  CHECK(fired->merged == 2);
  CHECK_FALSE(d.Poll(t0 + absl::Seconds(1)).has_value());
}

TEST_CASE("a steady stream of changes still fires at the max delay", "[debounce]") {
  absl::Time t0 = absl::UnixEpoch();
  Debouncer d(absl::Milliseconds(100), absl::Seconds(1));
  absl::Time t = t0;
  int fired = 0;
  for (int i = 0; i < 30; ++i, t += absl::Milliseconds(50)) {
    d.Add(Req("x"), t);
    if (d.Poll(t)) fired++;
  }
  CHECK(fired == 1);  // at t0 + 1s, despite no 100 ms of quiet
}

}  // namespace
}  // namespace meshd

namespace meshd {
namespace {

model::PushRequest Endpoints(const std::string& host) {
  model::PushRequest r;
  r.endpoint_hosts.insert(host);
  r.merged = 1;
  return r;
}

TEST_CASE("endpoint-only bursts wait the shorter endpoint quiet period", "[debounce]") {
  absl::Time t0 = absl::UnixEpoch();
  Debouncer d(absl::Milliseconds(100), absl::Seconds(10), absl::Milliseconds(20));
  d.Add(Endpoints("reviews.default.svc.cluster.local"), t0);
  d.Add(Endpoints("ratings.default.svc.cluster.local"), t0 + absl::Milliseconds(10));
  CHECK(*d.Deadline() == t0 + absl::Milliseconds(30));
  auto fired = d.Poll(t0 + absl::Milliseconds(30));
  REQUIRE(fired.has_value());
  CHECK_FALSE(fired->full);
  CHECK(fired->endpoint_hosts.size() == 2);
}

TEST_CASE("a config change merged into an endpoint burst brings back the full quiet period",
          "[debounce]") {
  absl::Time t0 = absl::UnixEpoch();
  Debouncer d(absl::Milliseconds(100), absl::Seconds(10), absl::Milliseconds(20));
  d.Add(Endpoints("reviews.default.svc.cluster.local"), t0);
  d.Add(Req("a"), t0 + absl::Milliseconds(5));
  CHECK(*d.Deadline() == t0 + absl::Milliseconds(105));
  // A service definition change is not endpoint-only either.
  Debouncer s(absl::Milliseconds(100), absl::Seconds(10), absl::Milliseconds(20));
  model::PushRequest svc = Endpoints("reviews.default.svc.cluster.local");
  svc.service_hosts.insert("reviews.default.svc.cluster.local");
  s.Add(svc, t0);
  CHECK(*s.Deadline() == t0 + absl::Milliseconds(100));
}

}  // namespace
}  // namespace meshd

namespace meshd {
namespace {

model::PushRequest SeEndpoints(const std::string& name, bool endpoint_only) {
  model::PushRequest r;
  r.full = true;
  model::ConfigKey k{model::Kind::kServiceEntry, "default", name};
  r.configs_updated.insert(k);
  if (endpoint_only) r.endpoint_configs.insert(k);
  r.merged = 1;
  return r;
}

TEST_CASE("a ServiceEntry whose STATIC endpoints alone changed debounces as an endpoint change",
          "[debounce]") {
  absl::Time t0 = absl::UnixEpoch();
  Debouncer d(absl::Milliseconds(100), absl::Seconds(10), absl::Milliseconds(20));
  d.Add(SeEndpoints("db", true), t0);
  CHECK(*d.Deadline() == t0 + absl::Milliseconds(20));
  // The same entry changed for real in the window: the full quiet period again.
  d.Add(SeEndpoints("db", false), t0 + absl::Milliseconds(5));
  CHECK(*d.Deadline() == t0 + absl::Milliseconds(105));
  auto fired = d.Poll(t0 + absl::Milliseconds(105));
  REQUIRE(fired.has_value());
  CHECK(fired->endpoint_configs.empty());
  // Order does not matter.
  Debouncer e(absl::Milliseconds(100), absl::Seconds(10), absl::Milliseconds(20));
  e.Add(SeEndpoints("db", false), t0);
  e.Add(SeEndpoints("db", true), t0 + absl::Milliseconds(5));
  CHECK(*e.Deadline() == t0 + absl::Milliseconds(105));
}

}  // namespace
}  // namespace meshd

namespace meshd {
namespace {

TEST_CASE("with the leading edge, the first change after a quiet spell is released at once",
          "[debounce]") {
  absl::Time t0 = absl::UnixEpoch() + absl::Hours(1);
  Debouncer d(absl::Milliseconds(100), absl::Seconds(10), absl::Milliseconds(20));
  d.set_leading_edge(true);
  d.Add(Req("a"), t0);
  CHECK(*d.Deadline() == t0);
  auto first = d.Poll(t0);
  REQUIRE(first.has_value());
  CHECK(first->configs_updated.size() == 1);

  // The rest of the burst, within 100 ms of that release, waits the quiet period as istiod's.
  d.Add(Req("b"), t0 + absl::Milliseconds(5));
  d.Add(Req("c"), t0 + absl::Milliseconds(30));
  CHECK(*d.Deadline() == t0 + absl::Milliseconds(130));
  CHECK_FALSE(d.Poll(t0 + absl::Milliseconds(129)).has_value());
  auto rest = d.Poll(t0 + absl::Milliseconds(130));
  REQUIRE(rest.has_value());
  CHECK(rest->configs_updated.size() == 2);

  // Quiet again for longer than 100 ms: the next change goes out at once.
  d.Add(Req("d"), t0 + absl::Milliseconds(400));
  CHECK(*d.Deadline() == t0 + absl::Milliseconds(400));
}

TEST_CASE("with the leading edge, endpoint changes use the endpoint quiet period as cooldown",
          "[debounce]") {
  absl::Time t0 = absl::UnixEpoch() + absl::Hours(1);
  Debouncer d(absl::Milliseconds(100), absl::Seconds(10), absl::Milliseconds(20));
  d.set_leading_edge(true);
  d.Add(Endpoints("reviews.default.svc.cluster.local"), t0);
  REQUIRE(d.Poll(t0).has_value());
  // 10 ms after a release: within the endpoint quiet period, so it waits 20 ms.
  d.Add(Endpoints("ratings.default.svc.cluster.local"), t0 + absl::Milliseconds(10));
  CHECK(*d.Deadline() == t0 + absl::Milliseconds(30));
  REQUIRE(d.Poll(t0 + absl::Milliseconds(30)).has_value());
  // 25 ms after that release: past the endpoint quiet period, released at once...
  d.Add(Endpoints("ratings.default.svc.cluster.local"), t0 + absl::Milliseconds(55));
  CHECK(*d.Deadline() == t0 + absl::Milliseconds(55));
  REQUIRE(d.Poll(t0 + absl::Milliseconds(55)).has_value());
  // ...but a config change 25 ms after a release is inside the 100 ms cooldown.
  d.Add(Req("a"), t0 + absl::Milliseconds(80));
  CHECK(*d.Deadline() == t0 + absl::Milliseconds(180));
}

TEST_CASE("with the leading edge, a steady stream still pushes at most once per quiet period",
          "[debounce]") {
  absl::Time t0 = absl::UnixEpoch() + absl::Hours(1);
  Debouncer d(absl::Milliseconds(100), absl::Seconds(1));
  d.set_leading_edge(true);
  absl::Time t = t0;
  int fired = 0;
  for (int i = 0; i < 30; ++i, t += absl::Milliseconds(50)) {
    d.Add(Req("x"), t);
    if (d.Poll(t)) fired++;
  }
  // Once at t0 (leading edge), then at t0 + 50 ms + 1 s (the max delay of the next burst).
  CHECK(fired == 2);
}

}  // namespace
}  // namespace meshd
