#include "ca/openssl.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"

namespace meshd::ca {

struct OpenSslAccess {
  static EVP_PKEY* Get(const PublicKey& k) { return k.pkey_.get(); }
  static EVP_PKEY* Get(const PrivateKey& k) { return k.pkey_.get(); }
  static X509* Get(const Certificate& c) { return c.x509_.get(); }

  // The Make* functions take ownership of one reference.
  static PublicKey MakePublic(EVP_PKEY* p) { return PublicKey(Own(p)); }
  static PrivateKey MakePrivate(EVP_PKEY* p) { return PrivateKey(Own(p)); }
  static Certificate MakeCert(X509* x) { return Certificate(std::shared_ptr<X509>(x, X509_free)); }
  static PublicKey SharePublic(std::shared_ptr<EVP_PKEY> p) { return PublicKey(std::move(p)); }
  static std::shared_ptr<EVP_PKEY> Own(EVP_PKEY* p) {
    return std::shared_ptr<EVP_PKEY>(p, EVP_PKEY_free);
  }
};

namespace {

using A = OpenSslAccess;

// Scoped owners for the OpenSSL objects this file creates transiently.
template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME, X509_NAME_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

void FreeExtensions(STACK_OF(X509_EXTENSION) * exts) {
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}
using ExtsPtr =
    std::unique_ptr<STACK_OF(X509_EXTENSION), Deleter<STACK_OF(X509_EXTENSION), FreeExtensions>>;
void FreeCertStack(STACK_OF(X509) * s) { sk_X509_free(s); }  // elements are borrowed
using CertStackPtr = std::unique_ptr<STACK_OF(X509), Deleter<STACK_OF(X509), FreeCertStack>>;

// Drains this thread's OpenSSL error queue into one line.
std::string DrainErrors() {
  std::vector<std::string> errors;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    errors.emplace_back(buf);
  }
  return errors.empty() ? "no OpenSSL error" : absl::StrJoin(errors, "; ");
}

absl::Status Internal(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", DrainErrors()));
}
absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", DrainErrors()));
}

// Never prompts for a passphrase (OpenSSL's default callback reads the terminal).
int NoPassword(char*, int, int, void*) { return 0; }

BioPtr ReadBio(absl::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, len > 0 ? static_cast<size_t>(len) : 0);
}

// What an OpenSSL i2d function writes (`i2d(&der)`), or "" when it fails.
template <typename I2d>
std::string DerOf(I2d i2d) {
  unsigned char* der = nullptr;
  int len = i2d(&der);
  if (len <= 0) {
    ERR_clear_error();
    return "";
  }
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// True when the last error on the queue means "no more PEM blocks".
bool AtPemEnd() {
  unsigned long e = ERR_peek_last_error();
  return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

absl::Time FromAsn1Time(const ASN1_TIME* t) {
  struct tm tm = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return absl::InfinitePast();
  return absl::FromTimeT(timegm(&tm));
}

std::string Asn1String(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

std::string NameString(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (name == nullptr || bio == nullptr) return "";
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return BioContents(bio.get());
}

struct Sans {
  std::vector<std::string> dns, uri, ip, email;
  int other = 0;
};

Sans DecodeSans(const GENERAL_NAMES* names) {
  Sans sans;
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    switch (name->type) {
      case GEN_DNS:
        sans.dns.push_back(Asn1String(name->d.dNSName));
        break;
      case GEN_URI:
        sans.uri.push_back(Asn1String(name->d.uniformResourceIdentifier));
        break;
      case GEN_EMAIL:
        sans.email.push_back(Asn1String(name->d.rfc822Name));
        break;
      case GEN_IPADD: {
        std::string raw = Asn1String(name->d.iPAddress);
        char text[INET6_ADDRSTRLEN] = {};
        int family = raw.size() == 4 ? AF_INET : raw.size() == 16 ? AF_INET6 : 0;
        if (family != 0 && inet_ntop(family, raw.data(), text, sizeof(text)) != nullptr) {
          sans.ip.emplace_back(text);
        } else {
          ++sans.other;
        }
        break;
      }
      default:
        ++sans.other;
    }
  }
  return sans;
}

// Printable ASCII without spaces: what an IA5String SAN of ours may hold.
absl::Status CheckSanValue(absl::string_view value) {
  if (value.empty()) return absl::InvalidArgumentError("empty SAN");
  for (char c : value) {
    if (!absl::ascii_isgraph(c)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid character in SAN \"", value, "\""));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<NamesPtr> BuildSans(const std::vector<std::string>& dns,
                                   const std::vector<std::string>& uri) {
  NamesPtr names(sk_GENERAL_NAME_new_null());
  if (names == nullptr) return Internal("allocating SANs");
  auto add = [&](int type, const std::string& value) -> absl::Status {
    if (absl::Status s = CheckSanValue(value); !s.ok()) return s;
    ASN1_IA5STRING* str = ASN1_IA5STRING_new();
    GENERAL_NAME* name = GENERAL_NAME_new();
    if (str == nullptr || name == nullptr ||
        ASN1_STRING_set(str, value.data(), static_cast<int>(value.size())) != 1) {
      ASN1_IA5STRING_free(str);
      GENERAL_NAME_free(name);
      return Internal("building SAN");
    }
    GENERAL_NAME_set0_value(name, type, str);
    if (sk_GENERAL_NAME_push(names.get(), name) == 0) {
      GENERAL_NAME_free(name);
      return Internal("building SAN");
    }
    return absl::OkStatus();
  };
  for (const std::string& d : dns) {
    if (absl::Status s = add(GEN_DNS, d); !s.ok()) return s;
  }
  for (const std::string& u : uri) {
    if (absl::Status s = add(GEN_URI, u); !s.ok()) return s;
  }
  return names;
}

absl::StatusOr<NamePtr> BuildName(const std::string& common_name, const std::string& organization) {
  NamePtr name(X509_NAME_new());
  if (name == nullptr) return Internal("allocating name");
  auto add = [&](const char* field, const std::string& value) {
    return value.empty() ||
           X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.data()),
                                      static_cast<int>(value.size()), -1, 0) == 1;
  };
  if (!add("O", organization) || !add("CN", common_name)) {
    return Invalid("invalid subject name");
  }
  return name;
}

// Adds one extension given in OpenSSL's config syntax (constant strings only: values that
// come from outside go through BuildSans, which cannot be injected into).
absl::Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value.c_str()));
  if (ext == nullptr || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Internal(absl::StrCat("adding extension ", OBJ_nid2sn(nid), "=", value));
  }
  return absl::OkStatus();
}

std::string KeyUsageString(uint32_t bits) {
  std::vector<std::string> parts = {"critical"};
  if (bits & kDigitalSignature) parts.push_back("digitalSignature");
  if (bits & kKeyEncipherment) parts.push_back("keyEncipherment");
  if (bits & kKeyCertSign) parts.push_back("keyCertSign");
  if (bits & kCrlSign) parts.push_back("cRLSign");
  return absl::StrJoin(parts, ",");
}

std::string ExtKeyUsageString(uint32_t bits) {
  std::vector<std::string> parts;
  if (bits & kServerAuth) parts.push_back("serverAuth");
  if (bits & kClientAuth) parts.push_back("clientAuth");
  return absl::StrJoin(parts, ",");
}

}  // namespace

// ---- keys -------------------------------------------------------------------------------------

// A PublicKey may hold null: a certificate whose key OpenSSL cannot decode. It then reads as
// an unsupported key of 0 bits.
PublicKey::Algorithm PublicKey::algorithm() const {
  if (pkey_ == nullptr) return Algorithm::kOther;
  switch (EVP_PKEY_get_base_id(pkey_.get())) {
    case EVP_PKEY_EC:
      return Algorithm::kEc;
    case EVP_PKEY_RSA:
      return Algorithm::kRsa;
    default:
      return Algorithm::kOther;
  }
}

int PublicKey::bits() const { return pkey_ ? EVP_PKEY_get_bits(pkey_.get()) : 0; }

std::string PublicKey::curve() const {
  if (algorithm() != Algorithm::kEc) return "";
  char name[80] = {};
  size_t len = 0;
  if (EVP_PKEY_get_group_name(pkey_.get(), name, sizeof(name), &len) != 1) {
    ERR_clear_error();
    return "";
  }
  return std::string(name, len);
}

std::string PublicKey::Describe() const {
  switch (algorithm()) {
    case Algorithm::kEc:
      return absl::StrCat("EC ", curve());
    case Algorithm::kRsa:
      return absl::StrCat("RSA ", bits());
    default:
      if (pkey_ == nullptr) return "undecodable key";
      return absl::StrCat(OBJ_nid2sn(EVP_PKEY_get_base_id(pkey_.get())), " ", bits());
  }
}

bool PublicKey::Equals(const PublicKey& other) const {
  return pkey_ && other.pkey_ && EVP_PKEY_eq(pkey_.get(), other.pkey_.get()) == 1;
}

absl::Status CheckKeyStrength(const PublicKey& key) {
  switch (key.algorithm()) {
    case PublicKey::Algorithm::kEc:
      if (key.curve() == "prime256v1" || key.curve() == "secp384r1") return absl::OkStatus();
      break;
    case PublicKey::Algorithm::kRsa:
      if (key.bits() >= 2048 && key.bits() <= 8192) return absl::OkStatus();
      break;
    default:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat("unsupported or weak key ", key.Describe(),
                                                 " (want EC P-256/P-384 or RSA 2048-8192)"));
}

absl::StatusOr<PrivateKey> PrivateKey::Generate(KeyType type) {
  EVP_PKEY* pkey = type == KeyType::kEcdsaP256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
  if (pkey == nullptr) return Internal("generating key");
  return A::MakePrivate(pkey);
}

absl::StatusOr<PrivateKey> PrivateKey::FromPem(absl::string_view pem) {
  BioPtr bio = ReadBio(pem);
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr);
  if (pkey == nullptr) return Invalid("reading PEM private key");
  return A::MakePrivate(pkey);
}

std::string PrivateKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
      1) {
    ERR_clear_error();
    return "";
  }
  return BioContents(bio.get());
}

PublicKey PrivateKey::public_key() const {
  // An EVP_PKEY holding a private key also serves as its public key.
  return OpenSslAccess::SharePublic(pkey_);
}

// ---- certificates -----------------------------------------------------------------------------

absl::StatusOr<Certificate> Certificate::FromPem(absl::string_view pem) {
  absl::StatusOr<std::vector<Certificate>> chain = ChainFromPem(pem);
  if (!chain.ok()) return chain.status();
  if (chain->size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("want one PEM certificate, got ", chain->size()));
  }
  return std::move(chain->front());
}

absl::StatusOr<std::vector<Certificate>> Certificate::ChainFromPem(absl::string_view pem) {
  BioPtr bio = ReadBio(pem);
  std::vector<Certificate> certs;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr)) {
    certs.push_back(A::MakeCert(x));
  }
  if (certs.empty() || !AtPemEnd()) return Invalid("reading PEM certificates");
  ERR_clear_error();
  return certs;
}

std::string Certificate::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), x509_.get()) != 1) {
    ERR_clear_error();
    return "";
  }
  return BioContents(bio.get());
}

std::string Certificate::ToDer() const {
  X509* x = x509_.get();
  return DerOf([x](unsigned char** der) { return i2d_X509(x, der); });
}

CertificateInfo Certificate::Info() const {
  X509* x = x509_.get();
  CertificateInfo info;
  info.subject = NameString(X509_get_subject_name(x));
  info.issuer = NameString(X509_get_issuer_name(x));
  if (BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr)); bn != nullptr) {
    char* hex = BN_bn2hex(bn.get());
    info.serial_hex = hex;
    OPENSSL_free(hex);
  }
  info.not_before = FromAsn1Time(X509_get0_notBefore(x));
  info.not_after = FromAsn1Time(X509_get0_notAfter(x));
  auto* bc =
      static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(x, NID_basic_constraints, nullptr, nullptr));
  info.is_ca = bc != nullptr && bc->ca;
  BASIC_CONSTRAINTS_free(bc);
  info.self_signed = X509_self_signed(x, /*verify_signature=*/1) == 1;

  uint32_t ku = X509_get_key_usage(x);  // UINT32_MAX: extension absent
  if (ku != UINT32_MAX) {
    if (ku & KU_DIGITAL_SIGNATURE) info.key_usage |= kDigitalSignature;
    if (ku & KU_KEY_ENCIPHERMENT) info.key_usage |= kKeyEncipherment;
    if (ku & KU_KEY_CERT_SIGN) info.key_usage |= kKeyCertSign;
    if (ku & KU_CRL_SIGN) info.key_usage |= kCrlSign;
  }
  uint32_t eku = X509_get_extended_key_usage(x);
  if (eku != UINT32_MAX) {
    if (eku & XKU_SSL_SERVER) info.ext_key_usage |= kServerAuth;
    if (eku & XKU_SSL_CLIENT) info.ext_key_usage |= kClientAuth;
  }

  int critical = -1;
  NamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, &critical, nullptr)));
  info.san_critical = critical == 1;
  Sans sans = DecodeSans(names.get());
  info.dns_sans = std::move(sans.dns);
  info.uri_sans = std::move(sans.uri);
  info.ip_sans = std::move(sans.ip);
  ERR_clear_error();
  return info;
}

PublicKey Certificate::public_key() const {
  EVP_PKEY* pkey = X509_get_pubkey(x509_.get());  // new reference; null if undecodable
  ERR_clear_error();
  return A::MakePublic(pkey);
}

bool operator==(const Certificate& a, const Certificate& b) {
  return X509_cmp(a.x509_.get(), b.x509_.get()) == 0;
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    ERR_clear_error();
    return "";
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), static_cast<size_t>(len)));
}

std::string ToPem(const std::vector<Certificate>& certs) {
  std::string out;
  for (const Certificate& c : certs) out += c.ToPem();
  return out;
}

bool KeyMatches(const PrivateKey& key, const Certificate& cert) {
  EVP_PKEY* cert_key = X509_get0_pubkey(A::Get(cert));
  ERR_clear_error();
  return cert_key != nullptr && EVP_PKEY_eq(cert_key, A::Get(key)) == 1;
}

// ---- CSRs -------------------------------------------------------------------------------------

namespace {

// ---- fast path for EC P-256 / ecdsa-with-SHA256 CSRs ----
//
// OpenSSL 3.0's d2i_X509_REQ decodes the SubjectPublicKeyInfo eagerly through the provider
// decoder framework (OSSL_DECODER_CTX_new_for_pkey), which dominates the cost of a CSR. The
// fast path walks the DER itself, decodes the P-256 point with the legacy EC_KEY API on a
// shared group and checks the signature with ECDSA_verify. It accepts only the canonical shape
// agents send; anything else (other keys or algorithms, other attributes, odd encodings, a
// signature that does not verify) returns false and the general path below decides, so the
// results and errors are those of the general path.

// Reads one DER element with tag `tag` from the front of `in`: `tlv` is the whole element,
// `body` its contents. Definite, minimal lengths only.
bool ReadTlv(absl::string_view* in, uint8_t tag, absl::string_view* tlv, absl::string_view* body) {
  if (in->size() < 2 || static_cast<uint8_t>((*in)[0]) != tag) return false;
  uint8_t first = static_cast<uint8_t>((*in)[1]);
  size_t len = 0, header = 2;
  if (first < 0x80) {
    len = first;
  } else {
    size_t n = first & 0x7f;
    if (n == 0 || n > 3 || in->size() < 2 + n || (*in)[2] == 0) return false;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | static_cast<uint8_t>((*in)[2 + i]);
    if (len < 0x80) return false;
    header = 2 + n;
  }
  if (in->size() - header < len) return false;
  *tlv = in->substr(0, header + len);
  *body = in->substr(header, len);
  in->remove_prefix(header + len);
  return true;
}

// SubjectPublicKeyInfo of an uncompressed P-256 point, up to the point itself.
constexpr unsigned char kP256SpkiPrefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                             0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                             0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
constexpr size_t kP256PointSize = 65;
// AlgorithmIdentifier ecdsa-with-SHA256 (no parameters).
constexpr unsigned char kEcdsaSha256Alg[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                             0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
// OIDs (full TLV) of the PKCS#9 extensionRequest and Microsoft's older variant.
constexpr unsigned char kExtReqOid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                        0xf7, 0x0d, 0x01, 0x09, 0x0e};
constexpr unsigned char kVersion1[] = {0x02, 0x01, 0x00};

bool BytesEqual(absl::string_view s, const unsigned char* bytes, size_t n) {
  return s.size() == n && std::memcmp(s.data(), bytes, n) == 0;
}
const unsigned char* U(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The P-256 group, built once (EC_KEY_set_group copies it per key).
const EC_GROUP* P256Group() {
  static const EC_GROUP* group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  return group;
}

using EcKeyPtr = std::unique_ptr<EC_KEY, Deleter<EC_KEY, EC_KEY_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;

// The first PEM block's DER when it is a plain "CERTIFICATE REQUEST".
bool PemCsrDer(absl::string_view pem, std::string* der) {
  BioPtr bio = ReadBio(pem);
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  bool ok = PEM_read_bio(bio.get(), &name, &header, &data, &len) == 1 &&
            std::strcmp(name, PEM_STRING_X509_REQ) == 0 && header[0] == '\0' && len > 0;
  if (ok) der->assign(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  return ok;
}

bool FastParseCsr(absl::string_view pem, CsrInfo* info) {
  std::string der;
  if (!PemCsrDer(pem, &der)) return false;
  absl::string_view in = der, tlv, req, tbs_tlv, tbs, alg, alg_body, sig, sig_body;
  if (!ReadTlv(&in, 0x30, &tlv, &req) || !in.empty()) return false;
  if (!ReadTlv(&req, 0x30, &tbs_tlv, &tbs) || !ReadTlv(&req, 0x30, &alg, &alg_body) ||
      !ReadTlv(&req, 0x03, &sig, &sig_body) || !req.empty()) {
    return false;
  }
  if (!BytesEqual(alg, kEcdsaSha256Alg, sizeof(kEcdsaSha256Alg)) || sig_body.size() < 2 ||
      sig_body[0] != 0) {
    return false;
  }
  absl::string_view version, subject, subject_body, spki, spki_body, attrs_tlv, attrs;
  if (!ReadTlv(&tbs, 0x02, &version, &subject_body) ||
      !BytesEqual(version, kVersion1, sizeof(kVersion1)) ||
      !ReadTlv(&tbs, 0x30, &subject, &subject_body) || !ReadTlv(&tbs, 0x30, &spki, &spki_body) ||
      !ReadTlv(&tbs, 0xa0, &attrs_tlv, &attrs) || !tbs.empty()) {
    return false;
  }
  if (spki.size() != sizeof(kP256SpkiPrefix) + kP256PointSize ||
      std::memcmp(spki.data(), kP256SpkiPrefix, sizeof(kP256SpkiPrefix)) != 0) {
    return false;
  }
  absl::string_view point = spki.substr(sizeof(kP256SpkiPrefix));
  // Attributes: at most one, the extensionRequest, holding one Extensions SEQUENCE.
  absl::string_view extensions;
  while (!attrs.empty()) {
    absl::string_view attr_tlv, attr, oid, oid_body, values_tlv, values, ext_body;
    if (!extensions.empty() || !ReadTlv(&attrs, 0x30, &attr_tlv, &attr) ||
        !ReadTlv(&attr, 0x06, &oid, &oid_body) ||
        !BytesEqual(oid, kExtReqOid, sizeof(kExtReqOid)) ||
        !ReadTlv(&attr, 0x31, &values_tlv, &values) || !attr.empty() ||
        !ReadTlv(&values, 0x30, &extensions, &ext_body) || !values.empty()) {
      return false;
    }
  }

  // The signature, with the key the CSR carries.
  const EC_GROUP* group = P256Group();
  EcKeyPtr ec(EC_KEY_new());
  if (group == nullptr || ec == nullptr || EC_KEY_set_group(ec.get(), group) != 1 ||
      EC_KEY_oct2key(ec.get(), U(point), point.size(), nullptr) != 1) {
    ERR_clear_error();
    return false;
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(U(tbs_tlv), tbs_tlv.size(), digest);
  absl::string_view signature = sig_body.substr(1);
  if (ECDSA_verify(0, digest, sizeof(digest), U(signature), static_cast<int>(signature.size()),
                   ec.get()) != 1) {
    ERR_clear_error();
    return false;
  }

  const unsigned char* p = U(subject);
  NamePtr name(d2i_X509_NAME(nullptr, &p, static_cast<long>(subject.size())));
  if (name == nullptr || p != U(subject) + subject.size()) {
    ERR_clear_error();
    return false;
  }
  Sans sans;
  if (!extensions.empty()) {
    p = U(extensions);
    ExtsPtr exts(d2i_X509_EXTENSIONS(nullptr, &p, static_cast<long>(extensions.size())));
    if (exts == nullptr || p != U(extensions) + extensions.size()) {
      ERR_clear_error();
      return false;
    }
    int critical = -1;
    NamesPtr names(static_cast<GENERAL_NAMES*>(
        X509V3_get_d2i(exts.get(), NID_subject_alt_name, &critical, nullptr)));
    if (names == nullptr && critical != -1) {
      ERR_clear_error();
      return false;
    }
    sans = DecodeSans(names.get());
  }

  // A legacy (non-provider) EVP_PKEY: cheap to build, and X509_set_pubkey encodes it with
  // the legacy method instead of the provider encoder.
  PkeyPtr pkey(EVP_PKEY_new());
  if (pkey == nullptr || EVP_PKEY_assign_EC_KEY(pkey.get(), ec.get()) != 1) {
    ERR_clear_error();
    return false;
  }
  ec.release();  // owned by pkey now
  info->public_key = A::MakePublic(pkey.release());
  info->subject = NameString(name.get());
  info->dns_sans = std::move(sans.dns);
  info->uri_sans = std::move(sans.uri);
  info->ip_sans = std::move(sans.ip);
  info->email_sans = std::move(sans.email);
  info->other_sans = sans.other;
  ERR_clear_error();
  return true;
}

}  // namespace

absl::StatusOr<CsrInfo> ParseCsr(absl::string_view pem) {
  if (CsrInfo info{A::MakePublic(nullptr)}; FastParseCsr(pem, &info)) return info;
  return ParseCsrGeneral(pem);
}

absl::StatusOr<CsrInfo> ParseCsrGeneral(absl::string_view pem) {
  BioPtr bio = ReadBio(pem);
  ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, NoPassword, nullptr));
  if (req == nullptr) return Invalid("reading PEM CSR");
  EVP_PKEY* pkey = X509_REQ_get_pubkey(req.get());  // new reference
  if (pkey == nullptr) return Invalid("CSR public key");
  PublicKey key = A::MakePublic(pkey);
  if (X509_REQ_verify(req.get(), pkey) != 1) return Invalid("CSR signature does not verify");

  CsrInfo info{std::move(key), NameString(X509_REQ_get_subject_name(req.get()))};
  ExtsPtr exts(X509_REQ_get_extensions(req.get()));
  ERR_clear_error();  // a CSR without extensions leaves an error on the queue
  if (exts != nullptr) {
    int critical = -1;
    NamesPtr names(static_cast<GENERAL_NAMES*>(
        X509V3_get_d2i(exts.get(), NID_subject_alt_name, &critical, nullptr)));
    if (names == nullptr && critical != -1) {  // -2: repeated extension; >= 0: undecodable
      return Invalid("CSR subjectAltName extension is malformed or repeated");
    }
    Sans sans = DecodeSans(names.get());
    info.dns_sans = std::move(sans.dns);
    info.uri_sans = std::move(sans.uri);
    info.ip_sans = std::move(sans.ip);
    info.email_sans = std::move(sans.email);
    info.other_sans = sans.other;
  }
  return info;
}

absl::StatusOr<std::string> CreateCsr(const PrivateKey& key, const CsrTemplate& tmpl) {
  ReqPtr req(X509_REQ_new());
  if (req == nullptr || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1) {
    return Internal("allocating CSR");
  }
  absl::StatusOr<NamePtr> name = BuildName(tmpl.common_name, tmpl.organization);
  if (!name.ok()) return name.status();
  if (X509_REQ_set_subject_name(req.get(), name->get()) != 1 ||
      X509_REQ_set_pubkey(req.get(), A::Get(key)) != 1) {
    return Internal("building CSR");
  }
  if (!tmpl.dns_sans.empty() || !tmpl.uri_sans.empty()) {
    absl::StatusOr<NamesPtr> sans = BuildSans(tmpl.dns_sans, tmpl.uri_sans);
    if (!sans.ok()) return sans.status();
    ExtsPtr exts(sk_X509_EXTENSION_new_null());
    X509_EXTENSION* ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, sans->get());
    if (exts == nullptr || ext == nullptr || sk_X509_EXTENSION_push(exts.get(), ext) == 0) {
      X509_EXTENSION_free(ext);
      return Internal("building CSR SANs");
    }
    if (X509_REQ_add_extensions(req.get(), exts.get()) != 1) return Internal("adding CSR SANs");
  }
  if (X509_REQ_sign(req.get(), A::Get(key), EVP_sha256()) <= 0) return Internal("signing CSR");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) return Internal("writing CSR");
  return BioContents(bio.get());
}

// ---- issuance and verification ----------------------------------------------------------------

absl::StatusOr<Certificate> IssueCertificate(const CertificateTemplate& tmpl,
                                             const PublicKey& subject_key,
                                             const Certificate* issuer,
                                             const PrivateKey& issuer_key) {
  X509Ptr x(X509_new());
  if (x == nullptr || X509_set_version(x.get(), X509_VERSION_3) != 1) {
    return Internal("allocating certificate");
  }

  // A positive serial with 126 random bits (RFC 5280 allows up to 20 octets).
  BnPtr serial(BN_new());
  if (serial == nullptr || BN_rand(serial.get(), 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x.get())) == nullptr) {
    return Internal("generating serial");
  }

  absl::StatusOr<NamePtr> subject = BuildName(tmpl.common_name, tmpl.organization);
  if (!subject.ok()) return subject.status();
  X509_NAME* issuer_name = issuer ? X509_get_subject_name(A::Get(*issuer)) : subject->get();
  if (X509_set_subject_name(x.get(), subject->get()) != 1 ||
      X509_set_issuer_name(x.get(), issuer_name) != 1 ||
      ASN1_TIME_set(X509_getm_notBefore(x.get()), absl::ToTimeT(tmpl.not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x.get()), absl::ToTimeT(tmpl.not_after)) == nullptr ||
      X509_set_pubkey(x.get(), A::Get(subject_key)) != 1) {
    return Internal("building certificate");
  }

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? A::Get(*issuer) : x.get(), x.get(), nullptr, nullptr, 0);
  std::string basic = tmpl.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
  if (tmpl.is_ca && tmpl.path_len >= 0) absl::StrAppend(&basic, ",pathlen:", tmpl.path_len);
  std::vector<std::pair<int, std::string>> extensions = {{NID_basic_constraints, basic},
                                                         {NID_subject_key_identifier, "hash"}};
  if (issuer != nullptr) extensions.push_back({NID_authority_key_identifier, "keyid,issuer"});
  if (tmpl.key_usage != 0) extensions.push_back({NID_key_usage, KeyUsageString(tmpl.key_usage)});
  if (tmpl.ext_key_usage != 0) {
    extensions.push_back({NID_ext_key_usage, ExtKeyUsageString(tmpl.ext_key_usage)});
  }
  for (const auto& [nid, value] : extensions) {
    if (absl::Status s = AddExtension(x.get(), &ctx, nid, value); !s.ok()) return s;
  }
  if (!tmpl.dns_sans.empty() || !tmpl.uri_sans.empty()) {
    absl::StatusOr<NamesPtr> sans = BuildSans(tmpl.dns_sans, tmpl.uri_sans);
    if (!sans.ok()) return sans.status();
    bool critical = tmpl.common_name.empty() && tmpl.organization.empty();
    if (X509_add1_ext_i2d(x.get(), NID_subject_alt_name, sans->get(), critical ? 1 : 0,
                          X509V3_ADD_DEFAULT) != 1) {
      return Internal("adding SANs");
    }
  }

  if (X509_sign(x.get(), A::Get(issuer_key), EVP_sha256()) <= 0) {
    return Internal("signing certificate");
  }
  return A::MakeCert(x.release());
}

// ---- leaf issuance from prepared DER ----------------------------------------------------------

namespace {

template <size_t N>
constexpr absl::string_view Bytes(const char (&s)[N]) {
  return absl::string_view(s, N - 1);
}

// Full TLVs of the OIDs a leaf carries.
constexpr absl::string_view kOidSubjectKeyId = Bytes("\x06\x03\x55\x1d\x0e");
constexpr absl::string_view kOidKeyUsage = Bytes("\x06\x03\x55\x1d\x0f");
constexpr absl::string_view kOidSubjectAltName = Bytes("\x06\x03\x55\x1d\x11");
constexpr absl::string_view kOidBasicConstraints = Bytes("\x06\x03\x55\x1d\x13");
constexpr absl::string_view kOidAuthorityKeyId = Bytes("\x06\x03\x55\x1d\x23");
constexpr absl::string_view kOidExtKeyUsage = Bytes("\x06\x03\x55\x1d\x25");
constexpr absl::string_view kOidServerAuth = Bytes("\x06\x08\x2b\x06\x01\x05\x05\x07\x03\x01");
constexpr absl::string_view kOidClientAuth = Bytes("\x06\x08\x2b\x06\x01\x05\x05\x07\x03\x02");
// AlgorithmIdentifiers of the signatures X509_sign makes with SHA-256.
constexpr absl::string_view kAlgEcdsaSha256 =
    Bytes("\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02");
constexpr absl::string_view kAlgRsaSha256 =
    Bytes("\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b\x05\x00");
constexpr absl::string_view kVersion3 = Bytes("\xa0\x03\x02\x01\x02");
constexpr absl::string_view kEmptyName = Bytes("\x30\x00");
constexpr absl::string_view kCritical = Bytes("\x01\x01\xff");

void AppendDerLength(std::string* out, size_t len) {
  if (len < 0x80) {
    out->push_back(static_cast<char>(len));
    return;
  }
  char buf[sizeof(size_t)];
  int n = 0;
  for (size_t l = len; l > 0; l >>= 8) buf[n++] = static_cast<char>(l & 0xff);
  out->push_back(static_cast<char>(0x80 | n));
  while (n > 0) out->push_back(buf[--n]);
}

void AppendTlv(std::string* out, uint8_t tag, absl::string_view body) {
  out->push_back(static_cast<char>(tag));
  AppendDerLength(out, body.size());
  out->append(body.data(), body.size());
}

std::string Tlv(uint8_t tag, absl::string_view body) {
  std::string out;
  out.reserve(body.size() + 6);
  AppendTlv(&out, tag, body);
  return out;
}

// Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
void AppendExtension(std::string* out, absl::string_view oid, bool critical,
                     absl::string_view value) {
  std::string body(oid);
  if (critical) body.append(kCritical.data(), kCritical.size());
  AppendTlv(&body, 0x04, value);
  AppendTlv(out, 0x30, body);
}

// UTCTime for 1950-2049, GeneralizedTime otherwise (RFC 5280 4.1.2.5, as ASN1_TIME_set does).
void AppendTime(std::string* out, absl::Time t) {
  absl::CivilSecond c = absl::ToCivilSecond(t, absl::UTCTimeZone());
  char buf[32];
  bool utc = c.year() >= 1950 && c.year() < 2050;
  int n =
      utc ? std::snprintf(buf, sizeof(buf), "%02d%02d%02d%02d%02d%02dZ",
                          static_cast<int>(c.year() % 100), c.month(), c.day(), c.hour(),
                          c.minute(), c.second())
          : std::snprintf(buf, sizeof(buf), "%04d%02d%02d%02d%02d%02dZ", static_cast<int>(c.year()),
                          c.month(), c.day(), c.hour(), c.minute(), c.second());
  AppendTlv(out, utc ? 0x17 : 0x18, absl::string_view(buf, static_cast<size_t>(n)));
}

// RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits of a SubjectPublicKeyInfo.
bool KeyIdFromSpki(absl::string_view spki, std::string* key_id) {
  absl::string_view tlv, body, alg, alg_body, bits, bits_body;
  if (!ReadTlv(&spki, 0x30, &tlv, &body) || !ReadTlv(&body, 0x30, &alg, &alg_body) ||
      !ReadTlv(&body, 0x03, &bits, &bits_body) || bits_body.empty()) {
    return false;
  }
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(U(bits_body) + 1, bits_body.size() - 1, digest);
  key_id->assign(reinterpret_cast<const char*>(digest), sizeof(digest));
  return true;
}

std::string SpkiDer(EVP_PKEY* key) {
  if (key == nullptr) return "";
  return DerOf([key](unsigned char** der) { return i2d_PUBKEY(key, der); });
}

// PEM of one DER certificate: base64 in lines of 64 characters.
std::string CertificatePem(absl::string_view der) {
  std::string b64(4 * ((der.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), U(der),
                          static_cast<int>(der.size()));
  b64.resize(static_cast<size_t>(std::max(n, 0)));
  static constexpr absl::string_view kBegin = "-----BEGIN CERTIFICATE-----\n";
  static constexpr absl::string_view kEnd = "-----END CERTIFICATE-----\n";
  std::string pem;
  pem.reserve(kBegin.size() + b64.size() + b64.size() / 64 + 1 + kEnd.size());
  pem.append(kBegin.data(), kBegin.size());
  for (size_t i = 0; i < b64.size(); i += 64) {
    pem.append(b64, i, 64);
    pem.push_back('\n');
  }
  pem.append(kEnd.data(), kEnd.size());
  return pem;
}

}  // namespace

struct LeafIssuer::State {
  std::string issuer_name;       // DER of the issuer's subject
  std::string authority_key_id;  // the whole AuthorityKeyIdentifier extension
  absl::string_view signature_algorithm;
  std::shared_ptr<EC_KEY> ec_key;     // EC issuers: signs with ECDSA_sign
  std::shared_ptr<EVP_PKEY> rsa_key;  // RSA issuers: EVP_DigestSign

  // The signature over `tbs`, as the BIT STRING's contents.
  absl::StatusOr<std::string> Sign(absl::string_view tbs) const {
    std::string out(1, '\0');  // no unused bits
    if (ec_key != nullptr) {
      unsigned char digest[SHA256_DIGEST_LENGTH];
      SHA256(U(tbs), tbs.size(), digest);
      out.resize(1 + static_cast<size_t>(ECDSA_size(ec_key.get())));
      unsigned int len = 0;
      if (ECDSA_sign(0, digest, sizeof(digest), reinterpret_cast<unsigned char*>(&out[1]), &len,
                     ec_key.get()) != 1) {
        return Internal("signing certificate");
      }
      out.resize(1 + len);
      return out;
    }
    std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
    size_t len = 0;
    if (ctx == nullptr ||
        EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, rsa_key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, U(tbs), tbs.size()) != 1) {
      return Internal("signing certificate");
    }
    out.resize(1 + len);
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(&out[1]), &len, U(tbs),
                       tbs.size()) != 1) {
      return Internal("signing certificate");
    }
    out.resize(1 + len);
    return out;
  }
};

absl::StatusOr<LeafIssuer> LeafIssuer::Create(const Certificate& issuer, const PrivateKey& key) {
  if (!KeyMatches(key, issuer)) {
    return absl::InvalidArgumentError("issuer key does not match the issuer certificate");
  }
  auto state = std::make_shared<State>();
  X509* x = A::Get(issuer);
  state->issuer_name =
      DerOf([x](unsigned char** der) { return i2d_X509_NAME(X509_get_subject_name(x), der); });
  if (state->issuer_name.empty()) return Internal("encoding issuer name");

  // keyid: the issuer's own subject key identifier, else the hash of its key (as OpenSSL's
  // "keyid" does).
  std::string key_id;
  if (const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(x); ski != nullptr) {
    key_id = Asn1String(ski);
  } else if (!KeyIdFromSpki(SpkiDer(X509_get0_pubkey(x)), &key_id)) {
    return Internal("issuer key identifier");
  }
  AppendExtension(&state->authority_key_id, kOidAuthorityKeyId, false,
                  Tlv(0x30, Tlv(0x80, key_id)));

  EVP_PKEY* pkey = A::Get(key);
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_EC: {
      EC_KEY* ec = EVP_PKEY_get1_EC_KEY(pkey);  // a legacy copy with the private key
      if (ec == nullptr) return Internal("issuer EC key");
      state->ec_key = std::shared_ptr<EC_KEY>(ec, EC_KEY_free);
      state->signature_algorithm = kAlgEcdsaSha256;
      break;
    }
    case EVP_PKEY_RSA:
      EVP_PKEY_up_ref(pkey);
      state->rsa_key = A::Own(pkey);
      state->signature_algorithm = kAlgRsaSha256;
      break;
    default:
      return absl::InvalidArgumentError("issuer key is neither EC nor RSA");
  }
  ERR_clear_error();
  return LeafIssuer(std::move(state));
}

absl::StatusOr<std::string> LeafIssuer::IssuePem(const CertificateTemplate& tmpl,
                                                 const PublicKey& subject_key) const {
  if (tmpl.is_ca) return absl::InvalidArgumentError("LeafIssuer issues no CA certificates");
  std::string spki = SpkiDer(A::Get(subject_key));
  std::string key_id;
  if (spki.empty() || !KeyIdFromSpki(spki, &key_id)) return Internal("encoding subject key");

  std::string tbs;
  tbs.reserve(640);
  tbs.append(kVersion3.data(), kVersion3.size());
  // A positive serial with 126 random bits, top bit set: what BN_rand(127, TOP_ONE) gives.
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1) return Internal("generating serial");
  serial[0] = static_cast<unsigned char>((serial[0] & 0x3f) | 0x40);
  AppendTlv(&tbs, 0x02, absl::string_view(reinterpret_cast<const char*>(serial), sizeof(serial)));
  tbs.append(state_->signature_algorithm.data(), state_->signature_algorithm.size());
  tbs.append(state_->issuer_name);
  std::string validity;
  AppendTime(&validity, tmpl.not_before);
  AppendTime(&validity, tmpl.not_after);
  AppendTlv(&tbs, 0x30, validity);
  bool empty_subject = tmpl.common_name.empty() && tmpl.organization.empty();
  if (empty_subject) {
    tbs.append(kEmptyName.data(), kEmptyName.size());
  } else {
    absl::StatusOr<NamePtr> subject = BuildName(tmpl.common_name, tmpl.organization);
    if (!subject.ok()) return subject.status();
    X509_NAME* name = subject->get();
    std::string der = DerOf([name](unsigned char** out) { return i2d_X509_NAME(name, out); });
    if (der.empty()) return Internal("encoding subject");
    tbs.append(der);
  }
  tbs.append(spki);

  // The extensions in IssueCertificate's order and encoding.
  std::string exts;
  AppendExtension(&exts, kOidBasicConstraints, true, kEmptyName);  // CA:FALSE
  AppendExtension(&exts, kOidSubjectKeyId, false, Tlv(0x04, key_id));
  exts.append(state_->authority_key_id);
  if (tmpl.key_usage != 0) {
    unsigned bits = 0;  // KeyUsage bit n is 0x80 >> n of the first octet
    if (tmpl.key_usage & kDigitalSignature) bits |= 0x80;
    if (tmpl.key_usage & kKeyEncipherment) bits |= 0x20;
    if (tmpl.key_usage & kKeyCertSign) bits |= 0x04;
    if (tmpl.key_usage & kCrlSign) bits |= 0x02;
    if (bits == 0) return absl::InvalidArgumentError("unknown key usage bits");
    int unused = 0;
    while (!(bits & (1u << unused))) ++unused;
    const char value[] = {0x03, 0x02, static_cast<char>(unused), static_cast<char>(bits)};
    AppendExtension(&exts, kOidKeyUsage, true, absl::string_view(value, sizeof(value)));
  }
  if (tmpl.ext_key_usage != 0) {
    std::string purposes;
    if (tmpl.ext_key_usage & kServerAuth)
      purposes.append(kOidServerAuth.data(), kOidServerAuth.size());
    if (tmpl.ext_key_usage & kClientAuth)
      purposes.append(kOidClientAuth.data(), kOidClientAuth.size());
    AppendExtension(&exts, kOidExtKeyUsage, false, Tlv(0x30, purposes));
  }
  if (!tmpl.dns_sans.empty() || !tmpl.uri_sans.empty()) {
    std::string names;
    for (const std::string& d : tmpl.dns_sans) {
      if (absl::Status s = CheckSanValue(d); !s.ok()) return s;
      AppendTlv(&names, 0x82, d);  // [2] dNSName
    }
    for (const std::string& u : tmpl.uri_sans) {
      if (absl::Status s = CheckSanValue(u); !s.ok()) return s;
      AppendTlv(&names, 0x86, u);  // [6] uniformResourceIdentifier
    }
    AppendExtension(&exts, kOidSubjectAltName, empty_subject, Tlv(0x30, names));
  }
  AppendTlv(&tbs, 0xa3, Tlv(0x30, exts));
  std::string tbs_tlv = Tlv(0x30, tbs);

  absl::StatusOr<std::string> signature = state_->Sign(tbs_tlv);
  if (!signature.ok()) return signature.status();
  std::string cert = std::move(tbs_tlv);
  cert.append(state_->signature_algorithm.data(), state_->signature_algorithm.size());
  AppendTlv(&cert, 0x03, *signature);
  return CertificatePem(Tlv(0x30, cert));
}

std::string CertificateText(const Certificate& cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || X509_print_ex(bio.get(), A::Get(cert), XN_FLAG_ONELINE,
                                      X509_FLAG_NO_SERIAL | X509_FLAG_NO_SIGDUMP) != 1) {
    ERR_clear_error();
    return "";
  }
  return BioContents(bio.get());
}

absl::StatusOr<std::vector<Certificate>> VerifyChain(const Certificate& leaf,
                                                     const std::vector<Certificate>& intermediates,
                                                     const std::vector<Certificate>& roots,
                                                     absl::Time at) {
  StorePtr store(X509_STORE_new());
  CertStackPtr untrusted(sk_X509_new_null());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (store == nullptr || untrusted == nullptr || ctx == nullptr) {
    return Internal("allocating verifier");
  }
  for (const Certificate& root : roots) X509_STORE_add_cert(store.get(), A::Get(root));
  for (const Certificate& c : intermediates) sk_X509_push(untrusted.get(), A::Get(c));
  ERR_clear_error();  // X509_STORE_add_cert complains about duplicates; they are harmless
  if (X509_STORE_CTX_init(ctx.get(), store.get(), A::Get(leaf), untrusted.get()) != 1) {
    return Internal("initialising verifier");
  }
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), absl::ToTimeT(at));
  if (X509_verify_cert(ctx.get()) != 1) {
    int error = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("certificate chain does not verify: ", X509_verify_cert_error_string(error)));
  }
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  std::vector<Certificate> path;
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    X509* cert = sk_X509_value(chain, i);
    X509_up_ref(cert);
    path.push_back(A::MakeCert(cert));
  }
  return path;
}

}  // namespace meshd::ca
