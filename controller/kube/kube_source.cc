#include "controller/kube/kube_source.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "controller/common/metrics.h"
#include "controller/config/decoder.h"
#include "controller/kube/kube_registry.h"
#include "spdlog/spdlog.h"

namespace meshd::kube {
namespace {

using nlohmann::json;

std::string Meta(const json& obj, const char* field) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto f = m->find(field);
  return f != m->end() && f->is_string() ? f->get<std::string>() : "";
}

std::string Label(const json& obj, const std::string& label) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto l = m->find("labels");
  if (l == m->end() || !l->is_object()) return "";
  auto v = l->find(label);
  return v != l->end() && v->is_string() ? v->get<std::string>() : "";
}

}  // namespace

KubeSource::KubeSource(Options options, KubeClient* client, Sink sink, const Clock* clock)
    : options_(std::move(options)),
      client_(client),
      sink_(std::move(sink)),
      clock_(clock),
      factory_(client, clock, options_.informer) {}

KubeSource::~KubeSource() { Stop(); }

void KubeSource::Start() {
  thread_ = std::thread([this] { Discover(); });
}

void KubeSource::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  factory_.Stop();
}

std::vector<KubeSource::Rejection> KubeSource::Rejections() const {
  absl::MutexLock lock(&mu_);
  std::vector<Rejection> out;
  for (const auto& [k, r] : rejections_) out.push_back(r);
  return out;
}

std::vector<KubeSource::ObjectInfo> KubeSource::Objects() const {
  absl::MutexLock lock(&mu_);
  std::vector<ObjectInfo> out;
  out.reserve(objects_.size());
  for (const auto& [k, o] : objects_) out.push_back(o);
  return out;
}

std::map<std::string, std::string> KubeSource::InformerVersions() const {
  absl::MutexLock lock(&mu_);
  std::map<std::string, std::string> out;
  for (const Informer* inf : informers_) {
    out[inf->type().CollectionPath()] = inf->LastResourceVersion();
  }
  return out;
}

void KubeSource::Discover() {
  Backoff backoff(ReflectorBackoff(), clock_, [] { return 0.5; });
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    absl::StatusOr<KubeResponse> resp = client_->Request("GET", "/apis");
    std::string error;
    if (!resp.ok()) {
      error = std::string(resp.status().message());
    } else if (resp->status != 200) {
      error = absl::StrCat("HTTP ", resp->status, ": ", resp->body.substr(0, 200));
    } else {
      json j = json::parse(resp->body, nullptr, false);
      if (j.is_object() && j.contains("groups") && j["groups"].is_array()) {
        std::map<std::string, std::vector<std::string>> versions;  // group -> versions
        for (const auto& g : j["groups"]) {
          if (!g.is_object() || !g.contains("name") || !g["name"].is_string()) continue;
          auto& list = versions[g["name"].get<std::string>()];
          if (!g.contains("versions") || !g["versions"].is_array()) continue;
          for (const auto& v : g["versions"]) {
            if (v.is_object() && v.contains("version") && v["version"].is_string()) {
              list.push_back(v["version"].get<std::string>());
            }
          }
        }
        absl::StatusOr<ServedResources> served = DiscoverResources(versions);
        if (served.ok()) {
          StartInformers(*served);
          return;
        }
        error = std::string(served.status().message());
      } else {
        error = "discovery: /apis is not an APIGroupList";
      }
    }
    absl::Duration delay = backoff.Next();
    spdlog::warn("kube: discovery failed ({}); retrying in {}", error, absl::FormatDuration(delay));
    absl::MutexLock lock(&mu_);
    auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    mu_.AwaitWithTimeout(absl::Condition(&stop), delay);
  }
}

absl::StatusOr<KubeSource::ServedResources> KubeSource::DiscoverResources(
    const std::map<std::string, std::vector<std::string>>& versions) {
  ServedResources served;
  for (const auto& info : model::AllKinds()) {
    auto g = versions.find(std::string(info.group));
    if (g == versions.end()) continue;
    for (absl::string_view v : info.versions) {
      if (std::find(g->second.begin(), g->second.end(), std::string(v)) == g->second.end()) {
        continue;
      }
      std::string gv = absl::StrCat(info.group, "/", v);
      if (served.count(gv) > 0) continue;
      // The resources of one group version: a CRD may be served in fewer versions than its
      // group (EnvoyFilter only as v1alpha3), or not installed at all.
      absl::StatusOr<KubeResponse> resp = client_->Request("GET", absl::StrCat("/apis/", gv));
      if (!resp.ok()) {
        return absl::UnavailableError(
            absl::StrCat("discovery of ", gv, ": ", resp.status().message()));
      }
      std::set<std::string>& plurals = served[gv];
      if (resp->status == 404) continue;
      if (resp->status != 200) {
        return absl::UnavailableError(absl::StrCat("discovery of ", gv, ": HTTP ", resp->status));
      }
      json list = json::parse(resp->body, nullptr, false);
      if (!list.is_object() || !list.contains("resources") || !list["resources"].is_array()) {
        return absl::UnavailableError(
            absl::StrCat("discovery of ", gv, ": not an APIResourceList"));
      }
      for (const auto& r : list["resources"]) {
        if (r.is_object() && r.contains("name") && r["name"].is_string()) {
          plurals.insert(r["name"].get<std::string>());
        }
      }
    }
  }
  return served;
}

void KubeSource::StartInformers(const ServedResources& served) {
  std::vector<Informer*> all;
  for (const auto& info : model::AllKinds()) {
    std::string version;
    for (absl::string_view v : info.versions) {
      auto gv = served.find(absl::StrCat(info.group, "/", v));
      if (gv != served.end() && gv->second.count(std::string(info.plural)) > 0) {
        version = std::string(v);
        break;
      }
    }
    if (version.empty()) {
      // A kind whose CRD is not installed is not watched (an informer on it would retry a 404
      // forever and never sync); the rest of the mesh works without it.
      spdlog::info("kube: the API server serves no known version of {}.{}; not watching {}",
                   std::string(info.plural), std::string(info.group), std::string(info.name));
      continue;
    }
    Informer* inf = factory_.For(
        {absl::StrCat(info.group, "/", version), std::string(info.name), std::string(info.plural)});
    model::Kind kind = info.kind;
    {
      absl::MutexLock lock(&mu_);
      watched_versions_[kind] = absl::StrCat(info.group, "/", version);
    }
    auto& events = Metrics::Get().k8s_cfg_events;
    const std::string type(info.name);
    prometheus::Counter* added = &events.Add({{"type", type}, {"event", "add"}});
    prometheus::Counter* updated = &events.Add({{"type", type}, {"event", "update"}});
    prometheus::Counter* deleted = &events.Add({{"type", type}, {"event", "delete"}});
    inf->AddHandler({[this, kind, added](const json& o) {
                       added->Increment();
                       OnConfig(kind, o);
                     },
                     [this, kind, updated](const json&, const json& o) {
                       updated->Increment();
                       OnConfig(kind, o);
                     },
                     [this, kind, deleted](const json& o) {
                       deleted->Increment();
                       OnConfigDelete(kind, o);
                     }});
    all.push_back(inf);
    spdlog::info("kube: watching {} as {}/{}", std::string(info.name), std::string(info.group),
                 version);
  }
  services_ = factory_.For({"v1", "Service", "services"});
  slices_ = factory_.For({"discovery.k8s.io/v1", "EndpointSlice", "endpointslices"});
  pods_ = factory_.For({"v1", "Pod", "pods"});
  nodes_ = factory_.For({"v1", "Node", "nodes"});
  Informer* namespaces = factory_.For({"v1", "Namespace", "namespaces"});
  // Secrets a Gateway's credentialName may name: only TLS material is kept (CredentialFromSecret).
  Informer* secrets = factory_.For({"v1", "Secret", "secrets"});
  auto on_secret = [this](const json& o) {
    if (sink_.set_credential) {
      sink_.set_credential(Meta(o, "namespace") + "/" + Meta(o, "name"), CredentialFromSecret(o));
    }
  };
  auto on_secret_delete = [this](const json& o) {
    if (sink_.set_credential) {
      sink_.set_credential(Meta(o, "namespace") + "/" + Meta(o, "name"), std::nullopt);
    }
  };
  secrets->AddHandler(
      {on_secret, [on_secret](const json&, const json& o) { on_secret(o); }, on_secret_delete});

  services_->AddHandler(
      {[this](const json& o) { SyncService(Meta(o, "namespace"), Meta(o, "name")); },
       [this](const json&, const json& o) { SyncService(Meta(o, "namespace"), Meta(o, "name")); },
       [this](const json& o) { SyncService(Meta(o, "namespace"), Meta(o, "name")); }});
  // Slices are indexed (service, pods, nodes) before their service is recomputed, so that a
  // Pod or Node event that follows finds the services that reference it.
  auto sync_slice_service = [this](const json& o) {
    std::string svc = Label(o, "kubernetes.io/service-name");
    if (!svc.empty()) SyncService(Meta(o, "namespace"), svc);
  };
  slices_->AddHandler({[this, sync_slice_service](const json& o) {
                         endpoint_index_.SetSlice(o);
                         sync_slice_service(o);
                       },
                       [this, sync_slice_service](const json& old_obj, const json& o) {
                         endpoint_index_.SetSlice(o);
                         sync_slice_service(old_obj);
                         sync_slice_service(o);
                       },
                       [this, sync_slice_service](const json& o) {
                         endpoint_index_.DeleteSlice(o);
                         sync_slice_service(o);
                       }});
  // A Pod or Node event recomputes only the services whose endpoints reference it.
  auto on_pod = [this](const json& o) {
    SyncServices(endpoint_index_.ServicesForPod(Informer::KeyOf(o)));
  };
  pods_->AddHandler({on_pod, [on_pod](const json&, const json& o) { on_pod(o); }, on_pod});
  auto on_node = [this](const json& o) {
    SyncServices(endpoint_index_.ServicesForNode(Meta(o, "name")));
  };
  nodes_->AddHandler({on_node, [on_node](const json&, const json& o) { on_node(o); }, on_node});
  all.insert(all.end(), {services_, slices_, pods_, nodes_, namespaces, secrets});

  {
    absl::MutexLock lock(&mu_);
    informers_ = all;
    unsynced_ = static_cast<int>(all.size());
  }
  for (Informer* inf : all) {
    inf->OnSynced([this] {
      bool done;
      {
        absl::MutexLock lock(&mu_);
        done = --unsynced_ == 0;
      }
      if (done) {
        spdlog::info("kube: every informer has synced");
        if (sink_.synced) sink_.synced();
      }
    });
  }
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
  }
  factory_.Start();
}

void KubeSource::OnConfig(model::Kind kind, const json& obj) {
  config::DecodeOptions opts;
  opts.origin = "kube";
  absl::StatusOr<model::ConfigPtr> config = config::DecodeObject(obj, opts);
  model::ConfigKey key{kind, Meta(obj, "namespace"), Meta(obj, "name")};
  std::string name = absl::StrCat(model::KindName(kind), " ", key.ns, "/", key.name);
  {
    absl::MutexLock lock(&mu_);
    ObjectInfo& info = objects_[key];
    info.key = key;
    info.path = absl::StrCat("/apis/", watched_versions_[kind], "/namespaces/", key.ns, "/",
                             model::Info(kind).plural, "/", key.name);
    auto md = obj.find("metadata");
    info.generation = 0;
    if (md != obj.end() && md->is_object() && md->contains("generation") &&
        (*md)["generation"].is_number_integer()) {
      info.generation = (*md)["generation"].get<int64_t>();
    }
    info.rejection.reset();
    if (!config.ok()) info.rejection = std::string(config.status().message());
  }
  if (!config.ok()) {
    bool had;
    {
      absl::MutexLock lock(&mu_);
      rejections_[key] = {name, std::string(config.status().message())};
      had = accepted_rv_.count(key) > 0;
    }
    Metrics::Get()
        .config_rejections.Add({{"kind", std::string(model::KindName(kind))}, {"source", "kube"}})
        .Increment();
    spdlog::warn("kube: rejected {} (resourceVersion {}): {}{}", name, Meta(obj, "resourceVersion"),
                 std::string(config.status().message()),
                 had ? absl::StrCat("; keeping the last accepted version of ", name) : "");
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    rejections_.erase(key);
    accepted_rv_[key] = (*config)->resource_version;
  }
  // Each event is one new resourceVersion, so each accepted version is logged once.
  std::vector<std::string> not_applied = config::ProxyTypesNotApplying(kind);
  if (!not_applied.empty()) {
    spdlog::info("kube: {} (resourceVersion {}) accepted, not applied to {}", name,
                 (*config)->resource_version, absl::StrJoin(not_applied, ", "));
  }
  for (const auto& w : (*config)->warnings) {
    spdlog::warn("kube: {} (resourceVersion {}) accepted with a warning: {}", name,
                 (*config)->resource_version, w);
  }
  if (sink_.upsert_config) sink_.upsert_config(*config);
}

void KubeSource::OnConfigDelete(model::Kind kind, const json& obj) {
  model::ConfigKey key{kind, Meta(obj, "namespace"), Meta(obj, "name")};
  {
    absl::MutexLock lock(&mu_);
    rejections_.erase(key);
    accepted_rv_.erase(key);
    objects_.erase(key);
  }
  if (sink_.delete_config) sink_.delete_config(key);
}

void KubeSource::SyncService(const std::string& ns, const std::string& name) {
  if (ns.empty() || name.empty()) return;
  absl::MutexLock order(&sync_mu_);
  std::string host = ServiceHost(name, ns, options_.domain);
  std::optional<json> obj = services_->Get(absl::StrCat(ns, "/", name));
  std::optional<model::Service> svc;
  if (obj) svc = ServiceFromKube(*obj, options_.domain);
  std::vector<model::Endpoint> eps;
  if (svc) {
    EndpointInputs in;
    for (const std::string& key : endpoint_index_.SlicesForService(absl::StrCat(ns, "/", name))) {
      std::optional<json> slice = slices_->Get(key);
      // The index may name a slice the cache already dropped (its delete handler runs next),
      // or one whose label moved it to another service.
      if (slice && Label(*slice, "kubernetes.io/service-name") == name) {
        in.slices.push_back(std::move(*slice));
      }
    }
    in.pod = [this](const std::string& key) { return pods_->Get(key); };
    in.node = [this](const std::string& key) { return nodes_->Get(key); };
    eps = EndpointsFromSlices(*svc, in);
  }
  // The service first, so that an endpoint-only push never names an unknown service.
  if (sink_.set_service) sink_.set_service(host, svc);
  if (sink_.set_endpoints) sink_.set_endpoints(host, std::move(eps));
}

void KubeSource::SyncServices(const std::set<std::string>& service_keys) {
  for (const std::string& key : service_keys) {
    std::pair<std::string, std::string> ns_name = absl::StrSplit(key, absl::MaxSplits('/', 1));
    SyncService(ns_name.first, ns_name.second);
  }
}

}  // namespace meshd::kube
