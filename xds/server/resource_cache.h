// ResourceCache: generated resources of the current snapshot, built once per (type, name,
// proxy view) and shared by every connection whose proxy has that view. The key always holds
// the snapshot version and the view, so an entry can never be served for another snapshot or
// to a proxy that sees the config differently. A new snapshot moves the cache forward
// (Advance): entries the change cannot have touched are kept for the new version, the rest
// are dropped. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
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
  // `ns` is the namespace of the proxy the entry was generated for (its view holds it too);
  // Advance's `keep` reads it to resolve the name as that proxy would.
  void Put(uint64_t snapshot, const std::string& type_url, uint64_t view, const std::string& name,
           Resources resources, const std::string& ns = "");
  // Drops every entry of another snapshot version.
  void Reset(uint64_t snapshot);
  // Moves the cache to `snapshot`, keeping the entries for which `keep(type_url, name, ns)`
  // holds (they are the same in the new snapshot) and dropping the rest. Only the entries in
  // `buckets` (BucketIds of HostBucket, as ScopeBuckets gives them) and those of the empty
  // bucket are asked; the others are kept unasked, so a change of one host costs its entries,
  // not the whole cache. Ignored for a version not newer than the current one.
  using KeepFn = std::function<bool(const std::string& type_url, const std::string& name,
                                    const std::string& ns)>;
  void Advance(uint64_t snapshot, const std::vector<uint64_t>& buckets, const KeepFn& keep);
  Stats stats() const;

 private:
  // An entry's key, (type, view, name); looked up through KeyRef without building a string
  // (a push looks up every subscribed name).
  struct Key {
    std::string type_url;
    uint64_t view = 0;
    std::string name;
  };
  struct KeyRef {
    absl::string_view type_url;
    uint64_t view = 0;
    absl::string_view name;
  };
  static KeyRef RefOf(const Key& k) { return {k.type_url, k.view, k.name}; }
  static KeyRef RefOf(const KeyRef& k) { return k; }
  struct KeyHash {
    using is_transparent = void;
    template <typename K>
    size_t operator()(const K& k) const {
      KeyRef r = RefOf(k);
      return absl::HashOf(r.type_url, r.view, r.name);
    }
  };
  struct KeyEq {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      KeyRef x = RefOf(a), y = RefOf(b);
      return x.view == y.view && x.name == y.name && x.type_url == y.type_url;
    }
  };
  struct Entry {
    std::shared_ptr<const Resources> resources;
    std::string ns;
  };

  mutable absl::Mutex mu_;
  uint64_t snapshot_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<Key, Entry, KeyHash, KeyEq> entries_ ABSL_GUARDED_BY(mu_);
  // BucketId(HostBucket) of an entry's name -> the keys of its entries.
  absl::flat_hash_map<uint64_t, std::vector<Key>> buckets_ ABSL_GUARDED_BY(mu_);
  uint64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t misses_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace meshd::xds
