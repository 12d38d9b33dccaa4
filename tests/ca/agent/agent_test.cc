#include "ca/agent/agent.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "ca/files.h"
#include "ca/signer.h"
#include "nlohmann/json.hpp"
#include "tests/ca/test_ca.h"

namespace meshd::ca {
namespace {
using namespace ::meshd::ca::testing;  // NOLINT: test helpers

// Signs in-process with a test CA, as meshd would.
class SignerClient : public CertificateClient {
 public:
  SignerClient(const Signer* signer, Identity id) : signer_(signer), id_(std::move(id)) {}
  absl::StatusOr<std::vector<std::string>> CreateCertificate(const std::string& csr,
                                                             absl::Duration ttl) override {
    ++calls;
    return signer_->Sign(csr, id_, ttl);
  }
  int calls = 0;

 private:
  const Signer* signer_;
  Identity id_;
};

TEST_CASE("RenewalTime: half the lifetime minus jitter, never before issuance", "[agent]") {
  absl::Time t0 = absl::FromUnixSeconds(1000000);
  absl::Time end = t0 + absl::Seconds(60);
  CHECK(RenewalTime(t0, end, 0.5, 0.1, 0.0) == t0 + absl::Seconds(30));
  CHECK(RenewalTime(t0, end, 0.5, 0.1, 0.5) == t0 + absl::Seconds(27));
  CHECK(RenewalTime(t0, end, 0.5, 0.1, 0.999) > t0 + absl::Seconds(24));
  CHECK(RenewalTime(t0, end, 0.5, 2.0, 1.0) == t0);  // clamped, never before issuance
  CHECK(RenewalTime(t0, t0 - absl::Seconds(1), 0.5, 0.1, 0.0) == t0);
}

TEST_CASE("agent retries a failed issuance 1 s doubling to 30 s, jittered by at most 20%",
          "[agent]") {
  FakeClock clock;
  double unit = 0.0;
  Backoff retry(AgentRetryBackoff(), &clock, [&unit] { return unit; });
  CHECK(retry.Next() == absl::Seconds(1));
  CHECK(retry.Next() == absl::Seconds(2));
  unit = 0.5;
  CHECK(retry.Next() == absl::Seconds(4) + absl::Milliseconds(400));
  unit = 0.0;
  for (int i = 0; i < 10; ++i) retry.Next();
  CHECK(retry.Next() == absl::Seconds(30));
  retry.Reset();  // after an issuance
  CHECK(retry.Next() == absl::Seconds(1));
}

TEST_CASE("bootstrap: Istio node id and metadata, file_watcher provider, server template",
          "[agent]") {
  AgentOptions o;
  o.ip = "10.1.2.3";
  o.pod_name = "echo-0";
  o.ns = "prod";
  o.service_account = "echo";
  o.labels = {{"app", "echo"}};
  o.cert_dir = "/var/run/certs";
  o.xds_address = "istiod.istio-system.svc:15010";
  auto j = nlohmann::json::parse(BuildGrpcBootstrap(o));
  CHECK(j["node"]["id"] == "sidecar~10.1.2.3~echo-0.prod~prod.svc.cluster.local");
  CHECK(j["node"]["metadata"]["NAMESPACE"] == "prod");
  CHECK(j["node"]["metadata"]["GENERATOR"] == "grpc");
  CHECK(j["node"]["metadata"]["INSTANCE_IPS"] == "10.1.2.3");
  CHECK(j["node"]["metadata"]["SERVICE_ACCOUNT"] == "echo");
  CHECK(j["node"]["metadata"]["LABELS"]["app"] == "echo");
  CHECK(j["node"].contains("locality"));  // the Node client requires it
  CHECK(j["xds_servers"][0]["server_uri"] == "istiod.istio-system.svc:15010");
  CHECK(j["xds_servers"][0]["channel_creds"][0]["type"] == "insecure");
  auto p = j["certificate_providers"]["default"];
  CHECK(p["plugin_name"] == "file_watcher");
  CHECK(p["config"]["certificate_file"] == "/var/run/certs/cert-chain.pem");
  CHECK(p["config"]["private_key_file"] == "/var/run/certs/key.pem");
  CHECK(p["config"]["ca_certificate_file"] == "/var/run/certs/root-cert.pem");
  CHECK(p["config"]["refresh_interval"] == "5s");
  CHECK(j["server_listener_resource_name_template"] == "xds.istio.io/grpc/lds/inbound/%s");
}

TEST_CASE("Agent::Refresh writes matching key/cert/root and renews at half life (fake clock)",
          "[agent]") {
  FakeClock clock(
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now())));  // whole seconds, as in X.509
  auto root = MakeRoot(clock.Now());
  auto bundle = SelfSignedBundle(root, clock.Now());
  Signer signer(SignerOptions{}, Fixed(bundle), &clock);
  SignerClient client(&signer, Identity{"", "default", "echo"});
  std::string dir =
      std::filesystem::temp_directory_path() / ("agent-test-" + std::to_string(getpid()));
  AgentOptions o;
  o.cert_dir = dir;
  o.ns = "default";
  o.service_account = "echo";
  o.requested_ttl = absl::Hours(1);
  Agent agent(o, &client, &clock, [] { return 0.0; });
  auto first = agent.Refresh();
  REQUIRE(first.ok());
  CHECK(first->not_after == clock.Now() + absl::Hours(1));
  CHECK(first->renew_at == clock.Now() + absl::Minutes(30));
  auto cert = Certificate::FromPem(*ca::ReadFile(dir + "/cert-chain.pem"));
  auto key = PrivateKey::FromPem(*ca::ReadFile(dir + "/key.pem"));
  REQUIRE(cert.ok());
  REQUIRE(key.ok());
  CHECK(KeyMatches(*key, *cert));
  CHECK(cert->Info().uri_sans ==
        std::vector<std::string>{"spiffe://cluster.local/ns/default/sa/echo"});
  CHECK(*ca::ReadFile(dir + "/root-cert.pem") == bundle->RootsPem());
  CHECK(std::filesystem::is_symlink(dir + "/key.pem"));

  clock.Advance(absl::Minutes(30));
  auto second = agent.Refresh();
  REQUIRE(second.ok());
  CHECK(second->serial_hex != first->serial_hex);
  CHECK(second->renew_at == clock.Now() + absl::Minutes(30));
  auto cert2 = Certificate::FromPem(*ca::ReadFile(dir + "/cert-chain.pem"));
  auto key2 = PrivateKey::FromPem(*ca::ReadFile(dir + "/key.pem"));
  CHECK(KeyMatches(*key2, *cert2));
  CHECK(client.calls == 2);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meshd::ca
