// What changed between two snapshots, as the debouncer merges it. Plain value type.
#pragma once

#include <set>
#include <string>

#include "absl/time/time.h"
#include "controller/model/config.h"

namespace meshd::model {

struct PushRequest {
  // A full push may change any resource type; otherwise only endpoints (EDS) changed.
  bool full = false;
  // Config objects added, changed or removed.
  std::set<ConfigKey> configs_updated;
  // Service hostnames whose endpoints changed.
  std::set<std::string> endpoint_hosts;
  // Service hostnames whose definition (ports, addresses, resolution) changed, or that were
  // added or removed: a full push for those hosts, whatever else the request merged.
  std::set<std::string> service_hosts;
  // The keys of configs_updated whose change only moved endpoints (a ServiceEntry's STATIC
  // endpoints: OnlyServiceEntryEndpointsDiffer): the debouncer treats a request of only those
  // as endpoint-only. A later non-endpoint change of the same key takes it out.
  std::set<ConfigKey> endpoint_configs;
  // When the first change of this request arrived.
  absl::Time start = absl::InfiniteFuture();
  // How many source events were merged into it.
  int merged = 0;

  void Merge(const PushRequest& other) {
    full = full || other.full;
    // A key stays endpoint-only only if every change of it in the window was.
    std::set<ConfigKey> eps;
    for (const auto& k : endpoint_configs) {
      if (!other.configs_updated.count(k) || other.endpoint_configs.count(k)) eps.insert(k);
    }
    for (const auto& k : other.endpoint_configs) {
      if (!configs_updated.count(k) || endpoint_configs.count(k)) eps.insert(k);
    }
    endpoint_configs = std::move(eps);
    configs_updated.insert(other.configs_updated.begin(), other.configs_updated.end());
    endpoint_hosts.insert(other.endpoint_hosts.begin(), other.endpoint_hosts.end());
    service_hosts.insert(other.service_hosts.begin(), other.service_hosts.end());
    start = std::min(start, other.start);
    merged += other.merged;
  }
};

}  // namespace meshd::model
