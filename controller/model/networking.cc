#include "controller/model/networking.h"

namespace meshd::model {

bool VirtualService::AppliesToMesh() const {
  if (gateways.empty()) return true;
  for (const auto& g : gateways) {
    if (g == "mesh") return true;
  }
  return false;
}

bool SameExceptEndpoints(const ServiceEntry& a, const ServiceEntry& b) {
  return a.hosts == b.hosts && a.addresses == b.addresses && a.ports == b.ports &&
         a.location == b.location && a.resolution == b.resolution &&
         a.workload_selector == b.workload_selector && a.export_to == b.export_to &&
         a.subject_alt_names == b.subject_alt_names;
}

}  // namespace meshd::model
