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

namespace meshd::xds {
namespace {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

// Push order: make before break (clusters and endpoints before the routes that use them).
const std::vector<std::string>& TypeOrder() {
  static const auto* order =
      new std::vector<std::string>{kClusterType, kEndpointType, kListenerType, kRouteType};
  return *order;
}

// Metric handles per type, looked up once: Family::Add hashes labels under a lock.
struct TypeMetrics {
  prometheus::Counter* pushes;
  prometheus::Histogram* size;
  prometheus::Histogram* push_time;
};

const TypeMetrics& MetricsFor(const std::string& type) {
  static absl::Mutex mu;
  static auto* by_type = new std::map<std::string, TypeMetrics>();
  absl::MutexLock lock(&mu);
  auto it = by_type->find(type);
  if (it == by_type->end()) {
    Metrics& m = Metrics::Get();
    std::map<std::string, std::string> labels = {{"type", ShortType(type)}};
    it = by_type
             ->emplace(type, TypeMetrics{&m.xds_pushes.Add(labels),
                                         &m.xds_config_size.Add(labels, Metrics::SizeBuckets()),
                                         &m.xds_push_time.Add(labels, Metrics::TimeBuckets())})
             .first;
  }
  return it->second;
}

}  // namespace

void Connection::HandleRequest(const DiscoveryRequest& request) {
  std::shared_ptr<Stream> self = shared_from_this();
  bool respond = false;
  bool first = false;
  std::optional<grpc::Status> reject;
  {
    absl::MutexLock lock(&mu_);
    if (finishing_) return;
    if (!proxy_) {
      auto proxy = FirstRequestProxy(request.has_node(), request.node(), "DiscoveryRequest", id_,
                                     peer_, identity_ns_);
      if (!proxy.ok()) {
        reject = grpc::Status(static_cast<grpc::StatusCode>(proxy.status().code()),
                              std::string(proxy.status().message()));
      } else {
        proxy_ = std::move(*proxy);
        first = true;
      }
    }
    if (reject) {
      // handled below, without the lock
    } else if (first) {
      spdlog::info("ads: connection {} from {}: node {} (namespace {}, generator {})", id_, peer_,
                   proxy_->id, proxy_->ns, proxy_->generator.empty() ? "-" : proxy_->generator);
    }
    const std::string& type = request.type_url();
    if (reject) {
    } else if (IsReportType(type)) {
      spdlog::debug("ads: connection {}: {} report received (not answered, as istiod)", id_, type);
    } else if (!IsKnownType(type)) {
      CountBadRequest(type.empty() ? "no_type_url" : "unknown_type");
      spdlog::warn("ads: connection {} ({}): ignoring request for unsupported type \"{}\"", id_,
                   proxy_->id, type);
    } else {
      TypeState& st = types_[type];
      RequestView rv{request.response_nonce(),
                     request.has_error_detail(),
                     {request.resource_names().begin(), request.resource_names().end()}};
      Decision d = Classify(rv, TypeView{st.sent, st.last_nonce, st.names});
      switch (d.kind) {
        case RequestKind::kNack:
          st.nack_error = request.error_detail().message();
          st.nack_version = st.version_sent;
          Metrics::Get().xds_rejects.Add({{"type", ShortType(type)}}).Increment();
          spdlog::warn("ads: NACK from {} for {} version {} nonce {}: {}", proxy_->id,
                       ShortType(type), st.version_sent, request.response_nonce(),
                       request.error_detail().message());
          break;
        case RequestKind::kAck:
          if (st.version_acked != st.version_sent) {
            Metrics::Get()
                .proxy_convergence_time.Add({}, Metrics::TimeBuckets())
                .Observe(absl::ToDoubleSeconds(absl::Now() - st.sent_at));
          }
          st.version_acked = st.version_sent;
          st.nack_error.clear();
          break;
        case RequestKind::kStale:
          spdlog::debug("ads: {} {}: stale nonce {} (last sent {})", proxy_->id, ShortType(type),
                        request.response_nonce(), st.last_nonce);
          break;
        case RequestKind::kSubscribe:
          break;
      }
      if (d.names_changed || !st.subscribed) {
        st.names = rv.names;
        st.subscribed = true;
        st.hosts = SubscriptionHosts();  // recomputed at the next push decision
      }
      // An empty RDS/EDS subscription asks for nothing; LDS/CDS treat it as a wildcard.
      if (d.respond && (!rv.names.empty() || IsWildcardType(type))) {
        st.pending = true;
        st.force = true;
        respond = true;
      }
    }
  }
  if (reject) {
    FinishWith(*reject);
    return;
  }
  if (first) server_->Register(self);
  if (respond && self) server_->queue().Enqueue(self);
}

bool Connection::MarkForPush(const PushScope& scope, const model::Snapshot& next) {
  absl::MutexLock lock(&mu_);
  if (!proxy_) return false;
  bool any = false;
  for (auto& [type, st] : types_) {
    if (!st.subscribed) continue;
    bool affected = false;
    if (st.names.empty()) {
      affected = IsWildcardType(type) &&
                 (scope.all || !scope.hosts.empty() || !scope.endpoint_hosts.empty());
    } else {
      if (!st.hosts.computed) st.hosts = HostsOf(type, st.names);
      affected = Affects(scope, type, st.hosts, proxy_->ns, next.domain());
    }
    if (!affected) continue;
    st.pending = true;
    any = true;
  }
  return any;
}

void Connection::Push() {
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
    for (const auto& type : TypeOrder()) {
      auto it = types_.find(type);
      if (it == types_.end() || !it->second.pending) continue;
      it->second.pending = false;
      jobs.push_back({type, {it->second.names.begin(), it->second.names.end()}, it->second.force});
      it->second.force = false;
    }
  }
  for (auto& job : jobs) {
    absl::Time start = absl::Now();
    Resources resources = server_->Generate(job.type, proxy, *snapshot, job.names);
    uint64_t hash = 0;
    for (const auto& r : resources) hash = absl::HashOf(hash, r->hash);
    const TypeMetrics& metrics = MetricsFor(job.type);
    metrics.push_time->Observe(absl::ToDoubleSeconds(absl::Now() - start));
    absl::MutexLock lock(&mu_);
    TypeState& st = types_[job.type];
    // Compare before building: most pushes find nothing changed for this proxy.
    if (!job.force && st.sent && st.hash_sent == hash) continue;
    DiscoveryResponse response;
    response.set_type_url(job.type);
    response.set_version_info(absl::StrCat(snapshot->version()));
    response.mutable_control_plane()->set_identifier("meshd");
    size_t bytes = 0;
    response.mutable_resources()->Reserve(static_cast<int>(resources.size()));
    for (const auto& r : resources) {
      *response.add_resources() = r->any;
      bytes += r->any.value().size();
    }
    response.set_nonce(absl::StrCat(id_, "-", ++nonce_counter_));
    st.sent = true;
    st.last_nonce = response.nonce();
    st.version_sent = response.version_info();
    st.hash_sent = hash;
    st.sent_at = absl::Now();
    st.responses++;
    metrics.pushes->Increment();
    metrics.size->Observe(static_cast<double>(bytes));
    spdlog::debug("ads: push to {}: {} version {} nonce {} ({} resources, {} bytes)", proxy.id,
                  ShortType(job.type), response.version_info(), response.nonce(),
                  response.resources_size(), bytes);
    QueueWriteLocked(std::move(response));
  }
  KickWrites();
}

void Connection::QueueWriteLocked(DiscoveryResponse response) {
  // A newer response of a type replaces an unsent older one: bounded memory per client.
  for (auto& queued : writes_) {
    if (queued.type_url() == response.type_url()) {
      queued = std::move(response);
      return;
    }
  }
  writes_.push_back(std::move(response));
}

void Connection::OnClosed() {
  absl::MutexLock lock(&mu_);
  spdlog::info("ads: connection {} ({}) closed", id_, proxy_ ? proxy_->id : peer_);
}

ConnectionStatus Connection::Status() const {
  absl::MutexLock lock(&mu_);
  ConnectionStatus s;
  s.id = id_;
  s.peer = peer_;
  s.connected = connected_;
  if (proxy_) {
    s.proxy_id = proxy_->id;
    s.ns = proxy_->ns;
    s.generator = proxy_->generator;
  }
  for (const auto& [type, st] : types_) {
    TypeStatus t;
    t.type_url = type;
    t.names = st.names.size();
    t.wildcard = st.names.empty() && IsWildcardType(type);
    t.version_sent = st.version_sent;
    t.nonce_sent = st.last_nonce;
    t.version_acked = st.version_acked;
    t.nack_error = st.nack_error;
    t.nack_version = st.nack_version;
    t.responses = st.responses;
    s.types.push_back(std::move(t));
  }
  return s;
}

}  // namespace meshd::xds
