#include "xds/gen/envoy_util.h"

#include <algorithm>

#include "absl/hash/hash.h"
#include "absl/strings/match.h"

namespace meshd::xds {
namespace {

namespace tls = envoy::extensions::transport_sockets::tls::v3;

}  // namespace

ResourcePtr PackResource(const std::string& name, const google::protobuf::Message& message,
                         Origins origins) {
  auto r = std::make_shared<Resource>();
  r->name = name;
  r->any.PackFrom(message);
  r->hash = absl::HashOf(r->name, r->any.value());
  r->origins = std::move(origins);
  return r;
}

void SetAdsSource(envoy::config::core::v3::ConfigSource* source) {
  source->mutable_ads();
  source->set_resource_api_version(envoy::config::core::v3::V3);
}

tls::SdsSecretConfig AgentSdsSecret(const std::string& name) {
  tls::SdsSecretConfig out;
  out.set_name(name);
  auto* source = out.mutable_sds_config();
  source->set_resource_api_version(envoy::config::core::v3::V3);
  auto* api = source->mutable_api_config_source();
  api->set_api_type(envoy::config::core::v3::ApiConfigSource::GRPC);
  api->set_transport_api_version(envoy::config::core::v3::V3);
  api->set_set_node_on_first_message_only(true);
  api->add_grpc_services()->mutable_envoy_grpc()->set_cluster_name("sds-grpc");
  return out;
}

tls::UpstreamTlsContext IstioMtlsUpstream(const std::vector<std::string>& sans,
                                          const std::string& sni, bool http2) {
  tls::UpstreamTlsContext out;
  auto* common = out.mutable_common_tls_context();
  *common->add_tls_certificate_sds_secret_configs() = AgentSdsSecret("default");
  auto* combined = common->mutable_combined_validation_context();
  for (const auto& san : sans) {
    auto* m = combined->mutable_default_validation_context()->add_match_typed_subject_alt_names();
    m->set_san_type(tls::SubjectAltNameMatcher::URI);
    m->mutable_matcher()->set_exact(san);
  }
  if (sans.empty()) combined->mutable_default_validation_context();
  *combined->mutable_validation_context_sds_secret_config() = AgentSdsSecret("ROOTCA");
  // istiod: the peer-exchange ALPN first, then "istio" (and h2 for HTTP/2 upstreams).
  common->add_alpn_protocols("istio-peer-exchange");
  common->add_alpn_protocols("istio");
  if (http2) common->add_alpn_protocols("h2");
  out.set_sni(sni);
  return out;
}

tls::DownstreamTlsContext IstioMtlsDownstream(bool http) {
  tls::DownstreamTlsContext out;
  out.mutable_require_client_certificate()->set_value(true);
  auto* common = out.mutable_common_tls_context();
  *common->add_tls_certificate_sds_secret_configs() = AgentSdsSecret("default");
  auto* combined = common->mutable_combined_validation_context();
  combined->mutable_default_validation_context();
  *combined->mutable_validation_context_sds_secret_config() = AgentSdsSecret("ROOTCA");
  if (http) {
    common->add_alpn_protocols("h2");
    common->add_alpn_protocols("http/1.1");
  }
  return out;
}

google::protobuf::Duration Seconds(int64_t seconds) {
  google::protobuf::Duration d;
  d.set_seconds(seconds);
  return d;
}

bool IsHttpProtocol(const std::string& protocol) {
  return protocol == "HTTP" || protocol == "HTTP2" || protocol == "GRPC" || protocol == "GRPC-WEB";
}

bool IsHttp2Protocol(const std::string& protocol) {
  return protocol == "HTTP2" || protocol == "GRPC";
}

std::string ServiceVip(const model::Service& service) {
  for (const auto& a : service.addresses) {
    if (!a.empty() && a != "0.0.0.0" && a.find('/') == std::string::npos) return a;
  }
  return "";
}

bool SidecarScope::Includes(const model::Service& service) const {
  if (sidecar == nullptr || egress_hosts.empty()) return true;
  for (const auto& [ns, host] : egress_hosts) {
    // "./host" was resolved to the Sidecar's namespace; "~" imports nothing.
    if (ns != "*" && ns != service.ns) continue;
    if (host == "~") continue;
    if (model::HostMatches(host, service.hostname)) return true;
  }
  return false;
}

bool EgressListener::Includes(const model::Service& service) const {
  if (hosts.empty()) return true;
  for (const auto& [ns, host] : hosts) {
    if (ns != "*" && ns != service.ns) continue;
    if (host == "~") continue;
    if (model::HostMatches(host, service.hostname)) return true;
  }
  return false;
}

const EgressListener* SidecarScope::EgressFor(uint32_t port, const std::string& bind) const {
  static const EgressListener* const kEverything = new EgressListener();
  std::string b = bind == "0.0.0.0" ? "" : bind;
  if (egress.empty()) return b.empty() ? kEverything : nullptr;
  const EgressListener* catch_all = nullptr;
  for (const auto& e : egress) {
    if ((e.bind == "0.0.0.0" ? "" : e.bind) != b) continue;
    if (e.port != 0 && e.port == port) return &e;
    if (e.port == 0 && catch_all == nullptr) catch_all = &e;
  }
  // The catch-all does not serve a port a port-specific listener claims.
  return PortClaimed(port) ? nullptr : catch_all;
}

bool SidecarScope::PortClaimed(uint32_t port) const {
  for (const auto& e : egress) {
    if (e.port != 0 && e.port == port) return true;
  }
  return false;
}

const model::ServicePort* EgressServicePort(const model::Service& service, uint32_t port,
                                            bool port_specific) {
  if (const model::ServicePort* p = service.FindPort(port)) return p;
  if (port_specific && service.ports.size() == 1) return &service.ports[0];
  return nullptr;
}

namespace {

// The Sidecar's listeners, in the scope's terms.
void ReadListeners(const model::Sidecar& spec, const model::Proxy& proxy, SidecarScope* scope) {
  for (const auto& e : spec.egress) {
    EgressListener l;
    if (e.port) {
      l.port = e.port->number;
      l.protocol = e.port->protocol;
    }
    l.bind = e.bind;
    l.capture_none = e.capture_mode == model::CaptureMode::kNone;
    for (const auto& h : e.hosts) l.hosts.emplace_back(h.ns == "." ? proxy.ns : h.ns, h.host);
    scope->egress.push_back(std::move(l));
  }
  for (const auto& i : spec.ingress) {
    if (!i.port || i.port->number == 0) continue;  // unix sockets: not served
    IngressListener l;
    l.port = i.port->number;
    l.protocol = i.port->protocol;
    l.bind = i.bind;
    l.capture_none = i.capture_mode == model::CaptureMode::kNone;
    l.default_endpoint = i.default_endpoint;
    if (i.tls) l.tls = &*i.tls;
    scope->ingress.push_back(std::move(l));
  }
}

}  // namespace

SidecarScope ScopeFor(const model::Proxy& proxy, const model::Snapshot& snapshot) {
  SidecarScope scope;
  scope.registry_only = snapshot.mesh().outbound_registry_only;
  if (proxy.IsRouter()) return scope;  // Sidecar resources do not apply to gateways
  const model::Config* ns_default = nullptr;
  const model::Config* root_default = nullptr;
  for (const auto& c : snapshot.Configs(model::Kind::kSidecar)) {
    const model::Sidecar* spec = c->AsSidecar();
    if (spec == nullptr) continue;
    if (c->key.ns == proxy.ns) {
      if (spec->workload_selector && !spec->workload_selector->empty()) {
        if (scope.sidecar == nullptr &&
            model::LabelsMatch(*spec->workload_selector, proxy.labels)) {
          scope.sidecar = c.get();
        }
      } else if (ns_default == nullptr) {
        ns_default = c.get();
      }
    } else if (c->key.ns == snapshot.root_namespace() && !spec->workload_selector &&
               root_default == nullptr) {
      root_default = c.get();
    }
  }
  if (scope.sidecar == nullptr) scope.sidecar = ns_default != nullptr ? ns_default : root_default;
  if (scope.sidecar == nullptr) return scope;
  const model::Sidecar& spec = *scope.sidecar->AsSidecar();
  if (spec.outbound_traffic_policy) {
    scope.registry_only =
        *spec.outbound_traffic_policy == model::Sidecar::OutboundMode::kRegistryOnly;
  }
  for (const auto& egress : spec.egress) {
    for (const auto& h : egress.hosts) {
      scope.egress_hosts.emplace_back(h.ns == "." ? proxy.ns : h.ns, h.host);
    }
  }
  ReadListeners(spec, proxy, &scope);
  return scope;
}

std::vector<const model::Service*> VisibleServices(const model::Proxy& proxy,
                                                   const model::Snapshot& snapshot,
                                                   const SidecarScope& scope) {
  std::vector<const model::Service*> out;
  for (const auto& [host, svc] : snapshot.Services()) {
    if (!model::ExportedTo(
            model::EffectiveExportTo(svc.export_to, snapshot.mesh().default_service_export_to),
            svc.ns, proxy.ns)) {
      continue;
    }
    if (!scope.Includes(svc)) continue;
    out.push_back(&svc);
  }
  return out;
}

}  // namespace meshd::xds
