// Controller: ingestion → model. Sources hand it config objects; it keeps them in the
// ConfigStore, debounces the changes, builds a new immutable Snapshot (registry and indexes
// included) on its one writer thread, and hands it to the SnapshotSink.
// Public methods are thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/common/clock.h"
#include "controller/debouncer.h"
#include "controller/model/snapshot_sink.h"
#include "controller/store.h"

namespace meshd {

class Controller {
 public:
  struct Options {
    std::string domain = "cluster.local";
    // The SPIFFE trust domain of workload identities (--trustDomain).
    std::string trust_domain = "cluster.local";
    // MeshConfig (--meshConfig); null: the defaults. SetMeshConfig replaces it.
    model::MeshConfigPtr mesh;
    absl::Duration debounce_quiet = absl::Milliseconds(100);
    absl::Duration debounce_max = absl::Seconds(10);
    // Quiet period of a burst of endpoint-only changes (Debouncer).
    absl::Duration debounce_endpoints = absl::Milliseconds(20);
    // The first change after a quiet spell is pushed at once (Debouncer::set_leading_edge).
    bool debounce_leading_edge = true;
  };

  Controller(Options options, model::SnapshotSink* sink, const Clock* clock = RealClock::Get());
  ~Controller();

  // Replaces every config object `source` holds (the file source sends its whole state).
  void ReplaceConfigs(const std::string& source, const std::vector<model::ConfigPtr>& configs);
  // Adds/updates or removes one config object of `source` (the Kubernetes source).
  void UpsertConfig(const std::string& source, model::ConfigPtr config);
  void DeleteConfig(const std::string& source, const model::ConfigKey& key);
  // The Kubernetes service registry, beside the ServiceEntry one (a Kubernetes Service wins
  // a host both declare). A changed service (nullopt removes it) causes a full push; changed
  // endpoints alone an endpoint-only push (PushRequest.full=false, endpoint_hosts).
  void SetKubeService(const std::string& hostname, std::optional<model::Service> service);
  void SetKubeEndpoints(const std::string& hostname, std::vector<model::Endpoint> endpoints);
  // A TLS secret gateways may name by credentialName ("<ns>/<name>"; nullopt removes it): a
  // full push (secrets change rarely; only gateways that ask for it receive it).
  void SetKubeCredential(const std::string& key, std::optional<model::Credential> credential);
  // A new MeshConfig (the mesh file changed): a full push of everything.
  void SetMeshConfig(model::MeshConfigPtr mesh);
  // Marks `source` as having delivered its initial state; the first snapshot waits for all
  // sources registered with ExpectSource.
  void ExpectSource(const std::string& source);
  void SourceSynced(const std::string& source);

  void Start();
  void Stop();

  // The latest published snapshot (null before the first).
  model::SnapshotPtr Current() const;
  // True once every expected source synced and a snapshot was published.
  bool Ready() const { return ready_.load(); }

 private:
  void Run();
  void Enqueue(model::PushRequest request);
  // A full push request for changed config keys (nothing if empty).
  // `before`: the ServiceEntries of the change as they were, to tell endpoint-only edits.
  void EnqueueConfigChanges(std::set<model::ConfigKey> changed,
                            const std::map<model::ConfigKey, model::ConfigPtr>& before = {});
  // The current ServiceEntries among `configs`' keys (before applying them).
  std::map<model::ConfigKey, model::ConfigPtr> ServiceEntriesBefore(
      const std::vector<model::ConfigPtr>& configs) const;
  model::SnapshotPtr Build();

  const Options options_;
  model::SnapshotSink* const sink_;
  const Clock* const clock_;
  ConfigStore store_;

  mutable absl::Mutex mu_;
  Debouncer debouncer_ ABSL_GUARDED_BY(mu_);
  uint64_t enqueued_ ABSL_GUARDED_BY(mu_) = 0;  // changes added to the debouncer so far
  std::set<std::string> unsynced_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool initial_pushed_ ABSL_GUARDED_BY(mu_) = false;
  model::SnapshotPtr current_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;

  std::map<std::string, model::Service> kube_services_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<model::Endpoint>> kube_endpoints_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, model::Credential> kube_credentials_ ABSL_GUARDED_BY(mu_);
  model::MeshConfigPtr mesh_ ABSL_GUARDED_BY(mu_);

  std::atomic<bool> ready_{false};
  std::thread thread_;
};

}  // namespace meshd
