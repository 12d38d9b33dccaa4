#include "ca/identity.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace meshd::ca {
namespace {

constexpr absl::string_view kSpiffePrefix = "spiffe://";
constexpr size_t kMaxNameLength = 253;

bool IsKubeName(absl::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength) return false;
  for (char c : s) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '.')) return false;
  }
  return true;
}

// SPIFFE trust domains: lowercase letters, digits, '.', '-', '_'.
bool IsTrustDomain(absl::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  for (char c : s) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '.' || c == '_')) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status ValidateIdentity(const Identity& identity) {
  if (!identity.trust_domain.empty() && !IsTrustDomain(identity.trust_domain)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid trust domain \"", identity.trust_domain, "\""));
  }
  if (!IsKubeName(identity.ns)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid namespace \"", identity.ns, "\""));
  }
  if (!IsKubeName(identity.sa)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid service account \"", identity.sa, "\""));
  }
  return absl::OkStatus();
}

std::string SpiffeUri(const Identity& identity, absl::string_view default_trust_domain) {
  absl::string_view td = identity.trust_domain.empty() ? default_trust_domain
                                                       : absl::string_view(identity.trust_domain);
  return absl::StrCat(kSpiffePrefix, td, "/ns/", identity.ns, "/sa/", identity.sa);
}

absl::StatusOr<Identity> ParseSpiffeUri(absl::string_view uri) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(absl::StrCat("not a workload SPIFFE ID: \"", uri, "\""));
  };
  if (!absl::StartsWith(uri, kSpiffePrefix)) return invalid();
  std::vector<absl::string_view> parts = absl::StrSplit(uri.substr(kSpiffePrefix.size()), '/');
  if (parts.size() != 5 || parts[1] != "ns" || parts[3] != "sa") return invalid();
  Identity identity{std::string(parts[0]), std::string(parts[2]), std::string(parts[4])};
  if (identity.trust_domain.empty() || !ValidateIdentity(identity).ok()) return invalid();
  return identity;
}

}  // namespace meshd::ca
