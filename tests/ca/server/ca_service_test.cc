#include "ca/server/ca_service.h"

#include <grpcpp/grpcpp.h>

#include <map>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "ca/server/ca_server.h"
#include "ca/server/chain_authenticator.h"
#include "ca/server/client_cert_authenticator.h"
#include "ca/server/fake_token_reviewer.h"
#include "ca/server/token_authenticator.h"
#include "controller/common/clock.h"
#include "controller/common/metrics.h"
#include "tests/ca/test_ca.h"

namespace meshd::ca {
namespace {

using istio::v1::auth::IstioCertificateRequest;
using istio::v1::auth::IstioCertificateResponse;
using istio::v1::auth::IstioCertificateService;
using testing::Fixed;
using testing::MakeCsr;
using testing::MakeRoot;
using testing::TestCa;
using testing::Unwrap;

constexpr char kServingName[] = "istiod.istio-system.svc";

// Answers a fixed result.
class FixedAuthenticator : public Authenticator {
 public:
  explicit FixedAuthenticator(absl::StatusOr<Identity> result) : result_(std::move(result)) {}
  absl::string_view name() const override { return "fixed"; }
  absl::StatusOr<Identity> Authenticate(const grpc::CallbackServerContext&) override {
    return result_;
  }

 private:
  absl::StatusOr<Identity> result_;
};

// A CA (its clock at the real time: TLS handshakes check validity against the real clock) and a
// CaService on 127.0.0.1:0.
struct Harness {
  FakeClock clock{absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()))};
  TestCa root = MakeRoot(clock.Now());
  BundleSource bundles = Fixed(testing::SelfSignedBundle(root, clock.Now()));
  Signer signer{SignerOptions{}, bundles, &clock};
  std::unique_ptr<Authenticator> authenticator;
  std::unique_ptr<CaService> service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;

  // `tls`: serve TLS as on port 15012; otherwise plaintext.
  void Start(std::unique_ptr<Authenticator> authn, bool tls = false, bool start_service = true) {
    authenticator = std::move(authn);
    service = std::make_unique<CaService>(&signer, authenticator.get());
    if (start_service) service->Start();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0",
                             tls ? ServerCredentials() : grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service.get());
    server = builder.BuildAndStart();
    REQUIRE(server != nullptr);
    REQUIRE(port > 0);
  }

  ~Harness() {
    if (server) server->Shutdown();
    if (service) service->Stop();
  }

  // TLS as on port 15012: a serving certificate from the CA; client certificates requested,
  // not required (token callers have none) and checked by ClientCertAuthenticator.
  std::shared_ptr<grpc::ServerCredentials> ServerCredentials() {
    IssuedKeyCert serving = Unwrap(signer.IssueServingCert({kServingName}, absl::Hours(1)));
    grpc::SslServerCredentialsOptions options(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
    std::string chain;
    for (const std::string& pem : serving.chain_pem) chain += pem;
    options.pem_key_cert_pairs.push_back({serving.key_pem, chain});
    options.pem_root_certs = root.cert.ToPem();
    return grpc::SslServerCredentials(options);
  }

  // `client_key_cert`: {key PEM, chain PEM} presented by the client, or empty.
  std::unique_ptr<IstioCertificateService::Stub> Client(
      bool tls = false, std::pair<std::string, std::string> client_key_cert = {}) {
    if (!tls) {
      return IstioCertificateService::NewStub(grpc::CreateChannel(
          absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
    }
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = root.cert.ToPem();
    options.pem_private_key = client_key_cert.first;
    options.pem_cert_chain = client_key_cert.second;
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride(kServingName);
    return IstioCertificateService::NewStub(grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", port), grpc::SslCredentials(options), args));
  }
};

struct Reply {
  grpc::Status status;
  std::vector<std::string> chain;
};

Reply Call(IstioCertificateService::Stub& stub, const std::string& csr, int64_t ttl_seconds = 0,
           const std::string& token = "") {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  IstioCertificateRequest request;
  request.set_csr(csr);
  request.set_validity_duration(ttl_seconds);
  IstioCertificateResponse response;
  Reply reply;
  reply.status = stub.CreateCertificate(&context, request, &response);
  reply.chain.assign(response.cert_chain().begin(), response.cert_chain().end());
  return reply;
}

std::vector<std::string> LeafUris(const Reply& reply) {
  REQUIRE(reply.status.ok());
  REQUIRE(!reply.chain.empty());
  return Unwrap(Certificate::FromPem(reply.chain.front())).Info().uri_sans;
}

TEST_CASE("CreateCertificate round trip", "[ca][server][grpc]") {
  Harness h;
  h.Start(std::make_unique<FixedAuthenticator>(Identity{"", "default", "sleep"}));
  auto stub = h.Client();

  Reply reply = Call(*stub, MakeCsr().pem, /*ttl_seconds=*/3600);
  INFO(reply.status.error_message());
  REQUIRE(reply.status.ok());
  REQUIRE(reply.chain.size() == 2);  // one PEM per element, leaf first, root last
  CHECK(reply.chain[1] == h.root.cert.ToPem());
  Certificate leaf = Unwrap(Certificate::FromPem(reply.chain[0]));
  CertificateInfo info = leaf.Info();
  CHECK(info.uri_sans == std::vector<std::string>{"spiffe://cluster.local/ns/default/sa/sleep"});
  CHECK(info.not_after == h.clock.Now() + absl::Hours(1));
  CHECK(VerifyChain(leaf, {}, {h.root.cert}, h.clock.Now()).ok());

  SECTION("a bad CSR is INVALID_ARGUMENT, with the reason for the authenticated caller") {
    Reply bad = Call(*stub, "junk");
    CHECK(bad.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(bad.status.error_message(), Catch::StartsWith("bad CSR: reading PEM CSR"));
    CHECK(bad.chain.empty());
    CHECK(h.service->stats().csr_errors == 1);
  }
  CHECK(h.service->stats().requests >= 1);
  CHECK(h.service->stats().issued == 1);
}

TEST_CASE("CreateCertificate failures stay opaque to the caller", "[ca][server][grpc]") {
  Harness h;
  h.Start(std::make_unique<FixedAuthenticator>(
      absl::UnauthenticatedError("token for kube-system/admin expired at 12:00")));
  Reply reply = Call(*h.Client(), MakeCsr().pem);
  CHECK(reply.status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(reply.status.error_message() == "request authenticate failure");
  CHECK(reply.chain.empty());
  CaServiceStats stats = h.service->stats();
  CHECK(stats.requests == 1);
  CHECK(stats.auth_failures == 1);
  CHECK(stats.issued == 0);

  // Whatever the authenticator's code, the caller sees UNAUTHENTICATED.
  Harness h2;
  h2.Start(std::make_unique<FixedAuthenticator>(absl::InternalError("reviewer crashed")));
  CHECK(Call(*h2.Client(), MakeCsr().pem).status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
}

TEST_CASE("CreateCertificate before Start is UNAVAILABLE", "[ca][server][grpc]") {
  Harness h;
  h.Start(std::make_unique<FixedAuthenticator>(Identity{"", "a", "b"}), /*tls=*/false,
          /*start_service=*/false);
  CHECK(Call(*h.Client(), MakeCsr().pem).status.error_code() == grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("ToGrpcStatus maps statuses in one place", "[ca][server]") {
  CHECK(CaService::ToGrpcStatus(absl::OkStatus()).ok());
  CHECK(CaService::ToGrpcStatus(absl::UnauthenticatedError("secret")).error_message() ==
        "request authenticate failure");
  CHECK(CaService::ToGrpcStatus(absl::UnavailableError("x")).error_code() ==
        grpc::StatusCode::UNAVAILABLE);
  grpc::Status internal = CaService::ToGrpcStatus(absl::InternalError("EVP_PKEY details"));
  CHECK(internal.error_code() == grpc::StatusCode::INTERNAL);
  CHECK(internal.error_message() == "certificate signing failed");
}

TEST_CASE("Over TLS the client certificate is tried first, then the token",
          "[ca][server][grpc][tls]") {
  Harness h;
  auto reviewer = std::make_shared<FakeTokenReviewer>();
  reviewer->AddServiceAccount("token-b", "ns-b", "sa-b");
  std::vector<std::unique_ptr<Authenticator>> chain;
  chain.push_back(std::make_unique<ClientCertAuthenticator>(h.bundles, &h.clock));
  chain.push_back(std::make_unique<TokenAuthenticator>(reviewer));
  h.Start(std::make_unique<ChainAuthenticator>(std::move(chain)), /*tls=*/true);

  // A workload's current certificate from this CA, for ns-a/sa-a.
  testing::Csr csr = MakeCsr();
  std::vector<std::string> issued = Unwrap(h.signer.Sign(csr.pem, {"", "ns-a", "sa-a"}, {}));
  std::pair<std::string, std::string> cert_a = {csr.key.ToPem(), issued[0] + issued[1]};

  SECTION("token only") {
    Reply reply = Call(*h.Client(true), MakeCsr().pem, 0, "token-b");
    INFO(reply.status.error_message());
    CHECK(LeafUris(reply) == std::vector<std::string>{"spiffe://cluster.local/ns/ns-b/sa/sa-b"});
    CHECK(reviewer->reviews() == 1);
  }
  SECTION("client certificate only") {
    Reply reply = Call(*h.Client(true, cert_a), MakeCsr().pem);
    INFO(reply.status.error_message());
    CHECK(LeafUris(reply) == std::vector<std::string>{"spiffe://cluster.local/ns/ns-a/sa/sa-a"});
  }
  SECTION("both: the certificate wins, the token is not reviewed") {
    Reply reply = Call(*h.Client(true, cert_a), MakeCsr().pem, 0, "token-b");
    INFO(reply.status.error_message());
    CHECK(LeafUris(reply) == std::vector<std::string>{"spiffe://cluster.local/ns/ns-a/sa/sa-a"});
    CHECK(reviewer->reviews() == 0);
  }
  SECTION("a certificate from another CA falls back to the token") {
    FakeClock clock(h.clock.Now());
    TestCa other = MakeRoot(clock.Now());
    Signer foreign(SignerOptions{}, Fixed(testing::SelfSignedBundle(other, clock.Now())), &clock);
    testing::Csr k = MakeCsr();
    std::vector<std::string> forged = Unwrap(foreign.Sign(k.pem, {"", "kube-system", "admin"}, {}));
    Reply reply =
        Call(*h.Client(true, {k.key.ToPem(), forged[0] + forged[1]}), MakeCsr().pem, 0, "token-b");
    INFO(reply.status.error_message());
    CHECK(LeafUris(reply) == std::vector<std::string>{"spiffe://cluster.local/ns/ns-b/sa/sa-b"});
  }
  SECTION("neither: UNAUTHENTICATED, opaque") {
    Reply reply = Call(*h.Client(true), MakeCsr().pem, 0, "not-a-token");
    CHECK(reply.status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
    CHECK(reply.status.error_message() == "request authenticate failure");
    CHECK(h.service->stats().auth_failures == 1);
  }
}

// The value of `series` (name and labels as exposed) in the /metrics text; 0 when absent.
double Scrape(const std::string& series) {
  for (absl::string_view line : absl::StrSplit(Metrics::Get().Serialize(), '\n')) {
    if (!absl::StartsWith(line, series + " ")) continue;
    double value = 0;
    CHECK(absl::SimpleAtod(line.substr(series.size() + 1), &value));
    return value;
  }
  return 0;
}

TEST_CASE("CreateCertificate counts istiod's citadel_server_* metrics", "[ca][server][grpc]") {
  const std::string csr = "citadel_server_csr_count";
  const std::string ok = "citadel_server_success_cert_issuance_count";
  const std::string authn = "citadel_server_authentication_failure_count";
  const std::string parse = "citadel_server_csr_parsing_err_count";
  const std::string id = "citadel_server_id_extraction_err_count";
  const std::string csr_error = "citadel_server_csr_sign_err_count{error=\"CSR_ERROR\"}";
  const std::string not_ready = "citadel_server_csr_sign_err_count{error=\"CA_NOT_READY\"}";
  // The registry is process-wide: compare with the values before.
  std::map<std::string, double> before;
  for (const std::string& s : {csr, ok, authn, parse, id, csr_error, not_ready})
    before[s] = Scrape(s);
  auto delta = [&](const std::string& s) { return Scrape(s) - before[s]; };

  {
    Harness h;
    h.Start(std::make_unique<FixedAuthenticator>(Identity{"", "default", "sleep"}));
    auto stub = h.Client();
    REQUIRE(Call(*stub, MakeCsr().pem).status.ok());
    CHECK(Call(*stub, "junk").status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CsrTemplate foreign;
    foreign.dns_sans = {"evil.example.com"};
    CHECK(Call(*stub, MakeCsr(KeyType::kEcdsaP256, foreign).pem).status.error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    Harness h;
    h.Start(std::make_unique<FixedAuthenticator>(absl::UnauthenticatedError("bad token")));
    CHECK(Call(*h.Client(), MakeCsr().pem).status.error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    Harness h;  // an identity that is not a valid SPIFFE identity
    h.Start(std::make_unique<FixedAuthenticator>(Identity{"", "Bad_NS", "sa"}));
    CHECK(!Call(*h.Client(), MakeCsr().pem).status.ok());
  }
  {
    Harness h;  // no CA loaded
    h.bundles = [] { return std::shared_ptr<const KeyCertBundle>(); };
    h.signer = Signer(SignerOptions{}, h.bundles, &h.clock);
    h.Start(std::make_unique<FixedAuthenticator>(Identity{"", "default", "sleep"}));
    CHECK(Call(*h.Client(), MakeCsr().pem).status.error_code() == grpc::StatusCode::UNAVAILABLE);
  }
  CHECK(delta(csr) == 6);
  CHECK(delta(ok) == 1);
  CHECK(delta(authn) == 1);
  CHECK(delta(parse) == 1);
  CHECK(delta(id) == 1);
  CHECK(delta(csr_error) == 3);  // junk, foreign SAN, bad identity
  CHECK(delta(not_ready) == 1);
}

TEST_CASE("The CA's expiry gauges follow the bundle and the clock", "[ca][server]") {
  FakeClock clock{absl::FromUnixSeconds(1700000000)};
  TestCa root = MakeRoot(clock.Now());
  std::shared_ptr<const KeyCertBundle> bundle = testing::SelfSignedBundle(root, clock.Now());
  absl::Time not_after = bundle->anchor().Info().not_after;
  UpdateExpiryMetrics(*bundle, clock.Now());
  CHECK(Scrape("citadel_server_root_cert_expiry_timestamp") == absl::ToUnixSeconds(not_after));
  CHECK(Scrape("citadel_server_cert_chain_expiry_timestamp") == absl::ToUnixSeconds(not_after));
  CHECK(Scrape("citadel_server_root_cert_expiry_seconds") ==
        absl::ToDoubleSeconds(not_after - clock.Now()));
  clock.Advance(absl::Hours(1));
  UpdateExpiryMetrics(*bundle, clock.Now());
  CHECK(Scrape("citadel_server_root_cert_expiry_seconds") ==
        absl::ToDoubleSeconds(not_after - clock.Now()));
  CHECK(Scrape("citadel_server_cert_chain_expiry_seconds") ==
        absl::ToDoubleSeconds(not_after - clock.Now()));
}

}  // namespace
}  // namespace meshd::ca
