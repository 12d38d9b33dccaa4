// Envoy RBAC evaluation for the offline simulator (and for tests of the proxyless gRPC server
// listener, whose RBAC filters gRPC evaluates the same way): one connection or request's
// attributes in, the filter's verdict and the policy that decided it out.
//
// Modeled: any, and/or/not ids and rules, authenticated principal_name, direct_remote_ip,
// remote_ip, header (string_match, present_match, invert), url_path, destination_ip,
// destination_port(_range), requested_server_name, and metadata on the jwt_authn payload. Anything
// else is an error, never a silent match.
//
// Thread-safety: pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "envoy/config/rbac/v3/rbac.pb.h"

namespace meshd::xds::sim {

struct RbacInput {
  std::string principal;  // the peer certificate's URI SAN; empty without mTLS
  std::string direct_remote_ip;
  std::string remote_ip;  // the client as XFF says; defaults to direct_remote_ip when empty
  std::string destination_ip;
  uint32_t destination_port = 0;
  std::string sni;
  bool http = false;
  std::string path;                                          // without the query string
  std::vector<std::pair<std::string, std::string>> headers;  // incl. :method, :authority
  // The validated JWT payload (jwt_authn metadata); nested claims as "a.b". Null: no token.
  const std::map<std::string, std::vector<std::string>>* jwt_payload = nullptr;
};

struct RbacVerdict {
  bool allowed = true;
  std::string policy;  // the matching policy, "" when none matched
  std::string error;   // a matcher the evaluator does not model
};

RbacVerdict EvaluateRbac(const envoy::config::rbac::v3::RBAC& rbac, const RbacInput& input);

}  // namespace meshd::xds::sim
