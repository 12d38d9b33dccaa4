// Mutual TLS for proxyless gRPC: which mode PeerAuthentication gives a workload port, and the
// Envoy TLS contexts that gRPC's xDS security (A29) accepts.
//
// Both sides name the certificates by the bootstrap's certificate provider instance
// ("default", the file_watcher that meshd-agent keeps current): the identity certificate via
// `tls_certificate_provider_instance`, the roots via
// `combined_validation_context.default_validation_context.ca_certificate_provider_instance`.
// Those are the fields that both gRPC C++ 1.51 and @grpc/grpc-js-xds 1.14 read (Node ignores
// the deprecated `*_certificate_provider_instance` oneofs, and rejects a server context
// without `tls_certificate_provider_instance`).
//
// Thread-safety: pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "controller/model/snapshot.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"

namespace meshd::xds {

inline constexpr char kCertProviderInstance[] = "default";
inline constexpr char kTlsTransportSocket[] = "envoy.transport_sockets.tls";

enum class MtlsMode { kPermissive, kStrict, kDisable };

const char* MtlsModeName(MtlsMode mode);

// The mode PeerAuthentication gives port `port` of a workload in namespace `ns` with `labels`,
// as istiod resolves it: the oldest workload policy whose selector matches (its port-level
// setting first), then the namespace policy, then the mesh policy in the root namespace; an
// UNSET mode inherits from the next level; nothing set means PERMISSIVE.
MtlsMode EffectiveMtlsMode(const model::Snapshot& snapshot, const std::string& ns,
                           const std::map<std::string, std::string>& labels, uint32_t port);
// The PeerAuthentications EffectiveMtlsMode reads for such a workload (workload, namespace,
// mesh; those that exist), for the origins of the inbound resources they shape.
std::vector<model::ConfigPtr> PeerAuthenticationsFor(
    const model::Snapshot& snapshot, const std::string& ns,
    const std::map<std::string, std::string>& labels);

// The SPIFFE identities of the endpoints behind `host`:`port` (optionally only those matching
// `selector`): spiffe://<trust_domain>/ns/<service namespace>/sa/<service account or "default">.
std::vector<std::string> EndpointIdentities(const model::Snapshot& snapshot,
                                            const std::string& host, uint32_t port,
                                            const std::map<std::string, std::string>& selector,
                                            const std::string& trust_domain);

// Whether every endpoint of `host`:`port` (matching `selector`) requires mTLS (STRICT), so that
// a client without a DestinationRule TLS setting must use it (Istio's auto mTLS for proxyless
// gRPC only turns on where it cannot break plaintext peers). False when there are none.
bool DestinationRequiresMtls(const model::Snapshot& snapshot, const std::string& host,
                             uint32_t port, const std::map<std::string, std::string>& selector);

// Client side: present the workload certificate, trust the mesh roots, and accept only a peer
// whose URI SAN is one of `peer_identities` (any mesh identity when empty).
envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext BuildUpstreamTlsContext(
    const std::vector<std::string>& peer_identities, const std::string& sni = "");

// Server side: present the workload certificate; with `require_client_certificate`, clients
// must present one that chains to the mesh roots (gRPC servers do not match SANs).
envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext BuildDownstreamTlsContext(
    bool require_client_certificate);

// `context` packed as an "envoy.transport_sockets.tls" transport socket.
envoy::config::core::v3::TransportSocket TlsTransportSocket(
    const google::protobuf::Message& context);

}  // namespace meshd::xds
