// What keeps meshd's memory flat under a storm of Envoy sidecars: the write budget that makes
// push workers wait while queued responses exceed it (bounded, so a stuck client cannot wedge
// pushes), and interned subscription name sets shared by streams with the same content.
#include "xds/server/write_budget.h"

#include <catch2/catch.hpp>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "xds/server/name_set.h"

namespace meshd::xds {
namespace {

TEST_CASE("write budget: under the limit a push never waits", "[write_budget]") {
  WriteBudget budget(1000, absl::Seconds(10));
  budget.Add(999);
  CHECK(budget.WaitForRoom());
  CHECK(budget.waits() == 0);
  CHECK(budget.used() == 999);
}

TEST_CASE("write budget: a push waits until written bytes are released", "[write_budget]") {
  WriteBudget budget(1000, absl::Seconds(30));
  budget.Add(1500);
  absl::Notification waited;
  std::thread pusher([&] {
    CHECK(budget.WaitForRoom());
    waited.Notify();
  });
  // The pusher is blocked: no room yet (it cannot finish while 1500 bytes are queued).
  CHECK_FALSE(waited.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  budget.Add(-600);  // a write completed: 900 left, under the limit
  CHECK(waited.WaitForNotificationWithTimeout(absl::Seconds(10)));
  pusher.join();
  CHECK(budget.waits() == 1);
  CHECK(budget.timeouts() == 0);
  CHECK(budget.peak() == 1500);
}

TEST_CASE("write budget: the wait is bounded, so a stuck client cannot wedge pushes",
          "[write_budget]") {
  WriteBudget budget(100, absl::Milliseconds(20));
  budget.Add(500);  // never released, as by a client that stopped reading
  CHECK_FALSE(budget.WaitForRoom());
  CHECK(budget.timeouts() == 1);
}

TEST_CASE("write budget: no limit never waits; releases never go below zero", "[write_budget]") {
  WriteBudget budget(0, absl::Seconds(10));
  budget.Add(int64_t{1} << 40);
  CHECK(budget.WaitForRoom());
  budget.Add(-(int64_t{1} << 41));
  CHECK(budget.used() == 0);
}

TEST_CASE("write budget: the heap is trimmed only after a drained burst", "[write_budget]") {
  constexpr int64_t kMiB = int64_t{1} << 20;
  WriteBudget budget(0, absl::Seconds(1));
  CHECK_FALSE(budget.MaybeTrim());  // nothing released
  budget.Add(300 * kMiB);
  budget.Add(-50 * kMiB);
  CHECK_FALSE(budget.MaybeTrim());  // released less than a burst (64 MiB)
  budget.Add(-30 * kMiB);
  CHECK_FALSE(budget.MaybeTrim());  // 80 MiB released, but 220 MiB still queued
  budget.Add(-200 * kMiB);
  CHECK(budget.MaybeTrim());        // 280 MiB released, 20 queued: drained
  CHECK_FALSE(budget.MaybeTrim());  // counted from the last trim
}

TEST_CASE("name sets: equal subscriptions share one set; it lives while a stream holds it",
          "[write_budget]") {
  const size_t before = InternedNameSets();
  NameSet a = InternNames({"outbound|80||a.ns.svc.cluster.local", "outbound|80||b"});
  NameSet b = InternNames({"outbound|80||b", "outbound|80||a.ns.svc.cluster.local"});
  NameSet c = InternNames({"outbound|80||c"});
  CHECK(a.get() == b.get());
  CHECK(a.get() != c.get());
  CHECK(a->size() == 2);
  CHECK(InternedNameSets() == before + 2);
  CHECK(InternNames({}).get() == EmptyNames().get());
  a.reset();
  b.reset();
  CHECK(InternedNameSets() == before + 1);
  NameSet again = InternNames({"outbound|80||b", "outbound|80||a.ns.svc.cluster.local"});
  CHECK(again->count("outbound|80||b") == 1);
}

}  // namespace
}  // namespace meshd::xds
