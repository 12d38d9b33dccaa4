// Stream: what the ADS server needs of one stream, State of the World or Delta — its push
// (Pushable), which types a change affects, and its status for /debug/syncz.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "controller/model/proxy.h"
#include "controller/model/snapshot.h"
#include "envoy/config/core/v3/base.pb.h"
#include "xds/gen/resource.h"
#include "xds/server/ack.h"
#include "xds/server/push_queue.h"
#include "xds/server/push_scope.h"

namespace prometheus {
class Counter;
class Histogram;
}  // namespace prometheus

namespace meshd::xds {

struct TypeStatus {
  std::string type_url;
  size_t names = 0;
  bool wildcard = false;
  std::string version_sent;
  std::string nonce_sent;
  std::string version_acked;
  std::string nack_error;    // the client's error for the last NACK, until the next ACK
  std::string nack_version;  // version the NACK rejected
  // The resource names the NACKed response carried, and (same index) the config objects each
  // was built from (null: none recorded), so that the NACK is attributed to those objects (not
  // only to the proxy and the type).
  std::vector<std::string> nack_names;
  std::vector<Origins> nack_origins;
  uint64_t responses = 0;
  // The first kMaxListedNames subscribed names (sorted), for the mesh page's graph.
  static constexpr size_t kMaxListedNames = 32;
  std::vector<std::string> subscribed_names;
  absl::Time sent_at;  // of the last response (meaningful when version_sent is set)
};

struct ConnectionStatus {
  uint64_t id = 0;
  std::string peer;
  std::string proxy_id;
  std::string ns;
  // The proxy's labels, for workloadSelector matching in the objects' status (empty when the
  // stream did not fill them in).
  std::map<std::string, std::string> labels;
  std::string generator;
  absl::Time connected;
  std::vector<TypeStatus> types;
};

// What both stream kinds keep per type about the exchange with the client: what was sent,
// what was acknowledged or refused. Guarded by the owning stream's lock.
struct TypeProgress {
  bool sent = false;  // any response of the type sent on this stream
  std::string last_nonce;
  std::string version_sent;
  std::string version_acked;
  std::string nack_error;    // the client's error for the last NACK, until the next ACK
  std::string nack_version;  // version the NACK rejected
  // The resources of the last response sent, until the client answers it (shared with the
  // cache: pointers only); a NACK keeps their names in nack_names and their origins (shared
  // pointers, same index) in nack_origins, an ACK drops them.
  Resources in_flight;
  std::vector<std::string> nack_names;
  std::vector<Origins> nack_origins;
  absl::Time sent_at;
  uint64_t responses = 0;
  bool pending = false;         // a push should (re)consider this type
  bool awaiting_reply = false;  // the last response sent has no ACK/NACK yet
};

// True when no type of a stream has a push pending or a response unanswered: the stream is
// done with the pushes it owes the history (PushWait). `types` maps to structs with `progress`.
template <typename TypeMap>
bool RepliedToAll(const TypeMap& types) {
  for (const auto& [type, st] : types) {
    if (st.progress.pending || st.progress.awaiting_reply) return false;
  }
  return true;
}

// Metric handles of one type, looked up once (Family::Add hashes labels under a lock).
struct TypeMetrics {
  prometheus::Counter* pushes;
  prometheus::Counter* rejects;
  prometheus::Histogram* size;
  prometheus::Histogram* push_time;
};
const TypeMetrics& MetricsFor(const std::string& type_url);

// Applies a client's reply, classified by Classify (ack.h), to the type's progress: an ACK
// records the version (and the convergence time, once per version), a NACK the error (counted
// and logged with proxy, type, version and nonce); stale and subscribe change nothing.
void RecordReply(RequestKind kind, const std::string& nonce, const std::string& error,
                 const std::string& proxy_id, const std::string& type_url, TypeProgress* progress);
// Records a response about to be queued.
void RecordSent(const std::string& type_url, const std::string& nonce, const std::string& version,
                size_t bytes, TypeProgress* progress);
TypeStatus StatusOf(const std::string& type_url, const TypeProgress& progress, size_t names,
                    bool wildcard);
// The first TypeStatus::kMaxListedNames of `names`.
template <typename NameSet>
std::vector<std::string> ListedNames(const NameSet& names) {
  std::vector<std::string> out;
  for (const auto& n : names) {
    if (out.size() == TypeStatus::kMaxListedNames) break;
    out.push_back(n);
  }
  return out;
}

// The order a push sends types in: make before break (clusters and endpoints before the
// listeners and routes that use them), then secrets and the types answered possibly empty.
const std::vector<std::string>& PushOrder();

// What a request's type asks of a stream: serve it, take it as a report (never answered, as
// istiod does with HealthInfo), or refuse it as unknown (counted and logged, stream kept).
enum class TypeRole { kServed, kReport, kUnknown };
TypeRole RoleOf(const std::string& type_url, uint64_t stream_id, const std::string& proxy_id);

// What the server needs of a stream, SotW or Delta.
class Stream : public Pushable {
 public:
  // Marks the types a snapshot change affects. True if anything became pending.
  virtual bool MarkForPush(const PushScope& scope, const model::Snapshot& next) = 0;
  virtual ConnectionStatus Status() const = 0;
  // The proxy the first request named (nullopt before it).
  virtual std::optional<model::Proxy> proxy() const = 0;
};

// The types meshd answers: the four the generators serve, plus SDS, ECDS, NDS and PCDS
// (answered, possibly empty). LDS, CDS, NDS and PCDS are "full state": an empty subscription
// is a wildcard.
bool IsKnownType(const std::string& type_url);
bool IsWildcardType(const std::string& type_url);
// Reports a client sends that are never answered (istio-agent's HealthInfo).
bool IsReportType(const std::string& type_url);
// Counts a malformed or protocol-breaking request (meshd_xds_bad_requests_total).
void CountBadRequest(const std::string& reason);
// The proxy named by a stream's first request; a missing or invalid node is counted, logged
// with the stream, and returned as the InvalidArgument to finish the stream with. On an
// authenticated stream (`identity_ns` set) a node of another namespace is PermissionDenied,
// as istiod's XDS authorization refuses a proxy that claims to be someone else.
absl::StatusOr<model::Proxy> FirstRequestProxy(bool has_node,
                                               const envoy::config::core::v3::Node& node,
                                               absl::string_view request_type, uint64_t stream_id,
                                               const std::string& peer,
                                               const std::string& identity_ns = "");

}  // namespace meshd::xds
