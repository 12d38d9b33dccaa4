// Where RestKubeClient's configuration comes from, as client-go reads it: kubeconfig files
// (current-context, its cluster/user/namespace, paths relative to the file, base64 *-data,
// several files merged first-wins) and the in-cluster service account.
#include "controller/kube/rest_kube_client.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace meshd::kube {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "meshd-kubeconfig-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) const {
    std::string p = path_ + "/" + name;
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p) << content;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const char* kKubeconfig = R"(apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: mesh}
- name: other
  context: {cluster: c2, user: u2}
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority: certs/ca.crt
- name: c2
  cluster: {server: http://127.0.0.1:8080}
users:
- name: u1
  user:
    tokenFile: token
    client-certificate: /abs/client.crt
    client-key-data: S0VZ
- name: u2
  user: {token: secret}
)";

TEST_CASE("kubeconfig: the current context's cluster, user and namespace", "[kubeconfig]") {
  TempDir dir;
  std::string path = dir.Write("config", kKubeconfig);
  auto c = LoadKubeConfig(path);
  REQUIRE(c.ok());
  CHECK(c->server == "https://10.0.0.1:6443");
  CHECK(c->ns == "mesh");
  CHECK(c->ca_file == dir.path() + "/certs/ca.crt");  // relative to the kubeconfig's directory
  CHECK(c->token_file == dir.path() + "/token");
  CHECK(c->client_cert_file == "/abs/client.crt");
  CHECK(c->client_key_data == "KEY");  // base64-decoded
  CHECK(c->token.empty());
  CHECK_FALSE(c->insecure_skip_tls_verify);
}

TEST_CASE("kubeconfig: several files merge, the first to define a name wins", "[kubeconfig]") {
  TempDir dir;
  std::string first = dir.Write("a", R"(current-context: other
clusters:
- name: c2
  cluster: {server: https://first:443, insecure-skip-tls-verify: true}
)");
  std::string second = dir.Write("b", kKubeconfig);
  auto c = LoadKubeConfig(first + ":" + second);
  REQUIRE(c.ok());
  CHECK(c->server == "https://first:443");
  CHECK(c->insecure_skip_tls_verify);
  CHECK(c->token == "secret");
  CHECK(c->ns.empty());
}

TEST_CASE("kubeconfig: errors name what is missing", "[kubeconfig]") {
  TempDir dir;
  CHECK(LoadKubeConfig(dir.Write("none", "clusters: []\n")).status().message() ==
        "kubeconfig: no current-context");
  CHECK(LoadKubeConfig(dir.Write("ctx", "current-context: x\n")).status().message() ==
        "kubeconfig: context \"x\" not found");
  CHECK(LoadKubeConfig(dir.Write("cl", R"(current-context: x
contexts: [{name: x, context: {cluster: nope}}]
)"))
            .status()
            .message() == "kubeconfig: cluster of context \"x\" not found");
  CHECK(LoadKubeConfig(dir.Write("srv", R"(current-context: x
contexts: [{name: x, context: {cluster: c}}]
clusters: [{name: c, cluster: {}}]
)"))
            .status()
            .message() == "kubeconfig: cluster has no server");
  CHECK(LoadKubeConfig(dir.Write("b64", R"(current-context: x
contexts: [{name: x, context: {cluster: c}}]
clusters: [{name: c, cluster: {server: "https://a", certificate-authority-data: "%%%"}}]
)"))
            .status()
            .message() == "certificate-authority-data: not base64");
}

TEST_CASE("kubeconfig: a context whose user is not defined connects without credentials",
          "[kubeconfig]") {
  // client-go: a missing user entry is an empty AuthInfo, not an error.
  TempDir dir;
  auto c = LoadKubeConfig(dir.Write("nouser", R"(current-context: x
contexts: [{name: x, context: {cluster: c, user: ghost}}]
clusters: [{name: c, cluster: {server: "https://a"}}]
)"));
  REQUIRE(c.ok());
  CHECK(c->server == "https://a");
  CHECK(c->token.empty());
  CHECK(c->token_file.empty());
  CHECK(c->client_cert_file.empty());
}

TEST_CASE("kubeconfig: client credentials that are not base64 are an error naming the field",
          "[kubeconfig]") {
  TempDir dir;
  const std::string head = R"(current-context: x
contexts: [{name: x, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://a"}}]
)";
  CHECK(LoadKubeConfig(dir.Write("cert", head + "users: [{name: u, user: "
                                                "{client-certificate-data: \"%%%\"}}]\n"))
            .status()
            .message() == "client-certificate-data: not base64");
  CHECK(LoadKubeConfig(dir.Write("key", head + "users: [{name: u, user: "
                                               "{client-key-data: \"%%%\"}}]\n"))
            .status()
            .message() == "client-key-data: not base64");
}

TEST_CASE("kubeconfig: unreadable or malformed YAML is an error, not an exception",
          "[kubeconfig]") {
  TempDir dir;
  auto missing = LoadKubeConfig(dir.path() + "/does-not-exist");
  CHECK(missing.status().code() == absl::StatusCode::kInvalidArgument);
  auto bad = LoadKubeConfig(dir.Write("bad", "clusters: [\n"));
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(LoadKubeConfig(dir.Write("seq", R"(current-context: x
contexts: [a, b]
)"))
            .status()
            .message() == "kubeconfig: context \"x\" not found");
}

TEST_CASE("kubeconfig lookup: the flag, else existing $KUBECONFIG entries, else ~/.kube/config",
          "[kubeconfig]") {
  TempDir dir;
  std::string a = dir.Write("a", "x: 1\n");
  std::string home_config = dir.Write("home/.kube/config", "x: 1\n");
  const char* old_kc = std::getenv("KUBECONFIG");
  const char* old_home = std::getenv("HOME");
  std::string saved_kc = old_kc ? old_kc : "", saved_home = old_home ? old_home : "";
  setenv("HOME", (dir.path() + "/home").c_str(), 1);
  setenv("KUBECONFIG", (dir.path() + "/missing:" + a).c_str(), 1);
  CHECK(FindKubeConfig("/flag") == "/flag");
  CHECK(FindKubeConfig("") == a);
  unsetenv("KUBECONFIG");
  CHECK(FindKubeConfig("") == home_config);
  setenv("HOME", dir.path().c_str(), 1);
  CHECK(FindKubeConfig("") == "");
  old_kc ? setenv("KUBECONFIG", saved_kc.c_str(), 1) : unsetenv("KUBECONFIG");
  old_home ? setenv("HOME", saved_home.c_str(), 1) : unsetenv("HOME");
}

TEST_CASE("in-cluster: the service account's token, CA and namespace", "[kubeconfig]") {
  TempDir dir;
  dir.Write("sa/token", "t");
  dir.Write("sa/namespace", "istio-system\n");
  const char* old_host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* old_port = std::getenv("KUBERNETES_SERVICE_PORT");
  std::string saved_host = old_host ? old_host : "", saved_port = old_port ? old_port : "";
  unsetenv("KUBERNETES_SERVICE_HOST");
  CHECK_FALSE(InCluster());
  CHECK(InClusterConfig(dir.path() + "/sa").status().code() ==
        absl::StatusCode::kFailedPrecondition);
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  CHECK(InCluster());
  auto c = InClusterConfig(dir.path() + "/sa");
  REQUIRE(c.ok());
  CHECK(c->server == "https://[fd00::1]:443");
  CHECK(c->ns == "istio-system");
  CHECK(c->token_file == dir.path() + "/sa/token");
  CHECK(c->ca_file == dir.path() + "/sa/ca.crt");
  CHECK(InClusterConfig(dir.path() + "/nothing").status().code() == absl::StatusCode::kNotFound);
  old_host ? setenv("KUBERNETES_SERVICE_HOST", saved_host.c_str(), 1)
           : unsetenv("KUBERNETES_SERVICE_HOST");
  old_port ? setenv("KUBERNETES_SERVICE_PORT", saved_port.c_str(), 1)
           : unsetenv("KUBERNETES_SERVICE_PORT");
}

}  // namespace
}  // namespace meshd::kube
