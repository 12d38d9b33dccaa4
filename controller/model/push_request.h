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
  // When the first change of this request arrived.
  absl::Time start = absl::InfiniteFuture();
  // How many source events were merged into it.
  int merged = 0;

  void Merge(const PushRequest& other) {
    full = full || other.full;
    configs_updated.insert(other.configs_updated.begin(), other.configs_updated.end());
    endpoint_hosts.insert(other.endpoint_hosts.begin(), other.endpoint_hosts.end());
    service_hosts.insert(other.service_hosts.begin(), other.service_hosts.end());
    start = std::min(start, other.start);
    merged += other.merged;
  }
};

}  // namespace meshd::model
