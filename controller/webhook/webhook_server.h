// The admission webhooks on istiod's port 15017 (HTTPS): /validate (Istio config, see
// admission.h) and /inject, /inject/... (sidecar injection, see injector.h). Bodies over
// `max_body_bytes` get 413; a body that is not an AdmissionReview v1 gets 400 with the
// reason; both are counted in meshd_webhook_requests_total{webhook,result}. The TLS
// certificate comes from `credentials` on every new connection (the CA's serving certificate
// for istiod.<ns>.svc, re-issued without a restart); webhook/ knows no CA.
// Thread-safe: requests run on the HTTP server's pool; SetInjectionConfig may run any time.
#pragma once

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "controller/common/http_server.h"
#include "controller/webhook/admission.h"
#include "controller/webhook/injector.h"

namespace meshd::webhook {

class WebhookServer {
 public:
  struct Options {
    std::string address = ":15017";
    size_t max_body_bytes = 2 * 1024 * 1024;
    absl::Duration timeout = absl::Seconds(30);
  };

  WebhookServer(Options options, HttpServer::TlsCredentials credentials);
  ~WebhookServer();

  absl::Status Start();
  void Stop();
  // True once Start() succeeded: /validate serves (the leader may switch failurePolicy).
  bool Serving() const;

  // Injection values and policy (ConfigMap istio-sidecar-injector); defaults until set.
  void SetInjectionConfig(InjectionConfig config);

  // The handlers, without HTTP (for tests and the server).
  HttpResponse HandleValidate(const HttpRequest& request) const;
  HttpResponse HandleInject(const HttpRequest& request) const;

 private:
  const Options options_;
  HttpServer::TlsCredentials credentials_;
  std::unique_ptr<HttpServer> http_;
  mutable absl::Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<const InjectionConfig> injection_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meshd::webhook
