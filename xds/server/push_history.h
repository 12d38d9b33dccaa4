// PushHistory: the last N pushes the ADS server started (one per snapshot it was handed), for
// /debug/pushz, /debug/push_status and the mesh page: when, what triggered it (config keys, or
// endpoints only), how many proxies it was queued for, the responses sent per type, and the
// latency from the push to each proxy's reply — p50/p99/max over the proxies that ACKed,
// filled in as the replies arrive ("pending" until every proxy pushed has answered or gone).
//
// Cost: a fixed ring of entries, each with a fixed log-scale latency histogram (no per-proxy
// storage); a stream keeps only the range of push ids it still owes a reply to (PushWait), and
// resolving it touches the entries of that range (usually one). Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/model/push_request.h"

namespace meshd::xds {

// What a push was for, as the debouncer merged it. Lists are cut at kMaxListed names; the
// totals are exact.
struct PushTrigger {
  static constexpr size_t kMaxListed = 8;
  bool full = false;                 // false: only endpoints changed (EDS)
  std::map<std::string, int> kinds;  // config kind → objects changed
  std::vector<std::string> configs;  // "Kind/namespace/name", at most kMaxListed
  size_t configs_total = 0;
  std::vector<std::string> endpoint_hosts;  // at most kMaxListed
  size_t endpoint_hosts_total = 0;
  std::vector<std::string> service_hosts;  // at most kMaxListed
  size_t service_hosts_total = 0;
  int merged = 0;                                  // source events merged into the push
  absl::Time first_change = absl::InfinitePast();  // when the first merged change arrived

  static PushTrigger From(const model::PushRequest& request);
};

// One push, as read by the debug endpoints (a copy: no lock needed).
struct PushRecord {
  uint64_t id = 0;
  uint64_t version = 0;  // snapshot version
  absl::Time time;       // when the server started the push
  PushTrigger trigger;
  bool scope_all = false;  // every proxy was considered (else only those of scoped hosts)
  size_t scope_hosts = 0;
  size_t proxies = 0;  // connections queued for the push
  bool targets_known = false;
  std::map<std::string, uint64_t> responses;  // short type ("cds", ...) → responses sent
  size_t acked = 0;                           // proxies that ACKed everything the push sent them
  size_t nacked = 0;                          // proxies that NACKed at least one type of it
  size_t unchanged = 0;     // proxies for which the push found nothing new to send
  size_t disconnected = 0;  // proxies that went away before answering
  // Over the `acked` proxies, from `time` to the reply completing the push.
  absl::Duration p50, p99, max;

  size_t resolved() const { return acked + nacked + unchanged + disconnected; }
  bool pending() const { return !targets_known || resolved() < proxies; }
};

// What a stream still owes the history: the ids of the pushes it was queued for and has not
// finished answering. Guarded by the stream's lock.
struct PushWait {
  uint64_t first = 0;  // 0: nothing owed
  uint64_t last = 0;
  bool sent = false;    // a response was sent since `first`
  bool nacked = false;  // a NACK arrived since `first`

  void Mark(uint64_t id) {
    if (id == 0) return;
    if (first == 0) first = id;
    if (id > last) last = id;
  }
  bool owed() const { return first != 0; }
};

class PushHistory {
 public:
  enum class Outcome { kAcked, kNacked, kUnchanged, kDisconnected };

  static constexpr size_t kDefaultCapacity = 100;
  explicit PushHistory(size_t capacity = kDefaultCapacity);

  // A new push; returns its id (> 0).
  uint64_t Begin(uint64_t version, const model::PushRequest& request, bool scope_all,
                 size_t scope_hosts, absl::Time now);
  // How many connections the push was queued for (after they were marked).
  void SetTargets(uint64_t id, size_t proxies);
  // A response of `short_type` sent for push `id`.
  void CountSent(uint64_t id, const std::string& short_type);
  // One proxy is done with the pushes in [first, last]; ids that left the ring are skipped.
  void Resolve(uint64_t first, uint64_t last, Outcome outcome, absl::Time now);
  // Resolves and clears a stream's wait, as its outcome says (sent/nacked/unchanged).
  void Resolve(PushWait* wait, absl::Time now);

  // Newest first, at most `limit` (0: all kept).
  std::vector<PushRecord> Recent(size_t limit = 0) const;
  size_t capacity() const { return capacity_; }

 private:
  // Log-scale buckets from 100 µs by ×1.15 (≈ ±7 %), the last one open-ended (≥ ~1 min).
  static constexpr size_t kBuckets = 96;
  struct Entry {
    PushRecord record;
    std::array<uint32_t, kBuckets> histogram{};
  };
  static size_t BucketOf(absl::Duration d);
  static absl::Duration BucketValue(size_t bucket);
  static absl::Duration Quantile(const Entry& e, double q);
  Entry* FindLocked(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::vector<Entry> ring_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace meshd::xds
