// AdsStream: what every ADS stream shares, State of the World or Delta — a gRPC callback
// reactor (no thread per stream) with one read outstanding at a time, writes sent one at a
// time from a queue the subclass fills under mu_, a clean Finish once any write in flight is
// done, and the stream's own shared_ptr held until OnDone so pushes on worker threads never
// outlive it.
//
// Reactions run on gRPC's threads, pushes on PushQueue workers; everything mutable is guarded
// by mu_, and no lock is held while calling into gRPC.
#pragma once

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "spdlog/spdlog.h"
#include "xds/gen/resource.h"
#include "xds/server/push_history.h"
#include "xds/server/stream.h"

namespace meshd::xds {

class AdsServer;
class WriteBudget;
// Defined in ads_server.cc (the server is incomplete here).
void UnregisterStream(AdsServer* server, uint64_t id);
WriteBudget& WriteBudgetOf(AdsServer* server);
void AddToWriteBudget(WriteBudget& budget, int64_t delta);
// pilot_xds_send_time: from StartWrite to the write's completion.
void ObserveSendTime(absl::Duration d);
PushHistory& HistoryOf(AdsServer* server);

template <typename Request, typename Response>
class AdsStream : public grpc::ServerBidiReactor<Request, Response>,
                  public Stream,
                  public std::enable_shared_from_this<AdsStream<Request, Response>> {
 public:
  AdsStream(AdsServer* server, uint64_t id, std::string peer)
      : server_(server), id_(id), peer_(std::move(peer)) {}

  // Starts reading; `self` keeps the reactor alive until OnDone.
  void Begin(std::shared_ptr<AdsStream> self) {
    {
      absl::MutexLock lock(&mu_);
      self_ = std::move(self);
    }
    this->StartRead(&request_);
  }

  uint64_t id() const override { return id_; }
  std::optional<model::Proxy> proxy() const override {
    absl::MutexLock lock(&mu_);
    return proxy_;
  }

  // The namespace of the authenticated caller (TLS port), before Begin; empty when the
  // stream is not authenticated (plaintext port). A node in another namespace is refused.
  void SetIdentityNamespace(std::string ns) { identity_ns_ = std::move(ns); }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client half-closed or the stream broke: end our side
      FinishWith(grpc::Status::OK);
      return;
    }
    HandleRequest(request_);
    // An Envoy EDS request names every cluster (~100 KiB at 1000 services); gRPC would keep
    // its strings allocated for reuse for the stream's life.
    request_ = Request();
    {
      absl::MutexLock lock(&mu_);
      if (finishing_ || done_) return;
    }
    this->StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    bool start = false;
    std::optional<grpc::Status> finish;
    {
      absl::MutexLock lock(&mu_);
      write_in_flight_ = false;
      if (ok) ObserveSendTime(absl::Now() - write_started_);
      in_flight_bytes_ = 0;
      current_write_ = Response();  // a sidecar's response can be MiBs: not kept once written
      AccountLocked();
      // A broken write (client gone, cancelled) must still end in Finish, exactly once: gRPC
      // calls OnDone only after it. It finishes with the status a failed read left waiting for
      // this write, else CANCELLED unless Finish was called already. (Returning without it
      // left the reactor, and Server::Shutdown, waiting forever when the read failed during
      // the write.)
      if (finish_after_write_) {
        finish = std::move(finish_after_write_);
        finish_after_write_.reset();
      } else if (!ok) {
        if (!finishing_) finish = grpc::Status(grpc::StatusCode::CANCELLED, "write failed");
      } else if (!finishing_) {
        start = NextWriteLocked();
      }
      if (!ok) finishing_ = true;
    }
    if (finish) {
      this->Finish(*finish);
    } else if (start) {
      this->StartWrite(&current_write_);
    }
  }

  void OnDone() override {
    std::shared_ptr<AdsStream> self;  // may be the last reference: released at scope exit
    PushWait owed;
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
      writes_.clear();
      queued_bytes_ = 0;
      AccountLocked();
      self = std::move(self_);
      owed = std::exchange(push_wait_, PushWait{});
    }
    HistoryOf(server_).Resolve(owed.first, owed.last, PushHistory::Outcome::kDisconnected,
                               absl::Now());
    OnClosed();
    UnregisterStream(server_, id_);
  }

 protected:
  // One request, on gRPC's thread, no lock held.
  virtual void HandleRequest(const Request& request) = 0;
  virtual void OnClosed() {}

  // Ends the stream with `status`, after the write in flight if there is one.
  void FinishWith(grpc::Status status) {
    {
      absl::MutexLock lock(&mu_);
      if (finishing_) return;
      finishing_ = true;
      if (write_in_flight_) {
        finish_after_write_ = std::move(status);
        return;
      }
    }
    this->Finish(status);
  }

  // A response waiting in the write queue, with its serialized size measured once, when it was
  // queued: the write budget's accounting then costs O(1) per write, not a pass over the queue.
  struct QueuedWrite {
    Response response;
    int64_t bytes = 0;
  };

  // The write queue is changed only through these two, which keep queued_bytes_ exact.
  void AppendWriteLocked(Response response) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const auto bytes = static_cast<int64_t>(response.ByteSizeLong());
    queued_bytes_ += bytes;
    writes_.push_back(QueuedWrite{std::move(response), bytes});
  }
  void ReplaceWriteLocked(QueuedWrite& queued, Response response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const auto bytes = static_cast<int64_t>(response.ByteSizeLong());
    queued_bytes_ += bytes - queued.bytes;
    queued.response = std::move(response);
    queued.bytes = bytes;
  }

  // Starts writing what the subclass queued in writes_, unless a write is in flight.
  void KickWrites() {
    bool start = false;
    {
      absl::MutexLock lock(&mu_);
      if (!finishing_ && !done_) start = NextWriteLocked();
      AccountLocked();
    }
    if (start) this->StartWrite(&current_write_);
  }

  // Before generating a push: waits (bounded) while the responses queued on all streams
  // exceed the server's write budget.
  void WaitForWriteBudget();

  // The first-request handling both kinds share: the first request must carry a valid node,
  // kept for the stream's life (pilot-agent sends it only once); otherwise the status to
  // finish the stream with. *first is set when this request named the proxy.
  std::optional<grpc::Status> AcceptNodeLocked(bool has_node,
                                               const envoy::config::core::v3::Node& node,
                                               absl::string_view request_kind, bool* first)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    *first = false;
    if (proxy_) return std::nullopt;
    auto proxy = FirstRequestProxy(has_node, node, request_kind, id_, peer_, identity_ns_);
    if (!proxy.ok()) {
      return grpc::Status(static_cast<grpc::StatusCode>(proxy.status().code()),
                          std::string(proxy.status().message()));
    }
    proxy_ = std::move(*proxy);
    *first = true;
    spdlog::info("ads: {} stream {} from {}: node {} (namespace {}, generator {})",
                 std::string(request_kind), id_, peer_, proxy_->id, proxy_->ns,
                 proxy_->generator.empty() ? "-" : proxy_->generator);
    return std::nullopt;
  }

  // Push history bookkeeping, shared by both kinds. MarkWaitLocked: the stream was queued for
  // push `id`. NoteSentLocked: a response is being sent; returns the push id to count it for
  // (0: none). TakeWaitLocked: the stream's wait, cleared, once `replied_to_all` (RepliedToAll
  // over its types); resolve it with ResolveWait after releasing mu_.
  void MarkWaitLocked(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { push_wait_.Mark(id); }
  uint64_t NoteSentLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!push_wait_.owed()) return 0;
    push_wait_.sent = true;
    return push_wait_.last;
  }
  void NoteNackLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (push_wait_.owed()) push_wait_.nacked = true;
  }
  PushWait TakeWaitLocked(bool replied_to_all) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!replied_to_all || generating_ || !push_wait_.owed()) return PushWait{};
    return std::exchange(push_wait_, PushWait{});
  }
  void ResolveWait(PushWait wait) { HistoryOf(server_).Resolve(&wait, absl::Now()); }
  // The stream's subscription buckets (for AdsServer::IndexStream, after mu_ is released)
  // when they differ from what the server last got; nothing when unchanged, so most
  // subscription changes (a stream's CDS after its LDS) never touch the server's index.
  std::optional<std::vector<uint64_t>> RebucketLocked(std::vector<uint64_t> now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::sort(now.begin(), now.end());
    now.erase(std::unique(now.begin(), now.end()), now.end());
    if (now == indexed_buckets_) return std::nullopt;
    indexed_buckets_ = now;
    return now;
  }
  void CountSent(uint64_t push_id, const std::string& type_url) {
    if (push_id != 0) HistoryOf(server_).CountSent(push_id, ShortType(type_url));
  }

  // The status fields every stream has; the subclass adds its types.
  ConnectionStatus BaseStatusLocked(absl::string_view kind) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ConnectionStatus s;
    s.id = id_;
    s.peer = kind.empty() ? peer_ : absl::StrCat(peer_, " (", kind, ")");
    s.connected = connected_;
    if (proxy_) {
      s.proxy_id = proxy_->id;
      s.ns = proxy_->ns;
      s.generator = proxy_->generator;
      s.labels = proxy_->labels;  // workloadSelector matching in the objects' status
    }
    return s;
  }

  AdsServer* const server_;
  const uint64_t id_;
  const std::string peer_;
  const absl::Time connected_ = absl::Now();
  std::string identity_ns_;  // set before Begin, then read-only

  absl::Mutex push_mu_;  // one Push at a time per stream
  mutable absl::Mutex mu_;
  std::deque<QueuedWrite> writes_ ABSL_GUARDED_BY(mu_);  // see AppendWriteLocked
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t nonce_counter_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<model::Proxy> proxy_ ABSL_GUARDED_BY(mu_);
  PushWait push_wait_ ABSL_GUARDED_BY(mu_);
  // A Push took its types' pending flags and is generating their responses: the stream has
  // not replied to a push it has not been sent yet, whatever its types' flags say.
  bool generating_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<uint64_t> indexed_buckets_ ABSL_GUARDED_BY(mu_);  // as last given to the server

 private:
  bool NextWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (write_in_flight_ || writes_.empty()) return false;
    current_write_ = std::move(writes_.front().response);
    in_flight_bytes_ = writes_.front().bytes;
    queued_bytes_ -= writes_.front().bytes;
    writes_.pop_front();
    write_in_flight_ = true;
    write_started_ = absl::Now();
    return true;
  }

  // Brings this stream's share of the write budget to the bytes it holds now: the write in
  // flight plus the queue, both measured when queued (O(1)).
  void AccountLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const int64_t total = in_flight_bytes_ + queued_bytes_;
    if (total != accounted_) {
      AddToWriteBudget(WriteBudgetOf(server_), total - accounted_);
      accounted_ = total;
    }
  }

  Request request_;         // the read buffer, used by gRPC's thread only
  Response current_write_;  // stable while write_in_flight_
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  int64_t in_flight_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // sum of writes_[i].bytes
  absl::Time write_started_ ABSL_GUARDED_BY(mu_);
  int64_t accounted_ ABSL_GUARDED_BY(mu_) = 0;  // this stream's bytes in the write budget
  std::optional<grpc::Status> finish_after_write_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<AdsStream> self_ ABSL_GUARDED_BY(mu_);
};

void WaitForRoomIn(WriteBudget& budget);

template <typename Request, typename Response>
void AdsStream<Request, Response>::WaitForWriteBudget() {
  WaitForRoomIn(WriteBudgetOf(server_));
}

// A stream refused before it started (authentication failed): finishes at once with `status`
// and deletes itself when gRPC is done with it.
template <typename Request, typename Response>
class RejectedStream final : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit RejectedStream(grpc::Status status) { this->Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace meshd::xds
