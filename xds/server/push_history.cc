#include "xds/server/push_history.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace meshd::xds {
namespace {

constexpr double kBase = 1.15;
constexpr double kFirstMicros = 100;

template <typename Set>
std::vector<std::string> FirstNames(const Set& names) {
  std::vector<std::string> out;
  for (const auto& n : names) {
    if (out.size() == PushTrigger::kMaxListed) break;
    out.push_back(n);
  }
  return out;
}

}  // namespace

PushTrigger PushTrigger::From(const model::PushRequest& request) {
  PushTrigger t;
  t.full = request.full;
  for (const auto& key : request.configs_updated) {
    std::string kind(model::KindName(key.kind));
    t.kinds[kind]++;
    if (t.configs.size() < kMaxListed)
      t.configs.push_back(absl::StrCat(kind, "/", key.ns, "/", key.name));
  }
  t.configs_total = request.configs_updated.size();
  t.endpoint_hosts = FirstNames(request.endpoint_hosts);
  t.endpoint_hosts_total = request.endpoint_hosts.size();
  t.service_hosts = FirstNames(request.service_hosts);
  t.service_hosts_total = request.service_hosts.size();
  t.merged = request.merged;
  if (request.start != absl::InfiniteFuture()) t.first_change = request.start;
  return t;
}

PushHistory::PushHistory(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {
  ring_.resize(capacity_);
}

size_t PushHistory::BucketOf(absl::Duration d) {
  double micros = absl::ToDoubleMicroseconds(d);
  if (!(micros >= kFirstMicros)) return 0;
  size_t b = 1 + static_cast<size_t>(std::floor(std::log(micros / kFirstMicros) / std::log(kBase)));
  return std::min(b, kBuckets - 1);
}

absl::Duration PushHistory::BucketValue(size_t bucket) {
  // The upper bound of the bucket: [100 µs · 1.15^(b-1), 100 µs · 1.15^b).
  return absl::Microseconds(kFirstMicros * std::pow(kBase, static_cast<double>(bucket)));
}

absl::Duration PushHistory::Quantile(const Entry& e, double q) {
  if (e.record.acked == 0) return absl::ZeroDuration();
  // The rank of the q-quantile among the acked proxies (nearest rank).
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(e.record.acked)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t b = 0; b < kBuckets; ++b) {
    seen += e.histogram[b];
    if (seen >= rank) return std::min(BucketValue(b), e.record.max);
  }
  return e.record.max;
}

PushHistory::Entry* PushHistory::FindLocked(uint64_t id) {
  if (id == 0) return nullptr;
  Entry& e = ring_[id % capacity_];
  return e.record.id == id ? &e : nullptr;
}

uint64_t PushHistory::Begin(uint64_t version, const model::PushRequest& request, bool scope_all,
                            size_t scope_hosts, absl::Time now) {
  PushTrigger trigger = PushTrigger::From(request);  // outside the lock: it allocates
  absl::MutexLock lock(&mu_);
  uint64_t id = next_id_++;
  Entry& e = ring_[id % capacity_];
  e = Entry{};
  e.record.id = id;
  e.record.version = version;
  e.record.time = now;
  e.record.trigger = std::move(trigger);
  e.record.scope_all = scope_all;
  e.record.scope_hosts = scope_hosts;
  return id;
}

void PushHistory::SetTargets(uint64_t id, size_t proxies) {
  absl::MutexLock lock(&mu_);
  if (Entry* e = FindLocked(id)) {
    e->record.proxies = proxies;
    e->record.targets_known = true;
  }
}

void PushHistory::CountSent(uint64_t id, const std::string& short_type) {
  absl::MutexLock lock(&mu_);
  if (Entry* e = FindLocked(id)) e->record.responses[short_type]++;
}

void PushHistory::Resolve(uint64_t first, uint64_t last, Outcome outcome, absl::Time now) {
  if (first == 0) return;
  absl::MutexLock lock(&mu_);
  // Only ids still in the ring: at most capacity_ entries, usually one.
  uint64_t oldest = next_id_ > capacity_ ? next_id_ - capacity_ : 1;
  for (uint64_t id = std::max(first, oldest); id <= last && id < next_id_; ++id) {
    Entry* e = FindLocked(id);
    if (e == nullptr) continue;
    PushRecord& r = e->record;
    switch (outcome) {
      case Outcome::kAcked: {
        absl::Duration d = std::max(now - r.time, absl::ZeroDuration());
        r.acked++;
        e->histogram[BucketOf(d)]++;
        r.max = std::max(r.max, d);
        break;
      }
      case Outcome::kNacked:
        r.nacked++;
        break;
      case Outcome::kUnchanged:
        r.unchanged++;
        break;
      case Outcome::kDisconnected:
        r.disconnected++;
        break;
    }
  }
}

void PushHistory::Resolve(PushWait* wait, absl::Time now) {
  if (!wait->owed()) return;
  Outcome outcome = wait->nacked ? Outcome::kNacked
                    : wait->sent ? Outcome::kAcked
                                 : Outcome::kUnchanged;
  Resolve(wait->first, wait->last, outcome, now);
  *wait = PushWait{};
}

std::vector<PushRecord> PushHistory::Recent(size_t limit) const {
  absl::MutexLock lock(&mu_);
  std::vector<PushRecord> out;
  size_t n = std::min<uint64_t>(next_id_ - 1, capacity_);
  if (limit != 0) n = std::min(n, limit);
  out.reserve(n);
  for (uint64_t id = next_id_ - 1; id >= 1 && out.size() < n; --id) {
    const Entry& e = ring_[id % capacity_];
    if (e.record.id != id) break;
    PushRecord r = e.record;
    r.p50 = Quantile(e, 0.50);
    r.p99 = Quantile(e, 0.99);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace meshd::xds
