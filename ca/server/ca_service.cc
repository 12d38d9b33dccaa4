#include "ca/server/ca_service.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "controller/common/metrics.h"
#include "spdlog/spdlog.h"

namespace meshd::ca {
namespace {

constexpr char kAuthFailure[] = "request authenticate failure";  // istiod's words

void CountSignError(const char* label) {
  Metrics::Get().citadel_csr_sign_errors.Add({{"error", label}}).Increment();
}

}  // namespace

CaService::CaService(const Signer* signer, Authenticator* authenticator, CaServiceOptions options)
    : signer_(signer), authenticator_(authenticator), options_(options) {}

CaService::~CaService() { Stop(); }

void CaService::Start() {
  absl::MutexLock lock(&mu_);
  if (running_) return;
  running_ = true;
  for (int i = 0; i < std::max(1, options_.workers); ++i) workers_.emplace_back([this] { Work(); });
}

void CaService::Stop() {
  std::deque<Call> abandoned;
  {
    absl::MutexLock lock(&mu_);
    if (!running_) return;
    running_ = false;
    abandoned.swap(queue_);
  }
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
  for (const Call& call : abandoned) {
    call.reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "CA shutting down"));
  }
}

grpc::ServerUnaryReactor* CaService::CreateCertificate(
    grpc::CallbackServerContext* context, const istio::v1::auth::IstioCertificateRequest* request,
    istio::v1::auth::IstioCertificateResponse* response) {
  ++requests_;
  Metrics::Get().citadel_csr.Add({}).Increment();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  {
    absl::MutexLock lock(&mu_);
    if (running_ && queue_.size() < options_.max_pending) {
      queue_.push_back(Call{context, request, response, reactor});
      return reactor;
    }
  }
  ++sign_errors_;
  CountSignError(SignFailureLabel(SignFailure::kCaNotReady));
  spdlog::warn("ca: CreateCertificate from {} refused: CA not running or overloaded",
               context->peer());
  reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "CA busy"));
  return reactor;
}

void CaService::Work() {
  while (true) {
    Call call{};
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &CaService::HasWorkLocked));
      if (!running_) return;  // Stop answers whatever is still queued
      call = queue_.front();
      queue_.pop_front();
    }
    absl::Status status = Handle(call);
    call.reactor->Finish(status.ok() ? grpc::Status::OK : ToGrpcStatus(status));
  }
}

bool CaService::HasWorkLocked() const { return !running_ || !queue_.empty(); }

absl::Status CaService::Handle(const Call& call) {
  absl::StatusOr<Identity> identity = authenticator_->Authenticate(*call.context);
  if (!identity.ok()) {
    ++auth_failures_;
    Metrics::Get().citadel_authn_failures.Add({}).Increment();
    spdlog::warn("ca: CreateCertificate from {}: authentication failed: {}", call.context->peer(),
                 std::string(identity.status().message()));
    return absl::UnauthenticatedError(std::string(identity.status().message()));
  }
  std::string who = SpiffeUri(*identity, signer_->options().trust_domain);
  absl::Duration ttl = absl::Seconds(call.request->validity_duration());
  SignFailure failure = SignFailure::kNone;
  absl::StatusOr<std::vector<std::string>> chain =
      signer_->Sign(call.request->csr(), *identity, ttl, &failure);
  if (!chain.ok()) {
    ++(absl::IsInvalidArgument(chain.status()) ? csr_errors_ : sign_errors_);
    // Every signing failure is counted by istiod's error type; parse and identity failures
    // also in their own counters.
    if (failure == SignFailure::kCsrParse) {
      Metrics::Get().citadel_csr_parsing_errors.Add({}).Increment();
    } else if (failure == SignFailure::kIdentity) {
      Metrics::Get().citadel_id_extraction_errors.Add({}).Increment();
    }
    CountSignError(
        SignFailureLabel(failure == SignFailure::kNone ? SignFailure::kCertGen : failure));
    spdlog::warn("ca: CreateCertificate for {} from {}: {}", who, call.context->peer(),
                 chain.status().ToString());
    return chain.status();
  }
  for (std::string& pem : *chain) call.response->add_cert_chain(std::move(pem));
  ++issued_;
  Metrics::Get().citadel_success.Add({}).Increment();
  spdlog::debug("ca: issued certificate for {} (requested TTL {}s)", who,
                call.request->validity_duration());
  return absl::OkStatus();
}

grpc::Status CaService::ToGrpcStatus(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return grpc::Status::OK;
    case absl::StatusCode::kUnauthenticated:
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, kAuthFailure);
    case absl::StatusCode::kInvalidArgument:  // the (authenticated) caller's CSR is at fault
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("bad CSR: ", status.message()));
    case absl::StatusCode::kUnavailable:
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "CA not ready");
    default:
      return grpc::Status(grpc::StatusCode::INTERNAL, "certificate signing failed");
  }
}

CaServiceStats CaService::stats() const {
  CaServiceStats s;
  s.requests = requests_.load();
  s.auth_failures = auth_failures_.load();
  s.csr_errors = csr_errors_.load();
  s.sign_errors = sign_errors_.load();
  s.issued = issued_.load();
  return s;
}

}  // namespace meshd::ca
