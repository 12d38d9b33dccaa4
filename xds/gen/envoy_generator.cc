#include "xds/gen/envoy_generator.h"

#include <map>
#include <set>

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

// The clusters a TCP connection to `svc`:`port` goes to: the first TCP route of its
// VirtualService that applies, else the service itself.
std::vector<std::pair<std::string, uint32_t>> TcpTargets(const model::Service& svc, uint32_t port,
                                                         const model::Proxy& proxy,
                                                         const model::Snapshot& snapshot) {
  model::ConfigPtr vs = snapshot.VirtualServiceFor(svc.hostname, proxy.ns);
  const model::VirtualService* spec = vs == nullptr ? nullptr : vs->AsVirtualService();
  if (spec != nullptr) {
    for (const auto& r : spec->tcp) {
      bool applies = r.matches.empty();
      for (const auto& m : r.matches) {
        if ((m.port == 0 || m.port == port) && model::LabelsMatch(m.source_labels, proxy.labels) &&
            (m.source_namespace.empty() || m.source_namespace == proxy.ns)) {
          applies = true;
        }
      }
      if (!applies) continue;
      std::vector<std::pair<std::string, uint32_t>> out;
      for (const auto& d : r.destinations) {
        if (d.weight == 0) continue;
        std::string host = snapshot.ResolveShortName(d.destination.host, vs->key.ns);
        const model::Service* target = snapshot.FindService(host);
        uint32_t dport = d.destination.port != 0 ? d.destination.port : port;
        if (target == nullptr || target->FindPort(dport) == nullptr) continue;
        out.emplace_back(BuildClusterName(dport, d.destination.subset, host), d.weight);
      }
      if (!out.empty()) return out;
    }
  }
  return {{BuildClusterName(port, "", svc.hostname), 100}};
}

Listener HttpOutboundListener(uint32_t port) {
  Listener l;
  l.set_name(absl::StrCat("0.0.0.0_", port));
  SetAddress("0.0.0.0", port, &l);
  l.mutable_bind_to_port()->set_value(false);
  l.set_traffic_direction(envoy::config::core::v3::OUTBOUND);
  hcm::HttpConnectionManager m;
  m.set_stat_prefix(absl::StrCat("outbound_0.0.0.0_", port));
  m.set_codec_type(hcm::HttpConnectionManager::AUTO);
  auto* rds = m.mutable_rds();
  rds->set_route_config_name(absl::StrCat(port));
  SetAdsSource(rds->mutable_config_source());
  m.mutable_use_remote_address()->set_value(false);
  m.mutable_normalize_path()->set_value(true);
  AddHttpFilters(true, &m);
  auto* fc = l.add_filter_chains();
  fc->set_name(l.name());
  AddHcm(m, fc);
  return l;
}

Listener TcpOutboundListener(const std::string& ip, uint32_t port,
                             const std::vector<std::pair<std::string, uint32_t>>& targets) {
  Listener l;
  l.set_name(absl::StrCat(ip, "_", port));
  SetAddress(ip, port, &l);
  l.mutable_bind_to_port()->set_value(false);
  l.set_traffic_direction(envoy::config::core::v3::OUTBOUND);
  auto* fc = l.add_filter_chains();
  fc->set_name(l.name());
  AddTcpProxy(targets.size() == 1 ? targets[0].first : l.name(), targets, fc);
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
  if (type_url == kSecretType) return GatewaySecrets(proxy, snapshot, names);
  return {};
}

Resources EnvoyGenerator::GenerateOwn(const std::string& type_url, const model::Proxy& proxy,
                                      const model::Snapshot& snapshot) const {
  if (type_url == kListenerType) return InboundListener(proxy, snapshot);
  if (type_url == kClusterType) return InboundClusters(proxy, snapshot);
  return {};
}

Resources EnvoyGenerator::OutboundListeners(const model::Proxy& proxy,
                                            const model::Snapshot& snapshot) const {
  SidecarScope scope = ScopeFor(proxy, snapshot);
  std::set<uint32_t> http_ports;
  // Listener name → (service, port) for TCP; the first (by hostname) wins a shared address.
  std::map<std::string, std::pair<const model::Service*, uint32_t>> tcp;
  std::vector<const model::Service*> services = VisibleServices(proxy, snapshot, scope);
  for (const model::Service* svc : services) {
    for (const auto& p : svc->ports) {
      if (p.number == kOutboundPort || p.number == kInboundPort) continue;
      if (IsHttpProtocol(p.protocol)) http_ports.insert(p.number);
    }
  }
  for (const model::Service* svc : services) {
    std::string vip = ServiceVip(*svc);
    for (const auto& p : svc->ports) {
      if (p.number == kOutboundPort || p.number == kInboundPort) continue;
      if (IsHttpProtocol(p.protocol) || p.protocol == "UDP") continue;
      if (vip.empty() && http_ports.count(p.number)) {
        spdlog::debug("envoy generator: {}:{} (TCP, no VIP) conflicts with HTTP port {}",
                      svc->hostname, p.number, p.number);
        continue;
      }
      std::string ip = vip.empty() ? "0.0.0.0" : vip;
      tcp.emplace(absl::StrCat(ip, "_", p.number), std::make_pair(svc, p.number));
    }
  }
  Resources out;
  out.push_back(PackResource(kVirtualOutbound, VirtualOutbound(scope.registry_only)));
  for (uint32_t port : http_ports) {
    Listener l = HttpOutboundListener(port);
    out.push_back(PackResource(l.name(), l));
  }
  for (const auto& [name, target] : tcp) {
    std::string ip = name.substr(0, name.rfind('_'));
    Listener l = TcpOutboundListener(ip, target.second,
                                     TcpTargets(*target.first, target.second, proxy, snapshot));
    out.push_back(PackResource(l.name(), l));
  }
  return out;
}

Resources EnvoyGenerator::InboundListener(const model::Proxy& proxy,
                                          const model::Snapshot& snapshot) const {
  if (proxy.IsRouter()) return {};
  Listener l;
  l.set_name(kVirtualInbound);
  SetAddress("0.0.0.0", kInboundPort, &l);
  l.set_traffic_direction(envoy::config::core::v3::INBOUND);
  auto* od = l.add_listener_filters();
  od->set_name("envoy.filters.listener.original_dst");
  od->mutable_typed_config()->PackFrom(
      envoy::extensions::filters::listener::original_dst::v3::OriginalDst());
  auto* ti = l.add_listener_filters();
  ti->set_name("envoy.filters.listener.tls_inspector");
  ti->mutable_typed_config()->PackFrom(
      envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector());
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
  // Ports no service names: passed through to the workload under the workload-wide mode.
  AddInboundChains(0, false, EffectiveMtlsMode(snapshot, proxy.ns, proxy.labels, 0), &l);
  AppendInboundAuthzFilters(proxy, snapshot, &l);
  return {PackResource(kVirtualInbound, l)};
}

}  // namespace meshd::xds
