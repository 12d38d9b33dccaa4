#include "controller/bootstrap/options.h"

#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "controller/kube/rest_kube_client.h"

namespace meshd::bootstrap {
namespace {

absl::Status ParseDuration(const std::string& flag, const std::string& v, absl::Duration* out) {
  if (!absl::ParseDuration(v, out) || *out < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": \"", v, "\" is not a duration"));
  }
  return absl::OkStatus();
}

// istiod's `pilot-discovery discovery` flags that meshd accepts and ignores: value flags.
constexpr const char* kIgnoredValueFlags[] = {
    "keepaliveMaxServerConnectionAge",
    "keepaliveInterval",
    "keepaliveTimeout",
    "caCertFile",
    "tlsCertFile",
    "tlsKeyFile",
    "tls-cipher-suites",
    "registries",
    "plugins",
    "networksConfig",
    "httpsAddr",
    "ctrlz_port",
    "ctrlz_address",
    "resync",
    "vklog",
    "log_caller",
    "log_rotate",
    "log_rotate_max_age",
    "log_rotate_max_backups",
    "log_rotate_max_size",
    "log_stacktrace_level",
    "log_target",
    "clusterAliases",
    "clusterRegistriesNamespace",
    "kubernetesApiQPS",
    "kubernetesApiBurst",
    "shutdownDuration",
};
// ... and boolean flags: bare `--flag` (never followed by a value) or `--flag=true|false`.
constexpr const char* kIgnoredBoolFlags[] = {"log_as_json", "profile"};

// istiod's `scope:level,scope:level` (or a bare level): the `default` scope's level, else the
// last one given, as a spdlog level name.
absl::Status ParseLogLevel(const std::string& v, std::string* out) {
  std::string level;  // the last one given
  std::string default_level;
  for (absl::string_view part : absl::StrSplit(v, ',', absl::SkipEmpty())) {
    auto colon = part.find(':');
    absl::string_view scope = colon == absl::string_view::npos ? "" : part.substr(0, colon);
    level = std::string(colon == absl::string_view::npos ? part : part.substr(colon + 1));
    if (scope.empty() || scope == "default") default_level = level;
  }
  if (!default_level.empty()) level = default_level;
  static const std::map<std::string, std::string> kLevels = {
      {"debug", "debug"}, {"info", "info"},         {"warn", "warn"}, {"warning", "warn"},
      {"error", "err"},   {"fatal", "critical"},    {"none", "off"},  {"trace", "trace"},
      {"err", "err"},     {"critical", "critical"}, {"off", "off"}};
  auto it = kLevels.find(level);
  if (it == kLevels.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--log_output_level: \"", v,
                     "\" is not scope:level,... with a level of debug, info, warn, error, "
                     "fatal or none"));
  }
  *out = it->second;
  return absl::OkStatus();
}

}  // namespace

std::string Usage() {
  return "usage: meshd [discovery] [--configDir DIR] [--grpcAddr :15010] [--httpAddr :8080]\n"
         "             [--monitoringAddr :15014] [--domain cluster.local] [--namespace NS]\n"
         "             [--log_output_level default:info] [--pushWorkers 2]\n"
         "             [--secureGRPCAddr :15012] [--trustDomain cluster.local]\n"
         "             [--cacertsDir ./etc/cacerts] [--caStateDir $HOME/.meshd/ca]\n"
         "             [--tlsDnsNames a,b] [--kubeconfig FILE]\n"
         "             [--meshConfig ./etc/istio/config/mesh]\n"
         "             [--leaderElection true] [--leaseName meshd-leader]\n"
         "             [--leaseDuration 30s] [--renewDeadline 15s] [--retryPeriod 7.5s]\n"
         "             [--clusterID Kubernetes]\n"
         "istiod's other discovery flags (--keepaliveMaxServerConnectionAge, --log_as_json,\n"
         "--caCertFile, --tlsCertFile, ...) are accepted, logged and not used.\n"
         "env: POD_NAMESPACE, PILOT_DEBOUNCE_AFTER (100ms), PILOT_DEBOUNCE_MAX (10s),\n"
         "     MESHD_EDS_DEBOUNCE_AFTER (20ms; PILOT_ENABLE_EDS_DEBOUNCE=false: 0),\n"
         "     MESHD_DEBOUNCE_LEADING_EDGE (true: the first change after a quiet spell\n"
         "     is pushed at once),\n"
         "     TRUST_DOMAIN, DEFAULT_WORKLOAD_CERT_TTL (24h), MAX_WORKLOAD_CERT_TTL (2160h),\n"
         "     KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT (in-cluster), POD_NAME, CLUSTER_ID\n";
}

absl::StatusOr<Options> ParseOptions(const std::vector<std::string>& args) {
  Options o;
  if (const char* ns = std::getenv("POD_NAMESPACE"); ns && *ns) o.ns = ns;
  if (const char* v = std::getenv("PILOT_DEBOUNCE_AFTER"); v && *v) {
    if (auto s = ParseDuration("PILOT_DEBOUNCE_AFTER", v, &o.debounce_after); !s.ok()) return s;
  }
  if (const char* v = std::getenv("PILOT_DEBOUNCE_MAX"); v && *v) {
    if (auto s = ParseDuration("PILOT_DEBOUNCE_MAX", v, &o.debounce_max); !s.ok()) return s;
  }
  if (const char* v = std::getenv("MESHD_EDS_DEBOUNCE_AFTER"); v && *v) {
    if (auto s = ParseDuration("MESHD_EDS_DEBOUNCE_AFTER", v, &o.debounce_endpoints); !s.ok()) {
      return s;
    }
  }
  if (const char* v = std::getenv("PILOT_ENABLE_EDS_DEBOUNCE"); v && std::string(v) == "false") {
    o.debounce_endpoints = absl::ZeroDuration();
  }
  if (const char* v = std::getenv("MESHD_DEBOUNCE_LEADING_EDGE"); v && *v) {
    const std::string s = absl::AsciiStrToLower(v);
    if (s == "false" || s == "0") {
      o.debounce_leading_edge = false;
    } else if (s != "true" && s != "1") {
      return absl::InvalidArgumentError(
          absl::StrCat("MESHD_DEBOUNCE_LEADING_EDGE: want true or false, got \"", v, "\""));
    }
  }
  if (const char* v = std::getenv("TRUST_DOMAIN"); v && *v) {
    o.trust_domain = v;
    o.trust_domain_set = true;
  }
  if (const char* v = std::getenv("CLUSTER_ID"); v && *v) o.cluster_id = v;
  if (const char* v = std::getenv("DEFAULT_WORKLOAD_CERT_TTL"); v && *v) {
    if (auto s = ParseDuration("DEFAULT_WORKLOAD_CERT_TTL", v, &o.workload_cert_ttl); !s.ok()) {
      return s;
    }
  }
  if (const char* v = std::getenv("REVISION"); v && *v) o.revision = v;
  if (const char* v = std::getenv("MAX_WORKLOAD_CERT_TTL"); v && *v) {
    if (auto s = ParseDuration("MAX_WORKLOAD_CERT_TTL", v, &o.max_workload_cert_ttl); !s.ok()) {
      return s;
    }
  }
  using Setter = std::function<absl::Status(const std::string&)>;
  auto str = [](std::string* field) -> Setter {
    return [field](const std::string& v) {
      *field = v;
      return absl::OkStatus();
    };
  };
  std::map<std::string, Setter> flags = {
      {"configDir", str(&o.config_dir)},
      {"grpcAddr", str(&o.grpc_addr)},
      {"httpAddr", str(&o.http_addr)},
      {"monitoringAddr", str(&o.monitoring_addr)},
      {"webhookAddr", str(&o.webhook_addr)},
      {"domain", str(&o.domain)},
      {"namespace", str(&o.ns)},
      {"log_output_level", [&o](const std::string& v) { return ParseLogLevel(v, &o.log_level); }},
      {"clusterID", str(&o.cluster_id)},
      {"kubeconfig", str(&o.kubeconfig)},
      {"leaseName", str(&o.lease_name)},
      {"leaderElection",
       [&o](const std::string& v) {
         if (v != "true" && v != "false") {
           return absl::InvalidArgumentError("--leaderElection: expected true or false");
         }
         o.leader_election = v == "true";
         return absl::OkStatus();
       }},
      {"leaseDuration",
       [&o](const std::string& v) {
         return ParseDuration("--leaseDuration", v, &o.lease_duration);
       }},
      {"renewDeadline",
       [&o](const std::string& v) {
         return ParseDuration("--renewDeadline", v, &o.renew_deadline);
       }},
      {"retryPeriod",
       [&o](const std::string& v) { return ParseDuration("--retryPeriod", v, &o.retry_period); }},
      {"secureGRPCAddr", str(&o.secure_grpc_addr)},
      {"trustDomain",
       [&o](const std::string& v) {
         o.trust_domain = v;
         o.trust_domain_set = true;
         return absl::OkStatus();
       }},
      {"meshConfig", str(&o.mesh_config)},
      {"cacertsDir", str(&o.cacerts_dir)},
      {"caStateDir", str(&o.ca_state_dir)},
      {"tlsDnsNames",
       [&o](const std::string& v) {
         o.tls_dns_names = absl::StrSplit(v, ',', absl::SkipEmpty());
         return absl::OkStatus();
       }},
      {"pushWorkers",
       [&o](const std::string& v) {
         if (!absl::SimpleAtoi(v, &o.push_workers) || o.push_workers < 1) {
           return absl::InvalidArgumentError("--pushWorkers: expected a positive integer");
         }
         return absl::OkStatus();
       }},
  };
  std::set<std::string> bool_flags;
  for (const char* name : kIgnoredValueFlags) {
    flags.emplace(name, [&o, name](const std::string&) {
      o.ignored_flags.push_back(name);
      return absl::OkStatus();
    });
  }
  for (const char* name : kIgnoredBoolFlags) {
    bool_flags.insert(name);
    flags.emplace(name, [&o, name](const std::string& v) {
      if (v != "true" && v != "false") {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, ": expected true or false, or no value"));
      }
      o.ignored_flags.push_back(name);
      return absl::OkStatus();
    });
  }
  // istiod's image runs `pilot-discovery discovery --flags...`: the subcommand may lead.
  size_t first = !args.empty() && args[0] == "discovery" ? 1 : 0;
  for (size_t i = first; i < args.size(); ++i) {
    std::string arg = args[i];
    if (!absl::StartsWith(arg, "--")) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", arg, "\""));
    }
    arg = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto it = flags.find(arg);
    if (it == flags.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", arg));
    }
    if (!has_value && bool_flags.count(arg)) {
      value = "true";  // a bare boolean flag never takes the next argument
      has_value = true;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat("flag --", arg, " needs a value"));
      }
      value = args[++i];
    }
    if (auto s = it->second(value); !s.ok()) return s;
  }
  if (o.kubeconfig.empty() && !kube::InCluster() && o.config_dir.empty()) {
    o.kubeconfig = kube::FindKubeConfig("");  // $KUBECONFIG, then ~/.kube/config
  }
  o.in_cluster = o.kubeconfig.empty() && kube::InCluster();
  if (o.config_dir.empty() && !o.kube()) {
    return absl::InvalidArgumentError(
        "no config source: give --configDir DIR and/or --kubeconfig PATH (or run in a cluster)");
  }
  if (!(o.lease_duration > o.renew_deadline && o.renew_deadline > o.retry_period * 1.2)) {
    return absl::InvalidArgumentError(
        "leader election needs --leaseDuration > --renewDeadline > 1.2 x --retryPeriod");
  }
  if (o.ca_state_dir.empty()) {
    // Outside Kubernetes the self-signed root must survive restarts: keep it per user.
    const char* home = std::getenv("HOME");
    o.ca_state_dir = home && *home ? absl::StrCat(home, "/.meshd/ca") : "/var/lib/meshd/ca";
  }
  return o;
}

absl::StatusOr<std::optional<kube::KubeConfig>> ResolveKubeConfig(const Options& options) {
  std::string path;
  if (options.in_cluster) {
    absl::StatusOr<kube::KubeConfig> config = kube::InClusterConfig();
    if (!config.ok()) return config.status();
    return std::optional<kube::KubeConfig>(*std::move(config));
  }
  if (options.kube()) {
    path = options.kubeconfig;
  } else if (options.secure()) {
    path = kube::FindKubeConfig("");  // TokenReview only
  }
  if (path.empty()) return std::optional<kube::KubeConfig>();
  absl::StatusOr<kube::KubeConfig> config = kube::LoadKubeConfig(path);
  if (!config.ok()) return config.status();
  return std::optional<kube::KubeConfig>(*std::move(config));
}

}  // namespace meshd::bootstrap
