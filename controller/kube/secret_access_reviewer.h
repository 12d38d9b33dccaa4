// KubeSecretAccessReviewer: model::SecretAccessChecker on the Kubernetes API, as istiod checks a
// gateway before serving it `kubernetes://<secret>` over SDS: POST
// /apis/authorization.k8s.io/v1/subjectaccessreviews for user
// `system:serviceaccount:<ns>:<sa>`, verb `list`, resource `secrets` in the secret's namespace.
// Answers (allowed or denied) are cached for `ttl` per (user, namespace); a failed review is a
// "no" and is not cached, so the next push asks again.
//
// Thread-safety: thread-safe if the KubeClient is (implementations are). The review is a
// blocking request made without the cache lock held.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/common/clock.h"
#include "controller/kube/kube_client.h"
#include "controller/model/secret_access.h"

namespace meshd::kube {

class KubeSecretAccessReviewer : public model::SecretAccessChecker {
 public:
  KubeSecretAccessReviewer(std::shared_ptr<KubeClient> client, const Clock* clock,
                           absl::Duration ttl = absl::Minutes(1))
      : client_(std::move(client)), clock_(clock), ttl_(ttl) {}

  bool MayReadSecrets(const std::string& sa_namespace, const std::string& service_account,
                      const std::string& secret_namespace) override;

  // The request body, and the `status.allowed` of a response (exposed for tests).
  static std::string RequestBody(const std::string& user, const std::string& ns);
  static absl::StatusOr<bool> ParseResponse(int http_status, const std::string& body);

 private:
  const std::shared_ptr<KubeClient> client_;
  const Clock* const clock_;
  const absl::Duration ttl_;
  absl::Mutex mu_;
  // (user, namespace) → (allowed, expiry)
  std::map<std::pair<std::string, std::string>, std::pair<bool, absl::Time>> cache_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace meshd::kube
