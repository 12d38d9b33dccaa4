// WriteBudget: the bytes of xDS responses queued or in flight on all streams, against a
// limit. A storm of first pushes (thousands of sidecars connecting at once, each owed a few
// MiB) would otherwise copy every proxy's whole config into write queues at the same time;
// push workers wait for room before generating, so queued bytes stay near the limit while the
// transport drains them. The wait is bounded: a client that stops reading pins its own bytes,
// and must never wedge every other push, so after `max_wait` a push proceeds anyway (counted).
//
// Also returns freed heap to the OS (glibc malloc_trim) once a burst of writes has drained:
// the storm's buffers are many small blocks that glibc would otherwise keep.
// Thread-safe.
#pragma once

#include <cstdint>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace meshd::xds {

class WriteBudget {
 public:
  // limit_bytes <= 0: no limit (never waits).
  WriteBudget(int64_t limit_bytes, absl::Duration max_wait)
      : limit_(limit_bytes), max_wait_(max_wait) {}

  // Adds `delta` (negative to release) to the bytes in use.
  void Add(int64_t delta);

  // Waits until the bytes in use are under the limit, at most max_wait. False on timeout.
  bool WaitForRoom();

  int64_t used() const;
  int64_t peak() const;
  uint64_t waits() const;     // WaitForRoom calls that had to wait
  uint64_t timeouts() const;  // ... and gave up after max_wait

  // Trims the heap if bytes were released since the last trim and little is in use now.
  // Called periodically; returns whether it trimmed.
  bool MaybeTrim();

 private:
  const int64_t limit_;
  const absl::Duration max_wait_;
  mutable absl::Mutex mu_;
  int64_t used_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t peak_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t released_since_trim_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t waits_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t timeouts_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace meshd::xds
