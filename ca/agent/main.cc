// meshd-agent: keeps a proxyless gRPC workload's certificate files and xDS bootstrap current.
//   meshd-agent --caAddr 127.0.0.1:15012 --caRootCert root.pem --tokenFile token
//     --namespace default --serviceAccount sa --pod pod-1 --ip 10.0.0.1
//     --certDir DIR --bootstrap FILE [--xdsAddress 127.0.0.1:15010] [--certTTL 24h] [--once]
// Prints "ISSUED <serial> <not_after> <renew_at>" after every issuance (for tests and logs);
// exits on SIGTERM/SIGINT.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ca/agent/agent.h"
#include "ca/files.h"
#include "istio/security/v1alpha1/ca.grpc.pb.h"

namespace {

using meshd::ca::AgentOptions;

class GrpcCertificateClient : public meshd::ca::CertificateClient {
 public:
  GrpcCertificateClient(const std::string& addr, const std::string& root_pem,
                        const std::string& server_name, std::string token_file)
      : token_file_(std::move(token_file)) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = root_pem;
    grpc::ChannelArguments args;
    if (!server_name.empty()) args.SetSslTargetNameOverride(server_name);
    stub_ = istio::v1::auth::IstioCertificateService::NewStub(
        grpc::CreateCustomChannel(addr, grpc::SslCredentials(ssl), args));
  }

  absl::StatusOr<std::vector<std::string>> CreateCertificate(const std::string& csr_pem,
                                                             absl::Duration ttl) override {
    auto token = meshd::ca::ReadFile(token_file_);
    if (!token.ok()) return token.status();
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", absl::StripAsciiWhitespace(*token)));
    istio::v1::auth::IstioCertificateRequest req;
    req.set_csr(csr_pem);
    if (ttl > absl::ZeroDuration()) req.set_validity_duration(absl::ToInt64Seconds(ttl));
    istio::v1::auth::IstioCertificateResponse resp;
    grpc::Status st = stub_->CreateCertificate(&ctx, req, &resp);
    if (!st.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(st.error_code()),
                          absl::StrCat("CreateCertificate: ", st.error_message()));
    }
    return std::vector<std::string>(resp.cert_chain().begin(), resp.cert_chain().end());
  }

 private:
  const std::string token_file_;
  std::unique_ptr<istio::v1::auth::IstioCertificateService::Stub> stub_;
};

const char* Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

int Usage(const std::string& why) {
  std::cerr << "meshd-agent: " << why << "\n"
            << "usage: meshd-agent --caAddr HOST:PORT --caRootCert PEM --tokenFile FILE\n"
               "  [--caServerName istiod.istio-system.svc] [--namespace NS] "
               "[--serviceAccount SA]\n"
               "  [--pod NAME] [--ip IP] [--labels k=v,...] [--domain cluster.local]\n"
               "  [--certDir DIR] [--bootstrap FILE] [--xdsAddress HOST:PORT]\n"
               "  [--certTTL 24h] [--fileWatcherRefresh 5s] [--once]\n"
               "env: CA_ADDR, POD_NAME, POD_NAMESPACE, INSTANCE_IP, SERVICE_ACCOUNT\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  AgentOptions o;
  o.ns = Env("POD_NAMESPACE", "default");
  o.pod_name = Env("POD_NAME", "");
  o.ip = Env("INSTANCE_IP", "127.0.0.1");
  o.service_account = Env("SERVICE_ACCOUNT", "default");
  std::string ca_addr = Env("CA_ADDR", "istiod.istio-system.svc:15012");
  std::string ca_root = "./var/run/secrets/istio/root-cert.pem";
  std::string server_name = "istiod.istio-system.svc";
  std::string token_file = "./var/run/secrets/tokens/istio-token";
  bool once = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--once") {
      once = true;
      continue;
    }
    if (i + 1 >= argc) return Usage("flag " + flag + " needs a value");
    std::string v = argv[++i];
    absl::Duration d;
    if (flag == "--caAddr")
      ca_addr = v;
    else if (flag == "--caRootCert")
      ca_root = v;
    else if (flag == "--caServerName")
      server_name = v;
    else if (flag == "--tokenFile")
      token_file = v;
    else if (flag == "--namespace")
      o.ns = v;
    else if (flag == "--serviceAccount")
      o.service_account = v;
    else if (flag == "--pod")
      o.pod_name = v;
    else if (flag == "--ip")
      o.ip = v;
    else if (flag == "--domain")
      o.domain = v;
    else if (flag == "--certDir")
      o.cert_dir = v;
    else if (flag == "--bootstrap")
      o.bootstrap_path = v;
    else if (flag == "--xdsAddress")
      o.xds_address = v;
    else if (flag == "--labels") {
      for (absl::string_view kv : absl::StrSplit(v, ',', absl::SkipEmpty())) {
        std::pair<std::string, std::string> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
        o.labels[p.first] = p.second;
      }
    } else if (flag == "--certTTL" || flag == "--fileWatcherRefresh") {
      if (!absl::ParseDuration(v, &d)) return Usage(flag + ": not a duration");
      (flag == "--certTTL" ? o.requested_ttl : o.file_watcher_refresh) = d;
    } else {
      return Usage("unknown flag " + flag);
    }
  }
  if (o.pod_name.empty()) o.pod_name = absl::StrCat(o.service_account, "-", getpid());
  auto root_pem = meshd::ca::ReadFile(ca_root);
  if (!root_pem.ok()) return Usage(std::string(root_pem.status().message()));

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  GrpcCertificateClient client(ca_addr, *root_pem, server_name, token_file);
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  meshd::ca::Agent agent(o, &client, meshd::RealClock::Get(), [&] { return unit(rng); });
  if (auto s = agent.WriteBootstrap(); !s.ok()) {
    std::cerr << "meshd-agent: " << s << "\n";
    return 1;
  }
  meshd::Backoff backoff(meshd::ca::AgentRetryBackoff(), meshd::RealClock::Get(),
                         [&] { return unit(rng); });
  for (;;) {
    auto issued = agent.Refresh();
    absl::Duration wait;
    if (issued.ok()) {
      backoff.Reset();
      std::cout << "ISSUED " << issued->serial_hex << " " << absl::FormatTime(issued->not_after)
                << " " << absl::FormatTime(issued->renew_at) << std::endl;
      if (once) return 0;
      wait = issued->renew_at - absl::Now();
    } else {
      if (once) {
        std::cerr << "meshd-agent: " << issued.status() << "\n";
        return 1;
      }
      wait = backoff.Next();
      std::cerr << "meshd-agent: " << issued.status() << "; retrying in " << wait << "\n";
    }
    timespec ts = absl::ToTimespec(std::max(wait, absl::Milliseconds(10)));
    if (sigtimedwait(&signals, nullptr, &ts) > 0) return 0;
  }
}
