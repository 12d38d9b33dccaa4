#include "xds/server/ads_server.h"

#include <grpc/grpc_security_constants.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "controller/common/metrics.h"
#include "spdlog/spdlog.h"
#include "xds/server/delta_connection.h"
#include "xds/validate/envoy_validator.h"

namespace meshd::xds {

void UnregisterStream(AdsServer* server, uint64_t id) { server->Unregister(id); }
WriteBudget& WriteBudgetOf(AdsServer* server) { return server->write_budget(); }
void AddToWriteBudget(WriteBudget& budget, int64_t delta) { budget.Add(delta); }
void ObserveSendTime(absl::Duration d) {
  static prometheus::Histogram* send_time =
      &Metrics::Get().xds_send_time.Add({}, Metrics::TimeBuckets());
  send_time->Observe(absl::ToDoubleSeconds(d));
}
void WaitForRoomIn(WriteBudget& budget) {
  if (!budget.WaitForRoom()) {
    spdlog::debug("ads: write budget still full after the wait; pushing anyway");
  }
}
PushHistory& HistoryOf(AdsServer* server) { return server->history(); }

AdsServer::AdsServer(Options options)
    : cluster_id_(std::move(options.cluster_id)),
      write_budget_(options.write_budget_bytes, options.write_budget_wait),
      queue_(options.push_workers) {}

AdsServer::~AdsServer() { Stop(); }

void AdsServer::Start() {
  queue_.Start();
  {
    absl::MutexLock lock(&trim_mu_);
    trim_stop_ = false;
  }
  if (!trimmer_.joinable()) trimmer_ = std::thread([this] { TrimLoop(); });
}

void AdsServer::Stop() {
  queue_.Stop();
  {
    absl::MutexLock lock(&trim_mu_);
    trim_stop_ = true;
  }
  if (trimmer_.joinable()) trimmer_.join();
}

void AdsServer::TrimLoop() {
  absl::MutexLock lock(&trim_mu_);
  while (!trim_mu_.AwaitWithTimeout(absl::Condition(&trim_stop_), absl::Seconds(3))) {
    trim_mu_.Unlock();
    write_budget_.MaybeTrim();
    trim_mu_.Lock();
  }
}

grpc::ServerBidiReactor<envoy::service::discovery::v3::DiscoveryRequest,
                        envoy::service::discovery::v3::DiscoveryResponse>*
AdsServer::StreamAggregatedResources(grpc::CallbackServerContext* context) {
  absl::StatusOr<std::string> ns = Authenticate(*context);
  if (!ns.ok()) {
    return new RejectedStream<envoy::service::discovery::v3::DiscoveryRequest,
                              envoy::service::discovery::v3::DiscoveryResponse>(
        grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(ns.status().message())));
  }
  auto connection = std::make_shared<Connection>(this, next_id_++, context->peer());
  connection->SetIdentityNamespace(*ns);
  Connection* reactor = connection.get();
  reactor->Begin(std::move(connection));
  return reactor;
}

grpc::ServerBidiReactor<envoy::service::discovery::v3::DeltaDiscoveryRequest,
                        envoy::service::discovery::v3::DeltaDiscoveryResponse>*
AdsServer::DeltaAggregatedResources(grpc::CallbackServerContext* context) {
  absl::StatusOr<std::string> ns = Authenticate(*context);
  if (!ns.ok()) {
    return new RejectedStream<envoy::service::discovery::v3::DeltaDiscoveryRequest,
                              envoy::service::discovery::v3::DeltaDiscoveryResponse>(
        grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(ns.status().message())));
  }
  auto connection = std::make_shared<DeltaConnection>(this, next_id_++, context->peer());
  connection->SetIdentityNamespace(*ns);
  DeltaConnection* reactor = connection.get();
  reactor->Begin(std::move(connection));
  return reactor;
}

namespace {

// Envoy's own rules (xds/validate) on freshly generated resources: a resource that breaks them
// would be NACKed and block every update of its type, so it is withheld, named and counted,
// and the rest of the mesh keeps getting updates. Runs on cache misses only. Envoy proxies
// only: proxyless gRPC clients accept forms Envoy's annotations refuse (A29's certificate
// provider instances in place of SDS), and are proven against the real clients instead.
Resources Checked(const std::string& type, const model::Proxy& proxy, Resources resources) {
  if (!proxy.IsEnvoy()) return resources;
  Resources out;
  out.reserve(resources.size());
  for (auto& r : resources) {
    std::vector<std::string> errors = ValidateAny(r->any);
    if (errors.empty()) {
      out.push_back(std::move(r));
      continue;
    }
    Metrics::Get().xds_invalid_resources.Add({{"type", ShortType(type)}}).Increment();
    spdlog::error("ads: {} {} for {} withheld: fails Envoy validation: {}", ShortType(type),
                  r->name, proxy.id, errors.front());
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> AdsServer::Authenticate(const grpc::CallbackServerContext& context) {
  if (!authenticator_) return std::string();
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  bool tls = false;
  if (auth != nullptr) {
    // "ssl" from SslServerCredentials, "tls" from TlsServerCredentials (the CA's port).
    for (const auto& v : auth->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME)) {
      tls = tls || v == GRPC_SSL_TRANSPORT_SECURITY_TYPE || v == GRPC_TLS_TRANSPORT_SECURITY_TYPE;
    }
  }
  if (!tls) return std::string();  // the plaintext port, as istiod's 15010
  // istiod: a JWT caller claiming another cluster is checked against that cluster's API
  // server; meshd knows only its own, so such a caller is refused (certificates carry no
  // cluster and are not checked).
  if (absl::Status s =
          CheckClusterId(ClaimedClusterId(context),
                         context.client_metadata().count("authorization") > 0, cluster_id_);
      !s.ok()) {
    CountBadRequest("cluster_mismatch");
    spdlog::warn("ads: stream from {} refused: {}", context.peer(), std::string(s.message()));
    return s;
  }
  absl::StatusOr<std::string> ns = authenticator_(context);
  if (!ns.ok()) {
    CountBadRequest("unauthenticated");
    spdlog::warn("ads: stream from {} refused: {}", context.peer(),
                 std::string(ns.status().message()));
    return absl::UnauthenticatedError("authentication failed");
  }
  return ns;
}

const Generator& AdsServer::GeneratorFor(const model::Proxy& proxy) const {
  if (proxy.IsEnvoy()) return envoy_generator_;
  return grpc_generator_;
}

std::shared_ptr<const std::set<std::string>> AdsServer::LabelKeys(const model::Snapshot& snapshot) {
  {
    absl::MutexLock lock(&keys_mu_);
    if (keys_ != nullptr && keys_version_ == snapshot.version()) return keys_;
  }
  auto keys = std::make_shared<const std::set<std::string>>(SelectedLabelKeys(snapshot));
  absl::MutexLock lock(&keys_mu_);
  if (keys_ == nullptr || snapshot.version() > keys_version_) {
    keys_ = keys;
    keys_version_ = snapshot.version();
  }
  return keys;
}

Resources AdsServer::Generate(const std::string& type, const model::Proxy& proxy,
                              const model::Snapshot& snapshot,
                              const std::vector<std::string>& names) {
  const uint64_t version = snapshot.version();
  const uint64_t view = ViewKey(proxy, *LabelKeys(snapshot));
  const Generator& generator = GeneratorFor(proxy);
  if (type == kSecretType) {
    // Gateway credentials depend on the gateway's service account (SubjectAccessReview), which
    // the view does not hold: never shared through the cache.
    return Checked(type, proxy, generator.Generate(type, proxy, snapshot, names));
  }
  if (names.empty()) {  // wildcard
    Resources own = Checked(type, proxy, generator.GenerateOwn(type, proxy, snapshot));
    std::shared_ptr<const Resources> shared = cache_.Get(version, type, view, "*");
    if (shared == nullptr) {
      Resources all = Checked(type, proxy, generator.Generate(type, proxy, snapshot, {}));
      cache_.Put(version, type, view, "*", all, proxy.ns);
      if (own.empty()) return all;
      all.insert(all.end(), own.begin(), own.end());
      return all;
    }
    if (own.empty()) return *shared;
    Resources all = *shared;
    all.insert(all.end(), own.begin(), own.end());
    return all;
  }
  Resources out;
  out.reserve(names.size());
  for (const auto& name : names) {
    if (std::shared_ptr<const Resources> hit = cache_.Get(version, type, view, name)) {
      out.insert(out.end(), hit->begin(), hit->end());
      continue;
    }
    Resources generated = Checked(type, proxy, generator.Generate(type, proxy, snapshot, {name}));
    out.insert(out.end(), generated.begin(), generated.end());
    cache_.Put(version, type, view, name, std::move(generated), proxy.ns);
  }
  return out;
}

void AdsServer::AdvanceCacheLocked(const PushScope& scope, const std::vector<uint64_t>& buckets,
                                   const model::Snapshot& next,
                                   std::shared_ptr<const std::set<std::string>> keys) {
  // Views hash the selected labels: when the set of selected label keys changes, every view
  // changes and no entry can be reached again.
  if (scope.all || cache_keys_ == nullptr || *cache_keys_ != *keys) {
    cache_.Reset(next.version());
    cache_keys_ = std::move(keys);
    return;
  }
  // The entries the change cannot touch — by the same host test MarkForPush uses — stay: a
  // push regenerates only the names of the changed hosts, not every name of the streams it
  // visits.
  const bool anything = !scope.hosts.empty() || !scope.endpoint_hosts.empty();
  const std::string& domain = next.domain();
  cache_.Advance(next.version(), buckets,
                 [&](const std::string& type, const std::string& name, const std::string& ns) {
                   if (name == "*") return !anything;
                   return !Affects(scope, type, HostsOf(type, {name}), ns, domain);
                 });
}

void AdsServer::OnSnapshot(model::SnapshotPtr snapshot, const model::PushRequest& request) {
  std::vector<std::shared_ptr<Stream>> targets;
  PushScope scope;
  model::SnapshotPtr previous;  // released at the end, not on the way to the pushes
  {
    std::shared_ptr<const std::set<std::string>> keys = LabelKeys(*snapshot);
    absl::MutexLock lock(&mu_);
    scope = ComputeScope(snapshot_.get(), *snapshot, request);
    // Where the change can reach, for the cache and for the streams alike.
    const std::vector<uint64_t> buckets = ScopeBuckets(scope);
    AdvanceCacheLocked(scope, buckets, *snapshot, std::move(keys));
    previous = std::exchange(snapshot_, snapshot);
    snapshot_time_ = absl::Now();
    if (scope.all) {
      for (const auto& [id, c] : connections_) targets.push_back(c);
    } else {
      // Only the streams subscribed to a name in a changed host's bucket, or to a wildcard or
      // host-less name, can be affected (IndexStream); in the same critical section as the
      // snapshot's swap, so a stream indexed after it pushes the new snapshot anyway.
      std::vector<uint64_t> ids;
      auto add = [&](uint64_t bucket) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        auto it = bucket_streams_.find(bucket);
        if (it != bucket_streams_.end())
          ids.insert(ids.end(), it->second.begin(), it->second.end());
      };
      add(BucketId(""));
      for (uint64_t b : buckets) add(b);
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      for (uint64_t id : ids) {
        auto it = connections_.find(id);
        if (it != connections_.end()) targets.push_back(it->second);
      }
    }
  }
  scope.push_id = history_.Begin(snapshot->version(), request, scope.all,
                                 scope.hosts.size() + scope.endpoint_hosts.size(), absl::Now());
  Metrics& m = Metrics::Get();
  m.services.Add({}).Set(static_cast<double>(snapshot->Services().size()));
  m.virt_services.Add({}).Set(
      static_cast<double>(snapshot->Configs(model::Kind::kVirtualService).size()));
  if (!request.configs_updated.empty() ||
      (request.full && request.service_hosts.empty() && request.endpoint_hosts.empty())) {
    m.push_triggers.Add({{"type", "config"}}).Increment();
  }
  if (!request.service_hosts.empty()) m.push_triggers.Add({{"type", "service"}}).Increment();
  if (!request.endpoint_hosts.empty()) m.push_triggers.Add({{"type", "endpoint"}}).Increment();
  size_t pushed = 0;
  for (auto& c : targets) {
    if (c->MarkForPush(scope, *snapshot)) {
      queue_.Enqueue(c);
      pushed++;
    }
  }
  history_.SetTargets(scope.push_id, pushed);
  spdlog::debug("ads: snapshot v{} queued pushes for {} of {} candidate connections ({})",
                snapshot->version(), pushed, targets.size(),
                scope.all ? std::string("all hosts")
                          : absl::StrCat(scope.hosts.size(), " hosts, ",
                                         scope.endpoint_hosts.size(), " endpoint-only"));
}

std::string AdsServer::ClaimedClusterId(const grpc::CallbackServerContext& context) {
  // gRPC lower-cases metadata keys: pilot-agent's "ClusterID" arrives as "clusterid".
  auto it = context.client_metadata().find("clusterid");
  if (it == context.client_metadata().end()) return "";
  return std::string(it->second.data(), it->second.size());
}

absl::Status AdsServer::CheckClusterId(const std::string& claimed, bool token_authenticated,
                                       const std::string& served) {
  if (claimed.empty() || claimed == served || !token_authenticated) return absl::OkStatus();
  return absl::UnauthenticatedError(absl::StrCat("client claims to be in cluster ", claimed,
                                                 ", but meshd serves cluster ", served));
}

model::SnapshotPtr AdsServer::snapshot() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

absl::Time AdsServer::snapshot_time() const {
  absl::MutexLock lock(&mu_);
  return snapshot_time_;
}

void AdsServer::Register(std::shared_ptr<Stream> connection) {
  absl::MutexLock lock(&mu_);
  connections_[connection->id()] = std::move(connection);
  Metrics::Get().xds_clients.Add({}).Set(static_cast<double>(connections_.size()));
}

void AdsServer::Unregister(uint64_t id) {
  absl::MutexLock lock(&mu_);
  connections_.erase(id);
  UnindexLocked(id);
  Metrics::Get().xds_clients.Add({}).Set(static_cast<double>(connections_.size()));
}

void AdsServer::IndexStream(uint64_t id, std::vector<uint64_t> buckets) {
  absl::MutexLock lock(&mu_);
  if (!connections_.count(id)) return;  // closed meanwhile: nothing to index
  UnindexLocked(id);
  for (uint64_t b : buckets) bucket_streams_[b].insert(id);
  stream_buckets_[id] = std::move(buckets);
}

void AdsServer::UnindexLocked(uint64_t id) {
  auto it = stream_buckets_.find(id);
  if (it == stream_buckets_.end()) return;
  for (uint64_t b : it->second) {
    auto s = bucket_streams_.find(b);
    if (s == bucket_streams_.end()) continue;
    s->second.erase(id);
    if (s->second.empty()) bucket_streams_.erase(s);
  }
  stream_buckets_.erase(it);
}

std::vector<model::Proxy> AdsServer::Proxies() const {
  std::vector<std::shared_ptr<Stream>> all;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, c] : connections_) all.push_back(c);
  }
  std::vector<model::Proxy> out;
  for (const auto& c : all) {
    if (auto p = c->proxy()) out.push_back(std::move(*p));
  }
  return out;
}

std::vector<ConnectionStatus> AdsServer::Status() const {
  std::vector<std::shared_ptr<Stream>> all;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, c] : connections_) all.push_back(c);
  }
  std::vector<ConnectionStatus> out;
  for (const auto& c : all) out.push_back(c->Status());
  return out;
}

size_t AdsServer::connections() const {
  absl::MutexLock lock(&mu_);
  return connections_.size();
}

}  // namespace meshd::xds
