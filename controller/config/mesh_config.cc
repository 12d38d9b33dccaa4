#include "controller/config/mesh_config.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "controller/common/field_errors.h"
#include "controller/config/yaml.h"

namespace meshd::config {
namespace {

using nlohmann::json;

// Fields of MeshConfig istiod knows that meshd accepts without applying them: a warning, not
// an error (a mesh config written for istiod must load).
const std::set<std::string>& KnownUnapplied() {
  static const auto* fields = new std::set<std::string>{"accessLogEncoding",
                                                        "accessLogFormat",
                                                        "enableTracing",
                                                        "enablePrometheusMerge",
                                                        "defaultProviders",
                                                        "localityLbSetting",
                                                        "dnsRefreshRate",
                                                        "protocolDetectionTimeout",
                                                        "tcpKeepalive",
                                                        "h2UpgradePolicy",
                                                        "inboundClusterStatName",
                                                        "outboundClusterStatName",
                                                        "certificates",
                                                        "thriftConfig",
                                                        "serviceSettings",
                                                        "discoverySelectors",
                                                        "pathNormalization",
                                                        "verifyCertificateAtClient",
                                                        "caCertificates",
                                                        "meshMTLS",
                                                        "tlsDefaults",
                                                        "enableEnvoyAccessLogService",
                                                        "meshId",
                                                        "configSources",
                                                        "defaultHttpRetryPolicy",
                                                        "ingressControllerMode",
                                                        "ingressSelector",
                                                        "enableAutoSni"};
  return *fields;
}

class Reader {
 public:
  explicit Reader(FieldErrors* errors) : errors_(errors) {}

  bool String(const json& j, const std::string& path, std::string* out) {
    if (!j.is_string()) {
      errors_->Add(path, "expected a string");
      return false;
    }
    *out = j.get<std::string>();
    return true;
  }
  bool Bool(const json& j, const std::string& path, bool* out) {
    if (!j.is_boolean()) {
      errors_->Add(path, "expected true or false");
      return false;
    }
    *out = j.get<bool>();
    return true;
  }
  bool Port(const json& j, const std::string& path, uint32_t* out) {
    if (!j.is_number_integer() || j.get<int64_t>() < 1 || j.get<int64_t>() > 65535) {
      errors_->Add(path, "expected a port number 1..65535");
      return false;
    }
    *out = static_cast<uint32_t>(j.get<int64_t>());
    return true;
  }
  bool Duration(const json& j, const std::string& path, absl::Duration* out) {
    // Protobuf JSON durations: "1.5s"; istiod's YAML also takes Go's "10ms" / "1m".
    if (!j.is_string() || !absl::ParseDuration(j.get<std::string>(), out) ||
        *out < absl::ZeroDuration()) {
      errors_->Add(path, "expected a duration such as \"10s\"");
      return false;
    }
    return true;
  }
  bool Strings(const json& j, const std::string& path, std::vector<std::string>* out) {
    if (!j.is_array()) {
      errors_->Add(path, "expected a list of strings");
      return false;
    }
    out->clear();
    for (size_t i = 0; i < j.size(); ++i) {
      std::string s;
      if (String(j[i], IndexPath(path, i), &s)) out->push_back(s);
    }
    return true;
  }

 private:
  FieldErrors* errors_;
};

void ReadExtAuthz(const json& j, const std::string& path, bool grpc, model::ExtAuthzProvider* p,
                  Reader* r, FieldErrors* errors, std::vector<std::string>* warnings) {
  p->kind = grpc ? model::ExtAuthzProvider::Kind::kGrpc : model::ExtAuthzProvider::Kind::kHttp;
  if (!j.is_object()) {
    errors->Add(path, "expected an object");
    return;
  }
  for (const auto& [key, v] : j.items()) {
    std::string f = JoinPath(path, key);
    if (key == "service") {
      r->String(v, f, &p->service);
    } else if (key == "port") {
      r->Port(v, f, &p->port);
    } else if (key == "timeout") {
      absl::Duration d;
      if (r->Duration(v, f, &d)) p->timeout = d;
    } else if (key == "failOpen") {
      r->Bool(v, f, &p->fail_open);
    } else if (key == "clearRouteCache") {
      r->Bool(v, f, &p->clear_route_cache);
    } else if (key == "statusOnError") {
      std::string s;
      uint32_t code = 0;
      if (v.is_string() && r->String(v, f, &s) && absl::SimpleAtoi(s, &code)) {
        p->status_on_error = code;
      } else if (v.is_number_integer()) {
        p->status_on_error = v.get<uint32_t>();
      } else {
        errors->Add(f, "expected an HTTP status code");
      }
    } else if (!grpc && key == "pathPrefix") {
      r->String(v, f, &p->path_prefix);
    } else if (!grpc && key == "includeRequestHeadersInCheck") {
      r->Strings(v, f, &p->include_request_headers_in_check);
    } else if (!grpc && key == "headersToUpstreamOnAllow") {
      r->Strings(v, f, &p->headers_to_upstream_on_allow);
    } else if (!grpc && key == "headersToDownstreamOnDeny") {
      r->Strings(v, f, &p->headers_to_downstream_on_deny);
    } else if (key == "includeRequestBodyInCheck") {
      if (v.is_object() && v.contains("maxRequestBytes") &&
          v["maxRequestBytes"].is_number_unsigned()) {
        p->include_request_body_max_bytes = v["maxRequestBytes"].get<uint32_t>();
      } else {
        errors->Add(f, "expected {maxRequestBytes: N}");
      }
    } else {
      warnings->push_back(absl::StrCat(f, ": not applied by meshd"));
    }
  }
  if (p->service.empty()) errors->Add(JoinPath(path, "service"), "required");
  if (p->port == 0) errors->Add(JoinPath(path, "port"), "required");
}

void ReadProviders(const json& j, const std::string& path, model::MeshConfig* m, Reader* r,
                   FieldErrors* errors, std::vector<std::string>* warnings) {
  if (!j.is_array()) {
    errors->Add(path, "expected a list of providers");
    return;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < j.size(); ++i) {
    std::string p = IndexPath(path, i);
    const json& e = j[i];
    if (!e.is_object()) {
      errors->Add(p, "expected an object");
      continue;
    }
    std::string name;
    if (!e.contains("name") || !r->String(e["name"], JoinPath(p, "name"), &name) || name.empty()) {
      if (!e.contains("name")) errors->Add(JoinPath(p, "name"), "required");
      continue;
    }
    if (!names.insert(name).second) {
      errors->Add(JoinPath(p, "name"), absl::StrCat("duplicate provider name \"", name, "\""));
      continue;
    }
    bool handled = false;
    for (const auto& [key, v] : e.items()) {
      if (key == "name") continue;
      if (key == "envoyExtAuthzHttp" || key == "envoyExtAuthzGrpc") {
        model::ExtAuthzProvider provider;
        provider.name = name;
        ReadExtAuthz(v, JoinPath(p, key), key == "envoyExtAuthzGrpc", &provider, r, errors,
                     warnings);
        m->ext_authz_providers.push_back(std::move(provider));
        handled = true;
      } else {
        // Tracing, logging and metrics providers: accepted, not applied.
        warnings->push_back(absl::StrCat(JoinPath(p, key), ": provider kind not applied by meshd"));
        handled = true;
      }
    }
    if (!handled) errors->Add(p, "a provider needs exactly one kind (e.g. envoyExtAuthzHttp)");
  }
}

}  // namespace

absl::StatusOr<ParsedMeshConfig> ParseMeshConfig(absl::string_view yaml) {
  ParsedMeshConfig out;
  absl::StatusOr<std::vector<Document>> docs = ParseYamlDocuments(yaml);
  if (!docs.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("mesh config: ", docs.status().message()));
  }
  if (docs->empty()) return out;
  if (docs->size() > 1) {
    return absl::InvalidArgumentError("mesh config: expected one YAML document");
  }
  const json& root = (*docs)[0].value;
  if (root.is_null()) return out;
  if (!root.is_object()) return absl::InvalidArgumentError("mesh config: expected a mapping");
  FieldErrors errors;
  Reader r(&errors);
  model::MeshConfig& m = out.mesh;
  for (const auto& [key, v] : root.items()) {
    if (key == "rootNamespace") {
      if (r.String(v, key, &m.root_namespace) && m.root_namespace.empty()) {
        errors.Add(key, "must not be empty");
      }
    } else if (key == "trustDomain") {
      r.String(v, key, &m.trust_domain);
    } else if (key == "trustDomainAliases") {
      r.Strings(v, key, &m.trust_domain_aliases);
    } else if (key == "defaultServiceExportTo") {
      r.Strings(v, key, &m.default_service_export_to);
    } else if (key == "defaultVirtualServiceExportTo") {
      r.Strings(v, key, &m.default_virtual_service_export_to);
    } else if (key == "defaultDestinationRuleExportTo") {
      r.Strings(v, key, &m.default_destination_rule_export_to);
    } else if (key == "outboundTrafficPolicy") {
      if (!v.is_object()) {
        errors.Add(key, "expected an object");
        continue;
      }
      for (const auto& [k2, v2] : v.items()) {
        std::string f = JoinPath(key, k2);
        if (k2 != "mode") {
          out.warnings.push_back(absl::StrCat(f, ": not applied by meshd"));
          continue;
        }
        std::string mode;
        if (!r.String(v2, f, &mode)) continue;
        if (mode == "REGISTRY_ONLY") {
          m.outbound_registry_only = true;
        } else if (mode == "ALLOW_ANY") {
          m.outbound_registry_only = false;
        } else {
          errors.Add(f, absl::StrCat("unknown mode \"", mode, "\" (ALLOW_ANY or REGISTRY_ONLY)"));
        }
      }
    } else if (key == "enableAutoMtls") {
      r.Bool(v, key, &m.enable_auto_mtls);
    } else if (key == "extensionProviders") {
      ReadProviders(v, key, &m, &r, &errors, &out.warnings);
    } else if (key == "ingressClass") {
      r.String(v, key, &m.ingress_class);
    } else if (key == "ingressService") {
      r.String(v, key, &m.ingress_service);
    } else if (key == "accessLogFile") {
      r.String(v, key, &m.access_log_file);
    } else if (key == "connectTimeout") {
      absl::Duration d;
      if (r.Duration(v, key, &d)) m.connect_timeout = d;
    } else if (key == "defaultConfig") {
      if (!v.is_object()) {
        errors.Add(key, "expected an object");
        continue;
      }
      for (const auto& [k2, v2] : v.items()) {
        std::string f = JoinPath(key, k2);
        if (k2 == "discoveryAddress") {
          r.String(v2, f, &m.discovery_address);
        } else {
          // The proxy's own settings: pilot-agent reads them from the injected PROXY_CONFIG.
          out.warnings.push_back(absl::StrCat(f, ": proxy setting, not applied by meshd"));
        }
      }
    } else if (KnownUnapplied().count(key) > 0) {
      out.warnings.push_back(absl::StrCat(key, ": not applied by meshd"));
    } else {
      out.warnings.push_back(absl::StrCat(key, ": unknown field, ignored"));
    }
  }
  for (const auto& [field, list] :
       {std::pair<const char*, const std::vector<std::string>*>{"defaultServiceExportTo",
                                                                &m.default_service_export_to},
        {"defaultVirtualServiceExportTo", &m.default_virtual_service_export_to},
        {"defaultDestinationRuleExportTo", &m.default_destination_rule_export_to}}) {
    if (list->empty()) errors.Add(field, "must not be empty");
  }
  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("mesh config: ", errors.ToString()));
  }
  return out;
}

absl::StatusOr<ParsedMeshConfig> LoadMeshConfigFile(const std::string& path, bool missing_ok) {
  std::ifstream in(path);
  if (!in) {
    if (missing_ok) return ParsedMeshConfig{};
    return absl::NotFoundError(absl::StrCat("mesh config ", path, ": cannot read the file"));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  absl::StatusOr<ParsedMeshConfig> parsed = ParseMeshConfig(ss.str());
  if (!parsed.ok()) {
    return absl::Status(parsed.status().code(),
                        absl::StrCat(path, ": ", parsed.status().message()));
  }
  return parsed;
}

}  // namespace meshd::config
