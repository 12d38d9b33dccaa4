// Inbound listeners for xDS-managed gRPC servers (grpc::XdsServerBuilder), named as Istio's
// grpcgen names them: "xds.istio.io/grpc/lds/inbound/<ip>:<port>" (the agent's bootstrap sets
// server_listener_resource_name_template to "xds.istio.io/grpc/lds/inbound/%s").
//
// One filter chain: HttpConnectionManager with an inline route configuration whose only route
// is a non_forwarding_action (the server handles the RPC itself) and the router filter. Its
// transport socket follows PeerAuthentication for the proxy's namespace, labels and the port:
// STRICT → DownstreamTlsContext requiring a client certificate; PERMISSIVE and DISABLE →
// plaintext. gRPC's filter-chain match cannot tell TLS from plaintext (only
// transport_protocol "raw_buffer" is understood), so PERMISSIVE serves plaintext, as istiod's
// grpcgen does; clients only turn on mTLS automatically for STRICT destinations.
//
// Thread-safety: pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "controller/model/proxy.h"
#include "controller/model/snapshot.h"
#include "xds/gen/resource.h"

namespace meshd::xds {

inline constexpr char kInboundListenerPrefix[] = "xds.istio.io/grpc/lds/inbound/";

// "xds.istio.io/grpc/lds/inbound/10.0.0.1:8080" → ip, port. IPv6 may be bracketed.
bool ParseInboundListenerName(const std::string& name, std::string* ip, uint32_t* port);

// The inbound listeners named in `names` (names of another shape are left out).
Resources ServerListeners(const model::Proxy& proxy, const model::Snapshot& snapshot,
                          const std::vector<std::string>& names);

}  // namespace meshd::xds
