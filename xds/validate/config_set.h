// Semantic cross-checks over a full set of Envoy resources (LDS, RDS, CDS, EDS): what Envoy
// rejects, or what leaves a sidecar half-configured, that no per-field PGV annotation catches.
//
// CheckConfigSet reports, each error prefixed with `<kind> "<resource name>": <field path>: `:
//  listeners
//   - duplicate listener names; two listeners bound (bind_to_port, default true) to the same
//     protocol + ip:port (port 0 excluded)
//   - a listener with neither filter_chains nor default_filter_chain (api_listener excepted)
//   - two filter_chains whose filter_chain_match is identical, or overlapping (they share one
//     combination of destination port, prefix range, server name, transport protocol,
//     application protocol, direct source / source range, source type and source port: the
//     condition under which Envoy's filter chain matcher refuses the listener)
//   - a network filter chain whose terminal filter (http_connection_manager, tcp_proxy,
//     direct_response, ...) is not last, or whose last filter is not terminal
//   - an HttpConnectionManager whose http_filters do not end with the router, or have the
//     router before the end
//   - a chain matching server_names or transport_protocol "tls" without the tls_inspector
//     listener filter; a chain matching application_protocols with neither tls_inspector nor
//     http_inspector. (Envoy itself injects a missing tls_inspector with a warning and lets an
//     un-inspected application_protocols match never fire; meshd must configure them.)
//   - an HCM `rds.route_config_name` absent from RDS; an inline route_config is checked like RDS
//   - tcp_proxy clusters (cluster / weighted_clusters) absent from CDS
//  route configurations
//   - duplicate route configuration names, duplicate virtual host names, and a domain that
//     appears twice (compared case-insensitively, as Envoy does) in one RouteConfiguration
//   - weighted_clusters whose weights sum to 0 or beyond uint32, or whose total_weight (when
//     set) differs from the sum
//   - clusters named by routes (cluster, weighted_clusters, request_mirror_policies of routes
//     and virtual hosts) absent from CDS
//  clusters and endpoints
//   - duplicate cluster names, duplicate ClusterLoadAssignment cluster_names
//   - an EDS cluster whose service (eds_cluster_config.service_name, else its name) has no
//     ClusterLoadAssignment
//   - duplicate transport_socket_matches names within a cluster
//
// ValidateConfigSet = ValidateResource on every resource (same prefix) + CheckConfigSet.
// All functions are thread-safe (pure).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "xds/gen/resource.h"

namespace meshd::xds {

struct EnvoyConfigSet {
  std::vector<envoy::config::listener::v3::Listener> listeners;
  std::vector<envoy::config::route::v3::RouteConfiguration> routes;
  std::vector<envoy::config::cluster::v3::Cluster> clusters;
  std::vector<envoy::config::endpoint::v3::ClusterLoadAssignment> endpoints;
};

// Unpacks resources of the four types (any mix, any order) into a set. A resource of another
// type, or one whose bytes do not parse, is InvalidArgument naming the resource.
absl::StatusOr<EnvoyConfigSet> ConfigSetFromResources(const Resources& resources);

// Adds one packed resource (by its type URL) to `set`; errors as ConfigSetFromResources.
absl::Status AddResource(const google::protobuf::Any& any, EnvoyConfigSet& set);

// The semantic cross-checks listed above. Empty means consistent.
std::vector<std::string> CheckConfigSet(const EnvoyConfigSet& set);

// Every resource through ValidateResource, then CheckConfigSet.
std::vector<std::string> ValidateConfigSet(const EnvoyConfigSet& set);

}  // namespace meshd::xds
