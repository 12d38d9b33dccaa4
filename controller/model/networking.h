// The validated, plain form of the networking kinds the generators read: VirtualService and
// DestinationRule. `config::ToModel` builds them once, when an object is decoded and
// validated, so every generator (proxyless gRPC, Envoy) reads the same meaning of a weight, a
// match or a policy, and none of them casts wire protos. Units are resolved here: durations
// are absl::Duration, percentages are 0..100 doubles, enums are ours.
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

}  // namespace meshd::model
