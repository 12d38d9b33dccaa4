// Gateways (router nodes): listeners from the Gateway servers that select the gateway, and
// the route configurations they name ("http.<port>", "https.<port>.<portName>.<gw>.<ns>").
// Internal to the Envoy generator. Thread-safe (pure).
#pragma once

#include <string>
#include <vector>

#include "controller/model/proxy.h"
#include "controller/model/secret_access.h"
#include "controller/model/snapshot.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "xds/gen/resource.h"

namespace meshd::xds {

Resources GatewayListeners(const model::Proxy& proxy, const model::Snapshot& snapshot);
Resources GatewayRoutes(const model::Proxy& proxy, const model::Snapshot& snapshot,
                        const std::vector<std::string>& names);

// SDS over ADS for gateways: "kubernetes://<name>" (certificate and key) and
// "kubernetes://<name>-cacert" (CA for client certificates), from the Kubernetes secrets in the
// gateway's namespace, only if `access` (null: same namespace only) lets the gateway's service
// account read them, as istiod checks. Sidecars get none; a missing or withheld secret is not
// answered (Envoy waits). Depends on the proxy's service account: never cache it by view.
Resources GatewaySecrets(const model::Proxy& proxy, const model::Snapshot& snapshot,
                         const std::vector<std::string>& names,
                         model::SecretAccessChecker* access = nullptr);

// The server side of Istio's ServerTLSSettings (SIMPLE/MUTUAL/OPTIONAL_MUTUAL from files or
// `credentialName`, ISTIO_MUTUAL), as a gateway server or a Sidecar ingress listener uses it.
envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext ServerTlsContext(
    const model::ServerTls& tls);

// The routes of VirtualService `vs` for requests on `port`, appended to `vh` (defined in
// envoy_routes.cc). `gateway` is the Gateway the request came through, or null for a sidecar
// (the "mesh" gateway); it decides which matches apply.
void AppendVirtualServiceRoutes(const model::Config& vs, const model::Proxy& proxy,
                                const model::Snapshot& snapshot, uint32_t port,
                                const model::Config* gateway,
                                envoy::config::route::v3::VirtualHost* vh);

}  // namespace meshd::xds
