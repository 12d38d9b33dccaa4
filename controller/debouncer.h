// Debouncer: merges bursts of changes into one PushRequest. It fires once no change has
// arrived for `quiet` (istiod's PILOT_DEBOUNCE_AFTER, 100 ms) or `max` after the first change
// of the burst (PILOT_DEBOUNCE_MAX, 10 s). A burst of endpoint changes only (no config or
// service definition) waits a shorter `endpoint_quiet` (meshd's MESHD_EDS_DEBOUNCE_AFTER,
// 20 ms): an incremental EDS push is cheap, and endpoint convergence is what traffic feels
// during a rollout. A config change merged into it brings back `quiet`.
//
// With the leading edge on (meshd's default; MESHD_DEBOUNCE_LEADING_EDGE=false turns it off),
// the first change after a quiet spell is released at once instead of after `quiet`: an
// isolated edit converges at transport speed. Changes arriving within `quiet` (or
// `endpoint_quiet`) of a release wait as above, so a burst still costs at most one push more
// than istiod's trailing-only debounce, and pushes never come faster than one per quiet period.
//
// A pure state machine driven by the caller's clock, so it is tested without sleeping. Not
// thread-safe: the controller's thread owns it.
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

  // Releases the first change after a quiet spell at once (see above). Off by default here.
  void set_leading_edge(bool on) { leading_edge_ = on; }

  void Add(const model::PushRequest& request, absl::Time now);
  // The merged request if it is due at `now`, else nothing.
  std::optional<model::PushRequest> Poll(absl::Time now);
  // When the pending request becomes due; nothing if none is pending.
  std::optional<absl::Time> Deadline() const;

 private:
  absl::Duration quiet_;
  absl::Duration max_;
  absl::Duration endpoint_quiet_;
  bool leading_edge_ = false;
  std::optional<model::PushRequest> pending_;
  absl::Time first_;
  absl::Time last_;
  // When Poll last released a request; InfinitePast before the first.
  absl::Time released_ = absl::InfinitePast();
};

}  // namespace meshd
