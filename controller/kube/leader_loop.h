// LeaderLoop: the worker thread of a leader-only controller (StatusWriter, WebhookPatcher,
// RootCertPublisher). Start() (on becoming leader) starts a thread that runs `round` after
// `first_wait`, then again once the wait the round returned has passed since it started, or
// at once when Kick()ed; absl::InfiniteDuration() waits for a Kick. Stop() (leadership lost) wakes
// the wait and returns once the thread has exited: no round starts after it, and a long round ends
// early by checking stopping() between its steps (or by waiting with WaitUnlessStopped). Waits are
// measured on the injected Clock: after moving a FakeClock, a test calls Wake() and the loop looks
// at the time again. Start() after Stop() starts a new term. Thread-safe; Start and Stop may be
// called from any thread but the loop's own.
#pragma once

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/common/clock.h"

namespace meshd::kube {

class LeaderLoop {
 public:
  // One round of work; returns how long to wait before the next.
  using Round = std::function<absl::Duration()>;

  explicit LeaderLoop(Round round, const Clock* clock = RealClock::Get());
  ~LeaderLoop();  // Stop()
  LeaderLoop(const LeaderLoop&) = delete;
  LeaderLoop& operator=(const LeaderLoop&) = delete;

  // No-op while running.
  void Start(absl::Duration first_wait = absl::ZeroDuration());
  // No-op when not running.
  void Stop();
  // Runs a round as soon as the one in progress (if any) ends. Ignored when not running.
  void Kick();
  // The clock moved (a FakeClock in tests): a wait that is over now ends.
  void Wake();

  bool running() const;
  // True from Stop() until the next Start(): rounds stop early.
  bool stopping() const;
  // Waits `d` (until `deadline` on the clock) unless stopping; false when stopping (at once,
  // or when Stop() wakes it). For a round that backs off inside.
  bool WaitUnlessStopped(absl::Duration d);
  bool WaitUntilUnlessStopped(absl::Time deadline);
  // Rounds started since construction (for tests and logs).
  uint64_t rounds() const;

 private:
  void Run(absl::Duration first_wait);
  // Waits until `deadline` on the clock, or `also` holds, or Stop(); true unless stopping.
  bool WaitLocked(absl::Time deadline, const bool* also) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Round round_;
  const Clock* const clock_;
  absl::Mutex start_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // serialises Start/Stop
  std::thread thread_ ABSL_GUARDED_BY(start_mu_);
  mutable absl::Mutex mu_;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool kicked_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t rounds_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace meshd::kube
