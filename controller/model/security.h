// The validated, plain form of the security policy kinds the generators read:
// PeerAuthentication, AuthorizationPolicy and RequestAuthentication. `config::ToModel` builds
// them once, when an object is decoded and validated; the generators (xds/gen/tls.h,
// xds/gen/authz.h, xds/gen/jwt_authn.h) never read the wire protos. Ports are numbers, actions are
// our enum, list order is kept (it shows in policy names and /debug output).
//
// Values are immutable once built and shared through model::Config; thread-safe to read.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace meshd::model {

// A policy's targetRef(s) entry (Gateway API style).
struct PolicyTargetRef {
  std::string group;
  std::string kind;
  std::string name;
  std::string ns;  // empty: the policy's namespace
};

struct AuthzSource {
  std::vector<std::string> principals, not_principals;
  std::vector<std::string> request_principals, not_request_principals;
  std::vector<std::string> namespaces, not_namespaces;
  std::vector<std::string> ip_blocks, not_ip_blocks;
  std::vector<std::string> remote_ip_blocks, not_remote_ip_blocks;
};

struct AuthzOperation {
  std::vector<std::string> hosts, not_hosts;
  std::vector<uint32_t> ports, not_ports;
  std::vector<std::string> methods, not_methods;
  std::vector<std::string> paths, not_paths;
};

struct AuthzCondition {
  std::string key;  // "request.headers[x-foo]", "source.ip", ...
  std::vector<std::string> values;
  std::vector<std::string> not_values;
};

// A rule matches when every section matches: any `from` (or none given), any `to` (or none
// given), and every `when`.
struct AuthzRule {
  std::vector<AuthzSource> from;
  std::vector<AuthzOperation> to;
  std::vector<AuthzCondition> when;
};

struct AuthorizationPolicy {
  enum class Action { kAllow, kDeny, kAudit, kCustom };
  Action action = Action::kAllow;
  // matchLabels; nullopt when no selector is written (every workload of the namespace).
  std::optional<std::map<std::string, std::string>> selector;
  std::vector<PolicyTargetRef> target_refs;  // targetRef and targetRefs, in that order
  std::string provider;                      // CUSTOM only: MeshConfig extension provider name
  std::vector<AuthzRule> rules;
};

struct JwtHeader {
  std::string name;
  std::string prefix;
};

struct JwtRule {
  std::string issuer;
  std::vector<std::string> audiences;
  std::string jwks_uri;
  std::string jwks;  // inline JWKS
  std::vector<JwtHeader> from_headers;
  std::vector<std::string> from_params;
  std::vector<std::string> from_cookies;
  std::string output_payload_to_header;
  bool forward_original_token = false;
  std::vector<std::pair<std::string, std::string>> output_claim_to_headers;  // header, claim
  std::optional<absl::Duration> timeout;
};

struct RequestAuthentication {
  std::optional<std::map<std::string, std::string>> selector;
  std::vector<PolicyTargetRef> target_refs;
  std::vector<JwtRule> jwt_rules;
};

struct PeerAuthentication {
  // Istio's MutualTLS.Mode; UNSET inherits from the level above (port → workload → namespace
  // → mesh), as istiod resolves it.
  enum class Mode { kUnset, kDisable, kPermissive, kStrict };
  // matchLabels; nullopt when no selector is written. An empty one selects like none.
  std::optional<std::map<std::string, std::string>> selector;
  Mode mode = Mode::kUnset;                  // mtls.mode; no `mtls` is UNSET
  std::map<uint32_t, Mode> port_level_mtls;  // portLevelMtls, by workload port

  // Whether a non-empty selector is written (a workload policy, not a namespace or mesh one).
  bool SelectsWorkloads() const { return selector.has_value() && !selector->empty(); }
};

const char* ActionName(AuthorizationPolicy::Action action);

}  // namespace meshd::model
