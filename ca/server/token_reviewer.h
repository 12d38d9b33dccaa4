// TokenReviewer: asks Kubernetes whether a bearer token is valid (authentication.k8s.io/v1
// TokenReview). The Kubernetes implementation lives with the kube client; FakeTokenReviewer
// (fake_token_reviewer.h) serves tests.
//
// Thread-safety: implementations must be thread-safe; Review may block.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace meshd::ca {

// TokenReview .status, as the API server returns it.
struct TokenReviewResult {
  bool authenticated = false;
  std::string username;  // "system:serviceaccount:<namespace>:<name>"
  std::vector<std::string> groups;
  std::vector<std::string> audiences;
  std::string error;
};

class TokenReviewer {
 public:
  virtual ~TokenReviewer() = default;

  // Reviews `token` for `audiences`. A token the API server rejects is an OK result with
  // authenticated = false; an error status means the review itself could not be done.
  virtual absl::StatusOr<TokenReviewResult> Review(absl::string_view token,
                                                   const std::vector<std::string>& audiences) = 0;
};

}  // namespace meshd::ca
