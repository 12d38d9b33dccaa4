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
