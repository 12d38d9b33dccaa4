#include "controller/config/decoder.h"

#include <set>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "controller/common/field_errors.h"
#include "controller/config/json_to_proto.h"
#include "controller/config/to_model.h"
#include "controller/config/validate.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "istio/extensions/v1alpha1/wasm.pb.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/envoy_filter.pb.h"
#include "istio/networking/v1alpha3/gateway.pb.h"
#include "istio/networking/v1alpha3/service_entry.pb.h"
#include "istio/networking/v1alpha3/sidecar.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "istio/networking/v1alpha3/workload_group.pb.h"
#include "istio/networking/v1beta1/proxy_config.pb.h"
#include "istio/security/v1beta1/security.pb.h"
#include "istio/telemetry/v1alpha1/telemetry.pb.h"

namespace meshd::config {
namespace {

using model::Kind;
using nlohmann::json;

void ReadStringMap(const json& metadata, const char* field, std::map<std::string, std::string>* out,
                   FieldErrors* errors) {
  if (!metadata.contains(field) || metadata[field].is_null()) return;
  const json& m = metadata[field];
  std::string path = absl::StrCat("metadata.", field);
  if (!m.is_object()) {
    errors->Add(path, absl::StrCat("expected a map (object), got ", JsonTypeName(m)));
    return;
  }
  for (const auto& [k, v] : m.items()) {
    if (!v.is_string()) {
      errors->Add(KeyPath(path, k), absl::StrCat("expected a string, got ", JsonTypeName(v)));
      continue;
    }
    (*out)[k] = v.get<std::string>();
  }
}

std::string StringField(const json& obj, const char* field) {
  if (obj.is_object() && obj.contains(field) && obj[field].is_string()) {
    return obj[field].get<std::string>();
  }
  return "";
}

// The messages that select traffic or callers. An unknown field there is refused rather than
// ignored: a rule without it would match more than its YAML says (an ALLOW rule would let
// through callers that a newer field excludes).
const std::set<std::string>& MatchMessages() {
  static const auto* names = new std::set<std::string>{
      "istio.networking.v1alpha3.HTTPMatchRequest",
      "istio.networking.v1alpha3.StringMatch",
      "istio.networking.v1alpha3.TLSMatchAttributes",
      "istio.networking.v1alpha3.L4MatchAttributes",
      "istio.security.v1beta1.Rule",
      "istio.security.v1beta1.Rule.From",
      "istio.security.v1beta1.Rule.To",
      "istio.security.v1beta1.Source",
      "istio.security.v1beta1.Operation",
      "istio.security.v1beta1.Condition",
  };
  return *names;
}

// Kinds whose every spec field is optional: an object without `spec` is an empty spec.
bool SpecMayBeEmpty(Kind kind) {
  switch (kind) {
    case Kind::kPeerAuthentication:
    case Kind::kAuthorizationPolicy:
    case Kind::kRequestAuthentication:
    case Kind::kSidecar:
    case Kind::kTelemetry:
    case Kind::kProxyConfig:
    case Kind::kEnvoyFilter:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::vector<std::string> ProxyTypesNotApplying(Kind kind) {
  switch (kind) {
    case Kind::kEnvoyFilter:
    case Kind::kTelemetry:
    case Kind::kWorkloadGroup:
    case Kind::kProxyConfig:
    case Kind::kWasmPlugin:
      return {"proxyless gRPC"};
    default:
      return {};
  }
}

std::unique_ptr<google::protobuf::Message> NewSpec(Kind kind) {
  namespace net = istio::networking::v1alpha3;
  namespace sec = istio::security::v1beta1;
  switch (kind) {
    case Kind::kVirtualService:
      return std::make_unique<net::VirtualService>();
    case Kind::kDestinationRule:
      return std::make_unique<net::DestinationRule>();
    case Kind::kGateway:
      return std::make_unique<net::Gateway>();
    case Kind::kServiceEntry:
      return std::make_unique<net::ServiceEntry>();
    case Kind::kWorkloadEntry:
      return std::make_unique<net::WorkloadEntry>();
    case Kind::kSidecar:
      return std::make_unique<net::Sidecar>();
    case Kind::kPeerAuthentication:
      return std::make_unique<sec::PeerAuthentication>();
    case Kind::kAuthorizationPolicy:
      return std::make_unique<sec::AuthorizationPolicy>();
    case Kind::kRequestAuthentication:
      return std::make_unique<sec::RequestAuthentication>();
    case Kind::kEnvoyFilter:
      return std::make_unique<net::EnvoyFilter>();
    case Kind::kTelemetry:
      return std::make_unique<istio::telemetry::v1alpha1::Telemetry>();
    case Kind::kWorkloadGroup:
      return std::make_unique<net::WorkloadGroup>();
    case Kind::kProxyConfig:
      return std::make_unique<istio::networking::v1beta1::ProxyConfig>();
    case Kind::kWasmPlugin:
      return std::make_unique<istio::extensions::v1alpha1::WasmPlugin>();
  }
  return nullptr;
}

absl::StatusOr<model::ConfigPtr> DecodeObject(const json& object, const DecodeOptions& options) {
  if (!object.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected an object with apiVersion and kind, got ", JsonTypeName(object)));
  }
  const std::string api_version = StringField(object, "apiVersion");
  const std::string kind_name = StringField(object, "kind");
  const json empty = json::object();
  const json& metadata =
      object.contains("metadata") && object["metadata"].is_object() ? object["metadata"] : empty;
  const std::string name = StringField(metadata, "name");
  std::string ns = StringField(metadata, "namespace");
  if (ns.empty()) ns = options.default_namespace;

  if (api_version.empty() || kind_name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("object ", name.empty() ? "(unnamed)" : name, ": ",
                     api_version.empty() ? "apiVersion" : "kind", ": required field is missing"));
  }
  std::vector<std::string> gv = absl::StrSplit(api_version, absl::MaxSplits('/', 1));
  std::string group = gv.size() == 2 ? gv[0] : "";
  std::string version = gv.size() == 2 ? gv[1] : gv[0];
  auto kind = model::FindKind(group, kind_name);
  if (!kind) {
    return absl::NotFoundError(
        absl::StrCat("unsupported kind ", kind_name, " (apiVersion ", api_version, ")"));
  }
  const model::KindInfo& info = model::Info(*kind);
  const std::string object_name = absl::StrCat(info.name, " ", ns, "/", name);

  FieldErrors errors;
  if (std::find(info.versions.begin(), info.versions.end(), version) == info.versions.end()) {
    errors.Add("apiVersion",
               absl::StrCat("version \"", version, "\" of ", group, " is not served; use one of ",
                            absl::StrJoin(info.versions, ", ")));
  }
  if (object.contains("metadata") && !object["metadata"].is_object()) {
    errors.Add("metadata", "expected an object");
  }
  if (name.empty()) {
    errors.Add("metadata.name", "required field is missing");
  } else if (!IsDns1123Subdomain(name)) {
    errors.Add("metadata.name",
               absl::StrCat("\"", name,
                            "\" is not a valid name: lower case alphanumerics, '-' "
                            "and '.', starting and ending with an alphanumeric"));
  }
  if (!IsDns1123Label(ns)) {
    errors.Add("metadata.namespace", absl::StrCat("\"", ns, "\" is not a valid namespace"));
  }

  auto config = std::make_shared<model::Config>();
  config->key = {*kind, ns, name};
  config->origin = options.origin;
  ReadStringMap(metadata, "labels", &config->labels, &errors);
  ReadStringMap(metadata, "annotations", &config->annotations, &errors);
  config->resource_version = StringField(metadata, "resourceVersion");
  config->creation_timestamp = StringField(metadata, "creationTimestamp");
  if (metadata.contains("generation") && metadata["generation"].is_number_integer()) {
    config->generation = metadata["generation"].get<int64_t>();
  }

  std::unique_ptr<google::protobuf::Message> spec = NewSpec(*kind);
  FieldErrors warnings;
  if (!object.contains("spec") || object["spec"].is_null()) {
    if (!SpecMayBeEmpty(*kind)) errors.Add("spec", "required field is missing");
  } else {
    // Like istiod, fields the schema does not know are ignored with a warning.
    JsonToProto(object["spec"], "spec", spec.get(), &errors, &warnings, MatchMessages());
  }
  if (errors.empty()) ValidateSpec(*kind, *spec, ns, "spec", &errors, &warnings);
  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(object_name, ": ", errors.ToString()));
  }

  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);  // map order must not change the hash
    spec->SerializePartialToCodedStream(&coded);
  }
  for (const FieldError& w : warnings.errors()) {
    config->warnings.push_back(absl::StrCat(w.path, ": ", w.message));
  }
  // The warnings are part of what /debug/configz shows, so a change to them is a change.
  config->content_hash = absl::HashOf(bytes, config->labels, config->annotations,
                                      config->creation_timestamp, config->warnings);
  config->model = ToModel(*kind, *spec);  // the form readers use, converted once
  config->spec = std::move(spec);
  return config;
}

absl::Status ValidateSpec(Kind kind, const google::protobuf::Message& spec, const std::string& ns) {
  FieldErrors errors;
  ValidateSpec(kind, spec, ns, "spec", &errors);
  return errors.ToStatus();
}

}  // namespace meshd::config
