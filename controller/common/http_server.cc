#include "controller/common/http_server.h"

// cpprestsdk's U() macro collides with fmt's templates; turn it off before including it.
#define _TURN_OFF_PLATFORM_STRING
#include <cpprest/http_listener.h>
#include <cpprest/uri.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "spdlog/spdlog.h"

namespace meshd {

struct HttpServer::Impl {
  std::unique_ptr<web::http::experimental::listener::http_listener> listener;
};

void HttpServer::HandlePrefix(const std::string& prefix, Handler handler) {
  prefix_handlers_[prefix] = std::move(handler);
}

void HttpServer::EnableTls(TlsCredentials credentials) { tls_ = std::move(credentials); }

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
    web::uri uri(absl::StrCat(tls_ ? "https://" : "http://", host, ":", port, "/"));
    web::http::experimental::listener::http_listener_config config;
    config.set_timeout(absl::ToChronoSeconds(timeout_));
    if (tls_) {
      // cpprestsdk's asio listener builds a fresh ssl::context per accepted connection and
      // hands it to this callback, so each handshake uses the credentials current then.
      TlsCredentials tls = tls_;
      config.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) {
        std::string chain, key;
        if (!tls(&chain, &key)) return;  // no certificate: the handshake fails
        boost::system::error_code ec;
        ctx.set_options(
            boost::asio::ssl::context::default_workarounds | boost::asio::ssl::context::no_sslv2 |
                boost::asio::ssl::context::no_sslv3 | boost::asio::ssl::context::no_tlsv1 |
                boost::asio::ssl::context::no_tlsv1_1,
            ec);
        ctx.use_certificate_chain(boost::asio::buffer(chain), ec);
        if (ec) {
          spdlog::warn("https: bad certificate chain: {}", ec.message());
          return;
        }
        ctx.use_private_key(boost::asio::buffer(key), boost::asio::ssl::context::pem, ec);
        if (ec) spdlog::warn("https: bad private key: {}", ec.message());
      });
    }
    impl_->listener =
        std::make_unique<web::http::experimental::listener::http_listener>(uri, config);
    auto handlers = handlers_;
    auto prefix_handlers = prefix_handlers_;
    size_t max_body = max_body_bytes_;
    impl_->listener->support(
        [handlers, prefix_handlers, max_body](web::http::http_request request) {
          HttpRequest req;
          req.method = request.method();
          req.path = web::uri::decode(request.relative_uri().path());
          for (const auto& [k, v] : web::uri::split_query(request.relative_uri().query())) {
            req.query[web::uri::decode(k)] = web::uri::decode(v);
          }
          HttpResponse resp;
          const Handler* handler = nullptr;
          if (auto it = handlers.find(req.path); it != handlers.end()) handler = &it->second;
          for (const auto& [prefix, h] : prefix_handlers) {
            if (handler == nullptr && req.path.size() > prefix.size() &&
                req.path.compare(0, prefix.size(), prefix) == 0 && req.path[prefix.size()] == '/') {
              handler = &h;
            }
          }
          if (handler == nullptr) {
            resp.status = 404;
            resp.body = "not found\n";
          } else if (max_body > 0 && request.headers().content_length() > max_body) {
            resp.status = 413;
            resp.body = absl::StrCat("request body larger than ", max_body, " bytes\n");
          } else {
            bool read = true;
            try {
              req.body = request.extract_utf8string(true).get();
            } catch (const std::exception&) {
              read = false;
            }
            if (!read) {
              resp.status = 400;
              resp.body = "cannot read the request body\n";
            } else if (max_body > 0 && req.body.size() > max_body) {  // chunked bodies
              resp.status = 413;
              resp.body = absl::StrCat("request body larger than ", max_body, " bytes\n");
            } else {
              resp = (*handler)(req);
            }
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
      "{}: serving {} on {}", tls_ ? "https" : "http",
      [this] {
        std::string paths;
        for (const auto& [p, h] : handlers_) absl::StrAppend(&paths, paths.empty() ? "" : ",", p);
        for (const auto& [p, h] : prefix_handlers_) {
          absl::StrAppend(&paths, paths.empty() ? "" : ",", p, "/*");
        }
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
