// RetryWhileUnavailable: calls an operation until it succeeds, fails with a code other than
// UNAVAILABLE, the timeout would pass, or a stop is requested — waiting between attempts as a
// Backoff says, on a Notification, so that a stop (SIGTERM) ends the wait at once instead of
// after it. Used where meshd waits for a dependency that may not answer yet (the CA root in the
// Kubernetes API server).
//
// Thread-safe as far as its arguments are: the Backoff belongs to the caller's thread; `stop`
// may be notified from any thread.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "controller/common/backoff.h"
#include "controller/common/clock.h"

namespace meshd {

// Returns the first result that is OK or not UNAVAILABLE; the last UNAVAILABLE when waiting
// once more would pass `timeout` (measured on `clock`); CANCELLED when `stop` is notified
// before or during a wait. `on_retry(delay, error)` is called before each wait (for the log).
template <typename T>
absl::StatusOr<T> RetryWhileUnavailable(
    const std::function<absl::StatusOr<T>()>& attempt, Backoff* backoff, const Clock* clock,
    absl::Duration timeout, absl::Notification* stop,
    const std::function<void(absl::Duration, const absl::Status&)>& on_retry = nullptr) {
  const absl::Time give_up = clock->Now() + timeout;
  while (true) {
    absl::StatusOr<T> result = attempt();
    if (result.ok() || !absl::IsUnavailable(result.status())) return result;
    absl::Duration delay = backoff->Next();
    if (clock->Now() + delay > give_up) return result;
    if (on_retry) on_retry(delay, result.status());
    if (stop->WaitForNotificationWithTimeout(delay)) {
      return absl::CancelledError(
          absl::StrCat("stopped while retrying: ", result.status().message()));
    }
  }
}

}  // namespace meshd
