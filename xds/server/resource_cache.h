// ResourceCache: generated resources of the current snapshot, built once per (type, name,
// proxy view) and shared by every connection whose proxy has that view. The key always holds
// the snapshot version and the view, so an entry can never be served for another snapshot or
// to a proxy that sees the config differently; a new snapshot drops the old entries.
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "controller/model/proxy.h"
#include "controller/model/snapshot.h"
#include "xds/gen/resource.h"

namespace meshd::xds {

// What of a proxy the shared (cached) output may depend on: namespace, labels, generator,
// type (sidecar/router/proxyless) and locality. Anything else of the proxy (its IP, for the
// inbound side of an Envoy sidecar) goes into Generator::GenerateOwn, which is never cached.
// This form hashes every label.
uint64_t ViewKey(const model::Proxy& proxy);
// The same, with only the labels whose key is in `selected`: two proxies that differ in no
// selected label get the same shared output, so sidecars of different workloads (each with its
// own `app`/`version`/`pod-template-hash`) share one view per namespace unless a config
// selects on those labels.
uint64_t ViewKey(const model::Proxy& proxy, const std::set<std::string>& selected);

// The label keys through which the shared generation reads a proxy's labels in `snapshot`:
// VirtualService match sourceLabels (HTTP, TLS, TCP), DestinationRule workloadSelector, Sidecar
// workloadSelector, Gateway selector, PeerAuthentication selector (proxyless server listeners). A
// generator that starts reading proxy labels through another kind must add its keys here.
std::set<std::string> SelectedLabelKeys(const model::Snapshot& snapshot);

class ResourceCache {
 public:
  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    size_t entries = 0;
  };

  // The resources generated for `name` ("*" for a wildcard request), or null.
  std::shared_ptr<const Resources> Get(uint64_t snapshot, const std::string& type_url,
                                       uint64_t view, const std::string& name);
  void Put(uint64_t snapshot, const std::string& type_url, uint64_t view, const std::string& name,
           Resources resources);
  // Drops every entry of another snapshot version.
  void Reset(uint64_t snapshot);
  Stats stats() const;

 private:
  static std::string Key(const std::string& type_url, uint64_t view, const std::string& name);

  mutable absl::Mutex mu_;
  uint64_t snapshot_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, std::shared_ptr<const Resources>> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t misses_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace meshd::xds
