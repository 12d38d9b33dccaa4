// KubeTokenReviewer: the CA's TokenReviewer on the Kubernetes API: POST
// /apis/authentication.k8s.io/v1/tokenreviews with the token and the audiences, and the
// review's status as the API server returns it.
//
// Thread-safety: thread-safe if the KubeClient is (implementations are).
#pragma once

#include <memory>

#include "ca/server/token_reviewer.h"
#include "controller/kube/kube_client.h"

namespace meshd::kube {

class KubeTokenReviewer : public ca::TokenReviewer {
 public:
  explicit KubeTokenReviewer(std::shared_ptr<KubeClient> client) : client_(std::move(client)) {}

  absl::StatusOr<ca::TokenReviewResult> Review(absl::string_view token,
                                               const std::vector<std::string>& audiences) override;

  // The request body for `token` and `audiences`, and the status of a response body (exposed
  // for tests).
  static std::string RequestBody(absl::string_view token,
                                 const std::vector<std::string>& audiences);
  static absl::StatusOr<ca::TokenReviewResult> ParseResponse(int http_status,
                                                             const std::string& body);

 private:
  const std::shared_ptr<KubeClient> client_;
};

}  // namespace meshd::kube
