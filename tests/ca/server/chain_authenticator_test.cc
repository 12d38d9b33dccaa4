#include "ca/server/chain_authenticator.h"

#include <catch2/catch.hpp>
#include <string>

namespace meshd::ca {
namespace {

// Answers a fixed result and counts its calls.
class FakeAuthenticator : public Authenticator {
 public:
  FakeAuthenticator(std::string name, absl::StatusOr<Identity> result, int* calls)
      : name_(std::move(name)), result_(std::move(result)), calls_(calls) {}
  absl::string_view name() const override { return name_; }
  absl::StatusOr<Identity> Authenticate(const grpc::CallbackServerContext&) override {
    ++*calls_;
    return result_;
  }

 private:
  std::string name_;
  absl::StatusOr<Identity> result_;
  int* calls_;
};

struct Chain {
  int cert_calls = 0;
  int token_calls = 0;
  ChainAuthenticator chain;

  Chain(absl::StatusOr<Identity> cert, absl::StatusOr<Identity> token) : chain(Make(cert, token)) {}

  std::vector<std::unique_ptr<Authenticator>> Make(absl::StatusOr<Identity> cert,
                                                   absl::StatusOr<Identity> token) {
    std::vector<std::unique_ptr<Authenticator>> v;
    v.push_back(std::make_unique<FakeAuthenticator>("client-cert", cert, &cert_calls));
    v.push_back(std::make_unique<FakeAuthenticator>("token", token, &token_calls));
    return v;
  }
};

const Identity kFromCert{"cluster.local", "a", "from-cert"};
const Identity kFromToken{"", "b", "from-token"};

TEST_CASE("ChainAuthenticator takes the first identity in order", "[ca][server][authn]") {
  grpc::CallbackServerContext context;

  SECTION("the certificate wins and the token is not even reviewed") {
    Chain c(kFromCert, kFromToken);
    CHECK(*c.chain.Authenticate(context) == kFromCert);
    CHECK(c.cert_calls == 1);
    CHECK(c.token_calls == 0);
  }
  SECTION("without a usable certificate the token decides") {
    Chain c(absl::UnauthenticatedError("no client certificate"), kFromToken);
    CHECK(*c.chain.Authenticate(context) == kFromToken);
    CHECK(c.cert_calls == 1);
    CHECK(c.token_calls == 1);
  }
  SECTION("when all fail, every reason is kept for the log, in order") {
    Chain c(absl::UnauthenticatedError("no client certificate"),
            absl::UnavailableError("API server down"));
    absl::StatusOr<Identity> r = c.chain.Authenticate(context);
    CHECK(r.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(r.status().message() == "client-cert: no client certificate; token: API server down");
  }
}

TEST_CASE("An empty ChainAuthenticator authenticates nobody", "[ca][server][authn]") {
  grpc::CallbackServerContext context;
  ChainAuthenticator chain({});
  CHECK(chain.Authenticate(context).status().code() == absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace meshd::ca
