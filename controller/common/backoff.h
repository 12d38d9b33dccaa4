// Backoff: the one retry-delay policy of meshd — exponential (initial, multiplied after each
// failure up to max), optionally jittered (delay + U[0,1) * jitter * delay), optionally reset to
// `initial` after `reset_after` without failures (client-go's reflector). Used by the informers
// and discovery (controller/kube), the CA start (controller/bootstrap) and meshd-agent (ca/agent).
//
// Time and randomness are injected: Next() reads the given Clock, jitter draws from the given
// function, so tests run with a FakeClock and a constant and never sleep.
//
// Not thread-safe: one Backoff per retry loop, owned by that loop (or guarded by its owner's
// lock). DefaultRandom() returns a thread-safe function.
#pragma once

#include <functional>

#include "absl/time/time.h"
#include "controller/common/clock.h"

namespace meshd {

class Backoff {
 public:
  struct Options {
    absl::Duration initial = absl::Seconds(1);
    absl::Duration max = absl::Seconds(30);
    double multiplier = 2.0;
    // The delay is d + U[0,1) * jitter * d; 0 means no jitter.
    double jitter = 0.0;
    // A failure more than this after the previous one starts over at `initial`.
    absl::Duration reset_after = absl::InfiniteDuration();
  };

  // `clock` must outlive the Backoff. `rand01` returns values in [0, 1); null means
  // DefaultRandom() (only drawn from when jitter > 0).
  Backoff(Options options, const Clock* clock, std::function<double()> rand01 = nullptr);

  // The delay before the next attempt, after a failure now.
  absl::Duration Next();
  // After a success: the next failure waits `initial` again.
  void Reset();

  const Options& options() const { return options_; }

  // A thread-safe uniform [0, 1) generator seeded from std::random_device.
  static std::function<double()> DefaultRandom();

 private:
  const Options options_;
  const Clock* const clock_;
  std::function<double()> rand01_;
  absl::Duration current_ = absl::ZeroDuration();
  absl::Time last_failure_ = absl::InfinitePast();
};

}  // namespace meshd
