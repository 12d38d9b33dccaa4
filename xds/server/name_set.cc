#include "xds/server/name_set.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/synchronization/mutex.h"

namespace meshd::xds {
namespace {

struct Table {
  absl::Mutex mu;
  std::unordered_map<uint64_t, std::vector<std::weak_ptr<const std::set<std::string>>>> by_hash
      ABSL_GUARDED_BY(mu);
  uint64_t interns ABSL_GUARDED_BY(mu) = 0;
};

Table& GetTable() {
  static Table* table = new Table();
  return *table;
}

uint64_t HashOf(const std::set<std::string>& names) {
  uint64_t h = names.size();
  for (const auto& n : names) h = absl::HashOf(h, n);
  return h;
}

// Drops expired entries of one bucket. A weak_ptr is only inspected, never locked here, so
// no set is ever destroyed under the table's lock.
void PurgeLocked(std::vector<std::weak_ptr<const std::set<std::string>>>& bucket) {
  bucket.erase(
      std::remove_if(bucket.begin(), bucket.end(), [](const auto& w) { return w.expired(); }),
      bucket.end());
}

}  // namespace

const NameSet& EmptyNames() {
  static const NameSet* empty = new NameSet(std::make_shared<const std::set<std::string>>());
  return *empty;
}

NameSet InternNames(std::set<std::string> names) {
  if (names.empty()) return EmptyNames();
  const uint64_t h = HashOf(names);
  Table& t = GetTable();
  // Candidates are locked outside the table's lock, so dropping one that turns out not to
  // match (possibly the last reference) never runs a destructor under it.
  std::vector<NameSet> candidates;
  {
    absl::MutexLock lock(&t.mu);
    auto it = t.by_hash.find(h);
    if (it != t.by_hash.end()) {
      for (const auto& w : it->second) {
        if (NameSet s = w.lock()) candidates.push_back(std::move(s));
      }
    }
  }
  for (auto& c : candidates) {
    if (*c == names) return c;
  }
  candidates.clear();
  auto fresh = std::make_shared<const std::set<std::string>>(std::move(names));
  absl::MutexLock lock(&t.mu);
  auto& bucket = t.by_hash[h];
  PurgeLocked(bucket);
  bucket.push_back(fresh);
  // Now and then sweep every bucket, so hashes no stream uses any more do not accumulate.
  if (++t.interns % 4096 == 0) {
    for (auto it = t.by_hash.begin(); it != t.by_hash.end();) {
      PurgeLocked(it->second);
      it = it->second.empty() ? t.by_hash.erase(it) : std::next(it);
    }
  }
  return fresh;
}

size_t InternedNameSets() {
  Table& t = GetTable();
  absl::MutexLock lock(&t.mu);
  size_t n = 0;
  for (const auto& [h, bucket] : t.by_hash) {
    for (const auto& w : bucket) n += w.expired() ? 0 : 1;
  }
  return n;
}

}  // namespace meshd::xds
