#include "xds/server/delta_connection.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controller/common/metrics.h"
#include "spdlog/spdlog.h"
#include "xds/gen/resource.h"
#include "xds/server/ads_server.h"
#include "xds/server/node.h"
#include "xds/server/resource_cache.h"

namespace meshd::xds {
namespace {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;

std::string VersionOf(const Resource& r) { return absl::StrFormat("%016x", r.hash); }

}  // namespace

void DeltaConnection::HandleRequest(const DeltaDiscoveryRequest& request) {
  std::shared_ptr<Stream> self = shared_from_this();
  bool respond = false;
  bool first = false;
  std::optional<grpc::Status> reject;
  {
    absl::MutexLock lock(&mu_);
    if (finishing_) return;
    if (!proxy_) {
      auto proxy = FirstRequestProxy(request.has_node(), request.node(), "DeltaDiscoveryRequest",
                                     id_, peer_, identity_ns_);
      if (!proxy.ok()) {
        reject = grpc::Status(static_cast<grpc::StatusCode>(proxy.status().code()),
                              std::string(proxy.status().message()));
      } else {
        proxy_ = std::move(*proxy);
        first = true;
        spdlog::info("ads: delta connection {} from {}: node {} (namespace {})", id_, peer_,
                     proxy_->id, proxy_->ns);
      }
    }
    const std::string& type = request.type_url();
    if (reject) {
    } else if (IsReportType(type)) {
      spdlog::debug("ads: connection {}: {} report received (not answered, as istiod)", id_, type);
    } else if (!IsKnownType(type)) {
      CountBadRequest(type.empty() ? "no_type_url" : "unknown_type");
      spdlog::warn("ads: delta connection {}: ignoring unsupported type \"{}\"", id_, type);
    } else {
      auto [it, created] = types_.try_emplace(type);
      TypeState& st = it->second;
      if (!request.response_nonce().empty()) {
        if (request.response_nonce() == st.last_nonce) {
          if (request.has_error_detail()) {
            st.nack_error = request.error_detail().message();
            Metrics::Get().xds_rejects.Add({{"type", ShortType(type)}}).Increment();
            spdlog::warn("ads: NACK (delta) from {} for {} nonce {}: {}", proxy_->id,
                         ShortType(type), request.response_nonce(), st.nack_error);
          } else {
            st.version_acked = st.version_sent;
            st.nack_error.clear();
          }
        }
      }
      if (created) {
        // A first request with no names subscribes LDS/CDS to everything (wildcard).
        st.wildcard = IsWildcardType(type) && request.resource_names_subscribe().empty();
        for (const auto& [name, version] : request.initial_resource_versions()) {
          st.sent[name] = version;  // the client already holds these
        }
        respond = true;
      }
      for (const auto& name : request.resource_names_subscribe()) {
        if (name == "*") {
          st.wildcard = true;
        } else if (st.subscribed.insert(name).second) {
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
      st.hosts = SubscriptionHosts();  // recomputed at the next push decision
      if (respond) st.pending = true;
    }
  }
  if (reject) {
    FinishWith(*reject);
    return;
  }
  if (first) server_->Register(self);
  if (respond && self) server_->queue().Enqueue(self);
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
      if (!st.hosts.computed) st.hosts = HostsOf(type, st.subscribed);
      affected = Affects(scope, type, st.hosts, proxy_->ns, next.domain());
    }
    if (!affected) continue;
    st.pending = true;
    any = true;
  }
  return any;
}

void DeltaConnection::Push() {
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
    for (const std::string& type : {std::string(kClusterType), std::string(kEndpointType),
                                    std::string(kListenerType), std::string(kRouteType)}) {
      auto it = types_.find(type);
      if (it == types_.end() || !it->second.pending) continue;
      it->second.pending = false;
      Job job{type, {}};
      if (!it->second.wildcard)
        job.names.assign(it->second.subscribed.begin(), it->second.subscribed.end());
      if (!it->second.wildcard && job.names.empty()) continue;
      jobs.push_back(std::move(job));
    }
  }
  for (auto& job : jobs) {
    Resources resources = server_->Generate(job.type, proxy, *snapshot, job.names);
    absl::MutexLock lock(&mu_);
    TypeState& st = types_[job.type];
    DeltaDiscoveryResponse response;
    response.set_type_url(job.type);
    response.set_system_version_info(absl::StrCat(snapshot->version()));
    response.mutable_control_plane()->set_identifier("meshd");
    std::set<std::string> present;
    size_t bytes = 0;
    for (const auto& r : resources) {
      present.insert(r->name);
      std::string version = VersionOf(*r);
      auto sent = st.sent.find(r->name);
      if (sent != st.sent.end() && sent->second == version && !st.force.count(r->name)) continue;
      auto* out = response.add_resources();
      out->set_name(r->name);
      out->set_version(version);
      *out->mutable_resource() = r->any;
      bytes += r->any.value().size();
      st.sent[r->name] = version;
    }
    // Resources the client holds that no longer exist.
    for (auto it = st.sent.begin(); it != st.sent.end();) {
      bool wanted = st.wildcard || st.subscribed.count(it->first);
      if (!present.count(it->first) && wanted) {
        response.add_removed_resources(it->first);
        it = st.sent.erase(it);
      } else {
        ++it;
      }
    }
    st.force.clear();
    if (response.resources().empty() && response.removed_resources().empty()) continue;
    response.set_nonce(absl::StrCat("d", id_, "-", ++nonce_counter_));
    st.last_nonce = response.nonce();
    st.version_sent = response.system_version_info();
    st.responses++;
    Metrics::Get().xds_pushes.Add({{"type", ShortType(job.type)}}).Increment();
    Metrics::Get()
        .xds_config_size.Add({{"type", ShortType(job.type)}}, Metrics::SizeBuckets())
        .Observe(static_cast<double>(bytes));
    // At most one unsent response per type; a newer one merges into it.
    bool merged = false;
    for (auto& queued : writes_) {
      if (queued.type_url() != response.type_url()) continue;
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
      merged = true;
      break;
    }
    if (!merged) writes_.push_back(std::move(response));
  }
  KickWrites();
}

ConnectionStatus DeltaConnection::Status() const {
  absl::MutexLock lock(&mu_);
  ConnectionStatus s;
  s.id = id_;
  s.peer = peer_ + " (delta)";
  s.connected = connected_;
  if (proxy_) {
    s.proxy_id = proxy_->id;
    s.ns = proxy_->ns;
    s.generator = proxy_->generator;
  }
  for (const auto& [type, st] : types_) {
    TypeStatus t;
    t.type_url = type;
    t.names = st.subscribed.size();
    t.wildcard = st.wildcard;
    t.version_sent = st.version_sent;
    t.nonce_sent = st.last_nonce;
    t.version_acked = st.version_acked;
    t.nack_error = st.nack_error;
    t.responses = st.responses;
    s.types.push_back(std::move(t));
  }
  return s;
}

}  // namespace meshd::xds
