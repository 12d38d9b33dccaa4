#include "controller/bootstrap/debug_registry.h"

#include <string>

namespace meshd::bootstrap {
namespace {

using nlohmann::json;

json PortJson(const model::ServicePort& p) {
  return {{"name", p.name}, {"port", p.number}, {"protocol", p.protocol}};
}

// istiod's Istio label for the endpoint's mTLS mode, "istio" when the workload has a sidecar
// (the security.istio.io/tlsMode label), else "disabled".
std::string TlsMode(const model::Endpoint& e) {
  auto it = e.labels.find("security.istio.io/tlsMode");
  return it == e.labels.end() ? "disabled" : it->second;
}

}  // namespace

json RegistryzJson(const model::Snapshot* snapshot) {
  json out = json::array();
  if (snapshot == nullptr) return out;
  for (const auto& [host, svc] : snapshot->Services()) {
    json ports = json::array();
    for (const auto& p : svc.ports) ports.push_back(PortJson(p));
    out.push_back({{"hostname", host},
                   {"namespace", svc.ns},
                   {"ports", ports},
                   {"ClusterVIPs", {{"Kubernetes", svc.addresses}}},
                   {"Attributes",
                    {{"Namespace", svc.ns},
                     {"ServiceRegistry",
                      svc.origin.rfind("ServiceEntry", 0) == 0 ? "External" : "Kubernetes"},
                     {"ExportTo", svc.export_to}}},
                   {"MeshExternal", svc.mesh_external},
                   {"origin", svc.origin}});
  }
  return out;
}

json EndpointzJson(const model::Snapshot* snapshot) {
  json out = json::array();
  if (snapshot == nullptr) return out;
  for (const auto& [host, svc] : snapshot->Services()) {
    for (const auto& port : svc.ports) {
      json endpoints = json::array();
      for (const auto& e : snapshot->Endpoints(host)) {
        if (e.service_port != port.number) continue;
        endpoints.push_back({{"address", e.address},
                             {"port", e.port},
                             {"labels", e.labels},
                             {"locality", e.locality},
                             {"healthStatus", e.healthy ? "HEALTHY" : "UNHEALTHY"},
                             {"tlsMode", TlsMode(e)},
                             {"serviceAccount", e.service_account},
                             {"network", e.network},
                             {"weight", e.weight}});
      }
      out.push_back({{"service", host},
                     {"namespace", svc.ns},
                     {"servicePort", PortJson(port)},
                     {"endpoints", endpoints}});
    }
  }
  return out;
}

}  // namespace meshd::bootstrap
