// CSR-signing benchmark: meshd's CreateCertificate service (CaService + Signer, ECDSA P-256,
// token authentication with an in-memory reviewer) on a local gRPC port, driven by concurrent
// gRPC clients sending pre-generated CSRs. Prints certificates/second next to
// `openssl speed -seconds 3 ecdsap256` on the same machine and the ratio against the limit that
// OpenSSL's rates allow for one CSR-signature check plus one certificate signature per request.
//   ca_sign_bench [--clients 8] [--seconds 5] [--workers 2] [--no-openssl]
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "ca/server/ca_service.h"
#include "ca/server/fake_token_reviewer.h"
#include "ca/server/token_authenticator.h"
#include "ca/signer.h"
#include "controller/common/clock.h"

using namespace meshd::ca;  // NOLINT: a benchmark program

namespace {

// Parses the ecdsap256 line of `openssl speed`: "... 256 bits ecdsa (nistp256)  t_sign t_verify
// sign/s verify/s".
bool OpenSslRates(double* sign, double* verify) {
  FILE* p = popen("openssl speed -seconds 3 ecdsap256 2>/dev/null", "r");
  if (p == nullptr) return false;
  char buf[512];
  bool found = false;
  while (fgets(buf, sizeof buf, p)) {
    std::string line = buf;
    if (line.find("ecdsa (nistp256)") == std::string::npos) continue;
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (f.size() >= 2 && absl::SimpleAtod(f[f.size() - 2], sign) &&
        absl::SimpleAtod(f[f.size() - 1], verify)) {
      found = true;
    }
  }
  pclose(p);
  return found;
}

}  // namespace

int main(int argc, char** argv) {
  int clients = 8, seconds = 5, workers = 2;
  bool run_openssl = true;
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    if (f == "--no-openssl")
      run_openssl = false;
    else if (i + 1 < argc && f == "--clients")
      clients = std::stoi(argv[++i]);
    else if (i + 1 < argc && f == "--seconds")
      seconds = std::stoi(argv[++i]);
    else if (i + 1 < argc && f == "--workers")
      workers = std::stoi(argv[++i]);
  }
  meshd::RealClock* clock = meshd::RealClock::Get();
  absl::Time now = clock->Now();
  auto root_key = PrivateKey::Generate(KeyType::kEcdsaP256);
  CertificateTemplate t;
  t.organization = "bench";
  t.not_before = now - absl::Hours(1);
  t.not_after = now + absl::Hours(24 * 365);
  t.is_ca = true;
  t.key_usage = kKeyCertSign | kCrlSign;
  auto root = IssueCertificate(t, root_key->public_key(), nullptr, *root_key);
  auto bundle = KeyCertBundle::Create(*root, *root_key, {}, {*root}, now);
  if (!bundle.ok()) {
    std::cerr << bundle.status() << "\n";
    return 1;
  }
  auto shared = std::make_shared<const KeyCertBundle>(*bundle);
  Signer signer(
      SignerOptions{}, [shared] { return shared; }, clock);
  auto reviewer = std::make_shared<FakeTokenReviewer>();
  reviewer->AddServiceAccount("bench-token", "default", "bench");
  TokenAuthenticator auth(reviewer);
  CaServiceOptions so;
  so.workers = workers;
  CaService service(&signer, &auth, so);
  service.Start();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();

  // Pre-generated CSRs (key generation is the workload's cost, not the CA's).
  std::vector<std::string> csrs;
  for (int i = 0; i < 64; ++i) {
    auto k = PrivateKey::Generate(KeyType::kEcdsaP256);
    CsrTemplate ct;
    ct.uri_sans = {"spiffe://cluster.local/ns/default/sa/bench"};
    csrs.push_back(*CreateCsr(*k, ct));
  }
  // The signer alone, one thread, no gRPC: what the CA core costs per certificate.
  double direct_rate = 0;
  {
    Identity id{"", "default", "bench"};
    long n = 0;
    absl::Time start = absl::Now();
    while (absl::Now() - start < absl::Seconds(1)) {
      if (signer.Sign(csrs[n % csrs.size()], id, absl::ZeroDuration()).ok()) n++;
    }
    direct_rate = n / absl::ToDoubleSeconds(absl::Now() - start);
  }
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  std::atomic<bool> stop{false};
  std::atomic<long> ok{0}, failed{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto stub = istio::v1::auth::IstioCertificateService::NewStub(channel);
      for (size_t i = c; !stop.load(); ++i) {
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", "Bearer bench-token");
        istio::v1::auth::IstioCertificateRequest req;
        req.set_csr(csrs[i % csrs.size()]);
        istio::v1::auth::IstioCertificateResponse resp;
        (stub->CreateCertificate(&ctx, req, &resp).ok() ? ok : failed)++;
      }
    });
  }
  absl::SleepFor(absl::Seconds(1));  // warm-up
  long ok0 = ok.load();
  absl::Time t0 = absl::Now();
  absl::SleepFor(absl::Seconds(seconds));
  long ok1 = ok.load();
  double elapsed = absl::ToDoubleSeconds(absl::Now() - t0);
  stop = true;
  for (auto& th : threads) th.join();
  server->Shutdown();
  service.Stop();
  double rate = (ok1 - ok0) / elapsed;
  std::printf("command: ca_sign_bench --clients %d --seconds %d --workers %d\n", clients, seconds,
              workers);
  std::printf("Signer::Sign alone (one thread, no gRPC): %.0f certificates/s\n", direct_rate);
  std::printf("meshd CreateCertificate (gRPC, ECDSA P-256): %.0f certificates/s, %ld failed\n",
              rate, failed.load());
  double sign = 0, verify = 0;
  if (run_openssl && OpenSslRates(&sign, &verify)) {
    // Per certificate: one CSR signature verification and one signature, on every core.
    double limit = 1.0 / (1.0 / sign + 1.0 / verify);
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    std::printf("openssl speed -seconds 3 ecdsap256: %.0f sign/s, %.0f verify/s (one core)\n", sign,
                verify);
    std::printf("sign+verify limit: %.0f/s per core, %.0f/s on %u cores (workers %d)\n", limit,
                limit * std::min<unsigned>(cores, workers), cores, workers);
    std::printf("ratio: %.0f%% of the limit for %d worker(s)\n",
                100.0 * rate / (limit * std::min<unsigned>(cores, workers)), workers);
  }
  return failed.load() == 0 ? 0 : 1;
}
