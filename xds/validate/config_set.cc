#include "xds/validate/config_set.h"

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "xds/validate/envoy_validator.h"

namespace meshd::xds {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::listener::v3::FilterChain;
using envoy::config::listener::v3::FilterChainMatch;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;

constexpr char kHcmType[] =
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
constexpr char kTcpProxyType[] = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
constexpr char kRouterType[] = "envoy.extensions.filters.http.router.v3.Router";
constexpr char kTlsInspectorType[] =
    "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector";
constexpr char kHttpInspectorType[] =
    "envoy.extensions.filters.listener.http_inspector.v3.HttpInspector";
// More combinations than this in one filter_chain_match are compared as whole messages only.
constexpr size_t kMaxMatchCombinations = 100000;

std::string Quote(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

std::string JoinPath(const std::string& path, absl::string_view name) {
  return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
}

// The message type packed in `any` ("" when empty), as Envoy selects an extension by it.
std::string TypeName(const google::protobuf::Any& any) {
  const std::string& url = any.type_url();
  size_t slash = url.rfind('/');
  return slash == std::string::npos ? url : url.substr(slash + 1);
}

// A filter is recognised by its typed_config type, or by its well-known name when it has none.
bool IsFilter(const std::string& name, const google::protobuf::Any& config, absl::string_view type,
              absl::string_view well_known_name) {
  std::string packed = TypeName(config);
  return packed.empty() ? name == well_known_name : packed == type;
}

bool IsTerminalNetworkFilter(const envoy::config::listener::v3::Filter& f) {
  static const auto* kTerminal = new absl::flat_hash_map<std::string, std::string>{
      {kHcmType, "envoy.filters.network.http_connection_manager"},
      {kTcpProxyType, "envoy.filters.network.tcp_proxy"},
      {"envoy.extensions.filters.network.direct_response.v3.Config",
       "envoy.filters.network.direct_response"},
      {"envoy.extensions.filters.network.redis_proxy.v3.RedisProxy",
       "envoy.filters.network.redis_proxy"},
      {"envoy.extensions.filters.network.thrift_proxy.v3.ThriftProxy",
       "envoy.filters.network.thrift_proxy"},
      {"envoy.extensions.filters.network.dubbo_proxy.v3.DubboProxy",
       "envoy.filters.network.dubbo_proxy"},
      {"envoy.extensions.filters.network.echo.v3.Echo", "envoy.filters.network.echo"},
      {"envoy.extensions.filters.network.rocketmq_proxy.v3.RocketmqProxy",
       "envoy.filters.network.rocketmq_proxy"},
  };
  std::string packed = TypeName(f.typed_config());
  if (!packed.empty()) return kTerminal->contains(packed);
  for (const auto& [type, name] : *kTerminal) {
    if (f.name() == name) return true;
  }
  return false;
}

class Checker {
 public:
  explicit Checker(const EnvoyConfigSet& set) : set_(set) {
    for (const auto& c : set.clusters) clusters_.insert(c.name());
    for (const auto& r : set.routes) routes_.insert(r.name());
    for (const auto& e : set.endpoints) endpoints_.insert(e.cluster_name());
  }

  std::vector<std::string> Run() {
    CheckListeners();
    absl::flat_hash_map<std::string, int> route_names;
    for (size_t i = 0; i < set_.routes.size(); ++i) {
      const RouteConfiguration& r = set_.routes[i];
      prefix_ = absl::StrCat("route ", Quote(r.name()), ": ");
      if (auto [it, inserted] = route_names.try_emplace(r.name(), i); !inserted) {
        Error("",
              absl::StrCat("duplicate route configuration name (also routes[", it->second, "])"));
      }
      CheckRouteConfiguration(r, "");
    }
    CheckClusters();
    return std::move(errors_);
  }

 private:
  void Error(const std::string& path, absl::string_view reason) {
    errors_.push_back(path.empty() ? absl::StrCat(prefix_, reason)
                                   : absl::StrCat(prefix_, path, ": ", reason));
  }

  void RequireCluster(const std::string& path, const std::string& cluster) {
    if (!clusters_.contains(cluster)) {
      Error(path, absl::StrCat("cluster ", Quote(cluster), " is not in CDS"));
    }
  }

  void CheckListeners();
  void CheckListener(const Listener& l);
  void CheckFilterChainMatches(const Listener& l);
  void CheckInspectors(const Listener& l);
  void CheckFilterChain(const FilterChain& chain, const std::string& path);
  void CheckHcm(const HttpConnectionManager& hcm, const std::string& path);
  void CheckTcpProxy(const TcpProxy& tcp, const std::string& path);
  void CheckRouteConfiguration(const RouteConfiguration& r, const std::string& path);
  void CheckClusters();

  const EnvoyConfigSet& set_;
  absl::flat_hash_set<std::string> clusters_, routes_, endpoints_;
  std::string prefix_;
  std::vector<std::string> errors_;
};

void Checker::CheckListeners() {
  absl::flat_hash_map<std::string, int> names;
  absl::flat_hash_map<std::string, std::string> bound;  // protocol+ip:port -> listener name
  for (size_t i = 0; i < set_.listeners.size(); ++i) {
    const Listener& l = set_.listeners[i];
    prefix_ = absl::StrCat("listener ", Quote(l.name()), ": ");
    if (auto [it, inserted] = names.try_emplace(l.name(), i); !inserted) {
      Error("", absl::StrCat("duplicate listener name (also listeners[", it->second, "])"));
    }
    bool binds = !l.has_bind_to_port() || l.bind_to_port().value();
    if (binds && l.address().has_socket_address() && l.address().socket_address().port_value()) {
      const auto& sa = l.address().socket_address();
      std::string protocol = envoy::config::core::v3::SocketAddress::Protocol_Name(sa.protocol());
      std::string key = absl::StrCat(sa.address(), ":", sa.port_value(), " (", protocol, ")");
      if (auto [it, inserted] = bound.try_emplace(key, l.name()); !inserted) {
        Error("address", absl::StrCat(key, " is also bound by listener ", Quote(it->second)));
      }
    }
    CheckListener(l);
  }
}

void Checker::CheckListener(const Listener& l) {
  if (l.filter_chains().empty() && !l.has_default_filter_chain() && !l.has_api_listener()) {
    Error("", "no filter_chains and no default_filter_chain");
  }
  CheckFilterChainMatches(l);
  CheckInspectors(l);
  for (int i = 0; i < l.filter_chains_size(); ++i) {
    CheckFilterChain(l.filter_chains(i), absl::StrCat("filter_chains[", i, "]"));
  }
  if (l.has_default_filter_chain())
    CheckFilterChain(l.default_filter_chain(), "default_filter_chain");
}

// Every combination of match values a chain accepts, one string per combination; an empty
// dimension is the wildcard "*". nullopt when there are more than kMaxMatchCombinations.
std::optional<std::vector<std::string>> MatchCombinations(const FilterChainMatch& m) {
  auto ranges = [](const auto& list) {
    std::vector<std::string> out;
    for (const auto& r : list) {
      out.push_back(absl::StrCat(r.address_prefix(), "/",
                                 r.has_prefix_len() ? absl::StrCat(r.prefix_len().value()) : "-"));
    }
    return out;
  };
  auto strings = [](const auto& list) {
    return std::vector<std::string>(list.begin(), list.end());
  };
  std::vector<std::vector<std::string>> dims = {
      {m.has_destination_port() ? absl::StrCat(m.destination_port().value()) : ""},
      ranges(m.prefix_ranges()),
      strings(m.server_names()),
      {m.transport_protocol()},
      strings(m.application_protocols()),
      ranges(m.direct_source_prefix_ranges()),
      {absl::StrCat(m.source_type())},
      ranges(m.source_prefix_ranges()),
  };
  std::vector<std::string> ports;
  for (uint32_t p : m.source_ports()) ports.push_back(absl::StrCat(p));
  dims.push_back(std::move(ports));

  size_t total = 1;
  for (auto& d : dims) {
    if (d.empty()) d.push_back("*");
    total *= d.size();
    if (total > kMaxMatchCombinations) return std::nullopt;
  }
  std::vector<std::string> out = {""};
  for (const auto& d : dims) {
    std::vector<std::string> next;
    next.reserve(out.size() * d.size());
    for (const auto& prefix : out) {
      for (const auto& v : d) next.push_back(absl::StrCat(prefix, "|", v));
    }
    out = std::move(next);
  }
  return out;
}

void Checker::CheckFilterChainMatches(const Listener& l) {
  absl::flat_hash_map<std::string, int> owner;  // combination -> first chain accepting it
  for (int i = 0; i < l.filter_chains_size(); ++i) {
    const FilterChainMatch& m = l.filter_chains(i).filter_chain_match();
    std::string path = absl::StrCat("filter_chains[", i, "].filter_chain_match");
    std::optional<int> same, overlap;
    for (int j = 0; j < i && !same; ++j) {
      if (google::protobuf::util::MessageDifferencer::Equivalent(
              m, l.filter_chains(j).filter_chain_match())) {
        same = j;
      }
    }
    if (same) {
      Error(path, absl::StrCat("same matching rules as filter_chains[", *same, "]"));
      continue;
    }
    std::optional<std::vector<std::string>> combos = MatchCombinations(m);
    if (!combos) continue;
    for (const std::string& c : *combos) {
      auto [it, inserted] = owner.try_emplace(c, i);
      if (!inserted && it->second != i && !overlap) overlap = it->second;
    }
    if (overlap) {
      Error(path, absl::StrCat("matching rules overlap filter_chains[", *overlap, "]"));
    }
  }
}

void Checker::CheckInspectors(const Listener& l) {
  bool tls_inspector = false, http_inspector = false;
  for (const auto& f : l.listener_filters()) {
    tls_inspector = tls_inspector || IsFilter(f.name(), f.typed_config(), kTlsInspectorType,
                                              "envoy.filters.listener.tls_inspector");
    http_inspector = http_inspector || IsFilter(f.name(), f.typed_config(), kHttpInspectorType,
                                                "envoy.filters.listener.http_inspector");
  }
  for (int i = 0; i < l.filter_chains_size(); ++i) {
    const FilterChainMatch& m = l.filter_chains(i).filter_chain_match();
    std::string path = absl::StrCat("filter_chains[", i, "].filter_chain_match");
    if (!tls_inspector && !m.server_names().empty()) {
      Error(JoinPath(path, "server_names"), "matching requires the tls_inspector listener filter");
    }
    if (!tls_inspector && m.transport_protocol() == "tls") {
      Error(JoinPath(path, "transport_protocol"),
            "matching \"tls\" requires the tls_inspector listener filter");
    }
    if (!tls_inspector && !http_inspector && !m.application_protocols().empty()) {
      Error(JoinPath(path, "application_protocols"),
            "matching requires the tls_inspector or http_inspector listener filter");
    }
  }
}

void Checker::CheckFilterChain(const FilterChain& chain, const std::string& path) {
  int n = chain.filters_size();
  for (int i = 0; i < n; ++i) {
    const auto& f = chain.filters(i);
    std::string fpath = absl::StrCat(path, ".filters[", i, "]");
    bool terminal = IsTerminalNetworkFilter(f);
    if (terminal && i != n - 1) {
      Error(fpath, absl::StrCat("terminal filter ", Quote(f.name()),
                                " must be the last filter in a network filter chain"));
    }
    if (!terminal && i == n - 1) {
      Error(fpath, absl::StrCat("non-terminal filter ", Quote(f.name()),
                                " is the last filter in a network filter chain"));
    }
    std::string type = TypeName(f.typed_config());
    std::string tpath = absl::StrCat(fpath, ".typed_config(", type, ")");
    if (type == kHcmType) {
      HttpConnectionManager hcm;
      if (f.typed_config().UnpackTo(&hcm)) CheckHcm(hcm, tpath);
    } else if (type == kTcpProxyType) {
      TcpProxy tcp;
      if (f.typed_config().UnpackTo(&tcp)) CheckTcpProxy(tcp, tpath);
    }
  }
}

void Checker::CheckHcm(const HttpConnectionManager& hcm, const std::string& path) {
  int n = hcm.http_filters_size();
  for (int i = 0; i < n; ++i) {
    const auto& f = hcm.http_filters(i);
    std::string fpath = absl::StrCat(path, ".http_filters[", i, "]");
    bool router = IsFilter(f.name(), f.typed_config(), kRouterType, "envoy.filters.http.router");
    if (router && i != n - 1) {
      Error(fpath, absl::StrCat("terminal filter ", Quote(f.name()),
                                " must be the last filter in an http filter chain"));
    }
    if (!router && i == n - 1) {
      Error(fpath, absl::StrCat("non-terminal filter ", Quote(f.name()),
                                " is the last filter in an http filter chain"));
    }
  }
  if (hcm.has_rds() && !routes_.contains(hcm.rds().route_config_name())) {
    Error(JoinPath(path, "rds.route_config_name"),
          absl::StrCat("route configuration ", Quote(hcm.rds().route_config_name()),
                       " is not in RDS"));
  }
  if (hcm.has_route_config())
    CheckRouteConfiguration(hcm.route_config(), JoinPath(path, "route_config"));
}

void Checker::CheckTcpProxy(const TcpProxy& tcp, const std::string& path) {
  if (tcp.cluster_specifier_case() == TcpProxy::kCluster) {
    RequireCluster(JoinPath(path, "cluster"), tcp.cluster());
  }
  const auto& clusters = tcp.weighted_clusters().clusters();
  for (int i = 0; i < clusters.size(); ++i) {
    RequireCluster(absl::StrCat(path, ".weighted_clusters.clusters[", i, "].name"),
                   clusters[i].name());
  }
}

void Checker::CheckRouteConfiguration(const RouteConfiguration& r, const std::string& path) {
  absl::flat_hash_map<std::string, int> vhost_names;
  absl::flat_hash_map<std::string, std::string> domains;  // lower-cased domain -> its path
  auto check_mirrors = [this](const auto& policies, const std::string& p) {
    for (int i = 0; i < policies.size(); ++i) {
      RequireCluster(absl::StrCat(p, ".request_mirror_policies[", i, "].cluster"),
                     policies[i].cluster());
    }
  };
  for (int v = 0; v < r.virtual_hosts_size(); ++v) {
    const auto& vh = r.virtual_hosts(v);
    std::string vpath = JoinPath(path, absl::StrCat("virtual_hosts[", v, "]"));
    if (auto [it, inserted] = vhost_names.try_emplace(vh.name(), v); !inserted) {
      Error(JoinPath(vpath, "name"), absl::StrCat("duplicate virtual host name ", Quote(vh.name()),
                                                  " (also virtual_hosts[", it->second, "])"));
    }
    for (int d = 0; d < vh.domains_size(); ++d) {
      std::string dpath = absl::StrCat(vpath, ".domains[", d, "]");
      auto [it, inserted] = domains.try_emplace(absl::AsciiStrToLower(vh.domains(d)), dpath);
      if (!inserted) {
        Error(dpath,
              absl::StrCat("duplicate domain ", Quote(vh.domains(d)), " (also ", it->second, ")"));
      }
    }
    check_mirrors(vh.request_mirror_policies(), vpath);
    for (int i = 0; i < vh.routes_size(); ++i) {
      const auto& route = vh.routes(i);
      if (!route.has_route()) continue;
      const auto& action = route.route();
      std::string apath = absl::StrCat(vpath, ".routes[", i, "].route");
      if (action.cluster_specifier_case() == action.kCluster) {
        RequireCluster(JoinPath(apath, "cluster"), action.cluster());
      }
      if (action.has_weighted_clusters()) {
        const auto& wc = action.weighted_clusters();
        std::string wpath = JoinPath(apath, "weighted_clusters");
        uint64_t sum = 0;
        for (int c = 0; c < wc.clusters_size(); ++c) {
          sum += wc.clusters(c).weight().value();
          if (!wc.clusters(c).name().empty()) {
            RequireCluster(absl::StrCat(wpath, ".clusters[", c, "].name"), wc.clusters(c).name());
          }
        }
        if (sum == 0) {
          Error(wpath, "sum of weights must be greater than 0");
        } else if (sum > std::numeric_limits<uint32_t>::max()) {
          Error(wpath, absl::StrCat("sum of weights ", sum, " exceeds ",
                                    std::numeric_limits<uint32_t>::max()));
        }
        if (wc.has_total_weight() && wc.total_weight().value() != sum) {
          Error(JoinPath(wpath, "total_weight"),
                absl::StrCat("total_weight ", wc.total_weight().value(),
                             " does not equal the sum of weights ", sum));
        }
      }
      check_mirrors(action.request_mirror_policies(), apath);
    }
  }
}

void Checker::CheckClusters() {
  absl::flat_hash_map<std::string, int> names;
  for (size_t i = 0; i < set_.clusters.size(); ++i) {
    const Cluster& c = set_.clusters[i];
    prefix_ = absl::StrCat("cluster ", Quote(c.name()), ": ");
    if (auto [it, inserted] = names.try_emplace(c.name(), i); !inserted) {
      Error("", absl::StrCat("duplicate cluster name (also clusters[", it->second, "])"));
    }
    if (c.cluster_discovery_type_case() == Cluster::kType && c.type() == Cluster::EDS) {
      const std::string& service = c.eds_cluster_config().service_name().empty()
                                       ? c.name()
                                       : c.eds_cluster_config().service_name();
      if (!endpoints_.contains(service)) {
        Error("", absl::StrCat("EDS service ", Quote(service), " has no ClusterLoadAssignment"));
      }
    }
    absl::flat_hash_map<std::string, int> matches;
    for (int m = 0; m < c.transport_socket_matches_size(); ++m) {
      const std::string& name = c.transport_socket_matches(m).name();
      if (auto [it, inserted] = matches.try_emplace(name, m); !inserted) {
        Error(absl::StrCat("transport_socket_matches[", m, "].name"),
              absl::StrCat("duplicate name ", Quote(name), " (also transport_socket_matches[",
                           it->second, "])"));
      }
    }
  }
  absl::flat_hash_map<std::string, int> seen;
  for (size_t i = 0; i < set_.endpoints.size(); ++i) {
    const ClusterLoadAssignment& e = set_.endpoints[i];
    prefix_ = absl::StrCat("endpoints ", Quote(e.cluster_name()), ": ");
    if (auto [it, inserted] = seen.try_emplace(e.cluster_name(), i); !inserted) {
      Error("", absl::StrCat("duplicate cluster_name (also endpoints[", it->second, "])"));
    }
  }
}

template <typename T>
void ValidateAll(const std::vector<T>& resources, absl::string_view kind,
                 const std::string& (T::*name)() const, std::vector<std::string>& errors) {
  for (const T& r : resources) {
    for (std::string& e : ValidateResource(r)) {
      errors.push_back(absl::StrCat(kind, " ", Quote((r.*name)()), ": ", e));
    }
  }
}

}  // namespace

absl::Status AddResource(const google::protobuf::Any& any, EnvoyConfigSet& set) {
  auto unpack = [&any](auto& list) {
    if (!any.UnpackTo(&list.emplace_back())) {
      list.pop_back();
      return absl::InvalidArgumentError(
          absl::StrCat("resource of type ", any.type_url(), " does not parse"));
    }
    return absl::OkStatus();
  };
  const std::string& type = any.type_url();
  if (type == kListenerType) return unpack(set.listeners);
  if (type == kRouteType) return unpack(set.routes);
  if (type == kClusterType) return unpack(set.clusters);
  if (type == kEndpointType) return unpack(set.endpoints);
  return absl::InvalidArgumentError(absl::StrCat("unexpected resource type URL ", Quote(type)));
}

absl::StatusOr<EnvoyConfigSet> ConfigSetFromResources(const Resources& resources) {
  EnvoyConfigSet set;
  for (const ResourcePtr& r : resources) {
    if (absl::Status s = AddResource(r->any, set); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("resource ", Quote(r->name), ": ", s.message()));
    }
  }
  return set;
}

std::vector<std::string> CheckConfigSet(const EnvoyConfigSet& set) { return Checker(set).Run(); }

std::vector<std::string> ValidateConfigSet(const EnvoyConfigSet& set) {
  std::vector<std::string> errors;
  ValidateAll(set.listeners, "listener", &Listener::name, errors);
  ValidateAll(set.routes, "route", &RouteConfiguration::name, errors);
  ValidateAll(set.clusters, "cluster", &Cluster::name, errors);
  ValidateAll(set.endpoints, "endpoints", &ClusterLoadAssignment::cluster_name, errors);
  for (std::string& e : CheckConfigSet(set)) errors.push_back(std::move(e));
  return errors;
}

}  // namespace meshd::xds
