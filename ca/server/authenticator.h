// Authenticator: who is calling the CA. Implementations: ClientCertAuthenticator (the caller's
// current workload certificate), TokenAuthenticator (a Kubernetes service-account JWT checked by
// TokenReview), ChainAuthenticator (tries several in order).
//
// Thread-safety: implementations must be thread-safe; Authenticate runs concurrently on the
// CA service's workers and may block (a TokenReview is a network call).
#pragma once

#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ca/identity.h"

namespace meshd::ca {

class Authenticator {
 public:
  virtual ~Authenticator() = default;

  // A short name for logs ("client-cert", "token").
  virtual absl::string_view name() const = 0;

  // The caller's identity, or why not: the reason is for logs, never for the caller.
  virtual absl::StatusOr<Identity> Authenticate(const grpc::CallbackServerContext& context) = 0;
};

}  // namespace meshd::ca
