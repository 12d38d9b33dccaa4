#include "ca/key_cert_bundle.h"

#include "absl/strings/str_cat.h"

namespace meshd::ca {
absl::StatusOr<KeyCertBundle> KeyCertBundle::Create(Certificate signing_cert,
                                                    PrivateKey signing_key,
                                                    std::vector<Certificate> intermediates,
                                                    std::vector<Certificate> roots,
                                                    absl::Time now) {
  if (roots.empty()) return absl::InvalidArgumentError("no root certificate");
  if (!KeyMatches(signing_key, signing_cert)) {
    return absl::InvalidArgumentError("CA key does not match the CA certificate");
  }
  if (absl::Status s = CheckKeyStrength(signing_cert.public_key()); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("CA certificate: ", s.message()));
  }
  CertificateInfo info = signing_cert.Info();
  if (!info.is_ca) {
    return absl::InvalidArgumentError("CA certificate is not a CA (basicConstraints)");
  }
  absl::StatusOr<std::vector<Certificate>> path =
      VerifyChain(signing_cert, intermediates, roots, now);
  if (!path.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("CA certificate: ", path.status().message()));
  }
  // Keep the intermediates in path order; extra certificates in cert-chain.pem (the signing
  // certificate itself, the root, unrelated ones) are dropped.
  Certificate anchor = path->back();
  std::vector<Certificate> ordered;
  for (size_t i = 1; i + 1 < path->size(); ++i) ordered.push_back((*path)[i]);
  absl::StatusOr<LeafIssuer> leaf_issuer = LeafIssuer::Create(signing_cert, signing_key);
  if (!leaf_issuer.ok()) return leaf_issuer.status();
  return KeyCertBundle(std::move(signing_cert), std::move(signing_key), std::move(ordered),
                       std::move(roots), std::move(anchor), *std::move(leaf_issuer));
}

absl::StatusOr<KeyCertBundle> KeyCertBundle::FromPem(absl::string_view ca_cert_pem,
                                                     absl::string_view ca_key_pem,
                                                     absl::string_view cert_chain_pem,
                                                     absl::string_view root_cert_pem,
                                                     absl::Time now, const PemFileNames& names) {
  auto annotate = [](absl::string_view file, const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(file, ": ", s.message()));
  };
  absl::StatusOr<Certificate> cert = Certificate::FromPem(ca_cert_pem);
  if (!cert.ok()) return annotate(names.ca_cert, cert.status());
  absl::StatusOr<PrivateKey> key = PrivateKey::FromPem(ca_key_pem);
  if (!key.ok()) return annotate(names.ca_key, key.status());
  std::vector<Certificate> chain;
  if (!cert_chain_pem.empty()) {
    absl::StatusOr<std::vector<Certificate>> parsed = Certificate::ChainFromPem(cert_chain_pem);
    if (!parsed.ok()) return annotate(names.cert_chain, parsed.status());
    chain = *std::move(parsed);
  }
  absl::StatusOr<std::vector<Certificate>> roots = Certificate::ChainFromPem(root_cert_pem);
  if (!roots.ok()) return annotate(names.root_cert, roots.status());
  absl::StatusOr<KeyCertBundle> bundle =
      Create(*std::move(cert), *std::move(key), std::move(chain), *std::move(roots), now);
  if (!bundle.ok()) {
    return annotate(absl::StrCat(names.ca_cert, " + ", names.ca_key), bundle.status());
  }
  return bundle;
}

std::vector<Certificate> KeyCertBundle::IssuerChain() const {
  std::vector<Certificate> chain = {signing_cert_};
  chain.insert(chain.end(), intermediates_.begin(), intermediates_.end());
  if (anchor_ != signing_cert_) chain.push_back(anchor_);
  return chain;
}

std::string KeyCertBundle::RootsPem() const { return ToPem(roots_); }

}  // namespace meshd::ca
