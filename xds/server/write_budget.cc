#include "xds/server/write_budget.h"

#include <malloc.h>

#include <algorithm>

namespace meshd::xds {

void WriteBudget::Add(int64_t delta) {
  absl::MutexLock lock(&mu_);
  used_ += delta;
  if (used_ < 0) used_ = 0;  // never expected; keeps a bookkeeping slip from wedging pushes
  peak_ = std::max(peak_, used_);
  if (delta < 0) released_since_trim_ -= delta;
}

bool WriteBudget::WaitForRoom() {
  if (limit_ <= 0) return true;
  absl::MutexLock lock(&mu_);
  if (used_ < limit_) return true;
  ++waits_;
  auto room = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return used_ < limit_; };
  if (mu_.AwaitWithTimeout(absl::Condition(&room), max_wait_)) return true;
  ++timeouts_;
  return false;
}

int64_t WriteBudget::used() const {
  absl::MutexLock lock(&mu_);
  return used_;
}

int64_t WriteBudget::peak() const {
  absl::MutexLock lock(&mu_);
  return peak_;
}

uint64_t WriteBudget::waits() const {
  absl::MutexLock lock(&mu_);
  return waits_;
}

uint64_t WriteBudget::timeouts() const {
  absl::MutexLock lock(&mu_);
  return timeouts_;
}

bool WriteBudget::MaybeTrim() {
  {
    absl::MutexLock lock(&mu_);
    // Worth a trim only after a burst (64 MiB released) that has mostly drained.
    constexpr int64_t kBurst = int64_t{64} << 20;
    if (released_since_trim_ < kBurst || used_ > released_since_trim_ / 4) return false;
    released_since_trim_ = 0;
  }
  malloc_trim(0);
  return true;
}

}  // namespace meshd::xds
