// KubeTokenReviewer: the TokenReview request istiod's CA sends and how it reads the API
// server's answer (authentication.k8s.io/v1 TokenReview status).
#include "controller/kube/token_reviewer.h"

#include <catch2/catch.hpp>

#include "nlohmann/json.hpp"
#include "tests/controller/kube/fake_kube_client.h"

namespace meshd::kube {
namespace {

using nlohmann::json;

TEST_CASE("TokenReview request: token and audiences in spec", "[token_reviewer]") {
  json body = json::parse(KubeTokenReviewer::RequestBody("tok", {"istio-ca"}));
  CHECK(body == json::parse(R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview",
                                "spec":{"token":"tok","audiences":["istio-ca"]}})"));
  // No audiences: the API server's own audiences apply, so none are sent.
  CHECK_FALSE(json::parse(KubeTokenReviewer::RequestBody("tok", {}))["spec"].contains("audiences"));
}

TEST_CASE("TokenReview response: an authenticated service account", "[token_reviewer]") {
  auto r = KubeTokenReviewer::ParseResponse(201, R"({
    "kind":"TokenReview","apiVersion":"authentication.k8s.io/v1",
    "status":{"authenticated":true,
              "user":{"username":"system:serviceaccount:default:echo","uid":"u",
                      "groups":["system:serviceaccounts","system:serviceaccounts:default"]},
              "audiences":["istio-ca"]}})");
  REQUIRE(r.ok());
  CHECK(r->authenticated);
  CHECK(r->username == "system:serviceaccount:default:echo");
  CHECK(r->groups ==
        std::vector<std::string>{"system:serviceaccounts", "system:serviceaccounts:default"});
  CHECK(r->audiences == std::vector<std::string>{"istio-ca"});
  CHECK(r->error.empty());
}

TEST_CASE("TokenReview response: not authenticated, with the API server's error",
          "[token_reviewer]") {
  auto r = KubeTokenReviewer::ParseResponse(
      201, R"({"status":{"authenticated":false,"error":"token has expired"}})");
  REQUIRE(r.ok());
  CHECK_FALSE(r->authenticated);
  CHECK(r->error == "token has expired");
  CHECK(r->username.empty());
}

TEST_CASE("TokenReview response: an empty status means not authenticated", "[token_reviewer]") {
  auto r = KubeTokenReviewer::ParseResponse(200, R"({"status":{}})");
  REQUIRE(r.ok());
  CHECK_FALSE(r->authenticated);
}

TEST_CASE("TokenReview response: HTTP errors and bodies without status are errors",
          "[token_reviewer]") {
  auto forbidden =
      KubeTokenReviewer::ParseResponse(403, R"({"kind":"Status","reason":"Forbidden","code":403})");
  CHECK(forbidden.status().code() == absl::StatusCode::kUnavailable);
  CHECK(forbidden.status().message() ==
        R"(TokenReview: HTTP 403: {"kind":"Status","reason":"Forbidden","code":403})");
  CHECK(KubeTokenReviewer::ParseResponse(201, "not json").status().message() ==
        "TokenReview: response without status");
  CHECK(KubeTokenReviewer::ParseResponse(201, R"({"status":"ok"})").status().code() ==
        absl::StatusCode::kInternal);
}

TEST_CASE("TokenReview response: wrongly typed fields never throw and never authenticate",
          "[token_reviewer]") {
  // The API server is not trusted to be well-formed: a string "true" is not a boolean true.
  auto r = KubeTokenReviewer::ParseResponse(201, R"({"status":{"authenticated":"true","error":7,
                         "user":{"username":["x"],"groups":"g"},"audiences":"istio-ca"}})");
  REQUIRE(r.ok());
  CHECK_FALSE(r->authenticated);
  CHECK(r->username.empty());
  CHECK(r->error.empty());
  CHECK(r->groups.empty());
  CHECK(r->audiences.empty());
}

TEST_CASE("TokenReview response: entries of other types in groups and audiences are skipped",
          "[token_reviewer]") {
  auto r = KubeTokenReviewer::ParseResponse(
      200, R"({"status":{"authenticated":true,"user":{"username":"u","groups":["a",1,null,"b"]},
               "audiences":[{"x":1},"istio-ca"]}})");
  REQUIRE(r.ok());
  CHECK(r->authenticated);
  CHECK(r->groups == std::vector<std::string>{"a", "b"});
  CHECK(r->audiences == std::vector<std::string>{"istio-ca"});
}

TEST_CASE("TokenReview: Review POSTs to tokenreviews and reads the answer; transport errors pass",
          "[token_reviewer]") {
  auto kube = std::make_shared<testing::FakeKubeClient>();
  std::string sent;
  kube->on_request = [&sent](const std::string&, const std::string&, const std::string& body) {
    sent = body;
    return KubeResponse{201, R"({"status":{"authenticated":true,"user":{"username":"u"}}})"};
  };
  KubeTokenReviewer reviewer(kube);
  auto r = reviewer.Review("tok", {"istio-ca"});
  REQUIRE(r.ok());
  CHECK(r->authenticated);
  CHECK(r->username == "u");
  REQUIRE(kube->requests.size() == 1);
  CHECK(kube->requests[0] == "POST /apis/authentication.k8s.io/v1/tokenreviews");
  CHECK(json::parse(sent)["spec"] == json{{"token", "tok"}, {"audiences", {"istio-ca"}}});

  kube->on_request = nullptr;  // the fake answers "no server"
  auto down = reviewer.Review("tok", {});
  CHECK(down.status().code() == absl::StatusCode::kUnavailable);
  CHECK(down.status().message() == "no server");
}

}  // namespace
}  // namespace meshd::kube
