#include "ca/key_cert_bundle.h"

#include <catch2/catch.hpp>

#include "tests/ca/test_ca.h"

namespace meshd::ca {
namespace {

using testing::MakeIntermediate;
using testing::MakeRoot;
using testing::TestCa;
using testing::Unwrap;

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

TEST_CASE("A self-signed bundle's issuer chain is the root once", "[ca][bundle]") {
  TestCa root = MakeRoot(kNow);
  KeyCertBundle bundle = Unwrap(KeyCertBundle::Create(root.cert, root.key, {}, {root.cert}, kNow));
  CHECK(bundle.anchor() == root.cert);
  CHECK(bundle.intermediates().empty());
  REQUIRE(bundle.IssuerChain().size() == 1);
  CHECK(bundle.IssuerChain()[0] == root.cert);
  CHECK(bundle.RootsPem() == root.cert.ToPem());
}

TEST_CASE("A plug-in bundle keeps the verified path in order", "[ca][bundle]") {
  TestCa root = MakeRoot(kNow, "root");
  TestCa mid = MakeIntermediate(root, kNow, "mid");
  TestCa ca = MakeIntermediate(mid, kNow, "ca");

  SECTION("cert-chain.pem listing the whole chain, leaf to root") {
    KeyCertBundle bundle = Unwrap(KeyCertBundle::FromPem(ca.cert.ToPem(), ca.key.ToPem(),
                                                         ToPem({ca.cert, mid.cert, root.cert}),
                                                         root.cert.ToPem(), kNow));
    REQUIRE(bundle.intermediates().size() == 1);
    CHECK(bundle.intermediates()[0] == mid.cert);
    CHECK(bundle.anchor() == root.cert);
    std::vector<Certificate> chain = bundle.IssuerChain();
    REQUIRE(chain.size() == 3);
    CHECK(chain[0] == ca.cert);
    CHECK(chain[1] == mid.cert);
    CHECK(chain[2] == root.cert);
    // The cached PEM and NotAfter match the certificates.
    CHECK(bundle.IssuerChainPem() ==
          std::vector<std::string>{ca.cert.ToPem(), mid.cert.ToPem(), root.cert.ToPem()});
    CHECK(bundle.signing_not_after() == ca.cert.Info().not_after);
  }
  SECTION("cert-chain.pem out of order, with an unrelated certificate") {
    KeyCertBundle bundle = Unwrap(KeyCertBundle::FromPem(
        ca.cert.ToPem(), ca.key.ToPem(), ToPem({root.cert, MakeRoot(kNow).cert, mid.cert}),
        root.cert.ToPem(), kNow));
    REQUIRE(bundle.intermediates().size() == 1);
    CHECK(bundle.intermediates()[0] == mid.cert);
  }
  SECTION("no cert-chain.pem for a CA signed by the root directly") {
    KeyCertBundle bundle = Unwrap(
        KeyCertBundle::FromPem(mid.cert.ToPem(), mid.key.ToPem(), "", root.cert.ToPem(), kNow));
    CHECK(bundle.intermediates().empty());
    CHECK(bundle.IssuerChain().size() == 2);
  }
  SECTION("a trust bundle of several roots anchors to the right one") {
    TestCa other = MakeRoot(kNow, "other");
    KeyCertBundle bundle = Unwrap(KeyCertBundle::FromPem(mid.cert.ToPem(), mid.key.ToPem(), "",
                                                         ToPem({other.cert, root.cert}), kNow));
    CHECK(bundle.roots().size() == 2);
    CHECK(bundle.anchor() == root.cert);
    CHECK(bundle.RootsPem() == ToPem({other.cert, root.cert}));
  }
}

TEST_CASE("KeyCertBundle refuses inconsistent material", "[ca][bundle]") {
  TestCa root = MakeRoot(kNow, "root");
  TestCa mid = MakeIntermediate(root, kNow, "mid");
  auto message = [](const absl::StatusOr<KeyCertBundle>& b) {
    REQUIRE_FALSE(b.ok());
    CHECK(b.status().code() == absl::StatusCode::kInvalidArgument);
    return std::string(b.status().message());
  };

  CHECK(message(KeyCertBundle::Create(mid.cert, root.key, {}, {root.cert}, kNow)) ==
        "CA key does not match the CA certificate");
  CHECK(message(KeyCertBundle::Create(mid.cert, mid.key, {}, {}, kNow)) == "no root certificate");
  CHECK_THAT(message(KeyCertBundle::Create(mid.cert, mid.key, {}, {MakeRoot(kNow).cert}, kNow)),
             Catch::StartsWith("CA certificate: certificate chain does not verify"));
  CHECK_THAT(message(KeyCertBundle::Create(mid.cert, mid.key, {}, {root.cert},
                                           kNow + absl::Hours(24 * 400))),
             Catch::Contains("expired"));

  // A leaf cannot be a signing certificate.
  CertificateTemplate tmpl;
  tmpl.not_before = kNow;
  tmpl.not_after = kNow + absl::Hours(1);
  tmpl.uri_sans = {"spiffe://cluster.local/ns/a/sa/b"};
  PrivateKey key = Unwrap(PrivateKey::Generate(KeyType::kEcdsaP256));
  Certificate leaf = Unwrap(IssueCertificate(tmpl, key.public_key(), &root.cert, root.key));
  CHECK(message(KeyCertBundle::Create(leaf, key, {}, {root.cert}, kNow)) ==
        "CA certificate is not a CA (basicConstraints)");

  CHECK_THAT(message(KeyCertBundle::FromPem("junk", mid.key.ToPem(), "", root.cert.ToPem(), kNow)),
             Catch::StartsWith("ca-cert.pem: "));
  CHECK_THAT(message(KeyCertBundle::FromPem(mid.cert.ToPem(), "junk", "", root.cert.ToPem(), kNow)),
             Catch::StartsWith("ca-key.pem: "));
  CHECK_THAT(message(KeyCertBundle::FromPem(mid.cert.ToPem(), mid.key.ToPem(), "junk",
                                            root.cert.ToPem(), kNow)),
             Catch::StartsWith("cert-chain.pem: "));
  CHECK_THAT(message(KeyCertBundle::FromPem(mid.cert.ToPem(), mid.key.ToPem(), "", "", kNow)),
             Catch::StartsWith("root-cert.pem: "));
}

}  // namespace
}  // namespace meshd::ca
