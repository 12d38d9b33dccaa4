// ChainAuthenticator: tries authenticators in order and takes the first identity (istiod tries
// the client certificate, then the bearer token).
//
// Thread-safety: thread-safe if its authenticators are.
#pragma once

#include <memory>
#include <vector>

#include "ca/server/authenticator.h"

namespace meshd::ca {

class ChainAuthenticator : public Authenticator {
 public:
  explicit ChainAuthenticator(std::vector<std::unique_ptr<Authenticator>> chain)
      : chain_(std::move(chain)) {}

  absl::string_view name() const override { return "chain"; }

  // The first success; when all fail, Unauthenticated listing every "name: reason" (for logs).
  absl::StatusOr<Identity> Authenticate(const grpc::CallbackServerContext& context) override;

 private:
  const std::vector<std::unique_ptr<Authenticator>> chain_;
};

}  // namespace meshd::ca
