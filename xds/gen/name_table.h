// NDS for istio-agent's DNS proxy: the NameTable
// (type.googleapis.com/istio.networking.nds.v1.NameTable) of the hosts a sidecar may see, as
// istiod builds it — host → VIPs; Kubernetes services carry their name and namespace so the
// agent answers `reviews`, `reviews.default`, `reviews.default.svc` itself; headless services
// resolve to their endpoints' addresses; ServiceEntry hosts with addresses resolve to those.
// Sent only to proxies whose metadata enables DNS capture (DNS_CAPTURE or DNS_AUTO_ALLOCATE);
// others get an empty answer. Depends on proxy metadata outside the cached view, so the Envoy
// generator serves it from GenerateOwn (never cached). Thread-safe (pure).
#pragma once

#include "controller/model/proxy.h"
#include "controller/model/snapshot.h"
#include "istio/networking/nds/v1/nds.pb.h"
#include "xds/gen/generator.h"
#include "xds/gen/resource.h"

namespace meshd::xds {

// The table for `proxy` (whatever its metadata says).
istio::networking::nds::v1::NameTable BuildNameTable(const model::Proxy& proxy,
                                                     const model::Snapshot& snapshot);

class NameTableGenerator : public Generator {
 public:
  // kNameTableType only: one unnamed NameTable for a DNS-capturing sidecar, else nothing.
  Resources Generate(const std::string& type_url, const model::Proxy& proxy,
                     const model::Snapshot& snapshot,
                     const std::vector<std::string>& names) const override;
};

}  // namespace meshd::xds
