// RootCertPublisher: leader-only; keeps ConfigMap `istio-ca-root-cert` (key `root-cert.pem`,
// the CA's trust bundle PEM) current in every namespace, as istiod's namespace controller does.
//
// Start() (on becoming leader) runs a Namespace informer of its own, a ConfigMap informer
// limited to the name `istio-ca-root-cert` (fieldSelector), and a worker: every namespace
// listed or added is queued, so is the namespace of a ConfigMap that is deleted or changed by
// someone else (istiod's namespace controller does the same), and the worker creates the ConfigMap
// (POST) or updates it when its PEM differs (JSON merge patch carrying the resourceVersion read, so
// a concurrent change is a 409 and a retry). OnRootChange() queues every known namespace. Failures
// are logged with namespace/name and retried after `retry`; a namespace that is gone (404) or
// terminating (403) is dropped. Stop() (leadership lost) stops at once: no request is started
// after it returns. Publish() is one synchronous step, for tests. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/common/clock.h"
#include "controller/kube/informer.h"
#include "controller/kube/kube_client.h"
#include "controller/kube/leader_loop.h"

namespace meshd::kube {

class RootCertPublisher {
 public:
  struct Options {
    std::string name = "istio-ca-root-cert";
    std::string key = "root-cert.pem";
    absl::Duration retry = absl::Seconds(1);
    Informer::Options informer;
  };

  // `bundle_pem` returns the current trust bundle PEM.
  RootCertPublisher(KubeClient* client, const Clock* clock, std::function<std::string()> bundle_pem,
                    Options options);
  RootCertPublisher(KubeClient* client, const Clock* clock, std::function<std::string()> bundle_pem)
      : RootCertPublisher(client, clock, std::move(bundle_pem), Options()) {}
  ~RootCertPublisher();

  void Start();
  void Stop();
  bool Running() const;
  // The trust bundle changed: republish in every namespace (if running).
  void OnRootChange();

  // Creates or updates the ConfigMap in `ns` now. OK when it is current or `ns` is gone.
  absl::Status Publish(const std::string& ns);

 private:
  void Enqueue(const std::string& ns);
  // Re-publishes in `ns` if it is a known namespace (a ConfigMap event).
  void Recheck(const std::string& ns);
  // One round of the loop: publishes in the pending namespaces; failed ones are retried after
  // `retry`. Waits for a Kick (a namespace queued) when nothing is left.
  absl::Duration Round();

  KubeClient* const client_;
  const Clock* const clock_;
  const std::function<std::string()> bundle_pem_;
  const Options options_;

  absl::Mutex start_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // serialises Start/Stop
  std::unique_ptr<Informer> informer_ ABSL_GUARDED_BY(start_mu_);
  std::unique_ptr<Informer> configmaps_ ABSL_GUARDED_BY(start_mu_);

  mutable absl::Mutex mu_;
  bool running_ ABSL_GUARDED_BY(mu_) = false;           // namespaces are queued only while running
  std::set<std::string> known_ ABSL_GUARDED_BY(mu_);    // namespaces seen
  std::set<std::string> pending_ ABSL_GUARDED_BY(mu_);  // namespaces to publish to
  LeaderLoop loop_;  // last: its thread stops before the members it uses go
};

}  // namespace meshd::kube
