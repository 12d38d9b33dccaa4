#include "controller/webhook/webhook_server.h"

#include "absl/strings/str_cat.h"
#include "controller/common/metrics.h"
#include "spdlog/spdlog.h"

namespace meshd::webhook {
namespace {

prometheus::Family<prometheus::Counter>& RequestsFamily() {
  static auto& family = prometheus::BuildCounter()
                            .Name("meshd_webhook_requests_total")
                            .Help("Admission webhook requests, by webhook and result.")
                            .Register(Metrics::Get().registry());
  return family;
}

void Count(const char* webhook, const char* result) {
  RequestsFamily().Add({{"webhook", webhook}, {"result", result}}).Increment();
}

HttpResponse BadRequest(const char* webhook, const absl::Status& status) {
  Count(webhook, "bad_request");
  HttpResponse r;
  r.status = 400;
  r.body = absl::StrCat("bad AdmissionReview: ", status.message(), "\n");
  return r;
}

HttpResponse Review(const std::string& uid, const AdmissionResponse& response) {
  HttpResponse r;
  r.content_type = "application/json";
  r.body = ReviewResponse(uid, response).dump();
  return r;
}

}  // namespace

WebhookServer::WebhookServer(Options options, HttpServer::TlsCredentials credentials)
    : options_(std::move(options)),
      credentials_(std::move(credentials)),
      injection_(std::make_shared<InjectionConfig>()) {
  RequestsFamily();  // registered at start, so /metrics lists it before the first request
}

WebhookServer::~WebhookServer() { Stop(); }

absl::Status WebhookServer::Start() {
  http_ = std::make_unique<HttpServer>(options_.address);
  http_->EnableTls(credentials_);
  http_->SetMaxBodyBytes(options_.max_body_bytes);
  http_->SetTimeout(options_.timeout);
  http_->Handle("/validate", [this](const HttpRequest& r) { return HandleValidate(r); });
  http_->HandlePrefix("/validate", [this](const HttpRequest& r) { return HandleValidate(r); });
  http_->Handle("/inject", [this](const HttpRequest& r) { return HandleInject(r); });
  http_->HandlePrefix("/inject", [this](const HttpRequest& r) { return HandleInject(r); });
  if (absl::Status s = http_->Start(); !s.ok()) {
    http_.reset();
    return s;
  }
  absl::MutexLock lock(&mu_);
  serving_ = true;
  return absl::OkStatus();
}

void WebhookServer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    serving_ = false;
  }
  if (http_) http_->Stop();
  http_.reset();
}

bool WebhookServer::Serving() const {
  absl::MutexLock lock(&mu_);
  return serving_;
}

void WebhookServer::SetInjectionConfig(InjectionConfig config) {
  auto c = std::make_shared<const InjectionConfig>(std::move(config));
  absl::MutexLock lock(&mu_);
  injection_ = std::move(c);
}

HttpResponse WebhookServer::HandleValidate(const HttpRequest& request) const {
  if (request.method != "POST") {
    Count("validate", "bad_request");
    return HttpResponse{405, "text/plain; charset=utf-8", "POST an AdmissionReview\n"};
  }
  absl::StatusOr<AdmissionRequest> req = ParseAdmissionReview(request.body);
  if (!req.ok()) return BadRequest("validate", req.status());
  AdmissionResponse resp = Validate(*req);
  Count("validate", resp.allowed ? "allowed" : "denied");
  if (!resp.allowed) {
    spdlog::info("webhook: denied {} {} {}/{}: {}", req->operation, req->kind, req->ns, req->name,
                 resp.message);
  }
  return Review(req->uid, resp);
}

HttpResponse WebhookServer::HandleInject(const HttpRequest& request) const {
  if (request.method != "POST") {
    Count("inject", "bad_request");
    return HttpResponse{405, "text/plain; charset=utf-8", "POST an AdmissionReview\n"};
  }
  absl::StatusOr<AdmissionRequest> req = ParseAdmissionReview(request.body);
  if (!req.ok()) return BadRequest("inject", req.status());
  AdmissionResponse resp;
  if (req->kind != "Pod" || !req->group.empty() || req->operation != "CREATE") {
    Count("inject", "skipped");
    return Review(req->uid, resp);
  }
  std::shared_ptr<const InjectionConfig> config;
  {
    absl::MutexLock lock(&mu_);
    config = injection_;
  }
  absl::StatusOr<InjectionResult> result = InjectPod(req->object, req->ns, *config);
  if (!result.ok()) {
    spdlog::warn("webhook: cannot inject {}: {}", req->ns, result.status().ToString());
    if (config->fail_closed) {
      Count("inject", "denied");
      resp.allowed = false;
      resp.code = 400;
      resp.message = absl::StrCat("sidecar injection failed: ", result.status().message());
    } else {
      Count("inject", "error_ignored");
      resp.warnings.push_back(absl::StrCat("sidecar not injected: ", result.status().message()));
    }
    return Review(req->uid, resp);
  }
  if (!result->injected) {
    Count("inject", "skipped");
    return Review(req->uid, resp);
  }
  Count("inject", "injected");
  resp.json_patch = nlohmann::json::diff(req->object, result->pod).dump();
  return Review(req->uid, resp);
}

}  // namespace meshd::webhook
