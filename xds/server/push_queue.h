// PushQueue: a bounded pool of workers that generate and send pushes. A connection is queued
// at most once at a time (new requests merge into its pending push), so a burst of changes
// never grows the queue beyond the number of connections, and a slow client only delays
// itself: its writes are bounded per type by the connection, not by this queue.
// Thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace meshd::xds {

class Pushable {
 public:
  virtual ~Pushable() = default;
  virtual uint64_t id() const = 0;
  // Generates and queues whatever the connection has pending.
  virtual void Push() = 0;
};

class PushQueue {
 public:
  explicit PushQueue(int workers) : workers_(workers) {}
  ~PushQueue() { Stop(); }

  void Enqueue(std::shared_ptr<Pushable> item);
  void Start();
  void Stop();
  size_t size() const;

 private:
  void Work();

  const int workers_;
  mutable absl::Mutex mu_;
  std::deque<std::shared_ptr<Pushable>> queue_ ABSL_GUARDED_BY(mu_);
  std::set<uint64_t> queued_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace meshd::xds
