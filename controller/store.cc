#include "controller/store.h"

#include <utility>
#include <vector>

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
  std::map<model::ConfigKey, model::ConfigPtr>& current = by_source_[source];
  // Only a key whose entry in this source was added, removed or changed can change what is
  // effective: both maps are walked once, in key order, and the rest is never looked up.
  std::vector<std::pair<model::ConfigKey, model::ConfigPtr>> differing;  // key, effective before
  auto a = current.begin();
  auto b = next.begin();
  while (a != current.end() || b != next.end()) {
    if (b == next.end() || (a != current.end() && a->first < b->first)) {
      differing.emplace_back(a->first, nullptr);
      ++a;
    } else if (a == current.end() || b->first < a->first) {
      differing.emplace_back(b->first, nullptr);
      ++b;
    } else {
      if (!Same(a->second, b->second)) differing.emplace_back(a->first, nullptr);
      ++a;
      ++b;
    }
  }
  for (auto& [key, before] : differing) before = EffectiveLocked(key);
  current = std::move(next);
  std::set<model::ConfigKey> changed;
  for (const auto& [key, before] : differing) {
    if (!Same(before, EffectiveLocked(key))) changed.insert(key);
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
