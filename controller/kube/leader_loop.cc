#include "controller/kube/leader_loop.h"

#include <utility>

namespace meshd::kube {

LeaderLoop::LeaderLoop(Round round) : round_(std::move(round)) {}

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
  absl::MutexLock lock(&mu_);
  return !mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
}

void LeaderLoop::Run(absl::Duration wait) {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || kicked_; };
      mu_.AwaitWithTimeout(absl::Condition(&ready), wait);
      if (stopping_) return;
      kicked_ = false;
      rounds_++;
    }
    wait = round_();
  }
}

}  // namespace meshd::kube
