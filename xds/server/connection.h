// Connection: one ADS (State of the World) stream, as a gRPC callback reactor — no thread
// per stream. It keeps only what the stream needs: the proxy, per type the subscribed names
// and what was last sent and acknowledged. Writes go out one at a time; at most one unsent
// response per type is kept (a newer one replaces it), so a slow client costs bounded memory.
//
// Reactions (OnReadDone, OnWriteDone, OnDone) run on gRPC's threads; Push() runs on a
// PushQueue worker. All state is guarded by mu_; no lock is held while calling into gRPC.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/model/proxy.h"
#include "controller/model/push_request.h"
#include "controller/model/snapshot.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "xds/gen/resource.h"
#include "xds/server/push_queue.h"
#include "xds/server/push_scope.h"

namespace meshd::xds {

class AdsServer;

struct TypeStatus {
  std::string type_url;
  size_t names = 0;
  bool wildcard = false;
  std::string version_sent;
  std::string nonce_sent;
  std::string version_acked;
  std::string nack_error;    // the client's error for the last NACK, until the next ACK
  std::string nack_version;  // version the NACK rejected
  uint64_t responses = 0;
};

struct ConnectionStatus {
  uint64_t id = 0;
  std::string peer;
  std::string proxy_id;
  std::string ns;
  std::string generator;
  absl::Time connected;
  std::vector<TypeStatus> types;
};

// What the server needs of a stream, SotW or Delta.
class Stream : public Pushable {
 public:
  // Marks the types a snapshot change affects. True if anything became pending.
  virtual bool MarkForPush(const PushScope& scope, const model::Snapshot& next) = 0;
  virtual ConnectionStatus Status() const = 0;
};

class Connection : public grpc::ServerBidiReactor<envoy::service::discovery::v3::DiscoveryRequest,
                                                  envoy::service::discovery::v3::DiscoveryResponse>,
                   public Stream,
                   public std::enable_shared_from_this<Connection> {
 public:
  Connection(AdsServer* server, uint64_t id, std::string peer);

  // Starts reading; `self` keeps the reactor alive until OnDone.
  void Begin(std::shared_ptr<Connection> self);

  uint64_t id() const override { return id_; }
  void Push() override;

  bool MarkForPush(const PushScope& scope, const model::Snapshot& next) override;
  ConnectionStatus Status() const override;

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  struct TypeState {
    std::set<std::string> names;
    bool subscribed = false;
    bool sent = false;
    std::string last_nonce;
    std::string version_sent;
    std::string version_acked;
    std::string nack_error;
    std::string nack_version;
    uint64_t hash_sent = 0;
    bool pending = false;
    bool force = false;  // respond even if nothing changed (a new subscription)
    uint64_t responses = 0;
    absl::Time sent_at;
  };

  void HandleRequest(const envoy::service::discovery::v3::DiscoveryRequest& request);
  void FinishWith(grpc::Status status);
  void QueueWriteLocked(envoy::service::discovery::v3::DiscoveryResponse response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes the next queued response into current_write_; true if the caller must StartWrite.
  bool NextWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  AdsServer* const server_;
  const uint64_t id_;
  const std::string peer_;
  const absl::Time connected_ = absl::Now();

  envoy::service::discovery::v3::DiscoveryRequest request_;  // read buffer (gRPC's thread)
  absl::Mutex push_mu_;                                      // one Push at a time per connection

  mutable absl::Mutex mu_;
  std::optional<model::Proxy> proxy_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> view_{0};  // ViewKey of the proxy, set with proxy_
  friend class DeltaConnection;
  std::map<std::string, TypeState> types_ ABSL_GUARDED_BY(mu_);
  std::deque<envoy::service::discovery::v3::DiscoveryResponse> writes_ ABSL_GUARDED_BY(mu_);
  envoy::service::discovery::v3::DiscoveryResponse current_write_ ABSL_GUARDED_BY(mu_);
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> finish_after_write_ ABSL_GUARDED_BY(mu_);
  uint64_t nonce_counter_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<Connection> self_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meshd::xds
