// Stream: what the ADS server needs of one stream, State of the World or Delta — its push
// (Pushable), which types a change affects, and its status for /debug/syncz.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "controller/model/proxy.h"
#include "controller/model/snapshot.h"
#include "envoy/config/core/v3/base.pb.h"
#include "xds/server/push_queue.h"
#include "xds/server/push_scope.h"

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
