#include "controller/kube/token_reviewer.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace meshd::kube {

using nlohmann::json;

namespace {

bool BoolField(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

std::string StringField(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::string KubeTokenReviewer::RequestBody(absl::string_view token,
                                           const std::vector<std::string>& audiences) {
  json spec = {{"token", std::string(token)}};
  if (!audiences.empty()) spec["audiences"] = audiences;
  return json{{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenReview"}, {"spec", spec}}
      .dump();
}

absl::StatusOr<ca::TokenReviewResult> KubeTokenReviewer::ParseResponse(int http_status,
                                                                       const std::string& body) {
  if (http_status < 200 || http_status > 299) {
    return absl::UnavailableError(
        absl::StrCat("TokenReview: HTTP ", http_status, ": ", body.substr(0, 200)));
  }
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("status") || !doc["status"].is_object()) {
    return absl::InternalError("TokenReview: response without status");
  }
  const json& st = doc["status"];
  ca::TokenReviewResult r;
  // Typed reads: json::value() throws on a field of another type, and the API server's
  // answer is untrusted input.
  r.authenticated = BoolField(st, "authenticated");
  r.error = StringField(st, "error");
  if (st.contains("user") && st["user"].is_object()) {
    const json& user = st["user"];
    r.username = StringField(user, "username");
    if (user.contains("groups") && user["groups"].is_array()) {
      for (const auto& g : user["groups"]) {
        if (g.is_string()) r.groups.push_back(g.get<std::string>());
      }
    }
  }
  if (st.contains("audiences") && st["audiences"].is_array()) {
    for (const auto& a : st["audiences"]) {
      if (a.is_string()) r.audiences.push_back(a.get<std::string>());
    }
  }
  return r;
}

absl::StatusOr<ca::TokenReviewResult> KubeTokenReviewer::Review(
    absl::string_view token, const std::vector<std::string>& audiences) {
  auto resp = client_->Request("POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                               RequestBody(token, audiences), "application/json");
  if (!resp.ok()) return resp.status();
  return ParseResponse(resp->status, resp->body);
}

}  // namespace meshd::kube
