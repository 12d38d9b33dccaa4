#include "ca/server/token_authenticator.h"

#include <catch2/catch.hpp>

#include "ca/server/fake_token_reviewer.h"

namespace meshd::ca {
namespace {

TokenReviewResult Good() {
  TokenReviewResult r;
  r.authenticated = true;
  r.username = "system:serviceaccount:default:sleep";
  r.groups = {"system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"};
  r.audiences = {"istio-ca"};
  return r;
}

std::string Rejection(const TokenReviewResult& r) {
  absl::StatusOr<Identity> id = TokenAuthenticator::CheckReview(r, {"istio-ca"});
  REQUIRE_FALSE(id.ok());
  CHECK(id.status().code() == absl::StatusCode::kUnauthenticated);
  return std::string(id.status().message());
}

TEST_CASE("CheckReview accepts a service account token for istio-ca", "[ca][server][token]") {
  absl::StatusOr<Identity> id = TokenAuthenticator::CheckReview(Good(), {"istio-ca"});
  REQUIRE(id.ok());
  CHECK(*id == Identity{"", "default", "sleep"});
}

TEST_CASE("CheckReview applies istiod's checks", "[ca][server][token]") {
  TokenReviewResult r = Good();
  r.authenticated = false;
  r.error = "token expired";
  CHECK(Rejection(r) == "token not authenticated: token expired");

  r = Good();
  r.groups = {"system:authenticated"};
  CHECK(Rejection(r) == "\"system:serviceaccount:default:sleep\" is not a service account");

  r = Good();
  r.audiences = {"kubernetes.default.svc"};
  CHECK(Rejection(r) == "token audiences do not match");
  r.audiences.clear();
  CHECK(Rejection(r) == "token audiences do not match");

  for (const char* username : {"alice", "system:serviceaccount:default", "system:node:default:x",
                               "system:serviceaccount:default:sleep:extra"}) {
    r = Good();
    r.username = username;
    CHECK_THAT(Rejection(r), Catch::EndsWith("is not system:serviceaccount:<ns>:<sa>"));
  }
  r = Good();
  r.username = "system:serviceaccount:Default:sleep";
  CHECK(Rejection(r) == "invalid namespace \"Default\"");
}

TEST_CASE("TokenAuthenticator reads a bearer token and reviews it", "[ca][server][token]") {
  auto reviewer = std::make_shared<FakeTokenReviewer>();
  reviewer->AddServiceAccount("good-token", "default", "sleep");
  reviewer->AddServiceAccount("other-audience", "default", "sleep", {"vault"});
  TokenAuthenticator authn(reviewer);

  CHECK(*authn.AuthenticateHeader("Bearer good-token") == Identity{"", "default", "sleep"});
  CHECK(*authn.AuthenticateHeader("bearer  good-token ") == Identity{"", "default", "sleep"});
  CHECK(reviewer->reviews() == 2);

  auto rejection = [&](absl::string_view header) {
    absl::StatusOr<Identity> id = authn.AuthenticateHeader(header);
    REQUIRE_FALSE(id.ok());
    CHECK(id.status().code() == absl::StatusCode::kUnauthenticated);
    return std::string(id.status().message());
  };
  CHECK(rejection("Basic dXNlcjpwYXNz") == "authorization header is not a bearer token");
  CHECK(rejection("Bearer ") == "empty bearer token");
  CHECK(rejection("Bearer   ") == "empty bearer token");
  CHECK(rejection("Bearer unknown") == "token not authenticated: invalid bearer token");
  CHECK(rejection("Bearer other-audience") ==
        "token not authenticated: token audiences do not match");

  reviewer->SetError(absl::UnavailableError("connection refused"));
  CHECK(rejection("Bearer good-token") == "token review failed: UNAVAILABLE: connection refused");
}

TEST_CASE("TokenAuthenticator without an authorization header", "[ca][server][token]") {
  auto reviewer = std::make_shared<FakeTokenReviewer>();
  TokenAuthenticator authn(reviewer);
  grpc::CallbackServerContext context;
  CHECK(authn.Authenticate(context).status().message() == "no authorization header");
  CHECK(reviewer->reviews() == 0);
}

TEST_CASE("TokenAuthenticator passes its audiences to the review", "[ca][server][token]") {
  auto reviewer = std::make_shared<FakeTokenReviewer>();
  reviewer->AddServiceAccount("t", "ns", "sa", {"custom"});
  CHECK_FALSE(TokenAuthenticator(reviewer).AuthenticateHeader("Bearer t").ok());
  CHECK(TokenAuthenticator(reviewer, {"istio-ca", "custom"}).AuthenticateHeader("Bearer t").ok());
}

}  // namespace
}  // namespace meshd::ca
