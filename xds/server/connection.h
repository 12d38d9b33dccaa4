// Connection: one ADS State-of-the-World stream. It keeps only what the stream needs: the
// proxy, per type the subscribed names and what was last sent and acknowledged. At most one
// unsent response per type is queued (a newer one replaces it), so a slow client costs
// bounded memory; a type is sent only when its content changed or the client subscribed.
// The reactor plumbing (reads, the write queue, finishing) is AdsStream's.
//
// HandleRequest runs on gRPC's threads, Push() on a PushQueue worker; state is guarded by mu_.
#pragma once

#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "controller/model/proxy.h"
#include "controller/model/snapshot.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "xds/gen/resource.h"
#include "xds/server/ads_stream.h"
#include "xds/server/name_set.h"

namespace meshd::xds {

class Connection final : public AdsStream<envoy::service::discovery::v3::DiscoveryRequest,
                                          envoy::service::discovery::v3::DiscoveryResponse> {
 public:
  using AdsStream::AdsStream;

  void Push() override;
  bool MarkForPush(const PushScope& scope, const model::Snapshot& next) override;
  ConnectionStatus Status() const override;

 private:
  struct TypeState {
    TypeProgress progress;
    NameSet names = EmptyNames();  // interned: shared with every stream of the same subscription
    bool subscribed = false;
    uint64_t hash_sent = 0;
    bool force = false;       // respond even if nothing changed (a new subscription)
    SubscriptionHosts hosts;  // what `names` depend on, for push scoping
    // EDS only: hash of each resource's name → hash of the version the client holds. A
    // State-of-the-World EDS (or RDS) response need not repeat unchanged resources — Envoy
    // and gRPC keep the ones left out — so a change to one service's endpoints sends one
    // ClusterLoadAssignment, not all of them (as istiod's incremental EDS).
    absl::flat_hash_map<uint64_t, uint64_t> held;
  };

  void HandleRequest(const envoy::service::discovery::v3::DiscoveryRequest& request) override;
  void OnClosed() override;
  void QueueWriteLocked(envoy::service::discovery::v3::DiscoveryResponse response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The buckets of every subscribed name (unsorted), for RebucketLocked.
  std::vector<uint64_t> BucketsLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::map<std::string, TypeState> types_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meshd::xds
