// LeaderLoop: rounds at start, on Kick and after the wait a round returns; Stop() ends a wait
// and a round's own wait at once, and no round starts after it. Tests wait on the loop's
// progress (a condition), never for a fixed time.
#include "controller/kube/leader_loop.h"

#include <catch2/catch.hpp>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "controller/common/clock.h"

namespace meshd::kube {
namespace {

// Counts rounds; the test waits (bounded) until a count is reached.
struct Rounds {
  absl::Mutex mu;
  int n ABSL_GUARDED_BY(mu) = 0;
  absl::Duration next ABSL_GUARDED_BY(mu) = absl::InfiniteDuration();

  absl::Duration Round() {
    absl::MutexLock lock(&mu);
    n++;
    return next;
  }
  bool WaitFor(int count, absl::Duration limit = absl::Seconds(10)) {
    absl::MutexLock lock(&mu);
    auto reached = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return n >= count; };
    return mu.AwaitWithTimeout(absl::Condition(&reached), limit);
  }
  int count() {
    absl::MutexLock lock(&mu);
    return n;
  }
};

TEST_CASE("LeaderLoop: a round at Start, one per Kick, none after Stop", "[leader_loop]") {
  Rounds r;
  LeaderLoop loop([&r] { return r.Round(); });
  CHECK_FALSE(loop.running());
  loop.Kick();  // not running: ignored
  loop.Start();
  CHECK(loop.running());
  REQUIRE(r.WaitFor(1));
  loop.Kick();
  REQUIRE(r.WaitFor(2));
  loop.Kick();
  REQUIRE(r.WaitFor(3));
  loop.Stop();
  CHECK_FALSE(loop.running());
  CHECK(loop.stopping());
  const int after_stop = r.count();
  CHECK(after_stop == 3);
  loop.Kick();
  CHECK(r.count() == after_stop);
  CHECK(loop.rounds() == 3);
}

TEST_CASE("LeaderLoop: the next round follows the wait the round returned", "[leader_loop]") {
  Rounds r;
  {
    absl::MutexLock lock(&r.mu);
    r.next = absl::Milliseconds(1);
  }
  LeaderLoop loop([&r] { return r.Round(); });
  loop.Start();
  CHECK(r.WaitFor(5));  // no Kick: the loop comes back by itself
}

TEST_CASE("LeaderLoop: waits are measured on the injected clock", "[leader_loop]") {
  FakeClock clock;
  Rounds r;
  {
    absl::MutexLock lock(&r.mu);
    r.next = absl::Seconds(10);  // of fake time: the test would time out waiting for real
  }
  LeaderLoop loop([&r] { return r.Round(); }, &clock);
  loop.Start();
  REQUIRE(r.WaitFor(1));
  clock.Advance(absl::Seconds(4));
  loop.Wake();
  clock.Advance(absl::Seconds(6));
  loop.Wake();
  CHECK(r.WaitFor(2, absl::Seconds(5)));

  // A round's own wait too.
  absl::Mutex mu;
  bool waiting = false;
  bool waited = false;
  LeaderLoop* self = nullptr;
  LeaderLoop retry(
      [&] {
        const absl::Time deadline = clock.Now() + absl::Minutes(1);  // before the test moves it
        {
          absl::MutexLock lock(&mu);
          waiting = true;
        }
        bool w = self->WaitUntilUnlessStopped(deadline);
        absl::MutexLock lock(&mu);
        waited = w;
        return absl::InfiniteDuration();
      },
      &clock);
  self = &retry;
  retry.Start();
  {
    absl::MutexLock lock(&mu);
    REQUIRE(mu.AwaitWithTimeout(absl::Condition(&waiting), absl::Seconds(10)));
  }
  clock.Advance(absl::Minutes(1));
  retry.Wake();
  {
    absl::MutexLock lock(&mu);
    CHECK(mu.AwaitWithTimeout(absl::Condition(&waited), absl::Seconds(5)));
  }
}

TEST_CASE("LeaderLoop: first_wait delays the first round; a Kick cuts it short", "[leader_loop]") {
  Rounds r;
  LeaderLoop loop([&r] { return r.Round(); });
  loop.Start(absl::Hours(1));
  CHECK_FALSE(r.WaitFor(1, absl::Milliseconds(50)));
  loop.Kick();
  CHECK(r.WaitFor(1));
}

TEST_CASE("LeaderLoop: Stop ends a long wait and a round's own wait at once; Start again",
          "[leader_loop]") {
  absl::Mutex mu;
  bool in_round = false;
  bool waited = true;
  LeaderLoop* self = nullptr;
  LeaderLoop loop([&] {
    {
      absl::MutexLock lock(&mu);
      in_round = true;
    }
    bool w = self->WaitUnlessStopped(absl::Hours(1));
    absl::MutexLock lock(&mu);
    waited = w;
    return absl::InfiniteDuration();
  });
  self = &loop;
  loop.Start();
  {
    absl::MutexLock lock(&mu);
    REQUIRE(mu.AwaitWithTimeout(absl::Condition(&in_round), absl::Seconds(10)));
  }
  absl::Time t0 = absl::Now();
  loop.Stop();  // the round is inside its hour-long wait
  CHECK(absl::Now() - t0 < absl::Seconds(5));
  {
    absl::MutexLock lock(&mu);
    CHECK_FALSE(waited);
    in_round = false;
  }
  CHECK_FALSE(loop.WaitUnlessStopped(absl::Hours(1)));  // stopped: returns at once

  // A new term: not stopping, and rounds run again.
  loop.Start();
  CHECK_FALSE(loop.stopping());
  {
    absl::MutexLock lock(&mu);
    REQUIRE(mu.AwaitWithTimeout(absl::Condition(&in_round), absl::Seconds(10)));
  }
  loop.Stop();
  CHECK(loop.rounds() == 2);
}

}  // namespace
}  // namespace meshd::kube
