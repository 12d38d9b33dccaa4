// KubeClient: the narrow interface meshd uses to talk to the Kubernetes API server. The
// production implementation (RestKubeClient) sits on cpprestsdk, which is archived upstream,
// so everything else depends only on this interface; tests use a fake.
// Implementations are thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace meshd::kube {

struct KubeResponse {
  int status = 0;           // HTTP status
  std::string body;         // JSON (a metav1.Status on errors)
  std::string retry_after;  // Retry-After header, if any
};

class KubeClient {
 public:
  virtual ~KubeClient() = default;

  // One request; `path` is absolute ("/api/v1/namespaces/default/pods?limit=500").
  // A non-2xx answer is a KubeResponse, not an error; transport failures are errors.
  virtual absl::StatusOr<KubeResponse> Request(
      const std::string& method, const std::string& path, const std::string& body = "",
      const std::string& content_type = "application/json") = 0;

  // A streaming GET (a watch): `on_line` receives each newline-delimited JSON document as it
  // arrives and returns false to stop. Returns when the server ends the stream (OK), when
  // `cancel` becomes true, or on a transport error. Non-2xx answers come back as an error
  // status whose message holds the body.
  virtual absl::Status Stream(const std::string& path,
                              const std::function<bool(absl::string_view line)>& on_line,
                              const std::atomic<bool>* cancel) = 0;

  // The namespace meshd runs in (in-cluster: the service account's; kubeconfig: the
  // context's, default "istio-system" if unset by the caller).
  virtual std::string Namespace() const = 0;
};

}  // namespace meshd::kube
