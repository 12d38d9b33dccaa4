#include "xds/gen/grpc_generator.h"

#include <map>
#include <set>

#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "re2/re2.h"
#include "spdlog/spdlog.h"
#include "xds/gen/envoy_util.h"
#include "xds/gen/server_listener.h"
#include "xds/gen/tls.h"
#include "xds/gen/traffic_policy.h"

namespace meshd::xds {
namespace {

namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::Route;
using envoy::config::route::v3::RouteConfiguration;

constexpr char kFaultFilter[] = "envoy.filters.http.fault";
constexpr char kRouterFilter[] = "envoy.filters.http.router";

void SetAds(envoy::config::core::v3::ConfigSource* source) {
  source->mutable_ads();
  source->set_resource_api_version(envoy::config::core::v3::V3);
}

// "<host>:<port>" → registry host and port; the port may be omitted when the service has one.
bool ResolveListenerName(const std::string& name, const model::Proxy& proxy,
                         const model::Snapshot& snapshot, std::string* host, uint32_t* port) {
  std::string h = name;
  *port = 0;
  auto colon = name.rfind(':');
  if (colon != std::string::npos) {
    if (!absl::SimpleAtoi(name.substr(colon + 1), port)) return false;
    h = name.substr(0, colon);
  }
  *host = snapshot.ResolveClientHost(h, proxy.ns);
  if (host->empty()) return false;
  const model::Service* svc = snapshot.FindService(*host);
  if (*port == 0) {
    if (svc->ports.size() != 1) return false;
    *port = svc->ports[0].number;
  }
  return svc->FindPort(*port) != nullptr;
}

// Every "<host>:<port>" a wildcard LDS request gets: one per service port.
std::vector<std::string> AllListenerNames(const model::Snapshot& snapshot) {
  std::vector<std::string> out;
  for (const auto& [host, svc] : snapshot.Services()) {
    for (const auto& p : svc.ports) out.push_back(absl::StrCat(host, ":", p.number));
  }
  return out;
}

void SetHeaderMatch(const std::string& name, const model::StringMatch& m, bool invert,
                    envoy::config::route::v3::HeaderMatcher* out) {
  out->set_name(name);
  out->set_invert_match(invert);
  switch (m.type) {
    case model::StringMatch::Type::kExact:
      out->set_exact_match(m.value);
      break;
    case model::StringMatch::Type::kPrefix:
      if (m.value.empty()) {
        out->set_present_match(true);
      } else {
        out->set_prefix_match(m.value);
      }
      break;
    case model::StringMatch::Type::kRegex:
      out->mutable_safe_regex_match()->set_regex(m.value);
      break;
    case model::StringMatch::Type::kAny:
      out->set_present_match(true);  // `headers: {x: {}}` means "present" in Istio
  }
}

// Whether an Istio StringMatch accepts `value` (used for facts that are fixed for gRPC).
bool Accepts(const model::StringMatch& m, const std::string& value) {
  switch (m.type) {
    case model::StringMatch::Type::kExact:
      return m.value == value;
    case model::StringMatch::Type::kPrefix:
      return absl::StartsWith(value, m.value);
    case model::StringMatch::Type::kRegex:
      return RE2::FullMatch(value, m.value);
    case model::StringMatch::Type::kAny:
      return true;
  }
  return false;
}

void WarnDropped(const std::string& config, const std::string& route, const std::string& why) {
  static absl::Mutex mu;
  static auto* seen = new std::set<std::string>();
  std::string key = absl::StrCat(config, "|", route, "|", why);
  {
    absl::MutexLock lock(&mu);
    if (!seen->insert(key).second) return;
  }
  spdlog::warn("grpc generator: {} route \"{}\" is not served to proxyless gRPC clients: {}",
               config, route, why);
}

// Fills `out` from one Istio match. Returns false if the match can never apply to this
// proxy (port, source labels/namespace, gateways), or uses what a gRPC client cannot
// evaluate: the route is then left out rather than widened (`why` says which).
bool BuildMatch(const model::HttpMatch& m, const model::Proxy& proxy, uint32_t port,
                envoy::config::route::v3::RouteMatch* out, std::string* why) {
  if (m.port != 0 && m.port != port) return false;
  if (!m.source_namespace.empty() && m.source_namespace != proxy.ns) return false;
  if (!model::LabelsMatch(m.source_labels, proxy.labels)) return false;
  if (!m.gateways.empty()) {
    bool mesh = false;
    for (const auto& g : m.gateways) mesh = mesh || g == "mesh";
    if (!mesh) return false;
  }
  // gRPC requests carry no query string, are always POST, and gRPC clients do not match the
  // scheme or authority pseudo-headers: a match on them is decided here or the route dropped.
  if (!m.query_params.empty()) {
    *why = "queryParams match (gRPC requests have no query string)";
    return false;
  }
  if (m.method && !Accepts(*m.method, "POST")) return false;  // never matches a gRPC call
  if (m.scheme) {
    *why = "scheme match (not evaluated by gRPC clients)";
    return false;
  }
  if (m.authority) {
    *why = "authority match (not evaluated by gRPC clients)";
    return false;
  }
  if (m.uri) {
    switch (m.uri->type) {
      case model::StringMatch::Type::kExact:
        out->set_path(m.uri->value);
        break;
      case model::StringMatch::Type::kPrefix:
        out->set_prefix(m.uri->value);
        break;
      case model::StringMatch::Type::kRegex:
        out->mutable_safe_regex()->set_regex(m.uri->value);
        break;
      case model::StringMatch::Type::kAny:
        out->set_prefix("");
    }
  } else {
    out->set_prefix("");
  }
  if (m.ignore_uri_case) out->mutable_case_sensitive()->set_value(false);
  for (const auto& h : m.headers) SetHeaderMatch(h.name, h.match, false, out->add_headers());
  for (const auto& h : m.without_headers) {
    SetHeaderMatch(h.name, h.match, true, out->add_headers());
  }
  return true;
}

void AddHashPolicy(const model::LoadBalancer* lb, envoy::config::route::v3::RouteAction* a) {
  if (lb == nullptr || !lb->consistent_hash) return;
  const model::ConsistentHash& ch = *lb->consistent_hash;
  if (ch.key == model::ConsistentHash::Key::kHeader) {
    a->add_hash_policy()->mutable_header()->set_header_name(ch.name);
  } else if (ch.key == model::ConsistentHash::Key::kSourceIp) {
    // gRPC has no source IP per request; its channel id is the per-client equivalent.
    a->add_hash_policy()->mutable_filter_state()->set_key("io.grpc.channel_id");
  }
}

void BuildRouteAction(const model::HttpRoute& r, const model::Proxy& proxy,
                      const model::Snapshot& snapshot, const std::string& ns, uint32_t port,
                      Route* out) {
  if (r.redirect) {
    auto* redirect = out->mutable_redirect();
    if (!r.redirect->uri.empty()) redirect->set_path_redirect(r.redirect->uri);
    if (!r.redirect->authority.empty()) redirect->set_host_redirect(r.redirect->authority);
    return;
  }
  if (r.direct_response) {
    out->mutable_direct_response()->set_status(r.direct_response->status);
    return;
  }
  auto* action = out->mutable_route();
  std::vector<std::pair<std::string, uint32_t>> clusters;
  const model::LoadBalancer* lb = nullptr;
  for (const auto& d : r.destinations) {
    if (d.weight == 0) continue;
    std::string host = snapshot.ResolveShortName(d.destination.host, ns);
    const model::Service* svc = snapshot.FindService(host);
    uint32_t dport = DestinationPort(d.destination, svc, port);
    clusters.emplace_back(BuildClusterName(dport, d.destination.subset, host), d.weight);
    if (clusters.size() == 1) {
      TrafficPolicy tp = EffectivePolicy(snapshot, proxy, host, dport, d.destination.subset);
      lb = tp.load_balancer;
    }
  }
  if (clusters.size() == 1) {
    action->set_cluster(clusters[0].first);
  } else {
    auto* wc = action->mutable_weighted_clusters();
    uint32_t total = 0;
    for (const auto& [name, weight] : clusters) {
      auto* c = wc->add_clusters();
      c->set_name(name);
      c->mutable_weight()->set_value(weight);
      total += weight;
    }
    // gRPC C++ 1.51 takes an unset total_weight as 100 and NACKs any other sum; the exact
    // sum satisfies it, and the Node client ignores the field.
    wc->mutable_total_weight()->set_value(total);
  }
  AddHashPolicy(lb, action);
  if (r.timeout && *r.timeout > absl::ZeroDuration()) {
    *action->mutable_timeout() = DurationProto(*r.timeout);
    *action->mutable_max_stream_duration()->mutable_max_stream_duration() =
        DurationProto(*r.timeout);
    *action->mutable_max_stream_duration()->mutable_grpc_timeout_header_max() =
        DurationProto(*r.timeout);
  }
  if (r.retries && r.retries->attempts > 0) {
    auto* rp = action->mutable_retry_policy();
    rp->set_retry_on(r.retries->retry_on.empty()
                         ? "connect-failure,refused-stream,unavailable,cancelled,"
                           "retriable-status-codes"
                         : r.retries->retry_on);
    rp->mutable_num_retries()->set_value(r.retries->attempts);
    if (r.retries->per_try_timeout) {
      *rp->mutable_per_try_timeout() = DurationProto(*r.retries->per_try_timeout);
    }
  }
  if (r.fault)
    (*out->mutable_typed_per_filter_config())[kFaultFilter].PackFrom(BuildFault(*r.fault));
}

// `origins` gets the VirtualService whose routes it carries, or the DestinationRule whose load
// balancer shapes the default route.
RouteConfiguration BuildRouteConfig(const std::string& name, const std::string& host, uint32_t port,
                                    const model::Proxy& proxy, const model::Snapshot& snapshot,
                                    OriginSet* origins) {
  RouteConfiguration rc;
  rc.set_name(name);
  auto* vh = rc.add_virtual_hosts();
  vh->set_name(absl::StrCat(host, ":", port));
  vh->add_domains("*");
  model::ConfigPtr vs = snapshot.VirtualServiceFor(host, proxy.ns);
  const model::VirtualService* spec = vs == nullptr ? nullptr : vs->AsVirtualService();
  if (spec != nullptr) {
    origins->Add(vs);
    // As istiod: the VirtualService's routes only. A request no route matches fails
    // (UNAVAILABLE for gRPC, 404 on Envoy); no catch-all is invented.
    for (const auto& r : spec->http) {
      if (r.delegate) continue;  // delegates apply to gateways only
      std::vector<model::HttpMatch> matches = r.matches;
      if (matches.empty()) matches.emplace_back();
      for (const auto& m : matches) {
        Route route;
        std::string why;
        if (!BuildMatch(m, proxy, port, route.mutable_match(), &why)) {
          if (!why.empty()) WarnDropped(vs->key.ToString(), r.name.empty() ? m.name : r.name, why);
          continue;
        }
        route.set_name(r.name.empty() ? m.name : r.name);
        BuildRouteAction(r, proxy, snapshot, vs->key.ns, port, &route);
        *vh->add_routes() = std::move(route);
      }
    }
    return rc;
  }
  // No VirtualService: every request goes to the service itself.
  auto* fallback = vh->add_routes();
  fallback->set_name("default");
  fallback->mutable_match()->set_prefix("");
  fallback->mutable_route()->set_cluster(BuildClusterName(port, "", host));
  TrafficPolicy tp = EffectivePolicy(snapshot, proxy, host, port, "");
  if (tp.load_balancer != nullptr) {
    origins->Add(snapshot.DestinationRuleFor(host, proxy.ns, &proxy.labels));
  }
  AddHashPolicy(tp.load_balancer, fallback->mutable_route());
  return rc;
}

ClusterLoadAssignment BuildLoadAssignment(const std::string& name, const ClusterName& cn,
                                          const model::Snapshot& snapshot,
                                          const std::map<std::string, std::string>& selector) {
  ClusterLoadAssignment cla;
  cla.set_cluster_name(name);
  std::map<std::string, std::vector<const model::Endpoint*>> by_locality;
  for (const auto& ep : snapshot.Endpoints(cn.host)) {
    if (ep.service_port != cn.port || !ep.healthy) continue;
    if (!model::LabelsMatch(selector, ep.labels)) continue;
    by_locality[ep.locality].push_back(&ep);
  }
  for (const auto& [locality, eps] : by_locality) {
    auto* group = cla.add_endpoints();
    std::vector<std::string> parts = absl::StrSplit(locality, '/');
    group->mutable_locality();  // the C++ client requires the field, even when empty
    if (!locality.empty()) {
      group->mutable_locality()->set_region(parts[0]);
      if (parts.size() > 1) group->mutable_locality()->set_zone(parts[1]);
      if (parts.size() > 2) group->mutable_locality()->set_sub_zone(parts[2]);
    }
    uint32_t total = 0;
    for (const auto* ep : eps) {
      auto* lb = group->add_lb_endpoints();
      auto* sa = lb->mutable_endpoint()->mutable_address()->mutable_socket_address();
      sa->set_address(ep->address);
      sa->set_port_value(ep->port);
      lb->set_health_status(envoy::config::core::v3::HEALTHY);
      lb->mutable_load_balancing_weight()->set_value(std::max<uint32_t>(1, ep->weight));
      total += std::max<uint32_t>(1, ep->weight);
    }
    // Both clients need a locality weight > 0, or they route nothing.
    group->mutable_load_balancing_weight()->set_value(std::max<uint32_t>(1, total));
  }
  return cla;
}

}  // namespace

std::string BuildClusterName(uint32_t port, const std::string& subset, const std::string& host) {
  return absl::StrCat("outbound|", port, "|", subset, "|", host);
}

bool ParseClusterName(const std::string& name, ClusterName* out) {
  std::vector<std::string> parts = absl::StrSplit(name, '|');
  if (parts.size() != 4 || parts[0] != "outbound") return false;
  if (!absl::SimpleAtoi(parts[1], &out->port)) return false;
  out->subset = parts[2];
  out->host = parts[3];
  return !out->host.empty();
}

Resources GrpcGenerator::Generate(const std::string& type_url, const model::Proxy& proxy,
                                  const model::Snapshot& snapshot,
                                  const std::vector<std::string>& names) const {
  if (type_url == kListenerType) return Listeners(proxy, snapshot, names);
  if (type_url == kRouteType) return Routes(proxy, snapshot, names);
  if (type_url == kClusterType) return Clusters(proxy, snapshot, names);
  if (type_url == kEndpointType) return Endpoints(proxy, snapshot, names);
  return {};
}

Resources GrpcGenerator::Listeners(const model::Proxy& proxy, const model::Snapshot& snapshot,
                                   const std::vector<std::string>& names) const {
  Resources out;
  std::vector<std::string> inbound;
  for (const auto& name : names) {
    if (absl::StartsWith(name, kInboundListenerPrefix)) inbound.push_back(name);
  }
  if (!inbound.empty()) out = ServerListeners(proxy, snapshot, inbound);
  for (const auto& name : names.empty() ? AllListenerNames(snapshot) : names) {
    std::string host;
    uint32_t port;
    if (absl::StartsWith(name, kInboundListenerPrefix)) continue;
    if (!ResolveListenerName(name, proxy, snapshot, &host, &port)) continue;
    hcm::HttpConnectionManager manager;
    manager.set_stat_prefix(name);
    auto* rds = manager.mutable_rds();
    rds->set_route_config_name(BuildClusterName(port, "", host));
    SetAds(rds->mutable_config_source());
    // The fault filter is always present so that adding a fault only changes RDS.
    auto* fault = manager.add_http_filters();
    fault->set_name(kFaultFilter);
    fault->mutable_typed_config()->PackFrom(
        envoy::extensions::filters::http::fault::v3::HTTPFault());
    auto* router = manager.add_http_filters();
    router->set_name(kRouterFilter);
    router->mutable_typed_config()->PackFrom(
        envoy::extensions::filters::http::router::v3::Router());
    Listener listener;
    listener.set_name(name);
    listener.mutable_api_listener()->mutable_api_listener()->PackFrom(manager);
    // The listener only points at its route configuration; the ServiceEntry makes the host.
    OriginSet origins;
    origins.AddServiceOrigin(snapshot.FindService(host));
    out.push_back(PackResource(name, listener, origins.Build()));
  }
  return out;
}

Resources GrpcGenerator::Routes(const model::Proxy& proxy, const model::Snapshot& snapshot,
                                const std::vector<std::string>& names) const {
  Resources out;
  for (const auto& name : names) {
    ClusterName cn;
    if (!ParseClusterName(name, &cn) || !cn.subset.empty()) continue;
    const model::Service* svc = snapshot.FindService(cn.host);
    if (svc == nullptr || svc->FindPort(cn.port) == nullptr) continue;
    OriginSet origins;
    RouteConfiguration rc = BuildRouteConfig(name, cn.host, cn.port, proxy, snapshot, &origins);
    out.push_back(PackResource(name, rc, origins.Build()));
  }
  return out;
}

Resources GrpcGenerator::Clusters(const model::Proxy& proxy, const model::Snapshot& snapshot,
                                  const std::vector<std::string>& names) const {
  std::vector<std::string> wanted = names;
  if (wanted.empty()) {
    for (const auto& [host, svc] : snapshot.Services()) {
      for (const auto& p : svc.ports) {
        wanted.push_back(BuildClusterName(p.number, "", host));
        for (const auto& subset : SubsetNames(snapshot, proxy, host)) {
          wanted.push_back(BuildClusterName(p.number, subset, host));
        }
      }
    }
  }
  Resources out;
  for (const auto& name : wanted) {
    ClusterName cn;
    if (!ParseClusterName(name, &cn)) continue;
    const model::Service* svc = snapshot.FindService(cn.host);
    if (svc == nullptr || svc->FindPort(cn.port) == nullptr) continue;
    std::map<std::string, std::string> selector;
    if (!cn.subset.empty() && !SubsetSelector(snapshot, proxy, cn.host, cn.subset, &selector)) {
      continue;  // no such subset
    }
    Cluster cluster;
    cluster.set_name(name);
    if (svc->resolution == model::Resolution::kDns ||
        svc->resolution == model::Resolution::kDnsRoundRobin) {
      cluster.set_type(Cluster::LOGICAL_DNS);
      ClusterLoadAssignment cla = BuildLoadAssignment(name, cn, snapshot, selector);
      if (cla.endpoints().empty()) {
        auto* sa = cla.add_endpoints()
                       ->add_lb_endpoints()
                       ->mutable_endpoint()
                       ->mutable_address()
                       ->mutable_socket_address();
        sa->set_address(cn.host);
        sa->set_port_value(cn.port);
        cla.mutable_endpoints(0)->mutable_load_balancing_weight()->set_value(1);
      }
      // LOGICAL_DNS takes exactly one address.
      while (cla.endpoints_size() > 1) cla.mutable_endpoints()->RemoveLast();
      while (cla.endpoints(0).lb_endpoints_size() > 1) {
        cla.mutable_endpoints(0)->mutable_lb_endpoints()->RemoveLast();
      }
      *cluster.mutable_load_assignment() = std::move(cla);
    } else {
      cluster.set_type(Cluster::EDS);
      SetAds(cluster.mutable_eds_cluster_config()->mutable_eds_config());
    }
    TrafficPolicy tp = EffectivePolicy(snapshot, proxy, cn.host, cn.port, cn.subset);
    ApplyTrafficPolicy(tp, &cluster);
    // mTLS: DestinationRule ISTIO_MUTUAL, or automatically when no TLS mode is set and every
    // destination workload is STRICT.
    bool mtls = tp.tls != nullptr ? tp.tls->mode == model::ClientTls::Mode::kIstioMutual
                                  : DestinationRequiresMtls(snapshot, cn.host, cn.port, selector);
    if (mtls) {
      std::string sni = tp.tls != nullptr ? tp.tls->sni : "";
      std::vector<std::string> sans;
      if (tp.tls != nullptr) sans = tp.tls->subject_alt_names;
      if (sans.empty()) {
        sans = EndpointIdentities(snapshot, cn.host, cn.port, selector, snapshot.trust_domain());
      }
      *cluster.mutable_transport_socket() = TlsTransportSocket(BuildUpstreamTlsContext(sans, sni));
    }
    out.push_back(PackResource(name, cluster, DestinationOrigins(snapshot, proxy, cn.host)));
  }
  return out;
}

Resources GrpcGenerator::Endpoints(const model::Proxy& proxy, const model::Snapshot& snapshot,
                                   const std::vector<std::string>& names) const {
  Resources out;
  for (const auto& name : names) {
    ClusterName cn;
    if (!ParseClusterName(name, &cn)) continue;
    const model::Service* svc = snapshot.FindService(cn.host);
    if (svc == nullptr || svc->FindPort(cn.port) == nullptr) continue;
    std::map<std::string, std::string> selector;
    if (!cn.subset.empty() && !SubsetSelector(snapshot, proxy, cn.host, cn.subset, &selector)) {
      continue;
    }
    out.push_back(PackResource(name, BuildLoadAssignment(name, cn, snapshot, selector),
                               DestinationOrigins(snapshot, proxy, cn.host)));
  }
  return out;
}

std::string ShortType(const std::string& type_url) {
  if (type_url == kListenerType) return "lds";
  if (type_url == kRouteType) return "rds";
  if (type_url == kClusterType) return "cds";
  if (type_url == kEndpointType) return "eds";
  return type_url;
}

}  // namespace meshd::xds
