// The composition root of meshd: wires the config sources, the controller, the xDS server
// and the HTTP endpoints together, and owns their lifetimes. Start() then Shutdown(), from
// main's thread; RequestStop() from any thread (main's signal thread) — it also ends a Start()
// that is waiting for the API server, which then returns CANCELLED.
#pragma once

#include <atomic>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

#include "absl/status/status.h"
#include "controller/bootstrap/options.h"

namespace grpc {
class Server;
}

namespace meshd {
namespace ca {
class CaServer;
}
class Controller;
class HttpServer;
namespace file {
class DirectorySource;
class MeshConfigWatcher;
}  // namespace file
namespace kube {
class KubeClient;
class KubeSource;
class LeaderElector;
class Informer;
class RootCertPublisher;
class StatusWriter;
class WebhookPatcher;
}  // namespace kube
namespace webhook {
class WebhookServer;
}
namespace xds {
class AdsServer;
}
}  // namespace meshd

namespace meshd::bootstrap {

class Server {
 public:
  explicit Server(Options options);
  ~Server();

  absl::Status Start();
  void Shutdown();

  // Thread-safe; idempotent. Wakes WaitForStopRequest() and any wait inside Start().
  void RequestStop();
  bool StopRequested() const;
  void WaitForStopRequest();

 private:
  void RegisterDebugHandlers(HttpServer* http);
  // /debug/pushz, /debug/push_status and the mesh page (/ and /mesh).
  void RegisterPushHandlers(HttpServer* http);
  void RegisterRegistryHandlers(HttpServer* http);
  // Creates and starts the CA (root, signer, CreateCertificate, serving certificate).
  absl::Status StartCa();

  Options options_;      // written only in Start (trust domain from MeshConfig), before any thread
  absl::Mutex stop_mu_;  // makes RequestStop() idempotent (Notify() may be called only once)
  absl::Notification stop_;
  std::unique_ptr<xds::AdsServer> ads_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<file::DirectorySource> file_source_;
  std::unique_ptr<file::MeshConfigWatcher> mesh_watcher_;
  // Kubernetes (with --kubeconfig or in a cluster): the API client, the config + registry
  // source, and leader election for leader-only work.
  // Creates kube_client_ from ResolveKubeConfig (none without an API server).
  absl::Status ConnectKube();
  absl::Status StartKube();
  // The process's one API client: the source, the elector, the CA and the publisher share it.
  std::shared_ptr<kube::KubeClient> kube_client_;
  std::unique_ptr<kube::KubeSource> kube_source_;
  std::unique_ptr<kube::LeaderElector> elector_;
  // Leader-only work: the elector's callbacks (or, without leader election, StartCa) start and
  // stop it; it exists once the CA does.
  void SetLeading(bool leading);
  absl::Mutex leader_mu_;
  bool leading_ ABSL_GUARDED_BY(leader_mu_) = false;
  std::unique_ptr<kube::RootCertPublisher> root_publisher_ ABSL_GUARDED_BY(leader_mu_);
  std::unique_ptr<kube::WebhookPatcher> webhook_patcher_ ABSL_GUARDED_BY(leader_mu_);
  // Leader-only: IstioStatus on every Istio object served from the API server (created with
  // the Kubernetes source, so it does not wait for the CA).
  std::unique_ptr<kube::StatusWriter> status_writer_ ABSL_GUARDED_BY(leader_mu_);
  // The admission webhooks (TLS, --webhookAddr) and the informer feeding them ConfigMap
  // istio-sidecar-injector.
  absl::Status StartWebhook();
  std::unique_ptr<webhook::WebhookServer> webhook_;
  std::unique_ptr<kube::Informer> injector_config_;
  std::atomic<bool> webhook_serving_{false};  // read by the leader's WebhookPatcher
  std::atomic<bool> grpc_serving_{false};     // the xDS ports listen; /ready needs it
  std::unique_ptr<ca::CaServer> ca_;  // outlives grpc_server_, where its service is registered
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<HttpServer> monitoring_;
};

}  // namespace meshd::bootstrap
