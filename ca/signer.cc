#include "ca/signer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace meshd::ca {

std::vector<std::string> ServingDnsNames(const std::vector<std::string>& services,
                                         absl::string_view ns) {
  std::vector<std::string> names;
  for (const std::string& service : services)
    names.push_back(absl::StrCat(service, ".", ns, ".svc"));
  return names;
}

const char* SignFailureLabel(SignFailure failure) {
  switch (failure) {
    case SignFailure::kNone:
      return "";
    case SignFailure::kIdentity:
    case SignFailure::kCsrParse:
    case SignFailure::kCsr:
      return "CSR_ERROR";
    case SignFailure::kCaNotReady:
      return "CA_NOT_READY";
    case SignFailure::kCertGen:
      return "CERT_GEN_ERROR";
  }
  return "UNKNOWN";
}

Signer::Signer(SignerOptions options, BundleSource bundles, const Clock* clock)
    : options_(std::move(options)), bundles_(std::move(bundles)), clock_(clock) {}

absl::StatusOr<std::vector<std::string>> Signer::Sign(absl::string_view csr_pem,
                                                      const Identity& identity,
                                                      absl::Duration requested_ttl,
                                                      SignFailure* failure) const {
  SignFailure ignored;
  SignFailure& why = failure != nullptr ? *failure : ignored;
  why = SignFailure::kNone;
  if (absl::Status s = ValidateIdentity(identity); !s.ok()) {
    why = SignFailure::kIdentity;
    return s;
  }
  if (csr_pem.size() > kMaxCsrBytes) {
    why = SignFailure::kCsr;
    return absl::InvalidArgumentError(absl::StrCat("CSR larger than ", kMaxCsrBytes, " bytes"));
  }
  absl::StatusOr<CsrInfo> csr = ParseCsr(csr_pem);
  if (!csr.ok()) {
    why = SignFailure::kCsrParse;
    return csr.status();
  }
  if (absl::Status s = CheckKeyStrength(csr->public_key); !s.ok()) {
    why = SignFailure::kCsr;
    return s;
  }

  // The CSR may name the caller's own URI (istio-agent does) but nothing else.
  std::string uri = SpiffeUri(identity, options_.trust_domain);
  bool foreign_uri = std::any_of(csr->uri_sans.begin(), csr->uri_sans.end(),
                                 [&](const std::string& u) { return u != uri; });
  if (foreign_uri || !csr->dns_sans.empty() || !csr->ip_sans.empty() || !csr->email_sans.empty() ||
      csr->other_sans > 0) {
    why = SignFailure::kCsr;
    return absl::InvalidArgumentError(
        absl::StrCat("CSR requests SANs other than the caller's identity ", uri));
  }

  absl::StatusOr<IssuedKeyCert> issued = Issue(csr->public_key, {}, {uri}, requested_ttl);
  if (!issued.ok()) {
    why = absl::IsUnavailable(issued.status()) ? SignFailure::kCaNotReady : SignFailure::kCertGen;
    return issued.status();
  }
  return std::move(issued->chain_pem);
}

absl::StatusOr<IssuedKeyCert> Signer::IssueServingCert(const std::vector<std::string>& dns_names,
                                                       absl::Duration ttl, KeyType key_type) const {
  if (dns_names.empty()) return absl::InvalidArgumentError("no DNS names for serving cert");
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate(key_type);
  if (!key.ok()) return key.status();
  absl::StatusOr<IssuedKeyCert> issued = Issue(key->public_key(), dns_names, {}, ttl);
  if (!issued.ok()) return issued.status();
  issued->key_pem = key->ToPem();
  return issued;
}

absl::StatusOr<IssuedKeyCert> Signer::Issue(const PublicKey& key, std::vector<std::string> dns_sans,
                                            std::vector<std::string> uri_sans,
                                            absl::Duration requested_ttl) const {
  std::shared_ptr<const KeyCertBundle> bundle = bundles_ ? bundles_() : nullptr;
  if (bundle == nullptr) return absl::UnavailableError("CA not ready: no signing certificate");

  absl::Duration ttl = requested_ttl <= absl::ZeroDuration() ? options_.default_ttl : requested_ttl;
  ttl = std::clamp(ttl, options_.min_ttl, options_.max_ttl);
  absl::Time now = clock_->Now();
  CertificateTemplate tmpl;
  tmpl.not_before = now - options_.backdate;
  tmpl.not_after = std::min(now + ttl, bundle->signing_not_after());
  tmpl.key_usage = kDigitalSignature | kKeyEncipherment;
  tmpl.ext_key_usage = kServerAuth | kClientAuth;
  tmpl.dns_sans = std::move(dns_sans);
  tmpl.uri_sans = std::move(uri_sans);
  absl::StatusOr<std::string> leaf_pem = bundle->leaf_issuer().IssuePem(tmpl, key);
  if (!leaf_pem.ok()) return leaf_pem.status();

  IssuedKeyCert issued;
  // What the certificate says: X.509 times have whole seconds (no need to parse it back).
  issued.not_before = absl::FromTimeT(absl::ToTimeT(tmpl.not_before));
  issued.not_after = absl::FromTimeT(absl::ToTimeT(tmpl.not_after));
  issued.chain_pem.reserve(1 + bundle->IssuerChainPem().size());
  issued.chain_pem.push_back(*std::move(leaf_pem));
  for (const std::string& pem : bundle->IssuerChainPem()) issued.chain_pem.push_back(pem);
  return issued;
}

}  // namespace meshd::ca
