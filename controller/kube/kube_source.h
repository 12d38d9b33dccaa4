// KubeSource: the Kubernetes config and registry source. It discovers which version of each
// Istio kind the API server serves (per resource: v1, then v1beta1, then v1alpha3; a kind whose
// CRD is not installed is not watched), runs one shared
// informer per resource type (the Istio kinds, Services, EndpointSlices, Pods, Namespaces,
// Nodes), and turns their events into calls on a Sink:
//   - Istio objects are decoded and validated (origin "kube"); an invalid object is logged
//     and counted with its kind/namespace/name and field paths, never affects others, and an
//     object that was accepted before keeps its last accepted version;
//   - a Service becomes a service (full push); its EndpointSlices + Pods + Nodes become its
//     endpoints (endpoint-only push when only they changed). A Pod or Node event recomputes
//     only the services whose slices reference it (EndpointIndex).
// Start()/Stop() own a discovery thread and the informers' threads. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "controller/common/clock.h"
#include "controller/kube/endpoint_index.h"
#include "controller/kube/informer.h"
#include "controller/kube/kube_client.h"
#include "controller/model/config.h"
#include "controller/model/service.h"

namespace meshd::kube {

class KubeSource {
 public:
  struct Sink {
    std::function<void(model::ConfigPtr)> upsert_config;
    std::function<void(const model::ConfigKey&)> delete_config;
    std::function<void(const std::string& host, std::optional<model::Service>)> set_service;
    std::function<void(const std::string& host, std::vector<model::Endpoint>)> set_endpoints;
    // TLS secrets ("<ns>/<name>"; nullopt: deleted or not TLS material).
    std::function<void(const std::string& key, std::optional<model::Credential>)> set_credential;
    // Every informer delivered its first list.
    std::function<void()> synced;
  };
  struct Rejection {
    std::string object;  // "VirtualService default/reviews"
    std::string message;
  };
  // An Istio object as last seen from the API server, for its status: where it lives, its
  // generation, and whether it was accepted (the rejection's message when not).
  struct ObjectInfo {
    model::ConfigKey key;
    std::string path;  // "/apis/<group>/<version>/namespaces/<ns>/<plural>/<name>"
    int64_t generation = 0;
    std::optional<std::string> rejection;
  };
  struct Options {
    std::string domain = "cluster.local";
    Informer::Options informer;
  };

  KubeSource(Options options, KubeClient* client, Sink sink, const Clock* clock);
  ~KubeSource();

  // Returns at once; discovery (retried with backoff) and the informers run on threads.
  void Start();
  void Stop();

  std::vector<Rejection> Rejections() const;
  // Every Istio object seen (accepted or rejected), for the status writer.
  std::vector<ObjectInfo> Objects() const;
  // The informers' types and last resourceVersions, for /debug.
  std::map<std::string, std::string> InformerVersions() const;

 private:
  // "group/version" -> the plural resource names it serves.
  using ServedResources = std::map<std::string, std::set<std::string>>;

  void Discover();
  // Asks /apis/<group>/<version> for every version of an Istio kind's group that the API
  // server lists in `versions` (group -> versions). A 404 means "serves nothing"; transport
  // errors and other failures are errors (discovery is retried).
  absl::StatusOr<ServedResources> DiscoverResources(
      const std::map<std::string, std::vector<std::string>>& versions);
  void StartInformers(const ServedResources& served);
  void OnConfig(model::Kind kind, const nlohmann::json& obj);
  void OnConfigDelete(model::Kind kind, const nlohmann::json& obj);
  // Recomputes the service `ns/name` and its endpoints from the informers' caches.
  void SyncService(const std::string& ns, const std::string& name);
  // Recomputes each of `service_keys` ("namespace/name").
  void SyncServices(const std::set<std::string>& service_keys);

  const Options options_;
  KubeClient* const client_;
  const Sink sink_;
  const Clock* const clock_;
  InformerFactory factory_;

  Informer* services_ = nullptr;
  Informer* slices_ = nullptr;
  Informer* pods_ = nullptr;
  Informer* nodes_ = nullptr;
  // Which services' slices reference a Pod or a Node, and each service's slices.
  EndpointIndex endpoint_index_;

  // Serialises registry recomputation, so that results reach the sink in order.
  absl::Mutex sync_mu_;
  mutable absl::Mutex mu_;
  std::map<model::ConfigKey, Rejection> rejections_ ABSL_GUARDED_BY(mu_);
  std::map<model::ConfigKey, std::string> accepted_rv_ ABSL_GUARDED_BY(mu_);
  std::map<model::ConfigKey, ObjectInfo> objects_ ABSL_GUARDED_BY(mu_);
  // Kind -> the "group/version" it is watched as.
  std::map<model::Kind, std::string> watched_versions_ ABSL_GUARDED_BY(mu_);
  std::vector<Informer*> informers_ ABSL_GUARDED_BY(mu_);
  int unsynced_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace meshd::kube
