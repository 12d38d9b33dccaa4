// PushHistory: the ring of pushes, their replies and the latency quantiles.
#include "xds/server/push_history.h"

#include <catch2/catch.hpp>

namespace meshd::xds {
namespace {

model::PushRequest ConfigChange() {
  model::PushRequest r;
  r.full = true;
  r.configs_updated.insert({model::Kind::kVirtualService, "default", "reviews"});
  r.merged = 2;
  r.start = absl::FromUnixSeconds(100);
  return r;
}

TEST_CASE("push history: trigger, targets, replies and latency", "[push_history]") {
  PushHistory h(10);
  absl::Time t0 = absl::FromUnixSeconds(101);
  uint64_t id = h.Begin(7, ConfigChange(), false, 1, t0);
  h.CountSent(id, "rds");
  h.CountSent(id, "rds");
  std::vector<PushRecord> r = h.Recent();
  REQUIRE(r.size() == 1);
  CHECK(r[0].pending());  // targets not known yet
  h.SetTargets(id, 4);
  h.Resolve(id, id, PushHistory::Outcome::kAcked, t0 + absl::Milliseconds(10));
  h.Resolve(id, id, PushHistory::Outcome::kAcked, t0 + absl::Milliseconds(20));
  h.Resolve(id, id, PushHistory::Outcome::kNacked, t0 + absl::Milliseconds(30));
  r = h.Recent();
  CHECK(r[0].pending());
  CHECK(r[0].version == 7);
  CHECK(r[0].trigger.full);
  CHECK(r[0].trigger.configs == std::vector<std::string>{"VirtualService/default/reviews"});
  CHECK(r[0].trigger.kinds.at("VirtualService") == 1);
  CHECK(r[0].trigger.merged == 2);
  CHECK(r[0].responses.at("rds") == 2);
  CHECK(r[0].acked == 2);
  CHECK(r[0].nacked == 1);
  CHECK(r[0].max == absl::Milliseconds(20));
  // Quantiles come from log buckets (±15 %), never above the max.
  CHECK(r[0].p50 >= absl::Milliseconds(10));
  CHECK(r[0].p50 <= absl::Milliseconds(12));
  CHECK(r[0].p99 == absl::Milliseconds(20));
  h.Resolve(id, id, PushHistory::Outcome::kDisconnected, t0 + absl::Seconds(1));
  CHECK_FALSE(h.Recent()[0].pending());
}

TEST_CASE("push history: a stream's wait resolves every push it spans", "[push_history]") {
  PushHistory h(10);
  absl::Time t0 = absl::FromUnixSeconds(200);
  uint64_t a = h.Begin(1, ConfigChange(), true, 0, t0);
  uint64_t b = h.Begin(2, ConfigChange(), true, 0, t0 + absl::Milliseconds(5));
  h.SetTargets(a, 1);
  h.SetTargets(b, 1);
  PushWait w;
  w.Mark(a);
  w.Mark(b);
  w.sent = true;
  h.Resolve(&w, t0 + absl::Milliseconds(25));
  CHECK_FALSE(w.owed());
  auto r = h.Recent();
  REQUIRE(r.size() == 2);
  CHECK(r[0].id == b);  // newest first
  CHECK(r[0].max == absl::Milliseconds(20));
  CHECK(r[1].max == absl::Milliseconds(25));
  CHECK_FALSE(r[0].pending());
  // Nothing sent: the proxy is "unchanged", no latency.
  uint64_t c = h.Begin(3, ConfigChange(), true, 0, t0);
  h.SetTargets(c, 1);
  PushWait quiet;
  quiet.Mark(c);
  h.Resolve(&quiet, t0 + absl::Seconds(1));
  CHECK(h.Recent(1)[0].unchanged == 1);
  CHECK(h.Recent(1)[0].acked == 0);
}

TEST_CASE("push history: bounded ring, old ids ignored", "[push_history]") {
  PushHistory h(3);
  absl::Time t0 = absl::FromUnixSeconds(300);
  uint64_t first = h.Begin(1, ConfigChange(), true, 0, t0);
  for (int i = 2; i <= 5; ++i) h.Begin(i, ConfigChange(), true, 0, t0);
  auto r = h.Recent();
  REQUIRE(r.size() == 3);
  CHECK(r[0].version == 5);
  CHECK(r[2].version == 3);
  h.Resolve(first, first, PushHistory::Outcome::kAcked, t0);  // evicted: no effect
  h.SetTargets(first, 9);
  for (const auto& p : h.Recent()) CHECK(p.acked == 0);
  CHECK(h.Recent(2).size() == 2);
}

TEST_CASE("push history: endpoint-only trigger lists hosts, capped", "[push_history]") {
  model::PushRequest r;
  for (int i = 0; i < 12; ++i) r.endpoint_hosts.insert("h" + std::to_string(i) + ".svc");
  PushTrigger t = PushTrigger::From(r);
  CHECK_FALSE(t.full);
  CHECK(t.endpoint_hosts.size() == PushTrigger::kMaxListed);
  CHECK(t.endpoint_hosts_total == 12);
  CHECK(t.first_change == absl::InfinitePast());
}

}  // namespace
}  // namespace meshd::xds
