// PushQueue: istiod's push queue semantics — a connection is queued at most once, requests
// arriving while it waits merge into its pending push, one arriving during its push queues a
// new one, and a bounded number of workers push. Waits are on conditions, never sleeps.
#include "xds/server/push_queue.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace meshd::xds {
namespace {

// Shared state of the fake connections: how many pushes ran per id, and a gate that holds
// pushes until opened.
struct Board {
  absl::Mutex mu;
  std::map<uint64_t, int> pushes ABSL_GUARDED_BY(mu);
  int running ABSL_GUARDED_BY(mu) = 0;
  int max_running ABSL_GUARDED_BY(mu) = 0;
  bool open ABSL_GUARDED_BY(mu) = true;
  std::vector<uint64_t> order ABSL_GUARDED_BY(mu);  // ids in the order their pushes ran

  int Pushes(uint64_t id) {
    absl::MutexLock l(&mu);
    return pushes[id];
  }
  // Waits (up to 10 s) until `pred` holds; false on timeout.
  bool WaitFor(std::function<bool()> pred) {
    absl::MutexLock l(&mu);
    auto cond = [&pred]() { return pred(); };
    return mu.AwaitWithTimeout(absl::Condition(&cond), absl::Seconds(10));
  }
};

class FakeConnection : public Pushable {
 public:
  FakeConnection(uint64_t id, Board* board) : id_(id), board_(board) {}
  uint64_t id() const override { return id_; }
  void Push() override {
    absl::MutexLock l(&board_->mu);
    ++board_->running;
    board_->max_running = std::max(board_->max_running, board_->running);
    auto open = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return board_->open; };
    board_->mu.Await(absl::Condition(&open));
    ++board_->pushes[id_];
    board_->order.push_back(id_);
    --board_->running;
  }

 private:
  const uint64_t id_;
  Board* const board_;
};

TEST_CASE("push queue: requests for a waiting connection merge into one push", "[push_queue]") {
  Board board;
  PushQueue q(1);
  auto a = std::make_shared<FakeConnection>(1, &board);
  auto b = std::make_shared<FakeConnection>(2, &board);
  q.Enqueue(a);
  q.Enqueue(a);
  q.Enqueue(b);
  q.Enqueue(a);
  CHECK(q.size() == 2);  // not started: one entry per connection
  q.Start();
  REQUIRE(board.WaitFor([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return board.pushes[1] == 1 && board.pushes[2] == 1;
  }));
  q.Stop();
  CHECK(board.Pushes(1) == 1);
  CHECK(board.Pushes(2) == 1);
}

TEST_CASE("push queue: a request during a connection's push queues another push", "[push_queue]") {
  Board board;
  {
    absl::MutexLock l(&board.mu);
    board.open = false;
  }
  PushQueue q(1);
  auto a = std::make_shared<FakeConnection>(1, &board);
  q.Start();
  q.Enqueue(a);
  REQUIRE(board.WaitFor([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return board.running == 1; }));
  q.Enqueue(a);  // dequeued already: queues a second push
  CHECK(q.size() == 1);
  {
    absl::MutexLock l(&board.mu);
    board.open = true;
  }
  REQUIRE(board.WaitFor([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return board.pushes[1] == 2; }));
  q.Stop();
}

TEST_CASE("push queue: no more pushes run at once than there are workers", "[push_queue]") {
  Board board;
  {
    absl::MutexLock l(&board.mu);
    board.open = false;
  }
  PushQueue q(2);
  std::vector<std::shared_ptr<FakeConnection>> conns;
  for (uint64_t i = 0; i < 6; ++i) conns.push_back(std::make_shared<FakeConnection>(i, &board));
  q.Start();
  for (auto& c : conns) q.Enqueue(c);
  REQUIRE(board.WaitFor([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return board.running == 2; }));
  CHECK(q.size() == 4);
  {
    absl::MutexLock l(&board.mu);
    board.open = true;
  }
  REQUIRE(board.WaitFor([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    int total = 0;
    for (const auto& [id, n] : board.pushes) total += n;
    return total == 6;
  }));
  q.Stop();
  absl::MutexLock l(&board.mu);
  CHECK(board.max_running == 2);
}

TEST_CASE("push queue: connections are pushed in the order they were first queued",
          "[push_queue]") {
  Board board;
  {
    absl::MutexLock l(&board.mu);
    board.open = false;
  }
  PushQueue q(1);
  std::map<uint64_t, std::shared_ptr<FakeConnection>> c;
  for (uint64_t i : {1, 2, 3}) c[i] = std::make_shared<FakeConnection>(i, &board);
  q.Start();
  q.Enqueue(c[1]);
  REQUIRE(board.WaitFor([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return board.running == 1; }));
  q.Enqueue(c[3]);
  q.Enqueue(c[2]);
  q.Enqueue(c[3]);  // merges into 3's place, does not move it back
  {
    absl::MutexLock l(&board.mu);
    board.open = true;
  }
  REQUIRE(board.WaitFor([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return board.order.size() == 3; }));
  q.Stop();
  absl::MutexLock l(&board.mu);
  CHECK(board.order == std::vector<uint64_t>{1, 3, 2});
}

TEST_CASE("push queue: after Stop nothing is queued or pushed", "[push_queue]") {
  Board board;
  PushQueue q(1);
  q.Start();
  q.Stop();
  q.Enqueue(std::make_shared<FakeConnection>(1, &board));
  CHECK(q.size() == 0);
  CHECK(board.Pushes(1) == 0);
}

}  // namespace
}  // namespace meshd::xds
