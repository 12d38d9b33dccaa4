#include "controller/common/retry.h"

#include <catch2/catch.hpp>

#include "absl/time/clock.h"

namespace meshd {
namespace {

Backoff::Options Fixed(absl::Duration d) {
  Backoff::Options o;
  o.initial = d;
  o.max = d;
  return o;
}

TEST_CASE("retry returns the first success", "[retry]") {
  FakeClock clock;
  Backoff backoff(Fixed(absl::Milliseconds(1)), &clock);
  absl::Notification stop;
  int calls = 0;
  std::function<absl::StatusOr<int>()> attempt = [&]() -> absl::StatusOr<int> {
    if (++calls < 3) return absl::UnavailableError("api server down");
    return 42;
  };
  absl::StatusOr<int> r = RetryWhileUnavailable(attempt, &backoff, &clock, absl::Minutes(5), &stop);
  REQUIRE(r.ok());
  CHECK(*r == 42);
  CHECK(calls == 3);
}

TEST_CASE("retry gives up at once on an error other than UNAVAILABLE", "[retry]") {
  FakeClock clock;
  Backoff backoff(Fixed(absl::Hours(1)), &clock);
  absl::Notification stop;
  int calls = 0;
  std::function<absl::StatusOr<int>()> attempt = [&]() -> absl::StatusOr<int> {
    ++calls;
    return absl::InvalidArgumentError("bad plug-in CA");
  };
  absl::StatusOr<int> r = RetryWhileUnavailable(attempt, &backoff, &clock, absl::Minutes(5), &stop);
  CHECK(absl::IsInvalidArgument(r.status()));
  CHECK(calls == 1);
}

TEST_CASE("retry stops waiting when the next wait would pass the timeout (fake clock)", "[retry]") {
  FakeClock clock;
  Backoff backoff(Fixed(absl::Milliseconds(1)), &clock);
  absl::Notification stop;
  int calls = 0;
  std::function<absl::StatusOr<int>()> attempt = [&]() -> absl::StatusOr<int> {
    ++calls;
    clock.Advance(absl::Minutes(2));  // each attempt takes two minutes
    return absl::UnavailableError("api server down");
  };
  absl::StatusOr<int> r = RetryWhileUnavailable(attempt, &backoff, &clock, absl::Minutes(5), &stop);
  CHECK(absl::IsUnavailable(r.status()));
  CHECK(calls == 3);  // at 2 and 4 minutes it waits; at 6 it gives up
}

TEST_CASE("a stop requested during the wait ends it at once with CANCELLED", "[retry]") {
  FakeClock clock;
  // A wait of an hour: only the stop can end it within the test's lifetime.
  Backoff backoff(Fixed(absl::Hours(1)), &clock);
  absl::Notification stop;
  int calls = 0;
  std::function<absl::StatusOr<int>()> attempt = [&]() -> absl::StatusOr<int> {
    ++calls;
    return absl::UnavailableError("api server down");
  };
  // SIGTERM arrives as the wait begins (main's signal thread notifies `stop`).
  auto on_retry = [&](absl::Duration delay, const absl::Status&) {
    CHECK(delay == absl::Hours(1));
    stop.Notify();
  };
  absl::Time start = absl::Now();
  absl::StatusOr<int> r =
      RetryWhileUnavailable(attempt, &backoff, &clock, absl::Hours(5), &stop, on_retry);
  CHECK(absl::Now() - start < absl::Seconds(2));
  CHECK(absl::IsCancelled(r.status()));
  CHECK(r.status().message() == "stopped while retrying: api server down");
  CHECK(calls == 1);
}

TEST_CASE("a stop requested before the first wait makes no further attempt", "[retry]") {
  FakeClock clock;
  Backoff backoff(Fixed(absl::Hours(1)), &clock);
  absl::Notification stop;
  stop.Notify();
  int calls = 0;
  std::function<absl::StatusOr<int>()> attempt = [&]() -> absl::StatusOr<int> {
    ++calls;
    return absl::UnavailableError("api server down");
  };
  absl::StatusOr<int> r = RetryWhileUnavailable(attempt, &backoff, &clock, absl::Hours(5), &stop);
  CHECK(absl::IsCancelled(r.status()));
  CHECK(calls == 1);
}

}  // namespace
}  // namespace meshd
