// A small HTTP/1.1 server for meshd's endpoints: plain (/ready, /metrics, /debug/*) or TLS
// (the admission webhooks on :15017, see EnableTls).
// Wraps cpprestsdk's http_listener, which is archived upstream: this file and its .cc are
// the only places that include it, so it can be replaced without touching callers.
// Handlers run on the library's thread pool and must be thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace meshd {

struct HttpRequest {
  std::string method;
  std::string path;                          // without the query
  std::map<std::string, std::string> query;  // decoded
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // `address` is "host:port" or ":port" (all interfaces).
  explicit HttpServer(std::string address);
  ~HttpServer();

  // Registers a handler for an exact path. Call before Start().
  void Handle(const std::string& path, Handler handler);
  // Registers a handler for every path under `prefix` + "/" (e.g. "/inject" serves
  // "/inject/cluster/X/net/Y"); exact handlers win. Call before Start().
  void HandlePrefix(const std::string& prefix, Handler handler);

  // Serves HTTPS. `credentials` fills the PEM certificate chain and private key; it is called
  // for every new connection (so a re-issued certificate is used without a restart) and must
  // be thread-safe; false refuses the connection. Call before Start().
  using TlsCredentials = std::function<bool(std::string* chain_pem, std::string* key_pem)>;
  void EnableTls(TlsCredentials credentials);
  // Requests whose body is larger get 413 without reaching a handler (0: no limit).
  void SetMaxBodyBytes(size_t bytes) { max_body_bytes_ = bytes; }
  // Idle/read timeout of a connection (default 30 s).
  void SetTimeout(absl::Duration timeout) { timeout_ = timeout; }
  absl::Status Start();
  void Stop();

 private:
  struct Impl;
  std::string address_;
  std::map<std::string, Handler> handlers_;
  std::map<std::string, Handler> prefix_handlers_;
  TlsCredentials tls_;
  size_t max_body_bytes_ = 0;
  absl::Duration timeout_ = absl::Seconds(30);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshd
