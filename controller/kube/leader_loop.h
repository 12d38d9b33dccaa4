// LeaderLoop: the worker thread of a leader-only controller (StatusWriter, WebhookPatcher,
// RootCertPublisher). Start() (on becoming leader) starts a thread that runs `round` after
// `first_wait`, then again when the wait the round returned has passed, or at once when
// Kick()ed; absl::InfiniteDuration() waits for a Kick. Stop() (leadership lost) wakes the
// wait and returns once the thread has exited: no round starts after it, and a long round
// ends early by checking stopping() between its steps (or by waiting with
// WaitUnlessStopped). Start() after Stop() starts a new term. Thread-safe; Start and Stop
// may be called from any thread but the loop's own.
#pragma once

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace meshd::kube {

class LeaderLoop {
 public:
  // One round of work; returns how long to wait before the next.
  using Round = std::function<absl::Duration()>;

  explicit LeaderLoop(Round round);
  ~LeaderLoop();  // Stop()
  LeaderLoop(const LeaderLoop&) = delete;
  LeaderLoop& operator=(const LeaderLoop&) = delete;

  // No-op while running.
  void Start(absl::Duration first_wait = absl::ZeroDuration());
  // No-op when not running.
  void Stop();
  // Runs a round as soon as the one in progress (if any) ends. Ignored when not running.
  void Kick();

  bool running() const;
  // True from Stop() until the next Start(): rounds stop early.
  bool stopping() const;
  // Waits `d` unless stopping; false when stopping (at once, or when Stop() wakes it).
  bool WaitUnlessStopped(absl::Duration d);
  // Rounds started since construction (for tests and logs).
  uint64_t rounds() const;

 private:
  void Run(absl::Duration first_wait);

  const Round round_;
  absl::Mutex start_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // serialises Start/Stop
  std::thread thread_ ABSL_GUARDED_BY(start_mu_);
  mutable absl::Mutex mu_;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool kicked_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t rounds_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace meshd::kube
