#include "controller/model/networking.h"

namespace meshd::model {

bool VirtualService::AppliesToMesh() const {
  if (gateways.empty()) return true;
  for (const auto& g : gateways) {
    if (g == "mesh") return true;
  }
  return false;
}

}  // namespace meshd::model
