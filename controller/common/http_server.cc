#include "controller/common/http_server.h"

// cpprestsdk's U() macro collides with fmt's templates; turn it off before including it.
#define _TURN_OFF_PLATFORM_STRING
#include <cpprest/http_listener.h>
#include <cpprest/uri.h>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace meshd {

struct HttpServer::Impl {
  std::unique_ptr<web::http::experimental::listener::http_listener> listener;
};

HttpServer::HttpServer(std::string address) : address_(std::move(address)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(const std::string& path, Handler handler) {
  handlers_[path] = std::move(handler);
}

absl::Status HttpServer::Start() {
  std::string host = address_;
  auto colon = host.rfind(':');
  if (colon == std::string::npos) return absl::InvalidArgumentError("address needs a port");
  std::string port = host.substr(colon + 1);
  host = host.substr(0, colon);
  if (host.empty() || host == "0.0.0.0" || host == "[::]") host = "0.0.0.0";
  impl_ = std::make_unique<Impl>();
  try {
    web::uri uri(absl::StrCat("http://", host, ":", port, "/"));
    impl_->listener = std::make_unique<web::http::experimental::listener::http_listener>(uri);
    auto handlers = handlers_;
    impl_->listener->support([handlers](web::http::http_request request) {
      HttpRequest req;
      req.method = request.method();
      req.path = web::uri::decode(request.relative_uri().path());
      for (const auto& [k, v] : web::uri::split_query(request.relative_uri().query())) {
        req.query[web::uri::decode(k)] = web::uri::decode(v);
      }
      HttpResponse resp;
      auto it = handlers.find(req.path);
      if (it == handlers.end()) {
        resp.status = 404;
        resp.body = "not found\n";
      } else {
        try {
          req.body = request.extract_utf8string(true).get();
        } catch (const std::exception&) {
        }
        resp = it->second(req);
      }
      web::http::http_response out(static_cast<web::http::status_code>(resp.status));
      out.set_body(resp.body, resp.content_type);
      request.reply(out).then([](pplx::task<void> t) {
        try {
          t.get();
        } catch (const std::exception&) {
        }
      });
    });
    impl_->listener->open().wait();
  } catch (const std::exception& e) {
    impl_.reset();
    return absl::UnavailableError(absl::StrCat("http server on ", address_, ": ", e.what()));
  }
  spdlog::info(
      "http: serving {} on {}",
      [this] {
        std::string paths;
        for (const auto& [p, h] : handlers_) absl::StrAppend(&paths, paths.empty() ? "" : ",", p);
        return paths;
      }(),
      address_);
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (!impl_ || !impl_->listener) return;
  try {
    impl_->listener->close().wait();
  } catch (const std::exception&) {
  }
  impl_.reset();
}

}  // namespace meshd
