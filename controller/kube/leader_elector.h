// LeaderElector: leader election on a coordination.k8s.io/v1 Lease with client-go's algorithm
// (tools/leaderelection): candidates try every RetryPeriod (jittered ×1.2); the leader renews
// every RetryPeriod and gives up when it could not renew within RenewDeadline; a lease held by
// another is taken over only after it went unrenewed for its leaseDurationSeconds, judged
// on our own clock from when we first observed the record (so clock skew does not matter);
// updates carry the resourceVersion read, so a race is a 409 and a failed attempt. On Stop()
// a leader releases the lease (holder "", duration 1 s), as Istio does.
//
// Leadership is reported through callbacks (on_started_leading / on_stopped_leading, called
// on the elector's thread, never under its lock), IsLeader(), a log line and the gauge
// meshd_leader_election_leader{lease="ns/name"}. A leader that loses the lease calls
// on_stopped_leading at once.
//
// The state machine is Tick(): one step at the injected clock's now, returning when the next
// is due; tests drive it with a FakeClock and a fake KubeClient. Start()/Stop() own the thread
// that calls it. Thread-safe.
#pragma once

#include <functional>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/common/clock.h"
#include "controller/kube/kube_client.h"
#include "nlohmann/json.hpp"

namespace meshd::kube {

class LeaderElector {
 public:
  struct Options {
    std::string ns = "istio-system";
    std::string name = "meshd-leader";
    std::string identity;
    absl::Duration lease_duration = absl::Seconds(30);
    absl::Duration renew_deadline = absl::Seconds(15);
    absl::Duration retry_period = absl::Milliseconds(7500);
  };
  struct Callbacks {
    std::function<void()> on_started_leading;
    std::function<void()> on_stopped_leading;
  };

  LeaderElector(Options options, KubeClient* client, const Clock* clock, Callbacks callbacks,
                std::function<double()> rand01 = nullptr);
  ~LeaderElector();

  // One step at clock->Now(): an acquire/renew attempt if one is due, then the callbacks.
  // Returns when the next step is due.
  absl::Time Tick();
  bool IsLeader() const;
  // The holder last observed ("" if none).
  std::string Holder() const;
  const Options& options() const { return options_; }

  void Start();
  // Stops, releasing the lease if held.
  void Stop();

 private:
  // client-go's tryAcquireOrRenew; true if we hold the lease afterwards.
  bool TryAcquireOrRenew(absl::Time now);
  bool Put(const nlohmann::json& lease, absl::Time now);
  void Release();
  void SetLeader(bool leader);
  std::string LeasePath(bool collection) const;

  const Options options_;
  KubeClient* const client_;
  const Clock* const clock_;
  const Callbacks callbacks_;
  std::function<double()> rand01_;

  mutable absl::Mutex mu_;
  bool leader_ ABSL_GUARDED_BY(mu_) = false;
  std::string holder_ ABSL_GUARDED_BY(mu_);
  nlohmann::json lease_ ABSL_GUARDED_BY(mu_);          // the last lease read or written
  nlohmann::json observed_spec_ ABSL_GUARDED_BY(mu_);  // the record last observed
  absl::Time observed_time_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_renew_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time next_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace meshd::kube
