#include "controller/meshctl/analyze.h"

#include <dirent.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "controller/config/decoder.h"
#include "controller/config/yaml.h"

namespace meshd::meshctl {
namespace {

using nlohmann::json;

std::string ObjectName(const model::ConfigKey& key) {
  return absl::StrCat(model::KindName(key.kind), " ", key.ns, "/", key.name);
}

bool IsConfigFile(const std::string& path) {
  return absl::EndsWith(path, ".yaml") || absl::EndsWith(path, ".yml") ||
         absl::EndsWith(path, ".json");
}

absl::Status CollectFiles(const std::string& path, std::vector<std::string>* files) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return absl::NotFoundError(absl::StrCat(path, ": not found"));
  if (!S_ISDIR(st.st_mode)) {
    files->push_back(path);
    return absl::OkStatus();
  }
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot read"));
  std::vector<std::string> names;
  while (dirent* e = readdir(dir)) {
    std::string n = e->d_name;
    if (n == "." || n == ".." || absl::StartsWith(n, ".")) continue;
    names.push_back(n);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    std::string child = absl::StrCat(path, "/", n);
    struct stat cs;
    if (stat(child.c_str(), &cs) != 0) continue;
    if (S_ISDIR(cs.st_mode)) {
      absl::Status s = CollectFiles(child, files);
      if (!s.ok()) return s;
    } else if (IsConfigFile(child)) {
      files->push_back(child);
    }
  }
  return absl::OkStatus();
}

// "VirtualService default/x: spec.http[0]: msg; spec.y: msg" → one finding per error.
void AddDecodeFindings(const std::string& fallback_object, const std::string& message,
                       std::vector<Finding>* out) {
  std::string object = fallback_object;
  std::string rest = message;
  size_t colon = message.find(": ");
  if (colon != std::string::npos && message.find(' ') < colon) {
    object = message.substr(0, colon);
    rest = message.substr(colon + 2);
  }
  for (absl::string_view part : absl::StrSplit(rest, "; ")) {
    Finding f;
    f.code = "InvalidConfig";
    f.object = object;
    size_t c = part.find(": ");
    if (c != absl::string_view::npos && absl::StartsWith(part, "spec")) {
      f.field = std::string(part.substr(0, c));
      f.message = std::string(part.substr(c + 2));
    } else {
      f.message = std::string(part);
    }
    out->push_back(std::move(f));
  }
}

void AddObject(const json& object, const std::string& origin, AnalyzeInput* input) {
  if (!object.is_object()) return;
  std::string kind = object.value("kind", "");
  std::string api = object.value("apiVersion", "");
  if (kind == "Service" && api == "v1") {
    const json& md = object.value("metadata", json::object());
    std::string ns = md.value("namespace", "default");
    input->service_hosts.insert(
        absl::StrCat(md.value("name", ""), ".", ns, ".svc.", input->domain));
    return;
  }
  config::DecodeOptions opts;
  opts.origin = origin;
  absl::StatusOr<model::ConfigPtr> c = config::DecodeObject(object, opts);
  if (c.ok()) {
    input->configs.push_back(*c);
  } else if (!absl::IsNotFound(c.status())) {
    AddDecodeFindings(origin, std::string(c.status().message()), &input->findings);
  }
}

std::string Fqdn(const std::string& host, const std::string& ns, const std::string& domain) {
  if (host.find('.') != std::string::npos) return host;
  return absl::StrCat(host, ".", ns, ".svc.", domain);
}

bool HostMatches(const std::string& pattern, const std::string& host) {
  if (pattern == host || pattern == "*") return true;
  if (absl::StartsWith(pattern, "*")) return absl::EndsWith(host, pattern.substr(1));
  return false;
}

std::string Dest(const std::string& section, size_t i, size_t j) {
  return absl::StrCat("spec.", section, "[", i, "].route[", j, "].destination");
}

}  // namespace

std::string Finding::ToString() const {
  return absl::StrCat(level == Level::kError ? "Error" : "Warning", " [", code, "] ", object,
                      field.empty() ? "" : absl::StrCat(": ", field), ": ", message);
}

absl::Status LoadPaths(const std::vector<std::string>& paths, AnalyzeInput* input) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    absl::Status s = CollectFiles(p, &files);
    if (!s.ok()) return s;
  }
  for (const auto& file : files) {
    std::ifstream in(file);
    if (!in) return absl::PermissionDeniedError(absl::StrCat(file, ": cannot read"));
    std::stringstream ss;
    ss << in.rdbuf();
    auto docs = config::ParseYamlDocuments(ss.str());
    if (!docs.ok()) {
      input->findings.push_back(
          {Finding::Level::kError, "InvalidFile", file, "", std::string(docs.status().message())});
      continue;
    }
    for (const auto& d : *docs) {
      if (d.value.is_object() && d.value.value("kind", "") == "List" && d.value.contains("items") &&
          d.value["items"].is_array()) {
        for (const auto& item : d.value["items"]) AddObject(item, "file:" + file, input);
      } else {
        AddObject(d.value, "file:" + file, input);
      }
    }
  }
  return absl::OkStatus();
}

void LoadConfigz(const json& configz, AnalyzeInput* input) {
  for (const auto& c : configz.value("configs", json::array())) {
    std::optional<model::Kind> kind;
    for (const auto& info : model::AllKinds()) {
      if (info.name == c.value("kind", "")) kind = info.kind;
    }
    if (!kind) continue;
    const auto& info = model::Info(*kind);
    json object = {
        {"apiVersion", absl::StrCat(info.group, "/", info.versions.front())},
        {"kind", c.value("kind", "")},
        {"metadata", {{"name", c.value("name", "")}, {"namespace", c.value("namespace", "")}}},
        {"spec", c.value("spec", json::object())}};
    AddObject(object, c.value("origin", "live"), input);
  }
  for (const auto& s : configz.value("services", json::array())) {
    input->service_hosts.insert(s.value("hostname", ""));
  }
  for (const auto& r : configz.value("rejected", json::array())) {
    AddDecodeFindings(r.value("file", r.value("source", "live")), r.value("error", ""),
                      &input->findings);
  }
}

std::vector<Finding> Analyze(const AnalyzeInput& input) {
  std::vector<Finding> out = input.findings;
  const std::string& domain = input.domain;
  // Services: from the input plus every ServiceEntry's hosts.
  std::set<std::string> services = input.service_hosts;
  std::set<std::string> gateways;                                   // "ns/name"
  std::vector<std::pair<const model::Config*, std::string>> rules;  // DR with FQDN host
  for (const auto& c : input.configs) {
    if (const auto* se = c->AsServiceEntry()) {
      for (const auto& h : se->hosts) services.insert(Fqdn(h, c->key.ns, domain));
    } else if (c->key.kind == model::Kind::kGateway) {
      gateways.insert(absl::StrCat(c->key.ns, "/", c->key.name));
    } else if (const auto* dr = c->AsDestinationRule()) {
      rules.push_back({c.get(), Fqdn(dr->host, c->key.ns, domain)});
    }
  }

  auto check_dest = [&](const model::Config& vs, const model::Destination& d,
                        const std::string& field) {
    if (d.subset.empty()) return;
    std::string host = Fqdn(d.host, vs.key.ns, domain);
    bool any_rule = false;
    for (const auto& [c, rule_host] : rules) {
      if (!HostMatches(rule_host, host)) continue;
      any_rule = true;
      if (c->AsDestinationRule()->FindSubset(d.subset) != nullptr) return;
    }
    out.push_back({Finding::Level::kError, "MissingSubset", ObjectName(vs.key), field + ".subset",
                   any_rule ? absl::StrCat("subset \"", d.subset,
                                           "\" is not defined by any DestinationRule for ", host)
                            : absl::StrCat("subset \"", d.subset, "\" of ", host,
                                           ": no DestinationRule for this host")});
  };

  // (gateway, host) → first VirtualService claiming it.
  std::map<std::pair<std::string, std::string>, std::string> claimed;
  for (const auto& c : input.configs) {
    const model::VirtualService* vs = c->AsVirtualService();
    if (vs == nullptr) continue;
    for (size_t i = 0; i < vs->http.size(); ++i) {
      for (size_t j = 0; j < vs->http[i].destinations.size(); ++j) {
        check_dest(*c, vs->http[i].destinations[j].destination, Dest("http", i, j));
      }
    }
    for (size_t i = 0; i < vs->tcp.size(); ++i) {
      for (size_t j = 0; j < vs->tcp[i].destinations.size(); ++j) {
        check_dest(*c, vs->tcp[i].destinations[j].destination, Dest("tcp", i, j));
      }
    }
    for (size_t i = 0; i < vs->tls.size(); ++i) {
      for (size_t j = 0; j < vs->tls[i].destinations.size(); ++j) {
        check_dest(*c, vs->tls[i].destinations[j].destination, Dest("tls", i, j));
      }
    }
    std::vector<std::string> gws = vs->gateways;
    if (gws.empty()) gws.push_back("mesh");
    for (size_t i = 0; i < vs->gateways.size(); ++i) {
      const std::string& g = vs->gateways[i];
      if (g == "mesh") continue;
      std::string key = g.find('/') == std::string::npos ? absl::StrCat(c->key.ns, "/", g) : g;
      if (!gateways.count(key)) {
        out.push_back({Finding::Level::kError, "MissingGateway", ObjectName(c->key),
                       absl::StrCat("spec.gateways[", i, "]"),
                       absl::StrCat("gateway ", key, " not found")});
      }
    }
    for (const auto& g : gws) {
      std::string gkey =
          g == "mesh" || g.find('/') != std::string::npos ? g : absl::StrCat(c->key.ns, "/", g);
      for (size_t h = 0; h < vs->hosts.size(); ++h) {
        std::string host = Fqdn(vs->hosts[h], c->key.ns, domain);
        auto [it, inserted] = claimed.insert({{gkey, host}, ObjectName(c->key)});
        if (!inserted) {
          out.push_back({Finding::Level::kError, "ConflictingHosts", ObjectName(c->key),
                         absl::StrCat("spec.hosts[", h, "]"),
                         absl::StrCat("host ", host, " on gateway ", gkey, " is also claimed by ",
                                      it->second, "; only one of them is applied")});
        }
      }
    }
  }

  for (const auto& [c, host] : rules) {
    bool matched = false;
    for (const auto& s : services) {
      if (HostMatches(host, s)) {
        matched = true;
        break;
      }
    }
    if (!matched) {
      out.push_back({Finding::Level::kWarning, "UnusedDestinationRule", ObjectName(c->key),
                     "spec.host", absl::StrCat("host ", host, " matches no service")});
    }
  }
  return out;
}

bool HasErrors(const std::vector<Finding>& findings) {
  for (const auto& f : findings) {
    if (f.level == Finding::Level::kError) return true;
  }
  return false;
}

}  // namespace meshd::meshctl
