// meshd's flags: istiod's names and defaults, environment fallbacks, and the errors that name
// the bad flag.
#include "controller/bootstrap/options.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace meshd::bootstrap {
namespace {

// Sets an environment variable for the scope of a test, restoring the old value after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    value ? setenv(name, value, 1) : unsetenv(name);
  }
  ~ScopedEnv() { had_ ? setenv(name_, old_.c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  bool had_;
  std::string old_;
};

// No kube discovery from the machine running the test.
struct NoKube {
  ScopedEnv kc{"KUBECONFIG", nullptr};
  ScopedEnv home{"HOME", "/nonexistent-meshd-home"};
  ScopedEnv host{"KUBERNETES_SERVICE_HOST", nullptr};
  ScopedEnv port{"KUBERNETES_SERVICE_PORT", nullptr};
  ScopedEnv ns{"POD_NAMESPACE", nullptr};
  ScopedEnv after{"PILOT_DEBOUNCE_AFTER", nullptr};
  ScopedEnv max{"PILOT_DEBOUNCE_MAX", nullptr};
  ScopedEnv td{"TRUST_DOMAIN", nullptr};
};

TEST_CASE("options: istiod's defaults", "[options]") {
  NoKube env;
  auto o = ParseOptions({"--configDir", "/etc/mesh"});
  REQUIRE(o.ok());
  CHECK(o->config_dir == "/etc/mesh");
  CHECK(o->grpc_addr == ":15010");
  CHECK(o->secure_grpc_addr == ":15012");
  CHECK(o->monitoring_addr == ":15014");
  CHECK(o->http_addr == ":8080");
  CHECK(o->ns == "istio-system");
  CHECK(o->domain == "cluster.local");
  CHECK(o->trust_domain == "cluster.local");
  CHECK(o->debounce_after == absl::Milliseconds(100));
  CHECK(o->debounce_max == absl::Seconds(10));
  CHECK_FALSE(o->kube());
  CHECK(o->ca_state_dir == "/nonexistent-meshd-home/.meshd/ca");
}

TEST_CASE("options: --flag value and --flag=value; istiod's log level spelling", "[options]") {
  NoKube env;
  auto o =
      ParseOptions({"--configDir=/d", "--log_output_level", "default:debug", "--pushWorkers=4",
                    "--tlsDnsNames", "a.example,b.example", "--leaseDuration", "60s",
                    "--renewDeadline", "30s", "--retryPeriod", "5s", "--leaderElection=false"});
  REQUIRE(o.ok());
  CHECK(o->log_level == "debug");
  CHECK(o->push_workers == 4);
  CHECK(o->tls_dns_names == std::vector<std::string>{"a.example", "b.example"});
  CHECK(o->lease_duration == absl::Seconds(60));
  CHECK_FALSE(o->leader_election);
}

TEST_CASE("options: environment fallbacks named as istiod's", "[options]") {
  NoKube env;
  ScopedEnv ns("POD_NAMESPACE", "mesh-system");
  ScopedEnv after("PILOT_DEBOUNCE_AFTER", "250ms");
  ScopedEnv td("TRUST_DOMAIN", "example.org");
  auto o = ParseOptions({"--configDir", "/d"});
  REQUIRE(o.ok());
  CHECK(o->ns == "mesh-system");
  CHECK(o->debounce_after == absl::Milliseconds(250));
  CHECK(o->trust_domain == "example.org");
  // A flag beats the environment.
  CHECK(ParseOptions({"--configDir", "/d", "--namespace", "x"})->ns == "x");
}

TEST_CASE("options: a kubeconfig makes meshd a Kubernetes controller", "[options]") {
  NoKube env;
  auto o = ParseOptions({"--kubeconfig", "/kc"});
  REQUIRE(o.ok());
  CHECK(o->kube());
  CHECK_FALSE(o->in_cluster);
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  auto in = ParseOptions({});
  REQUIRE(in.ok());
  CHECK(in->in_cluster);
}

TEST_CASE("options: errors name the flag", "[options]") {
  NoKube env;
  CHECK(ParseOptions({"--configDir", "/d", "--nope", "1"}).status().message() ==
        "unknown flag --nope");
  CHECK(ParseOptions({"--configDir"}).status().message() == "flag --configDir needs a value");
  CHECK(ParseOptions({"/d"}).status().message() == "unexpected argument \"/d\"");
  CHECK(ParseOptions({"--configDir", "/d", "--pushWorkers", "0"}).status().message() ==
        "--pushWorkers: expected a positive integer");
  CHECK(ParseOptions({"--configDir", "/d", "--leaseDuration", "soon"}).status().message() ==
        "--leaseDuration: \"soon\" is not a duration");
  CHECK(ParseOptions({"--configDir", "/d", "--leaderElection", "yes"}).status().message() ==
        "--leaderElection: expected true or false");
  CHECK(ParseOptions({}).status().message() ==
        "no config source: give --configDir DIR and/or --kubeconfig PATH (or run in a cluster)");
  CHECK(ParseOptions({"--configDir", "/d", "--renewDeadline", "40s"}).status().message() ==
        "leader election needs --leaseDuration > --renewDeadline > 1.2 x --retryPeriod");
  ScopedEnv bad("PILOT_DEBOUNCE_MAX", "-1s");
  CHECK(ParseOptions({"--configDir", "/d"}).status().message() ==
        "PILOT_DEBOUNCE_MAX: \"-1s\" is not a duration");
}

TEST_CASE("options: istiod's container arguments are accepted", "[options]") {
  NoKube env;
  ScopedEnv cluster("CLUSTER_ID", nullptr);
  // The istiod chart's Deployment args, plus flags an operator may have added.
  auto o = ParseOptions({"discovery", "--monitoringAddr=:15014", "--log_output_level=default:info",
                         "--domain", "cluster.local", "--keepaliveMaxServerConnectionAge", "30m",
                         "--log_as_json", "--configDir", "/d", "--clusterID", "east",
                         "--caCertFile", "/etc/cacerts/ca-cert.pem", "--profile=false",
                         "--ctrlz_port=9876", "--registries", "Kubernetes"});
  REQUIRE(o.ok());
  CHECK(o->config_dir == "/d");  // --log_as_json did not eat "--configDir"
  CHECK(o->cluster_id == "east");
  CHECK(o->monitoring_addr == ":15014");
  CHECK(o->ignored_flags == std::vector<std::string>{"keepaliveMaxServerConnectionAge",
                                                     "log_as_json", "caCertFile", "profile",
                                                     "ctrlz_port", "registries"});
  // A bare boolean flag at the end, and before a value flag.
  auto last = ParseOptions({"--configDir", "/d", "--log_as_json"});
  REQUIRE(last.ok());
  CHECK(last->ignored_flags == std::vector<std::string>{"log_as_json"});
  CHECK(ParseOptions({"--configDir", "/d", "--log_as_json=maybe"}).status().message() ==
        "--log_as_json: expected true or false, or no value");
  // The subcommand only leads; anywhere else it is an unexpected argument.
  CHECK(ParseOptions({"--configDir", "/d", "discovery"}).status().message() ==
        "unexpected argument \"discovery\"");
  CHECK(ParseOptions({"discovery", "--configDir", "/d", "--nope"}).status().message() ==
        "unknown flag --nope");
  CHECK(ParseOptions({"--configDir", "/d"})->cluster_id == "Kubernetes");
}

TEST_CASE("options: --log_output_level takes the default scope's level, else the last",
          "[options]") {
  NoKube env;
  auto level = [](const std::string& v) {
    auto o = ParseOptions({"--configDir", "/d", "--log_output_level", v});
    return o.ok() ? o->log_level : std::string(o.status().message());
  };
  CHECK(level("default:info") == "info");
  CHECK(level("ads:debug,default:warn,model:error") == "warn");
  CHECK(level("ads:debug,model:error") == "err");
  CHECK(level("debug") == "debug");
  CHECK(level("default:fatal") == "critical");
  CHECK(level("default:none") == "off");
  CHECK(level("default:loud") ==
        "--log_output_level: \"default:loud\" is not scope:level,... with a level of debug, "
        "info, warn, error, fatal or none");
}

// A kubeconfig file in a temporary directory, removed after the test.
class TempKubeconfig {
 public:
  explicit TempKubeconfig(const std::string& server) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "meshd-options-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    path_ = dir_ + "/config";
    std::ofstream(path_) << "current-context: c\n"
                         << "contexts:\n- name: c\n  context: {cluster: k, user: u}\n"
                         << "clusters:\n- name: k\n  cluster: {server: \"" << server << "\"}\n"
                         << "users:\n- name: u\n  user: {token: t}\n";
  }
  ~TempKubeconfig() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

TEST_CASE("kube client: resolved once from the Kubernetes source's kubeconfig", "[options]") {
  NoKube env;
  TempKubeconfig kc("https://10.0.0.1:6443");
  auto o = ParseOptions({"--kubeconfig", kc.path()});
  REQUIRE(o.ok());
  auto config = ResolveKubeConfig(*o);
  REQUIRE(config.ok());
  REQUIRE(config->has_value());
  CHECK((*config)->server == "https://10.0.0.1:6443");
}

TEST_CASE("kube client: none without a Kubernetes source or a kubeconfig to find", "[options]") {
  NoKube env;
  auto o = ParseOptions({"--configDir", "/d"});
  REQUIRE(o.ok());
  auto config = ResolveKubeConfig(*o);
  REQUIRE(config.ok());
  CHECK_FALSE(config->has_value());
}

TEST_CASE("kube client: with --configDir, $KUBECONFIG serves the CA's TokenReview only",
          "[options]") {
  NoKube env;
  TempKubeconfig kc("https://10.0.0.2:6443");
  ScopedEnv kubeconfig("KUBECONFIG", kc.path().c_str());
  auto o = ParseOptions({"--configDir", "/d"});
  REQUIRE(o.ok());
  CHECK_FALSE(o->kube());  // no Kubernetes config source
  auto config = ResolveKubeConfig(*o);
  REQUIRE(config.ok());
  REQUIRE(config->has_value());
  CHECK((*config)->server == "https://10.0.0.2:6443");
  // Without the CA nothing needs the API.
  o->secure_grpc_addr = "off";
  auto none = ResolveKubeConfig(*o);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
}

TEST_CASE("kube client: a kubeconfig that cannot be loaded is an error", "[options]") {
  NoKube env;
  auto o = ParseOptions({"--kubeconfig", "/nonexistent-meshd/kubeconfig"});
  REQUIRE(o.ok());
  CHECK_FALSE(ResolveKubeConfig(*o).ok());
}

}  // namespace
}  // namespace meshd::bootstrap
