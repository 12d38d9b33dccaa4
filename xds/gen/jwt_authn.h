// RequestAuthentication → Envoy's `envoy.filters.http.jwt_authn`, placed before the RBAC
// filters on a sidecar's inbound HTTP chains.
//
// The RequestAuthentications of a workload are those of the root namespace and of its own
// namespace whose selector matches its labels (targetRef ones are for waypoints/gateways and
// are left out, as istiod does for sidecars). One provider per jwtRule ("origins-<i>", in
// namespace/name/rule order), each writing the validated payload into dynamic metadata
// (kJwtAuthnFilter / kJwtPayloadKey, read by the RBAC matchers of authz.h). One requirement
// for every request: any provider, or a missing token (istiod's semantics: a present but
// invalid token → 401; no token → allowed, and an ALLOW policy with requestPrincipals refuses
// it later).
//
// JWKS: an inline `jwks` → local_jwks. istiod fetches a jwksUri itself and inlines the keys;
// meshd does not fetch: a jwksUri whose host is a registry service uses that service's
// outbound cluster (remote_jwks); any other jwksUri gets an empty key set, so every token
// from that issuer fails (401) rather than being trusted, and a warning says so.
//
// Thread-safety: pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "controller/model/proxy.h"
#include "controller/model/snapshot.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace meshd::xds {

// The RequestAuthentications that apply to the workload behind `proxy`.
std::vector<model::ConfigPtr> RequestAuthenticationsFor(const model::Proxy& proxy,
                                                        const model::Snapshot& snapshot);

// The jwt_authn filter (zero or one) for the workload; `warnings` (optional) receives one line
// per jwksUri meshd cannot serve.
std::vector<envoy::extensions::filters::network::http_connection_manager::v3::HttpFilter>
JwtAuthnFilters(const model::Proxy& proxy, const model::Snapshot& snapshot,
                std::vector<std::string>* warnings = nullptr);

}  // namespace meshd::xds
