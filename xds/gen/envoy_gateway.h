// Gateways (router nodes): listeners from the Gateway servers that select the gateway, and
// the route configurations they name ("http.<port>", "https.<port>.<portName>.<gw>.<ns>").
// Internal to the Envoy generator. Thread-safe (pure).
#pragma once

#include <string>
#include <vector>

#include "controller/model/proxy.h"
#include "controller/model/snapshot.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "xds/gen/resource.h"

namespace meshd::xds {

Resources GatewayListeners(const model::Proxy& proxy, const model::Snapshot& snapshot);
Resources GatewayRoutes(const model::Proxy& proxy, const model::Snapshot& snapshot,
                        const std::vector<std::string>& names);

// SDS over ADS for gateways: "kubernetes://<name>" (certificate and key) and
// "kubernetes://<name>-cacert" (CA for client certificates), from the Kubernetes secrets in the
// gateway's namespace. Sidecars get none; a missing secret is not answered (Envoy waits).
Resources GatewaySecrets(const model::Proxy& proxy, const model::Snapshot& snapshot,
                         const std::vector<std::string>& names);

// The routes of VirtualService `vs` for requests on `port`, appended to `vh` (defined in
// envoy_routes.cc). `gateway` is the Gateway the request came through, or null for a sidecar
// (the "mesh" gateway); it decides which matches apply.
void AppendVirtualServiceRoutes(const model::Config& vs, const model::Proxy& proxy,
                                const model::Snapshot& snapshot, uint32_t port,
                                const model::Config* gateway,
                                envoy::config::route::v3::VirtualHost* vh);

}  // namespace meshd::xds
