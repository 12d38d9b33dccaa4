#include "controller/kube/webhook_patcher.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace meshd::kube {
namespace {

constexpr char kApi[] = "/apis/admissionregistration.k8s.io/v1/";

bool DefaultRevision(const std::string& rev) { return rev.empty() || rev == "default"; }

}  // namespace

WebhookPatcher::WebhookPatcher(KubeClient* client, Options options,
                               std::function<std::string()> bundle_pem,
                               std::function<bool()> serving)
    : client_(client),
      options_(std::move(options)),
      bundle_pem_(std::move(bundle_pem)),
      serving_(std::move(serving)),
      loop_([this] { return Round(); }) {}

WebhookPatcher::~WebhookPatcher() { Stop(); }

std::string WebhookPatcher::ValidatingName() const {
  return DefaultRevision(options_.revision)
             ? absl::StrCat("istio-validator-", options_.ns)
             : absl::StrCat("istio-validator-", options_.revision, "-", options_.ns);
}

std::string WebhookPatcher::MutatingName() const {
  return DefaultRevision(options_.revision)
             ? std::string("istio-sidecar-injector")
             : absl::StrCat("istio-sidecar-injector-", options_.revision);
}

absl::Status WebhookPatcher::PatchAll() {
  absl::Status v = Patch("validatingwebhookconfigurations", ValidatingName(), true);
  absl::Status m = Patch("mutatingwebhookconfigurations", MutatingName(), false);
  return v.ok() ? m : v;
}

absl::Status WebhookPatcher::Patch(const std::string& collection, const std::string& name,
                                   bool validating) {
  const std::string path = absl::StrCat(kApi, collection, "/", name);
  absl::StatusOr<KubeResponse> got = client_->Request("GET", path);
  if (!got.ok()) return got.status();
  if (got->status == 404) {
    absl::MutexLock lock(&mu_);
    if (missing_logged_.insert(path).second) {
      spdlog::info("kube: {} {} does not exist; not patching its caBundle", collection, name);
    }
    return absl::OkStatus();
  }
  if (got->status != 200) {
    return absl::UnavailableError(
        absl::StrCat("GET ", path, ": HTTP ", got->status, ": ", got->body.substr(0, 300)));
  }
  {
    absl::MutexLock lock(&mu_);
    missing_logged_.erase(path);
  }
  nlohmann::json obj = nlohmann::json::parse(got->body, nullptr, false);
  if (obj.is_discarded() || !obj.is_object()) {
    return absl::InternalError(absl::StrCat("GET ", path, ": not a JSON object"));
  }
  const std::string ca_bundle = absl::Base64Escape(bundle_pem_());
  const bool fail = validating && serving_();
  bool changed = false;
  auto hooks = obj.find("webhooks");
  if (hooks == obj.end() || !hooks->is_array()) return absl::OkStatus();
  for (nlohmann::json& hook : *hooks) {
    if (!hook.is_object()) continue;
    nlohmann::json& cc = hook["clientConfig"];
    if (!cc.is_object()) cc = nlohmann::json::object();
    if (!ca_bundle.empty() && cc.value("caBundle", nlohmann::json()) != ca_bundle) {
      cc["caBundle"] = ca_bundle;
      changed = true;
    }
    if (fail && hook.value("failurePolicy", nlohmann::json()) != "Fail") {
      hook["failurePolicy"] = "Fail";
      changed = true;
    }
  }
  if (!changed) return absl::OkStatus();
  absl::StatusOr<KubeResponse> put = client_->Request("PUT", path, obj.dump());
  if (!put.ok()) return put.status();
  if (put->status / 100 != 2) {
    return absl::UnavailableError(
        absl::StrCat("PUT ", path, ": HTTP ", put->status, ": ", put->body.substr(0, 300)));
  }
  spdlog::info("kube: patched {} {} (caBundle{})", collection, name,
               fail ? ", failurePolicy Fail" : "");
  return absl::OkStatus();
}

void WebhookPatcher::Start() { loop_.Start(); }

void WebhookPatcher::Stop() { loop_.Stop(); }

void WebhookPatcher::Kick() { loop_.Kick(); }

absl::Duration WebhookPatcher::Round() {
  absl::Status s = PatchAll();
  if (!s.ok()) {
    spdlog::warn("kube: webhook configurations not patched (will retry): {}", s.ToString());
  }
  return s.ok() ? options_.resync : options_.retry;
}

}  // namespace meshd::kube
