// The CA's only window onto OpenSSL 3: key generation, PEM I/O, CSR parsing with signature
// check, certificate issuance, certificate inspection and chain verification. This header and
// its .cc are the only meshd files that include OpenSSL; everything else sees the opaque value
// types below.
//
// Thread-safety: every function is thread-safe. PrivateKey, PublicKey and Certificate are
// immutable handles, cheap to copy and safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

// OpenSSL's own struct tags (EVP_PKEY and X509), declared here so that no OpenSSL header leaks.
struct evp_pkey_st;
struct x509_st;

namespace meshd::ca {

struct OpenSslAccess;  // defined in openssl.cc; reaches the raw OpenSSL pointers

enum class KeyType { kEcdsaP256, kRsa2048 };

// A public key. One taken from a certificate whose key OpenSSL cannot decode is empty: it
// reads as kOther with 0 bits and equals nothing.
class PublicKey {
 public:
  enum class Algorithm { kEc, kRsa, kOther };

  Algorithm algorithm() const;
  int bits() const;
  // The EC group's name ("prime256v1", "secp384r1"); empty for non-EC keys.
  std::string curve() const;
  // A short description for messages, e.g. "EC prime256v1" or "RSA 2048".
  std::string Describe() const;
  bool Equals(const PublicKey& other) const;

 private:
  friend struct OpenSslAccess;
  explicit PublicKey(std::shared_ptr<evp_pkey_st> pkey) : pkey_(std::move(pkey)) {}
  std::shared_ptr<evp_pkey_st> pkey_;
};

// OK for the keys the CA accepts in CSRs and as signing keys: EC P-256 / P-384 and RSA with
// 2048 to 8192 bits. Anything else is InvalidArgument naming the key.
absl::Status CheckKeyStrength(const PublicKey& key);

class PrivateKey {
 public:
  static absl::StatusOr<PrivateKey> Generate(KeyType type);
  // Reads one unencrypted private key (PKCS#8, or traditional RSA / EC). Never prompts.
  static absl::StatusOr<PrivateKey> FromPem(absl::string_view pem);

  // PKCS#8, unencrypted.
  std::string ToPem() const;
  PublicKey public_key() const;

 private:
  friend struct OpenSslAccess;
  explicit PrivateKey(std::shared_ptr<evp_pkey_st> pkey) : pkey_(std::move(pkey)) {}
  std::shared_ptr<evp_pkey_st> pkey_;
};

// Key usage bits (RFC 5280 4.2.1.3), as this CA sets and reports them.
enum KeyUsage : uint32_t {
  kDigitalSignature = 1u << 0,
  kKeyEncipherment = 1u << 1,
  kKeyCertSign = 1u << 2,
  kCrlSign = 1u << 3,
};
// Extended key usage bits (RFC 5280 4.2.1.12).
enum ExtKeyUsage : uint32_t {
  kServerAuth = 1u << 0,
  kClientAuth = 1u << 1,
};

// What a certificate says, parsed.
struct CertificateInfo {
  std::string subject;  // RFC 2253 form, "" when empty
  std::string issuer;
  std::string serial_hex;
  absl::Time not_before;
  absl::Time not_after;
  bool is_ca = false;  // basicConstraints CA:TRUE
  bool self_signed = false;
  uint32_t key_usage = 0;      // KeyUsage bits; 0 when the extension is absent
  uint32_t ext_key_usage = 0;  // ExtKeyUsage bits; 0 when the extension is absent
  bool san_critical = false;
  std::vector<std::string> dns_sans;
  std::vector<std::string> uri_sans;
  std::vector<std::string> ip_sans;
};

class Certificate {
 public:
  // Exactly one certificate.
  static absl::StatusOr<Certificate> FromPem(absl::string_view pem);
  // One or more concatenated certificates, in order.
  static absl::StatusOr<std::vector<Certificate>> ChainFromPem(absl::string_view pem);

  std::string ToPem() const;
  std::string ToDer() const;
  CertificateInfo Info() const;
  PublicKey public_key() const;

  friend bool operator==(const Certificate& a, const Certificate& b);
  friend bool operator!=(const Certificate& a, const Certificate& b) { return !(a == b); }

 private:
  friend struct OpenSslAccess;
  explicit Certificate(std::shared_ptr<x509_st> x509) : x509_(std::move(x509)) {}
  std::shared_ptr<x509_st> x509_;
};

// Lowercase hex SHA-256 of `data` (fingerprints of key material, without keeping the bytes).
std::string Sha256Hex(absl::string_view data);

// Concatenated PEM of `certs`.
std::string ToPem(const std::vector<Certificate>& certs);

// Whether `key` is the private half of `cert`'s public key.
bool KeyMatches(const PrivateKey& key, const Certificate& cert);

// A certificate signing request, parsed and with its self-signature verified.
struct CsrInfo {
  PublicKey public_key;
  std::string subject;
  std::vector<std::string> dns_sans;
  std::vector<std::string> uri_sans;
  std::vector<std::string> ip_sans;
  std::vector<std::string> email_sans;
  int other_sans = 0;  // otherName, directoryName, ...: counted, not decoded
};

// Parses one PEM CSR (untrusted input: every failure is InvalidArgument) and verifies that it
// is signed by the key it carries.
// EC P-256 CSRs signed with ecdsa-with-SHA256 in the usual shape take a fast path that
// avoids OpenSSL 3's provider decoders; everything else goes through ParseCsrGeneral, with
// the same results.
absl::StatusOr<CsrInfo> ParseCsr(absl::string_view pem);
// ParseCsr without the fast path (for tests comparing the two).
absl::StatusOr<CsrInfo> ParseCsrGeneral(absl::string_view pem);

struct CsrTemplate {
  std::string common_name;   // empty: none
  std::string organization;  // empty: none
  std::vector<std::string> dns_sans;
  std::vector<std::string> uri_sans;
};

// A PEM CSR for `key` (what a workload agent sends).
absl::StatusOr<std::string> CreateCsr(const PrivateKey& key, const CsrTemplate& tmpl);

struct CertificateTemplate {
  std::string common_name;   // empty: none
  std::string organization;  // empty: none
  absl::Time not_before;
  absl::Time not_after;
  bool is_ca = false;
  int path_len = -1;  // CA only; < 0: unlimited
  uint32_t key_usage = 0;
  uint32_t ext_key_usage = 0;
  std::vector<std::string> dns_sans;
  std::vector<std::string> uri_sans;
};

// Issues a certificate for `subject_key` described by `tmpl`, with a random 126-bit serial and
// SHA-256, signed by `issuer_key` in the name of `issuer`. A null `issuer` makes it self-signed
// (then `issuer_key` must be the subject's key). When the subject is empty the SAN extension is
// critical (RFC 5280 4.2.1.6). SAN values must be printable ASCII without spaces.
absl::StatusOr<Certificate> IssueCertificate(const CertificateTemplate& tmpl,
                                             const PublicKey& subject_key,
                                             const Certificate* issuer,
                                             const PrivateKey& issuer_key);

// An issuer's certificate and key prepared for issuing end-entity certificates (the CA's hot
// path): its name, authority key identifier and signature algorithm are encoded once, and an
// EC key signs through the EC_KEY API instead of fetching the algorithm from a provider on
// every call. Issue encodes the TBSCertificate's DER directly and gives the same certificate
// IssueCertificate builds for the same template (extensions in the same order and encoding),
// about twice as fast.
class LeafIssuer {
 public:
  // `issuer` must hold the public half of `key`, an EC or RSA key.
  static absl::StatusOr<LeafIssuer> Create(const Certificate& issuer, const PrivateKey& key);

  // A certificate for `subject_key` described by `tmpl`, which must not be a CA, as PEM.
  absl::StatusOr<std::string> IssuePem(const CertificateTemplate& tmpl,
                                       const PublicKey& subject_key) const;

 private:
  struct State;  // defined in openssl.cc
  explicit LeafIssuer(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

// The certificate as `openssl x509 -text` prints it, without the serial number and the
// signature value (what two issuances of the same template have in common).
std::string CertificateText(const Certificate& cert);

// Verifies `leaf` up to one of `roots` through `intermediates` (untrusted, any order) as of
// `at`. Returns the verified path: `leaf` first, the anchoring root last (a self-signed root
// verified against itself gives a path of one). The failure names OpenSSL's reason.
absl::StatusOr<std::vector<Certificate>> VerifyChain(const Certificate& leaf,
                                                     const std::vector<Certificate>& intermediates,
                                                     const std::vector<Certificate>& roots,
                                                     absl::Time at);

}  // namespace meshd::ca
