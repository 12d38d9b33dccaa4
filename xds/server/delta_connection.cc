#include "xds/server/delta_connection.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controller/common/metrics.h"
#include "spdlog/spdlog.h"
#include "xds/gen/resource.h"
#include "xds/server/ads_server.h"
#include "xds/server/node.h"
#include "xds/server/resource_cache.h"
#include "xds/server/syncz.h"

namespace meshd::xds {
namespace {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;

std::string VersionOf(uint64_t hash) { return absl::StrFormat("%016x", hash); }

// A version this server sent (VersionOf) back as its hash; a foreign one as 0, which no
// resource is taken to have, so it is re-sent.
uint64_t HashOfVersion(const std::string& version) {
  uint64_t hash = 0;
  if (version.size() != 16 || !absl::SimpleHexAtoi(version, &hash)) return 0;
  return hash;
}

}  // namespace

void DeltaConnection::HandleRequest(const DeltaDiscoveryRequest& request) {
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
    reject = AcceptNodeLocked(request.has_node(), request.node(), "DeltaDiscoveryRequest", &first);
    const std::string& type = request.type_url();
    if (!reject && type == kSynczType) {
      // A debug request (istioctl proxy-status), answered below as on a SotW stream: outside
      // the bookkeeping, and its ACK (a nonce) is not answered again.
      syncz = request.response_nonce().empty();
    } else if (!reject && RoleOf(type, id_, proxy_->id) == TypeRole::kServed) {
      auto [it, created] = types_.try_emplace(type);
      TypeState& st = it->second;
      // The same classification as State of the World; a Delta request's names are a diff,
      // handled below, so only the nonce and the error take part.
      Decision d = Classify(RequestView{request.response_nonce(), request.has_error_detail(), {}},
                            TypeView{st.progress.sent, st.progress.last_nonce, EmptyNames()});
      RecordReply(d.kind, request.response_nonce(), request.error_detail().message(), proxy_->id,
                  type, &st.progress);
      if (d.kind == RequestKind::kNack) NoteNackLocked();
      if (created) {
        // A first request with no names subscribes LDS/CDS to everything (wildcard).
        st.wildcard = IsWildcardType(type) && request.resource_names_subscribe().empty();
        for (const auto& [name, version] : request.initial_resource_versions()) {
          st.sent[name] = HashOfVersion(version);  // the client already holds these
        }
        respond = true;
      }
      const bool resubscribed = created || request.resource_names_subscribe_size() > 0 ||
                                request.resource_names_unsubscribe_size() > 0;
      for (const auto& name : request.resource_names_subscribe()) {
        if (name == "*") {
          st.wildcard = true;
        } else if (st.subscribed.insert(name).second &&
                   !(created && request.initial_resource_versions().count(name))) {
          // Newly subscribed: answered even if the server thinks the client holds it, except
          // what a reconnecting client says it holds (initial_resource_versions).
          st.force.insert(name);
        }
        respond = true;
      }
      for (const auto& name : request.resource_names_unsubscribe()) {
        if (name == "*") st.wildcard = false;
        st.subscribed.erase(name);
        st.sent.erase(name);
        st.force.erase(name);
      }
      if (resubscribed) {
        // Computed with the request, not by the next change's push decision (see Connection).
        st.hosts = HostsOf(type, st.subscribed);
        buckets = RebucketLocked(BucketsLocked());
        st.set_hash = 0;  // what the client holds changed
      }
      if (respond) st.progress.pending = true;
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
      AppendWriteLocked(
          SynczDeltaResponse(all, id_, absl::StrCat("d", id_, "-", ++nonce_counter_)));
    }
    KickWrites();
  }
  if (respond && self) server_->queue().Enqueue(self);
}

std::vector<uint64_t> DeltaConnection::BucketsLocked() const {
  std::vector<uint64_t> out;
  for (const auto& [type, st] : types_) {
    if (st.wildcard) out.push_back(BucketId(""));
    AppendBuckets(st.hosts, &out);  // computed whenever the subscription changes
  }
  return out;
}

bool DeltaConnection::MarkForPush(const PushScope& scope, const model::Snapshot& next) {
  absl::MutexLock lock(&mu_);
  if (!proxy_) return false;
  bool any = false;
  for (auto& [type, st] : types_) {
    bool affected = false;
    if (st.wildcard) {
      affected = scope.all || !scope.hosts.empty() || !scope.endpoint_hosts.empty();
    }
    if (!affected && !st.subscribed.empty()) {
      affected = Affects(scope, type, st.hosts, proxy_->ns, next.domain());
    }
    if (!affected) continue;
    st.progress.pending = true;
    any = true;
  }
  if (any) MarkWaitLocked(scope.push_id);
  return any;
}

void DeltaConnection::Push() {
  WaitForWriteBudget();  // a storm drains before more of it is copied into queues
  absl::MutexLock push_lock(&push_mu_);
  model::SnapshotPtr snapshot = server_->snapshot();
  if (snapshot == nullptr) return;
  struct Job {
    std::string type;
    std::vector<std::string> names;  // empty: wildcard
  };
  std::vector<Job> jobs;
  model::Proxy proxy;
  {
    absl::MutexLock lock(&mu_);
    if (finishing_ || done_ || !proxy_) return;
    proxy = *proxy_;
    for (const std::string& type : PushOrder()) {
      auto it = types_.find(type);
      if (it == types_.end() || !it->second.progress.pending) continue;
      it->second.progress.pending = false;
      Job job{type, {}};
      if (!it->second.wildcard) {
        job.names.assign(it->second.subscribed.begin(), it->second.subscribed.end());
      }
      if (!it->second.wildcard && job.names.empty()) continue;
      jobs.push_back(std::move(job));
    }
    // Until their responses are queued the stream owes them: a reply to an earlier response
    // arriving meanwhile must not resolve this push's wait (TakeWaitLocked).
    generating_ = !jobs.empty();
  }
  bool queued = false;
  for (auto& job : jobs) {
    absl::Time start = absl::Now();
    Resources resources = server_->Generate(job.type, proxy, *snapshot, job.names);
    uint64_t set_hash = resources.size();
    for (const auto& r : resources) set_hash = absl::HashOf(set_hash, r->name, r->hash);
    if (set_hash == 0) set_hash = 1;  // 0 means unknown
    const TypeMetrics& metrics = MetricsFor(job.type);
    metrics.push_time->Observe(absl::ToDoubleSeconds(absl::Now() - start));
    // Under the lock: what the client lacks, and the bookkeeping. The response is built after.
    std::vector<size_t> send;  // indexes into resources
    std::vector<std::string> removed;
    DeltaDiscoveryResponse response;
    uint64_t push_id = 0;  // the history entry the response counts for
    {
      absl::MutexLock lock(&mu_);
      if (finishing_ || done_) {
        generating_ = false;
        return;
      }
      TypeState& st = types_[job.type];
      // Most pushes find nothing changed for this proxy: one comparison, not one per name.
      if (st.progress.sent && st.force.empty() && st.set_hash == set_hash) continue;
      size_t bytes = 0;
      // One allocation for the first answer of a type, not one per growth: each large one
      // makes glibc consolidate its fast bins, which showed in the storm's profile.
      st.sent.reserve(resources.size());
      for (size_t i = 0; i < resources.size(); ++i) {
        const Resource& r = *resources[i];
        auto [sent, added] = st.sent.try_emplace(r.name, r.hash);
        if (!added) {
          if (sent->second == r.hash && !st.force.count(r.name)) continue;
          sent->second = r.hash;
        }
        send.push_back(i);
        bytes += r.any.value().size();
      }
      // Resources the client holds that no longer exist: `sent` now holds every generated
      // name, so only a larger `sent` has any.
      if (st.sent.size() > resources.size()) {
        absl::flat_hash_set<absl::string_view> present;
        present.reserve(resources.size());
        for (const auto& r : resources) present.insert(r->name);
        for (auto it = st.sent.begin(); it != st.sent.end();) {
          auto next = std::next(it);
          const bool wanted = st.wildcard || st.subscribed.count(it->first);
          if (wanted && !present.contains(it->first)) {
            removed.push_back(it->first);
            st.sent.erase(it);
          }
          it = next;
        }
        std::sort(removed.begin(), removed.end());
      }
      st.force.clear();
      st.set_hash = set_hash;
      // Nothing new: no response, except the first one of a type, which a client waits for
      // even when it is empty (a wildcard LDS/CDS with nothing to serve, NDS, SDS, …).
      if (send.empty() && removed.empty() && st.progress.sent) continue;
      response.set_nonce(absl::StrCat("d", id_, "-", ++nonce_counter_));
      response.set_system_version_info(absl::StrCat(snapshot->version()));
      RecordSent(job.type, response.nonce(), response.system_version_info(), bytes, &st.progress);
      st.progress.in_flight.clear();
      for (size_t i : send) st.progress.in_flight.push_back(resources[i]);
      push_id = NoteSentLocked();
    }
    CountSent(push_id, job.type);
    response.set_type_url(job.type);
    response.mutable_control_plane()->set_identifier("meshd");
    response.mutable_resources()->Reserve(static_cast<int>(send.size()));
    for (size_t i : send) {
      auto* out = response.add_resources();
      out->set_name(resources[i]->name);
      out->set_version(VersionOf(resources[i]->hash));
      *out->mutable_resource() = resources[i]->any;
    }
    for (auto& name : removed) response.add_removed_resources(std::move(name));
    absl::MutexLock lock(&mu_);
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

void DeltaConnection::QueueWriteLocked(DeltaDiscoveryResponse response) {
  // At most one unsent response per type; a newer one merges into it.
  for (auto& slot : writes_) {
    if (slot.response.type_url() != response.type_url()) continue;
    DeltaDiscoveryResponse queued = std::move(slot.response);
    std::map<std::string, envoy::service::discovery::v3::Resource> by_name;
    for (auto& r : *queued.mutable_resources()) by_name[r.name()] = std::move(r);
    std::set<std::string> removed(queued.removed_resources().begin(),
                                  queued.removed_resources().end());
    for (auto& r : *response.mutable_resources()) {
      removed.erase(r.name());
      by_name[r.name()] = std::move(r);
    }
    for (const auto& name : response.removed_resources()) {
      by_name.erase(name);
      removed.insert(name);
    }
    queued.clear_resources();
    queued.clear_removed_resources();
    for (auto& [name, r] : by_name) *queued.add_resources() = std::move(r);
    for (const auto& name : removed) queued.add_removed_resources(name);
    queued.set_nonce(response.nonce());
    queued.set_system_version_info(response.system_version_info());
    ReplaceWriteLocked(slot, std::move(queued));
    return;
  }
  AppendWriteLocked(std::move(response));
}

ConnectionStatus DeltaConnection::Status() const {
  absl::MutexLock lock(&mu_);
  ConnectionStatus s = BaseStatusLocked("delta");
  for (const auto& [type, st] : types_) {
    s.types.push_back(StatusOf(type, st.progress, st.subscribed.size(), st.wildcard));
    s.types.back().subscribed_names = ListedNames(st.subscribed);
  }
  return s;
}

}  // namespace meshd::xds
