#include "controller/webhook/admission.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "controller/config/decoder.h"

namespace meshd::webhook {
namespace {

// A string member of `obj` (an object); "" when absent. InvalidArgument when of another type.
absl::StatusOr<std::string> StringField(const nlohmann::json& obj, const char* key,
                                        const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string())
    return absl::InvalidArgumentError(absl::StrCat(path, ": expected a string"));
  return it->get<std::string>();
}

}  // namespace

absl::StatusOr<AdmissionRequest> ParseAdmissionReview(absl::string_view body) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::InvalidArgumentError("body: not valid JSON");
  if (!doc.is_object()) return absl::InvalidArgumentError("body: expected a JSON object");
  absl::StatusOr<std::string> api_version = StringField(doc, "apiVersion", "apiVersion");
  if (!api_version.ok()) return api_version.status();
  if (*api_version != "admission.k8s.io/v1") {
    return absl::InvalidArgumentError(
        absl::StrCat("apiVersion: expected admission.k8s.io/v1, got \"", *api_version, "\""));
  }
  absl::StatusOr<std::string> kind = StringField(doc, "kind", "kind");
  if (!kind.ok()) return kind.status();
  if (*kind != "AdmissionReview") {
    return absl::InvalidArgumentError(
        absl::StrCat("kind: expected AdmissionReview, got \"", *kind, "\""));
  }
  auto req = doc.find("request");
  if (req == doc.end() || !req->is_object()) {
    return absl::InvalidArgumentError("request: missing or not an object");
  }
  AdmissionRequest out;
  struct Str {
    const char* key;
    std::string* field;
  };
  for (const Str& s : {Str{"uid", &out.uid}, Str{"namespace", &out.ns}, Str{"name", &out.name},
                       Str{"operation", &out.operation}}) {
    absl::StatusOr<std::string> v = StringField(*req, s.key, absl::StrCat("request.", s.key));
    if (!v.ok()) return v.status();
    *s.field = *v;
  }
  if (out.uid.empty()) return absl::InvalidArgumentError("request.uid: missing");
  if (out.operation.empty()) return absl::InvalidArgumentError("request.operation: missing");
  auto k = req->find("kind");
  if (k == req->end() || !k->is_object()) {
    return absl::InvalidArgumentError("request.kind: missing or not an object");
  }
  for (const Str& s :
       {Str{"group", &out.group}, Str{"version", &out.version}, Str{"kind", &out.kind}}) {
    absl::StatusOr<std::string> v = StringField(*k, s.key, absl::StrCat("request.kind.", s.key));
    if (!v.ok()) return v.status();
    *s.field = *v;
  }
  if (out.kind.empty()) return absl::InvalidArgumentError("request.kind.kind: missing");
  if (auto r = req->find("resource"); r != req->end() && r->is_object()) {
    absl::StatusOr<std::string> v = StringField(*r, "resource", "request.resource.resource");
    if (!v.ok()) return v.status();
    out.resource = *v;
  }
  if (auto o = req->find("object"); o != req->end() && !o->is_null()) {
    if (!o->is_object()) return absl::InvalidArgumentError("request.object: expected an object");
    out.object = *o;
  }
  if (auto d = req->find("dryRun"); d != req->end() && d->is_boolean())
    out.dry_run = d->get<bool>();
  if (out.object.is_null() && out.operation != "DELETE" && out.operation != "CONNECT") {
    return absl::InvalidArgumentError(
        absl::StrCat("request.object: missing for operation ", out.operation));
  }
  return out;
}

nlohmann::json ReviewResponse(const std::string& uid, const AdmissionResponse& response) {
  nlohmann::json r = {{"uid", uid}, {"allowed", response.allowed}};
  if (!response.allowed) {
    r["status"] = {{"code", response.code == 0 ? 400 : response.code},
                   {"message", response.message}};
  }
  if (!response.warnings.empty()) r["warnings"] = response.warnings;
  if (!response.json_patch.empty()) {
    r["patchType"] = "JSONPatch";
    r["patch"] = absl::Base64Escape(response.json_patch);
  }
  return {{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"response", r}};
}

AdmissionResponse Validate(const AdmissionRequest& request) {
  AdmissionResponse out;
  if (request.operation != "CREATE" && request.operation != "UPDATE") return out;
  // The object as the config sources see it: the namespace of a CREATE may come only in the
  // request.
  nlohmann::json object = request.object;
  if (!object.contains("apiVersion") && !request.group.empty()) {
    object["apiVersion"] = absl::StrCat(request.group, "/", request.version);
  }
  if (!object.contains("kind")) object["kind"] = request.kind;
  if (!request.ns.empty() && object.contains("metadata") && object["metadata"].is_object() &&
      !object["metadata"].contains("namespace")) {
    object["metadata"]["namespace"] = request.ns;
  }
  config::DecodeOptions options;
  options.origin = "webhook";
  options.default_namespace = request.ns.empty() ? "default" : request.ns;
  absl::StatusOr<model::ConfigPtr> config = config::DecodeObject(object, options);
  if (absl::IsNotFound(config.status())) return out;  // not a kind meshd serves
  if (!config.ok()) {
    out.allowed = false;
    out.code = 400;
    out.message = std::string(config.status().message());
    return out;
  }
  out.warnings = (*config)->warnings;
  return out;
}

}  // namespace meshd::webhook
