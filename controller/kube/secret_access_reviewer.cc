#include "controller/kube/secret_access_reviewer.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace meshd::kube {

using nlohmann::json;

std::string KubeSecretAccessReviewer::RequestBody(const std::string& user, const std::string& ns) {
  json attributes = {{"namespace", ns}, {"verb", "list"}, {"resource", "secrets"}};
  return json{{"apiVersion", "authorization.k8s.io/v1"},
              {"kind", "SubjectAccessReview"},
              {"spec", {{"user", user}, {"resourceAttributes", attributes}}}}
      .dump();
}

absl::StatusOr<bool> KubeSecretAccessReviewer::ParseResponse(int http_status,
                                                             const std::string& body) {
  if (http_status < 200 || http_status > 299) {
    return absl::UnavailableError(
        absl::StrCat("SubjectAccessReview: HTTP ", http_status, ": ", body.substr(0, 200)));
  }
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("status") || !doc["status"].is_object()) {
    return absl::InternalError("SubjectAccessReview: response without status");
  }
  const json& st = doc["status"];
  auto it = st.find("allowed");
  return it != st.end() && it->is_boolean() && it->get<bool>();
}

bool KubeSecretAccessReviewer::MayReadSecrets(const std::string& sa_namespace,
                                              const std::string& service_account,
                                              const std::string& secret_namespace) {
  if (sa_namespace.empty() || service_account.empty()) return false;
  std::string user = absl::StrCat("system:serviceaccount:", sa_namespace, ":", service_account);
  auto key = std::make_pair(user, secret_namespace);
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && clock_->Now() < it->second.second) return it->second.first;
  }
  auto resp = client_->Request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                               RequestBody(user, secret_namespace), "application/json");
  absl::StatusOr<bool> allowed =
      resp.ok() ? ParseResponse(resp->status, resp->body) : absl::StatusOr<bool>(resp.status());
  if (!allowed.ok()) {
    spdlog::warn("SubjectAccessReview for {} on secrets in {} failed: {}", user, secret_namespace,
                 std::string(allowed.status().message()));
    return false;
  }
  if (!*allowed) {
    spdlog::info("{} may not read secrets in {}: gateway credentials withheld", user,
                 secret_namespace);
  }
  absl::MutexLock lock(&mu_);
  cache_[key] = {*allowed, clock_->Now() + ttl_};
  return *allowed;
}

}  // namespace meshd::kube
