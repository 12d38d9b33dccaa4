#include "controller/meshctl/format.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace meshd::meshctl {
namespace {

using nlohmann::json;

constexpr char kEcds[] = "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig";

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string ShortAge(absl::Duration d) {
  int64_t s = absl::ToInt64Seconds(d);
  if (s < 0) s = 0;
  if (s < 120) return absl::StrCat(s, "s");
  if (s < 7200) return absl::StrCat(s / 60, "m");
  return absl::StrCat(s / 3600, "h");
}

std::string Colored(const std::string& s, bool color) {
  if (!color || s == "SYNCED") return s;
  const char* code = s.rfind("NACK", 0) == 0 ? "\033[31m" : "\033[33m";
  return absl::StrCat(code, s, "\033[0m");
}

const char* DumpType(const std::string& what) {
  if (what == "listeners") return "type.googleapis.com/envoy.admin.v3.ListenersConfigDump";
  if (what == "routes") return "type.googleapis.com/envoy.admin.v3.RoutesConfigDump";
  if (what == "clusters") return "type.googleapis.com/envoy.admin.v3.ClustersConfigDump";
  if (what == "endpoints") return "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump";
  if (what == "secret") return "type.googleapis.com/envoy.admin.v3.SecretsConfigDump";
  return "";
}

bool ProxyMatches(const std::string& id, const std::string& query) {
  if (id == query) return true;
  std::vector<std::string> parts = absl::StrSplit(id, '~');
  return parts.size() == 4 && parts[2] == query;
}

// "outbound|9080|v1|reviews.default.svc.cluster.local" → its four parts (istio's naming).
std::vector<std::string> ClusterParts(const std::string& name) {
  std::vector<std::string> p = absl::StrSplit(name, '|');
  if (p.size() != 4) return {name, "-", "-", "-"};
  return {p[3], p[1], p[2].empty() ? "-" : p[2], p[0]};
}

}  // namespace

std::string Table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  // Widths ignore ANSI escapes (they are zero-width on a terminal).
  auto visible = [](const std::string& s) {
    size_t n = 0;
    bool esc = false;
    for (char c : s) {
      if (c == '\033') esc = true;
      if (!esc) ++n;
      if (esc && c == 'm') esc = false;
    }
    return n;
  };
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], visible(r[i]));
    }
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t i = 0; i < cells.size(); ++i) {
      l += cells[i];
      if (i + 1 < cells.size()) l += std::string(width[i] - visible(cells[i]) + 3, ' ');
    }
    out += l + "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out;
}

std::string SyncState(const json* t, absl::Time now) {
  if (t == nullptr || Str(*t, "version_sent").empty()) return "NOT SENT";
  if (t->contains("nack")) return "NACK";
  if (Str(*t, "version_acked") == Str(*t, "version_sent")) return "SYNCED";
  std::string age;
  absl::Time sent;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, Str(*t, "sent_at"), &sent, &err)) {
    age = absl::StrCat(" (", ShortAge(now - sent), ")");
  }
  return "STALE" + age;
}

std::string ProxyStatusTable(const json& syncz, const std::string& meshd, absl::Time now,
                             bool color) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : syncz) {
    const json& types = c.value("types", json::object());
    std::vector<std::string> row = {Str(c, "proxy").empty() ? Str(c, "peer") : Str(c, "proxy")};
    for (const char* t : {"cds", "lds", "eds", "rds", kEcds}) {
      auto it = types.find(t);
      row.push_back(Colored(SyncState(it == types.end() ? nullptr : &*it, now), color));
    }
    row.push_back(meshd);
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end());
  return Table({"NAME", "CDS", "LDS", "EDS", "RDS", "ECDS", "MESHD"}, rows);
}

std::vector<json> DumpResources(const json& dump, const std::string& what) {
  std::vector<json> out;
  const std::string type = DumpType(what);
  for (const auto& c : dump.value("configs", json::array())) {
    if (c.value("@type", "") != type) continue;
    const char* list = what == "listeners"   ? "dynamic_listeners"
                       : what == "routes"    ? "dynamic_route_configs"
                       : what == "clusters"  ? "dynamic_active_clusters"
                       : what == "endpoints" ? "dynamic_endpoint_configs"
                                             : "dynamic_active_secrets";
    const char* inner = what == "listeners"   ? "listener"
                        : what == "routes"    ? "route_config"
                        : what == "clusters"  ? "cluster"
                        : what == "endpoints" ? "endpoint_config"
                                              : "secret";
    for (const auto& e : c.value(list, json::array())) {
      if (what == "listeners") {
        out.push_back(e.value("active_state", json::object()).value(inner, json::object()));
      } else {
        out.push_back(e.value(inner, json::object()));
      }
    }
  }
  return out;
}

std::string ProxyConfigTable(const json& dump, const std::string& what) {
  std::vector<std::vector<std::string>> rows;
  std::vector<json> resources = DumpResources(dump, what);
  if (what == "clusters") {
    for (const auto& c : resources) {
      std::vector<std::string> p = ClusterParts(Str(c, "name"));
      std::string type = Str(c, "type");
      if (type.empty()) type = c.contains("cluster_type") ? "EXTENSION" : "EDS";
      rows.push_back({p[0], p[1], p[2], p[3], type});
    }
    return Table({"SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE"}, rows);
  }
  if (what == "listeners") {
    for (const auto& l : resources) {
      const json& sa = l.value("address", json::object()).value("socket_address", json::object());
      std::string chains = absl::StrCat(l.value("filter_chains", json::array()).size());
      rows.push_back({Str(l, "name"), Str(sa, "address"), Str(sa, "port_value"), chains});
    }
    return Table({"NAME", "ADDRESS", "PORT", "FILTER CHAINS"}, rows);
  }
  if (what == "routes") {
    for (const auto& r : resources) {
      for (const auto& vh : r.value("virtual_hosts", json::array())) {
        std::vector<std::string> domains;
        for (const auto& d : vh.value("domains", json::array())) domains.push_back(d);
        rows.push_back({Str(r, "name"), Str(vh, "name"), absl::StrJoin(domains, ","),
                        absl::StrCat(vh.value("routes", json::array()).size())});
      }
      if (r.value("virtual_hosts", json::array()).empty()) {
        rows.push_back({Str(r, "name"), "-", "-", "0"});
      }
    }
    return Table({"NAME", "VIRTUAL HOST", "DOMAINS", "ROUTES"}, rows);
  }
  if (what == "endpoints") {
    for (const auto& cla : resources) {
      for (const auto& le : cla.value("endpoints", json::array())) {
        for (const auto& lb : le.value("lb_endpoints", json::array())) {
          const json& sa = lb.value("endpoint", json::object())
                               .value("address", json::object())
                               .value("socket_address", json::object());
          std::string health = Str(lb, "health_status");
          rows.push_back({absl::StrCat(Str(sa, "address"), ":", Str(sa, "port_value")),
                          health.empty() ? "HEALTHY" : health, Str(cla, "cluster_name")});
        }
      }
    }
    return Table({"ENDPOINT", "STATUS", "CLUSTER"}, rows);
  }
  for (const auto& s : resources) {
    std::string type = s.contains("tls_certificate")      ? "Cert Chain"
                       : s.contains("validation_context") ? "CA"
                                                          : "-";
    rows.push_back({Str(s, "name"), type});
  }
  return Table({"RESOURCE NAME", "TYPE"}, rows);
}

std::vector<json> MatchingConnections(const json& syncz, const std::string& proxy) {
  std::vector<json> out;
  for (const auto& c : syncz) {
    if (ProxyMatches(Str(c, "proxy"), proxy)) out.push_back(c);
  }
  return out;
}

}  // namespace meshd::meshctl
