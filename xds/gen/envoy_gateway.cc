// LDS and RDS for gateways (router nodes): the servers of the Gateways whose selector matches
// the gateway's labels become listeners "0.0.0.0_<targetPort>" (the server port mapped through
// the gateway Service), HTTP servers share RDS "http.<targetPort>", each TLS-terminating
// server gets its own SNI filter chain and RDS "https.<port>.<portName>.<gateway>.<ns>", and
// VirtualServices bound to the gateway by `gateways:` fill the routes.
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"
#include "spdlog/spdlog.h"
#include "xds/gen/envoy_gateway.h"
#include "xds/gen/envoy_util.h"
#include "xds/gen/grpc_generator.h"
#include "xds/gen/tls.h"

namespace meshd::xds {
namespace {

namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
namespace tlsv3 = envoy::extensions::transport_sockets::tls::v3;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;

// A Gateway server as this gateway serves it.
struct ServerRef {
  const model::Config* gateway;
  const model::GatewayServer* server;
  int index;
  uint32_t target_port;
};

bool IsHttpServer(const model::GatewayServer& s) {
  std::string p = absl::AsciiStrToUpper(s.port.protocol);
  return IsHttpProtocol(p);
}

bool TerminatesTls(const model::GatewayServer& s) {
  std::string p = absl::AsciiStrToUpper(s.port.protocol);
  return (p == "HTTPS" || p == "TLS") && s.tls &&
         s.tls->mode != model::ServerTls::Mode::kPassthrough &&
         s.tls->mode != model::ServerTls::Mode::kAutoPassthrough;
}

// The server host without its "namespace/" part.
std::string HostPart(const std::string& h) {
  auto slash = h.find('/');
  return slash == std::string::npos ? h : h.substr(slash + 1);
}

// The port the gateway pods listen on for server port `port`, from the gateway Service's port
// mapping: a service in the gateway's namespace with endpoints the Gateway's selector selects
// and a port `port` → its targetPort (else the port its endpoints serve it on); no such
// service → the port itself. Depends only on the Gateway, the namespace and the snapshot, not on
// which pod asks, so every gateway pod sharing a cached view gets the same listeners.
uint32_t TargetPort(const std::map<std::string, std::string>& selector, const std::string& ns,
                    const model::Snapshot& snapshot, uint32_t port) {
  for (const auto& [host, svc] : snapshot.Services()) {
    if (svc.ns != ns) continue;
    const model::ServicePort* sp = svc.FindPort(port);
    if (sp == nullptr) continue;
    for (const auto& ep : snapshot.Endpoints(host)) {
      if (ep.service_port != port || !model::LabelsMatch(selector, ep.labels)) continue;
      return sp->target_port != 0 ? sp->target_port : ep.port;
    }
  }
  return port;
}

std::vector<ServerRef> Servers(const model::Proxy& proxy, const model::Snapshot& snapshot) {
  std::vector<ServerRef> out;
  for (const auto& c : snapshot.Configs(model::Kind::kGateway)) {
    const model::Gateway* gw = c->AsGateway();
    if (gw == nullptr || gw->selector.empty()) continue;
    if (!model::LabelsMatch(gw->selector, proxy.labels)) continue;
    for (size_t i = 0; i < gw->servers.size(); ++i) {
      const model::GatewayServer& s = gw->servers[i];
      out.push_back({c.get(), &s, static_cast<int>(i),
                     TargetPort(gw->selector, proxy.ns, snapshot, s.port.number)});
    }
  }
  return out;
}

// Whether VirtualService `vs` (in `vs_ns`) names the gateway `gw`.
bool BindsGateway(const std::vector<std::string>& gateways, const std::string& vs_ns,
                  const model::Config& gw) {
  for (const auto& g : gateways) {
    if (g == "mesh") continue;
    std::vector<std::string> parts = absl::StrSplit(g, absl::MaxSplits('/', 1));
    std::string ns = parts.size() == 2 ? parts[0] : vs_ns;
    std::string name = parts.size() == 2 ? parts[1] : parts[0];
    if (ns == gw.key.ns && name == gw.key.name) return true;
  }
  return false;
}

// Whether a VirtualService host and a Gateway server host can name the same request host.
bool HostsIntersect(const std::string& a, const std::string& b) {
  return model::HostMatches(a, b) || model::HostMatches(b, a);
}

std::string HttpsRouteName(const ServerRef& s) {
  std::string port_name = s.server->port.name.empty() ? "https" : s.server->port.name;
  return absl::StrCat("https.", s.server->port.number, ".", port_name, ".", s.gateway->key.name,
                      ".", s.gateway->key.ns);
}

tlsv3::SdsSecretConfig AdsSecret(const std::string& name) {
  tlsv3::SdsSecretConfig out;
  out.set_name(name);
  SetAdsSource(out.mutable_sds_config());
  return out;
}

tlsv3::DownstreamTlsContext ServerTls(const model::ServerTls& t) {
  using Mode = model::ServerTls::Mode;
  tlsv3::DownstreamTlsContext ctx;
  auto* common = ctx.mutable_common_tls_context();
  common->add_alpn_protocols("h2");
  common->add_alpn_protocols("http/1.1");
  switch (t.mode) {
    case Mode::kIstioMutual:
      return IstioMtlsDownstream(true);
    case Mode::kMutual:
    case Mode::kOptionalMutual:
      ctx.mutable_require_client_certificate()->set_value(t.mode == Mode::kMutual);
      if (!t.credential_name.empty()) {
        *common->mutable_validation_context_sds_secret_config() =
            AdsSecret(absl::StrCat("kubernetes://", t.credential_name, "-cacert"));
      } else if (!t.ca_certificates.empty()) {
        common->mutable_validation_context()->mutable_trusted_ca()->set_filename(t.ca_certificates);
      }
      break;
    default:
      break;
  }
  if (!t.credential_name.empty()) {
    // Served over ADS from the Kubernetes secret, to gateways only (as istiod).
    *common->add_tls_certificate_sds_secret_configs() =
        AdsSecret(absl::StrCat("kubernetes://", t.credential_name));
  } else if (!t.server_certificate.empty()) {
    auto* cert = common->add_tls_certificates();
    cert->mutable_certificate_chain()->set_filename(t.server_certificate);
    cert->mutable_private_key()->set_filename(t.private_key);
  }
  return ctx;
}

hcm::HttpConnectionManager GatewayHcm(const std::string& stat_prefix, const std::string& rds) {
  hcm::HttpConnectionManager m;
  m.set_stat_prefix(stat_prefix);
  m.set_codec_type(hcm::HttpConnectionManager::AUTO);
  m.mutable_use_remote_address()->set_value(true);  // the gateway is the edge
  m.mutable_normalize_path()->set_value(true);
  m.mutable_rds()->set_route_config_name(rds);
  SetAdsSource(m.mutable_rds()->mutable_config_source());
  auto* router = m.add_http_filters();
  router->set_name("envoy.filters.http.router");
  router->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::router::v3::Router());
  return m;
}

void AddTcp(const std::string& cluster, envoy::config::listener::v3::FilterChain* fc) {
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy tcp;
  tcp.set_stat_prefix(cluster);
  tcp.set_cluster(cluster);
  auto* f = fc->add_filters();
  f->set_name("envoy.filters.network.tcp_proxy");
  f->mutable_typed_config()->PackFrom(tcp);
}

// The cluster a TLS passthrough / TCP server sends a connection to: the first tls (by SNI) or
// tcp route of a VirtualService bound to the gateway (added to `origins`); "" if none.
std::string L4Target(const ServerRef& s, const model::Snapshot& snapshot, const std::string& sni,
                     bool tls, OriginSet* origins) {
  for (const auto& c : snapshot.Configs(model::Kind::kVirtualService)) {
    const model::VirtualService* vs = c->AsVirtualService();
    if (vs == nullptr || !BindsGateway(vs->gateways, c->key.ns, *s.gateway)) continue;
    for (const auto& r : tls ? vs->tls : vs->tcp) {
      bool applies = r.matches.empty();
      for (const auto& m : r.matches) {
        if (m.port != 0 && m.port != s.server->port.number) continue;
        if (!tls || m.sni_hosts.empty()) applies = true;
        for (const auto& h : m.sni_hosts) applies = applies || HostsIntersect(h, sni);
      }
      if (!applies || r.destinations.empty()) continue;
      const auto& d = r.destinations[0].destination;
      std::string host = snapshot.ResolveShortName(d.host, c->key.ns);
      const model::Service* svc = snapshot.FindService(host);
      if (svc == nullptr) continue;
      uint32_t port = d.port != 0 ? d.port : (svc->ports.size() == 1 ? svc->ports[0].number : 0);
      if (svc->FindPort(port) == nullptr) continue;
      origins->Add(c);
      return BuildClusterName(port, d.subset, host);
    }
  }
  return "";
}

}  // namespace

tlsv3::DownstreamTlsContext ServerTlsContext(const model::ServerTls& tls) { return ServerTls(tls); }

Resources GatewayListeners(const model::Proxy& proxy, const model::Snapshot& snapshot) {
  std::map<uint32_t, std::vector<ServerRef>> by_port;
  for (const auto& s : Servers(proxy, snapshot)) by_port[s.target_port].push_back(s);
  Resources out;
  for (const auto& [port, servers] : by_port) {
    Listener l;
    l.set_name(absl::StrCat("0.0.0.0_", port));
    auto* sa = l.mutable_address()->mutable_socket_address();
    sa->set_address("0.0.0.0");
    sa->set_port_value(port);
    l.set_traffic_direction(envoy::config::core::v3::OUTBOUND);
    bool plain_http = false;
    bool sni = false;
    std::set<std::string> taken_sni;
    OriginSet origins;  // the Gateways of the port's servers, the VirtualServices of L4 routes
    for (const auto& s : servers) {
      origins.Add(s.gateway);
      const model::GatewayServer& server = *s.server;
      if (IsHttpServer(server) ||
          (server.tls && server.tls->https_redirect && !TerminatesTls(server))) {
        if (plain_http) continue;  // all plain HTTP servers on a port share one chain
        plain_http = true;
        auto* fc = l.add_filter_chains();
        fc->set_name(absl::StrCat("http.", port));
        auto* f = fc->add_filters();
        f->set_name("envoy.filters.network.http_connection_manager");
        f->mutable_typed_config()->PackFrom(
            GatewayHcm(absl::StrCat("outbound_0.0.0.0_", port), absl::StrCat("http.", port)));
        continue;
      }
      std::vector<std::string> names;
      for (const auto& h : server.hosts) {
        std::string host = HostPart(h);
        if (host != "*" && taken_sni.insert(host).second) names.push_back(host);
      }
      if (TerminatesTls(server)) {
        auto* fc = l.add_filter_chains();
        fc->set_name(HttpsRouteName(s));
        for (const auto& n : names) fc->mutable_filter_chain_match()->add_server_names(n);
        sni = true;
        *fc->mutable_transport_socket() = TlsTransportSocket(ServerTls(*server.tls));
        auto* f = fc->add_filters();
        f->set_name("envoy.filters.network.http_connection_manager");
        f->mutable_typed_config()->PackFrom(
            GatewayHcm(absl::StrCat("outbound_0.0.0.0_", port), HttpsRouteName(s)));
      } else if (server.tls) {  // PASSTHROUGH: SNI → the tls route's destination
        for (const auto& n : names) {
          std::string cluster = L4Target(s, snapshot, n, true, &origins);
          if (cluster.empty()) continue;
          auto* fc = l.add_filter_chains();
          fc->set_name(absl::StrCat("passthrough.", port, ".", n));
          fc->mutable_filter_chain_match()->add_server_names(n);
          sni = true;
          AddTcp(cluster, fc);
        }
      } else {  // TCP
        std::string cluster = L4Target(s, snapshot, "", false, &origins);
        if (cluster.empty()) continue;
        auto* fc = l.add_filter_chains();
        fc->set_name(absl::StrCat("tcp.", port));
        AddTcp(cluster, fc);
      }
    }
    if (l.filter_chains().empty()) continue;  // nothing routable on this port yet
    if (sni) {
      auto* ti = l.add_listener_filters();
      ti->set_name("envoy.filters.listener.tls_inspector");
      ti->mutable_typed_config()->PackFrom(
          envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector());
    }
    out.push_back(PackResource(l.name(), l, origins.Build()));
  }
  return out;
}

Resources GatewayRoutes(const model::Proxy& proxy, const model::Snapshot& snapshot,
                        const std::vector<std::string>& names) {
  std::vector<ServerRef> servers = Servers(proxy, snapshot);
  Resources out;
  for (const auto& name : names) {
    RouteConfiguration rc;
    rc.set_name(name);
    rc.mutable_validate_clusters()->set_value(false);
    // The servers this route configuration serves.
    std::vector<const ServerRef*> mine;
    for (const auto& s : servers) {
      bool https = TerminatesTls(*s.server);
      if ((https && HttpsRouteName(s) == name) ||
          (!https && name == absl::StrCat("http.", s.target_port))) {
        mine.push_back(&s);
      }
    }
    std::set<std::string> taken;
    OriginSet origins;  // the Gateways served, the VirtualServices whose hosts are added
    for (const ServerRef* s : mine) {
      origins.Add(s->gateway);
      bool redirect = s->server->tls && s->server->tls->https_redirect;
      for (const auto& c : snapshot.Configs(model::Kind::kVirtualService)) {
        const model::VirtualService* vs = c->AsVirtualService();
        if (vs == nullptr || !BindsGateway(vs->gateways, c->key.ns, *s->gateway)) continue;
        for (const auto& vs_host : vs->hosts) {
          bool covered = false;
          for (const auto& h : s->server->hosts) {
            covered = covered || HostsIntersect(HostPart(h), vs_host);
          }
          if (!covered) continue;
          uint32_t port = s->server->port.number;
          std::string vh_name = absl::StrCat(vs_host, ":", port);
          if (!taken.insert(vh_name).second) continue;
          auto* vh = rc.add_virtual_hosts();
          vh->set_name(vh_name);
          vh->add_domains(vs_host);
          vh->add_domains(absl::StrCat(vs_host, ":", port));
          if (redirect) {
            vh->set_require_tls(envoy::config::route::v3::VirtualHost::ALL);
          }
          AppendVirtualServiceRoutes(*c, proxy, snapshot, port, s->gateway, vh);
          origins.Add(c);
        }
      }
    }
    out.push_back(PackResource(name, rc, origins.Build()));
  }
  return out;
}

Resources GatewaySecrets(const model::Proxy& proxy, const model::Snapshot& snapshot,
                         const std::vector<std::string>& names,
                         model::SecretAccessChecker* access) {
  Resources out;
  // Only gateways get credentials, only from their own namespace, and only when their service
  // account may read secrets there (istiod's SubjectAccessReview).
  if (!proxy.IsRouter() || names.empty()) return out;
  model::SameNamespaceSecretAccess same_namespace;
  if (access == nullptr) access = &same_namespace;
  if (!access->MayReadSecrets(proxy.ns, proxy.service_account, proxy.ns)) {
    spdlog::warn(
        "envoy generator: gateway {} (service account {}/{}) may not read secrets in {}: "
        "credentials withheld",
        proxy.id, proxy.ns, proxy.service_account, proxy.ns);
    return out;
  }
  constexpr absl::string_view kPrefix = "kubernetes://";
  constexpr absl::string_view kCaSuffix = "-cacert";
  std::vector<ServerRef> servers = Servers(proxy, snapshot);
  for (const auto& name : names) {
    if (!absl::StartsWith(name, kPrefix)) continue;
    std::string secret = name.substr(kPrefix.size());
    tlsv3::Secret out_secret;
    out_secret.set_name(name);
    if (absl::EndsWith(secret, kCaSuffix)) {
      std::string base = secret.substr(0, secret.size() - kCaSuffix.size());
      const model::Credential* ca = snapshot.FindCredential(proxy.ns, secret);
      if (ca == nullptr || ca->ca_cert.empty()) ca = snapshot.FindCredential(proxy.ns, base);
      if (ca == nullptr || ca->ca_cert.empty()) continue;  // not there (yet): Envoy waits
      out_secret.mutable_validation_context()->mutable_trusted_ca()->set_inline_bytes(ca->ca_cert);
    } else {
      const model::Credential* c = snapshot.FindCredential(proxy.ns, secret);
      if (c == nullptr || c->cert_chain.empty()) continue;
      auto* cert = out_secret.mutable_tls_certificate();
      cert->mutable_certificate_chain()->set_inline_bytes(c->cert_chain);
      cert->mutable_private_key()->set_inline_bytes(c->private_key);
    }
    // The Gateways whose servers name the credential.
    OriginSet origins;
    for (const auto& s : servers) {
      if (!s.server->tls) continue;
      const std::string& cred = s.server->tls->credential_name;
      if (!cred.empty() && (cred == secret || absl::StrCat(cred, kCaSuffix) == secret)) {
        origins.Add(s.gateway);
      }
    }
    out.push_back(PackResource(name, out_secret, origins.Build()));
  }
  return out;
}

}  // namespace meshd::xds
