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

// `message` packed once as a named resource with its content hash.
ResourcePtr PackResource(const std::string& name, const google::protobuf::Message& message);

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

// What a proxy may see: the Sidecar resource that applies to it (workload selector in its
// namespace, then its namespace's default, then the root namespace's), exportTo of services
// and of configs.
struct SidecarScope {
  const model::Config* sidecar = nullptr;  // null: no Sidecar applies
  bool registry_only = false;              // outboundTrafficPolicy REGISTRY_ONLY
  // egress hosts as "<ns>/<host>" patterns; empty with a null sidecar means everything
  std::vector<std::pair<std::string, std::string>> egress_hosts;

  bool Includes(const model::Service& service) const;
};
SidecarScope ScopeFor(const model::Proxy& proxy, const model::Snapshot& snapshot);

// The services a proxy's outbound side is built from, ordered by hostname.
std::vector<const model::Service*> VisibleServices(const model::Proxy& proxy,
                                                   const model::Snapshot& snapshot,
                                                   const SidecarScope& scope);

}  // namespace meshd::xds
