#include "xds/gen/envoy_generator.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/http/cors/v3/cors.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/listener/original_dst/v3/original_dst.pb.h"
#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "spdlog/spdlog.h"
#include "xds/gen/authz.h"
#include "xds/gen/envoy_gateway.h"
#include "xds/gen/envoy_util.h"
#include "xds/gen/grpc_generator.h"
#include "xds/gen/jwt_authn.h"
#include "xds/gen/name_table.h"
#include "xds/gen/tls.h"

namespace meshd::xds {
namespace {

namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
using envoy::config::listener::v3::FilterChain;
using envoy::config::listener::v3::Listener;
using envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;

constexpr char kHcmFilter[] = "envoy.filters.network.http_connection_manager";
constexpr char kTcpProxyFilter[] = "envoy.filters.network.tcp_proxy";

void SetAddress(const std::string& ip, uint32_t port, Listener* l) {
  auto* sa = l->mutable_address()->mutable_socket_address();
  sa->set_address(ip);
  sa->set_port_value(port);
}

void AddTcpProxy(const std::string& stat_prefix,
                 const std::vector<std::pair<std::string, uint32_t>>& clusters, FilterChain* fc) {
  TcpProxy tcp;
  tcp.set_stat_prefix(stat_prefix);
  if (clusters.size() == 1) {
    tcp.set_cluster(clusters[0].first);
  } else {
    for (const auto& [name, weight] : clusters) {
      auto* c = tcp.mutable_weighted_clusters()->add_clusters();
      c->set_name(name);
      c->set_weight(weight);
    }
  }
  auto* f = fc->add_filters();
  f->set_name(kTcpProxyFilter);
  f->mutable_typed_config()->PackFrom(tcp);
}

void AddHttpFilters(bool outbound, hcm::HttpConnectionManager* m) {
  if (outbound) {
    // Always present, so that adding a fault or CORS policy only changes RDS.
    auto* cors = m->add_http_filters();
    cors->set_name("envoy.filters.http.cors");
    cors->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::cors::v3::Cors());
    auto* fault = m->add_http_filters();
    fault->set_name("envoy.filters.http.fault");
    fault->mutable_typed_config()->PackFrom(
        envoy::extensions::filters::http::fault::v3::HTTPFault());
  }
  auto* router = m->add_http_filters();
  router->set_name("envoy.filters.http.router");
  router->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::router::v3::Router());
}

void AddHcm(const hcm::HttpConnectionManager& m, FilterChain* fc) {
  auto* f = fc->add_filters();
  f->set_name(kHcmFilter);
  f->mutable_typed_config()->PackFrom(m);
}

using Targets = std::vector<std::pair<std::string, uint32_t>>;

// The weighted clusters of an L4 route's destinations (from VirtualService `vs`), those that
// exist; `port` is the default destination port.
Targets L4Targets(const model::L4Route& r, const model::Config& vs, uint32_t port,
                  const model::Snapshot& snapshot) {
  Targets out;
  for (const auto& d : r.destinations) {
    if (d.weight == 0) continue;
    std::string host = snapshot.ResolveShortName(d.destination.host, vs.key.ns);
    const model::Service* target = snapshot.FindService(host);
    if (target == nullptr) continue;
    uint32_t dport = d.destination.port != 0 ? d.destination.port : port;
    if (target->FindPort(dport) == nullptr) {
      if (d.destination.port != 0 || target->ports.size() != 1) continue;
      dport = target->ports[0].number;  // the service's only port
    }
    out.emplace_back(BuildClusterName(dport, d.destination.subset, host), d.weight);
  }
  return out;
}

bool L4MatchApplies(const model::L4Match& m, uint32_t port, const model::Proxy& proxy) {
  return (m.port == 0 || m.port == port) && model::LabelsMatch(m.source_labels, proxy.labels) &&
         (m.source_namespace.empty() || m.source_namespace == proxy.ns) &&
         (m.gateways.empty() ||
          std::find(m.gateways.begin(), m.gateways.end(), "mesh") != m.gateways.end());
}

// One filter chain of an outbound TCP/TLS listener: what it matches and where it goes.
struct L4Chain {
  std::vector<std::string> subnets;       // destination prefix ranges (TCP routes)
  std::vector<std::string> server_names;  // SNI (TLS routes and SNI-routed services)
  Targets targets;
};

// The chains of a TCP connection to `svc`:`port` (a `<vip>_<port>` listener), as istiod builds
// them from the service's VirtualService `tcp` routes: one chain per applicable match (its
// destinationSubnets as prefix ranges), in order; a match without subnets catches the rest;
// without one, the service itself does.
std::vector<L4Chain> TcpChains(const model::Service& svc, uint32_t port, const model::Proxy& proxy,
                               const model::Snapshot& snapshot) {
  std::vector<L4Chain> out;
  std::set<std::vector<std::string>> taken;
  model::ConfigPtr vs = snapshot.VirtualServiceFor(svc.hostname, proxy.ns);
  const model::VirtualService* spec = vs == nullptr ? nullptr : vs->AsVirtualService();
  if (spec != nullptr && spec->AppliesToMesh()) {
    for (const auto& r : spec->tcp) {
      std::vector<std::vector<std::string>> subnet_sets;
      if (r.matches.empty()) subnet_sets.push_back({});
      for (const auto& m : r.matches) {
        if (!L4MatchApplies(m, port, proxy)) continue;
        std::vector<std::string> subnets = m.destination_subnets;
        std::sort(subnets.begin(), subnets.end());
        subnet_sets.push_back(subnets);
      }
      Targets targets = L4Targets(r, *vs, port, snapshot);
      if (targets.empty()) continue;
      for (auto& subnets : subnet_sets) {
        if (!taken.insert(subnets).second) continue;  // an earlier route already matches it
        out.push_back({subnets, {}, targets});
      }
      if (taken.count({})) break;  // a catch-all: later routes are unreachable
    }
  }
  if (!taken.count({})) out.push_back({{}, {}, {{BuildClusterName(port, "", svc.hostname), 100}}});
  return out;
}

// The SNI chains of a TLS/HTTPS service without a VIP on the shared `0.0.0.0_<port>` listener:
// its VirtualService `tls` routes by sniHosts, else one chain for the host itself. Server names
// already in `taken` (an earlier service's) are left out.
void AddTlsChains(const model::Service& svc, uint32_t port, const model::Proxy& proxy,
                  const model::Snapshot& snapshot, std::set<std::string>* taken,
                  std::vector<L4Chain>* out) {
  model::ConfigPtr vs = snapshot.VirtualServiceFor(svc.hostname, proxy.ns);
  const model::VirtualService* spec = vs == nullptr ? nullptr : vs->AsVirtualService();
  bool routed = false;
  if (spec != nullptr && spec->AppliesToMesh()) {
    for (const auto& r : spec->tls) {
      for (const auto& m : r.matches) {
        if (!L4MatchApplies(m, port, proxy)) continue;
        L4Chain chain;
        for (const auto& sni : m.sni_hosts) {
          if (taken->insert(sni).second) chain.server_names.push_back(sni);
        }
        chain.targets = L4Targets(r, *vs, port, snapshot);
        if (chain.server_names.empty() || chain.targets.empty()) continue;
        routed = true;
        out->push_back(std::move(chain));
      }
    }
  }
  if (routed || !taken->insert(svc.hostname).second) return;
  out->push_back({{}, {svc.hostname}, {{BuildClusterName(port, "", svc.hostname), 100}}});
}

bool IsTlsProtocol(const std::string& protocol) { return protocol == "TLS" || protocol == "HTTPS"; }

// An outbound listener being planned: HTTP (RDS) or TCP to one service's port.
struct PlannedListener {
  std::string bind;
  uint32_t port = 0;
  bool http = false;
  bool bind_to_port = false;
  std::string rds;                      // HTTP
  const model::Service* svc = nullptr;  // TCP: the service (the first, for SNI listeners)
  uint32_t service_port = 0;            // TCP
  std::vector<const model::Service*> sni_services;  // TLS without a VIP: SNI chains
};

// The outbound HTTP listener "<bind>_<port>" with RDS `rds` ("<port>", or "<bind>:<port>" for
// a Sidecar egress listener with its own bind, as istiod names them).
Listener HttpOutboundListener(const std::string& bind, uint32_t port, const std::string& rds,
                              bool bind_to_port) {
  Listener l;
  l.set_name(absl::StrCat(bind, "_", port));
  SetAddress(bind, port, &l);
  if (!bind_to_port) l.mutable_bind_to_port()->set_value(false);
  l.set_traffic_direction(envoy::config::core::v3::OUTBOUND);
  hcm::HttpConnectionManager m;
  m.set_stat_prefix(absl::StrCat("outbound_", bind, "_", port));
  m.set_codec_type(hcm::HttpConnectionManager::AUTO);
  auto* r = m.mutable_rds();
  r->set_route_config_name(rds);
  SetAdsSource(r->mutable_config_source());
  m.mutable_use_remote_address()->set_value(false);
  m.mutable_normalize_path()->set_value(true);
  AddHttpFilters(true, &m);
  auto* fc = l.add_filter_chains();
  fc->set_name(l.name());
  AddHcm(m, fc);
  return l;
}

void AddPrefixRange(const std::string& cidr, envoy::config::listener::v3::FilterChainMatch* m) {
  auto* r = m->add_prefix_ranges();
  size_t slash = cidr.find('/');
  r->set_address_prefix(cidr.substr(0, slash));
  uint32_t len = cidr.find(':') != std::string::npos ? 128 : 32;
  if (slash != std::string::npos && !absl::SimpleAtoi(cidr.substr(slash + 1), &len)) len = 32;
  r->mutable_prefix_len()->set_value(len);
}

// An outbound TCP/TLS listener "<ip>_<port>" with one tcp_proxy chain per L4 chain; a listener
// routing by SNI gets tls_inspector, and every listener on the wildcard address a default chain
// to PassthroughCluster (BlackHoleCluster under REGISTRY_ONLY), as istiod's fall-through.
Listener TcpOutboundListener(const std::string& ip, uint32_t port,
                             const std::vector<L4Chain>& chains, bool bind_to_port,
                             bool registry_only) {
  Listener l;
  l.set_name(absl::StrCat(ip, "_", port));
  SetAddress(ip, port, &l);
  if (!bind_to_port) l.mutable_bind_to_port()->set_value(false);
  l.set_traffic_direction(envoy::config::core::v3::OUTBOUND);
  bool sni = false;
  bool catch_all = false;
  for (const auto& c : chains) {
    auto* fc = l.add_filter_chains();
    if (c.subnets.empty() && c.server_names.empty()) {
      fc->set_name(l.name());
      catch_all = true;
    }
    for (const auto& cidr : c.subnets) AddPrefixRange(cidr, fc->mutable_filter_chain_match());
    for (const auto& n : c.server_names) fc->mutable_filter_chain_match()->add_server_names(n);
    sni = sni || !c.server_names.empty();
    AddTcpProxy(c.targets.size() == 1 ? c.targets[0].first : l.name(), c.targets, fc);
  }
  if (sni) {
    auto* ti = l.add_listener_filters();
    ti->set_name("envoy.filters.listener.tls_inspector");
    ti->mutable_typed_config()->PackFrom(
        envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector());
  }
  if (!catch_all && ip == "0.0.0.0") {
    auto* fc = l.mutable_default_filter_chain();
    fc->set_name("PassthroughFilterChain");
    const char* cluster = registry_only ? kBlackHoleCluster : kPassthroughCluster;
    AddTcpProxy(cluster, {{cluster, 100}}, fc);
  }
  return l;
}

Listener VirtualOutbound(bool registry_only) {
  Listener l;
  l.set_name(kVirtualOutbound);
  SetAddress("0.0.0.0", kOutboundPort, &l);
  l.mutable_use_original_dst()->set_value(true);
  l.set_traffic_direction(envoy::config::core::v3::OUTBOUND);
  auto* fc = l.add_filter_chains();
  if (registry_only) {
    fc->set_name("virtualOutbound-blackhole");
    AddTcpProxy(kBlackHoleCluster, {{kBlackHoleCluster, 100}}, fc);
  } else {
    fc->set_name("virtualOutbound-catchall-tcp");
    AddTcpProxy(kPassthroughCluster, {{kPassthroughCluster, 100}}, fc);
  }
  return l;
}

// The HTTP connection manager of an inbound port: every request to the local workload.
hcm::HttpConnectionManager InboundHcm(uint32_t port) {
  hcm::HttpConnectionManager m;
  m.set_stat_prefix(absl::StrCat("inbound_0.0.0.0_", port));
  m.set_codec_type(hcm::HttpConnectionManager::AUTO);
  m.mutable_use_remote_address()->set_value(false);
  m.mutable_normalize_path()->set_value(true);
  m.set_forward_client_cert_details(hcm::HttpConnectionManager::APPEND_FORWARD);
  m.mutable_set_current_client_cert_details()->mutable_subject()->set_value(true);
  m.mutable_set_current_client_cert_details()->set_dns(true);
  m.mutable_set_current_client_cert_details()->set_uri(true);
  auto* rc = m.mutable_route_config();
  rc->set_name(InboundClusterName(port));
  rc->mutable_validate_clusters()->set_value(false);
  auto* vh = rc->add_virtual_hosts();
  vh->set_name(absl::StrCat("inbound|http|", port));
  vh->add_domains("*");
  auto* route = vh->add_routes();
  route->set_name("default");
  route->mutable_match()->set_prefix("/");
  route->mutable_route()->set_cluster(InboundClusterName(port));
  *route->mutable_route()->mutable_timeout() = Seconds(0);
  AddHttpFilters(false, &m);
  return m;
}

void AddInboundChain(const std::string& name, uint32_t port, bool http, bool mtls,
                     const std::string& transport, const std::vector<std::string>& alpn,
                     Listener* l) {
  auto* fc = l->add_filter_chains();
  fc->set_name(name);
  auto* match = fc->mutable_filter_chain_match();
  if (port != 0) match->mutable_destination_port()->set_value(port);
  if (!transport.empty()) match->set_transport_protocol(transport);
  for (const auto& a : alpn) match->add_application_protocols(a);
  if (mtls) *fc->mutable_transport_socket() = TlsTransportSocket(IstioMtlsDownstream(http));
  std::string cluster = port != 0 ? InboundClusterName(port) : kInboundPassthroughCluster;
  if (http && port != 0) {
    AddHcm(InboundHcm(port), fc);
  } else {
    AddTcpProxy(cluster, {{cluster, 100}}, fc);
  }
}

const std::vector<std::string>& HttpMtlsAlpn() {
  static const auto* v =
      new std::vector<std::string>{"istio-http/1.0", "istio-http/1.1", "istio-h2"};
  return *v;
}

const std::vector<std::string>& TcpMtlsAlpn() {
  static const auto* v = new std::vector<std::string>{"istio-peer-exchange", "istio"};
  return *v;
}

// Chains of one inbound port (or the catch-all, port 0) for a PeerAuthentication mode:
//   STRICT      mTLS only (TLS with Istio's ALPN)
//   PERMISSIVE  mTLS, the workload's own TLS passed through, and plaintext
//   DISABLE     plaintext (anything) to the workload
void AddInboundChains(uint32_t port, bool http, MtlsMode mode, Listener* l) {
  std::string base = port != 0 ? InboundClusterName(port) : "virtualInbound-catchall";
  const auto& alpn = http ? HttpMtlsAlpn() : TcpMtlsAlpn();
  switch (mode) {
    case MtlsMode::kStrict:
      AddInboundChain(base + "-mtls", port, http, true, "tls", alpn, l);
      break;
    case MtlsMode::kPermissive:
      AddInboundChain(base + "-mtls", port, http, true, "tls", alpn, l);
      AddInboundChain(base + "-tls", port, false, false, "tls", {}, l);
      AddInboundChain(base + "-plaintext", port, http, false, "raw_buffer", {}, l);
      break;
    case MtlsMode::kDisable:
      AddInboundChain(base + "-plaintext", port, http, false, "", {}, l);
      break;
  }
}

// The chain of a Sidecar ingress listener with its own `tls`: the workload's server TLS
// replaces mesh mTLS on that port (istiod ignores PeerAuthentication there).
void AddIngressTlsChain(const IngressListener& in, Listener* l) {
  auto* fc = l->add_filter_chains();
  fc->set_name(absl::StrCat(InboundClusterName(in.port), "-tls"));
  fc->mutable_filter_chain_match()->mutable_destination_port()->set_value(in.port);
  fc->mutable_filter_chain_match()->set_transport_protocol("tls");
  *fc->mutable_transport_socket() = TlsTransportSocket(ServerTlsContext(*in.tls));
  if (IsHttpProtocol(in.protocol)) {
    AddHcm(InboundHcm(in.port), fc);
  } else {
    std::string cluster = InboundClusterName(in.port);
    AddTcpProxy(cluster, {{cluster, 100}}, fc);
  }
}

void AddIngressChains(const IngressListener& in, const model::Proxy& proxy,
                      const model::Snapshot& snapshot, Listener* l) {
  if (in.tls != nullptr) {
    AddIngressTlsChain(in, l);
    return;
  }
  AddInboundChains(in.port, IsHttpProtocol(in.protocol),
                   EffectiveMtlsMode(snapshot, proxy.ns, proxy.labels, in.port), l);
}

void AddInboundListenerFilters(bool original_dst, Listener* l) {
  if (original_dst) {
    auto* od = l->add_listener_filters();
    od->set_name("envoy.filters.listener.original_dst");
    od->mutable_typed_config()->PackFrom(
        envoy::extensions::filters::listener::original_dst::v3::OriginalDst());
  }
  auto* ti = l->add_listener_filters();
  ti->set_name("envoy.filters.listener.tls_inspector");
  ti->mutable_typed_config()->PackFrom(
      envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector());
}

}  // namespace

Resources EnvoyGenerator::Generate(const std::string& type_url, const model::Proxy& proxy,
                                   const model::Snapshot& snapshot,
                                   const std::vector<std::string>& names) const {
  if (proxy.IsRouter()) {
    if (type_url == kListenerType) return GatewayListeners(proxy, snapshot);
    if (type_url == kRouteType) return GatewayRoutes(proxy, snapshot, names);
  }
  if (type_url == kListenerType) return OutboundListeners(proxy, snapshot);
  if (type_url == kRouteType) return Routes(proxy, snapshot, names);
  if (type_url == kClusterType) return OutboundClusters(proxy, snapshot);
  if (type_url == kEndpointType) return Endpoints(proxy, snapshot, names);
  if (type_url == kSecretType) return GatewaySecrets(proxy, snapshot, names, secret_access_.get());
  return {};
}

Resources EnvoyGenerator::GenerateOwn(const std::string& type_url, const model::Proxy& proxy,
                                      const model::Snapshot& snapshot) const {
  if (type_url == kListenerType) return InboundListener(proxy, snapshot);
  if (type_url == kClusterType) return InboundClusters(proxy, snapshot);
  // NDS depends on the proxy's DNS-capture metadata, which is not part of the cached view.
  if (type_url == kNameTableType) {
    return NameTableGenerator().Generate(type_url, proxy, snapshot, {});
  }
  return {};
}

Resources EnvoyGenerator::OutboundListeners(const model::Proxy& proxy,
                                            const model::Snapshot& snapshot) const {
  SidecarScope scope = ScopeFor(proxy, snapshot);
  std::vector<const model::Service*> services = VisibleServices(proxy, snapshot, scope);
  bool proxy_binds = proxy.interception_mode == "NONE";
  // By listener name; the first planned wins a shared address (port-specific egress listeners
  // are planned first, as istiod builds them first).
  std::map<std::string, PlannedListener> planned;
  std::vector<EgressListener> egress = scope.egress;
  if (egress.empty()) egress.emplace_back();  // no Sidecar egress: one catch-all, everything
  std::stable_partition(egress.begin(), egress.end(),
                        [](const EgressListener& e) { return e.port != 0; });
  for (const auto& e : egress) {
    bool bind_to_port = e.capture_none || proxy_binds;
    std::string bind = e.bind.empty() ? "0.0.0.0" : e.bind;
    // HTTP ports first, so a TCP service without a VIP cannot take an HTTP port's listener.
    std::set<uint32_t> http_ports;
    if (e.port != 0) {
      if (IsHttpProtocol(e.protocol)) http_ports.insert(e.port);
    } else {
      for (const model::Service* svc : services) {
        if (!e.Includes(*svc)) continue;
        for (const auto& p : svc->ports) {
          if (p.number == kOutboundPort || p.number == kInboundPort) continue;
          if (scope.PortClaimed(p.number)) continue;
          if (IsHttpProtocol(p.protocol)) http_ports.insert(p.number);
        }
      }
    }
    for (uint32_t port : http_ports) {
      PlannedListener pl{bind, port, true, bind_to_port, "", nullptr, 0};
      pl.rds = bind == "0.0.0.0" ? absl::StrCat(port) : absl::StrCat(bind, ":", port);
      planned.emplace(absl::StrCat(bind, "_", port), pl);
    }
    if (e.port != 0 && IsHttpProtocol(e.protocol)) continue;
    for (const model::Service* svc : services) {
      if (!e.Includes(*svc)) continue;
      std::string vip = ServiceVip(*svc);
      for (const auto& p : svc->ports) {
        uint32_t listen_port = e.port != 0 ? e.port : p.number;
        if (e.port != 0) {
          if (EgressServicePort(*svc, e.port, true) != &p) continue;
          if (e.protocol == "UDP") continue;
        } else {
          if (p.number == kOutboundPort || p.number == kInboundPort) continue;
          if (scope.PortClaimed(p.number)) continue;
          if (IsHttpProtocol(p.protocol) || p.protocol == "UDP") continue;
        }
        std::string ip = !e.bind.empty() ? e.bind : (vip.empty() ? "0.0.0.0" : vip);
        std::string name = absl::StrCat(ip, "_", listen_port);
        if (ip == "0.0.0.0" && http_ports.count(listen_port)) {
          spdlog::debug("envoy generator: {}:{} (TCP, no VIP) conflicts with HTTP port {}",
                        svc->hostname, p.number, listen_port);
          continue;
        }
        std::string protocol = e.port != 0 ? e.protocol : p.protocol;
        if (ip == "0.0.0.0" && IsTlsProtocol(protocol) && listen_port == p.number) {
          // TLS without a VIP: services share the listener, told apart by SNI (istiod).
          auto [it, inserted] = planned.emplace(
              name, PlannedListener{ip, listen_port, false, bind_to_port, "", svc, p.number});
          if (!it->second.http && (inserted || !it->second.sni_services.empty())) {
            it->second.sni_services.push_back(svc);
          }
          continue;
        }
        planned.emplace(name,
                        PlannedListener{ip, listen_port, false, bind_to_port, "", svc, p.number});
      }
    }
  }
  Resources out;
  // Every outbound listener is shaped by the Sidecar that scopes the proxy (if any).
  OriginSet scoped;
  scoped.Add(scope.sidecar);
  Origins sidecar_origins = scoped.Build();
  out.push_back(
      PackResource(kVirtualOutbound, VirtualOutbound(scope.registry_only), sidecar_origins));
  // HTTP listeners first (by port), then TCP/TLS ones (by name).
  std::map<std::pair<uint32_t, std::string>, const PlannedListener*> http;
  for (const auto& [name, pl] : planned) {
    if (pl.http) http.emplace(std::make_pair(pl.port, name), &pl);
  }
  for (const auto& [key, pl] : http) {
    Listener l = HttpOutboundListener(pl->bind, pl->port, pl->rds, pl->bind_to_port);
    out.push_back(PackResource(l.name(), l, sidecar_origins));
  }
  for (const auto& [name, pl] : planned) {
    if (pl.http) continue;
    std::vector<L4Chain> chains;
    // The Sidecar, the VirtualServices whose tcp/tls routes make the chains, the
    // ServiceEntries of the services.
    OriginSet origins;
    origins.Add(sidecar_origins);
    for (const model::Service* svc :
         pl.sni_services.empty() ? std::vector<const model::Service*>{pl.svc} : pl.sni_services) {
      origins.AddServiceOrigin(svc);
      if (svc == nullptr) continue;
      model::ConfigPtr vs = snapshot.VirtualServiceFor(svc->hostname, proxy.ns);
      const model::VirtualService* spec = vs == nullptr ? nullptr : vs->AsVirtualService();
      if (spec != nullptr && !(spec->tcp.empty() && spec->tls.empty())) origins.Add(vs);
    }
    if (!pl.sni_services.empty()) {
      std::set<std::string> taken;
      for (const model::Service* svc : pl.sni_services) {
        AddTlsChains(*svc, pl.port, proxy, snapshot, &taken, &chains);
      }
    } else {
      chains = TcpChains(*pl.svc, pl.service_port, proxy, snapshot);
    }
    Listener l =
        TcpOutboundListener(pl.bind, pl.port, chains, pl.bind_to_port, scope.registry_only);
    out.push_back(PackResource(l.name(), l, origins.Build()));
  }
  return out;
}

Resources EnvoyGenerator::InboundListener(const model::Proxy& proxy,
                                          const model::Snapshot& snapshot) const {
  if (proxy.IsRouter()) return {};
  Resources out;
  Listener l;
  l.set_name(kVirtualInbound);
  SetAddress("0.0.0.0", kInboundPort, &l);
  l.set_traffic_direction(envoy::config::core::v3::INBOUND);
  AddInboundListenerFilters(true, &l);
  SidecarScope scope = ScopeFor(proxy, snapshot);
  // The inbound side is shaped by the Sidecar (ingress), the PeerAuthentications (mTLS modes),
  // the AuthorizationPolicies and RequestAuthentications (filters) that select the workload.
  OriginSet origins;
  origins.Add(scope.sidecar);
  for (const auto& c : PeerAuthenticationsFor(snapshot, proxy.ns, proxy.labels)) origins.Add(c);
  for (const auto& c : AuthorizationPoliciesFor(proxy, snapshot)) origins.Add(c);
  for (const auto& c : RequestAuthenticationsFor(proxy, snapshot)) origins.Add(c);
  Origins inbound_origins = origins.Build();
  if (!scope.ingress.empty()) {
    // The Sidecar's ingress listeners are the inbound ports (istiod). Captured ones are chains
    // of virtualInbound; with captureMode NONE (or a proxy without interception) the listener
    // binds "<bind or proxy IP>:<port>" itself.
    bool proxy_binds = proxy.interception_mode == "NONE";
    for (const auto& in : scope.ingress) {
      if (!in.capture_none && !proxy_binds) {
        AddIngressChains(in, proxy, snapshot, &l);
        continue;
      }
      std::string bind = !in.bind.empty() ? in.bind : proxy.ip.empty() ? "0.0.0.0" : proxy.ip;
      Listener own;
      own.set_name(absl::StrCat(bind, "_", in.port));
      SetAddress(bind, in.port, &own);
      own.set_traffic_direction(envoy::config::core::v3::INBOUND);
      AddInboundListenerFilters(false, &own);
      AddIngressChains(in, proxy, snapshot, &own);
      out.push_back(PackResource(own.name(), own, inbound_origins));
    }
  } else {
    // The workload's ports: what the services' endpoints at this proxy's IPs target.
    std::map<uint32_t, bool> ports;  // target port → HTTP
    for (const auto& ip : proxy.ips.empty() ? std::vector<std::string>{proxy.ip} : proxy.ips) {
      for (const auto& ref : snapshot.EndpointsAt(ip)) {
        const model::ServicePort* sp = ref.service->FindPort(ref.endpoint->service_port);
        bool http = sp != nullptr && IsHttpProtocol(sp->protocol);
        ports.emplace(ref.endpoint->port, http);
      }
    }
    for (const auto& [port, http] : ports) {
      AddInboundChains(port, http, EffectiveMtlsMode(snapshot, proxy.ns, proxy.labels, port), &l);
    }
  }
  // Ports no service names: passed through to the workload under the workload-wide mode.
  AddInboundChains(0, false, EffectiveMtlsMode(snapshot, proxy.ns, proxy.labels, 0), &l);
  AppendInboundAuthzFilters(proxy, snapshot, &l);
  out.insert(out.begin(), PackResource(kVirtualInbound, l, inbound_origins));
  return out;
}

}  // namespace meshd::xds
