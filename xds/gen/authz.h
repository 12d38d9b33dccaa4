// AuthorizationPolicy → Envoy RBAC, for Envoy sidecars' inbound chains and proxyless gRPC
// servers' inbound listeners, as istiod builds it:
//   - the policies of a workload: those of the root namespace (mesh-wide) and of its own
//     namespace whose selector matches its labels (no selector: the whole namespace). targetRef
//     policies (Gateway API) are not applied to sidecars (istiod applies them to waypoints and
//     gateways only) and are left out.
//   - one RBAC filter per action, in istiod's order: AUDIT (action LOG), CUSTOM, DENY, ALLOW.
//     Any ALLOW policy turns on default deny: a request no ALLOW rule matches is refused.
//   - one RBAC policy per rule, named "ns[<ns>]-policy[<name>]-rule[<i>]".
//   - principals "td/ns/x/sa/y" → authenticated principal "spiffe://td/ns/x/sa/y" (also for each
//     trust domain alias); `*` as presence, "a*" prefix, "*a" suffix; namespaces → principal
//     regex ".*/ns/<ns>/.*".
//   - on TCP chains, HTTP-only fields (hosts, methods, paths, requestPrincipals,
//     request.headers, request.auth.*) make an ALLOW rule never match and are dropped from a
//     DENY rule (so the DENY matches more): istiod's fail-closed rule. Each case is a warning
//     naming the policy.
// A policy that cannot be expressed for the proxy type (proxyless gRPC: requestPrincipals,
// request.auth.*, connection.sni, experimental.*, CUSTOM; CUSTOM without a known provider)
// fails closed: the workload gets a deny-all RBAC filter first and the reason is returned.
//
// Thread-safety: pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "controller/model/proxy.h"
#include "controller/model/snapshot.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace meshd::xds {

inline constexpr char kHttpRbacFilter[] = "envoy.filters.http.rbac";
inline constexpr char kNetworkRbacFilter[] = "envoy.filters.network.rbac";
// Where jwt_authn puts a validated token's payload (dynamic metadata of the jwt_authn filter);
// request.auth.* and requestPrincipals match there.
inline constexpr char kJwtAuthnFilter[] = "envoy.filters.http.jwt_authn";
inline constexpr char kJwtPayloadKey[] = "payload";

// The AuthorizationPolicies that apply to the workload behind `proxy`, ordered by
// namespace/name (root namespace first when it sorts first).
std::vector<model::ConfigPtr> AuthorizationPoliciesFor(const model::Proxy& proxy,
                                                       const model::Snapshot& snapshot);

enum class AuthzTarget { kEnvoyHttp, kEnvoyTcp, kGrpc };

struct AuthzFilters {
  std::vector<envoy::extensions::filters::network::http_connection_manager::v3::HttpFilter> http;
  std::vector<envoy::config::listener::v3::Filter> network;
  // Rules changed or dropped for this target (warnings), each naming the policy.
  std::vector<std::string> warnings;
  // Why the workload fails closed (deny-all first), each naming the policy; empty when not.
  std::vector<std::string> errors;
  bool empty() const { return http.empty() && network.empty(); }
};

// The authorization filters for one inbound chain of the workload behind `proxy`.
// `trust_domain_aliases` are MeshConfig's (principals in any of them and the snapshot's trust
// domain are equivalent).
AuthzFilters BuildAuthzFilters(const model::Proxy& proxy, const model::Snapshot& snapshot,
                               AuthzTarget target,
                               const std::vector<std::string>& trust_domain_aliases = {});

// Inserts the authorization filters into every inbound chain of an Envoy virtualInbound
// listener: HTTP filters (jwt_authn, then RBAC) before the router of each HTTP connection
// manager, network RBAC before each tcp_proxy.
void AppendInboundAuthzFilters(const model::Proxy& proxy, const model::Snapshot& snapshot,
                               envoy::config::listener::v3::Listener* listener);

// Inserts the RBAC HTTP filters before the router of a proxyless gRPC server listener's HCM.
void AppendGrpcServerAuthzFilters(
    const model::Proxy& proxy, const model::Snapshot& snapshot,
    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager* hcm);

}  // namespace meshd::xds
