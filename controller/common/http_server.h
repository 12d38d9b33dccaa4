// A small HTTP/1.1 server for meshd's plain endpoints (/ready, /metrics, /debug/*).
// Wraps cpprestsdk's http_listener, which is archived upstream: this file and its .cc are
// the only places that include it, so it can be replaced without touching callers.
// Handlers run on the library's thread pool and must be thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"

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
  absl::Status Start();
  void Stop();

 private:
  struct Impl;
  std::string address_;
  std::map<std::string, Handler> handlers_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshd
