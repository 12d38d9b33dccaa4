// CaSecretStore (secret istio-ca-secret) and RootCertPublisher (ConfigMap istio-ca-root-cert)
// against a fake API server; RootStore over the secret: replicas share one root.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ca/root_store.h"
#include "controller/kube/ca_secret_store.h"
#include "controller/kube/root_cert_publisher.h"
#include "nlohmann/json.hpp"
#include "tests/ca/test_ca.h"
#include "tests/controller/kube/fake_kube_client.h"

namespace meshd::kube {
namespace {

using nlohmann::json;
using testing::FakeKubeClient;

// Objects by path with resourceVersions, create/get/merge-patch semantics and injectable codes.
struct Objects {
  std::map<std::string, json> items;
  int rv = 1;
  int fail_create = 0;  // answer POST with this code once (0: none)
  json race_winner;     // stored just before a POST, as another replica would
  std::set<std::string> gone_namespaces;

  absl::StatusOr<KubeResponse> Handle(const std::string& method, const std::string& path,
                                      const std::string& body) {
    if (method == "GET") {
      auto it = items.find(path);
      if (it == items.end()) return KubeResponse{404, R"({"message":"not found"})", ""};
      return KubeResponse{200, it->second.dump(), ""};
    }
    if (method == "POST") {
      json obj = json::parse(body);
      std::string ns = obj["metadata"]["namespace"];
      if (gone_namespaces.count(ns)) return KubeResponse{404, R"({"message":"ns gone"})", ""};
      std::string item = absl::StrCat(path, "/", obj["metadata"]["name"].get<std::string>());
      if (!race_winner.is_null()) {
        items[item] = race_winner;
        race_winner = json();
      }
      if (fail_create) {
        int code = fail_create;
        fail_create = 0;
        return KubeResponse{code, R"({"message":"injected"})", ""};
      }
      if (items.count(item)) return KubeResponse{409, R"({"reason":"AlreadyExists"})", ""};
      obj["metadata"]["resourceVersion"] = std::to_string(++rv);
      items[item] = obj;
      return KubeResponse{201, obj.dump(), ""};
    }
    if (method == "PATCH") {
      auto it = items.find(path);
      if (it == items.end()) return KubeResponse{404, "{}", ""};
      json patch = json::parse(body);
      if (patch.contains("metadata") && patch["metadata"].contains("resourceVersion") &&
          patch["metadata"]["resourceVersion"] != it->second["metadata"]["resourceVersion"]) {
        return KubeResponse{409, R"({"reason":"Conflict"})", ""};
      }
      it->second.merge_patch(patch);
      it->second["metadata"]["resourceVersion"] = std::to_string(++rv);
      return KubeResponse{200, it->second.dump(), ""};
    }
    return KubeResponse{405, "{}", ""};
  }
};

constexpr char kSecret[] = "/api/v1/namespaces/istio-system/secrets/istio-ca-secret";

class SecretPersistence : public ca::RootPersistence {
 public:
  explicit SecretPersistence(CaSecretStore* s) : s_(s) {}
  absl::StatusOr<ca::RootMaterial> Load() override { return Conv(s_->Load()); }
  absl::StatusOr<ca::RootMaterial> Create(const ca::RootMaterial& m) override {
    return Conv(s_->Create({m.ca_cert, m.ca_key, m.cert_chain, m.root_cert}));
  }
  absl::Status Update(const ca::RootMaterial& m) override {
    return s_->Update({m.ca_cert, m.ca_key, m.cert_chain, m.root_cert});
  }
  std::string Describe() const override { return s_->Describe(); }

 private:
  static absl::StatusOr<ca::RootMaterial> Conv(absl::StatusOr<CaSecretStore::Material> m) {
    if (!m.ok()) return m.status();
    return ca::RootMaterial{m->ca_cert, m->ca_key, m->cert_chain, m->root_cert};
  }
  CaSecretStore* s_;
};

std::unique_ptr<ca::RootStore> NewStore(CaSecretStore* secret, const Clock* clock) {
  ca::RootStoreOptions o;
  o.plugin_dir = "";
  o.persistence = std::make_shared<SecretPersistence>(secret);
  auto store = ca::RootStore::Create(o, clock);
  REQUIRE(store.ok());
  return *std::move(store);
}

TEST_CASE("CaSecretStore: load, create, and a lost create race", "[kube]") {
  Objects api;
  FakeKubeClient client;
  client.on_request = [&](auto& m, auto& p, auto& b) { return api.Handle(m, p, b); };
  CaSecretStore store(&client, "istio-system");
  CHECK(absl::IsNotFound(store.Load().status()));

  auto mine = store.Create({"CERT", "KEY", "", "ROOT"});
  REQUIRE(mine.ok());
  CHECK(mine->ca_cert == "CERT");
  REQUIRE(api.items.count(kSecret));
  CHECK(api.items[kSecret]["data"]["ca-key.pem"] == "S0VZ");  // base64("KEY")
  CHECK(api.items[kSecret]["data"].contains("cert-chain.pem"));
  auto loaded = store.Load();
  REQUIRE(loaded.ok());
  CHECK(loaded->root_cert == "ROOT");

  // Another replica's create wins: 409, and theirs is returned.
  api.items.clear();
  api.race_winner = {{"metadata", {{"name", "istio-ca-secret"}, {"resourceVersion", "7"}}},
                     {"data", {{"ca-cert.pem", "VEhFSVJT"}, {"ca-key.pem", "S0VZ"}}}};
  auto theirs = store.Create({"MINE", "KEY", "", "ROOT"});
  REQUIRE(theirs.ok());
  CHECK(theirs->ca_cert == "THEIRS");

  api.fail_create = 500;
  api.items.clear();
  CHECK(!store.Create({"A", "B", "", "C"}).ok());
}

TEST_CASE("RootStore over istio-ca-secret: a restart and a second replica keep the root",
          "[kube]") {
  Objects api;
  FakeKubeClient client;
  client.on_request = [&](auto& m, auto& p, auto& b) { return api.Handle(m, p, b); };
  CaSecretStore secret(&client, "istio-system");
  FakeClock clock;
  auto first = NewStore(&secret, &clock);
  CHECK(first->mode() == ca::RootStore::Mode::kSelfSigned);
  REQUIRE(api.items.count(kSecret));
  std::string root = first->Current()->RootsPem();
  first.reset();

  auto restarted = NewStore(&secret, &clock);
  CHECK(restarted->Current()->RootsPem() == root);

  // A replica that lost the create race uses the winner's root.
  auto winner = api.items[kSecret];
  api.items.clear();
  api.race_winner = winner;
  auto replica = NewStore(&secret, &clock);
  CHECK(replica->Current()->RootsPem() == root);

  // Nothing changed: Poll installs nothing.
  auto polled = replica->Poll();
  REQUIRE(polled.ok());
  CHECK(!*polled);
}

constexpr char kCm[] = "/api/v1/namespaces/default/configmaps/istio-ca-root-cert";

TEST_CASE("RootCertPublisher: creates, leaves alone, updates, and skips gone namespaces",
          "[kube]") {
  Objects api;
  FakeKubeClient client;
  client.on_request = [&](auto& m, auto& p, auto& b) { return api.Handle(m, p, b); };
  FakeClock clock;
  std::string pem = "PEM-1";
  RootCertPublisher publisher(&client, &clock, [&] { return pem; });

  REQUIRE(publisher.Publish("default").ok());
  REQUIRE(api.items.count(kCm));
  CHECK(api.items[kCm]["data"]["root-cert.pem"] == "PEM-1");
  CHECK(api.items[kCm]["metadata"]["namespace"] == "default");

  client.requests.clear();
  REQUIRE(publisher.Publish("default").ok());
  CHECK(client.requests == std::vector<std::string>{"GET " + std::string(kCm)});

  pem = "PEM-2";
  REQUIRE(publisher.Publish("default").ok());
  CHECK(api.items[kCm]["data"]["root-cert.pem"] == "PEM-2");

  // Created by someone else between our GET and POST: 409, read again, update.
  api.items.clear();
  api.race_winner = {{"metadata", {{"name", "istio-ca-root-cert"}, {"resourceVersion", "3"}}},
                     {"data", {{"root-cert.pem", "OLD"}}}};
  REQUIRE(publisher.Publish("default").ok());
  CHECK(api.items[kCm]["data"]["root-cert.pem"] == "PEM-2");

  api.gone_namespaces.insert("gone");
  CHECK(publisher.Publish("gone").ok());
  api.fail_create = 500;
  CHECK(!publisher.Publish("other").ok());
}

TEST_CASE("RootCertPublisher: not running before Start, stops at once", "[kube]") {
  FakeKubeClient client;
  FakeClock clock;
  RootCertPublisher publisher(&client, &clock, [] { return std::string("PEM"); });
  CHECK(!publisher.Running());
  publisher.OnRootChange();  // ignored
  publisher.Stop();          // no-op
  CHECK(client.requests.empty());
}

constexpr char kCaCerts[] = "/api/v1/namespaces/istio-system/secrets/cacerts";

json SecretData(const std::map<std::string, std::string>& data) {
  json out = json::object();
  for (const auto& [k, v] : data) out[k] = absl::Base64Escape(v);
  return {{"metadata", {{"name", "cacerts"}, {"namespace", "istio-system"}}}, {"data", out}};
}

// What bootstrap/server.cc plugs into the CA: secret cacerts through the KubeClient.
class SecretPluginSource : public ca::PluginSecretSource {
 public:
  explicit SecretPluginSource(CaSecretStore store) : store_(std::move(store)) {}
  absl::StatusOr<ca::PluginData> Load() override { return store_.LoadData(); }
  std::string Describe() const override { return store_.Describe(); }

 private:
  const CaSecretStore store_;
};

TEST_CASE("CaSecretStore::LoadData reads secret cacerts", "[kube][cacerts]") {
  Objects api;
  FakeKubeClient client;
  client.on_request = [&](auto& m, auto& p, auto& b) { return api.Handle(m, p, b); };
  CaSecretStore store(&client, "istio-system", "cacerts");
  CHECK(absl::IsNotFound(store.LoadData().status()));
  api.items[kCaCerts] = SecretData({{"tls.crt", "CERT"}, {"tls.key", "KEY"}, {"ca.crt", "ROOT"}});
  auto data = store.LoadData();
  REQUIRE(data.ok());
  CHECK(*data == std::map<std::string, std::string>{
                     {"tls.crt", "CERT"}, {"tls.key", "KEY"}, {"ca.crt", "ROOT"}});
  api.items[kCaCerts]["data"]["ca-key.pem"] = "not base64!";
  CHECK(store.LoadData().status().message() ==
        "secret istio-system/cacerts: ca-key.pem is not base64");
}

TEST_CASE("A plug-in CA in secret cacerts is hot reloaded through the Kubernetes API",
          "[kube][cacerts]") {
  Objects api;
  FakeKubeClient client;
  client.on_request = [&](auto& m, auto& p, auto& b) { return api.Handle(m, p, b); };
  FakeClock clock;
  ca::testing::TestCa root = ca::testing::MakeRoot(clock.Now(), "root");
  ca::testing::TestCa ca1 = ca::testing::MakeIntermediate(root, clock.Now(), "ca-1");
  api.items[kCaCerts] = SecretData({{"ca-cert.pem", ca1.cert.ToPem()},
                                    {"ca-key.pem", ca1.key.ToPem()},
                                    {"root-cert.pem", root.cert.ToPem()}});
  ca::RootStoreOptions o;
  o.plugin_dir = "";  // nothing mounted
  o.plugin_secret =
      std::make_shared<SecretPluginSource>(CaSecretStore(&client, "istio-system", "cacerts"));
  auto store = ca::RootStore::Create(o, &clock);
  REQUIRE(store.ok());
  CHECK((*store)->mode() == ca::RootStore::Mode::kPlugin);
  CHECK((*store)->Current()->signing_cert() == ca1.cert);

  ca::testing::TestCa ca2 = ca::testing::MakeIntermediate(root, clock.Now(), "ca-2");
  api.items[kCaCerts] = SecretData({{"ca-cert.pem", ca2.cert.ToPem()},
                                    {"ca-key.pem", ca2.key.ToPem()},
                                    {"root-cert.pem", root.cert.ToPem()}});
  auto polled = (*store)->Poll();
  REQUIRE(polled.ok());
  CHECK(*polled);
  CHECK((*store)->Current()->signing_cert() == ca2.cert);

  // The API server failing keeps the CA in use.
  client.on_request = [](auto&, auto&, auto&) -> absl::StatusOr<KubeResponse> {
    return KubeResponse{503, R"({"message":"unavailable"})", ""};
  };
  CHECK(!(*store)->Poll().ok());
  CHECK((*store)->Current()->signing_cert() == ca2.cert);
}

}  // namespace
}  // namespace meshd::kube
