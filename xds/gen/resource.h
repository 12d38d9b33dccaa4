// A generated xDS resource: its name and its serialized form, packed once. Shared between
// connections by pointer; immutable.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/any.pb.h"

namespace meshd::xds {

inline constexpr char kListenerType[] = "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr char kRouteType[] = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr char kClusterType[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr char kEndpointType[] =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

// Types istio-agent asks istiod for besides the four above. meshd answers NDS, PCDS, ECDS and
// SDS (empty where it has nothing), so no request stays pending; HealthInfo is a report the
// agent sends and istiod never answers.
inline constexpr char kSecretType[] =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
inline constexpr char kExtensionConfigType[] =
    "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig";
inline constexpr char kNameTableType[] = "type.googleapis.com/istio.networking.nds.v1.NameTable";
inline constexpr char kProxyConfigType[] = "type.googleapis.com/istio.mesh.v1alpha1.ProxyConfig";
inline constexpr char kHealthInfoType[] = "type.googleapis.com/istio.v1.HealthInformation";

struct Resource {
  std::string name;
  google::protobuf::Any any;
  uint64_t hash = 0;  // of name and serialized value; equal hashes mean an unchanged resource
};

using ResourcePtr = std::shared_ptr<const Resource>;
using Resources = std::vector<ResourcePtr>;

// Short name of a type URL for logs and metrics: "lds", "rds", "cds", "eds", or the URL.
std::string ShortType(const std::string& type_url);

}  // namespace meshd::xds
