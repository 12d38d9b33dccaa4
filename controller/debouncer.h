// Debouncer: merges bursts of changes into one PushRequest. It fires once no change has
// arrived for `quiet` (istiod's PILOT_DEBOUNCE_AFTER, 100 ms) or `max` after the first change
// of the burst (PILOT_DEBOUNCE_MAX, 10 s). A pure state machine driven by the caller's clock,
// so it is tested without sleeping. Not thread-safe: the controller's thread owns it.
#pragma once

#include <optional>

#include "absl/time/time.h"
#include "controller/model/push_request.h"

namespace meshd {

class Debouncer {
 public:
  Debouncer(absl::Duration quiet, absl::Duration max) : quiet_(quiet), max_(max) {}

  void Add(const model::PushRequest& request, absl::Time now);
  // The merged request if it is due at `now`, else nothing.
  std::optional<model::PushRequest> Poll(absl::Time now);
  // When the pending request becomes due; nothing if none is pending.
  std::optional<absl::Time> Deadline() const;

 private:
  absl::Duration quiet_;
  absl::Duration max_;
  std::optional<model::PushRequest> pending_;
  absl::Time first_;
  absl::Time last_;
};

}  // namespace meshd
