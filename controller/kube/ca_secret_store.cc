#include "controller/kube/ca_secret_store.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace meshd::kube {
namespace {

using nlohmann::json;

constexpr char kCaCert[] = "ca-cert.pem";
constexpr char kCaKey[] = "ca-key.pem";
constexpr char kCertChain[] = "cert-chain.pem";
constexpr char kRootCert[] = "root-cert.pem";

json DataOf(const CaSecretStore::Material& m) {
  return {{kCaCert, absl::Base64Escape(m.ca_cert)},
          {kCaKey, absl::Base64Escape(m.ca_key)},
          {kCertChain, absl::Base64Escape(m.cert_chain)},
          {kRootCert, absl::Base64Escape(m.root_cert)}};
}

absl::StatusOr<std::string> Field(const json& data, const char* key, bool required,
                                  const std::string& where) {
  if (!data.is_object() || !data.contains(key) || !data[key].is_string()) {
    if (!required) return std::string();
    return absl::DataLossError(absl::StrCat(where, ": no ", key));
  }
  std::string out;
  if (!absl::Base64Unescape(data[key].get<std::string>(), &out)) {
    return absl::DataLossError(absl::StrCat(where, ": ", key, " is not base64"));
  }
  return out;
}

absl::Status HttpError(const std::string& what, const KubeResponse& r) {
  std::string message = r.body;
  json status = json::parse(r.body, nullptr, false);
  if (status.is_object() && status.contains("message") && status["message"].is_string()) {
    message = status["message"].get<std::string>();
  }
  return absl::UnavailableError(absl::StrCat(what, ": HTTP ", r.status, ": ", message));
}

}  // namespace

absl::StatusOr<CaSecretStore::Material> CaSecretStore::Load() const {
  const std::string where = Describe();
  auto r = client_->Request("GET", absl::StrCat("/api/v1/namespaces/", ns_, "/secrets/", name_));
  if (!r.ok()) return r.status();
  if (r->status == 404) return absl::NotFoundError(absl::StrCat(where, " does not exist"));
  if (r->status != 200) return HttpError(absl::StrCat("GET ", where), *r);
  json secret = json::parse(r->body, nullptr, false);
  if (!secret.is_object()) return absl::DataLossError(absl::StrCat(where, ": not JSON"));
  json data = secret.value("data", json::object());
  Material m;
  auto ca_cert = Field(data, kCaCert, true, where);
  if (!ca_cert.ok()) return ca_cert.status();
  auto ca_key = Field(data, kCaKey, false, where);
  if (!ca_key.ok()) return ca_key.status();
  auto chain = Field(data, kCertChain, false, where);
  if (!chain.ok()) return chain.status();
  auto root = Field(data, kRootCert, false, where);
  if (!root.ok()) return root.status();
  m.ca_cert = *std::move(ca_cert);
  m.ca_key = *std::move(ca_key);
  m.cert_chain = *std::move(chain);
  m.root_cert = *std::move(root);
  return m;
}

absl::StatusOr<std::map<std::string, std::string>> CaSecretStore::LoadData() const {
  const std::string where = Describe();
  auto r = client_->Request("GET", absl::StrCat("/api/v1/namespaces/", ns_, "/secrets/", name_));
  if (!r.ok()) return r.status();
  if (r->status == 404) return absl::NotFoundError(absl::StrCat(where, " does not exist"));
  if (r->status != 200) return HttpError(absl::StrCat("GET ", where), *r);
  json secret = json::parse(r->body, nullptr, false);
  if (!secret.is_object()) return absl::DataLossError(absl::StrCat(where, ": not JSON"));
  json data = secret.value("data", json::object());
  if (!data.is_object()) return absl::DataLossError(absl::StrCat(where, ": data is not an object"));
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : data.items()) {
    auto decoded = Field(data, key.c_str(), true, where);
    if (!decoded.ok()) return decoded.status();
    out[key] = *std::move(decoded);
  }
  return out;
}

absl::StatusOr<CaSecretStore::Material> CaSecretStore::Create(const Material& m) const {
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", name_}, {"namespace", ns_}}},
                 {"type", "istio.io/ca-root"},
                 {"data", DataOf(m)}};
  auto r =
      client_->Request("POST", absl::StrCat("/api/v1/namespaces/", ns_, "/secrets"), secret.dump());
  if (!r.ok()) return r.status();
  if (r->status == 200 || r->status == 201) {
    spdlog::info("ca: created {}", Describe());
    return m;
  }
  if (r->status == 409) {
    spdlog::info("ca: {} already exists (another replica created it); reading it", Describe());
    return Load();
  }
  return HttpError(absl::StrCat("POST ", Describe()), *r);
}

absl::Status CaSecretStore::Update(const Material& m) const {
  json patch = {{"data", DataOf(m)}};
  auto r = client_->Request("PATCH", absl::StrCat("/api/v1/namespaces/", ns_, "/secrets/", name_),
                            patch.dump(), "application/merge-patch+json");
  if (!r.ok()) return r.status();
  if (r->status != 200) return HttpError(absl::StrCat("PATCH ", Describe()), *r);
  spdlog::info("ca: updated {}", Describe());
  return absl::OkStatus();
}

}  // namespace meshd::kube
