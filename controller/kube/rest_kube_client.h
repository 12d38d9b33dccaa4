// RestKubeClient: the KubeClient on cpprestsdk (the only file that includes it for the
// Kubernetes API), plus where its configuration comes from: a kubeconfig file (client-go's
// lookup: --kubeconfig, then $KUBECONFIG, then ~/.kube/config) or the in-cluster service
// account. TLS is verified against the configured CA (or the system roots); credentials are
// sent only over https, as client-go does. A token file is re-read about every minute.
// Every cpprestsdk exception is caught here and becomes a Status. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/kube/kube_client.h"

namespace meshd::kube {

struct KubeConfig {
  std::string server;  // "https://10.96.0.1:443", "http://127.0.0.1:8080"
  std::string ns;      // the context's namespace, or the service account's
  std::string token;
  std::string token_file;  // re-read about every minute
  std::string ca_file;
  std::string ca_data;  // PEM
  std::string client_cert_file;
  std::string client_cert_data;  // PEM
  std::string client_key_file;
  std::string client_key_data;  // PEM
  bool insecure_skip_tls_verify = false;
  // The inactivity timeout of a watch: no bytes for this long ends it (bookmarks arrive
  // about every minute from kube-apiserver, so keep it above that).
  absl::Duration watch_idle_timeout = absl::Seconds(90);
  absl::Duration request_timeout = absl::Seconds(30);
};

// The kubeconfig path client-go would use: `flag`, else the first existing entry of
// $KUBECONFIG, else ~/.kube/config if it exists; empty if none.
std::string FindKubeConfig(const std::string& flag);
// Reads a kubeconfig (current-context, its cluster, user and namespace). Several files may be
// given separated by ':' (the first one defining a name wins, as in client-go).
absl::StatusOr<KubeConfig> LoadKubeConfig(const std::string& paths);
// True when KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are set.
bool InCluster();
// The in-cluster configuration; `sa_dir` holds token, ca.crt and namespace.
absl::StatusOr<KubeConfig> InClusterConfig(
    const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

class RestKubeClient : public KubeClient {
 public:
  static absl::StatusOr<std::unique_ptr<RestKubeClient>> Create(KubeConfig config);
  ~RestKubeClient() override;

  absl::StatusOr<KubeResponse> Request(const std::string& method, const std::string& path,
                                       const std::string& body,
                                       const std::string& content_type) override;
  absl::Status Stream(const std::string& path,
                      const std::function<bool(absl::string_view line)>& on_line,
                      const std::atomic<bool>* cancel) override;
  std::string Namespace() const override { return config_.ns; }

 private:
  struct Impl;
  explicit RestKubeClient(KubeConfig config);
  // The bearer token to send ("" for none).
  std::string Token();

  const KubeConfig config_;
  std::unique_ptr<Impl> impl_;
  absl::Mutex token_mu_;
  std::string token_ ABSL_GUARDED_BY(token_mu_);
  absl::Time token_read_ ABSL_GUARDED_BY(token_mu_) = absl::InfinitePast();
};

}  // namespace meshd::kube
