// CSR-signing benchmark: meshd's CreateCertificate service (CaService + Signer, ECDSA P-256,
// token authentication with an in-memory reviewer) on a local gRPC port, driven by a separate
// client process that keeps `--inflight` RPCs outstanding on one HTTP/2 connection, each with a
// different pre-generated CSR. Prints certificates/second next to
// `openssl speed -seconds 3 ecdsap256` on the same machine, and two ratios against the limit
// that OpenSSL's rates allow for one CSR-signature check plus one certificate signature:
//   - throughput: certificates/s over the limit of min(cores, workers) whole cores, although
//     the client process shares those cores;
//   - CA efficiency: certificates per CPU-second of the CA process (all its threads: gRPC,
//     authentication, signing) over the one-core limit.
//   ca_sign_bench [--inflight 32] [--seconds 5] [--workers 8] [--csrs 1024] [--no-openssl]
//   ca_sign_bench --client-of HOST:PORT ...   (the client role; started by the bench itself)
#include <grpcpp/grpcpp.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "ca/server/ca_service.h"
#include "ca/server/fake_token_reviewer.h"
#include "ca/server/token_authenticator.h"
#include "ca/signer.h"
#include "controller/common/clock.h"

extern char** environ;

using namespace meshd::ca;  // NOLINT: a benchmark program

namespace {

struct Flags {
  int inflight = 32;
  int seconds = 5;
  int workers = 8;
  int csrs = 1024;
  bool run_openssl = true;
  std::string client_of;  // non-empty: run as the client process
};

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

// Distinct CSRs for spiffe://cluster.local/ns/default/sa/bench (key generation and CSR signing
// are the workload's cost, not the CA's, so they happen before the clock starts).
std::vector<std::string> MakeCsrs(int n) {
  std::vector<std::string> csrs;
  for (int i = 0; i < n; ++i) {
    auto k = PrivateKey::Generate(KeyType::kEcdsaP256);
    CsrTemplate ct;
    ct.uri_sans = {"spiffe://cluster.local/ns/default/sa/bench"};
    csrs.push_back(*CreateCsr(*k, ct));
  }
  return csrs;
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The client role: `inflight` outstanding CreateCertificate calls on one channel, driven from
// one completion queue on one thread, until `seconds` have passed. Prints "ok N failed M".
int RunClient(const Flags& flags) {
  std::vector<std::string> csrs = MakeCsrs(flags.csrs);
  auto channel = grpc::CreateChannel(flags.client_of, grpc::InsecureChannelCredentials());
  auto stub = istio::v1::auth::IstioCertificateService::NewStub(channel);
  grpc::CompletionQueue cq;
  struct Call {
    grpc::ClientContext ctx;
    istio::v1::auth::IstioCertificateRequest req;
    istio::v1::auth::IstioCertificateResponse resp;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<istio::v1::auth::IstioCertificateResponse>> rpc;
  };
  size_t next = 0;
  auto start = [&]() {
    auto* call = new Call;
    call->ctx.AddMetadata("authorization", "Bearer bench-token");
    call->req.set_csr(csrs[next++ % csrs.size()]);
    call->rpc = stub->PrepareAsyncCreateCertificate(&call->ctx, call->req, &cq);
    call->rpc->StartCall();
    call->rpc->Finish(&call->resp, &call->status, call);
  };
  for (int i = 0; i < flags.inflight; ++i) start();
  absl::Time deadline = absl::Now() + absl::Seconds(flags.seconds);
  long ok = 0, failed = 0;
  int outstanding = flags.inflight;
  void* tag;
  bool got;
  while (outstanding > 0 && cq.Next(&tag, &got)) {
    std::unique_ptr<Call> call(static_cast<Call*>(tag));
    --outstanding;
    bool good = got && call->status.ok() && call->resp.cert_chain_size() >= 2;
    if (good) {
      ++ok;
    } else if (++failed <= 3) {
      std::cerr << "client: CreateCertificate failed: " << call->status.error_message() << "\n";
    }
    if (absl::Now() < deadline) {
      start();
      ++outstanding;
    }
  }
  cq.Shutdown();
  while (cq.Next(&tag, &got)) {
  }
  std::printf("ok %ld failed %ld\n", ok, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    auto next_int = [&](int* v) { return i + 1 < argc && absl::SimpleAtoi(argv[++i], v); };
    if (f == "--no-openssl") {
      flags.run_openssl = false;
    } else if (f == "--client-of" && i + 1 < argc) {
      flags.client_of = argv[++i];
    } else if ((f == "--inflight" && next_int(&flags.inflight)) ||
               (f == "--seconds" && next_int(&flags.seconds)) ||
               (f == "--workers" && next_int(&flags.workers)) ||
               (f == "--csrs" && next_int(&flags.csrs))) {
    } else {
      std::cerr << "usage: ca_sign_bench [--inflight N] [--seconds S] [--workers W] [--csrs C] "
                   "[--no-openssl]\n";
      return 2;
    }
  }
  if (flags.inflight < 1 || flags.seconds < 1 || flags.csrs < 1) {
    std::cerr << "ca_sign_bench: --inflight, --seconds and --csrs must be positive\n";
    return 2;
  }
  if (!flags.client_of.empty()) return RunClient(flags);

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

  // The signer alone, one thread, no gRPC: what the CA core costs per certificate.
  double direct_rate = 0;
  {
    std::vector<std::string> csrs = MakeCsrs(64);
    Identity id{"", "default", "bench"};
    long n = 0;
    absl::Time start = absl::Now();
    while (absl::Now() - start < absl::Seconds(1)) {
      if (signer.Sign(csrs[n % csrs.size()], id, absl::ZeroDuration()).ok()) n++;
    }
    direct_rate = n / absl::ToDoubleSeconds(absl::Now() - start);
  }

  CaServiceOptions so;
  so.workers = flags.workers;
  CaService service(&signer, &auth, so);
  service.Start();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "ca_sign_bench: cannot start the gRPC server\n";
    return 1;
  }

  // The client process: this binary in its client role.
  std::string target = absl::StrCat("127.0.0.1:", port);
  std::string client_seconds = std::to_string(flags.seconds + 4);
  std::string inflight = std::to_string(flags.inflight);
  std::string csrs = std::to_string(flags.csrs);
  std::vector<char*> child_argv = {argv[0],
                                   const_cast<char*>("--client-of"),
                                   target.data(),
                                   const_cast<char*>("--inflight"),
                                   inflight.data(),
                                   const_cast<char*>("--seconds"),
                                   client_seconds.data(),
                                   const_cast<char*>("--csrs"),
                                   csrs.data(),
                                   nullptr};
  pid_t child = 0;
  if (posix_spawn(&child, "/proc/self/exe", nullptr, nullptr, child_argv.data(), environ) != 0) {
    std::cerr << "ca_sign_bench: cannot start the client process\n";
    return 1;
  }
  // Warm-up: the first certificates, then one more second.
  absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (service.stats().issued == 0 && absl::Now() < give_up)
    absl::SleepFor(absl::Milliseconds(10));
  absl::SleepFor(absl::Seconds(1));
  uint64_t issued0 = service.stats().issued;
  double cpu0 = CpuSeconds();
  absl::Time t0 = absl::Now();
  absl::SleepFor(absl::Seconds(flags.seconds));
  uint64_t issued1 = service.stats().issued;
  double cpu1 = CpuSeconds();
  double elapsed = absl::ToDoubleSeconds(absl::Now() - t0);
  int child_status = 0;
  waitpid(child, &child_status, 0);
  server->Shutdown();
  service.Stop();
  CaServiceStats stats = service.stats();

  double rate = (issued1 - issued0) / elapsed;
  double ca_cpu = cpu1 - cpu0;
  double per_cpu_second = ca_cpu > 0 ? (issued1 - issued0) / ca_cpu : 0;
  std::printf("command: ca_sign_bench --inflight %d --seconds %d --workers %d --csrs %d\n",
              flags.inflight, flags.seconds, flags.workers, flags.csrs);
  std::printf("Signer::Sign alone (one thread, no gRPC): %.0f certificates/s\n", direct_rate);
  std::printf(
      "meshd CreateCertificate (gRPC, ECDSA P-256, client in another process): %.0f "
      "certificates/s\n",
      rate);
  std::printf("CA process CPU: %.2f s over %.2f s (%.2f cores), %.0f certificates per CPU-second\n",
              ca_cpu, elapsed, ca_cpu / elapsed, per_cpu_second);
  std::printf("requests %lu, issued %lu, auth failures %lu, CSR errors %lu, sign errors %lu\n",
              static_cast<unsigned long>(stats.requests), static_cast<unsigned long>(stats.issued),
              static_cast<unsigned long>(stats.auth_failures),
              static_cast<unsigned long>(stats.csr_errors),
              static_cast<unsigned long>(stats.sign_errors));
  double sign = 0, verify = 0;
  if (flags.run_openssl && OpenSslRates(&sign, &verify)) {
    // Per certificate: one CSR signature verification and one signature.
    double limit = 1.0 / (1.0 / sign + 1.0 / verify);
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    unsigned used = std::min<unsigned>(cores, std::max(1, flags.workers));
    std::printf("openssl speed -seconds 3 ecdsap256: %.0f sign/s, %.0f verify/s (one core)\n", sign,
                verify);
    std::printf("sign+verify limit: %.0f/s per core, %.0f/s on %u core(s)\n", limit, limit * used,
                used);
    std::printf("throughput ratio: %.0f%% of the limit on %u core(s) (client on the same cores)\n",
                100.0 * rate / (limit * used), used);
    std::printf("CA efficiency: %.0f%% of the one-core limit per CPU-second of the CA\n",
                100.0 * per_cpu_second / limit);
  }
  bool child_ok = WIFEXITED(child_status) && WEXITSTATUS(child_status) == 0;
  if (!child_ok) std::cerr << "ca_sign_bench: the client process failed\n";
  return child_ok && issued1 > issued0 ? 0 : 1;
}
