#include "controller/bootstrap/server.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ca/server/ca_server.h"
#include "controller/bootstrap/config_status.h"
#include "controller/bootstrap/debug_handlers.h"
#include "controller/bootstrap/debug_registry.h"
#include "controller/bootstrap/mesh_page.h"
#include "controller/common/backoff.h"
#include "controller/common/http_server.h"
#include "controller/common/metrics.h"
#include "controller/common/retry.h"
#include "controller/controller.h"
#include "controller/file/directory_source.h"
#include "controller/file/mesh_config_watcher.h"
#include "controller/kube/ca_secret_store.h"
#include "controller/kube/informer.h"
#include "controller/kube/kube_source.h"
#include "controller/kube/leader_elector.h"
#include "controller/kube/rest_kube_client.h"
#include "controller/kube/root_cert_publisher.h"
#include "controller/kube/secret_access_reviewer.h"
#include "controller/kube/status_writer.h"
#include "controller/kube/token_reviewer.h"
#include "controller/kube/webhook_patcher.h"
#include "controller/webhook/webhook_server.h"
#include "spdlog/spdlog.h"
#include "xds/server/ads_server.h"
#include "xds/server/config_dump.h"

namespace meshd::bootstrap {
namespace {

// gRPC wants "0.0.0.0:15010" where istiod users write ":15010".
std::string GrpcAddress(const std::string& addr) {
  return addr.rfind(':', 0) == 0 ? absl::StrCat("0.0.0.0", addr) : addr;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The string at `pointer` in `j`, "" when absent or not a string.
std::string StringAt(const nlohmann::json& j, const char* pointer) {
  nlohmann::json::json_pointer p(pointer);
  if (!j.is_object() || !j.contains(p) || !j.at(p).is_string()) return "";
  return j.at(p).get<std::string>();
}

// The CA's root persistence in Kubernetes: secret istio-ca-secret (ca/ knows no Kubernetes).
class SecretRootPersistence : public ca::RootPersistence {
 public:
  explicit SecretRootPersistence(kube::CaSecretStore store) : store_(std::move(store)) {}
  absl::StatusOr<ca::RootMaterial> Load() override { return Convert(store_.Load()); }
  absl::StatusOr<ca::RootMaterial> Create(const ca::RootMaterial& m) override {
    return Convert(store_.Create({m.ca_cert, m.ca_key, m.cert_chain, m.root_cert}));
  }
  absl::Status Update(const ca::RootMaterial& m) override {
    return store_.Update({m.ca_cert, m.ca_key, m.cert_chain, m.root_cert});
  }
  std::string Describe() const override { return store_.Describe(); }

 private:
  static absl::StatusOr<ca::RootMaterial> Convert(absl::StatusOr<kube::CaSecretStore::Material> m) {
    if (!m.ok()) return m.status();
    return ca::RootMaterial{m->ca_cert, m->ca_key, m->cert_chain, m->root_cert};
  }
  const kube::CaSecretStore store_;
};

// The plug-in CA from secret `cacerts` in meshd's namespace (istiod reads it when nothing is
// mounted at --cacertsDir).
class SecretPluginSource : public ca::PluginSecretSource {
 public:
  explicit SecretPluginSource(kube::CaSecretStore store) : store_(std::move(store)) {}
  absl::StatusOr<ca::PluginData> Load() override { return store_.LoadData(); }
  std::string Describe() const override { return store_.Describe(); }

 private:
  const kube::CaSecretStore store_;
};

}  // namespace

Server::Server(Options options) : options_(std::move(options)) {}

Server::~Server() { Shutdown(); }

void Server::RequestStop() {
  absl::MutexLock lock(&stop_mu_);
  if (!stop_.HasBeenNotified()) stop_.Notify();
}

bool Server::StopRequested() const { return stop_.HasBeenNotified(); }

void Server::WaitForStopRequest() { stop_.WaitForNotification(); }

absl::Status Server::Start() {
  ads_ = std::make_unique<xds::AdsServer>(
      xds::AdsServer::Options{options_.push_workers, options_.cluster_id});
  mesh_watcher_ = std::make_unique<file::MeshConfigWatcher>(
      options_.mesh_config, absl::Seconds(1),
      [this](model::MeshConfigPtr mesh) { controller_->SetMeshConfig(std::move(mesh)); });
  absl::StatusOr<model::MeshConfigPtr> mesh = mesh_watcher_->LoadInitial();
  if (!mesh.ok()) return mesh.status();
  if (!options_.trust_domain_set) options_.trust_domain = (*mesh)->trust_domain;
  Controller::Options copts;
  copts.mesh = *mesh;
  copts.domain = options_.domain;
  copts.trust_domain = options_.trust_domain;
  copts.debounce_quiet = options_.debounce_after;
  copts.debounce_max = options_.debounce_max;
  copts.debounce_endpoints = options_.debounce_endpoints;
  copts.debounce_leading_edge = options_.debounce_leading_edge;
  controller_ = std::make_unique<Controller>(copts, ads_.get());

  // The HTTP endpoints come first so that /ready answers (503) while sources sync.
  http_ = std::make_unique<HttpServer>(options_.http_addr);
  http_->Handle("/ready", [this](const HttpRequest&) {
    HttpResponse r;
    const bool synced = controller_->Ready();
    const bool serving = grpc_serving_.load();
    r.status = synced && serving ? 200 : 503;
    r.body = !synced    ? "not ready: config not synced\n"
             : !serving ? "not ready: xDS not yet serving\n"
                        : "ready\n";
    return r;
  });
  if (auto s = http_->Start(); !s.ok()) return s;
  monitoring_ = std::make_unique<HttpServer>(options_.monitoring_addr);
  RegisterDebugHandlers(monitoring_.get());
  if (auto s = monitoring_->Start(); !s.ok()) return s;

  ads_->Start();
  // One Kubernetes API client, resolved once, shared by the config source, leader election, the
  // CA's root secret and TokenReview, and the root certificate publisher.
  if (auto s = ConnectKube(); !s.ok()) return s;
  // Gateway credentialName secrets only for gateways the API server lets read them (istiod's
  // SubjectAccessReview); without an API server, a gateway's own namespace.
  if (kube_client_) {
    ads_->SetSecretAccessChecker(
        std::make_shared<kube::KubeSecretAccessReviewer>(kube_client_, RealClock::Get()));
  }
  if (!options_.config_dir.empty()) controller_->ExpectSource("file");
  if (options_.kube()) controller_->ExpectSource("kube");
  controller_->Start();
  mesh_watcher_->Start();

  if (!options_.config_dir.empty()) {
    file::DirectorySource::Options fopts;
    fopts.dir = options_.config_dir;
    file_source_ = std::make_unique<file::DirectorySource>(
        fopts, [this](const std::vector<model::ConfigPtr>& configs) {
          controller_->ReplaceConfigs("file", configs);
        });
    if (auto s = file_source_->Start(); !s.ok()) return s;
    controller_->SourceSynced("file");
  }
  if (options_.kube()) {
    if (auto s = StartKube(); !s.ok()) return s;
  }

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(GrpcAddress(options_.grpc_addr), grpc::InsecureServerCredentials(),
                           &port);
  // One server, two ports: the secure port serves the same ADS service plus the CA over TLS.
  int secure_port = 0;
  bool secure = options_.secure();
  if (secure) {
    if (auto s = StartCa(); !s.ok()) return s;
    builder.AddListeningPort(GrpcAddress(options_.secure_grpc_addr), ca_->ServerCredentials(),
                             &secure_port);
    builder.RegisterService(ca_->service());
  }
  builder.RegisterService(ads_.get());
  builder.SetMaxSendMessageSize(-1);
  builder.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  if (secure && options_.webhook()) {
    if (auto s = StartWebhook(); !s.ok()) return s;
  } else if (options_.webhook()) {
    spdlog::warn("meshd: no admission webhooks on {}: they need the CA (--secureGRPCAddr)",
                 options_.webhook_addr);
  }
  grpc_server_ = builder.BuildAndStart();
  if (grpc_server_ == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot serve gRPC on ", options_.grpc_addr));
  }
  if (secure && secure_port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve TLS gRPC on ", options_.secure_grpc_addr));
  }
  if (secure) {
    spdlog::info("meshd: CA and xDS over TLS on {} (port {})", options_.secure_grpc_addr,
                 secure_port);
  }
  grpc_serving_ = true;  // only now may /ready say 200: clients connect when it does
  spdlog::info("meshd: xDS (ADS, plaintext) on {} (port {}); ready on {}; metrics and debug on {}",
               options_.grpc_addr, port, options_.http_addr, options_.monitoring_addr);
  return absl::OkStatus();
}

void Server::Shutdown() {
  // Leadership goes first: releasing the lease lets another replica take over at once,
  // instead of after the lease expires.
  if (elector_) elector_->Stop();
  SetLeading(false);
  if (grpc_server_) {
    grpc_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc_server_.reset();
  }
  if (injector_config_) injector_config_->Stop();
  webhook_serving_ = false;
  if (webhook_) webhook_->Stop();
  if (ca_) ca_->Stop();
  if (kube_source_) kube_source_->Stop();
  if (mesh_watcher_) mesh_watcher_->Stop();
  if (file_source_) file_source_->Stop();
  if (controller_) controller_->Stop();
  if (ads_) ads_->Stop();
  if (monitoring_) monitoring_->Stop();
  if (http_) http_->Stop();
}

absl::Status Server::StartCa() {
  std::shared_ptr<ca::TokenReviewer> reviewer;
  if (kube_client_) {
    reviewer = std::make_shared<kube::KubeTokenReviewer>(kube_client_);
  } else {
    spdlog::warn(
        "ca: no Kubernetes API (no kubeconfig): bearer tokens cannot be reviewed; "
        "only client certificates authenticate");
  }
  ca::CaServerOptions o;
  o.roots.plugin_dir = options_.cacerts_dir;
  o.roots.self_signed_dir = options_.ca_state_dir + "/root";
  if (options_.kube()) {
    // Kubernetes: the self-signed root lives in secret istio-ca-secret, shared by replicas.
    o.roots.persistence = std::make_shared<SecretRootPersistence>(
        kube::CaSecretStore(kube_client_.get(), options_.ns));
    // Plug-in CA: secret cacerts when nothing is mounted at --cacertsDir (mounted files win).
    o.roots.plugin_secret = std::make_shared<SecretPluginSource>(
        kube::CaSecretStore(kube_client_.get(), options_.ns, "cacerts"));
  }
  o.roots.trust_domain = options_.trust_domain;
  o.signer.trust_domain = options_.trust_domain;
  o.signer.default_ttl = options_.workload_cert_ttl;
  o.signer.max_ttl = options_.max_workload_cert_ttl;
  o.serving_dns_names = ca::ServingDnsNames({"istiod"}, options_.ns);
  for (const auto& n : options_.tls_dns_names) o.serving_dns_names.push_back(n);
  o.serving_dir = options_.ca_state_dir + "/serving";
  // In Kubernetes the root lives in the API server, which may not answer yet (meshd started
  // first, or the API server is restarting): wait for it as the informers do instead of
  // exiting; give up after kCaStartTimeout. Other errors (a bad plug-in CA) fail at once. A
  // stop (SIGTERM) ends the wait at once.
  constexpr absl::Duration kCaStartTimeout = absl::Minutes(5);
  Backoff::Options retry;
  retry.initial = absl::Milliseconds(500);
  retry.max = absl::Seconds(10);
  retry.multiplier = 2.0;
  Backoff backoff(retry, RealClock::Get());
  std::function<absl::StatusOr<std::unique_ptr<ca::CaServer>>()> create = [&] {
    return ca::CaServer::Create(o, reviewer, RealClock::Get());
  };
  absl::StatusOr<std::unique_ptr<ca::CaServer>> server =
      RetryWhileUnavailable(create, &backoff, RealClock::Get(), kCaStartTimeout, &stop_,
                            [](absl::Duration delay, const absl::Status& error) {
                              spdlog::warn("ca: cannot load the CA root yet, retrying in {}: {}",
                                           absl::FormatDuration(delay), error.ToString());
                            });
  if (!server.ok()) return server.status();
  ca_ = std::move(*server);
  // xDS on the secure port: every stream authenticated as CreateCertificate callers are (its
  // client certificate, or a service-account token reviewed by the API server).
  ca::Authenticator* authenticator = ca_->authenticator();
  ads_->SetStreamAuthenticator(
      [authenticator](const grpc::CallbackServerContext& context) -> absl::StatusOr<std::string> {
        absl::StatusOr<ca::Identity> id = authenticator->Authenticate(context);
        if (!id.ok()) return id.status();
        return id->ns;
      });
  if (options_.kube()) {
    // Leader-only: ConfigMap istio-ca-root-cert in every namespace.
    ca::CaServer* ca = ca_.get();
    auto publisher = std::make_unique<kube::RootCertPublisher>(
        kube_client_.get(), RealClock::Get(), [ca] { return ca->roots()->Current()->RootsPem(); });
    kube::RootCertPublisher* p = publisher.get();
    ca_->AddRootListener([p] { p->OnRootChange(); });
    // Leader-only: caBundle (and failurePolicy Fail once /validate serves) in the webhook
    // configurations, again on every root change.
    kube::WebhookPatcher::Options wo;
    wo.ns = options_.ns;
    wo.revision = options_.revision;
    auto patcher = std::make_unique<kube::WebhookPatcher>(
        kube_client_.get(), wo, [ca] { return ca->roots()->Current()->RootsPem(); },
        [this] { return webhook_serving_.load(); });
    kube::WebhookPatcher* wp = patcher.get();
    ca_->AddRootListener([wp] { wp->Kick(); });
    absl::MutexLock lock(&leader_mu_);
    root_publisher_ = std::move(publisher);
    if (options_.webhook()) webhook_patcher_ = std::move(patcher);
    if (leading_ || !elector_) {
      leading_ = true;
      root_publisher_->Start();
      if (webhook_patcher_) webhook_patcher_->Start();
    }
  }
  ca_->Start();
  return absl::OkStatus();
}

void Server::SetLeading(bool leading) {
  absl::MutexLock lock(&leader_mu_);
  leading_ = leading;
  if (status_writer_) {
    if (leading) {
      status_writer_->Start();
    } else {
      status_writer_->Stop();
    }
  }
  if (webhook_patcher_) {
    if (leading) {
      webhook_patcher_->Start();
    } else {
      webhook_patcher_->Stop();
    }
  }
  if (!root_publisher_) return;
  if (leading) {
    root_publisher_->Start();
  } else {
    root_publisher_->Stop();
  }
}

absl::Status Server::StartWebhook() {
  // The CA's serving certificate for istiod.<ns>.svc, read from the files the CA keeps
  // current for the secure gRPC port: every new connection reads them, so a re-issued
  // certificate is served without a restart. A read racing a rewrite (key and chain are two
  // files) is retried once.
  const std::string dir = options_.ca_state_dir + "/serving";
  auto credentials = [dir](std::string* chain, std::string* key) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      *chain = ReadFile(dir + "/cert-chain.pem");
      *key = ReadFile(dir + "/key.pem");
      if (ReadFile(dir + "/cert-chain.pem") == *chain) break;
    }
    return !chain->empty() && !key->empty();
  };
  webhook::WebhookServer::Options wopts;
  wopts.address = options_.webhook_addr;
  webhook_ = std::make_unique<webhook::WebhookServer>(wopts, credentials);
  webhook::InjectionConfig defaults;
  defaults.istio_namespace = options_.ns;
  defaults.revision = options_.revision;
  defaults.trust_domain = options_.trust_domain;
  defaults.cluster_domain = options_.domain;
  webhook_->SetInjectionConfig(defaults);
  if (kube_client_ && options_.kube()) {
    // ConfigMap istio-sidecar-injector[-rev] in meshd's namespace: values and policy.
    const std::string name = options_.revision.empty() || options_.revision == "default"
                                 ? std::string("istio-sidecar-injector")
                                 : absl::StrCat("istio-sidecar-injector-", options_.revision);
    kube::Informer::Options io;
    io.field_selector = absl::StrCat("metadata.name=", name);
    injector_config_ =
        std::make_unique<kube::Informer>(kube::ResourceType{"v1", "ConfigMap", "configmaps"},
                                         kube_client_.get(), RealClock::Get(), io);
    auto apply = [this, defaults, name](const nlohmann::json& cm) {
      if (!cm.is_object() || StringAt(cm, "/metadata/namespace") != options_.ns) {
        return;
      }
      std::string config = StringAt(cm, "/data/config");
      std::string values = StringAt(cm, "/data/values");
      absl::StatusOr<webhook::InjectionConfig> c =
          webhook::ParseInjectionConfig(config, values, defaults);
      if (!c.ok()) {
        spdlog::warn("webhook: ConfigMap {}/{} not used: {}", options_.ns, name,
                     c.status().ToString());
        return;
      }
      spdlog::info("webhook: injection values from ConfigMap {}/{}", options_.ns, name);
      webhook_->SetInjectionConfig(*std::move(c));
    };
    kube::Informer::Handler handler;
    handler.on_add = apply;
    handler.on_update = [apply](const nlohmann::json&, const nlohmann::json& cm) { apply(cm); };
    handler.on_delete = [this, defaults](const nlohmann::json& cm) {
      if (cm.is_object() && StringAt(cm, "/metadata/namespace") == options_.ns) {
        webhook_->SetInjectionConfig(defaults);
      }
    };
    injector_config_->AddHandler(std::move(handler));
    injector_config_->Start();
    // As istiod waits for its caches: pods admitted before the ConfigMap is read would get
    // the defaults. Bounded, so an unreachable API server does not hold the webhooks back.
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!injector_config_->HasSynced() && absl::Now() < deadline &&
           !stop_.WaitForNotificationWithTimeout(absl::Milliseconds(50))) {
    }
  }
  if (auto s = webhook_->Start(); !s.ok()) return s;
  webhook_serving_ = true;
  spdlog::info("meshd: admission webhooks (/validate, /inject) over TLS on {}",
               options_.webhook_addr);
  absl::MutexLock lock(&leader_mu_);
  if (webhook_patcher_) webhook_patcher_->Kick();  // failurePolicy may flip now
  return absl::OkStatus();
}

absl::Status Server::ConnectKube() {
  absl::StatusOr<std::optional<kube::KubeConfig>> config = ResolveKubeConfig(options_);
  if (!config.ok()) return config.status();
  if (!config->has_value()) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<kube::RestKubeClient>> client =
      kube::RestKubeClient::Create(**config);
  if (!client.ok()) return client.status();
  kube_client_ = std::shared_ptr<kube::KubeClient>(std::move(*client));
  spdlog::info("meshd: Kubernetes API at {}{}", (*config)->server,
               options_.kube() ? "" : " (TokenReview only: no Kubernetes config source)");
  return absl::OkStatus();
}

absl::Status Server::StartKube() {
  kube::KubeSource::Options kopts;
  kopts.domain = options_.domain;
  kube::KubeSource::Sink sink;
  sink.upsert_config = [this](model::ConfigPtr c) { controller_->UpsertConfig("kube", c); };
  sink.delete_config = [this](const model::ConfigKey& k) { controller_->DeleteConfig("kube", k); };
  sink.set_service = [this](const std::string& host, std::optional<model::Service> svc) {
    controller_->SetKubeService(host, std::move(svc));
  };
  sink.set_endpoints = [this](const std::string& host, std::vector<model::Endpoint> eps) {
    controller_->SetKubeEndpoints(host, std::move(eps));
  };
  sink.set_credential = [this](const std::string& key, std::optional<model::Credential> c) {
    controller_->SetKubeCredential(key, std::move(c));
  };
  sink.synced = [this] { controller_->SourceSynced("kube"); };
  kube_source_ = std::make_unique<kube::KubeSource>(kopts, kube_client_.get(), std::move(sink),
                                                    RealClock::Get());
  kube_source_->Start();

  // Leader-only: the status of every Istio object, computed on the writer's own thread from the
  // source's objects, the current snapshot and the proxies' ACK/NACK state (never on the push
  // path).
  auto desired = [this] {
    std::vector<kube::DesiredStatus> out;
    model::SnapshotPtr snapshot = controller_->Current();
    if (snapshot == nullptr) return out;
    ProxySummary proxies = Summarize(ProxyStates(ads_->Status()));
    for (const kube::KubeSource::ObjectInfo& o : kube_source_->Objects()) {
      kube::DesiredStatus d;
      if (o.rejection) {
        d.object = absl::StrCat(model::KindName(o.key.kind), " ", o.key.ns, "/", o.key.name);
        d.accepted = false;
        d.rejection = *o.rejection;
      } else {
        auto it = snapshot->AllConfigs().find(o.key);
        // Not in a snapshot yet, or the snapshot still holds an older generation: the next
        // round, once the debounced push has built it.
        if (it == snapshot->AllConfigs().end() || it->second->generation != o.generation) {
          continue;
        }
        d = DesiredStatusOf(it->second.get(), snapshot->root_namespace(), snapshot->domain(),
                            proxies);
      }
      d.path = o.path;
      d.generation = o.generation;
      out.push_back(std::move(d));
    }
    return out;
  };
  {
    auto writer = std::make_unique<kube::StatusWriter>(kube_client_.get(),
                                                       kube::StatusWriter::Options{}, desired);
    absl::MutexLock lock(&leader_mu_);
    status_writer_ = std::move(writer);
    if (leading_ || !options_.leader_election) {
      leading_ = true;
      status_writer_->Start();
    }
  }

  if (options_.leader_election) {
    kube::LeaderElector::Options lo;
    lo.ns = options_.ns;
    lo.name = options_.lease_name;
    const char* pod = std::getenv("POD_NAME");
    char host[256] = {0};
    gethostname(host, sizeof(host) - 1);
    lo.identity = pod && *pod ? std::string(pod) : absl::StrCat(host, "-", getpid());
    lo.lease_duration = options_.lease_duration;
    lo.renew_deadline = options_.renew_deadline;
    lo.retry_period = options_.retry_period;
    // Leader-only work (status writes, webhook caBundle patches) hooks in here.
    kube::LeaderElector::Callbacks callbacks;
    callbacks.on_started_leading = [this] { SetLeading(true); };
    callbacks.on_stopped_leading = [this] { SetLeading(false); };
    elector_ = std::make_unique<kube::LeaderElector>(lo, kube_client_.get(), RealClock::Get(),
                                                     std::move(callbacks));
    elector_->Start();
  }
  return absl::OkStatus();
}

void Server::RegisterDebugHandlers(HttpServer* http) {
  // The JSON is built by debug_handlers.h; here only the inputs are gathered.
  http->Handle("/debug/leaderz", [this](const HttpRequest&) {
    LeaderStatus status;
    status.enabled = elector_ != nullptr;
    if (elector_) {
      status.identity = elector_->options().identity;
      status.lease = absl::StrCat(elector_->options().ns, "/", elector_->options().name);
      status.leader = elector_->IsLeader();
      status.holder = elector_->Holder();
    }
    if (kube_source_) status.informers = kube_source_->InformerVersions();
    return JsonResponse(LeaderzJson(status));
  });
  http->Handle("/metrics", [](const HttpRequest&) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = Metrics::Get().Serialize();
    return r;
  });
  http->Handle("/ready", [this](const HttpRequest&) {
    HttpResponse r;
    r.status = controller_->Ready() && grpc_serving_.load() ? 200 : 503;
    return r;
  });
  http->Handle("/debug/syncz",
               [this](const HttpRequest&) { return JsonResponse(SynczJson(ads_->Status())); });
  RegisterRegistryHandlers(http);
  http->Handle("/debug/configz", [this](const HttpRequest&) {
    model::SnapshotPtr snapshot = controller_->Current();
    std::vector<xds::ConnectionStatus> connections = ads_->Status();
    return JsonResponse(ConfigzJson(
        snapshot.get(), file_source_ ? file_source_->Rejections() : std::vector<file::Rejection>{},
        kube_source_ ? kube_source_->Rejections() : std::vector<kube::KubeSource::Rejection>{},
        &connections));
  });
  RegisterPushHandlers(http);
}

void Server::RegisterPushHandlers(HttpServer* http) {
  // The push history (xds/server/push_history.h) and the mesh page that shows it.
  http->Handle("/debug/pushz", [this](const HttpRequest&) {
    return JsonResponse(PushzJson(ads_->history().Recent(), ads_->history().capacity()));
  });
  http->Handle("/debug/push_status", [this](const HttpRequest&) {
    model::SnapshotPtr snapshot = controller_->Current();
    return JsonResponse(PushStatusJson(snapshot.get()));
  });
  auto page = [](const HttpRequest&) {
    HttpResponse r;
    r.content_type = "text/html; charset=utf-8";
    r.body = std::string(MeshPageHtml());
    return r;
  };
  http->Handle("/", page);
  http->Handle("/mesh", page);
}

// istiod-compatible registry and per-proxy debug endpoints (debug_registry.h, config_dump.h).
void Server::RegisterRegistryHandlers(HttpServer* http) {
  http->Handle("/debug/registryz", [this](const HttpRequest&) {
    return JsonResponse(RegistryzJson(controller_->Current().get()));
  });
  http->Handle("/debug/endpointz", [this](const HttpRequest&) {
    return JsonResponse(EndpointzJson(controller_->Current().get()));
  });
  http->Handle("/debug/config_dump", [this](const HttpRequest& req) {
    HttpResponse r;
    auto it = req.query.find("proxyID");
    if (it == req.query.end() || it->second.empty()) {
      r.status = 400;
      r.body = "proxyID is required: /debug/config_dump?proxyID=<pod>.<namespace>\n";
      return r;
    }
    absl::StatusOr<std::string> dump = xds::ConfigDumpJson(*ads_, it->second);
    if (!dump.ok()) {
      r.status = absl::IsNotFound(dump.status()) ? 404 : 503;
      r.body = std::string(dump.status().message()) + "\n";
      return r;
    }
    r.content_type = "application/json";
    r.body = std::move(*dump);
    return r;
  });
}

}  // namespace meshd::bootstrap
