// WebhookPatcher: leader-only; keeps the admission webhook configurations pointing at meshd,
// as istiod's webhook controllers do: every webhook of ValidatingWebhookConfiguration
// `istio-validator[-<rev>]-<ns>` and MutatingWebhookConfiguration
// `istio-sidecar-injector[-<rev>]` gets clientConfig.caBundle = the CA's trust bundle
// (base64 PEM), and the validating webhooks' failurePolicy goes from Ignore to Fail once
// `serving()` says /validate answers. A configuration that does not exist is logged once and
// skipped (not fatal); it is looked at again on the next round. An object is written (PUT,
// carrying the resourceVersion read: a concurrent change is a 409 and a retry) only when it
// differs. Start() runs a worker that patches at once, on Kick() (root rotation, the webhook
// server starting) and every `resync`; Stop() stops it (leadership lost). PatchAll() is one
// synchronous round, for tests. Thread-safe.
#pragma once

#include <functional>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/kube/kube_client.h"
#include "controller/kube/leader_loop.h"

namespace meshd::kube {

class WebhookPatcher {
 public:
  struct Options {
    std::string ns = "istio-system";
    std::string revision;  // "" or "default": no suffix
    absl::Duration resync = absl::Seconds(30);
    absl::Duration retry = absl::Seconds(2);
  };

  WebhookPatcher(KubeClient* client, Options options, std::function<std::string()> bundle_pem,
                 std::function<bool()> serving);
  ~WebhookPatcher();

  void Start();
  void Stop();
  void Kick();

  std::string ValidatingName() const;
  std::string MutatingName() const;

  // One round over both configurations. OK when both are current or absent.
  absl::Status PatchAll();

 private:
  absl::Status Patch(const std::string& collection, const std::string& name, bool validating);
  // One round of the loop: PatchAll, then wait `resync` (`retry` after a failure).
  absl::Duration Round();

  KubeClient* const client_;
  const Options options_;
  const std::function<std::string()> bundle_pem_;
  const std::function<bool()> serving_;

  absl::Mutex mu_;
  std::set<std::string> missing_logged_ ABSL_GUARDED_BY(mu_);
  LeaderLoop loop_;  // last: its thread stops before the members it uses go
};

}  // namespace meshd::kube
