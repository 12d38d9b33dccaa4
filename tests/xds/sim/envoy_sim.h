// An offline Envoy traffic simulator for tests: given Envoy v3 xDS resources (Listeners,
// RouteConfigurations, Clusters, ClusterLoadAssignments) and one request, walks
// listener -> filter chain -> network filter -> route configuration -> virtual host -> route ->
// cluster -> endpoints the way Envoy matches, and reports every step. Tests assert routing
// intent ("reviews:9080 with end-user=jason goes to the v2 cluster") instead of proto shapes.
//
// What it models and what it does not: see tests/README.md. Errors in the configuration (a
// missing route configuration, an unknown cluster, an invalid regex) are results with a
// reason, never crashes.
//
// Thread-safety: a Mesh is filled by its Add* functions from one thread; once filled,
// Simulate() is const and may be called from any number of threads. Result is a plain value.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "xds/gen/resource.h"

namespace meshd::xds::sim {

class Walker;

// How the connection reaches Envoy.
enum class Entry {
  // The app dialed destination_ip:destination_port; iptables captured it to the listener on
  // 15001 (`virtualOutbound`, use_original_dst), which hands it to the listener bound to the
  // exact ip:port, else to 0.0.0.0:port (:: for IPv6), else keeps it on its own chains.
  kOutbound,
  // A peer dialed this pod's destination_ip:destination_port; iptables captured it to the
  // listener on 15006 (`virtualInbound`), whose chains match the original destination.
  kInbound,
  // Gateways (no capture): the listener bound to destination_ip:port, else 0.0.0.0:port.
  kDirect,
};

struct Request {
  Entry entry = Entry::kOutbound;
  std::string destination_ip;  // what the client dialed: a service VIP, a pod IP
  uint32_t destination_port = 0;
  std::string source_ip = "10.0.0.1";
  uint32_t source_port = 40000;

  // What Envoy's listener filters detect: tls_inspector sets "tls"/"raw_buffer", the SNI and
  // the client's ALPN list (in the client's order); http_inspector sets "http/1.1" or "h2c"
  // for plaintext HTTP. Set alpn yourself where the listener relies on http_inspector.
  std::string transport_protocol = "raw_buffer";
  std::string sni;
  std::vector<std::string> alpn;

  // HTTP, used when the filter chain ends in an HTTP connection manager.
  std::string authority;   // Host / :authority; empty means "<destination_ip>:<destination_port>"
  std::string path = "/";  // may carry a query string
  std::string method = "GET";
  std::string scheme = "http";
  std::vector<std::pair<std::string, std::string>> headers;  // names case-insensitive

  // Security, for RBAC and jwt_authn. The client certificate's URI SAN, seen only when the
  // chain terminates TLS ("spiffe://cluster.local/ns/default/sa/client").
  std::string peer_principal;
  // A JWT the request carries, as jwt_authn would see it: the payload of a token it validates
  // when its "iss" is one of the filter's providers' issuers (nested claims as "a.b"); with
  // jwt_invalid, a token that fails validation. Empty and false: no token.
  std::map<std::string, std::vector<std::string>> jwt_payload;
  bool jwt_invalid = false;
  // What an ext_authz provider answers when an ext_authz filter asks it: true allow, false deny
  // (403); unset: the provider does not answer (the filter's failure_mode_allow decides, and
  // status_on_error, default 403, when it does not allow).
  std::optional<bool> ext_authz_allow;

  // An outbound HTTP request from a sidecar's app to ip:port with the given Host.
  static Request OutboundHttp(std::string ip, uint32_t port, std::string authority,
                              std::string path = "/");
  // An outbound TCP connection from a sidecar's app to ip:port.
  static Request OutboundTcp(std::string ip, uint32_t port);
  // A connection arriving at this pod's ip:port (captured to virtualInbound).
  static Request Inbound(std::string ip, uint32_t port);
  // A connection straight to a gateway's listener.
  static Request Direct(std::string ip, uint32_t port);
  Request& WithHeader(std::string name, std::string value);
};

enum class Decision {
  kRoute,           // HTTP forwarded to cluster(s): clusters holds one or the weighted split
  kTcp,             // tcp_proxy to cluster(s)
  kRedirect,        // HTTP redirect: redirect
  kDirectResponse,  // HTTP direct response: direct_response
  kNotFound,        // HTTP 404: no virtual host, no route, missing cluster header
  kDropped,         // connection closed: no filter chain matched, or a black-hole cluster
  kError,           // configuration not consistent: missing listener / RDS / cluster / CLA ...
  kDenied,  // refused by RBAC (HTTP 403, TCP closed) or jwt_authn (401): authz_filter says which
};
const char* DecisionName(Decision decision);

// The transport socket Envoy uses towards one endpoint.
struct UpstreamTransport {
  std::string match_name;  // transport_socket_matches entry that chose it; "" = the cluster's
  std::string name;        // transport socket name, "" when none (plaintext)
  bool tls = false;
  std::string sni;
  std::vector<std::string> sds_secrets;  // certificate secrets, then the validation secret
  std::vector<std::string> alpn;
};

struct Endpoint {
  std::string address;  // "ip:port", "[v6]:port", or a pipe path / internal listener name
  std::string hostname;
  std::string locality;          // "region/zone/sub_zone"
  uint32_t weight = 1;           // endpoint load_balancing_weight (default 1)
  uint32_t locality_weight = 0;  // 0 = unset
  std::string health;            // HealthStatus name, "UNKNOWN" by default
  UpstreamTransport transport;
};

struct Priority {
  uint32_t priority = 0;
  std::vector<Endpoint> endpoints;
};

struct ClusterInfo {
  std::string name;
  bool found = false;
  std::string type;       // "EDS", "STATIC", "STRICT_DNS", "LOGICAL_DNS", "ORIGINAL_DST", or custom
  std::string lb_policy;  // LbPolicy name, e.g. "LEAST_REQUEST"
  std::string eds_service_name;       // the ClusterLoadAssignment looked up (EDS)
  std::vector<Priority> priorities;   // ascending: the first is where healthy traffic goes
  bool original_destination = false;  // ORIGINAL_DST: forwards to the original destination
  bool black_hole = false;            // not EDS and no endpoints: the connection is dropped
  UpstreamTransport transport;        // the cluster's default transport socket
  std::string error;                  // "unknown cluster X", "no ClusterLoadAssignment for X"
};

struct Target {
  std::string cluster;
  uint32_t weight = 1;
  double share = 1.0;  // weight / total weight
  ClusterInfo info;
};

struct RetryInfo {
  bool present = false;
  std::string retry_on;
  uint32_t num_retries = 0;
  absl::Duration per_try_timeout = absl::ZeroDuration();  // zero = unset
};

struct MirrorInfo {
  std::string cluster;
  double percent = 100.0;
};

struct FaultInfo {
  bool present = false;
  bool abort = false;
  uint32_t abort_http_status = 0;
  uint32_t abort_grpc_status = 0;
  double abort_percent = 0;
  bool delay = false;
  absl::Duration delay_duration = absl::ZeroDuration();
  double delay_percent = 0;
};

struct HeaderChange {
  std::string name;
  std::string value;
  bool append = false;  // append to an existing value (vs. overwrite / add if absent)
  std::string level;    // "route", "virtual_host", "route_configuration"
};

struct RedirectInfo {
  uint32_t status = 301;
  std::string scheme;    // after https_redirect / scheme_redirect
  std::string host;      // after host_redirect / port_redirect
  std::string path;      // after path_redirect / prefix_rewrite / regex_rewrite / strip_query
  std::string location;  // scheme://host path
};

struct DirectResponseInfo {
  uint32_t status = 0;
  std::string body;
};

struct Result {
  Decision decision = Decision::kError;
  std::string reason;        // why it was not forwarded (empty when forwarded)
  uint32_t http_status = 0;  // 404, 503, redirect or direct response status; 0 when forwarded

  // The walk, each step named as in the configuration ("#3" for an unnamed chain or route).
  std::string entry_listener;  // virtualOutbound / virtualInbound / the gateway listener
  std::string listener;        // after the original-destination hand-off
  std::string filter_chain;
  bool default_filter_chain = false;
  bool downstream_tls = false;               // the chain terminates TLS
  std::vector<std::string> network_filters;  // in order, up to and including the terminal one
  std::vector<std::string> http_filters;
  // kDenied: the filter that refused ("envoy.filters.http.rbac", ...) and the RBAC policy that
  // matched ("" when an ALLOW filter matched none: default deny).
  std::string authz_filter;
  std::string authz_policy;
  // The ext_authz providers asked, by their cluster, in order (an ext_authz filter whose
  // filter_enabled_metadata did not match asks nobody).
  std::vector<std::string> ext_authz_checked;
  std::string route_config;
  std::string virtual_host;
  std::string route;

  // kRoute / kTcp (and kDropped by a black-hole cluster): one target, or the weighted split.
  std::vector<Target> clusters;
  std::string upstream_authority;              // after host rewrites
  std::string upstream_path;                   // after prefix / regex rewrites
  absl::Duration timeout = absl::Seconds(15);  // Envoy's default; zero = disabled
  bool timeout_set = false;                    // the route set a timeout
  RetryInfo retry;
  std::vector<MirrorInfo> mirrors;
  bool hash_policy = false;
  FaultInfo fault;
  bool cors = false;
  std::vector<HeaderChange> request_headers_added;
  std::vector<std::string> request_headers_removed;
  RedirectInfo redirect;
  DirectResponseInfo direct_response;

  std::vector<std::string> trace;  // one line per step

  // Forwarded somewhere, answered by a redirect or a direct response.
  bool ok() const;
  // The cluster when exactly one target, else "".
  std::string cluster() const;
  // Cluster name -> share of traffic (sums to 1 when forwarded), exactly from the weights.
  std::map<std::string, double> Distribution() const;
  // The cluster Envoy picks for a random value: value % total weight walked over the targets
  // in order. Returns "" when there is no target.
  std::string WeightedPick(uint64_t random_value) const;
  // A multi-line trace of every step, for failure messages.
  std::string ToString() const;
};

class Mesh {
 public:
  // Adds resources by their Any type URL (LDS, RDS, CDS, EDS); a resource of another type is
  // an error, as is one that does not unpack. Later resources replace earlier ones by name.
  absl::Status AddResources(const Resources& resources);
  void AddListener(const envoy::config::listener::v3::Listener& listener);
  void AddRouteConfiguration(const envoy::config::route::v3::RouteConfiguration& route);
  void AddCluster(const envoy::config::cluster::v3::Cluster& cluster);
  void AddClusterLoadAssignment(const envoy::config::endpoint::v3::ClusterLoadAssignment& cla);

  Result Simulate(const Request& request) const;

  // Resolves one cluster by name as Simulate does (for tests on clusters alone).
  ClusterInfo ResolveCluster(const std::string& name, const Request& request) const;

 private:
  friend class Walker;  // the simulation steps (envoy_sim.cc)

  std::map<std::string, envoy::config::listener::v3::Listener> listeners_;
  std::map<std::string, envoy::config::route::v3::RouteConfiguration> routes_;
  std::map<std::string, envoy::config::cluster::v3::Cluster> clusters_;
  std::map<std::string, envoy::config::endpoint::v3::ClusterLoadAssignment> endpoints_;
};

}  // namespace meshd::xds::sim
