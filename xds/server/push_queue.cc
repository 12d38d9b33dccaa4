#include "xds/server/push_queue.h"

namespace meshd::xds {

void PushQueue::Enqueue(std::shared_ptr<Pushable> item) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || !queued_.insert(item->id()).second) return;
  queue_.push_back(std::move(item));
}

void PushQueue::Start() {
  for (int i = 0; i < workers_; ++i) threads_.emplace_back([this] { Work(); });
}

void PushQueue::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    queue_.clear();
    queued_.clear();
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
}

size_t PushQueue::size() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void PushQueue::Work() {
  while (true) {
    std::shared_ptr<Pushable> item;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](PushQueue* q)
               ABSL_NO_THREAD_SAFETY_ANALYSIS { return q->stopping_ || !q->queue_.empty(); },
          this));
      if (stopping_) return;
      item = std::move(queue_.front());
      queue_.pop_front();
      // Dequeued before the push starts: a request arriving during it queues a new one.
      queued_.erase(item->id());
    }
    item->Push();
  }
}

}  // namespace meshd::xds
