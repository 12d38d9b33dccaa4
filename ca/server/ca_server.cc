#include "ca/server/ca_server.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ca/files.h"
#include "ca/rotation.h"
#include "ca/server/chain_authenticator.h"
#include "ca/server/client_cert_authenticator.h"
#include "ca/server/token_authenticator.h"
#include "controller/common/metrics.h"
#include "spdlog/spdlog.h"

namespace meshd::ca {
namespace {

constexpr char kKeyFile[] = "key.pem";
constexpr char kCertFile[] = "cert-chain.pem";
constexpr char kRootFile[] = "root-cert.pem";

std::string Path(const std::string& dir, const char* file) { return absl::StrCat(dir, "/", file); }

}  // namespace

void UpdateExpiryMetrics(const KeyCertBundle& bundle, absl::Time now) {
  Metrics& m = Metrics::Get();
  absl::Time root_expiry = bundle.anchor().Info().not_after;
  absl::Time chain_expiry = bundle.signing_not_after();
  m.citadel_root_cert_expiry_timestamp.Add({}).Set(
      absl::ToDoubleSeconds(root_expiry - absl::UnixEpoch()));
  m.citadel_cert_chain_expiry_timestamp.Add({}).Set(
      absl::ToDoubleSeconds(chain_expiry - absl::UnixEpoch()));
  m.citadel_root_cert_expiry_seconds.Add({}).Set(absl::ToDoubleSeconds(root_expiry - now));
  m.citadel_cert_chain_expiry_seconds.Add({}).Set(absl::ToDoubleSeconds(chain_expiry - now));
}

absl::StatusOr<std::unique_ptr<CaServer>> CaServer::Create(CaServerOptions options,
                                                           std::shared_ptr<TokenReviewer> reviewer,
                                                           const Clock* clock) {
  if (options.serving_dir.empty()) return absl::InvalidArgumentError("CA: no serving_dir");
  std::unique_ptr<CaServer> s(new CaServer(std::move(options), clock));
  auto roots = RootStore::Create(s->options_.roots, clock);
  if (!roots.ok()) return roots.status();
  s->roots_ = std::move(*roots);
  s->signer_ = std::make_unique<Signer>(s->options_.signer, s->roots_->Source(), clock);
  std::vector<std::unique_ptr<Authenticator>> chain;
  chain.push_back(std::make_unique<ClientCertAuthenticator>(s->roots_->Source(), clock));
  if (reviewer != nullptr) {
    chain.push_back(
        std::make_unique<TokenAuthenticator>(std::move(reviewer), s->options_.audiences));
  }
  s->authenticator_ = std::make_unique<ChainAuthenticator>(std::move(chain));
  s->service_ =
      std::make_unique<CaService>(s->signer_.get(), s->authenticator_.get(), s->options_.service);
  if (auto renew = s->WriteServingFiles(); !renew.ok()) return renew.status();
  UpdateExpiryMetrics(*s->roots_->Current(), clock->Now());
  spdlog::info("ca: {} root, serving certificate for [{}] in {}",
               s->roots_->mode() == RootStore::Mode::kPlugin ? "plug-in" : "self-signed",
               absl::StrJoin(s->options_.serving_dns_names, ", "), s->options_.serving_dir);
  return s;
}

CaServer::~CaServer() { Stop(); }

void CaServer::AddRootListener(std::function<void()> listener) {
  root_listeners_.push_back(std::move(listener));
}

void CaServer::Start() {
  service_->Start();
  roots_->SetOnChange([this] {
    {
      absl::MutexLock lock(&mu_);
      roots_changed_ = true;
    }
    for (const auto& listener : root_listeners_) listener();
  });
  roots_->Start();
  renew_thread_ = std::thread([this] { RenewLoop(); });
}

void CaServer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (renew_thread_.joinable()) renew_thread_.join();
  if (roots_) roots_->Stop();
  if (service_) service_->Stop();
}

absl::StatusOr<absl::Time> CaServer::WriteServingFiles() {
  auto issued = signer_->IssueServingCert(options_.serving_dns_names, options_.serving_ttl);
  if (!issued.ok()) return issued.status();
  std::string chain = absl::StrJoin(issued->chain_pem, "");
  const std::string& dir = options_.serving_dir;
  // Roots first, then the key and the certificate: the watcher reloads them as one pair.
  if (auto s = WriteFileAtomic(Path(dir, kRootFile), roots_->Current()->RootsPem()); !s.ok()) {
    return s;
  }
  if (auto s = WriteFileAtomic(Path(dir, kKeyFile), issued->key_pem, 0600); !s.ok()) return s;
  if (auto s = WriteFileAtomic(Path(dir, kCertFile), chain); !s.ok()) return s;
  absl::Time now = clock_->Now();
  absl::Time start = std::max(issued->not_before, now);
  return RotationTime(start, issued->not_after, 0.5);
}

void CaServer::RenewLoop() {
  absl::Time renew_at = clock_->Now() + options_.serving_ttl / 2;
  for (;;) {
    bool roots_changed = false;
    {
      absl::MutexLock lock(&mu_);
      auto wake = [this] { return stopping_ || roots_changed_; };
      mu_.AwaitWithTimeout(absl::Condition(&wake), absl::Seconds(1));
      if (stopping_) return;
      roots_changed = roots_changed_;
      roots_changed_ = false;
    }
    if (auto bundle = roots_->Current(); bundle != nullptr)
      UpdateExpiryMetrics(*bundle, clock_->Now());
    if (!roots_changed && clock_->Now() < renew_at) continue;
    auto next = WriteServingFiles();
    if (next.ok()) {
      renew_at = *next;
      spdlog::info("ca: serving certificate re-issued{}; next at {}",
                   roots_changed ? " (new CA bundle)" : "", absl::FormatTime(renew_at));
    } else {
      renew_at = clock_->Now() + absl::Seconds(10);
      spdlog::warn("ca: cannot re-issue the serving certificate: {}", next.status().ToString());
    }
  }
}

std::shared_ptr<grpc::ServerCredentials> CaServer::ServerCredentials() const {
  const std::string& dir = options_.serving_dir;
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      Path(dir, kKeyFile), Path(dir, kCertFile), Path(dir, kRootFile), /*refresh_interval_sec=*/5);
  grpc::experimental::TlsServerCredentialsOptions opts(provider);
  opts.watch_root_certs();
  opts.watch_identity_key_cert_pairs();
  // Token-only callers have no certificate yet; a certificate, when sent, is checked by
  // ClientCertAuthenticator against the current bundle.
  opts.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
  return grpc::experimental::TlsServerCredentials(opts);
}

}  // namespace meshd::ca
