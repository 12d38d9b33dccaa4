// AdsServer: Envoy's AggregatedDiscoveryService (State of the World) over gRPC's callback
// API, and the SnapshotSink the controller publishes to. It owns the connections, the push
// worker pool and the latest snapshot; connections generate from whichever snapshot is
// current when their push runs. Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/model/snapshot_sink.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "xds/gen/envoy_generator.h"
#include "xds/gen/grpc_generator.h"
#include "xds/server/connection.h"
#include "xds/server/delta_connection.h"
#include "xds/server/push_history.h"
#include "xds/server/push_queue.h"
#include "xds/server/resource_cache.h"
#include "xds/server/stream.h"
#include "xds/server/write_budget.h"

namespace meshd::xds {

class AdsServer final
    : public envoy::service::discovery::v3::AggregatedDiscoveryService::CallbackService,
      public model::SnapshotSink {
 public:
  struct Options {
    int push_workers = 2;
    // The cluster meshd serves (--clusterID, istiod's default "Kubernetes"). A token-
    // authenticated stream whose `ClusterID` gRPC metadata names another cluster is refused,
    // as istiod's Kubernetes JWT authenticator refuses a cluster it has no client for.
    std::string cluster_id = "Kubernetes";
    // Bytes of responses queued or in flight on all streams before push workers wait for
    // the transport to drain (WriteBudget); <= 0 disables. At most write_budget_wait each.
    int64_t write_budget_bytes = int64_t{32} << 20;
    absl::Duration write_budget_wait = absl::Seconds(2);
  };

  explicit AdsServer(Options options);
  ~AdsServer() override;

  // Authenticates a stream that arrived over TLS (the :15012 port): the caller's namespace,
  // or why not. Plaintext streams (:15010) are not authenticated, as istiod's.
  using StreamAuthenticator =
      std::function<absl::StatusOr<std::string>(const grpc::CallbackServerContext& context)>;
  // Before Start.
  void SetStreamAuthenticator(StreamAuthenticator authenticator) {
    authenticator_ = std::move(authenticator);
  }

  // Who may be sent Gateway credentialName secrets (EnvoyGenerator::SetSecretAccessChecker).
  // Before Start.
  void SetSecretAccessChecker(std::shared_ptr<model::SecretAccessChecker> checker) {
    envoy_generator_.SetSecretAccessChecker(std::move(checker));
  }

  void Start();
  void Stop();

  grpc::ServerBidiReactor<envoy::service::discovery::v3::DiscoveryRequest,
                          envoy::service::discovery::v3::DiscoveryResponse>*
  StreamAggregatedResources(grpc::CallbackServerContext* context) override;

  grpc::ServerBidiReactor<envoy::service::discovery::v3::DeltaDiscoveryRequest,
                          envoy::service::discovery::v3::DeltaDiscoveryResponse>*
  DeltaAggregatedResources(grpc::CallbackServerContext* context) override;

  void OnSnapshot(model::SnapshotPtr snapshot, const model::PushRequest& request) override;

  // The resources of `names` (every resource of the type, if empty) for the proxy's view
  // in `snapshot` (ViewKey over the snapshot's selected label keys), from the shared cache,
  // generating and caching what is missing; a wildcard response also gets the proxy's own
  // part (Generator::GenerateOwn, never cached).
  Resources Generate(const std::string& type, const model::Proxy& proxy,
                     const model::Snapshot& snapshot, const std::vector<std::string>& names);

  model::SnapshotPtr snapshot() const;
  absl::Time snapshot_time() const;
  // The generator for a proxy: proxyless gRPC or Envoy.
  const Generator& GeneratorFor(const model::Proxy& proxy) const;
  PushQueue& queue() { return queue_; }
  WriteBudget& write_budget() { return write_budget_; }
  // The last pushes (one per snapshot) and their replies, for /debug/pushz.
  PushHistory& history() { return history_; }
  ResourceCache& cache() { return cache_; }

  const std::string& cluster_id() const { return cluster_id_; }
  // The cluster a stream's caller claims: gRPC metadata `ClusterID` (what pilot-agent sends),
  // "" when absent.
  static std::string ClaimedClusterId(const grpc::CallbackServerContext& context);
  // Whether a TLS caller claiming cluster `claimed` ("" = none) may stream from a meshd that
  // serves `served`: a token-authenticated caller must claim none or `served`.
  static absl::Status CheckClusterId(const std::string& claimed, bool token_authenticated,
                                     const std::string& served);

  void Register(std::shared_ptr<Stream> connection);
  void Unregister(uint64_t id);
  // The buckets (BucketId of HostBucket; that of "" for a wildcard subscription or a name of
  // no host) of every name a registered stream subscribes to, replacing what it had. A change
  // that does not touch every host visits only the streams of its hosts' buckets and of "";
  // MarkForPush still decides each exactly. Call after the subscription changed and before
  // the stream is queued for it.
  void IndexStream(uint64_t id, std::vector<uint64_t> buckets);
  std::vector<ConnectionStatus> Status() const;
  // The proxies of the connections that named one.
  std::vector<model::Proxy> Proxies() const;
  size_t connections() const;

 private:
  // The caller's namespace for a TLS stream ("" for plaintext), or the status to refuse with.
  absl::StatusOr<std::string> Authenticate(const grpc::CallbackServerContext& context);

  const std::string cluster_id_;
  StreamAuthenticator authenticator_;
  GrpcGenerator grpc_generator_;
  EnvoyGenerator envoy_generator_;
  ResourceCache cache_;
  WriteBudget write_budget_;
  PushHistory history_;
  PushQueue queue_;
  // Returns the heap a drained storm freed (WriteBudget::MaybeTrim), every few seconds.
  void TrimLoop();
  absl::Mutex trim_mu_;
  bool trim_stop_ ABSL_GUARDED_BY(trim_mu_) = false;
  std::thread trimmer_;
  std::atomic<uint64_t> next_id_{1};

  mutable absl::Mutex mu_;
  model::SnapshotPtr snapshot_ ABSL_GUARDED_BY(mu_);
  absl::Time snapshot_time_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::shared_ptr<Stream>> connections_ ABSL_GUARDED_BY(mu_);
  // IndexStream's index, both ways.
  absl::flat_hash_map<uint64_t, std::vector<uint64_t>> stream_buckets_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, absl::flat_hash_set<uint64_t>> bucket_streams_ ABSL_GUARDED_BY(mu_);
  void UnindexLocked(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // SelectedLabelKeys of the newest snapshot seen by Generate, computed once per version.
  std::shared_ptr<const std::set<std::string>> LabelKeys(const model::Snapshot& snapshot);
  // Moves cache_ to `next`, keeping what `scope` cannot have changed. `buckets`:
  // ScopeBuckets(scope); `keys`: next's SelectedLabelKeys.
  void AdvanceCacheLocked(const PushScope& scope, const std::vector<uint64_t>& buckets,
                          const model::Snapshot& next,
                          std::shared_ptr<const std::set<std::string>> keys)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The SelectedLabelKeys the cache's views were computed with.
  std::shared_ptr<const std::set<std::string>> cache_keys_ ABSL_GUARDED_BY(mu_);
  absl::Mutex keys_mu_;
  uint64_t keys_version_ ABSL_GUARDED_BY(keys_mu_) = 0;
  std::shared_ptr<const std::set<std::string>> keys_ ABSL_GUARDED_BY(keys_mu_);
};

}  // namespace meshd::xds
