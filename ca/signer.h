// Signer: issues workload certificates from CSRs, and meshd's own serving certificate, with
// the current KeyCertBundle.
//
// A workload certificate has exactly one SAN, the caller's SPIFFE URI (the identity comes from
// the authenticator, never from the CSR), an empty subject, key usage digitalSignature +
// keyEncipherment, extended key usage serverAuth + clientAuth, CA:FALSE and a random serial.
// Its NotBefore is backdated a little for clock skew; NotAfter is now + TTL, where a requested
// TTL is honoured within [min_ttl, max_ttl] and never outlives the signing certificate.
//
// Thread-safety: Sign and IssueServingCert are thread-safe (the signer is immutable; the
// bundle source and clock must be thread-safe).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ca/identity.h"
#include "ca/key_cert_bundle.h"
#include "ca/openssl.h"
#include "controller/common/clock.h"

namespace meshd::ca {

struct SignerOptions {
  std::string trust_domain = "cluster.local";
  absl::Duration default_ttl = absl::Hours(24);
  absl::Duration min_ttl = absl::Minutes(1);
  absl::Duration max_ttl = absl::Hours(24 * 90);
  // NotBefore = now - backdate, so a peer whose clock is a little behind accepts the cert.
  absl::Duration backdate = absl::Minutes(2);
};

// A key and its certificate chain (leaf first, root last), both PEM.
struct IssuedKeyCert {
  std::string key_pem;
  std::vector<std::string> chain_pem;
  absl::Time not_before;
  absl::Time not_after;
};

// The DNS names of meshd's serving certificate: "<service>.<namespace>.svc" for each service
// (istiod's are "istiod.istio-system.svc" and friends).
std::vector<std::string> ServingDnsNames(const std::vector<std::string>& services,
                                         absl::string_view ns);

// Why Sign failed, for the CA's metrics (istiod's citadel_server_* counters and error types).
enum class SignFailure {
  kNone,
  kIdentity,    // the caller's identity is not a valid SPIFFE identity (id extraction)
  kCsrParse,    // not a CSR, or its signature does not verify (CSR_ERROR, parsing)
  kCsr,         // a parsed CSR that is refused: too large, weak key, foreign SANs (CSR_ERROR)
  kCaNotReady,  // no signing certificate loaded (CA_NOT_READY)
  kCertGen,     // building or signing the certificate failed (CERT_GEN_ERROR)
};

// istiod's `error` label value of citadel_server_csr_sign_err_count for `failure`.
const char* SignFailureLabel(SignFailure failure);

class Signer {
 public:
  // Largest CSR accepted, in bytes (an RSA-8192 CSR is about 3 KiB).
  static constexpr size_t kMaxCsrBytes = 64 * 1024;

  // `clock` must outlive the signer.
  Signer(SignerOptions options, BundleSource bundles, const Clock* clock);

  // Signs `csr_pem` for `identity`; `requested_ttl` <= 0 asks for the default TTL. Returns the
  // chain as one PEM per certificate, leaf first, root last. A bad CSR (garbage, signature that
  // does not verify, weak or unsupported key, SANs other than the identity's URI) is
  // InvalidArgument; no CA loaded is Unavailable. On failure `*failure`, if given, says why.
  absl::StatusOr<std::vector<std::string>> Sign(absl::string_view csr_pem, const Identity& identity,
                                                absl::Duration requested_ttl,
                                                SignFailure* failure = nullptr) const;

  // A fresh key and a certificate for `dns_names` (meshd's TLS serving certificate, e.g. for
  // port 15012 and the webhooks). `ttl` <= 0 means the default TTL; bounds as for Sign.
  absl::StatusOr<IssuedKeyCert> IssueServingCert(const std::vector<std::string>& dns_names,
                                                 absl::Duration ttl,
                                                 KeyType key_type = KeyType::kEcdsaP256) const;

  const SignerOptions& options() const { return options_; }

 private:
  // Issues a leaf for `key` and returns [leaf, issuer chain...] as PEM.
  absl::StatusOr<IssuedKeyCert> Issue(const PublicKey& key, std::vector<std::string> dns_sans,
                                      std::vector<std::string> uri_sans,
                                      absl::Duration requested_ttl) const;

  SignerOptions options_;
  BundleSource bundles_;
  const Clock* clock_;
};

}  // namespace meshd::ca
