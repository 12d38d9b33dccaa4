#include "xds/server/resource_cache.h"

#include <map>

#include "absl/hash/hash.h"
#include "xds/server/push_scope.h"

namespace meshd::xds {

uint64_t ViewKey(const model::Proxy& proxy) {
  return absl::HashOf(proxy.ns, proxy.labels, proxy.generator, proxy.type, proxy.locality);
}

uint64_t ViewKey(const model::Proxy& proxy, const std::set<std::string>& selected) {
  std::map<std::string, std::string> labels;
  for (const auto& [k, v] : proxy.labels) {
    if (selected.count(k)) labels.emplace(k, v);
  }
  return absl::HashOf(proxy.ns, labels, proxy.generator, proxy.type, proxy.locality);
}

std::set<std::string> SelectedLabelKeys(const model::Snapshot& snapshot) {
  std::set<std::string> keys;
  auto add = [&keys](const auto& labels) {
    for (const auto& [k, v] : labels) keys.insert(k);
  };
  for (const auto& c : snapshot.Configs(model::Kind::kVirtualService)) {
    const model::VirtualService* vs = c->AsVirtualService();
    if (vs == nullptr) continue;
    for (const auto& r : vs->http) {
      for (const auto& m : r.matches) add(m.source_labels);
    }
    for (const auto* l4 : {&vs->tls, &vs->tcp}) {
      for (const auto& r : *l4) {
        for (const auto& m : r.matches) add(m.source_labels);
      }
    }
  }
  for (const auto& c : snapshot.Configs(model::Kind::kDestinationRule)) {
    const model::DestinationRule* dr = c->AsDestinationRule();
    if (dr != nullptr && dr->workload_selector) add(*dr->workload_selector);
  }
  for (const auto& c : snapshot.Configs(model::Kind::kSidecar)) {
    const model::Sidecar* sc = c->AsSidecar();
    if (sc != nullptr && sc->workload_selector) add(*sc->workload_selector);
  }
  for (const auto& c : snapshot.Configs(model::Kind::kGateway)) {
    const model::Gateway* gw = c->AsGateway();
    if (gw != nullptr) add(gw->selector);
  }
  for (const auto& c : snapshot.Configs(model::Kind::kPeerAuthentication)) {
    const model::PeerAuthentication* pa = c->AsPeerAuthentication();
    if (pa != nullptr && pa->selector) add(*pa->selector);
  }
  for (const auto& c : snapshot.Configs(model::Kind::kAuthorizationPolicy)) {
    const model::AuthorizationPolicy* ap = c->AsAuthorizationPolicy();
    if (ap != nullptr && ap->selector) add(*ap->selector);
  }
  for (const auto& c : snapshot.Configs(model::Kind::kRequestAuthentication)) {
    const model::RequestAuthentication* ra = c->AsRequestAuthentication();
    if (ra != nullptr && ra->selector) add(*ra->selector);
  }
  return keys;
}

std::shared_ptr<const Resources> ResourceCache::Get(uint64_t snapshot, const std::string& type_url,
                                                    uint64_t view, const std::string& name) {
  absl::MutexLock lock(&mu_);
  if (snapshot != snapshot_) {
    misses_++;
    return nullptr;
  }
  auto it = entries_.find(KeyRef{type_url, view, name});
  if (it == entries_.end()) {
    misses_++;
    return nullptr;
  }
  hits_++;
  return it->second.resources;
}

void ResourceCache::Put(uint64_t snapshot, const std::string& type_url, uint64_t view,
                        const std::string& name, Resources resources, const std::string& ns) {
  Key key{type_url, view, name};
  absl::MutexLock lock(&mu_);
  if (snapshot > snapshot_) {
    entries_.clear();
    buckets_.clear();
    snapshot_ = snapshot;
  }
  if (snapshot != snapshot_) return;  // generated from an older snapshot: not cached
  Entry entry{std::make_shared<const Resources>(std::move(resources)), ns};
  auto [it, added] = entries_.insert_or_assign(key, std::move(entry));
  if (added) buckets_[BucketId(HostBucket(type_url, name))].push_back(std::move(key));
}

void ResourceCache::Reset(uint64_t snapshot) {
  absl::MutexLock lock(&mu_);
  if (snapshot <= snapshot_) return;  // snapshots only move forward
  entries_.clear();
  buckets_.clear();
  snapshot_ = snapshot;
}

void ResourceCache::Advance(uint64_t snapshot, const std::vector<uint64_t>& buckets,
                            const KeepFn& keep) {
  absl::MutexLock lock(&mu_);
  if (snapshot <= snapshot_) return;
  snapshot_ = snapshot;
  auto sweep = [&](uint64_t bucket) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto b = buckets_.find(bucket);
    if (b == buckets_.end()) return;
    std::vector<Key>& keys = b->second;
    size_t kept = 0;
    for (auto& key : keys) {
      auto it = entries_.find(key);
      if (it == entries_.end()) continue;
      if (!keep(key.type_url, key.name, it->second.ns)) {
        entries_.erase(it);
        continue;
      }
      keys[kept++] = std::move(key);
    }
    keys.resize(kept);
    if (keys.empty()) buckets_.erase(b);
  };
  const uint64_t empty = BucketId("");
  sweep(empty);
  for (uint64_t bucket : buckets) {
    if (bucket != empty) sweep(bucket);
  }
}

ResourceCache::Stats ResourceCache::stats() const {
  absl::MutexLock lock(&mu_);
  return {hits_, misses_, entries_.size()};
}

}  // namespace meshd::xds
