#include "controller/kube/rest_kube_client.h"

// cpprestsdk's U() macro collides with fmt's templates; turn it off before including it.
#define _TURN_OFF_PLATFORM_STRING
#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "spdlog/spdlog.h"
#include "yaml-cpp/yaml.h"

namespace meshd::kube {
namespace {

using web::http::client::http_client;
using web::http::client::http_client_config;

bool FileExists(const std::string& path) {
  std::ifstream f(path);
  return f.good();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A path in a kubeconfig is relative to the file's directory.
std::string Resolve(const std::string& path, const std::string& file) {
  if (path.empty() || path[0] == '/') return path;
  auto slash = file.rfind('/');
  return slash == std::string::npos ? path : absl::StrCat(file.substr(0, slash + 1), path);
}

std::string Scalar(const YAML::Node& n, const char* key) {
  if (!n || !n.IsMap() || !n[key] || !n[key].IsScalar()) return "";
  return n[key].as<std::string>();
}

absl::StatusOr<std::string> Base64Pem(const std::string& data, const std::string& field) {
  std::string out;
  if (!absl::Base64Unescape(data, &out)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": not base64"));
  }
  return out;
}

absl::StatusCode HttpCode(int status) {
  switch (status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StatusCode::kAborted;
    case 410:
      return absl::StatusCode::kOutOfRange;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    default:
      return absl::StatusCode::kUnavailable;
  }
}

}  // namespace

std::string FindKubeConfig(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::vector<std::string> existing;
    for (absl::string_view p : absl::StrSplit(env, ':', absl::SkipEmpty())) {
      if (FileExists(std::string(p))) existing.emplace_back(p);
    }
    if (!existing.empty()) return absl::StrJoin(existing, ":");
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    std::string p = absl::StrCat(home, "/.kube/config");
    if (FileExists(p)) return p;
  }
  return "";
}

absl::StatusOr<KubeConfig> LoadKubeConfig(const std::string& paths) {
  // Merge: the first file that defines a name (or current-context) wins.
  std::string current;
  std::map<std::string, std::pair<YAML::Node, std::string>> clusters, users, contexts;
  for (absl::string_view p : absl::StrSplit(paths, ':', absl::SkipEmpty())) {
    std::string path(p);
    YAML::Node root;
    try {
      root = YAML::LoadFile(path);
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(absl::StrCat("kubeconfig ", path, ": ", e.what()));
    }
    if (!root.IsMap()) continue;
    if (current.empty()) current = Scalar(root, "current-context");
    auto collect = [&](const char* list, const char* inner, auto* out) {
      const YAML::Node& l = root[list];
      if (!l || !l.IsSequence()) return;
      for (const auto& e : l) {
        std::string name = Scalar(e, "name");
        if (!name.empty() && !out->count(name)) (*out)[name] = {e[inner], path};
      }
    };
    try {
      collect("clusters", "cluster", &clusters);
      collect("users", "user", &users);
      collect("contexts", "context", &contexts);
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(absl::StrCat("kubeconfig ", path, ": ", e.what()));
    }
  }
  if (current.empty()) return absl::InvalidArgumentError("kubeconfig: no current-context");
  auto ctx = contexts.find(current);
  if (ctx == contexts.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kubeconfig: context \"", current, "\" not found"));
  }
  const YAML::Node& c = ctx->second.first;
  KubeConfig out;
  out.ns = Scalar(c, "namespace");
  auto cl = clusters.find(Scalar(c, "cluster"));
  if (cl == clusters.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kubeconfig: cluster of context \"", current, "\" not found"));
  }
  const YAML::Node& cn = cl->second.first;
  const std::string& cfile = cl->second.second;
  out.server = Scalar(cn, "server");
  if (out.server.empty()) return absl::InvalidArgumentError("kubeconfig: cluster has no server");
  out.ca_file = Resolve(Scalar(cn, "certificate-authority"), cfile);
  if (std::string d = Scalar(cn, "certificate-authority-data"); !d.empty()) {
    auto pem = Base64Pem(d, "certificate-authority-data");
    if (!pem.ok()) return pem.status();
    out.ca_data = *pem;
  }
  out.insecure_skip_tls_verify = Scalar(cn, "insecure-skip-tls-verify") == "true";
  if (auto u = users.find(Scalar(c, "user")); u != users.end()) {
    const YAML::Node& un = u->second.first;
    const std::string& ufile = u->second.second;
    out.token = Scalar(un, "token");
    out.token_file = Resolve(Scalar(un, "tokenFile"), ufile);
    out.client_cert_file = Resolve(Scalar(un, "client-certificate"), ufile);
    out.client_key_file = Resolve(Scalar(un, "client-key"), ufile);
    if (std::string d = Scalar(un, "client-certificate-data"); !d.empty()) {
      auto pem = Base64Pem(d, "client-certificate-data");
      if (!pem.ok()) return pem.status();
      out.client_cert_data = *pem;
    }
    if (std::string d = Scalar(un, "client-key-data"); !d.empty()) {
      auto pem = Base64Pem(d, "client-key-data");
      if (!pem.ok()) return pem.status();
      out.client_key_data = *pem;
    }
  }
  return out;
}

bool InCluster() {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  return host && *host && port && *port;
}

absl::StatusOr<KubeConfig> InClusterConfig(const std::string& sa_dir) {
  if (!InCluster()) {
    return absl::FailedPreconditionError(
        "not in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set");
  }
  std::string host = std::getenv("KUBERNETES_SERVICE_HOST");
  if (host.find(':') != std::string::npos) host = absl::StrCat("[", host, "]");
  KubeConfig out;
  out.server = absl::StrCat("https://", host, ":", std::getenv("KUBERNETES_SERVICE_PORT"));
  out.token_file = absl::StrCat(sa_dir, "/token");
  out.ca_file = absl::StrCat(sa_dir, "/ca.crt");
  if (!FileExists(out.token_file)) {
    return absl::NotFoundError(absl::StrCat("in-cluster: no token at ", out.token_file));
  }
  if (auto ns = ReadFile(absl::StrCat(sa_dir, "/namespace")); ns.ok()) {
    out.ns = std::string(absl::StripAsciiWhitespace(*ns));
  }
  return out;
}

struct RestKubeClient::Impl {
  std::unique_ptr<http_client> requests;
  std::unique_ptr<http_client> streams;
  bool secure = false;
};

RestKubeClient::RestKubeClient(KubeConfig config)
    : config_(std::move(config)), impl_(std::make_unique<Impl>()) {}

RestKubeClient::~RestKubeClient() = default;

absl::StatusOr<std::unique_ptr<RestKubeClient>> RestKubeClient::Create(KubeConfig config) {
  std::unique_ptr<RestKubeClient> client(new RestKubeClient(std::move(config)));
  const KubeConfig& c = client->config_;
  client->impl_->secure = absl::StartsWith(c.server, "https://");
  // Read the PEM material once up front, so that a bad path fails at start.
  std::string ca = c.ca_data, cert = c.client_cert_data, key = c.client_key_data;
  if (ca.empty() && !c.ca_file.empty()) {
    auto r = ReadFile(c.ca_file);
    if (!r.ok()) return r.status();
    ca = *r;
  }
  if (cert.empty() && !c.client_cert_file.empty()) {
    auto r = ReadFile(c.client_cert_file);
    if (!r.ok()) return r.status();
    cert = *r;
  }
  if (key.empty() && !c.client_key_file.empty()) {
    auto r = ReadFile(c.client_key_file);
    if (!r.ok()) return r.status();
    key = *r;
  }
  auto make = [&](absl::Duration timeout) {
    http_client_config cfg;
    cfg.set_timeout(absl::ToChronoSeconds(timeout));
    if (client->impl_->secure) {
      cfg.set_validate_certificates(!c.insecure_skip_tls_verify);
      cfg.set_ssl_context_callback([ca, cert, key](boost::asio::ssl::context& ctx) {
        // Errors here surface as handshake failures on the request.
        boost::system::error_code ec;
        if (!ca.empty()) ctx.add_certificate_authority(boost::asio::buffer(ca), ec);
        if (!cert.empty()) ctx.use_certificate_chain(boost::asio::buffer(cert), ec);
        if (!key.empty()) {
          ctx.use_private_key(boost::asio::buffer(key), boost::asio::ssl::context::pem, ec);
        }
      });
    }
    return std::make_unique<http_client>(web::uri(c.server), cfg);
  };
  try {
    client->impl_->requests = make(c.request_timeout);
    client->impl_->streams = make(c.watch_idle_timeout);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("kube client for ", c.server, ": ", e.what()));
  }
  spdlog::info("kube: API server {} (namespace {}, {})", c.server, c.ns,
               client->impl_->secure ? "TLS verified" : "plain http, no credentials");
  return client;
}

std::string RestKubeClient::Token() {
  if (!impl_->secure) return "";  // as client-go: credentials only over https
  if (config_.token_file.empty()) return config_.token;
  absl::MutexLock lock(&token_mu_);
  absl::Time now = absl::Now();
  if (now - token_read_ > absl::Minutes(1)) {
    if (auto t = ReadFile(config_.token_file); t.ok()) {
      token_ = std::string(absl::StripAsciiWhitespace(*t));
      token_read_ = now;
    } else {
      spdlog::warn("kube: {}; keeping the previous token", std::string(t.status().message()));
    }
  }
  return token_;
}

absl::StatusOr<KubeResponse> RestKubeClient::Request(const std::string& method,
                                                     const std::string& path,
                                                     const std::string& body,
                                                     const std::string& content_type) {
  try {
    web::http::http_request req(method);
    req.set_request_uri(web::uri(path));
    req.headers().add("Accept", "application/json");
    req.headers().add("User-Agent", "meshd");
    if (std::string t = Token(); !t.empty()) req.headers().add("Authorization", "Bearer " + t);
    if (!body.empty()) req.set_body(body, content_type);
    web::http::http_response resp = impl_->requests->request(req).get();
    KubeResponse out;
    out.status = resp.status_code();
    out.body = resp.extract_string(true).get();
    if (resp.headers().has("Retry-After")) out.retry_after = resp.headers()["Retry-After"];
    return out;
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(method, " ", path, ": ", e.what()));
  }
}

absl::Status RestKubeClient::Stream(const std::string& path,
                                    const std::function<bool(absl::string_view line)>& on_line,
                                    const std::atomic<bool>* cancel) {
  pplx::cancellation_token_source cts;
  // Turns the caller's flag into a cancellation of the blocked read.
  absl::Mutex mu;
  bool done = false;
  std::thread canceller([&] {
    absl::MutexLock lock(&mu);
    auto finished = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return done || (cancel != nullptr && cancel->load());
    };
    while (!finished()) mu.AwaitWithTimeout(absl::Condition(&finished), absl::Milliseconds(100));
    if (!done) cts.cancel();
  });
  auto finish = [&] {
    {
      absl::MutexLock lock(&mu);
      done = true;
    }
    canceller.join();
  };
  absl::Status result = absl::OkStatus();
  try {
    web::http::http_request req(web::http::methods::GET);
    req.set_request_uri(web::uri(path));
    req.headers().add("Accept", "application/json");
    req.headers().add("User-Agent", "meshd");
    if (std::string t = Token(); !t.empty()) req.headers().add("Authorization", "Bearer " + t);
    web::http::http_response resp = impl_->streams->request(req, cts.get_token()).get();
    if (resp.status_code() < 200 || resp.status_code() > 299) {
      std::string body = resp.extract_string(true).get();
      finish();
      return absl::Status(HttpCode(resp.status_code()), body);
    }
    concurrency::streams::istream in = resp.body();
    while (true) {
      concurrency::streams::container_buffer<std::string> line;
      size_t n = in.read_line(line).get();
      const std::string& text = line.collection();
      if (n == 0 && text.empty()) {
        if (in.is_eof()) break;
        continue;
      }
      if (!on_line(text)) {
        cts.cancel();  // the caller is done: drop the connection
        break;
      }
    }
  } catch (const std::exception& e) {
    result = (cancel != nullptr && cancel->load())
                 ? absl::CancelledError("cancelled")
                 : absl::UnavailableError(absl::StrCat("watch ", path, ": ", e.what()));
  }
  finish();
  return result;
}

}  // namespace meshd::kube
