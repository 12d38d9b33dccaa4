// The validated, plain form of the networking kinds meshd reads: VirtualService,
// DestinationRule, Gateway, ServiceEntry, WorkloadEntry and Sidecar. `config::ToModel` builds
// them once, when an object is decoded and validated, so every generator (proxyless gRPC,
// Envoy), the registry and the push scope read the same meaning of a weight, a match, a
// resolution or a selector, and none of them casts wire protos. Units are resolved here:
// durations are absl::Duration, percentages are 0..100 doubles, enums are ours (their defaults
// are Istio's: the zero value of Istio's enum). Strings are kept as written (port protocols
// too); optional marks fields where "unset" means something else than the default.
//
// Values are immutable once built and shared through model::Config; thread-safe to read.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "controller/model/service.h"

namespace meshd::model {

// Istio's StringMatch. kAny is the empty match `{}` (header present, any URI).
struct StringMatch {
  enum class Type { kAny, kExact, kPrefix, kRegex };
  Type type = Type::kAny;
  std::string value;

  friend bool operator==(const StringMatch& a, const StringMatch& b) {
    return a.type == b.type && a.value == b.value;
  }
};

struct NamedMatch {
  std::string name;  // header or query parameter name (headers lower-cased, as Istio)
  StringMatch match;
};

struct HttpMatch {
  std::string name;
  std::optional<StringMatch> uri;
  std::optional<StringMatch> scheme;
  std::optional<StringMatch> method;
  std::optional<StringMatch> authority;
  std::vector<NamedMatch> headers;          // sorted by name
  std::vector<NamedMatch> without_headers;  // sorted by name
  std::vector<NamedMatch> query_params;     // sorted by name
  uint32_t port = 0;                        // 0: any
  std::map<std::string, std::string> source_labels;
  std::vector<std::string> gateways;  // empty: the VirtualService's gateways apply
  std::string source_namespace;
  bool ignore_uri_case = false;
};

// A destination as written; `host` may be a short name, resolved against the namespace of the
// config that names it (Snapshot::ResolveShortName).
struct Destination {
  std::string host;
  std::string subset;
  uint32_t port = 0;  // 0: the port of the request (or the service's only port)
};

struct HeaderOperations {
  std::vector<std::pair<std::string, std::string>> set;  // sorted by name
  std::vector<std::pair<std::string, std::string>> add;  // sorted by name
  std::vector<std::string> remove;
  bool empty() const { return set.empty() && add.empty() && remove.empty(); }
};

struct HeaderRules {
  HeaderOperations request;
  HeaderOperations response;
  bool empty() const { return request.empty() && response.empty(); }
};

struct WeightedDestination {
  Destination destination;
  // Istio: with one destination the weight is 100 whatever is written; with several, the
  // weights as written (validation requires them to sum to 100 or all be 0 → equal split).
  uint32_t weight = 100;
  HeaderRules headers;
};

struct Redirect {
  std::string uri;
  std::string authority;
  std::string scheme;
  uint32_t port = 0;
  bool port_from_request = false;
  uint32_t code = 301;
};

struct DirectResponse {
  uint32_t status = 0;
  std::string body;
};

struct Rewrite {
  std::string uri;  // prefix rewrite (replaces the matched prefix / exact path)
  std::string authority;
  std::string regex_match;  // uriRegexRewrite
  std::string regex_rewrite;
};

struct Retry {
  uint32_t attempts = 0;  // 0: retries disabled
  std::optional<absl::Duration> per_try_timeout;
  std::string retry_on;  // empty: Istio's default conditions
  std::optional<bool> retry_remote_localities;
};

struct FaultDelay {
  absl::Duration fixed = absl::ZeroDuration();
  double percent = 100;
};

struct FaultAbort {
  uint32_t http_status = 0;  // one of http_status / grpc_status is set
  std::string grpc_status;
  double percent = 100;
};

struct Fault {
  std::optional<FaultDelay> delay;
  std::optional<FaultAbort> abort;
};

struct Mirror {
  Destination destination;
  double percent = 100;
};

struct Cors {
  std::vector<StringMatch> allow_origins;  // allowOrigin (exact) and allowOrigins
  std::vector<std::string> allow_methods;
  std::vector<std::string> allow_headers;
  std::vector<std::string> expose_headers;
  std::optional<absl::Duration> max_age;
  std::optional<bool> allow_credentials;
};

struct Delegate {
  std::string name;
  std::string ns;  // empty: the delegating VirtualService's namespace
};

struct HttpRoute {
  std::string name;
  std::vector<HttpMatch> matches;  // empty: every request
  std::vector<WeightedDestination> destinations;
  std::optional<Redirect> redirect;
  std::optional<DirectResponse> direct_response;
  std::optional<Delegate> delegate;
  std::optional<Rewrite> rewrite;
  std::optional<absl::Duration> timeout;  // zero: no timeout
  std::optional<Retry> retries;
  std::optional<Fault> fault;
  std::vector<Mirror> mirrors;
  std::optional<Cors> cors;
  HeaderRules headers;
};

struct L4Match {
  std::vector<std::string> destination_subnets;
  uint32_t port = 0;
  std::vector<std::string> sni_hosts;  // TLS routes only
  std::map<std::string, std::string> source_labels;
  std::vector<std::string> gateways;
  std::string source_namespace;
};

struct L4Route {
  std::vector<L4Match> matches;
  std::vector<WeightedDestination> destinations;
};

struct VirtualService {
  std::vector<std::string> hosts;
  std::vector<std::string> gateways;  // empty means {"mesh"}
  std::vector<HttpRoute> http;
  std::vector<L4Route> tls;
  std::vector<L4Route> tcp;
  std::vector<std::string> export_to;

  // True when the VirtualService applies to sidecars and proxyless clients (gateways empty
  // or naming "mesh").
  bool AppliesToMesh() const;
};

// ---- DestinationRule --------------------------------------------------------------------

struct ConsistentHash {
  enum class Key { kNone, kHeader, kCookie, kSourceIp, kQueryParameter };
  Key key = Key::kNone;
  std::string name;  // header, cookie or query parameter name
  std::string cookie_path;
  std::optional<absl::Duration> cookie_ttl;
  bool maglev = false;
  uint64_t minimum_ring_size = 0;  // 0: the proxy's default
  uint64_t maglev_table_size = 0;
};

struct LocalityLb {
  struct Distribute {
    std::string from;
    std::vector<std::pair<std::string, uint32_t>> to;  // sorted by locality
  };
  struct Failover {
    std::string from;
    std::string to;
  };
  std::vector<Distribute> distribute;
  std::vector<Failover> failover;
  std::vector<std::string> failover_priority;
  std::optional<bool> enabled;
};

struct LoadBalancer {
  enum class Simple { kUnset, kLeastRequest, kRandom, kPassthrough, kRoundRobin };
  Simple simple = Simple::kUnset;  // LEAST_CONN is LEAST_REQUEST, as in Istio
  std::optional<ConsistentHash> consistent_hash;
  std::optional<LocalityLb> locality;
  std::optional<absl::Duration> warmup;
};

struct ConnectionPool {
  struct Tcp {
    uint32_t max_connections = 0;  // 0: unset
    std::optional<absl::Duration> connect_timeout;
    std::optional<absl::Duration> idle_timeout;
    std::optional<absl::Duration> max_connection_duration;
    bool keepalive = false;
    uint32_t keepalive_probes = 0;
    std::optional<absl::Duration> keepalive_time;
    std::optional<absl::Duration> keepalive_interval;
  };
  struct Http {
    uint32_t http1_max_pending_requests = 0;
    uint32_t http2_max_requests = 0;
    uint32_t max_requests_per_connection = 0;
    uint32_t max_retries = 0;
    std::optional<absl::Duration> idle_timeout;
    enum class H2Upgrade { kDefault, kDoNotUpgrade, kUpgrade } h2_upgrade = H2Upgrade::kDefault;
    bool use_client_protocol = false;
    uint32_t max_concurrent_streams = 0;
  };
  std::optional<Tcp> tcp;
  std::optional<Http> http;
};

struct OutlierDetection {
  uint32_t consecutive_5xx = 0;  // consecutive5xxErrors, or the deprecated consecutiveErrors
  bool consecutive_5xx_set = false;
  std::optional<uint32_t> consecutive_gateway_errors;
  std::optional<uint32_t> consecutive_local_origin_failures;
  bool split_external_local_origin_errors = false;
  std::optional<absl::Duration> interval;
  std::optional<absl::Duration> base_ejection_time;
  uint32_t max_ejection_percent = 0;  // 0: unset
  int32_t min_health_percent = 0;
};

struct ClientTls {
  enum class Mode { kDisable, kSimple, kMutual, kIstioMutual };
  Mode mode = Mode::kDisable;
  std::string client_certificate;
  std::string private_key;
  std::string ca_certificates;
  std::string credential_name;
  std::vector<std::string> subject_alt_names;
  std::string sni;
  bool insecure_skip_verify = false;
  std::string ca_crl;
};

// One level of policy; unset sections inherit from the level above (see EffectivePolicy).
struct PolicySections {
  std::optional<LoadBalancer> load_balancer;
  std::optional<ConnectionPool> connection_pool;
  std::optional<OutlierDetection> outlier_detection;
  std::optional<ClientTls> tls;
};

struct TrafficPolicy : PolicySections {
  std::vector<std::pair<uint32_t, PolicySections>> port_level;  // by port number
};

struct Subset {
  std::string name;
  std::map<std::string, std::string> labels;
  std::optional<TrafficPolicy> traffic_policy;
};

struct DestinationRule {
  std::string host;
  std::optional<TrafficPolicy> traffic_policy;
  std::vector<Subset> subsets;
  std::vector<std::string> export_to;
  std::optional<std::map<std::string, std::string>> workload_selector;

  const Subset* FindSubset(const std::string& name) const {
    for (const auto& s : subsets) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }
};

// ---- Gateway, Sidecar: Istio's Port and ServerTLSSettings -----------------------------------

// Istio's Port (Gateway servers, Sidecar listeners) and ServicePort (ServiceEntry): the same
// four fields.
struct Port {
  uint32_t number = 0;
  std::string protocol;  // upper-cased ("http" is HTTP, as istiod); may be empty
  std::string name;
  uint32_t target_port = 0;  // 0: unset

  friend bool operator==(const Port& a, const Port& b) {
    return a.number == b.number && a.protocol == b.protocol && a.name == b.name &&
           a.target_port == b.target_port;
  }
};

// The server side of TLS (a Gateway server's or a Sidecar ingress listener's `tls`).
struct ServerTls {
  // Istio's TLSmode; the zero value (an unset mode) is PASSTHROUGH.
  enum class Mode {
    kPassthrough,
    kSimple,
    kMutual,
    kAutoPassthrough,
    kIstioMutual,
    kOptionalMutual
  };
  bool https_redirect = false;
  Mode mode = Mode::kPassthrough;
  std::string server_certificate;
  std::string private_key;
  std::string ca_certificates;
  std::string credential_name;
};

// ---- Gateway ------------------------------------------------------------------------------

struct GatewayServer {
  Port port;
  std::string bind;
  std::vector<std::string> hosts;  // as written: "host" or "namespace/host"
  std::optional<ServerTls> tls;    // nullopt: no `tls` (plain text)
  std::string name;
};

struct Gateway {
  std::vector<GatewayServer> servers;
  std::map<std::string, std::string> selector;  // empty: selects no gateway pod
};

// ---- ServiceEntry, WorkloadEntry ------------------------------------------------------------

struct WorkloadEntry {
  std::string address;
  std::map<std::string, uint32_t> ports;  // service port name -> target port
  std::map<std::string, std::string> labels;
  std::string network;
  std::string locality;
  uint32_t weight = 0;  // 0: unset (the registry uses 1)
  std::string service_account;
};

struct ServiceEntry {
  // Istio's Location; the zero value (unset) is MESH_EXTERNAL.
  enum class Location { kMeshExternal, kMeshInternal };
  std::vector<std::string> hosts;
  std::vector<std::string> addresses;
  std::vector<Port> ports;
  Location location = Location::kMeshExternal;
  Resolution resolution = Resolution::kNone;  // unset is NONE, as Istio's enum
  std::vector<WorkloadEntry> endpoints;
  // workloadSelector labels; nullopt when none is written (endpoints, if any, are inline).
  std::optional<std::map<std::string, std::string>> workload_selector;
  std::vector<std::string> export_to;
  std::vector<std::string> subject_alt_names;
};

// Whether two ServiceEntries are equal in everything but `endpoints`.
bool SameExceptEndpoints(const ServiceEntry& a, const ServiceEntry& b);

// ---- Sidecar ------------------------------------------------------------------------------

// Istio's CaptureMode; the zero value is DEFAULT.
enum class CaptureMode { kDefault, kIptables, kNone };

// An egress host "<namespace>/<host>" split in two; the namespace as written ("." is the
// namespace of the workload the Sidecar applies to, "*" any, "~" none).
struct SidecarHost {
  std::string ns;
  std::string host;
};

struct SidecarEgressListener {
  std::optional<Port> port;  // nullopt: the catch-all listener
  std::string bind;
  CaptureMode capture_mode = CaptureMode::kDefault;
  std::vector<SidecarHost> hosts;
};

struct SidecarIngressListener {
  std::optional<Port> port;
  std::string bind;
  CaptureMode capture_mode = CaptureMode::kDefault;
  std::string default_endpoint;  // "127.0.0.1:<p>", "0.0.0.0:<p>", "unix://...", ""
  std::optional<ServerTls> tls;  // nullopt: mesh mTLS by PeerAuthentication
};

struct Sidecar {
  // Istio's OutboundTrafficPolicy.Mode; the zero value (`outboundTrafficPolicy: {}`) is
  // REGISTRY_ONLY.
  enum class OutboundMode { kRegistryOnly, kAllowAny };
  // workloadSelector labels; nullopt when none is written (the namespace's default Sidecar).
  std::optional<std::map<std::string, std::string>> workload_selector;
  std::vector<SidecarIngressListener> ingress;
  std::vector<SidecarEgressListener> egress;
  // nullopt: no outboundTrafficPolicy (the mesh's setting applies).
  std::optional<OutboundMode> outbound_traffic_policy;
};

}  // namespace meshd::model
