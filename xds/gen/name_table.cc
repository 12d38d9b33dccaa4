#include "xds/gen/name_table.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "xds/gen/envoy_util.h"

namespace meshd::xds {
namespace {

using istio::networking::nds::v1::NameTable;

constexpr char kKubernetesPrefix[] = "Service/";  // model::Service::origin of a Kubernetes Service

// "Service/<ns>/<name>" → "<name>".
std::string KubeServiceName(const model::Service& svc) {
  std::vector<std::string> parts = absl::StrSplit(svc.origin, '/');
  return parts.size() == 3 ? parts[2] : "";
}

// The addresses `svc` resolves to: its VIPs, or for a headless Kubernetes service the
// addresses of the endpoints behind its first port. Empty: not resolvable here.
std::vector<std::string> Addresses(const model::Service& svc, const model::Snapshot& snapshot,
                                   bool kubernetes) {
  std::vector<std::string> out;
  for (const auto& a : svc.addresses) {
    // CIDRs and the unspecified address are not answers.
    if (a.empty() || a == "0.0.0.0" || a.find('/') != std::string::npos) continue;
    out.push_back(a);
  }
  if (!out.empty() || !kubernetes || svc.ports.empty()) return out;
  std::set<std::string> seen;
  for (const auto& ep : snapshot.Endpoints(svc.hostname)) {
    if (ep.service_port != svc.ports[0].number) continue;
    if (seen.insert(ep.address).second) out.push_back(ep.address);
  }
  return out;
}

// A headless service's pods with a DNS hostname (a StatefulSet's `web-0`) resolve by
// `<hostname>.<service>.<namespace>.svc.<domain>` to their own address, as istiod's table
// has them; the short form `<hostname>.<service>` answers in the namespace.
void AddPodHostnames(const model::Service& svc, const model::Snapshot& snapshot, NameTable* out) {
  for (const auto& ep : snapshot.Endpoints(svc.hostname)) {
    if (ep.hostname.empty()) continue;
    auto [it, inserted] = out->mutable_table()->try_emplace(ep.hostname + "." + svc.hostname);
    NameTable::NameInfo& info = it->second;
    if (std::find(info.ips().begin(), info.ips().end(), ep.address) == info.ips().end()) {
      info.add_ips(ep.address);
    }
    if (!inserted) continue;
    info.set_registry("Kubernetes");
    info.set_shortname(ep.hostname + "." + KubeServiceName(svc));
    info.set_namespace_(svc.ns);
  }
}

bool DnsCapture(const model::Proxy& proxy) { return proxy.dns_capture || proxy.dns_auto_allocate; }

}  // namespace

NameTable BuildNameTable(const model::Proxy& proxy, const model::Snapshot& snapshot) {
  NameTable out;
  SidecarScope scope = ScopeFor(proxy, snapshot);
  for (const model::Service* svc : VisibleServices(proxy, snapshot, scope)) {
    if (absl::StrContains(svc->hostname, '*')) continue;  // not a DNS name
    bool kubernetes = absl::StartsWith(svc->origin, kKubernetesPrefix);
    std::vector<std::string> ips = Addresses(*svc, snapshot, kubernetes);
    if (ips.empty()) continue;
    auto [it, inserted] = out.mutable_table()->try_emplace(svc->hostname);
    NameTable::NameInfo& info = it->second;
    if (!inserted) {
      // Two ServiceEntries for one host: the addresses merge (a Kubernetes service wins).
      if (info.registry() == "Kubernetes") continue;
      for (const auto& ip : ips) {
        if (std::find(info.ips().begin(), info.ips().end(), ip) == info.ips().end()) {
          info.add_ips(ip);
        }
      }
      continue;
    }
    for (const auto& ip : ips) info.add_ips(ip);
    info.set_registry(kubernetes ? "Kubernetes" : "External");
    if (kubernetes) {
      // The agent answers the short forms for clients in the service's namespace.
      info.set_shortname(KubeServiceName(*svc));
      info.set_namespace_(svc->ns);
    }
    if (kubernetes && svc->addresses.empty()) AddPodHostnames(*svc, snapshot, &out);
  }
  return out;
}

Resources NameTableGenerator::Generate(const std::string& type_url, const model::Proxy& proxy,
                                       const model::Snapshot& snapshot,
                                       const std::vector<std::string>& names) const {
  if (type_url != kNameTableType || !DnsCapture(proxy) || proxy.IsRouter()) return {};
  return {PackResource("", BuildNameTable(proxy, snapshot))};
}

}  // namespace meshd::xds
