// MeshConfig: the mesh-wide settings istiod reads from the `mesh` key of ConfigMap `istio`
// (mounted at /etc/istio/config/mesh), as a validated plain struct. Only the fields meshd
// applies are here; config::ParseMeshConfig names the others in warnings. Immutable once
// built; shared read-only through the Snapshot.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace meshd::model {

// An authorization extension provider (meshConfig.extensionProviders[]), the target of
// AuthorizationPolicy action CUSTOM.
struct ExtAuthzProvider {
  enum class Kind { kHttp, kGrpc };
  std::string name;
  Kind kind = Kind::kHttp;
  std::string service;  // host of the authorization service, "ns/host" or "host"
  uint32_t port = 0;
  std::optional<absl::Duration> timeout;
  bool fail_open = false;
  bool clear_route_cache = false;
  std::optional<uint32_t> status_on_error;
  std::string path_prefix;                                    // HTTP only
  std::vector<std::string> include_request_headers_in_check;  // HTTP only
  std::vector<std::string> headers_to_upstream_on_allow;      // HTTP only
  std::vector<std::string> headers_to_downstream_on_deny;     // HTTP only
  std::optional<uint32_t> include_request_body_max_bytes;     // includeRequestBodyInCheck
};

struct MeshConfig {
  std::string root_namespace = "istio-system";  // rootNamespace
  std::string trust_domain = "cluster.local";   // trustDomain
  std::vector<std::string> trust_domain_aliases;
  // exportTo of objects that set none (defaultServiceExportTo etc.); {"*"} = everywhere.
  std::vector<std::string> default_service_export_to = {"*"};
  std::vector<std::string> default_virtual_service_export_to = {"*"};
  std::vector<std::string> default_destination_rule_export_to = {"*"};
  bool outbound_registry_only = false;  // outboundTrafficPolicy.mode REGISTRY_ONLY
  bool enable_auto_mtls = true;         // enableAutoMtls
  std::vector<ExtAuthzProvider> ext_authz_providers;
  std::string ingress_class = "istio";                   // ingressClass
  std::string ingress_service = "istio-ingressgateway";  // ingressService
  std::string access_log_file;                           // accessLogFile ("" = none)
  std::optional<absl::Duration> connect_timeout;         // connectTimeout (istiod default 10s)
  std::string discovery_address;                         // defaultConfig.discoveryAddress

  const ExtAuthzProvider* FindExtAuthz(const std::string& name) const {
    for (const auto& p : ext_authz_providers) {
      if (p.name == name) return &p;
    }
    return nullptr;
  }
};

using MeshConfigPtr = std::shared_ptr<const MeshConfig>;

// The effective exportTo of an object: its own list, else the mesh default.
inline const std::vector<std::string>& EffectiveExportTo(const std::vector<std::string>& own,
                                                         const std::vector<std::string>& mesh) {
  return own.empty() ? mesh : own;
}

}  // namespace meshd::model
