#include "xds/server/resource_cache.h"

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"

namespace meshd::xds {

uint64_t ViewKey(const model::Proxy& proxy) {
  return absl::HashOf(proxy.ns, proxy.labels, proxy.generator, proxy.type, proxy.locality);
}

std::string ResourceCache::Key(const std::string& type_url, uint64_t view,
                               const std::string& name) {
  return absl::StrCat(type_url, "|", view, "|", name);
}

std::shared_ptr<const Resources> ResourceCache::Get(uint64_t snapshot, const std::string& type_url,
                                                    uint64_t view, const std::string& name) {
  std::string key = Key(type_url, view, name);
  absl::MutexLock lock(&mu_);
  if (snapshot != snapshot_) {
    misses_++;
    return nullptr;
  }
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    misses_++;
    return nullptr;
  }
  hits_++;
  return it->second;
}

void ResourceCache::Put(uint64_t snapshot, const std::string& type_url, uint64_t view,
                        const std::string& name, Resources resources) {
  absl::MutexLock lock(&mu_);
  if (snapshot > snapshot_) {
    entries_.clear();
    snapshot_ = snapshot;
  }
  if (snapshot != snapshot_) return;  // generated from an older snapshot: not cached
  entries_[Key(type_url, view, name)] = std::make_shared<const Resources>(std::move(resources));
}

void ResourceCache::Reset(uint64_t snapshot) {
  absl::MutexLock lock(&mu_);
  if (snapshot <= snapshot_) return;  // snapshots only move forward
  entries_.clear();
  snapshot_ = snapshot;
}

ResourceCache::Stats ResourceCache::stats() const {
  absl::MutexLock lock(&mu_);
  return {hits_, misses_, entries_.size()};
}

}  // namespace meshd::xds
