// CDS and EDS for Envoy sidecars: outbound clusters per visible service port and subset with
// the DestinationRule in Envoy's terms, the special clusters, the inbound clusters of the
// proxy's own workload, and load assignments ordered by the proxy's locality.
#include <algorithm>
#include <array>
#include <cstring>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "xds/gen/envoy_generator.h"
#include "xds/gen/envoy_util.h"
#include "xds/gen/grpc_generator.h"
#include "xds/gen/tls.h"
#include "xds/gen/traffic_policy.h"

namespace meshd::xds {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
namespace tlsv3 = envoy::extensions::transport_sockets::tls::v3;

constexpr char kHttpOptionsKey[] = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
constexpr char kTransportSocketMatch[] = "envoy.transport_socket_match";
constexpr char kTlsModeLabel[] = "security.istio.io/tlsMode";
constexpr int64_t kConnectTimeoutSeconds = 10;  // meshConfig.connectTimeout default

void SetHttp2(Cluster* cluster) {
  envoy::extensions::upstreams::http::v3::HttpProtocolOptions options;
  options.mutable_explicit_http_config()->mutable_http2_protocol_options();
  (*cluster->mutable_typed_extension_protocol_options())[kHttpOptionsKey].PackFrom(options);
}

void SetDownstreamProtocol(Cluster* cluster) {
  envoy::extensions::upstreams::http::v3::HttpProtocolOptions options;
  options.mutable_use_downstream_protocol_config();
  (*cluster->mutable_typed_extension_protocol_options())[kHttpOptionsKey].PackFrom(options);
}

// istiod's defaults: circuit breakers wide open (the mesh is not the place to guess limits).
void DefaultCircuitBreakers(Cluster* cluster) {
  auto* t = cluster->mutable_circuit_breakers()->add_thresholds();
  t->mutable_max_connections()->set_value(4294967295u);
  t->mutable_max_pending_requests()->set_value(4294967295u);
  t->mutable_max_requests()->set_value(4294967295u);
  t->mutable_max_retries()->set_value(4294967295u);
  t->set_track_remaining(true);
}

Cluster OriginalDst(const std::string& name, bool bind_inbound) {
  Cluster c;
  c.set_name(name);
  c.set_type(Cluster::ORIGINAL_DST);
  c.set_lb_policy(Cluster::CLUSTER_PROVIDED);
  *c.mutable_connect_timeout() = Seconds(kConnectTimeoutSeconds);
  DefaultCircuitBreakers(&c);
  if (bind_inbound) {
    // Inbound traffic leaves the sidecar from 127.0.0.6 so iptables does not capture it again.
    auto* sa = c.mutable_upstream_bind_config()->mutable_source_address();
    sa->set_address("127.0.0.6");
    sa->set_port_value(0);
  }
  return c;
}

envoy::config::core::v3::TransportSocket RawBuffer() {
  envoy::config::core::v3::TransportSocket ts;
  ts.set_name("envoy.transport_sockets.raw_buffer");
  ts.mutable_typed_config()->PackFrom(
      envoy::extensions::transport_sockets::raw_buffer::v3::RawBuffer());
  return ts;
}

void ApplyLoadBalancer(const model::LoadBalancer* lb, Cluster* c) {
  c->set_lb_policy(Cluster::LEAST_REQUEST);  // istiod's default
  if (lb == nullptr) return;
  if (lb->consistent_hash) {
    if (lb->consistent_hash->maglev) {
      c->set_lb_policy(Cluster::MAGLEV);
      if (lb->consistent_hash->maglev_table_size > 0) {
        c->mutable_maglev_lb_config()->mutable_table_size()->set_value(
            lb->consistent_hash->maglev_table_size);
      }
    } else {
      c->set_lb_policy(Cluster::RING_HASH);
      if (lb->consistent_hash->minimum_ring_size > 0) {
        c->mutable_ring_hash_lb_config()->mutable_minimum_ring_size()->set_value(
            lb->consistent_hash->minimum_ring_size);
      }
    }
    return;
  }
  switch (lb->simple) {
    case model::LoadBalancer::Simple::kRoundRobin:
      c->set_lb_policy(Cluster::ROUND_ROBIN);
      break;
    case model::LoadBalancer::Simple::kRandom:
      c->set_lb_policy(Cluster::RANDOM);
      break;
    case model::LoadBalancer::Simple::kPassthrough:
      c->set_type(Cluster::ORIGINAL_DST);
      c->set_lb_policy(Cluster::CLUSTER_PROVIDED);
      c->clear_eds_cluster_config();
      break;
    default:
      break;
  }
  if (lb->locality && !lb->locality->distribute.empty()) {
    c->mutable_common_lb_config()->mutable_locality_weighted_lb_config();
  }
}

// The TLS a DestinationRule asks for, as an Envoy transport socket; false for none.
bool DestinationRuleTls(const model::ClientTls& tls, const std::vector<std::string>& mesh_sans,
                        const std::string& istio_sni, bool http2,
                        envoy::config::core::v3::TransportSocket* out) {
  tlsv3::UpstreamTlsContext ctx;
  switch (tls.mode) {
    case model::ClientTls::Mode::kDisable:
      return false;
    case model::ClientTls::Mode::kIstioMutual: {
      std::vector<std::string> sans =
          tls.subject_alt_names.empty() ? mesh_sans : tls.subject_alt_names;
      ctx = IstioMtlsUpstream(sans, tls.sni.empty() ? istio_sni : tls.sni, http2);
      break;
    }
    case model::ClientTls::Mode::kSimple:
    case model::ClientTls::Mode::kMutual: {
      auto* common = ctx.mutable_common_tls_context();
      if (tls.mode == model::ClientTls::Mode::kMutual && tls.credential_name.empty()) {
        auto* cert = common->add_tls_certificates();
        cert->mutable_certificate_chain()->set_filename(tls.client_certificate);
        cert->mutable_private_key()->set_filename(tls.private_key);
      } else if (tls.mode == model::ClientTls::Mode::kMutual) {
        // credentialName: the secret served over ADS as "kubernetes://<name>", as istiod does.
        auto* sds = common->add_tls_certificate_sds_secret_configs();
        sds->set_name(absl::StrCat("kubernetes://", tls.credential_name));
        SetAdsSource(sds->mutable_sds_config());
      }
      if (!tls.insecure_skip_verify) {
        auto* vc = common->mutable_validation_context();
        if (!tls.ca_certificates.empty()) {
          vc->mutable_trusted_ca()->set_filename(tls.ca_certificates);
        }
        if (!tls.ca_crl.empty()) vc->mutable_crl()->set_filename(tls.ca_crl);
        for (const auto& san : tls.subject_alt_names) {
          auto* m = vc->add_match_typed_subject_alt_names();
          m->set_san_type(tlsv3::SubjectAltNameMatcher::DNS);
          m->mutable_matcher()->set_exact(san);
        }
      }
      if (!tls.sni.empty()) ctx.set_sni(tls.sni);
      break;
    }
  }
  *out = TlsTransportSocket(ctx);
  return true;
}

struct ClusterKey {
  const model::Service* svc;
  const model::ServicePort* port;
  std::string subset;
  std::map<std::string, std::string> selector;
};

Cluster BuildOutboundCluster(const ClusterKey& k, const model::Proxy& proxy,
                             const model::Snapshot& snapshot) {
  const std::string name = BuildClusterName(k.port->number, k.subset, k.svc->hostname);
  Cluster c;
  c.set_name(name);
  *c.mutable_connect_timeout() = Seconds(kConnectTimeoutSeconds);
  switch (k.svc->resolution) {
    case model::Resolution::kDns:
    case model::Resolution::kDnsRoundRobin: {
      c.set_type(k.svc->resolution == model::Resolution::kDns ? Cluster::STRICT_DNS
                                                              : Cluster::LOGICAL_DNS);
      c.set_dns_lookup_family(Cluster::V4_ONLY);
      auto* cla = c.mutable_load_assignment();
      cla->set_cluster_name(name);
      auto* group = cla->add_endpoints();
      bool any = false;
      for (const auto& ep : snapshot.Endpoints(k.svc->hostname)) {
        if (ep.service_port != k.port->number || !model::LabelsMatch(k.selector, ep.labels)) {
          continue;
        }
        auto* sa = group->add_lb_endpoints()
                       ->mutable_endpoint()
                       ->mutable_address()
                       ->mutable_socket_address();
        sa->set_address(ep.address);
        sa->set_port_value(ep.port);
        any = true;
        if (c.type() == Cluster::LOGICAL_DNS) break;  // exactly one host
      }
      if (!any) {
        auto* sa = group->add_lb_endpoints()
                       ->mutable_endpoint()
                       ->mutable_address()
                       ->mutable_socket_address();
        sa->set_address(k.svc->hostname);
        sa->set_port_value(k.port->target_port != 0 ? k.port->target_port : k.port->number);
      }
      break;
    }
    case model::Resolution::kNone:
      c.set_type(Cluster::ORIGINAL_DST);
      break;
    case model::Resolution::kStatic:
      c.set_type(Cluster::EDS);
      SetAdsSource(c.mutable_eds_cluster_config()->mutable_eds_config());
      break;
  }
  TrafficPolicy tp = EffectivePolicy(snapshot, proxy, k.svc->hostname, k.port->number, k.subset);
  ApplyLoadBalancer(tp.load_balancer, &c);
  if (c.type() == Cluster::ORIGINAL_DST) c.set_lb_policy(Cluster::CLUSTER_PROVIDED);
  DefaultCircuitBreakers(&c);
  if (tp.connection_pool != nullptr) {
    c.mutable_circuit_breakers()->clear_thresholds();
    DefaultCircuitBreakers(&c);
    auto* t = c.mutable_circuit_breakers()->mutable_thresholds(0);
    const model::ConnectionPool& cp = *tp.connection_pool;
    if (cp.tcp && cp.tcp->max_connections > 0) {
      t->mutable_max_connections()->set_value(cp.tcp->max_connections);
    }
    if (cp.tcp && cp.tcp->connect_timeout) {
      *c.mutable_connect_timeout() = DurationProto(*cp.tcp->connect_timeout);
    }
    if (cp.http) {
      if (cp.http->http1_max_pending_requests > 0) {
        t->mutable_max_pending_requests()->set_value(cp.http->http1_max_pending_requests);
      }
      if (cp.http->http2_max_requests > 0) {
        t->mutable_max_requests()->set_value(cp.http->http2_max_requests);
      }
      if (cp.http->max_retries > 0) t->mutable_max_retries()->set_value(cp.http->max_retries);
    }
  }
  ApplyOutlierDetection(tp.outlier_detection, &c);
  bool http2 =
      IsHttp2Protocol(k.port->protocol) ||
      (tp.connection_pool != nullptr && tp.connection_pool->http &&
       tp.connection_pool->http->h2_upgrade == model::ConnectionPool::Http::H2Upgrade::kUpgrade);
  if (http2) SetHttp2(&c);
  // TLS: the DestinationRule's mode, else auto mTLS (endpoints labelled tlsMode=istio get
  // Istio mTLS, others plaintext), unless the destination's PeerAuthentication disables it.
  std::string sni = IstioSni(k.port->number, k.subset, k.svc->hostname);
  std::vector<std::string> sans = EndpointIdentities(snapshot, k.svc->hostname, k.port->number,
                                                     k.selector, snapshot.trust_domain());
  envoy::config::core::v3::TransportSocket ts;
  if (tp.tls != nullptr) {
    if (DestinationRuleTls(*tp.tls, sans, sni, http2, &ts)) *c.mutable_transport_socket() = ts;
  } else if (!k.svc->mesh_external) {
    auto* m = c.add_transport_socket_matches();
    m->set_name("tlsMode-istio");
    (*m->mutable_match()->mutable_fields())["tlsMode"].set_string_value("istio");
    *m->mutable_transport_socket() = TlsTransportSocket(IstioMtlsUpstream(sans, sni, http2));
    auto* plain = c.add_transport_socket_matches();
    plain->set_name("tlsMode-disabled");
    plain->mutable_match();
    *plain->mutable_transport_socket() = RawBuffer();
  }
  return c;
}

std::vector<ClusterKey> OutboundKeys(const model::Proxy& proxy, const model::Snapshot& snapshot) {
  std::vector<ClusterKey> out;
  SidecarScope scope = ScopeFor(proxy, snapshot);
  for (const model::Service* svc : VisibleServices(proxy, snapshot, scope)) {
    std::vector<std::string> subsets = SubsetNames(snapshot, proxy, svc->hostname);
    for (const auto& p : svc->ports) {
      out.push_back({svc, &p, "", {}});
      for (const auto& subset : subsets) {
        ClusterKey k{svc, &p, subset, {}};
        SubsetSelector(snapshot, proxy, svc->hostname, subset, &k.selector);
        out.push_back(std::move(k));
      }
    }
  }
  return out;
}

// Locality "region/zone/subzone" split into its three parts (missing parts empty).
std::array<std::string, 3> SplitLocality(const std::string& l) {
  std::array<std::string, 3> out;
  std::vector<std::string> parts = absl::StrSplit(l, '/');
  for (size_t i = 0; i < parts.size() && i < 3; ++i) out[i] = parts[i];
  return out;
}

// Istio locality patterns: "region/zone/subzone" with "*" for any part; a shorter pattern
// matches every locality under it.
bool LocalityMatches(const std::string& pattern, const std::string& locality) {
  auto p = SplitLocality(pattern);
  auto l = SplitLocality(locality);
  std::vector<std::string> parts = absl::StrSplit(pattern, '/');
  for (size_t i = 0; i < parts.size() && i < 3; ++i) {
    if (p[i] == "*") return true;
    if (p[i] != l[i]) return false;
  }
  return true;
}

// Failover priority of an endpoint in `ep` for a proxy in `proxy` (istiod: same subzone 0,
// same zone 1, same region 2, the failover target region 3, anything else 4).
uint32_t LocalityPriority(const std::string& proxy_locality, const std::string& ep_locality,
                          const model::LocalityLb* setting) {
  auto p = SplitLocality(proxy_locality);
  auto e = SplitLocality(ep_locality);
  if (p[0] == e[0]) {
    if (p[1] == e[1]) return p[2] == e[2] ? 0 : 1;
    return 2;
  }
  if (setting != nullptr) {
    for (const auto& f : setting->failover) {
      if (f.from == p[0] && f.to == e[0]) return 3;
    }
  }
  return 4;
}

ClusterLoadAssignment BuildAssignment(const std::string& name, const ClusterName& cn,
                                      const model::Proxy& proxy, const model::Snapshot& snapshot) {
  ClusterLoadAssignment cla;
  cla.set_cluster_name(name);
  const model::Service* svc = snapshot.FindService(cn.host);
  if (svc == nullptr || svc->FindPort(cn.port) == nullptr) return cla;  // answered, empty
  std::map<std::string, std::string> selector;
  if (!cn.subset.empty() && !SubsetSelector(snapshot, proxy, cn.host, cn.subset, &selector)) {
    return cla;
  }
  TrafficPolicy tp = EffectivePolicy(snapshot, proxy, cn.host, cn.port, cn.subset);
  const model::LocalityLb* locality_lb = tp.load_balancer != nullptr && tp.load_balancer->locality
                                             ? &*tp.load_balancer->locality
                                             : nullptr;
  bool enabled = locality_lb == nullptr || !locality_lb->enabled || *locality_lb->enabled;
  // istiod turns locality failover on only with outlier detection (Envoy could not notice the
  // local endpoints failing otherwise) and when the proxy says where it is.
  bool prioritize = enabled && tp.outlier_detection != nullptr && !proxy.locality.empty() &&
                    (locality_lb == nullptr || locality_lb->distribute.empty());
  const model::LocalityLb::Distribute* distribute = nullptr;
  if (enabled && locality_lb != nullptr && !proxy.locality.empty()) {
    for (const auto& d : locality_lb->distribute) {
      if (LocalityMatches(d.from, proxy.locality)) {
        distribute = &d;
        break;
      }
    }
  }
  std::map<std::pair<uint32_t, std::string>, std::vector<const model::Endpoint*>> groups;
  for (const auto& ep : snapshot.Endpoints(cn.host)) {
    if (ep.service_port != cn.port || !model::LabelsMatch(selector, ep.labels)) continue;
    uint32_t priority = prioritize ? LocalityPriority(proxy.locality, ep.locality, locality_lb) : 0;
    groups[{priority, ep.locality}].push_back(&ep);
  }
  // Priorities must be dense from 0.
  std::map<uint32_t, uint32_t> dense;
  for (const auto& [key, eps] : groups) dense.emplace(key.first, 0);
  uint32_t next = 0;
  for (auto& [p, d] : dense) d = next++;
  for (const auto& [key, eps] : groups) {
    uint32_t weight = 0;
    if (distribute != nullptr) {
      for (const auto& [pattern, w] : distribute->to) {
        if (LocalityMatches(pattern, key.second)) {
          weight = w;
          break;
        }
      }
      if (weight == 0) continue;  // istiod sends no traffic to localities the rule omits
    }
    auto* group = cla.add_endpoints();
    auto parts = SplitLocality(key.second);
    group->mutable_locality()->set_region(parts[0]);
    group->mutable_locality()->set_zone(parts[1]);
    group->mutable_locality()->set_sub_zone(parts[2]);
    group->set_priority(dense[key.first]);
    uint32_t total = 0;
    for (const auto* ep : eps) {
      auto* lb = group->add_lb_endpoints();
      auto* sa = lb->mutable_endpoint()->mutable_address()->mutable_socket_address();
      sa->set_address(ep->address);
      sa->set_port_value(ep->port);
      lb->set_health_status(ep->healthy ? envoy::config::core::v3::HEALTHY
                                        : envoy::config::core::v3::UNHEALTHY);
      uint32_t w = std::max<uint32_t>(1, ep->weight);
      lb->mutable_load_balancing_weight()->set_value(w);
      total += w;
      auto it = ep->labels.find(kTlsModeLabel);
      if (it != ep->labels.end()) {
        auto& md = (*lb->mutable_metadata()->mutable_filter_metadata())[kTransportSocketMatch];
        (*md.mutable_fields())["tlsMode"].set_string_value(it->second);
      }
    }
    group->mutable_load_balancing_weight()->set_value(distribute != nullptr ? weight
                                                                            : std::max(1u, total));
  }
  return cla;
}

}  // namespace

std::string InboundClusterName(uint32_t port) { return absl::StrCat("inbound|", port, "||"); }

std::string IstioSni(uint32_t port, const std::string& subset, const std::string& host) {
  return absl::StrCat("outbound_.", port, "_.", subset, "_.", host);
}

Resources EnvoyGenerator::OutboundClusters(const model::Proxy& proxy,
                                           const model::Snapshot& snapshot) const {
  Resources out;
  // A host's clusters (one per port and subset) share one origin set.
  const model::Service* origins_of = nullptr;
  Origins origins;
  for (const auto& k : OutboundKeys(proxy, snapshot)) {
    Cluster c = BuildOutboundCluster(k, proxy, snapshot);
    if (k.svc != origins_of) {
      origins_of = k.svc;
      origins = DestinationOrigins(snapshot, proxy, k.svc->hostname);
    }
    out.push_back(PackResource(c.name(), c, origins));
  }
  Cluster passthrough = OriginalDst(kPassthroughCluster, false);
  SetDownstreamProtocol(&passthrough);
  out.push_back(PackResource(kPassthroughCluster, passthrough));
  Cluster blackhole;
  blackhole.set_name(kBlackHoleCluster);
  blackhole.set_type(Cluster::STATIC);
  *blackhole.mutable_connect_timeout() = Seconds(kConnectTimeoutSeconds);
  out.push_back(PackResource(kBlackHoleCluster, blackhole));
  Cluster inbound_passthrough = OriginalDst(kInboundPassthroughCluster, true);
  SetDownstreamProtocol(&inbound_passthrough);
  out.push_back(PackResource(kInboundPassthroughCluster, inbound_passthrough));
  return out;
}

namespace {

// The inbound cluster of a Sidecar ingress listener, as istiod builds it from defaultEndpoint:
// none → ORIGINAL_DST (to where the connection was going, from 127.0.0.6); "127.0.0.1:<p>" →
// STATIC to the loopback; "0.0.0.0:<p>" → STATIC to the proxy's IPv4 address (from 127.0.0.6,
// so iptables lets it through); "unix://<path>" → STATIC to the socket.
Cluster IngressCluster(const IngressListener& in, const model::Proxy& proxy) {
  std::string name = InboundClusterName(in.port);
  const std::string& ep = in.default_endpoint;
  if (ep.empty()) return OriginalDst(name, true);
  Cluster c;
  c.set_name(name);
  c.set_type(Cluster::STATIC);
  c.set_lb_policy(Cluster::ROUND_ROBIN);
  *c.mutable_connect_timeout() = Seconds(kConnectTimeoutSeconds);
  DefaultCircuitBreakers(&c);
  auto* la = c.mutable_load_assignment();
  la->set_cluster_name(name);
  auto* addr = la->add_endpoints()->add_lb_endpoints()->mutable_endpoint()->mutable_address();
  if (absl::StartsWith(ep, "unix://")) {
    addr->mutable_pipe()->set_path(ep.substr(strlen("unix://")));
    return c;
  }
  size_t colon = ep.rfind(':');
  std::string host = colon == std::string::npos ? ep : ep.substr(0, colon);
  uint32_t port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(ep.substr(colon + 1), &port)) port = in.port;
  std::string ip = "127.0.0.1";
  if (host == "0.0.0.0") {
    for (const auto& candidate :
         proxy.ips.empty() ? std::vector<std::string>{proxy.ip} : proxy.ips) {
      if (!candidate.empty() && candidate.find(':') == std::string::npos) {
        ip = candidate;
        break;
      }
    }
    if (ip != "127.0.0.1") {
      auto* sa = c.mutable_upstream_bind_config()->mutable_source_address();
      sa->set_address("127.0.0.6");
      sa->set_port_value(0);
    }
  }
  addr->mutable_socket_address()->set_address(ip);
  addr->mutable_socket_address()->set_port_value(port);
  return c;
}

}  // namespace

Resources EnvoyGenerator::InboundClusters(const model::Proxy& proxy,
                                          const model::Snapshot& snapshot) const {
  Resources out;
  if (proxy.IsRouter()) return out;
  SidecarScope scope = ScopeFor(proxy, snapshot);
  if (!scope.ingress.empty()) {
    OriginSet sidecar;  // the Sidecar's ingress listeners define these clusters
    sidecar.Add(scope.sidecar);
    Origins origins = sidecar.Build();
    std::set<uint32_t> ports;
    for (const auto& in : scope.ingress) {
      if (!ports.insert(in.port).second) continue;
      Cluster c = IngressCluster(in, proxy);
      if (IsHttp2Protocol(in.protocol)) SetHttp2(&c);
      out.push_back(PackResource(c.name(), c, origins));
    }
    return out;
  }
  std::set<uint32_t> seen;
  for (const auto& ip : proxy.ips.empty() ? std::vector<std::string>{proxy.ip} : proxy.ips) {
    for (const auto& ref : snapshot.EndpointsAt(ip)) {
      uint32_t port = ref.endpoint->port;
      if (!seen.insert(port).second) continue;
      Cluster c = OriginalDst(InboundClusterName(port), true);
      const model::ServicePort* sp = ref.service->FindPort(ref.endpoint->service_port);
      if (sp != nullptr && IsHttp2Protocol(sp->protocol)) SetHttp2(&c);
      out.push_back(PackResource(c.name(), c));
    }
  }
  return out;
}

Resources EnvoyGenerator::Endpoints(const model::Proxy& proxy, const model::Snapshot& snapshot,
                                    const std::vector<std::string>& names) const {
  Resources out;
  for (const auto& name : names) {
    ClusterName cn;
    if (!ParseClusterName(name, &cn)) {
      // Answer anyway (empty), so Envoy does not keep the cluster warming.
      ClusterLoadAssignment empty;
      empty.set_cluster_name(name);
      out.push_back(PackResource(name, empty));
      continue;
    }
    out.push_back(PackResource(name, BuildAssignment(name, cn, proxy, snapshot),
                               DestinationOrigins(snapshot, proxy, cn.host)));
  }
  return out;
}

}  // namespace meshd::xds
