// ClientCertAuthenticator: a caller renewing its certificate over mTLS is the identity in the
// SPIFFE URI SAN of the certificate it presents, provided that certificate was issued by this
// CA and is still valid. The check does not rely on the TLS layer having verified the peer
// (port 15012 also serves token-only clients, so it only requests a client certificate).
//
// Thread-safety: thread-safe.
#pragma once

#include "ca/key_cert_bundle.h"
#include "ca/server/authenticator.h"
#include "controller/common/clock.h"

namespace meshd::ca {

class ClientCertAuthenticator : public Authenticator {
 public:
  // `clock` must outlive the authenticator.
  ClientCertAuthenticator(BundleSource bundles, const Clock* clock)
      : bundles_(std::move(bundles)), clock_(clock) {}

  absl::string_view name() const override { return "client-cert"; }

  // Reads the peer's leaf certificate (auth context property x509_pem_cert).
  absl::StatusOr<Identity> Authenticate(const grpc::CallbackServerContext& context) override;

  // The identity in `pem` if it is a non-CA client certificate that chains to the current
  // bundle's roots through its signing certificate and intermediates, and carries exactly one
  // URI SAN, a workload SPIFFE ID.
  absl::StatusOr<Identity> AuthenticatePem(absl::string_view pem) const;

 private:
  const BundleSource bundles_;
  const Clock* const clock_;
};

}  // namespace meshd::ca
