#include "controller/controller.h"

#include "absl/time/clock.h"

#include "controller/common/metrics.h"
#include "controller/registry.h"
#include "spdlog/spdlog.h"

namespace meshd {

Controller::Controller(Options options, model::SnapshotSink* sink, const Clock* clock)
    : options_(std::move(options)),
      sink_(sink),
      clock_(clock),
      debouncer_(options_.debounce_quiet, options_.debounce_max, options_.debounce_endpoints),
      mesh_(options_.mesh != nullptr ? options_.mesh
                                     : std::make_shared<const model::MeshConfig>()) {
  debouncer_.set_leading_edge(options_.debounce_leading_edge);
}

Controller::~Controller() { Stop(); }

void Controller::ExpectSource(const std::string& source) {
  absl::MutexLock lock(&mu_);
  unsynced_.insert(source);
}

void Controller::SourceSynced(const std::string& source) {
  model::PushRequest req;
  req.full = true;
  req.start = clock_->Now();
  {
    absl::MutexLock lock(&mu_);
    unsynced_.erase(source);
  }
  Enqueue(std::move(req));
}

void Controller::ReplaceConfigs(const std::string& source,
                                const std::vector<model::ConfigPtr>& configs) {
  auto before = ServiceEntriesBefore(configs);
  EnqueueConfigChanges(store_.ReplaceSource(source, configs), before);
}

std::map<model::ConfigKey, model::ConfigPtr> Controller::ServiceEntriesBefore(
    const std::vector<model::ConfigPtr>& configs) const {
  std::map<model::ConfigKey, model::ConfigPtr> out;
  for (const auto& c : configs) {
    if (c == nullptr || c->key.kind != model::Kind::kServiceEntry) continue;
    if (model::ConfigPtr old = store_.Find(c->key)) out.emplace(c->key, std::move(old));
  }
  return out;
}

void Controller::EnqueueConfigChanges(std::set<model::ConfigKey> changed,
                                      const std::map<model::ConfigKey, model::ConfigPtr>& before) {
  if (changed.empty()) return;
  for (const auto& k : changed) spdlog::debug("controller: {} changed", k.ToString());
  model::PushRequest req;
  req.full = true;
  for (const auto& [key, old] : before) {
    if (!changed.count(key)) continue;
    model::ConfigPtr now = store_.Find(key);
    if (model::OnlyServiceEntryEndpointsDiffer(old.get(), now.get())) {
      req.endpoint_configs.insert(key);
    }
  }
  req.configs_updated = std::move(changed);
  req.start = clock_->Now();
  req.merged = 1;
  Enqueue(std::move(req));
}

void Controller::UpsertConfig(const std::string& source, model::ConfigPtr config) {
  auto before = ServiceEntriesBefore({config});
  EnqueueConfigChanges(store_.Upsert(source, std::move(config)), before);
}

void Controller::DeleteConfig(const std::string& source, const model::ConfigKey& key) {
  EnqueueConfigChanges(store_.Delete(source, key));
}

namespace {

bool SameService(const model::Service& a, const model::Service& b) {
  if (a.hostname != b.hostname || a.ns != b.ns || a.resolution != b.resolution ||
      a.mesh_external != b.mesh_external || a.addresses != b.addresses || a.origin != b.origin ||
      a.export_to != b.export_to || a.ports.size() != b.ports.size()) {
    return false;
  }
  for (size_t i = 0; i < a.ports.size(); ++i) {
    const auto &p = a.ports[i], &q = b.ports[i];
    if (p.name != q.name || p.number != q.number || p.protocol != q.protocol ||
        p.target_port != q.target_port) {
      return false;
    }
  }
  return true;
}

}  // namespace

void Controller::SetKubeService(const std::string& hostname,
                                std::optional<model::Service> service) {
  model::PushRequest req;
  {
    absl::MutexLock lock(&mu_);
    auto it = kube_services_.find(hostname);
    if (!service) {
      if (it == kube_services_.end()) return;
      kube_services_.erase(it);
    } else {
      if (it != kube_services_.end() && SameService(it->second, *service)) return;
      kube_services_[hostname] = std::move(*service);
    }
  }
  spdlog::debug("controller: Kubernetes service {} changed", hostname);
  req.full = true;
  req.service_hosts.insert(hostname);
  req.start = clock_->Now();
  req.merged = 1;
  Enqueue(std::move(req));
}

void Controller::SetKubeCredential(const std::string& key,
                                   std::optional<model::Credential> credential) {
  {
    absl::MutexLock lock(&mu_);
    auto it = kube_credentials_.find(key);
    if (!credential) {
      if (it == kube_credentials_.end()) return;
      kube_credentials_.erase(it);
    } else {
      if (it != kube_credentials_.end() && it->second == *credential) return;
      kube_credentials_[key] = std::move(*credential);
    }
  }
  spdlog::debug("controller: credential {} changed", key);
  model::PushRequest req;
  req.full = true;
  req.start = clock_->Now();
  req.merged = 1;
  Enqueue(std::move(req));
}

void Controller::SetMeshConfig(model::MeshConfigPtr mesh) {
  {
    absl::MutexLock lock(&mu_);
    mesh_ = std::move(mesh);
  }
  spdlog::info("controller: mesh config changed; pushing everything");
  model::PushRequest req;
  req.full = true;
  req.start = clock_->Now();
  req.merged = 1;
  Enqueue(std::move(req));
}

void Controller::SetKubeEndpoints(const std::string& hostname,
                                  std::vector<model::Endpoint> endpoints) {
  {
    absl::MutexLock lock(&mu_);
    auto it = kube_endpoints_.find(hostname);
    if (endpoints.empty()) {
      if (it == kube_endpoints_.end()) return;
      kube_endpoints_.erase(it);
    } else {
      if (it != kube_endpoints_.end() && it->second == endpoints) return;
      kube_endpoints_[hostname] = std::move(endpoints);
    }
  }
  spdlog::debug("controller: endpoints of {} changed", hostname);
  model::PushRequest req;
  req.full = false;  // endpoints only: EDS
  req.endpoint_hosts.insert(hostname);
  req.start = clock_->Now();
  req.merged = 1;
  Enqueue(std::move(req));
}

void Controller::Enqueue(model::PushRequest request) {
  absl::MutexLock lock(&mu_);
  ++enqueued_;
  debouncer_.Add(request, clock_->Now());
}

model::SnapshotPtr Controller::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

void Controller::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Controller::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

model::SnapshotPtr Controller::Build() {
  model::Snapshot::Data data;
  data.domain = options_.domain;
  data.trust_domain = options_.trust_domain;
  data.configs = store_.Merged();
  std::vector<model::ConfigPtr> ses, wes;
  std::map<model::Kind, int> counts;
  for (const auto& [k, c] : data.configs) {
    counts[k.kind]++;
    if (k.kind == model::Kind::kServiceEntry) ses.push_back(c);
    if (k.kind == model::Kind::kWorkloadEntry) wes.push_back(c);
  }
  for (const auto& info : model::AllKinds()) {
    Metrics::Get().config_objects.Add({{"kind", std::string(info.name)}}).Set(counts[info.kind]);
  }
  Registry reg = BuildServiceEntryRegistry(ses, wes, options_.domain);
  data.services = std::move(reg.services);
  data.endpoints = std::move(reg.endpoints);
  {
    absl::MutexLock lock(&mu_);
    data.version = ++version_;
    data.mesh = mesh_;
    data.credentials = kube_credentials_;
    for (const auto& [host, svc] : kube_services_) {
      data.services[host] = svc;
      auto eps = kube_endpoints_.find(host);
      if (eps != kube_endpoints_.end()) {
        data.endpoints[host] = eps->second;
      } else {
        data.endpoints.erase(host);
      }
    }
  }
  return std::make_shared<const model::Snapshot>(std::move(data));
}

void Controller::Run() {
  while (true) {
    std::optional<model::PushRequest> due;
    {
      absl::MutexLock lock(&mu_);
      // A change enqueued while waiting may bring the deadline closer (an endpoint change
      // debounces 20 ms): wake and recompute the wait then, not at the next 50 ms tick.
      const uint64_t seen = enqueued_;
      auto ready = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        if (stopping_ || enqueued_ != seen) return true;
        auto d = debouncer_.Deadline();
        return d.has_value() && *d <= clock_->Now() && unsynced_.empty();
      };
      // Wake at the debounce deadline, or at least every 50 ms to notice new work.
      auto d = debouncer_.Deadline();
      absl::Duration wait = absl::Milliseconds(50);
      if (d) wait = std::min(wait, std::max(absl::ZeroDuration(), *d - clock_->Now()));
      mu_.AwaitWithTimeout(absl::Condition(&ready), wait);
      if (stopping_) return;
      if (!unsynced_.empty()) continue;
      due = debouncer_.Poll(clock_->Now());
    }
    if (!due) continue;
    Metrics::Get()
        .debounce_time.Add({}, Metrics::TimeBuckets())
        .Observe(absl::ToDoubleSeconds(clock_->Now() - due->start));
    const absl::Time build_start = absl::Now();
    model::SnapshotPtr snapshot = Build();
    Metrics::Get().snapshots.Add({}).Increment();
    spdlog::info(
        "controller: snapshot v{} ({} configs, {} services; {} changed, {} events merged; "
        "built in {:.1f} ms)",
        snapshot->version(), snapshot->AllConfigs().size(), snapshot->Services().size(),
        due->configs_updated.size(), due->merged,
        absl::ToDoubleMilliseconds(absl::Now() - build_start));
    {
      absl::MutexLock lock(&mu_);
      current_ = snapshot;
    }
    sink_->OnSnapshot(snapshot, *due);
    ready_ = true;
  }
}

}  // namespace meshd
