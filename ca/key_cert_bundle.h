// KeyCertBundle: the CA's signing material, validated as a whole: the signing certificate and
// its key, the intermediates up to a root, and the trust bundle (one or more roots; more than
// one while a root is being rotated).
//
// Thread-safety: immutable after Create; share it as std::shared_ptr<const KeyCertBundle>.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ca/openssl.h"

namespace meshd::ca {

// The names errors give the four inputs of FromPem (file or secret key names).
struct PemFileNames {
  std::string ca_cert = "ca-cert.pem";
  std::string ca_key = "ca-key.pem";
  std::string cert_chain = "cert-chain.pem";
  std::string root_cert = "root-cert.pem";
};

class KeyCertBundle {
 public:
  // Checks that `signing_key` matches `signing_cert`, that the signing certificate is a CA
  // with a supported key, and that it chains through `intermediates` to one of `roots` as of
  // `now`. Only the intermediates on the verified path are kept, in path order, so a
  // cert-chain.pem listing the whole chain (signing certificate and root included) is accepted.
  static absl::StatusOr<KeyCertBundle> Create(Certificate signing_cert, PrivateKey signing_key,
                                              std::vector<Certificate> intermediates,
                                              std::vector<Certificate> roots, absl::Time now);

  // The same from PEM, as found in a cacerts directory; an empty `cert_chain_pem` means no
  // intermediates. Errors start with the name (from `names`) of the input at fault.
  static absl::StatusOr<KeyCertBundle> FromPem(absl::string_view ca_cert_pem,
                                               absl::string_view ca_key_pem,
                                               absl::string_view cert_chain_pem,
                                               absl::string_view root_cert_pem, absl::Time now,
                                               const PemFileNames& names = PemFileNames());

  const Certificate& signing_cert() const { return signing_cert_; }
  const PrivateKey& signing_key() const { return signing_key_; }
  const std::vector<Certificate>& intermediates() const { return intermediates_; }
  // The trust bundle handed to workloads (istio-ca-root-cert).
  const std::vector<Certificate>& roots() const { return roots_; }
  // The root the signing certificate chains to.
  const Certificate& anchor() const { return anchor_; }

  // What follows an issued leaf in a CreateCertificate response: the signing certificate,
  // the intermediates, then the anchoring root; the signing certificate appears once when it
  // is the root itself.
  std::vector<Certificate> IssuerChain() const;
  // IssuerChain() as one PEM per certificate, encoded once when the bundle is created.
  const std::vector<std::string>& IssuerChainPem() const { return issuer_chain_pem_; }
  // The signing certificate and key prepared for issuing workload certificates.
  const LeafIssuer& leaf_issuer() const { return leaf_issuer_; }
  // The signing certificate's NotAfter, parsed once.
  absl::Time signing_not_after() const { return signing_not_after_; }
  // The trust bundle as concatenated PEM.
  std::string RootsPem() const;

 private:
  KeyCertBundle(Certificate signing_cert, PrivateKey signing_key,
                std::vector<Certificate> intermediates, std::vector<Certificate> roots,
                Certificate anchor, LeafIssuer leaf_issuer)
      : signing_cert_(std::move(signing_cert)),
        signing_key_(std::move(signing_key)),
        intermediates_(std::move(intermediates)),
        roots_(std::move(roots)),
        anchor_(std::move(anchor)),
        leaf_issuer_(std::move(leaf_issuer)),
        signing_not_after_(signing_cert_.Info().not_after) {
    for (const Certificate& c : IssuerChain()) issuer_chain_pem_.push_back(c.ToPem());
  }

  Certificate signing_cert_;
  PrivateKey signing_key_;
  std::vector<Certificate> intermediates_;
  std::vector<Certificate> roots_;
  Certificate anchor_;
  LeafIssuer leaf_issuer_;
  absl::Time signing_not_after_;
  std::vector<std::string> issuer_chain_pem_;
};

// Where the signer and the authenticators get the current bundle (RootStore::Current, or a
// fixed bundle in tests). Must be thread-safe; may return null while no CA is loaded.
using BundleSource = std::function<std::shared_ptr<const KeyCertBundle>()>;

}  // namespace meshd::ca
