#include "ca/signer.h"

#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "controller/common/clock.h"
#include "tests/ca/test_ca.h"

namespace meshd::ca {
namespace {

using testing::CorruptSignature;
using testing::Fixed;
using testing::MakeCsr;
using testing::MakeIntermediate;
using testing::MakeRoot;
using testing::TestCa;
using testing::Unwrap;

const Identity kSleep{"", "default", "sleep"};
constexpr char kSleepUri[] = "spiffe://cluster.local/ns/default/sa/sleep";

struct Fixture {
  FakeClock clock;
  TestCa root = MakeRoot(clock.Now());
  std::shared_ptr<const KeyCertBundle> bundle = testing::SelfSignedBundle(root, clock.Now());
  Signer signer{SignerOptions{}, Fixed(bundle), &clock};

  std::vector<Certificate> SignChain(const std::string& csr, const Identity& id = kSleep,
                                     absl::Duration ttl = absl::ZeroDuration()) {
    std::vector<std::string> pems = Unwrap(signer.Sign(csr, id, ttl));
    std::vector<Certificate> chain;
    for (const std::string& pem : pems) chain.push_back(Unwrap(Certificate::FromPem(pem)));
    return chain;
  }
  CertificateInfo SignInfo(absl::Duration ttl) {
    return SignChain(MakeCsr().pem, kSleep, ttl).front().Info();
  }
};

TEST_CASE("Sign issues a workload certificate for the caller's identity", "[ca][signer]") {
  Fixture f;
  testing::Csr csr = MakeCsr();
  std::vector<Certificate> chain = f.SignChain(csr.pem);

  REQUIRE(chain.size() == 2);  // leaf, root
  CHECK(chain[1] == f.root.cert);
  CertificateInfo leaf = chain[0].Info();
  CHECK(leaf.uri_sans == std::vector<std::string>{kSleepUri});
  CHECK(leaf.dns_sans.empty());
  CHECK(leaf.ip_sans.empty());
  CHECK(leaf.subject.empty());
  CHECK(leaf.san_critical);
  CHECK(leaf.issuer == f.root.cert.Info().subject);
  CHECK_FALSE(leaf.is_ca);
  CHECK(leaf.key_usage == (kDigitalSignature | kKeyEncipherment));
  CHECK(leaf.ext_key_usage == (kServerAuth | kClientAuth));
  CHECK(chain[0].public_key().Equals(csr.key.public_key()));

  std::vector<Certificate> path = Unwrap(VerifyChain(chain[0], {}, {f.root.cert}, f.clock.Now()));
  CHECK(path.back() == f.root.cert);
}

TEST_CASE("Sign takes the identity from the caller, never the CSR", "[ca][signer]") {
  Fixture f;
  CsrTemplate tmpl;
  tmpl.common_name = "admin";
  tmpl.organization = "system:masters";
  std::vector<Certificate> chain = f.SignChain(MakeCsr(KeyType::kEcdsaP256, tmpl).pem);
  CHECK(chain[0].Info().subject.empty());
  CHECK(chain[0].Info().uri_sans == std::vector<std::string>{kSleepUri});

  SECTION("a CSR naming the caller's own URI is fine (istio-agent sends one)") {
    tmpl.uri_sans = {kSleepUri};
    CHECK(f.SignChain(MakeCsr(KeyType::kEcdsaP256, tmpl).pem)[0].Info().uri_sans ==
          std::vector<std::string>{kSleepUri});
  }
  SECTION("an identity with its own trust domain keeps it") {
    Identity other{"example.org", "prod", "web"};
    CHECK(f.SignChain(MakeCsr().pem, other)[0].Info().uri_sans ==
          std::vector<std::string>{"spiffe://example.org/ns/prod/sa/web"});
  }
}

TEST_CASE("Sign applies the TTL: default, requested, clamped", "[ca][signer]") {
  Fixture f;
  const absl::Time now = f.clock.Now();

  CertificateInfo by_default = f.SignInfo(absl::ZeroDuration());
  CHECK(by_default.not_before == now - absl::Minutes(2));  // backdated
  CHECK(by_default.not_after == now + absl::Hours(24));
  CHECK(f.SignInfo(absl::Seconds(-5)).not_after == now + absl::Hours(24));
  CHECK(f.SignInfo(absl::Hours(1)).not_after == now + absl::Hours(1));
  CHECK(f.SignInfo(absl::Hours(24 * 90)).not_after == now + absl::Hours(24 * 90));
  CHECK(f.SignInfo(absl::Hours(24 * 365)).not_after == now + absl::Hours(24 * 90));
  CHECK(f.SignInfo(absl::InfiniteDuration()).not_after == now + absl::Hours(24 * 90));
  CHECK(f.SignInfo(absl::Seconds(1)).not_after == now + absl::Minutes(1));

  SECTION("never past the signing certificate") {
    TestCa short_root = MakeRoot(now, "short", absl::Hours(10));
    Signer signer(SignerOptions{}, Fixed(testing::SelfSignedBundle(short_root, now)), &f.clock);
    std::vector<std::string> chain = Unwrap(signer.Sign(MakeCsr().pem, kSleep, absl::Hours(48)));
    CHECK(Unwrap(Certificate::FromPem(chain[0])).Info().not_after == now + absl::Hours(10));
  }
  SECTION("options change the bounds") {
    SignerOptions options;
    options.default_ttl = absl::Hours(12);
    options.max_ttl = absl::Hours(13);
    Signer signer(options, Fixed(f.bundle), &f.clock);
    auto not_after = [&](absl::Duration ttl) {
      return Unwrap(Certificate::FromPem(Unwrap(signer.Sign(MakeCsr().pem, kSleep, ttl))[0]))
          .Info()
          .not_after;
    };
    CHECK(not_after(absl::ZeroDuration()) == now + absl::Hours(12));
    CHECK(not_after(absl::Hours(20)) == now + absl::Hours(13));
  }
}

TEST_CASE("Sign uses random serials and accepts RSA CSRs", "[ca][signer]") {
  Fixture f;
  CertificateInfo a = f.SignInfo(absl::ZeroDuration());
  CertificateInfo b = f.SignInfo(absl::ZeroDuration());
  CHECK(a.serial_hex != b.serial_hex);
  CHECK(f.SignChain(MakeCsr(KeyType::kRsa2048).pem).size() == 2);
}

TEST_CASE("Sign is safe from many threads: every certificate verifies", "[ca][signer]") {
  Fixture f;
  std::vector<testing::Csr> csrs;
  for (int i = 0; i < 8; ++i) csrs.push_back(MakeCsr());
  constexpr int kThreads = 4, kPerThread = 50;
  std::vector<std::vector<std::string>> leaves(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<std::vector<std::string>> chain =
            f.signer.Sign(csrs[(t + i) % csrs.size()].pem, kSleep, absl::ZeroDuration());
        leaves[t].push_back(chain.ok() ? chain->front() : chain.status().ToString());
      }
    });
  }
  for (std::thread& th : threads) th.join();
  std::set<std::string> serials;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      Certificate leaf = Unwrap(Certificate::FromPem(leaves[t][i]));
      CHECK(VerifyChain(leaf, {}, {f.root.cert}, f.clock.Now()).ok());
      CHECK(leaf.public_key().Equals(csrs[(t + i) % csrs.size()].key.public_key()));
      serials.insert(leaf.Info().serial_hex);
    }
  }
  CHECK(serials.size() == kThreads * kPerThread);
}

TEST_CASE("Sign returns leaf, intermediates, root for a plug-in CA", "[ca][signer]") {
  FakeClock clock;
  TestCa root = MakeRoot(clock.Now(), "root");
  TestCa mid = MakeIntermediate(root, clock.Now(), "mid");
  TestCa ca = MakeIntermediate(mid, clock.Now(), "ca");
  auto bundle = std::make_shared<const KeyCertBundle>(
      Unwrap(KeyCertBundle::Create(ca.cert, ca.key, {mid.cert}, {root.cert}, clock.Now())));
  Signer signer(SignerOptions{}, Fixed(bundle), &clock);

  std::vector<std::string> pems = Unwrap(signer.Sign(MakeCsr().pem, kSleep, absl::Hours(1)));
  REQUIRE(pems.size() == 4);
  CHECK(pems[1] == ca.cert.ToPem());
  CHECK(pems[2] == mid.cert.ToPem());
  CHECK(pems[3] == root.cert.ToPem());
  Certificate leaf = Unwrap(Certificate::FromPem(pems[0]));
  CHECK(Unwrap(VerifyChain(leaf, {ca.cert, mid.cert}, {root.cert}, clock.Now())).size() == 4);
}

TEST_CASE("Sign refuses bad CSRs", "[ca][signer]") {
  Fixture f;
  auto refused = [&](const std::string& csr, const Identity& id = kSleep) {
    absl::StatusOr<std::vector<std::string>> r = f.signer.Sign(csr, id, absl::ZeroDuration());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    return std::string(r.status().message());
  };
  auto csr_with = [](std::vector<std::string> uris, std::vector<std::string> dns) {
    CsrTemplate tmpl;
    tmpl.uri_sans = std::move(uris);
    tmpl.dns_sans = std::move(dns);
    return MakeCsr(KeyType::kEcdsaP256, tmpl).pem;
  };

  CHECK_THAT(refused(""), Catch::StartsWith("reading PEM CSR"));
  CHECK_THAT(
      refused("-----BEGIN CERTIFICATE REQUEST-----\nnope\n-----END CERTIFICATE REQUEST-----"),
      Catch::StartsWith("reading PEM CSR"));
  CHECK_THAT(refused(CorruptSignature(MakeCsr().pem)),
             Catch::StartsWith("CSR signature does not verify"));
  CHECK_THAT(refused(std::string(Signer::kMaxCsrBytes + 1, 'A')),
             Catch::StartsWith("CSR larger than"));

  std::string wrong_san =
      "CSR requests SANs other than the caller's identity " + std::string(kSleepUri);
  CHECK(refused(csr_with({"spiffe://cluster.local/ns/kube-system/sa/admin"}, {})) == wrong_san);
  CHECK(refused(csr_with({kSleepUri, "spiffe://cluster.local/ns/x/sa/y"}, {})) == wrong_san);
  CHECK(refused(csr_with({}, {"sleep.default.svc"})) == wrong_san);
  CHECK(refused(csr_with({kSleepUri}, {"kubernetes.default.svc"})) == wrong_san);

  CHECK_THAT(refused(testing::kRsa1024Csr), Catch::StartsWith("unsupported or weak key RSA 1024"));
  CHECK_THAT(refused(testing::kEd25519Csr), Catch::StartsWith("unsupported or weak key"));
  CHECK_THAT(refused(testing::kP521Csr), Catch::StartsWith("unsupported or weak key EC secp521r1"));

  CHECK(refused(MakeCsr().pem, Identity{"", "default", "a/b"}) ==
        "invalid service account \"a/b\"");
}

TEST_CASE("Sign without a CA is Unavailable", "[ca][signer]") {
  FakeClock clock;
  Signer signer(
      SignerOptions{}, [] { return std::shared_ptr<const KeyCertBundle>(); }, &clock);
  CHECK(signer.Sign(MakeCsr().pem, kSleep, absl::ZeroDuration()).status().code() ==
        absl::StatusCode::kUnavailable);
}

TEST_CASE("IssueServingCert issues meshd's own TLS certificate", "[ca][signer]") {
  Fixture f;
  std::vector<std::string> names = ServingDnsNames({"istiod", "meshd"}, "istio-system");
  CHECK(names == std::vector<std::string>{"istiod.istio-system.svc", "meshd.istio-system.svc"});

  IssuedKeyCert issued = Unwrap(f.signer.IssueServingCert(names, absl::Hours(2)));
  REQUIRE(issued.chain_pem.size() == 2);
  Certificate leaf = Unwrap(Certificate::FromPem(issued.chain_pem[0]));
  CertificateInfo info = leaf.Info();
  CHECK(info.dns_sans == names);
  CHECK(info.uri_sans.empty());
  CHECK(info.ext_key_usage & kServerAuth);
  CHECK(issued.not_before == f.clock.Now() - absl::Minutes(2));
  CHECK(issued.not_after == f.clock.Now() + absl::Hours(2));
  CHECK(info.not_after == issued.not_after);
  CHECK(KeyMatches(Unwrap(PrivateKey::FromPem(issued.key_pem)), leaf));
  CHECK(VerifyChain(leaf, {}, {f.root.cert}, f.clock.Now()).ok());

  CHECK(
      Unwrap(f.signer.IssueServingCert(names, absl::ZeroDuration(), KeyType::kRsa2048)).not_after ==
      f.clock.Now() + absl::Hours(24));
  CHECK(f.signer.IssueServingCert({}, absl::Hours(1)).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(f.signer.IssueServingCert({"bad name"}, absl::Hours(1)).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace meshd::ca
