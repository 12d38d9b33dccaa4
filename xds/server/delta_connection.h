// DeltaConnection: one Incremental (Delta) ADS stream. Same rules and the same shared
// resources as the State-of-the-World Connection, with Delta's bookkeeping: explicit
// subscribe/unsubscribe lists, a version per resource (the hash of its serialized form), only
// changed resources sent, removed ones named in removed_resources, and the client's
// initial_resource_versions honoured on reconnect. A NACK (a nonce with error_detail) is
// recorded and logged; an ACK clears it.
//
// Threading as in Connection: gRPC reactions on gRPC's threads, Push() on a PushQueue worker,
// all state under mu_, no lock held while calling into gRPC.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/synchronization/mutex.h"
#include "controller/model/proxy.h"
#include "controller/model/push_request.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "xds/server/connection.h"
#include "xds/server/push_queue.h"

namespace meshd::xds {

class AdsServer;

class DeltaConnection
    : public grpc::ServerBidiReactor<envoy::service::discovery::v3::DeltaDiscoveryRequest,
                                     envoy::service::discovery::v3::DeltaDiscoveryResponse>,
      public Stream,
      public std::enable_shared_from_this<DeltaConnection> {
 public:
  DeltaConnection(AdsServer* server, uint64_t id, std::string peer);
  void Begin(std::shared_ptr<DeltaConnection> self);

  uint64_t id() const override { return id_; }
  void Push() override;
  bool MarkForPush(const PushScope& scope, const model::Snapshot& next) override;
  ConnectionStatus Status() const override;

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  struct TypeState {
    bool wildcard = false;
    std::set<std::string> subscribed;
    std::map<std::string, std::string> sent;  // name -> version the client holds
    std::set<std::string> force;              // newly subscribed: answer even if unchanged
    bool pending = false;
    std::string last_nonce;
    std::string version_sent;
    std::string version_acked;
    std::string nack_error;
    uint64_t responses = 0;
  };

  void HandleRequest(const envoy::service::discovery::v3::DeltaDiscoveryRequest& request);
  void FinishWith(grpc::Status status);
  bool NextWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  AdsServer* const server_;
  const uint64_t id_;
  const std::string peer_;
  const absl::Time connected_ = absl::Now();

  envoy::service::discovery::v3::DeltaDiscoveryRequest request_;
  absl::Mutex push_mu_;

  mutable absl::Mutex mu_;
  std::optional<model::Proxy> proxy_ ABSL_GUARDED_BY(mu_);
  uint64_t view_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, TypeState> types_ ABSL_GUARDED_BY(mu_);
  std::deque<envoy::service::discovery::v3::DeltaDiscoveryResponse> writes_ ABSL_GUARDED_BY(mu_);
  envoy::service::discovery::v3::DeltaDiscoveryResponse current_write_ ABSL_GUARDED_BY(mu_);
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> finish_after_write_ ABSL_GUARDED_BY(mu_);
  uint64_t nonce_counter_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<DeltaConnection> self_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meshd::xds
