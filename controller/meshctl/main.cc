// meshctl: the operator's command-line tool for meshd. Talks HTTP to meshd's monitoring port
// (/debug/syncz, /debug/config_dump, /debug/configz) and analyzes config files offline with
// meshd's own decoder and validators. Single-threaded.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "controller/meshctl/analyze.h"
#include "controller/meshctl/format.h"
#include "controller/meshctl/http_get.h"

namespace {

using meshd::meshctl::Finding;
using nlohmann::json;

constexpr int kOk = 0;
constexpr int kFindings = 1;
constexpr int kUsage = 2;

constexpr char kHelp[] = R"(meshctl: inspect and check a meshd service-mesh control plane.

Usage: meshctl [--meshd URL] [--no-color] <command> [args]

Commands:
  proxy-status [<proxy>]            per connected proxy and xDS type: SYNCED, STALE (age since
                                    the unacknowledged response), NACK, NOT SENT
  proxy-config <listeners|routes|clusters|endpoints|secret> <proxy> [-o table|json]
                                    what meshd would send the proxy now (its config dump)
  analyze [-f <file|dir>]... [--live]
                                    meshd's validation and cross-object checks (VirtualService
                                    to a missing subset or gateway, conflicting hosts,
                                    DestinationRule matching no service), offline on files or
                                    on what a live meshd serves (--live)
  describe <Kind>/<namespace>/<name>
                                    an object's status, and which proxies it reaches with
                                    their sync state (NACKs with the proxy's error)

A <proxy> is the node id or <pod>.<namespace>.

Options:
  --meshd URL    meshd's monitoring address (default $MESHD_ADDR, else http://127.0.0.1:15014)
  --no-color     never colour (colours are used only when stdout is a terminal and NO_COLOR
                 is unset)

Exit codes:
  0  success; analyze found no error
  1  analyze found at least one error; describe: the object is not served, rejected, or a
     proxy NACKed
  2  usage error, meshd unreachable (down or restarting), or meshd returned an error
)";

struct Globals {
  std::string meshd = "http://127.0.0.1:15014";
  bool color = false;
};

int Usage(const std::string& message) {
  std::cerr << "meshctl: " << message << "\nRun 'meshctl --help' for usage.\n";
  return kUsage;
}

// GETs `path` and parses JSON; on failure prints why and returns false.
bool FetchJson(const Globals& g, const std::string& path, json* out) {
  auto r = meshd::meshctl::HttpGet(g.meshd, path);
  if (!r.ok()) {
    std::cerr << "meshctl: " << r.status().message()
              << "\nIs meshd running? Set --meshd or MESHD_ADDR to its monitoring address.\n";
    return false;
  }
  if (r->status != 200) {
    std::string body = r->body;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    std::cerr << "meshctl: meshd " << g.meshd << path << " returned HTTP " << r->status
              << (body.empty() ? "" : ": " + body) << "\n";
    return false;
  }
  *out = json::parse(r->body, nullptr, false);
  if (out->is_discarded()) {
    std::cerr << "meshctl: meshd " << g.meshd << path << " returned invalid JSON\n";
    return false;
  }
  return true;
}

int ProxyStatus(const Globals& g, const std::vector<std::string>& args) {
  if (args.size() > 1) return Usage("proxy-status takes at most one proxy");
  json syncz;
  if (!FetchJson(g, "/debug/syncz", &syncz)) return kUsage;
  if (args.size() == 1) {
    auto matching = meshd::meshctl::MatchingConnections(syncz, args[0]);
    if (matching.empty()) {
      std::cerr << "meshctl: proxy " << args[0] << " is not connected to meshd " << g.meshd << "\n";
      return kUsage;
    }
    syncz = matching;
  }
  std::cout << meshd::meshctl::ProxyStatusTable(syncz, g.meshd, absl::Now(), g.color);
  return kOk;
}

int ProxyConfig(const Globals& g, const std::vector<std::string>& args) {
  std::string output = "table";
  std::vector<std::string> pos;
  for (size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "-o" || args[i] == "--output") && i + 1 < args.size()) {
      output = args[++i];
    } else if (absl::StartsWith(args[i], "-o")) {
      output = args[i].substr(2);
    } else {
      pos.push_back(args[i]);
    }
  }
  if (pos.size() != 2)
    return Usage("proxy-config needs <listeners|routes|clusters|endpoints|secret> <proxy>");
  std::string what = pos[0];
  if (what == "listener" || what == "route" || what == "cluster" || what == "endpoint") what += "s";
  if (what == "secrets") what = "secret";
  if (what != "listeners" && what != "routes" && what != "clusters" && what != "endpoints" &&
      what != "secret") {
    return Usage("unknown proxy-config type " + pos[0]);
  }
  if (output != "table" && output != "json") return Usage("-o must be table or json");
  json dump;
  if (!FetchJson(g, "/debug/config_dump?proxyID=" + meshd::meshctl::UrlEncode(pos[1]), &dump)) {
    return kUsage;
  }
  if (output == "json") {
    std::cout << json(meshd::meshctl::DumpResources(dump, what)).dump(2) << "\n";
  } else {
    std::cout << meshd::meshctl::ProxyConfigTable(dump, what);
  }
  return kOk;
}

int Analyze(const Globals& g, const std::vector<std::string>& args) {
  std::vector<std::string> paths;
  bool live = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "-f" || args[i] == "--filename") && i + 1 < args.size()) {
      paths.push_back(args[++i]);
    } else if (args[i] == "--live") {
      live = true;
    } else if (args[i] == "-f" || args[i] == "--filename") {
      return Usage("-f needs a file or directory");
    } else {
      paths.push_back(args[i]);
    }
  }
  if (paths.empty() && !live) return Usage("analyze needs -f <file|dir> or --live");
  meshd::meshctl::AnalyzeInput input;
  if (live) {
    json configz;
    if (!FetchJson(g, "/debug/configz", &configz)) return kUsage;
    meshd::meshctl::LoadConfigz(configz, &input);
  }
  if (absl::Status s = meshd::meshctl::LoadPaths(paths, &input); !s.ok()) {
    std::cerr << "meshctl: " << s.message() << "\n";
    return kUsage;
  }
  std::vector<Finding> findings = meshd::meshctl::Analyze(input);
  for (const auto& f : findings) {
    std::string line = f.ToString();
    if (g.color) {
      line = absl::StrCat(f.level == Finding::Level::kError ? "\033[31m" : "\033[33m", line,
                          "\033[0m");
    }
    std::cout << line << "\n";
  }
  if (findings.empty()) {
    std::cout << "No validation issues found (" << input.configs.size() << " objects).\n";
  }
  return meshd::meshctl::HasErrors(findings) ? kFindings : kOk;
}

int Describe(const Globals& g, const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage("describe needs <Kind>/<namespace>/<name>");
  std::vector<std::string> parts = absl::StrSplit(args[0], '/');
  if (parts.size() != 3) return Usage("describe needs <Kind>/<namespace>/<name>");
  json configz, syncz;
  if (!FetchJson(g, "/debug/configz", &configz) || !FetchJson(g, "/debug/syncz", &syncz)) {
    return kUsage;
  }
  const std::string object = absl::StrCat(parts[0], " ", parts[1], "/", parts[2]);
  for (const auto& r : configz.value("rejected", json::array())) {
    std::string err = r.value("error", "");
    if (absl::StartsWithIgnoreCase(err, object) ||
        absl::EqualsIgnoreCase(r.value("kind", ""), object)) {
      std::cout << object << ": REJECTED\n  " << err << "\n";
      return kFindings;
    }
  }
  const json* found = nullptr;
  const json configs = configz.value("configs", json::array());
  for (const auto& c : configs) {
    if (absl::EqualsIgnoreCase(c.value("kind", ""), parts[0]) &&
        c.value("namespace", "") == parts[1] && c.value("name", "") == parts[2]) {
      found = &c;
    }
  }
  if (found == nullptr) {
    std::cout << object << ": not served by meshd " << g.meshd << " (not found)\n";
    return kFindings;
  }
  const std::string kind = found->value("kind", "");
  std::cout << kind << " " << parts[1] << "/" << parts[2]
            << "\n  origin: " << found->value("origin", "")
            << "\n  status: " << found->value("status", "accepted") << "\n";
  for (const auto& w : found->value("warnings", json::array())) {
    std::cout << "  warning: " << w.get<std::string>() << "\n";
  }
  // The proxies it reaches: gateway-bound VirtualServices reach routers; kinds with a workload
  // scope reach the proxies of their namespace (every namespace from the root namespace);
  // the rest reach every proxy.
  bool gateway_only = false;
  if (kind == "VirtualService") {
    const json& gws = found->value("spec", json::object()).value("gateways", json::array());
    gateway_only = !gws.empty();
    for (const auto& gw : gws) gateway_only = gateway_only && gw != "mesh";
  }
  bool ns_scoped = kind == "Sidecar" || kind == "PeerAuthentication" ||
                   kind == "AuthorizationPolicy" || kind == "RequestAuthentication" ||
                   kind == "Telemetry" || kind == "EnvoyFilter" || kind == "WasmPlugin";
  bool root = parts[1] == "istio-system";
  std::vector<std::vector<std::string>> rows;
  bool nacked = false;
  for (const auto& c : syncz) {
    std::string proxy = c.value("proxy", "");
    if (gateway_only && !absl::StartsWith(proxy, "router~")) continue;
    if (ns_scoped && !root && c.value("namespace", "") != parts[1]) continue;
    std::string state = "SYNCED";
    const json types = c.value("types", json::object());
    for (const auto& [type, t] : types.items()) {
      std::string s = meshd::meshctl::SyncState(&t, absl::Now());
      if (s == "NACK") {
        std::string err = t["nack"].value("error", "");
        bool names = absl::StrContains(err, parts[2]);
        state = absl::StrCat("NACK ", type, ": ", err, names ? " (names this object)" : "");
        nacked = true;
        break;
      }
      if (absl::StartsWith(s, "STALE") && state == "SYNCED") state = absl::StrCat(s, " ", type);
    }
    if (g.color && state != "SYNCED") {
      state =
          absl::StrCat(absl::StartsWith(state, "NACK") ? "\033[31m" : "\033[33m", state, "\033[0m");
    }
    rows.push_back({proxy, state});
  }
  std::cout << "  reaches " << rows.size() << " connected prox" << (rows.size() == 1 ? "y" : "ies")
            << "\n";
  if (!rows.empty()) std::cout << meshd::meshctl::Table({"PROXY", "STATE"}, rows);
  return nacked ? kFindings : kOk;
}

}  // namespace

int main(int argc, char** argv) {
  Globals g;
  if (const char* env = std::getenv("MESHD_ADDR"); env != nullptr && *env != '\0') g.meshd = env;
  bool no_color = std::getenv("NO_COLOR") != nullptr;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h" || a == "help") {
      std::cout << kHelp;
      return kOk;
    }
    if (a == "--meshd" && i + 1 < argc) {
      g.meshd = argv[++i];
    } else if (absl::StartsWith(a, "--meshd=")) {
      g.meshd = a.substr(8);
    } else if (a == "--no-color") {
      no_color = true;
    } else {
      args.push_back(a);
    }
  }
  g.color = !no_color && isatty(STDOUT_FILENO);
  if (args.empty()) return Usage("a command is required");
  const std::string cmd = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  // nlohmann::json throws on JSON of an unexpected shape (a meshd of another version); that
  // is reported like any other server error, never a crash.
  try {
    if (cmd == "proxy-status" || cmd == "ps") return ProxyStatus(g, rest);
    if (cmd == "proxy-config" || cmd == "pc") return ProxyConfig(g, rest);
    if (cmd == "analyze") return Analyze(g, rest);
    if (cmd == "describe") return Describe(g, rest);
  } catch (const json::exception& e) {
    std::cerr << "meshctl: unexpected answer from meshd " << g.meshd << ": " << e.what() << "\n";
    return kUsage;
  }
  return Usage("unknown command " + cmd);
}
