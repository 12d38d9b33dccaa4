#include "xds/server/connection.h"

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "controller/common/metrics.h"
#include "spdlog/spdlog.h"
#include "xds/gen/grpc_generator.h"
#include "xds/gen/resource.h"
#include "xds/server/ack.h"
#include "xds/server/ads_server.h"
#include "xds/server/node.h"
#include "xds/server/resource_cache.h"
#include "xds/server/syncz.h"

namespace meshd::xds {
namespace {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

}  // namespace

void Connection::HandleRequest(const DiscoveryRequest& request) {
  std::shared_ptr<Stream> self = shared_from_this();
  bool respond = false;
  bool syncz = false;
  bool first = false;
  std::optional<grpc::Status> reject;
  PushWait done;                                 // the pushes this reply finished answering
  std::optional<std::vector<uint64_t>> buckets;  // the subscription's, when it changed
  {
    absl::MutexLock lock(&mu_);
    if (finishing_) return;
    reject = AcceptNodeLocked(request.has_node(), request.node(), "DiscoveryRequest", &first);
    const std::string& type = request.type_url();
    if (!reject && type == kSynczType) {
      // A debug request (istioctl proxy-status): answered below, outside the bookkeeping;
      // its ACK (a nonce) is not answered again.
      syncz = request.response_nonce().empty();
    } else if (!reject && RoleOf(type, id_, proxy_->id) == TypeRole::kServed) {
      TypeState& st = types_[type];
      RequestView rv{request.response_nonce(),
                     request.has_error_detail(),
                     {request.resource_names().begin(), request.resource_names().end()}};
      Decision d = Classify(rv, TypeView{st.progress.sent, st.progress.last_nonce, st.names});
      RecordReply(d.kind, request.response_nonce(), request.error_detail().message(), proxy_->id,
                  type, &st.progress);
      const bool asks_nothing = rv.names.empty();
      if (d.kind == RequestKind::kNack) NoteNackLocked();
      if (d.names_changed || !st.subscribed) {
        st.names = InternNames(std::move(rv.names));
        st.subscribed = true;
        // Computed here, with the request, rather than by the first change's push decision,
        // which would pay it for every stream at once while the change waits.
        st.hosts = HostsOf(type, *st.names);
        buckets = RebucketLocked(BucketsLocked());
      }
      // An empty RDS/EDS subscription asks for nothing; LDS/CDS treat it as a wildcard.
      if (d.respond && (!asks_nothing || IsWildcardType(type))) {
        st.progress.pending = true;
        st.force = true;
        respond = true;
      }
    }
    if (!reject) done = TakeWaitLocked(RepliedToAll(types_));
  }
  if (reject) {
    FinishWith(*reject);
    return;
  }
  ResolveWait(done);
  if (first) server_->Register(self);
  if (buckets) server_->IndexStream(id_, std::move(*buckets));
  if (syncz) {
    // Status() locks every connection, this one included: built without holding mu_.
    std::vector<ConnectionStatus> all = server_->Status();
    {
      absl::MutexLock lock(&mu_);
      if (finishing_ || done_) return;
      AppendWriteLocked(SynczResponse(all, id_, absl::StrCat(id_, "-", ++nonce_counter_)));
    }
    KickWrites();
  }
  if (respond && self) server_->queue().Enqueue(self);
}

std::vector<uint64_t> Connection::BucketsLocked() const {
  std::vector<uint64_t> out;
  for (const auto& [type, st] : types_) {
    if (!st.subscribed) continue;
    if (st.names->empty()) {
      if (IsWildcardType(type)) out.push_back(BucketId(""));
      continue;
    }
    AppendBuckets(st.hosts, &out);  // computed whenever the subscription changes
  }
  return out;
}

bool Connection::MarkForPush(const PushScope& scope, const model::Snapshot& next) {
  absl::MutexLock lock(&mu_);
  if (!proxy_) return false;
  bool any = false;
  for (auto& [type, st] : types_) {
    if (!st.subscribed) continue;
    bool affected = false;
    if (st.names->empty()) {
      affected = IsWildcardType(type) &&
                 (scope.all || !scope.hosts.empty() || !scope.endpoint_hosts.empty());
    } else {
      affected = Affects(scope, type, st.hosts, proxy_->ns, next.domain());
    }
    if (!affected) continue;
    st.progress.pending = true;
    any = true;
  }
  if (any) MarkWaitLocked(scope.push_id);
  return any;
}

void Connection::Push() {
  WaitForWriteBudget();  // a storm drains before more of it is copied into queues
  absl::MutexLock push_lock(&push_mu_);
  model::SnapshotPtr snapshot = server_->snapshot();
  if (snapshot == nullptr) return;  // the first snapshot will push everything
  struct Job {
    std::string type;
    std::vector<std::string> names;
    bool force;
  };
  std::vector<Job> jobs;
  model::Proxy proxy;
  {
    absl::MutexLock lock(&mu_);
    if (finishing_ || done_ || !proxy_) return;
    proxy = *proxy_;
    for (const auto& type : PushOrder()) {
      auto it = types_.find(type);
      if (it == types_.end() || !it->second.progress.pending) continue;
      it->second.progress.pending = false;
      jobs.push_back(
          {type, {it->second.names->begin(), it->second.names->end()}, it->second.force});
      it->second.force = false;
    }
    // Until their responses are queued the stream owes them: a reply to an earlier response
    // arriving meanwhile must not resolve this push's wait (TakeWaitLocked).
    generating_ = !jobs.empty();
  }
  bool queued = false;
  for (auto& job : jobs) {
    absl::Time start = absl::Now();
    Resources resources = server_->Generate(job.type, proxy, *snapshot, job.names);
    uint64_t hash = 0;
    size_t bytes = 0;
    for (const auto& r : resources) {
      hash = absl::HashOf(hash, r->hash);
      bytes += r->any.value().size();
    }
    const TypeMetrics& metrics = MetricsFor(job.type);
    metrics.push_time->Observe(absl::ToDoubleSeconds(absl::Now() - start));
    DiscoveryResponse response;
    uint64_t push_id = 0;  // the history entry the response counts for
    {
      // Only the decision and the bookkeeping under the lock; the response is built after.
      absl::MutexLock lock(&mu_);
      if (finishing_ || done_) {
        generating_ = false;
        return;
      }
      TypeState& st = types_[job.type];
      // Most pushes find nothing changed for this proxy.
      if (!job.force && st.progress.sent && st.hash_sent == hash) continue;
      if (job.type == kEndpointType) {
        // Incremental EDS: after the first full answer, only what the client does not hold.
        // A response of the type still queued would be replaced by this one (one unsent
        // response per type), taking its changes with it: then this one is full.
        bool queued_eds = false;
        for (const auto& w : writes_)
          queued_eds = queued_eds || w.response.type_url() == kEndpointType;
        const bool full = job.force || !st.progress.sent || queued_eds;
        if (full) st.held.clear();
        Resources changed;
        for (auto& r : resources) {
          uint64_t& held = st.held[absl::HashOf(r->name)];
          if (!full && held == r->hash) continue;
          held = r->hash;
          changed.push_back(std::move(r));
        }
        resources = std::move(changed);
        if (resources.empty()) {
          st.hash_sent = hash;  // e.g. a cluster gone: CDS drops it, nothing to send here
          continue;
        }
        bytes = 0;
        for (const auto& r : resources) bytes += r->any.value().size();
      }
      response.set_nonce(absl::StrCat(id_, "-", ++nonce_counter_));
      response.set_version_info(absl::StrCat(snapshot->version()));
      st.hash_sent = hash;
      RecordSent(job.type, response.nonce(), response.version_info(), bytes, &st.progress);
      push_id = NoteSentLocked();
    }
    CountSent(push_id, job.type);
    response.set_type_url(job.type);
    response.mutable_control_plane()->set_identifier("meshd");
    response.mutable_resources()->Reserve(static_cast<int>(resources.size()));
    for (const auto& r : resources) *response.add_resources() = r->any;
    spdlog::debug("ads: push to {}: {} version {} nonce {} ({} resources, {} bytes)", proxy.id,
                  ShortType(job.type), response.version_info(), response.nonce(),
                  response.resources_size(), bytes);
    absl::MutexLock lock(&mu_);
    // What the response carries, for NACK attribution: moved, not copied per push. No reply
    // to it can arrive before it is queued here.
    types_[job.type].progress.in_flight = std::move(resources);
    QueueWriteLocked(std::move(response));
    queued = true;
  }
  if (queued) KickWrites();
  PushWait done;
  {
    absl::MutexLock lock(&mu_);
    generating_ = false;
    done = TakeWaitLocked(RepliedToAll(types_));
  }
  ResolveWait(done);
}

void Connection::QueueWriteLocked(DiscoveryResponse response) {
  // A newer response of a type replaces an unsent older one: bounded memory per client.
  for (auto& queued : writes_) {
    if (queued.response.type_url() == response.type_url()) {
      ReplaceWriteLocked(queued, std::move(response));
      return;
    }
  }
  AppendWriteLocked(std::move(response));
}

void Connection::OnClosed() {
  absl::MutexLock lock(&mu_);
  spdlog::info("ads: connection {} ({}) closed", id_, proxy_ ? proxy_->id : peer_);
}

ConnectionStatus Connection::Status() const {
  absl::MutexLock lock(&mu_);
  ConnectionStatus s = BaseStatusLocked("");
  for (const auto& [type, st] : types_) {
    s.types.push_back(
        StatusOf(type, st.progress, st.names->size(), st.names->empty() && IsWildcardType(type)));
    s.types.back().subscribed_names = ListedNames(*st.names);
  }
  return s;
}

}  // namespace meshd::xds
