// TokenAuthenticator: a caller is the Kubernetes service account whose JWT it sends as
// `authorization: Bearer <token>`, as checked by a TokenReview for the CA's audiences. The
// checks on the review are istiod's: authenticated, in group system:serviceaccounts, username
// system:serviceaccount:<ns>:<sa>, and an audience in common with the requested ones.
//
// Thread-safety: thread-safe if the reviewer is.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ca/server/authenticator.h"
#include "ca/server/token_reviewer.h"

namespace meshd::ca {

class TokenAuthenticator : public Authenticator {
 public:
  static constexpr char kDefaultAudience[] = "istio-ca";

  explicit TokenAuthenticator(std::shared_ptr<TokenReviewer> reviewer,
                              std::vector<std::string> audiences = {kDefaultAudience})
      : reviewer_(std::move(reviewer)), audiences_(std::move(audiences)) {}

  absl::string_view name() const override { return "token"; }

  // Reads the `authorization` request header.
  absl::StatusOr<Identity> Authenticate(const grpc::CallbackServerContext& context) override;

  // The identity for one `authorization` header value ("Bearer <token>").
  absl::StatusOr<Identity> AuthenticateHeader(absl::string_view authorization);

  // The identity a TokenReview result stands for, or why it stands for none.
  static absl::StatusOr<Identity> CheckReview(const TokenReviewResult& review,
                                              const std::vector<std::string>& audiences);

 private:
  const std::shared_ptr<TokenReviewer> reviewer_;
  const std::vector<std::string> audiences_;
};

}  // namespace meshd::ca
