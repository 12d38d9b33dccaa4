// A workload identity (trust domain, namespace, service account) and its SPIFFE URI form,
// spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>.
//
// Thread-safety: plain value type and stateless functions; all thread-safe.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace meshd::ca {

struct Identity {
  std::string trust_domain;  // empty: the CA's own trust domain
  std::string ns;
  std::string sa;

  friend bool operator==(const Identity& a, const Identity& b) {
    return a.trust_domain == b.trust_domain && a.ns == b.ns && a.sa == b.sa;
  }
  friend bool operator!=(const Identity& a, const Identity& b) { return !(a == b); }
};

// OK when every part is well formed: namespace and service account are Kubernetes names
// (lowercase alphanumerics, '-', '.'), the trust domain (when set) is a SPIFFE trust domain.
absl::Status ValidateIdentity(const Identity& identity);

// The SPIFFE URI of `identity`; `default_trust_domain` stands in for an empty trust domain.
std::string SpiffeUri(const Identity& identity, absl::string_view default_trust_domain);

// Parses exactly spiffe://<td>/ns/<ns>/sa/<sa>; any other shape is InvalidArgument.
absl::StatusOr<Identity> ParseSpiffeUri(absl::string_view uri);

}  // namespace meshd::ca
