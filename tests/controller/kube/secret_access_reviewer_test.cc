// KubeSecretAccessReviewer: the SubjectAccessReview istiod sends before serving a gateway its
// credentialName secrets, how the answer is read, and the TTL cache (fake clock, no sleeping).
#include "controller/kube/secret_access_reviewer.h"

#include <catch2/catch.hpp>

#include "nlohmann/json.hpp"
#include "tests/controller/kube/fake_kube_client.h"

namespace meshd::kube {
namespace {

using nlohmann::json;

TEST_CASE("SubjectAccessReview request: the gateway's user may list secrets in the namespace",
          "[kube][secret_access]") {
  json body =
      json::parse(KubeSecretAccessReviewer::RequestBody("system:serviceaccount:gw:ingress", "gw"));
  CHECK(body == json::parse(R"({"apiVersion":"authorization.k8s.io/v1",
      "kind":"SubjectAccessReview","spec":{"user":"system:serviceaccount:gw:ingress",
      "resourceAttributes":{"namespace":"gw","verb":"list","resource":"secrets"}}})"));
}

TEST_CASE("SubjectAccessReview response: allowed, denied, broken", "[kube][secret_access]") {
  CHECK(*KubeSecretAccessReviewer::ParseResponse(201, R"({"status":{"allowed":true}})"));
  CHECK_FALSE(*KubeSecretAccessReviewer::ParseResponse(
      201, R"({"status":{"allowed":false,"reason":"no RBAC"}})"));
  CHECK_FALSE(*KubeSecretAccessReviewer::ParseResponse(201, R"({"status":{"allowed":"yes"}})"));
  CHECK(KubeSecretAccessReviewer::ParseResponse(201, "not json").status().code() ==
        absl::StatusCode::kInternal);
  CHECK(KubeSecretAccessReviewer::ParseResponse(403, "{}").status().code() ==
        absl::StatusCode::kUnavailable);
}

TEST_CASE("SubjectAccessReview answers are cached for the TTL; failures are not",
          "[kube][secret_access]") {
  auto client = std::make_shared<testing::FakeKubeClient>();
  bool allow = true;
  bool up = true;
  client->on_request = [&](const std::string& method, const std::string& path,
                           const std::string& body) -> absl::StatusOr<KubeResponse> {
    CHECK(method == "POST");
    CHECK(path == "/apis/authorization.k8s.io/v1/subjectaccessreviews");
    if (!up) return absl::UnavailableError("connection refused");
    json b = json::parse(body);
    bool allowed = allow && b["spec"]["user"] == "system:serviceaccount:gw:ingress";
    return KubeResponse{201, json{{"status", {{"allowed", allowed}}}}.dump(), ""};
  };
  FakeClock clock;
  KubeSecretAccessReviewer reviewer(client, &clock, absl::Minutes(1));
  CHECK(reviewer.MayReadSecrets("gw", "ingress", "gw"));
  CHECK_FALSE(reviewer.MayReadSecrets("gw", "other", "gw"));
  CHECK(client->requests.size() == 2);
  allow = false;
  CHECK(reviewer.MayReadSecrets("gw", "ingress", "gw"));  // cached
  CHECK(client->requests.size() == 2);
  clock.Advance(absl::Minutes(2));
  CHECK_FALSE(reviewer.MayReadSecrets("gw", "ingress", "gw"));  // asked again: revoked
  CHECK(client->requests.size() == 3);
  up = false;
  clock.Advance(absl::Minutes(2));
  CHECK_FALSE(reviewer.MayReadSecrets("gw", "ingress", "gw"));  // down: no
  allow = true;
  up = true;
  CHECK(reviewer.MayReadSecrets("gw", "ingress", "gw"));  // the failure was not cached
  CHECK_FALSE(reviewer.MayReadSecrets("", "ingress", "gw"));
}

TEST_CASE("File mode: a gateway reads the secrets of its own namespace only",
          "[kube][secret_access]") {
  model::SameNamespaceSecretAccess same;
  CHECK(same.MayReadSecrets("gw", "ingress", "gw"));
  CHECK_FALSE(same.MayReadSecrets("gw", "ingress", "default"));
}

}  // namespace
}  // namespace meshd::kube
