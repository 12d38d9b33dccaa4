#include "controller/kube/root_cert_publisher.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace meshd::kube {
namespace {

using nlohmann::json;

std::string MessageOf(const KubeResponse& r) {
  json status = json::parse(r.body, nullptr, false);
  if (status.is_object() && status.contains("message") && status["message"].is_string()) {
    return status["message"].get<std::string>();
  }
  return r.body;
}

}  // namespace

RootCertPublisher::RootCertPublisher(KubeClient* client, const Clock* clock,
                                     std::function<std::string()> bundle_pem, Options options)
    : client_(client),
      clock_(clock),
      bundle_pem_(std::move(bundle_pem)),
      options_(std::move(options)),
      loop_([this] { return Round(); }, clock) {}

RootCertPublisher::~RootCertPublisher() { Stop(); }

absl::Status RootCertPublisher::Publish(const std::string& ns) {
  const std::string item = absl::StrCat("/api/v1/namespaces/", ns, "/configmaps/", options_.name);
  const std::string where = absl::StrCat("configmap ", ns, "/", options_.name);
  const std::string pem = bundle_pem_();
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto got = client_->Request("GET", item);
    if (!got.ok()) return got.status();
    if (got->status == 404) {
      json cm = {
          {"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           {{"name", options_.name}, {"namespace", ns}, {"labels", {{"istio.io/config", "true"}}}}},
          {"data", {{options_.key, pem}}}};
      auto r = client_->Request("POST", absl::StrCat("/api/v1/namespaces/", ns, "/configmaps"),
                                cm.dump());
      if (!r.ok()) return r.status();
      if (r->status == 200 || r->status == 201) {
        spdlog::info("kube: created {}", where);
        return absl::OkStatus();
      }
      if (r->status == 409) continue;  // created meanwhile: read it again
      if (r->status == 404 || r->status == 403) {
        spdlog::info("kube: not creating {}: {}", where, MessageOf(*r));
        return absl::OkStatus();  // namespace gone or terminating
      }
      return absl::UnavailableError(
          absl::StrCat("POST ", where, ": HTTP ", r->status, ": ", MessageOf(*r)));
    }
    if (got->status != 200) {
      return absl::UnavailableError(
          absl::StrCat("GET ", where, ": HTTP ", got->status, ": ", MessageOf(*got)));
    }
    json cm = json::parse(got->body, nullptr, false);
    if (!cm.is_object()) return absl::DataLossError(absl::StrCat("GET ", where, ": not JSON"));
    json data = cm.value("data", json::object());
    if (data.is_object() && data.contains(options_.key) && data[options_.key] == pem) {
      return absl::OkStatus();
    }
    std::string rv;
    if (cm.contains("metadata") && cm["metadata"].is_object()) {
      rv = cm["metadata"].value("resourceVersion", "");
    }
    json patch = {{"data", {{options_.key, pem}}}};
    if (!rv.empty()) patch["metadata"] = {{"resourceVersion", rv}};
    auto r = client_->Request("PATCH", item, patch.dump(), "application/merge-patch+json");
    if (!r.ok()) return r.status();
    if (r->status == 200) {
      spdlog::info("kube: updated {}", where);
      return absl::OkStatus();
    }
    if (r->status == 409 || r->status == 404) continue;  // changed or deleted meanwhile
    return absl::UnavailableError(
        absl::StrCat("PATCH ", where, ": HTTP ", r->status, ": ", MessageOf(*r)));
  }
  return absl::AbortedError(absl::StrCat(where, ": kept changing; will retry"));
}

void RootCertPublisher::Enqueue(const std::string& ns) {
  {
    absl::MutexLock lock(&mu_);
    if (!running_) return;
    known_.insert(ns);
    pending_.insert(ns);
  }
  loop_.Kick();
}

void RootCertPublisher::Recheck(const std::string& ns) {
  {
    absl::MutexLock lock(&mu_);
    if (!running_ || known_.count(ns) == 0) return;
    pending_.insert(ns);
  }
  loop_.Kick();
}

void RootCertPublisher::OnRootChange() {
  {
    absl::MutexLock lock(&mu_);
    if (!running_) return;
    pending_.insert(known_.begin(), known_.end());
  }
  loop_.Kick();
}

bool RootCertPublisher::Running() const {
  absl::MutexLock lock(&mu_);
  return running_;
}

void RootCertPublisher::Start() {
  absl::MutexLock start(&start_mu_);
  if (loop_.running()) return;
  {
    absl::MutexLock lock(&mu_);
    running_ = true;
    known_.clear();
    pending_.clear();
  }
  informer_ = std::make_unique<Informer>(ResourceType{"v1", "Namespace", "namespaces"}, client_,
                                         clock_, options_.informer);
  Informer::Handler handler;
  handler.on_add = [this](const json& obj) { Enqueue(Informer::KeyOf(obj)); };
  handler.on_delete = [this](const json& obj) {
    absl::MutexLock lock(&mu_);
    known_.erase(Informer::KeyOf(obj));
    pending_.erase(Informer::KeyOf(obj));
  };
  informer_->AddHandler(std::move(handler));
  informer_->Start();

  // Our own ConfigMaps, by name: a deleted or edited one is put right (Publish is a no-op for a
  // current one, so the events of our own writes cost one GET).
  Informer::Options cm_options = options_.informer;
  cm_options.field_selector = absl::StrCat("metadata.name=", options_.name);
  configmaps_ = std::make_unique<Informer>(ResourceType{"v1", "ConfigMap", "configmaps"}, client_,
                                           clock_, cm_options);
  Informer::Handler cm_handler;
  cm_handler.on_update = [this](const json&, const json& obj) {
    Recheck(Informer::NamespaceOf(obj));
  };
  cm_handler.on_delete = [this](const json& obj) { Recheck(Informer::NamespaceOf(obj)); };
  configmaps_->AddHandler(std::move(cm_handler));
  configmaps_->Start();
  loop_.Start();  // the first round publishes what the informers queued before it
  spdlog::info("kube: publishing configmap {} in every namespace (leader)", options_.name);
}

void RootCertPublisher::Stop() {
  absl::MutexLock start(&start_mu_);
  if (!loop_.running()) return;
  {
    absl::MutexLock lock(&mu_);
    running_ = false;
  }
  informer_->Stop();
  configmaps_->Stop();
  loop_.Stop();
  informer_.reset();
  configmaps_.reset();
  spdlog::info("kube: stopped publishing configmap {}", options_.name);
}

absl::Duration RootCertPublisher::Round() {
  std::set<std::string> batch;
  {
    absl::MutexLock lock(&mu_);
    batch.swap(pending_);
  }
  std::vector<std::string> failed;
  for (const std::string& ns : batch) {
    if (loop_.stopping() || !Running()) return absl::ZeroDuration();  // Stop() has begun
    if (absl::Status s = Publish(ns); !s.ok()) {
      spdlog::warn("kube: configmap {}/{} not published (will retry): {}", ns, options_.name,
                   s.ToString());
      failed.push_back(ns);
    }
  }
  if (!failed.empty()) {
    if (!loop_.WaitUnlessStopped(options_.retry)) return absl::ZeroDuration();
    absl::MutexLock lock(&mu_);
    pending_.insert(failed.begin(), failed.end());
  }
  absl::MutexLock lock(&mu_);
  return pending_.empty() ? absl::InfiniteDuration() : absl::ZeroDuration();
}

}  // namespace meshd::kube
