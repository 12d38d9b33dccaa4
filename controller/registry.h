// The service registry built from ServiceEntry and WorkloadEntry configs: services by
// hostname and their endpoints, ready to publish in a Snapshot. A pure function of its
// inputs; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "controller/model/config.h"
#include "controller/model/service.h"

namespace meshd {

struct Registry {
  std::map<std::string, model::Service> services;
  std::map<std::string, std::vector<model::Endpoint>> endpoints;
};

// Services from ServiceEntries (hosts × ports, resolution, inline endpoints or a
// workloadSelector over WorkloadEntries of the same namespace). When two ServiceEntries
// declare the same host, the older (then lexically first) one wins, as in Istio.
Registry BuildServiceEntryRegistry(const std::vector<model::ConfigPtr>& service_entries,
                                   const std::vector<model::ConfigPtr>& workload_entries,
                                   const std::string& domain);

}  // namespace meshd
