#include "ca/server/chain_authenticator.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meshd::ca {

absl::StatusOr<Identity> ChainAuthenticator::Authenticate(
    const grpc::CallbackServerContext& context) {
  std::vector<std::string> reasons;
  for (const std::unique_ptr<Authenticator>& authenticator : chain_) {
    absl::StatusOr<Identity> identity = authenticator->Authenticate(context);
    if (identity.ok()) return identity;
    reasons.push_back(absl::StrCat(authenticator->name(), ": ", identity.status().message()));
  }
  if (reasons.empty()) reasons.push_back("no authenticator configured");
  return absl::UnauthenticatedError(absl::StrJoin(reasons, "; "));
}

}  // namespace meshd::ca
