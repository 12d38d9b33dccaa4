#include "xds/server/stream.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "controller/common/metrics.h"
#include "spdlog/spdlog.h"
#include "xds/gen/resource.h"
#include "xds/server/node.h"

namespace meshd::xds {

bool IsKnownType(const std::string& t) {
  return t == kListenerType || t == kRouteType || t == kClusterType || t == kEndpointType ||
         t == kSecretType || t == kExtensionConfigType || t == kNameTableType ||
         t == kProxyConfigType;
}

bool IsWildcardType(const std::string& t) {
  return t == kListenerType || t == kClusterType || t == kNameTableType || t == kProxyConfigType;
}

bool IsReportType(const std::string& t) { return t == kHealthInfoType; }

const TypeMetrics& MetricsFor(const std::string& type) {
  static absl::Mutex mu;
  static auto* by_type = new std::map<std::string, TypeMetrics>();
  absl::MutexLock lock(&mu);
  auto it = by_type->find(type);
  if (it == by_type->end()) {
    Metrics& m = Metrics::Get();
    std::map<std::string, std::string> labels = {{"type", ShortType(type)}};
    it = by_type
             ->emplace(type, TypeMetrics{&m.xds_pushes.Add(labels), &m.xds_rejects.Add(labels),
                                         &m.xds_config_size.Add(labels, Metrics::SizeBuckets()),
                                         &m.xds_push_time.Add(labels, Metrics::TimeBuckets())})
             .first;
  }
  return it->second;
}

void RecordReply(RequestKind kind, const std::string& nonce, const std::string& error,
                 const std::string& proxy_id, const std::string& type, TypeProgress* p) {
  switch (kind) {
    case RequestKind::kNack:
      p->nack_error = error;
      p->nack_version = p->version_sent;
      p->nack_names.clear();
      p->nack_origins.clear();
      p->nack_names.reserve(p->in_flight.size());
      p->nack_origins.reserve(p->in_flight.size());
      for (const auto& r : p->in_flight) {
        p->nack_names.push_back(r->name);
        p->nack_origins.push_back(r->origins);
      }
      p->in_flight.clear();
      p->awaiting_reply = false;
      MetricsFor(type).rejects->Increment();
      spdlog::warn("ads: NACK from {} for {} version {} nonce {}: {}", proxy_id, ShortType(type),
                   p->version_sent, nonce, error);
      break;
    case RequestKind::kAck:
      if (p->version_acked != p->version_sent) {
        static prometheus::Histogram* convergence =
            &Metrics::Get().proxy_convergence_time.Add({}, Metrics::TimeBuckets());
        convergence->Observe(absl::ToDoubleSeconds(absl::Now() - p->sent_at));
      }
      p->version_acked = p->version_sent;
      p->awaiting_reply = false;
      p->nack_error.clear();
      p->nack_version.clear();
      p->nack_names.clear();
      p->nack_origins.clear();
      p->in_flight.clear();
      break;
    case RequestKind::kStale:
      spdlog::debug("ads: {} {}: stale nonce {} (last sent {})", proxy_id, ShortType(type), nonce,
                    p->last_nonce);
      break;
    case RequestKind::kSubscribe:
      break;
  }
}

void RecordSent(const std::string& type, const std::string& nonce, const std::string& version,
                size_t bytes, TypeProgress* p) {
  p->sent = true;
  p->last_nonce = nonce;
  p->version_sent = version;
  p->sent_at = absl::Now();
  p->responses++;
  p->awaiting_reply = true;
  const TypeMetrics& m = MetricsFor(type);
  m.pushes->Increment();
  m.size->Observe(static_cast<double>(bytes));
}

TypeStatus StatusOf(const std::string& type, const TypeProgress& p, size_t names, bool wildcard) {
  TypeStatus t;
  t.type_url = type;
  t.names = names;
  t.wildcard = wildcard;
  t.version_sent = p.version_sent;
  t.nonce_sent = p.last_nonce;
  t.version_acked = p.version_acked;
  t.nack_error = p.nack_error;
  t.nack_version = p.nack_version;
  t.nack_names = p.nack_names;
  t.nack_origins = p.nack_origins;
  t.responses = p.responses;
  t.sent_at = p.sent_at;
  return t;
}

const std::vector<std::string>& PushOrder() {
  static const auto* order = new std::vector<std::string>{
      kClusterType, kEndpointType,        kListenerType,  kRouteType,
      kSecretType,  kExtensionConfigType, kNameTableType, kProxyConfigType};
  return *order;
}

TypeRole RoleOf(const std::string& type, uint64_t stream_id, const std::string& proxy_id) {
  if (IsReportType(type)) {
    spdlog::debug("ads: stream {}: {} report received (not answered, as istiod)", stream_id, type);
    return TypeRole::kReport;
  }
  if (IsKnownType(type)) return TypeRole::kServed;
  CountBadRequest(type.empty() ? "no_type_url" : "unknown_type");
  spdlog::warn("ads: stream {} ({}): ignoring request for unsupported type \"{}\"", stream_id,
               proxy_id, type);
  return TypeRole::kUnknown;
}

void CountBadRequest(const std::string& reason) {
  Metrics::Get().xds_bad_requests.Add({{"reason", reason}}).Increment();
}

absl::StatusOr<model::Proxy> FirstRequestProxy(bool has_node,
                                               const envoy::config::core::v3::Node& node,
                                               absl::string_view request_type, uint64_t stream_id,
                                               const std::string& peer,
                                               const std::string& identity_ns) {
  auto proxy = has_node ? ProxyFromNode(node) : absl::InvalidArgumentError("node is required");
  if (proxy.ok() && !identity_ns.empty() && proxy->ns != identity_ns) {
    CountBadRequest("identity_mismatch");
    spdlog::warn(
        "ads: stream {} from {}: node {} claims namespace {} but the caller is "
        "authenticated in {}",
        stream_id, peer, proxy->id, proxy->ns, identity_ns);
    return absl::PermissionDeniedError(
        absl::StrCat("node namespace ", proxy->ns, " does not match the caller's identity"));
  }
  if (proxy.ok()) return proxy;
  CountBadRequest("no_node");
  spdlog::warn("ads: stream {} from {}: first request rejected: {}", stream_id, peer,
               std::string(proxy.status().message()));
  return absl::InvalidArgumentError(
      absl::StrCat("first ", request_type, " must carry a node: ", proxy.status().message()));
}

}  // namespace meshd::xds
