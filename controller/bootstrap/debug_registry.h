// The JSON of istiod-compatible registry debug endpoints on the monitoring port, as pure
// functions of a snapshot so that their shape is tested without a server:
//   /debug/registryz — the services, in istiod's shape (hostname, namespace, ports, VIPs);
//   /debug/endpointz — per service and port, the endpoints (address, labels, locality,
//                      health, tlsMode, service account).
// Thread-safe (they only read their arguments).
#pragma once

#include "controller/model/snapshot.h"
#include "nlohmann/json.hpp"

namespace meshd::bootstrap {

// `snapshot` may be null (nothing built yet): an empty array.
nlohmann::json RegistryzJson(const model::Snapshot* snapshot);
nlohmann::json EndpointzJson(const model::Snapshot* snapshot);

}  // namespace meshd::bootstrap
