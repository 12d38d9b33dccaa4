#include "ca/root_store.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "controller/common/clock.h"
#include "controller/common/metrics.h"
#include "tests/ca/test_ca.h"

namespace meshd::ca {
namespace {

using testing::MakeIntermediate;
using testing::MakeRoot;
using testing::ReadFile;
using testing::TempDir;
using testing::TestCa;
using testing::Unwrap;
using testing::WriteFile;

constexpr absl::Duration kYear = absl::Hours(24 * 365);

RootStoreOptions SelfSigned(const TempDir& dir) {
  RootStoreOptions options;
  options.plugin_dir = dir.File("cacerts");  // absent
  options.self_signed_dir = dir.File("istio-ca-secret");
  options.trust_domain = "example.org";
  return options;
}

// A leaf issued by `bundle`'s signing certificate.
Certificate IssueLeaf(const KeyCertBundle& bundle, absl::Time now) {
  CertificateTemplate tmpl;
  tmpl.not_before = now;
  tmpl.not_after = now + absl::Hours(24);
  tmpl.uri_sans = {"spiffe://example.org/ns/a/sa/b"};
  PrivateKey key = Unwrap(PrivateKey::Generate(KeyType::kEcdsaP256));
  return Unwrap(
      IssueCertificate(tmpl, key.public_key(), &bundle.signing_cert(), bundle.signing_key()));
}

TEST_CASE("The self-signed root is created once and kept across restarts", "[ca][root_store]") {
  TempDir dir;
  FakeClock clock;
  RootStoreOptions options = SelfSigned(dir);
  std::unique_ptr<RootStore> first = Unwrap(RootStore::Create(options, &clock));
  CHECK(first->mode() == RootStore::Mode::kSelfSigned);
  std::shared_ptr<const KeyCertBundle> bundle = first->Current();
  REQUIRE(bundle != nullptr);

  CertificateInfo info = bundle->signing_cert().Info();
  CHECK(info.subject == "O=example.org");
  CHECK(info.is_ca);
  CHECK(info.self_signed);
  CHECK(info.not_after == clock.Now() + 10 * kYear);
  CHECK(bundle->roots().size() == 1);
  CHECK(bundle->anchor() == bundle->signing_cert());
  CHECK(bundle->signing_key().public_key().curve() == "prime256v1");

  std::string key_file = options.self_signed_dir + "/ca-key.pem";
  struct stat st;
  REQUIRE(stat(key_file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(ReadFile(options.self_signed_dir + "/root-cert.pem") == bundle->RootsPem());

  first.reset();
  clock.Advance(absl::Hours(24 * 30));
  std::unique_ptr<RootStore> second = Unwrap(RootStore::Create(options, &clock));
  CHECK(second->Current()->signing_cert() == bundle->signing_cert());
  CHECK(second->Current()->roots().size() == 1);
  CHECK_FALSE(Unwrap(second->Changed()));
  CHECK_FALSE(Unwrap(second->Poll()));
}

TEST_CASE("A half-written self-signed directory", "[ca][root_store]") {
  TempDir dir;
  FakeClock clock;
  RootStoreOptions options = SelfSigned(dir);
  std::filesystem::create_directories(options.self_signed_dir);

  SECTION("a certificate without its key is refused") {
    WriteFile(options.self_signed_dir + "/ca-cert.pem", MakeRoot(clock.Now()).cert.ToPem());
    absl::StatusOr<std::unique_ptr<RootStore>> store = RootStore::Create(options, &clock);
    CHECK(store.status().code() == absl::StatusCode::kFailedPrecondition);
  }
  SECTION("a key without a certificate gets its root issued") {
    PrivateKey key = Unwrap(PrivateKey::Generate(KeyType::kEcdsaP256));
    WriteFile(options.self_signed_dir + "/ca-key.pem", key.ToPem());
    std::unique_ptr<RootStore> store = Unwrap(RootStore::Create(options, &clock));
    CHECK(KeyMatches(key, store->Current()->signing_cert()));
  }
  SECTION("a root missing from root-cert.pem is added back") {
    std::unique_ptr<RootStore> store = Unwrap(RootStore::Create(options, &clock));
    WriteFile(options.self_signed_dir + "/root-cert.pem", MakeRoot(clock.Now()).cert.ToPem());
    store = Unwrap(RootStore::Create(options, &clock));
    CHECK(store->Current()->roots().size() == 2);
    CHECK(store->Current()->roots()[0] == store->Current()->signing_cert());
  }
}

TEST_CASE("The self-signed root rotates at 20% of its life left", "[ca][root_store]") {
  TempDir dir;
  FakeClock clock;
  const absl::Time start = clock.Now();
  RootStoreOptions options = SelfSigned(dir);
  std::unique_ptr<RootStore> store = Unwrap(RootStore::Create(options, &clock));
  int changes = 0;
  store->SetOnChange([&] { ++changes; });
  std::shared_ptr<const KeyCertBundle> old = store->Current();

  clock.Set(start + 7 * kYear);
  CHECK_FALSE(Unwrap(store->Changed()));
  CHECK_FALSE(Unwrap(store->Poll()));
  CHECK(changes == 0);

  clock.Set(start + 8 * kYear + absl::Minutes(3));  // past not_before + 80% (not_before is -2m)
  Certificate old_leaf = IssueLeaf(*old, clock.Now());
  CHECK(Unwrap(store->Changed()));
  CHECK(Unwrap(store->Poll()));
  CHECK(changes == 1);
  std::shared_ptr<const KeyCertBundle> rotated = store->Current();
  CHECK(rotated->signing_cert() != old->signing_cert());
  CHECK(rotated->signing_cert().Info().not_after == clock.Now() + 10 * kYear);
  CHECK(rotated->signing_cert().Info().subject == old->signing_cert().Info().subject);
  CHECK(rotated->signing_cert().public_key().Equals(old->signing_cert().public_key()));
  REQUIRE(rotated->roots().size() == 2);
  CHECK(rotated->roots()[0] == rotated->signing_cert());
  CHECK(rotated->roots()[1] == old->signing_cert());
  CHECK_FALSE(Unwrap(store->Poll()));
  CHECK(changes == 1);

  // A leaf issued before the rotation verifies with the new root alone (same key and subject).
  CHECK(VerifyChain(old_leaf, {}, {rotated->signing_cert()}, clock.Now()).ok());

  // A restart keeps the rotated root and both roots in the trust bundle.
  store.reset();
  store = Unwrap(RootStore::Create(options, &clock));
  CHECK(store->Current()->signing_cert() == rotated->signing_cert());
  CHECK(store->Current()->roots().size() == 2);

  // Once the old root has expired it leaves the trust bundle at the next rotation.
  clock.Set(start + 17 * kYear);
  CHECK(Unwrap(store->Poll()));
  CHECK(store->Current()->roots().size() == 2);  // the new one and the first rotation's
  CHECK(store->Current()->roots()[1] == rotated->signing_cert());
}

TEST_CASE("A root found expired at start is re-issued", "[ca][root_store]") {
  TempDir dir;
  FakeClock clock;
  RootStoreOptions options = SelfSigned(dir);
  Certificate first = Unwrap(RootStore::Create(options, &clock))->Current()->signing_cert();
  clock.Advance(11 * kYear);
  std::unique_ptr<RootStore> store = Unwrap(RootStore::Create(options, &clock));
  CHECK(store->Current()->signing_cert() != first);
  CHECK(store->Current()->roots().size() == 1);  // the expired root is not trusted any more
}

// Writes a plug-in CA (signing cert under `root`) into `dir`.
void WritePlugin(const std::string& dir, const TestCa& ca, const std::vector<Certificate>& chain,
                 const std::vector<Certificate>& roots) {
  std::filesystem::create_directories(dir);
  WriteFile(dir + "/ca-cert.pem", ca.cert.ToPem());
  WriteFile(dir + "/ca-key.pem", ca.key.ToPem());
  WriteFile(dir + "/cert-chain.pem", ToPem(chain));
  WriteFile(dir + "/root-cert.pem", ToPem(roots));
}

TEST_CASE("A plug-in CA is loaded from cacerts and reloaded when it changes", "[ca][root_store]") {
  TempDir dir;
  FakeClock clock;
  RootStoreOptions options = SelfSigned(dir);
  TestCa root = MakeRoot(clock.Now(), "root");
  TestCa ca = MakeIntermediate(root, clock.Now(), "ca-1");
  WritePlugin(options.plugin_dir, ca, {ca.cert, root.cert}, {root.cert});

  std::unique_ptr<RootStore> store = Unwrap(RootStore::Create(options, &clock));
  int changes = 0;
  store->SetOnChange([&] { ++changes; });
  CHECK(store->mode() == RootStore::Mode::kPlugin);
  CHECK(store->Current()->signing_cert() == ca.cert);
  CHECK(store->Current()->anchor() == root.cert);
  CHECK_FALSE(std::filesystem::exists(options.self_signed_dir));
  CHECK_FALSE(Unwrap(store->Changed()));
  CHECK_FALSE(Unwrap(store->Poll()));

  // The operator rotates the intermediate and adds a second root to the trust bundle.
  TestCa new_root = MakeRoot(clock.Now(), "new-root");
  TestCa ca2 = MakeIntermediate(root, clock.Now(), "ca-2");
  WritePlugin(options.plugin_dir, ca2, {ca2.cert, root.cert}, {root.cert, new_root.cert});
  CHECK(Unwrap(store->Changed()));
  CHECK(Unwrap(store->Poll()));
  CHECK(changes == 1);
  CHECK(store->Current()->signing_cert() == ca2.cert);
  CHECK(store->Current()->roots().size() == 2);
  CHECK_FALSE(Unwrap(store->Changed()));
  CHECK_FALSE(Unwrap(store->Poll()));

  SECTION("a broken set is reported once and the current CA stays") {
    WriteFile(options.plugin_dir + "/ca-key.pem", ca.key.ToPem());  // key of the old cert
    absl::StatusOr<bool> poll = store->Poll();
    CHECK(poll.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(poll.status().message()),
               Catch::Contains("CA key does not match the CA certificate"));
    CHECK(store->Current()->signing_cert() == ca2.cert);
    CHECK(Unwrap(store->Changed()));
    CHECK_FALSE(Unwrap(store->Poll()));  // same contents: not retried
    CHECK(store->Reload().code() == absl::StatusCode::kInvalidArgument);  // explicit: retried

    WriteFile(options.plugin_dir + "/ca-key.pem", ca2.key.ToPem());  // fixed
    CHECK(Unwrap(store->Poll()) == false);  // back to the contents in use: nothing new
    CHECK_FALSE(Unwrap(store->Changed()));
    CHECK(changes == 1);
  }
  SECTION("a missing file keeps the current CA") {
    std::filesystem::remove(options.plugin_dir + "/root-cert.pem");
    CHECK(store->Poll().status().code() == absl::StatusCode::kNotFound);
    CHECK(store->Current()->signing_cert() == ca2.cert);
  }
  SECTION("Reload re-reads on demand") {
    TestCa ca3 = MakeIntermediate(root, clock.Now(), "ca-3");
    WritePlugin(options.plugin_dir, ca3, {}, {root.cert});
    REQUIRE(store->Reload().ok());
    CHECK(store->Current()->signing_cert() == ca3.cert);
    CHECK(changes == 2);
  }
}

TEST_CASE("RootStore mode selection", "[ca][root_store]") {
  TempDir dir;
  FakeClock clock;
  RootStoreOptions options = SelfSigned(dir);

  SECTION("cacerts without a key means self-signed") {
    std::filesystem::create_directories(options.plugin_dir);
    WriteFile(options.plugin_dir + "/ca-cert.pem", MakeRoot(clock.Now()).cert.ToPem());
    CHECK(Unwrap(RootStore::Create(options, &clock))->mode() == RootStore::Mode::kSelfSigned);
  }
  SECTION("no plug-in CA and no self-signed directory is an error") {
    options.self_signed_dir.clear();
    CHECK(RootStore::Create(options, &clock).status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("an invalid plug-in CA at start is an error") {
    TestCa root = MakeRoot(clock.Now());
    TestCa ca = MakeIntermediate(root, clock.Now(), "ca");
    WritePlugin(options.plugin_dir, ca, {}, {MakeRoot(clock.Now()).cert});
    CHECK(RootStore::Create(options, &clock).status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("The watch thread reloads the plug-in CA and stops cleanly", "[ca][root_store]") {
  TempDir dir;
  FakeClock clock;
  RootStoreOptions options = SelfSigned(dir);
  options.poll_interval = absl::Milliseconds(1);
  TestCa root = MakeRoot(clock.Now());
  WritePlugin(options.plugin_dir, MakeIntermediate(root, clock.Now(), "ca-1"), {}, {root.cert});
  std::unique_ptr<RootStore> store = Unwrap(RootStore::Create(options, &clock));

  absl::Notification changed;
  store->SetOnChange([&] {
    if (!changed.HasBeenNotified()) changed.Notify();
  });
  store->Start();
  TestCa ca2 = MakeIntermediate(root, clock.Now(), "ca-2");
  WritePlugin(options.plugin_dir, ca2, {}, {root.cert});
  // Event-driven wait (no sleep); the bound only guards against a hang.
  CHECK(changed.WaitForNotificationWithTimeout(absl::Seconds(30)));
  store->Stop();
  store->Stop();  // idempotent
  CHECK(store->Current()->signing_cert() == ca2.cert);
}

// Secret cacerts as the Kubernetes API would return it (data decoded).
class FakePluginSecret : public PluginSecretSource {
 public:
  void Set(absl::StatusOr<PluginData> data) {
    absl::MutexLock lock(&mu_);
    data_ = std::move(data);
  }
  absl::StatusOr<PluginData> Load() override {
    absl::MutexLock lock(&mu_);
    return data_;
  }
  std::string Describe() const override { return "secret istio-system/cacerts"; }

 private:
  absl::Mutex mu_;
  absl::StatusOr<PluginData> data_ ABSL_GUARDED_BY(mu_) = absl::NotFoundError("no cacerts");
};

PluginData IstioForm(const TestCa& ca, const std::vector<Certificate>& roots) {
  return {{"ca-cert.pem", ca.cert.ToPem()},
          {"ca-key.pem", ca.key.ToPem()},
          {"cert-chain.pem", ca.cert.ToPem()},
          {"root-cert.pem", ToPem(roots)}};
}

double PluginErrors(const std::string& source) {
  return Metrics::Get().ca_plugin_load_errors.Add({{"source", source}}).Value();
}

TEST_CASE("A plug-in CA from secret cacerts is hot reloaded; the old root stays for the overlap",
          "[ca][root_store][cacerts]") {
  TempDir dir;
  FakeClock clock;
  RootStoreOptions options = SelfSigned(dir);  // nothing mounted at plugin_dir
  auto secret = std::make_shared<FakePluginSecret>();
  options.plugin_secret = secret;
  TestCa root1 = MakeRoot(clock.Now(), "root-1");
  TestCa ca1 = MakeIntermediate(root1, clock.Now(), "ca-1");
  secret->Set(IstioForm(ca1, {root1.cert}));

  std::unique_ptr<RootStore> store = Unwrap(RootStore::Create(options, &clock));
  REQUIRE(store->mode() == RootStore::Mode::kPlugin);
  CHECK(store->Current()->signing_cert() == ca1.cert);
  Certificate old_leaf = IssueLeaf(*store->Current(), clock.Now());
  CHECK_FALSE(Unwrap(store->Poll()));

  // The operator rotates to a new CA under a new root.
  TestCa root2 = MakeRoot(clock.Now(), "root-2");
  TestCa ca2 = MakeIntermediate(root2, clock.Now(), "ca-2");
  secret->Set(IstioForm(ca2, {root2.cert}));
  CHECK(Unwrap(store->Poll()));
  std::shared_ptr<const KeyCertBundle> bundle = store->Current();
  CHECK(bundle->signing_cert() == ca2.cert);  // new certificates come from the new CA
  CHECK(bundle->anchor() == root2.cert);
  CHECK(bundle->roots() == std::vector<Certificate>{root2.cert, root1.cert});
  // Certificates from the old CA still verify against the bundle served to workloads.
  CHECK(VerifyChain(old_leaf, {ca1.cert}, bundle->roots(), clock.Now()).ok());
  CHECK(
      VerifyChain(IssueLeaf(*bundle, clock.Now()), {ca2.cert}, bundle->roots(), clock.Now()).ok());
  CHECK_FALSE(Unwrap(store->Poll()));

  // After the overlap the old root leaves the trust bundle.
  clock.Advance(options.plugin_root_overlap + absl::Minutes(1));
  CHECK(Unwrap(store->Poll()));
  CHECK(store->Current()->roots() == std::vector<Certificate>{root2.cert});
  CHECK(store->Current()->signing_cert() == ca2.cert);
  CHECK_FALSE(Unwrap(store->Poll()));
}

TEST_CASE("Mounted cacerts files win over secret cacerts", "[ca][root_store][cacerts]") {
  TempDir dir;
  FakeClock clock;
  RootStoreOptions options = SelfSigned(dir);
  auto secret = std::make_shared<FakePluginSecret>();
  options.plugin_secret = secret;
  TestCa root = MakeRoot(clock.Now(), "root");
  TestCa mounted = MakeIntermediate(root, clock.Now(), "mounted");
  TestCa from_secret = MakeIntermediate(root, clock.Now(), "secret");
  WritePlugin(options.plugin_dir, mounted, {}, {root.cert});
  secret->Set(IstioForm(from_secret, {root.cert}));
  std::unique_ptr<RootStore> store = Unwrap(RootStore::Create(options, &clock));
  CHECK(store->Current()->signing_cert() == mounted.cert);
  CHECK_FALSE(Unwrap(store->Poll()));

  SECTION("the secret is used once the files are gone") {
    std::filesystem::remove_all(options.plugin_dir);
    CHECK(Unwrap(store->Poll()));
    CHECK(store->Current()->signing_cert() == from_secret.cert);
  }
}

TEST_CASE("Secret cacerts in the kubernetes.io/tls form", "[ca][root_store][cacerts]") {
  TempDir dir;
  FakeClock clock;
  RootStoreOptions options = SelfSigned(dir);
  auto secret = std::make_shared<FakePluginSecret>();
  options.plugin_secret = secret;
  TestCa root = MakeRoot(clock.Now(), "root");
  TestCa mid = MakeIntermediate(root, clock.Now(), "mid");
  TestCa ca = MakeIntermediate(mid, clock.Now(), "ca");
  // tls.crt: the signing certificate followed by its intermediate.
  secret->Set(PluginData{{"tls.crt", ToPem({ca.cert, mid.cert})},
                         {"tls.key", ca.key.ToPem()},
                         {"ca.crt", root.cert.ToPem()}});
  std::unique_ptr<RootStore> store = Unwrap(RootStore::Create(options, &clock));
  REQUIRE(store->mode() == RootStore::Mode::kPlugin);
  CHECK(store->Current()->signing_cert() == ca.cert);
  CHECK(store->Current()->intermediates() == std::vector<Certificate>{mid.cert});
  CHECK(store->Current()->anchor() == root.cert);

  SECTION("errors name the tls.* key at fault") {
    secret->Set(PluginData{{"tls.crt", ca.cert.ToPem()}, {"tls.key", "junk"}, {"ca.crt", "x"}});
    CHECK_THAT(std::string(store->Poll().status().message()),
               Catch::StartsWith("plug-in CA in secret istio-system/cacerts: tls.key: "));
    secret->Set(PluginData{{"tls.crt", ca.cert.ToPem()}, {"tls.key", ca.key.ToPem()}});
    CHECK_THAT(std::string(store->Poll().status().message()), Catch::Contains("no ca.crt"));
    CHECK(store->Current()->signing_cert() == ca.cert);
  }
}

TEST_CASE("Bad secret cacerts contents are logged by key, counted, and the old CA kept",
          "[ca][root_store][cacerts]") {
  TempDir dir;
  FakeClock clock;
  RootStoreOptions options = SelfSigned(dir);
  auto secret = std::make_shared<FakePluginSecret>();
  options.plugin_secret = secret;
  TestCa root = MakeRoot(clock.Now(), "root");
  TestCa ca = MakeIntermediate(root, clock.Now(), "ca");
  secret->Set(IstioForm(ca, {root.cert}));
  std::unique_ptr<RootStore> store = Unwrap(RootStore::Create(options, &clock));
  double errors = PluginErrors("secret");
  auto poll_error = [&](PluginData data) {
    secret->Set(std::move(data));
    absl::StatusOr<bool> poll = store->Poll();
    REQUIRE_FALSE(poll.ok());
    CHECK(store->Current()->signing_cert() == ca.cert);  // the old CA stays
    return std::string(poll.status().message());
  };
  TestCa other = MakeIntermediate(root, clock.Now(), "other");

  PluginData mismatched = IstioForm(ca, {root.cert});
  mismatched["ca-key.pem"] = other.key.ToPem();
  CHECK(poll_error(mismatched) ==
        "plug-in CA in secret istio-system/cacerts: ca-cert.pem + ca-key.pem: CA key does not "
        "match the CA certificate");

  // A leaf (CA:FALSE) as the signing certificate.
  PrivateKey leaf_key = Unwrap(PrivateKey::Generate(KeyType::kEcdsaP256));
  CertificateTemplate tmpl;
  tmpl.not_before = clock.Now() - absl::Hours(1);
  tmpl.not_after = clock.Now() + absl::Hours(24);
  Certificate leaf = Unwrap(IssueCertificate(tmpl, leaf_key.public_key(), &root.cert, root.key));
  PluginData not_ca = {{"ca-cert.pem", leaf.ToPem()},
                       {"ca-key.pem", leaf_key.ToPem()},
                       {"root-cert.pem", root.cert.ToPem()}};
  CHECK_THAT(poll_error(not_ca), Catch::EndsWith("CA certificate is not a CA (basicConstraints)"));

  TestCa expired = MakeIntermediate(root, clock.Now() - absl::Hours(48), "expired", absl::Hours(1));
  CHECK_THAT(poll_error(IstioForm(expired, {root.cert})), Catch::Contains("ca-cert.pem"));

  CHECK_THAT(poll_error({{"ca-cert.pem", "junk"},
                         {"ca-key.pem", ca.key.ToPem()},
                         {"root-cert.pem", root.cert.ToPem()}}),
             Catch::Contains("ca-cert.pem: "));
  CHECK_THAT(poll_error({{"unrelated", "x"}}), Catch::Contains("neither ca-cert.pem"));
  CHECK(PluginErrors("secret") - errors == 5);

  // The same broken contents are reported once; good contents are installed again.
  CHECK_FALSE(Unwrap(store->Poll()));
  TestCa ca2 = MakeIntermediate(root, clock.Now(), "ca-2");
  secret->Set(IstioForm(ca2, {root.cert}));
  CHECK(Unwrap(store->Poll()));
  CHECK(store->Current()->signing_cert() == ca2.cert);
}

TEST_CASE("Secret cacerts at start: absent is self-signed, unreachable is an error",
          "[ca][root_store][cacerts]") {
  TempDir dir;
  FakeClock clock;
  RootStoreOptions options = SelfSigned(dir);
  auto secret = std::make_shared<FakePluginSecret>();
  options.plugin_secret = secret;
  CHECK(Unwrap(RootStore::Create(options, &clock))->mode() == RootStore::Mode::kSelfSigned);
  secret->Set(absl::UnavailableError("GET secret istio-system/cacerts: HTTP 503"));
  CHECK(RootStore::Create(options, &clock).status().code() == absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace meshd::ca
