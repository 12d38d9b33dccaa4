#include "controller/common/backoff.h"

#include <algorithm>
#include <memory>
#include <random>

#include "absl/synchronization/mutex.h"

namespace meshd {

Backoff::Backoff(Options options, const Clock* clock, std::function<double()> rand01)
    : options_(options), clock_(clock), rand01_(rand01 ? std::move(rand01) : DefaultRandom()) {}

absl::Duration Backoff::Next() {
  absl::Time now = clock_->Now();
  if (current_ == absl::ZeroDuration() || now - last_failure_ > options_.reset_after) {
    current_ = std::min(options_.initial, options_.max);
  } else {
    current_ = std::min(current_ * options_.multiplier, options_.max);
  }
  last_failure_ = now;
  if (options_.jitter <= 0) return current_;
  double unit = std::clamp(rand01_(), 0.0, 1.0);
  return current_ + current_ * (unit * options_.jitter);
}

void Backoff::Reset() {
  current_ = absl::ZeroDuration();
  last_failure_ = absl::InfinitePast();
}

std::function<double()> Backoff::DefaultRandom() {
  auto gen = std::make_shared<std::mt19937_64>(std::random_device{}());
  auto mu = std::make_shared<absl::Mutex>();
  return [gen, mu] {
    absl::MutexLock lock(mu.get());
    return std::uniform_real_distribution<double>(0, 1)(*gen);
  };
}

}  // namespace meshd
