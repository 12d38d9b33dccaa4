#include "controller/common/backoff.h"

#include <catch2/catch.hpp>

#include "controller/common/clock.h"

namespace meshd {
namespace {

Backoff::Options Exponential(absl::Duration initial, absl::Duration max, double multiplier) {
  Backoff::Options o;
  o.initial = initial;
  o.max = max;
  o.multiplier = multiplier;
  return o;
}

TEST_CASE("backoff doubles from initial up to max", "[backoff]") {
  FakeClock clock;
  Backoff b(Exponential(absl::Milliseconds(500), absl::Seconds(10), 2.0), &clock);
  CHECK(b.Next() == absl::Milliseconds(500));
  CHECK(b.Next() == absl::Seconds(1));
  CHECK(b.Next() == absl::Seconds(2));
  CHECK(b.Next() == absl::Seconds(4));
  CHECK(b.Next() == absl::Seconds(8));
  CHECK(b.Next() == absl::Seconds(10));
  CHECK(b.Next() == absl::Seconds(10));
}

TEST_CASE("backoff honours the multiplier", "[backoff]") {
  FakeClock clock;
  Backoff b(Exponential(absl::Seconds(1), absl::Minutes(1), 3.0), &clock);
  CHECK(b.Next() == absl::Seconds(1));
  CHECK(b.Next() == absl::Seconds(3));
  CHECK(b.Next() == absl::Seconds(9));
}

TEST_CASE("backoff jitter adds U[0,1) * jitter * delay from the injected randomness", "[backoff]") {
  FakeClock clock;
  double unit = 0.5;
  Backoff::Options o;
  o.initial = absl::Milliseconds(800);
  o.max = absl::Seconds(30);
  o.jitter = 1.0;
  Backoff b(o, &clock, [&unit] { return unit; });
  CHECK(b.Next() == absl::Milliseconds(1200));  // 800 + 0.5 * 800
  unit = 0.0;
  CHECK(b.Next() == absl::Milliseconds(1600));
  unit = 0.25;
  CHECK(b.Next() == absl::Milliseconds(3200 + 800));
}

TEST_CASE("backoff without jitter never draws randomness", "[backoff]") {
  FakeClock clock;
  int draws = 0;
  Backoff b(Exponential(absl::Seconds(1), absl::Seconds(4), 2.0), &clock, [&draws] {
    ++draws;
    return 0.9;
  });
  CHECK(b.Next() == absl::Seconds(1));
  CHECK(b.Next() == absl::Seconds(2));
  CHECK(draws == 0);
}

TEST_CASE("backoff starts over after reset_after without failures (fake clock)", "[backoff]") {
  FakeClock clock;
  Backoff::Options o;
  o.initial = absl::Seconds(1);
  o.max = absl::Seconds(30);
  o.reset_after = absl::Minutes(2);
  Backoff b(o, &clock);
  CHECK(b.Next() == absl::Seconds(1));
  clock.Advance(absl::Minutes(1));
  CHECK(b.Next() == absl::Seconds(2));  // within reset_after: keeps growing
  clock.Advance(absl::Minutes(2) + absl::Seconds(1));
  CHECK(b.Next() == absl::Seconds(1));  // healthy for longer than reset_after
}

TEST_CASE("backoff Reset after a success starts at initial again", "[backoff]") {
  FakeClock clock;
  Backoff b(Exponential(absl::Seconds(1), absl::Seconds(30), 2.0), &clock);
  b.Next();
  b.Next();
  CHECK(b.Next() == absl::Seconds(4));
  b.Reset();
  CHECK(b.Next() == absl::Seconds(1));
}

TEST_CASE("backoff DefaultRandom stays in [0, 1)", "[backoff]") {
  auto r = Backoff::DefaultRandom();
  for (int i = 0; i < 1000; ++i) {
    double v = r();
    REQUIRE(v >= 0.0);
    REQUIRE(v < 1.0);
  }
}

}  // namespace
}  // namespace meshd
