#include "controller/registry.h"

#include "absl/strings/ascii.h"
#include "spdlog/spdlog.h"

namespace meshd {
namespace {

// One endpoint per service port the workload serves. A workload's `ports` map renames the
// target port by service port name; otherwise the service's targetPort, then its number.
void AddWorkload(const model::WorkloadEntry& we, const model::Service& svc,
                 std::vector<model::Endpoint>* out) {
  for (const auto& port : svc.ports) {
    model::Endpoint ep;
    ep.address = we.address;
    auto it = we.ports.find(port.name);
    ep.port = it != we.ports.end() ? it->second
                                   : (port.target_port != 0 ? port.target_port : port.number);
    ep.service_port = port.number;
    ep.labels = we.labels;
    ep.locality = we.locality;
    ep.weight = we.weight == 0 ? 1 : we.weight;
    ep.service_account = we.service_account;
    ep.network = we.network;
    out->push_back(std::move(ep));
  }
}

}  // namespace

Registry BuildServiceEntryRegistry(const std::vector<model::ConfigPtr>& service_entries,
                                   const std::vector<model::ConfigPtr>& workload_entries,
                                   const std::string& domain) {
  Registry reg;
  std::vector<model::ConfigPtr> ordered = service_entries;
  // Oldest first; an entry without a creation time (a file) counts as the newest, then
  // namespace/name. (Comparing timestamps only when both are set was not a strict weak order
  // once timed and untimed entries mixed.)
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
    if (a->creation_timestamp != b->creation_timestamp) {
      if (a->creation_timestamp.empty()) return false;
      if (b->creation_timestamp.empty()) return true;
      return a->creation_timestamp < b->creation_timestamp;
    }
    return a->key < b->key;
  });
  for (const auto& config : ordered) {
    const model::ServiceEntry* se = config->AsServiceEntry();
    if (se == nullptr) continue;  // not a decoded ServiceEntry
    for (const auto& host : se->hosts) {
      if (reg.services.count(host)) {
        spdlog::warn("registry: host {} of {} is already declared by {}; ignoring it here", host,
                     config->key.ToString(), reg.services[host].origin);
        continue;
      }
      model::Service svc;
      svc.hostname = host;
      svc.ns = config->key.ns;
      svc.resolution = se->resolution;
      svc.mesh_external = se->location == model::ServiceEntry::Location::kMeshExternal;
      svc.addresses = se->addresses;
      svc.export_to = se->export_to;
      svc.origin = config->key.ToString();
      for (const auto& p : se->ports) {
        svc.ports.push_back({p.name, p.number, absl::AsciiStrToUpper(p.protocol), p.target_port});
      }
      auto& eps = reg.endpoints[host];
      for (const auto& we : se->endpoints) AddWorkload(we, svc, &eps);
      if (se->workload_selector) {
        const std::map<std::string, std::string>& selector = *se->workload_selector;
        for (const auto& wc : workload_entries) {
          if (wc->key.ns != config->key.ns) continue;
          const model::WorkloadEntry* we = wc->AsWorkloadEntry();
          if (we == nullptr) continue;  // not a decoded WorkloadEntry
          std::map<std::string, std::string> labels = we->labels;
          // A WorkloadEntry's metadata labels count too, as in Istio.
          labels.insert(wc->labels.begin(), wc->labels.end());
          if (!model::LabelsMatch(selector, labels)) continue;
          model::WorkloadEntry merged = *we;
          merged.labels.insert(wc->labels.begin(), wc->labels.end());
          if (merged.service_account.empty()) merged.service_account = "default";
          AddWorkload(merged, svc, &eps);
        }
      }
      reg.services.emplace(host, std::move(svc));
    }
  }
  (void)domain;
  return reg;
}

}  // namespace meshd
