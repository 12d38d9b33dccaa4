// DeltaConnection: one Incremental (Delta) ADS stream. Same rules and the same shared
// resources as the State-of-the-World Connection, with Delta's bookkeeping: explicit
// subscribe/unsubscribe lists, a version per resource (the hash of its serialized form), only
// changed resources sent, removed ones named in removed_resources, and the client's
// initial_resource_versions honoured on reconnect. A NACK (a nonce with error_detail) is
// recorded and logged; an ACK clears it. An `istio.io/debug/syncz` request is answered as on
// a SotW stream (syncz.h), outside this bookkeeping. The reactor plumbing is AdsStream's.
//
// HandleRequest runs on gRPC's threads, Push() on a PushQueue worker; state is guarded by mu_.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "controller/model/proxy.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "xds/server/ads_stream.h"

namespace meshd::xds {

class DeltaConnection final
    : public AdsStream<envoy::service::discovery::v3::DeltaDiscoveryRequest,
                       envoy::service::discovery::v3::DeltaDiscoveryResponse> {
 public:
  using AdsStream::AdsStream;

  void Push() override;
  bool MarkForPush(const PushScope& scope, const model::Snapshot& next) override;
  ConnectionStatus Status() const override;

 private:
  struct TypeState {
    bool wildcard = false;
    std::set<std::string> subscribed;
    // name -> the hash (version) of what the client holds.
    absl::flat_hash_map<std::string, uint64_t> sent;
    std::set<std::string> force;  // newly subscribed: answer even if unchanged
    // The combined hash of the last generated set, when the client holds exactly it: a push
    // that generates the same set again is skipped without a per-name comparison. 0: unknown.
    uint64_t set_hash = 0;
    TypeProgress progress;
    SubscriptionHosts hosts;  // what `subscribed` depends on, for push scoping
  };

  void HandleRequest(const envoy::service::discovery::v3::DeltaDiscoveryRequest& request) override;
  void QueueWriteLocked(envoy::service::discovery::v3::DeltaDiscoveryResponse response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The buckets of every subscribed name (unsorted), for RebucketLocked.
  std::vector<uint64_t> BucketsLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::map<std::string, TypeState> types_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meshd::xds
