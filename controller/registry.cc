#include "controller/registry.h"

#include "absl/strings/ascii.h"
#include "istio/networking/v1alpha3/service_entry.pb.h"
#include "spdlog/spdlog.h"

namespace meshd {
namespace {

namespace net = istio::networking::v1alpha3;

model::Resolution ToResolution(net::ServiceEntry::Resolution r) {
  switch (r) {
    case net::ServiceEntry::STATIC:
      return model::Resolution::kStatic;
    case net::ServiceEntry::DNS:
      return model::Resolution::kDns;
    case net::ServiceEntry::DNS_ROUND_ROBIN:
      return model::Resolution::kDnsRoundRobin;
    default:
      return model::Resolution::kNone;
  }
}

// One endpoint per service port the workload serves. A workload's `ports` map renames the
// target port by service port name; otherwise the service's targetPort, then its number.
void AddWorkload(const net::WorkloadEntry& we, const model::Service& svc,
                 std::vector<model::Endpoint>* out) {
  for (const auto& port : svc.ports) {
    model::Endpoint ep;
    ep.address = we.address();
    auto it = we.ports().find(port.name);
    ep.port = it != we.ports().end() ? it->second
                                     : (port.target_port != 0 ? port.target_port : port.number);
    ep.service_port = port.number;
    ep.labels.insert(we.labels().begin(), we.labels().end());
    ep.locality = we.locality();
    ep.weight = we.weight() == 0 ? 1 : we.weight();
    ep.service_account = we.service_account();
    ep.network = we.network();
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
    const auto& se = config->Spec<net::ServiceEntry>();
    for (const auto& host : se.hosts()) {
      if (reg.services.count(host)) {
        spdlog::warn("registry: host {} of {} is already declared by {}; ignoring it here", host,
                     config->key.ToString(), reg.services[host].origin);
        continue;
      }
      model::Service svc;
      svc.hostname = host;
      svc.ns = config->key.ns;
      svc.resolution = ToResolution(se.resolution());
      svc.mesh_external = se.location() == net::ServiceEntry::MESH_EXTERNAL;
      svc.addresses.assign(se.addresses().begin(), se.addresses().end());
      svc.export_to.assign(se.export_to().begin(), se.export_to().end());
      svc.origin = config->key.ToString();
      for (const auto& p : se.ports()) {
        svc.ports.push_back(
            {p.name(), p.number(), absl::AsciiStrToUpper(p.protocol()), p.target_port()});
      }
      auto& eps = reg.endpoints[host];
      for (const auto& we : se.endpoints()) AddWorkload(we, svc, &eps);
      if (se.has_workload_selector()) {
        std::map<std::string, std::string> selector(se.workload_selector().labels().begin(),
                                                    se.workload_selector().labels().end());
        for (const auto& wc : workload_entries) {
          if (wc->key.ns != config->key.ns) continue;
          const auto& we = wc->Spec<net::WorkloadEntry>();
          std::map<std::string, std::string> labels(we.labels().begin(), we.labels().end());
          // A WorkloadEntry's metadata labels count too, as in Istio.
          labels.insert(wc->labels.begin(), wc->labels.end());
          if (!model::LabelsMatch(selector, labels)) continue;
          net::WorkloadEntry merged = we;
          merged.mutable_labels()->insert(wc->labels.begin(), wc->labels.end());
          if (merged.service_account().empty()) merged.set_service_account("default");
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
