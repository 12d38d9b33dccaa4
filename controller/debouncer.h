// Debouncer: merges bursts of changes into one PushRequest. It fires once no change has
// arrived for `quiet` (istiod's PILOT_DEBOUNCE_AFTER, 100 ms) or `max` after the first change
// of the burst (PILOT_DEBOUNCE_MAX, 10 s). A burst of endpoint changes only (no config or
// service definition) waits a shorter `endpoint_quiet` (meshd's MESHD_EDS_DEBOUNCE_AFTER,
// 20 ms): an incremental EDS push is cheap, and endpoint convergence is what traffic feels
// during a rollout. A config change merged into it brings back `quiet`. A pure state machine driven
// by the caller's clock, so it is tested without sleeping. Not thread-safe: the controller's thread
// owns it.
#pragma once

#include <algorithm>
#include <optional>

#include "absl/time/time.h"
#include "controller/model/push_request.h"

namespace meshd {

class Debouncer {
 public:
  Debouncer(absl::Duration quiet, absl::Duration max) : Debouncer(quiet, max, quiet) {}
  Debouncer(absl::Duration quiet, absl::Duration max, absl::Duration endpoint_quiet)
      : quiet_(quiet), max_(max), endpoint_quiet_(std::min(endpoint_quiet, quiet)) {}

  void Add(const model::PushRequest& request, absl::Time now);
  // The merged request if it is due at `now`, else nothing.
  std::optional<model::PushRequest> Poll(absl::Time now);
  // When the pending request becomes due; nothing if none is pending.
  std::optional<absl::Time> Deadline() const;

 private:
  absl::Duration quiet_;
  absl::Duration max_;
  absl::Duration endpoint_quiet_;
  std::optional<model::PushRequest> pending_;
  absl::Time first_;
  absl::Time last_;
};

}  // namespace meshd
