// ConfigStore: every accepted config object, per source ("file", "kube"), merged into one
// view. Applying a change yields exactly the keys whose effective config changed, which the
// debouncer turns into a PushRequest. Thread-safe.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "controller/model/config.h"

namespace meshd {

class ConfigStore {
 public:
  // Replaces everything `source` contributed with `configs`. Returns the changed keys.
  std::set<model::ConfigKey> ReplaceSource(const std::string& source,
                                           const std::vector<model::ConfigPtr>& configs);
  // Adds or updates one object of `source`. Returns the changed keys (empty if unchanged).
  std::set<model::ConfigKey> Upsert(const std::string& source, model::ConfigPtr config);
  // Removes one object of `source`. Returns the changed keys.
  std::set<model::ConfigKey> Delete(const std::string& source, const model::ConfigKey& key);

  // The merged view. When two sources hold the same key, the source named first
  // (alphabetically: "file" before "kube") wins.
  std::map<model::ConfigKey, model::ConfigPtr> Merged() const;
  // The effective config of `key` in the merged view; null if none.
  model::ConfigPtr Find(const model::ConfigKey& key) const;
  size_t size() const;

 private:
  model::ConfigPtr EffectiveLocked(const model::ConfigKey& key) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, std::map<model::ConfigKey, model::ConfigPtr>> by_source_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace meshd
