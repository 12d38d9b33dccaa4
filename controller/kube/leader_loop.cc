#include "controller/kube/leader_loop.h"

#include <utility>

namespace meshd::kube {

LeaderLoop::LeaderLoop(Round round, const Clock* clock) : round_(std::move(round)), clock_(clock) {}

LeaderLoop::~LeaderLoop() { Stop(); }

void LeaderLoop::Start(absl::Duration first_wait) {
  absl::MutexLock start(&start_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (running_) return;
    running_ = true;
    stopping_ = false;
    kicked_ = false;
  }
  thread_ = std::thread([this, first_wait] { Run(first_wait); });
}

void LeaderLoop::Stop() {
  absl::MutexLock start(&start_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (!running_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  thread_ = std::thread();
  absl::MutexLock lock(&mu_);
  running_ = false;
}

void LeaderLoop::Kick() {
  absl::MutexLock lock(&mu_);
  if (running_) kicked_ = true;
}

void LeaderLoop::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

bool LeaderLoop::running() const {
  absl::MutexLock lock(&mu_);
  return running_;
}

bool LeaderLoop::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

uint64_t LeaderLoop::rounds() const {
  absl::MutexLock lock(&mu_);
  return rounds_;
}

bool LeaderLoop::WaitUnlessStopped(absl::Duration d) {
  return WaitUntilUnlessStopped(clock_->Now() + d);
}

bool LeaderLoop::WaitUntilUnlessStopped(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  return WaitLocked(deadline, nullptr);
}

bool LeaderLoop::WaitLocked(absl::Time deadline, const bool* also) {
  while (!stopping_ && !(also != nullptr && *also)) {
    const absl::Duration left = deadline - clock_->Now();
    if (left <= absl::ZeroDuration()) break;
    woken_ = false;
    // Real time bounds the wait; a FakeClock that moves says so through Wake().
    auto ready = [this, also]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || woken_ || (also != nullptr && *also);
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), left);
  }
  return !stopping_;
}

void LeaderLoop::Run(absl::Duration first_wait) {
  // The next round is due `wait` after the last one started (after Start for the first).
  absl::Time due = clock_->Now() + first_wait;
  while (true) {
    absl::Time started;
    {
      absl::MutexLock lock(&mu_);
      if (!WaitLocked(due, &kicked_)) return;
      kicked_ = false;
      rounds_++;
      started = clock_->Now();
    }
    due = started + round_();  // + InfiniteDuration() is InfiniteFuture(): until a Kick
  }
}

}  // namespace meshd::kube
