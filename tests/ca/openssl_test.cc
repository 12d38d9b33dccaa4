#include "ca/openssl.h"

#include <catch2/catch.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_replace.h"

#include "tests/ca/test_ca.h"

namespace meshd::ca {
namespace {

using testing::CorruptSignature;
using testing::MakeCsr;
using testing::MakeIntermediate;
using testing::MakeRoot;
using testing::Unwrap;

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

TEST_CASE("Generated keys have the requested type and round-trip through PEM", "[ca][openssl]") {
  PrivateKey ec = Unwrap(PrivateKey::Generate(KeyType::kEcdsaP256));
  CHECK(ec.public_key().algorithm() == PublicKey::Algorithm::kEc);
  CHECK(ec.public_key().curve() == "prime256v1");
  CHECK(ec.public_key().Describe() == "EC prime256v1");
  CHECK(CheckKeyStrength(ec.public_key()).ok());

  PrivateKey rsa = Unwrap(PrivateKey::Generate(KeyType::kRsa2048));
  CHECK(rsa.public_key().algorithm() == PublicKey::Algorithm::kRsa);
  CHECK(rsa.public_key().bits() == 2048);
  CHECK(rsa.public_key().Describe() == "RSA 2048");
  CHECK(CheckKeyStrength(rsa.public_key()).ok());

  std::string pem = ec.ToPem();
  CHECK(pem.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
  PrivateKey again = Unwrap(PrivateKey::FromPem(pem));
  CHECK(again.public_key().Equals(ec.public_key()));
  CHECK_FALSE(again.public_key().Equals(rsa.public_key()));
}

TEST_CASE("PrivateKey::FromPem refuses garbage without prompting", "[ca][openssl]") {
  CHECK(PrivateKey::FromPem("").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(PrivateKey::FromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  // An encrypted key would make OpenSSL's default callback read the terminal.
  const char* encrypted = R"(-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAirKgfDTau7/AICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEECcMfqBntNzIT8Jigf7o+A8EgZAV
tp/TpX11yc7wMFTovclJStkC1xjwm1aaYOVvRC82P5Tkrg4M8zr/toROiwP45tI3
4dKilul3XLr6EUQccKoS3+2aYFPU2qPj7jjsIqfdwH73+1gnJn6y8Kr1DlNCfvLg
V/nIuoLsYUf8vz0IFM/MHjzzDH/8Vg7uC5s9Ya0jIzNb7SSFJcGwnle+GfyC2hs=
-----END ENCRYPTED PRIVATE KEY-----
)";
  CHECK_FALSE(PrivateKey::FromPem(encrypted).ok());
}

TEST_CASE("A self-signed root says what it is", "[ca][openssl]") {
  testing::TestCa root = MakeRoot(kNow, "example.org");
  CertificateInfo info = root.cert.Info();
  CHECK(info.subject == "O=example.org");
  CHECK(info.issuer == "O=example.org");
  CHECK(info.is_ca);
  CHECK(info.self_signed);
  CHECK(info.key_usage == (kKeyCertSign | kCrlSign));
  CHECK(info.ext_key_usage == 0);
  CHECK(info.not_before == kNow - absl::Hours(1));
  CHECK(info.not_after == kNow + absl::Hours(24 * 365));
  CHECK(info.serial_hex.size() == 32);  // 126 random bits, top bit clear: 16 bytes
  CHECK(KeyMatches(root.key, root.cert));
  CHECK(root.cert.public_key().Equals(root.key.public_key()));

  std::vector<Certificate> path = Unwrap(VerifyChain(root.cert, {}, {root.cert}, kNow));
  REQUIRE(path.size() == 1);
  CHECK(path[0] == root.cert);
}

TEST_CASE("IssueCertificate builds a leaf that verifies to its root", "[ca][openssl]") {
  testing::TestCa root = MakeRoot(kNow);
  testing::TestCa mid = MakeIntermediate(root, kNow, "mid");
  PrivateKey key = Unwrap(PrivateKey::Generate(KeyType::kEcdsaP256));
  CertificateTemplate tmpl;
  tmpl.not_before = kNow;
  tmpl.not_after = kNow + absl::Hours(1);
  tmpl.key_usage = kDigitalSignature | kKeyEncipherment;
  tmpl.ext_key_usage = kServerAuth | kClientAuth;
  tmpl.uri_sans = {"spiffe://cluster.local/ns/a/sa/b"};
  tmpl.dns_sans = {"a.example"};
  Certificate leaf = Unwrap(IssueCertificate(tmpl, key.public_key(), &mid.cert, mid.key));

  CertificateInfo info = leaf.Info();
  CHECK(info.subject.empty());
  CHECK(info.issuer == "O=mid");
  CHECK_FALSE(info.is_ca);
  CHECK_FALSE(info.self_signed);
  CHECK(info.san_critical);  // empty subject
  CHECK(info.uri_sans == std::vector<std::string>{"spiffe://cluster.local/ns/a/sa/b"});
  CHECK(info.dns_sans == std::vector<std::string>{"a.example"});
  CHECK(info.key_usage == (kDigitalSignature | kKeyEncipherment));
  CHECK(info.ext_key_usage == (kServerAuth | kClientAuth));

  std::vector<Certificate> path = Unwrap(VerifyChain(leaf, {mid.cert}, {root.cert}, kNow));
  REQUIRE(path.size() == 3);
  CHECK(path[1] == mid.cert);
  CHECK(path[2] == root.cert);

  SECTION("not through a missing intermediate") {
    absl::StatusOr<std::vector<Certificate>> r = VerifyChain(leaf, {}, {root.cert}, kNow);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(r.status().message()),
               Catch::Contains("unable to get local issuer certificate"));
  }
  SECTION("not to another root") {
    CHECK_FALSE(VerifyChain(leaf, {mid.cert}, {MakeRoot(kNow).cert}, kNow).ok());
  }
  SECTION("not after expiry nor before validity") {
    absl::StatusOr<std::vector<Certificate>> late =
        VerifyChain(leaf, {mid.cert}, {root.cert}, kNow + absl::Hours(2));
    CHECK_THAT(std::string(late.status().message()), Catch::Contains("expired"));
    CHECK_FALSE(VerifyChain(leaf, {mid.cert}, {root.cert}, kNow - absl::Minutes(1)).ok());
  }
  SECTION("SAN values that could smuggle extra names are refused") {
    tmpl.uri_sans = {"spiffe://x/ns/a/sa/b, DNS:evil"};
    CHECK(IssueCertificate(tmpl, key.public_key(), &mid.cert, mid.key).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("LeafIssuer issues what IssueCertificate issues", "[ca][openssl]") {
  testing::TestCa root = MakeRoot(kNow);
  testing::TestCa mid = MakeIntermediate(root, kNow, "mid");
  PrivateKey rsa_root_key = Unwrap(PrivateKey::Generate(KeyType::kRsa2048));
  CertificateTemplate ca;
  ca.organization = "rsa-root";
  ca.not_before = kNow - absl::Hours(1);
  ca.not_after = kNow + absl::Hours(24);
  ca.is_ca = true;
  ca.key_usage = kKeyCertSign | kCrlSign;
  testing::TestCa rsa_root{
      rsa_root_key, Unwrap(IssueCertificate(ca, rsa_root_key.public_key(), nullptr, rsa_root_key))};

  CertificateTemplate tmpl;
  tmpl.not_before = kNow - absl::Minutes(2);
  tmpl.not_after = kNow + absl::Hours(24);
  tmpl.key_usage = kDigitalSignature | kKeyEncipherment;
  tmpl.ext_key_usage = kServerAuth | kClientAuth;
  tmpl.uri_sans = {"spiffe://cluster.local/ns/default/sa/sleep"};
  SECTION("workload template") {}
  SECTION("DNS and URI names") { tmpl.dns_sans = {"istiod.istio-system.svc", "b.example"}; }
  SECTION("a subject makes the SAN non-critical") {
    tmpl.common_name = "leaf";
    tmpl.organization = "org";
  }
  SECTION("no SANs, one usage, dates past 2049 as GeneralizedTime") {
    tmpl.uri_sans.clear();
    tmpl.common_name = "x";
    tmpl.key_usage = kDigitalSignature;
    tmpl.ext_key_usage = kClientAuth;
    tmpl.not_after = absl::FromCivil(absl::CivilSecond(2051, 1, 2, 3, 4, 5), absl::UTCTimeZone());
  }
  SECTION("no key usages") {
    tmpl.key_usage = 0;
    tmpl.ext_key_usage = 0;
  }

  // The subject key as the signer sees it: from a CSR (fast path for P-256), or RSA.
  testing::Csr ec_csr = MakeCsr();
  PublicKey ec_key = Unwrap(ParseCsr(ec_csr.pem)).public_key;
  PublicKey rsa_key = Unwrap(PrivateKey::Generate(KeyType::kRsa2048)).public_key();
  for (const testing::TestCa* issuer : {&root, &mid, &rsa_root}) {
    for (const PublicKey* key : {&ec_key, &rsa_key}) {
      LeafIssuer leaf_issuer = Unwrap(LeafIssuer::Create(issuer->cert, issuer->key));
      Certificate fast = Unwrap(Certificate::FromPem(Unwrap(leaf_issuer.IssuePem(tmpl, *key))));
      Certificate general = Unwrap(IssueCertificate(tmpl, *key, &issuer->cert, issuer->key));
      INFO(CertificateText(fast));
      CHECK(CertificateText(fast) == CertificateText(general));
      CHECK(fast.Info().serial_hex.size() == 32);
      CHECK(fast.Info().serial_hex != general.Info().serial_hex);
      std::vector<Certificate> intermediates;
      if (issuer == &mid) intermediates.push_back(mid.cert);
      const Certificate& anchor = issuer == &rsa_root ? rsa_root.cert : root.cert;
      CHECK(VerifyChain(fast, intermediates, {anchor}, kNow).ok());
    }
  }
}

TEST_CASE("LeafIssuer refuses CA templates, mismatched keys and smuggled names", "[ca][openssl]") {
  testing::TestCa root = MakeRoot(kNow);
  PrivateKey other = Unwrap(PrivateKey::Generate(KeyType::kEcdsaP256));
  CHECK(LeafIssuer::Create(root.cert, other).status().code() == absl::StatusCode::kInvalidArgument);
  LeafIssuer issuer = Unwrap(LeafIssuer::Create(root.cert, root.key));
  CertificateTemplate tmpl;
  tmpl.not_before = kNow;
  tmpl.not_after = kNow + absl::Hours(1);
  tmpl.is_ca = true;
  CHECK(issuer.IssuePem(tmpl, other.public_key()).status().code() ==
        absl::StatusCode::kInvalidArgument);
  tmpl.is_ca = false;
  tmpl.uri_sans = {"spiffe://x/ns/a/sa/b, DNS:evil"};
  CHECK(issuer.IssuePem(tmpl, other.public_key()).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Certificates round-trip through PEM, one or many", "[ca][openssl]") {
  testing::TestCa a = MakeRoot(kNow, "a");
  testing::TestCa b = MakeRoot(kNow, "b");
  CHECK(Unwrap(Certificate::FromPem(a.cert.ToPem())) == a.cert);
  CHECK(a.cert != b.cert);

  std::vector<Certificate> both = Unwrap(Certificate::ChainFromPem(ToPem({a.cert, b.cert})));
  REQUIRE(both.size() == 2);
  CHECK(both[0] == a.cert);
  CHECK(both[1] == b.cert);
  CHECK_FALSE(Certificate::FromPem(ToPem({a.cert, b.cert})).ok());  // want exactly one
  CHECK_FALSE(Certificate::ChainFromPem("").ok());
  CHECK_FALSE(Certificate::ChainFromPem("not a certificate").ok());
  CHECK_FALSE(Certificate::ChainFromPem(a.cert.ToPem() + "-----BEGIN CERTIFICATE-----\nAA==\n"
                                                         "-----END CERTIFICATE-----\n")
                  .ok());
  CHECK(a.cert.ToDer().size() > 100);
}

TEST_CASE("CreateCsr and ParseCsr agree; tampering is caught", "[ca][openssl]") {
  CsrTemplate tmpl;
  tmpl.organization = "cluster.local";
  tmpl.uri_sans = {"spiffe://cluster.local/ns/a/sa/b"};
  tmpl.dns_sans = {"a.example"};
  testing::Csr csr = MakeCsr(KeyType::kEcdsaP256, tmpl);
  CHECK(csr.pem.rfind("-----BEGIN CERTIFICATE REQUEST-----", 0) == 0);

  CsrInfo info = Unwrap(ParseCsr(csr.pem));
  CHECK(info.subject == "O=cluster.local");
  CHECK(info.public_key.Equals(csr.key.public_key()));
  CHECK(info.uri_sans == tmpl.uri_sans);
  CHECK(info.dns_sans == tmpl.dns_sans);
  CHECK(info.ip_sans.empty());
  CHECK(info.other_sans == 0);

  CsrInfo bare = Unwrap(ParseCsr(MakeCsr(KeyType::kRsa2048).pem));
  CHECK(bare.uri_sans.empty());
  CHECK(bare.public_key.Describe() == "RSA 2048");

  absl::StatusOr<CsrInfo> tampered = ParseCsr(CorruptSignature(csr.pem));
  CHECK(tampered.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(tampered.status().message()), Catch::Contains("signature"));
  CHECK(ParseCsr("garbage").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseCsr(MakeRoot(kNow).cert.ToPem()).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("ParseCsr's P-256 fast path agrees with the general path", "[ca][openssl]") {
  CsrTemplate full;
  full.common_name = "w";
  full.organization = "cluster.local";
  full.uri_sans = {"spiffe://cluster.local/ns/a/sa/b"};
  full.dns_sans = {"a.example", "b.example"};
  CsrTemplate uri_only;
  uri_only.uri_sans = {"spiffe://cluster.local/ns/a/sa/b"};
  for (const CsrTemplate& tmpl : {CsrTemplate{}, uri_only, full}) {
    testing::Csr csr = MakeCsr(KeyType::kEcdsaP256, tmpl);
    CsrInfo fast = Unwrap(ParseCsr(csr.pem));
    CsrInfo general = Unwrap(ParseCsrGeneral(csr.pem));
    CHECK(fast.subject == general.subject);
    CHECK(fast.uri_sans == general.uri_sans);
    CHECK(fast.dns_sans == general.dns_sans);
    CHECK(fast.ip_sans == general.ip_sans);
    CHECK(fast.email_sans == general.email_sans);
    CHECK(fast.other_sans == general.other_sans);
    CHECK(fast.public_key.Equals(general.public_key));
    CHECK(fast.public_key.Equals(csr.key.public_key()));
    CHECK(fast.public_key.Describe() == "EC prime256v1");
    CHECK(fast.public_key.bits() == 256);
    CHECK(CheckKeyStrength(fast.public_key).ok());

    // A certificate issued for the fast path's key carries exactly the CSR's key.
    testing::TestCa root = MakeRoot(kNow);
    CertificateTemplate t;
    t.not_before = kNow - absl::Minutes(1);
    t.not_after = kNow + absl::Hours(1);
    t.uri_sans = {"spiffe://cluster.local/ns/a/sa/b"};
    Certificate leaf = Unwrap(IssueCertificate(t, fast.public_key, &root.cert, root.key));
    CHECK(leaf.public_key().Equals(csr.key.public_key()));
    CHECK(Unwrap(Certificate::FromPem(leaf.ToPem())).public_key().Equals(csr.key.public_key()));
    CHECK(VerifyChain(leaf, {}, {root.cert}, kNow).ok());

    // Tampering anywhere in the signed part or the signature is refused by both paths.
    absl::StatusOr<CsrInfo> tampered = ParseCsr(CorruptSignature(csr.pem));
    CHECK(tampered.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(tampered.status().message()), Catch::Contains("signature"));
  }
  // The URI SAN changed after signing: the fast path refuses to vouch for it.
  testing::Csr a = MakeCsr(KeyType::kEcdsaP256, uri_only);
  std::string forged = a.pem;
  std::string body = forged.substr(forged.find('\n') + 1);
  body = body.substr(0, body.find("-----END"));
  std::string der;
  REQUIRE(absl::Base64Unescape(absl::StrReplaceAll(body, {{"\n", ""}}), &der));
  size_t at = der.find("sa/b");
  REQUIRE(at != std::string::npos);
  der[at + 3] = 'c';
  std::string reencoded = absl::Base64Escape(der);
  std::string forged_pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
  for (size_t i = 0; i < reencoded.size(); i += 64) forged_pem += reencoded.substr(i, 64) + "\n";
  forged_pem += "-----END CERTIFICATE REQUEST-----\n";
  CHECK(ParseCsr(forged_pem).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseCsrGeneral(forged_pem).status().code() == absl::StatusCode::kInvalidArgument);
  // Other keys still parse through the general path.
  CHECK(Unwrap(ParseCsr(MakeCsr(KeyType::kRsa2048, uri_only).pem)).uri_sans == uri_only.uri_sans);
  CHECK(Unwrap(ParseCsr(testing::kP521Csr)).public_key.curve() == "secp521r1");
}

TEST_CASE("Sha256Hex", "[ca][openssl]") {
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("CheckKeyStrength refuses weak and unsupported keys", "[ca][openssl]") {
  for (const char* pem : {testing::kRsa1024Csr, testing::kEd25519Csr, testing::kP521Csr}) {
    CsrInfo info = Unwrap(ParseCsr(pem));  // well-formed and correctly self-signed
    absl::Status s = CheckKeyStrength(info.public_key);
    INFO(info.public_key.Describe());
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(s.message()), Catch::Contains("unsupported or weak key"));
  }
  CHECK(Unwrap(ParseCsr(testing::kRsa1024Csr)).public_key.Describe() == "RSA 1024");
  CHECK(Unwrap(ParseCsr(testing::kP521Csr)).public_key.Describe() == "EC secp521r1");
}

}  // namespace
}  // namespace meshd::ca
