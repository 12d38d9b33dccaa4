#include "ca/server/token_authenticator.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace meshd::ca {
namespace {

constexpr absl::string_view kBearer = "bearer ";
constexpr absl::string_view kServiceAccountGroup = "system:serviceaccounts";

}  // namespace

absl::StatusOr<Identity> TokenAuthenticator::Authenticate(
    const grpc::CallbackServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto [begin, end] = metadata.equal_range("authorization");
  if (begin == end) return absl::UnauthenticatedError("no authorization header");
  if (std::next(begin) != end) return absl::UnauthenticatedError("several authorization headers");
  return AuthenticateHeader(absl::string_view(begin->second.data(), begin->second.size()));
}

absl::StatusOr<Identity> TokenAuthenticator::AuthenticateHeader(absl::string_view authorization) {
  // The scheme is case-insensitive (RFC 7235).
  if (!absl::StartsWithIgnoreCase(authorization, kBearer)) {
    return absl::UnauthenticatedError("authorization header is not a bearer token");
  }
  absl::string_view token = absl::StripAsciiWhitespace(authorization.substr(kBearer.size()));
  if (token.empty()) return absl::UnauthenticatedError("empty bearer token");
  absl::StatusOr<TokenReviewResult> review = reviewer_->Review(token, audiences_);
  if (!review.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("token review failed: ", review.status().ToString()));
  }
  return CheckReview(*review, audiences_);
}

absl::StatusOr<Identity> TokenAuthenticator::CheckReview(
    const TokenReviewResult& review, const std::vector<std::string>& audiences) {
  if (!review.authenticated) {
    return absl::UnauthenticatedError(absl::StrCat("token not authenticated: ", review.error));
  }
  if (std::find(review.groups.begin(), review.groups.end(), kServiceAccountGroup) ==
      review.groups.end()) {
    return absl::UnauthenticatedError(
        absl::StrCat("\"", review.username, "\" is not a service account"));
  }
  bool audience_ok =
      std::any_of(review.audiences.begin(), review.audiences.end(), [&](const std::string& a) {
        return std::find(audiences.begin(), audiences.end(), a) != audiences.end();
      });
  if (!audience_ok) return absl::UnauthenticatedError("token audiences do not match");

  std::vector<absl::string_view> parts = absl::StrSplit(review.username, ':');
  if (parts.size() != 4 || parts[0] != "system" || parts[1] != "serviceaccount") {
    return absl::UnauthenticatedError(
        absl::StrCat("username \"", review.username, "\" is not system:serviceaccount:<ns>:<sa>"));
  }
  Identity identity{"", std::string(parts[2]), std::string(parts[3])};
  if (absl::Status s = ValidateIdentity(identity); !s.ok()) {
    return absl::UnauthenticatedError(s.message());
  }
  return identity;
}

}  // namespace meshd::ca
