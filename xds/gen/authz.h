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
//   - CUSTOM (ext_authz) as istiod: an RBAC filter whose shadow rules are the CUSTOM rules
//     (policies "istio-ext-authz-ns[..]-policy[..]-rule[i]", shadow_rules_stat_prefix
//     "istio_ext_authz_"), so it only tags the request in its dynamic metadata, followed by the
//     ext_authz filter of the MeshConfig extension provider, enabled by that tag
//     (filter_enabled_metadata): only requests the CUSTOM rules select are sent to the
//     provider. HTTP chains: envoy.filters.http.ext_authz (http_service or grpc_service); TCP
//     chains: envoy.filters.network.ext_authz (gRPC providers only). One provider per workload.
// A policy that cannot be expressed for the proxy type (proxyless gRPC: requestPrincipals,
// request.auth.*, connection.sni, experimental.*, CUSTOM; CUSTOM with an unknown provider, a
// provider whose service is not in the registry, an HTTP provider on TCP chains, a second
// provider) fails closed: the workload gets a deny-all RBAC filter first and the reason is
// returned. Each reason is logged once per (policy, proxy type, reason) and counted in
// meshd_authz_fail_closed_total; AuthzFailClosedReasons lists them for /debug/configz.
//
// Thread-safety: all functions are thread-safe (the log-once set is guarded by a mutex; the rest
// are pure functions).
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
inline constexpr char kHttpExtAuthzFilter[] = "envoy.filters.http.ext_authz";
inline constexpr char kNetworkExtAuthzFilter[] = "envoy.filters.network.ext_authz";
// CUSTOM rules tag a request in the RBAC filter's dynamic metadata (under the filter's canonical
// name, key <prefix>shadow_effective_policy_id = the matched policy); ext_authz runs when the
// tag starts with kExtAuthzPolicyPrefix.
inline constexpr char kExtAuthzShadowStatPrefix[] = "istio_ext_authz_";
inline constexpr char kExtAuthzShadowPolicyKey[] = "istio_ext_authz_shadow_effective_policy_id";
inline constexpr char kExtAuthzPolicyPrefix[] = "istio-ext-authz";

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
  // The policy ("namespace/name") behind each entry of `errors`, same index.
  std::vector<std::string> failed_policies;
  bool empty() const { return http.empty() && network.empty(); }
};

// The authorization filters for one inbound chain of the workload behind `proxy`.
// `trust_domain_aliases` are MeshConfig's (principals in any of them and the snapshot's trust
// domain are equivalent).
AuthzFilters BuildAuthzFilters(const model::Proxy& proxy, const model::Snapshot& snapshot,
                               AuthzTarget target,
                               const std::vector<std::string>& trust_domain_aliases = {});

// Why `policy` (an AuthorizationPolicy) makes the workloads it selects fail closed, by proxy
// type: "not applied to Envoy sidecars (HTTP): <reason>", "... (TCP): ...", "not applied to
// proxyless gRPC: ...". Reasons that come from combining policies (two CUSTOM providers on one
// workload) are not seen here. Empty when the policy translates everywhere.
std::vector<std::string> AuthzFailClosedReasons(const model::Config& policy,
                                                const model::Snapshot& snapshot);

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
