// Pieces the Envoy generator's parts share (listeners, routes, clusters): packing, config
// sources, SDS, protocols, and what of the mesh a sidecar may see (Sidecar scoping). Internal
// to xds/gen. Thread-safe (pure).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "controller/model/proxy.h"
#include "controller/model/snapshot.h"
#include "envoy/config/core/v3/config_source.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "google/protobuf/duration.pb.h"
#include "xds/gen/resource.h"

namespace meshd::xds {

// `message` packed once as a named resource with its content hash and the config objects it
// was built from.
ResourcePtr PackResource(const std::string& name, const google::protobuf::Message& message,
                         Origins origins = nullptr);

// config_source { ads {} resource_api_version: V3 }
void SetAdsSource(envoy::config::core::v3::ConfigSource* source);

// An SDS secret served by the agent on the "sds-grpc" cluster ("default", "ROOTCA").
envoy::extensions::transport_sockets::tls::v3::SdsSecretConfig AgentSdsSecret(
    const std::string& name);

// Istio mesh mTLS, client side: certificate "default", roots "ROOTCA", peer SANs (any mesh
// identity when empty), SNI and ALPN as istiod sets them.
envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext IstioMtlsUpstream(
    const std::vector<std::string>& sans, const std::string& sni, bool http2);
// Server side: "default" + client certificate required and verified against "ROOTCA".
envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext IstioMtlsDownstream(bool http);

google::protobuf::Duration Seconds(int64_t seconds);

// Protocols by Istio's port protocol names.
bool IsHttpProtocol(const std::string& protocol);   // HTTP, HTTP2, GRPC, GRPC-WEB
bool IsHttp2Protocol(const std::string& protocol);  // HTTP2, GRPC

// The service's VIP, or "" (no address, or 0.0.0.0 / headless).
std::string ServiceVip(const model::Service& service);

// One `egress` listener of a Sidecar: its hosts ("<ns>/<host>", "." resolved), and for a
// port-specific listener the port (its protocol wins over the services'), and the bind address.
struct EgressListener {
  uint32_t port = 0;          // 0: the catch-all listener (every port no other listener claims)
  std::string protocol;       // the listener port's protocol, with a port
  std::string bind;           // "": istiod's default (0.0.0.0 for HTTP, the VIP for TCP)
  bool capture_none = false;  // captureMode NONE: the listener binds its address
  std::vector<std::pair<std::string, std::string>> hosts;

  bool Includes(const model::Service& service) const;
};

// One `ingress` listener of a Sidecar: replaces the inbound side built from the workload's
// service ports (istiod: a Sidecar with ingress listeners defines the inbound ports).
struct IngressListener {
  uint32_t port = 0;
  std::string protocol;  // port.protocol ("HTTP", "TCP", ...)
  std::string bind;      // "": the proxy's IP when the listener binds
  bool capture_none = false;
  std::string default_endpoint;  // "127.0.0.1:<p>", "0.0.0.0:<p>", "unix://...", "": passthrough
  const model::ServerTls* tls = nullptr;  // into the snapshot's Sidecar; null: mesh mTLS
};

// What a proxy may see: the Sidecar resource that applies to it (workload selector in its
// namespace, then its namespace's default, then the root namespace's), exportTo of services
// and of configs.
struct SidecarScope {
  const model::Config* sidecar = nullptr;  // null: no Sidecar applies
  bool registry_only = false;              // outboundTrafficPolicy REGISTRY_ONLY
  // egress hosts as "<ns>/<host>" patterns; empty with a null sidecar means everything
  std::vector<std::pair<std::string, std::string>> egress_hosts;
  std::vector<EgressListener> egress;    // as written; empty: one catch-all over everything
  std::vector<IngressListener> ingress;  // empty: inbound from the workload's services

  bool Includes(const model::Service& service) const;
  // The egress listener that serves port `port` on `bind` ("" or "0.0.0.0": the default bind):
  // a port-specific listener on that port and bind, else the catch-all. Null when the Sidecar
  // has egress listeners but none serves the port (nothing is visible there). With no Sidecar
  // egress, returns the implicit catch-all (hosts empty: everything).
  const EgressListener* EgressFor(uint32_t port, const std::string& bind) const;
  // Ports claimed by port-specific egress listeners (the catch-all does not serve them).
  bool PortClaimed(uint32_t port) const;
};
SidecarScope ScopeFor(const model::Proxy& proxy, const model::Snapshot& snapshot);

// The services a proxy's outbound side is built from, ordered by hostname.
std::vector<const model::Service*> VisibleServices(const model::Proxy& proxy,
                                                   const model::Snapshot& snapshot,
                                                   const SidecarScope& scope);

// The port of `service` an egress listener on `port` reaches: the port of that number, else
// (for a port-specific listener) the service's only port, else null.
const model::ServicePort* EgressServicePort(const model::Service& service, uint32_t port,
                                            bool port_specific);

}  // namespace meshd::xds
