#include "controller/kube/webhook_patcher.h"

#include <map>

#include <catch2/catch.hpp>
#include "absl/strings/escaping.h"
#include "nlohmann/json.hpp"
#include "tests/controller/kube/fake_kube_client.h"

namespace meshd::kube {
namespace {

using json = nlohmann::json;

constexpr char kValidating[] =
    "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/"
    "istio-validator-istio-system";
constexpr char kMutating[] =
    "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-sidecar-injector";

json Config(const char* name, int hooks) {
  json c = {{"metadata", {{"name", name}, {"resourceVersion", "1"}}}, {"webhooks", json::array()}};
  for (int i = 0; i < hooks; ++i) {
    c["webhooks"].push_back({{"name", "h" + std::to_string(i)},
                             {"failurePolicy", "Ignore"},
                             {"clientConfig", {{"service", {{"name", "istiod"}}}}}});
  }
  return c;
}

struct Server {
  std::map<std::string, json> objects;
  int puts = 0;
  absl::StatusOr<KubeResponse> operator()(const std::string& method, const std::string& path,
                                          const std::string& body) {
    auto it = objects.find(path);
    if (it == objects.end()) return KubeResponse{404, "{}", ""};
    if (method == "GET") return KubeResponse{200, it->second.dump(), ""};
    if (method == "PUT") {
      ++puts;
      it->second = json::parse(body);
      return KubeResponse{200, body, ""};
    }
    return KubeResponse{405, "{}", ""};
  }
};

TEST_CASE("WebhookPatcher sets caBundle, then failurePolicy Fail once serving", "[kube][webhook]") {
  testing::FakeKubeClient client;
  Server server;
  server.objects[kValidating] = Config("istio-validator-istio-system", 2);
  server.objects[kMutating] = Config("istio-sidecar-injector", 1);
  client.on_request = [&server](const std::string& m, const std::string& p, const std::string& b) {
    return server(m, p, b);
  };
  std::string root = "-----BEGIN CERTIFICATE-----\nroot1\n-----END CERTIFICATE-----\n";
  bool serving = false;
  WebhookPatcher patcher(
      &client, WebhookPatcher::Options(), [&root] { return root; }, [&serving] { return serving; });

  REQUIRE(patcher.PatchAll().ok());
  for (const char* path : {kValidating, kMutating}) {
    for (const json& hook : server.objects[path]["webhooks"]) {
      CHECK(hook["clientConfig"]["caBundle"] == absl::Base64Escape(root));
      CHECK(hook["failurePolicy"] == "Ignore");
      CHECK(hook["clientConfig"]["service"]["name"] == "istiod");
    }
  }
  CHECK(server.puts == 2);
  // Nothing changed: nothing written.
  REQUIRE(patcher.PatchAll().ok());
  CHECK(server.puts == 2);

  serving = true;
  REQUIRE(patcher.PatchAll().ok());
  for (const json& hook : server.objects[kValidating]["webhooks"]) {
    CHECK(hook["failurePolicy"] == "Fail");
  }
  // The injector's failure policy is the installer's choice.
  CHECK(server.objects[kMutating]["webhooks"][0]["failurePolicy"] == "Ignore");
  CHECK(server.puts == 3);

  // Root rotation: re-patched.
  root = "-----BEGIN CERTIFICATE-----\nroot2\n-----END CERTIFICATE-----\n";
  REQUIRE(patcher.PatchAll().ok());
  CHECK(server.objects[kMutating]["webhooks"][0]["clientConfig"]["caBundle"] ==
        absl::Base64Escape(root));
  CHECK(server.puts == 5);
}

TEST_CASE("WebhookPatcher: missing configurations are not an error", "[kube][webhook]") {
  testing::FakeKubeClient client;
  Server server;
  client.on_request = [&server](const std::string& m, const std::string& p, const std::string& b) {
    return server(m, p, b);
  };
  WebhookPatcher::Options options;
  options.revision = "canary";
  options.ns = "mesh";
  WebhookPatcher patcher(
      &client, options, [] { return "pem"; }, [] { return true; });
  CHECK(patcher.ValidatingName() == "istio-validator-canary-mesh");
  CHECK(patcher.MutatingName() == "istio-sidecar-injector-canary");
  CHECK(patcher.PatchAll().ok());
  CHECK(server.puts == 0);
}

TEST_CASE("WebhookPatcher: API errors are reported", "[kube][webhook]") {
  testing::FakeKubeClient client;
  client.on_request = [](const std::string&, const std::string&, const std::string&) {
    return absl::StatusOr<KubeResponse>(KubeResponse{500, "boom", ""});
  };
  WebhookPatcher patcher(
      &client, WebhookPatcher::Options(), [] { return "pem"; }, [] { return true; });
  CHECK_FALSE(patcher.PatchAll().ok());
}

}  // namespace
}  // namespace meshd::kube
