#include "xds/server/stream.h"

#include "absl/strings/str_cat.h"
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
