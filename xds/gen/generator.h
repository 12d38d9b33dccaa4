// Generator: (proxy, snapshot, requested names) → xDS resources of one type. Two
// implementations: GrpcGenerator for proxyless gRPC clients, EnvoyGenerator for Envoy sidecars
// and gateways; the ADS server picks one per connection (model::Proxy::IsEnvoy).
//
// Caching contract (xds/server/resource_cache.h): Generate's output may depend only on the
// proxy's *view* (ViewKey: namespace, the labels some config selects on, generator, type,
// locality), so it is shared by
// every proxy with that view. What depends on more of the proxy (an Envoy sidecar's inbound
// listener and clusters, built from its own IP) comes from GenerateOwn, which the server calls
// for wildcard types on every push and never caches. Implementations are thread-safe.
#pragma once

#include <string>
#include <vector>

#include "controller/model/proxy.h"
#include "controller/model/snapshot.h"
#include "xds/gen/resource.h"

namespace meshd::xds {

class Generator {
 public:
  virtual ~Generator() = default;

  // Resources of `type_url` named in `names`; an empty `names` is a wildcard request (LDS and
  // CDS). Unknown names are left out.
  virtual Resources Generate(const std::string& type_url, const model::Proxy& proxy,
                             const model::Snapshot& snapshot,
                             const std::vector<std::string>& names) const = 0;

  // The proxy-specific part of a wildcard response (appended to Generate's shared part).
  virtual Resources GenerateOwn(const std::string& type_url, const model::Proxy& proxy,
                                const model::Snapshot& snapshot) const {
    return {};
  }
};

}  // namespace meshd::xds
