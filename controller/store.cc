#include "controller/store.h"

namespace meshd {
namespace {

bool Same(const model::ConfigPtr& a, const model::ConfigPtr& b) {
  if (a == nullptr || b == nullptr) return a == b;
  return a->content_hash == b->content_hash && a->key == b->key;
}

}  // namespace

model::ConfigPtr ConfigStore::EffectiveLocked(const model::ConfigKey& key) const {
  for (const auto& [source, configs] : by_source_) {
    auto it = configs.find(key);
    if (it != configs.end()) return it->second;
  }
  return nullptr;
}

std::set<model::ConfigKey> ConfigStore::ReplaceSource(
    const std::string& source, const std::vector<model::ConfigPtr>& configs) {
  absl::MutexLock lock(&mu_);
  std::map<model::ConfigKey, model::ConfigPtr> next;
  for (const auto& c : configs) next[c->key] = c;
  std::set<model::ConfigKey> keys;
  for (const auto& [k, c] : by_source_[source]) keys.insert(k);
  for (const auto& [k, c] : next) keys.insert(k);
  std::map<model::ConfigKey, model::ConfigPtr> before;
  for (const auto& k : keys) before[k] = EffectiveLocked(k);
  by_source_[source] = std::move(next);
  std::set<model::ConfigKey> changed;
  for (const auto& k : keys) {
    if (!Same(before[k], EffectiveLocked(k))) changed.insert(k);
  }
  return changed;
}

std::set<model::ConfigKey> ConfigStore::Upsert(const std::string& source, model::ConfigPtr config) {
  absl::MutexLock lock(&mu_);
  model::ConfigKey key = config->key;
  model::ConfigPtr before = EffectiveLocked(key);
  by_source_[source][key] = std::move(config);
  if (Same(before, EffectiveLocked(key))) return {};
  return {key};
}

std::set<model::ConfigKey> ConfigStore::Delete(const std::string& source,
                                               const model::ConfigKey& key) {
  absl::MutexLock lock(&mu_);
  model::ConfigPtr before = EffectiveLocked(key);
  by_source_[source].erase(key);
  if (Same(before, EffectiveLocked(key))) return {};
  return {key};
}

std::map<model::ConfigKey, model::ConfigPtr> ConfigStore::Merged() const {
  absl::MutexLock lock(&mu_);
  std::map<model::ConfigKey, model::ConfigPtr> out;
  for (const auto& [source, configs] : by_source_) {
    for (const auto& [k, c] : configs) out.emplace(k, c);  // first source wins
  }
  return out;
}

size_t ConfigStore::size() const {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [s, c] : by_source_) n += c.size();
  return n;
}

model::ConfigPtr ConfigStore::Find(const model::ConfigKey& key) const {
  absl::MutexLock lock(&mu_);
  return EffectiveLocked(key);
}

}  // namespace meshd
