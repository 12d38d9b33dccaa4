#include "ca/server/client_cert_authenticator.h"

#include <catch2/catch.hpp>

#include "ca/signer.h"
#include "controller/common/clock.h"
#include "tests/ca/test_ca.h"

namespace meshd::ca {
namespace {

using testing::Fixed;
using testing::MakeCsr;
using testing::MakeRoot;
using testing::TestCa;
using testing::Unwrap;

struct Fixture {
  FakeClock clock;
  TestCa root = MakeRoot(clock.Now());
  BundleSource bundles = Fixed(testing::SelfSignedBundle(root, clock.Now()));
  Signer signer{SignerOptions{}, bundles, &clock};
  ClientCertAuthenticator authn{bundles, &clock};

  std::string Leaf(const Identity& id) {
    return Unwrap(signer.Sign(MakeCsr().pem, id, absl::Hours(1)))[0];
  }
  std::string Rejection(const std::string& pem) {
    absl::StatusOr<Identity> id = authn.AuthenticatePem(pem);
    REQUIRE_FALSE(id.ok());
    CHECK(id.status().code() == absl::StatusCode::kUnauthenticated);
    return std::string(id.status().message());
  }
};

TEST_CASE("ClientCertAuthenticator takes the identity of a certificate it issued",
          "[ca][server][authn]") {
  Fixture f;
  absl::StatusOr<Identity> id = f.authn.AuthenticatePem(f.Leaf({"", "default", "sleep"}));
  REQUIRE(id.ok());
  CHECK(*id == Identity{"cluster.local", "default", "sleep"});
}

TEST_CASE("ClientCertAuthenticator refuses other certificates", "[ca][server][authn]") {
  Fixture f;
  std::string leaf = f.Leaf({"", "default", "sleep"});

  SECTION("from another CA") {
    FakeClock clock;
    TestCa other = MakeRoot(clock.Now());
    Signer foreign(SignerOptions{}, Fixed(testing::SelfSignedBundle(other, clock.Now())), &clock);
    std::string pem = Unwrap(foreign.Sign(MakeCsr().pem, {"", "default", "sleep"}, {}))[0];
    CHECK_THAT(f.Rejection(pem), Catch::StartsWith("client certificate: certificate chain does "
                                                   "not verify"));
  }
  SECTION("expired") {
    f.clock.Advance(absl::Hours(2));
    CHECK_THAT(f.Rejection(leaf), Catch::Contains("expired"));
  }
  SECTION("a CA certificate") {
    CHECK(f.Rejection(f.root.cert.ToPem()) == "client certificate: is a CA certificate");
  }
  SECTION("a serving certificate without a SPIFFE ID") {
    IssuedKeyCert serving = Unwrap(f.signer.IssueServingCert({"istiod.istio-system.svc"}, {}));
    CHECK(f.Rejection(serving.chain_pem[0]) == "client certificate: want one URI SAN, got 0");
  }
  SECTION("garbage") { CHECK_THAT(f.Rejection("junk"), Catch::StartsWith("client certificate: ")); }
  SECTION("no CA loaded") {
    ClientCertAuthenticator none([] { return std::shared_ptr<const KeyCertBundle>(); }, &f.clock);
    CHECK(none.AuthenticatePem(leaf).status().message() == "client certificate: no CA loaded");
  }
}

TEST_CASE("ClientCertAuthenticator on a call without TLS", "[ca][server][authn]") {
  Fixture f;
  grpc::CallbackServerContext context;
  CHECK(f.authn.Authenticate(context).status().message() == "no client certificate");
}

}  // namespace
}  // namespace meshd::ca
