#include "xds/server/ads_server.h"

#include "controller/common/metrics.h"
#include "spdlog/spdlog.h"

namespace meshd::xds {

AdsServer::AdsServer(Options options) : queue_(options.push_workers) {}

AdsServer::~AdsServer() { Stop(); }

void AdsServer::Start() { queue_.Start(); }

void AdsServer::Stop() { queue_.Stop(); }

grpc::ServerBidiReactor<envoy::service::discovery::v3::DiscoveryRequest,
                        envoy::service::discovery::v3::DiscoveryResponse>*
AdsServer::StreamAggregatedResources(grpc::CallbackServerContext* context) {
  auto connection = std::make_shared<Connection>(this, next_id_++, context->peer());
  Connection* reactor = connection.get();
  reactor->Begin(std::move(connection));
  return reactor;
}

void AdsServer::OnSnapshot(model::SnapshotPtr snapshot, const model::PushRequest& request) {
  std::vector<std::shared_ptr<Connection>> targets;
  {
    absl::MutexLock lock(&mu_);
    cache_.Reset(snapshot->version());
    snapshot_ = std::move(snapshot);
    snapshot_time_ = absl::Now();
    for (const auto& [id, c] : connections_) targets.push_back(c);
  }
  size_t pushed = 0;
  for (auto& c : targets) {
    if (c->MarkForPush(request)) {
      queue_.Enqueue(c);
      pushed++;
    }
  }
  spdlog::debug("ads: snapshot queued pushes for {} of {} connections", pushed, targets.size());
}

model::SnapshotPtr AdsServer::snapshot() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

absl::Time AdsServer::snapshot_time() const {
  absl::MutexLock lock(&mu_);
  return snapshot_time_;
}

void AdsServer::Register(std::shared_ptr<Connection> connection) {
  absl::MutexLock lock(&mu_);
  connections_[connection->id()] = std::move(connection);
  Metrics::Get().xds_clients.Add({}).Set(static_cast<double>(connections_.size()));
}

void AdsServer::Unregister(uint64_t id) {
  absl::MutexLock lock(&mu_);
  connections_.erase(id);
  Metrics::Get().xds_clients.Add({}).Set(static_cast<double>(connections_.size()));
}

std::vector<ConnectionStatus> AdsServer::Status() const {
  std::vector<std::shared_ptr<Connection>> all;
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
