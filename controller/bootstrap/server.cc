#include "controller/bootstrap/server.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "controller/common/http_server.h"
#include "controller/common/metrics.h"
#include "controller/controller.h"
#include "controller/file/directory_source.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"
#include "xds/gen/resource.h"
#include "xds/server/ads_server.h"

namespace meshd::bootstrap {
namespace {

using nlohmann::json;

// gRPC wants "0.0.0.0:15010" where istiod users write ":15010".
std::string GrpcAddress(const std::string& addr) {
  return addr.rfind(':', 0) == 0 ? absl::StrCat("0.0.0.0", addr) : addr;
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

}  // namespace

Server::Server(Options options) : options_(std::move(options)) {}

Server::~Server() { Shutdown(); }

absl::Status Server::Start() {
  ads_ = std::make_unique<xds::AdsServer>(xds::AdsServer::Options{options_.push_workers});
  Controller::Options copts;
  copts.domain = options_.domain;
  copts.debounce_quiet = options_.debounce_after;
  copts.debounce_max = options_.debounce_max;
  controller_ = std::make_unique<Controller>(copts, ads_.get());

  // The HTTP endpoints come first so that /ready answers (503) while sources sync.
  http_ = std::make_unique<HttpServer>(options_.http_addr);
  http_->Handle("/ready", [this](const HttpRequest&) {
    HttpResponse r;
    bool ready = controller_->Ready();
    r.status = ready ? 200 : 503;
    r.body = ready ? "ready\n" : "not ready: config not synced\n";
    return r;
  });
  if (auto s = http_->Start(); !s.ok()) return s;
  monitoring_ = std::make_unique<HttpServer>(options_.monitoring_addr);
  RegisterDebugHandlers(monitoring_.get());
  if (auto s = monitoring_->Start(); !s.ok()) return s;

  ads_->Start();
  controller_->ExpectSource("file");
  controller_->Start();

  file::DirectorySource::Options fopts;
  fopts.dir = options_.config_dir;
  file_source_ = std::make_unique<file::DirectorySource>(
      fopts, [this](const std::vector<model::ConfigPtr>& configs) {
        controller_->ReplaceConfigs("file", configs);
      });
  if (auto s = file_source_->Start(); !s.ok()) return s;
  controller_->SourceSynced("file");

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(GrpcAddress(options_.grpc_addr), grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(ads_.get());
  builder.SetMaxSendMessageSize(-1);
  builder.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  grpc_server_ = builder.BuildAndStart();
  if (grpc_server_ == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot serve gRPC on ", options_.grpc_addr));
  }
  spdlog::info("meshd: xDS (ADS, plaintext) on {} (port {}); ready on {}; metrics and debug on {}",
               options_.grpc_addr, port, options_.http_addr, options_.monitoring_addr);
  return absl::OkStatus();
}

void Server::Shutdown() {
  if (grpc_server_) {
    grpc_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc_server_.reset();
  }
  if (file_source_) file_source_->Stop();
  if (controller_) controller_->Stop();
  if (ads_) ads_->Stop();
  if (monitoring_) monitoring_->Stop();
  if (http_) http_->Stop();
}

void Server::RegisterDebugHandlers(HttpServer* http) {
  http->Handle("/metrics", [](const HttpRequest&) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = Metrics::Get().Serialize();
    return r;
  });
  http->Handle("/ready", [this](const HttpRequest&) {
    HttpResponse r;
    r.status = controller_->Ready() ? 200 : 503;
    return r;
  });
  // Every proxy: per type, what was sent, what was acknowledged, and the last NACK.
  http->Handle("/debug/syncz", [this](const HttpRequest&) {
    json out = json::array();
    for (const auto& c : ads_->Status()) {
      json types = json::object();
      for (const auto& t : c.types) {
        json jt = {{"version_sent", t.version_sent},  {"nonce_sent", t.nonce_sent},
                   {"version_acked", t.version_acked}, {"subscribed", t.names},
                   {"wildcard", t.wildcard},          {"responses", t.responses}};
        if (!t.nack_error.empty()) {
          jt["nack"] = {{"version", t.nack_version}, {"error", t.nack_error}};
        }
        types[xds::ShortType(t.type_url)] = jt;
      }
      out.push_back({{"connection", c.id},
                     {"proxy", c.proxy_id},
                     {"namespace", c.ns},
                     {"generator", c.generator},
                     {"peer", c.peer},
                     {"connected", Rfc3339(c.connected)},
                     {"types", types}});
    }
    HttpResponse r;
    r.content_type = "application/json";
    r.body = out.dump(2) + "\n";
    return r;
  });
  // The accepted config of the current snapshot, and what the file source rejected.
  http->Handle("/debug/configz", [this](const HttpRequest&) {
    json out = json::object();
    json configs = json::array();
    if (model::SnapshotPtr s = controller_->Current()) {
      out["version"] = s->version();
      for (const auto& [key, c] : s->AllConfigs()) {
        std::string spec;
        google::protobuf::util::JsonPrintOptions opts;
        (void)google::protobuf::util::MessageToJsonString(*c->spec, &spec, opts);
        configs.push_back({{"kind", std::string(model::KindName(key.kind))},
                           {"namespace", key.ns},
                           {"name", key.name},
                           {"origin", c->origin},
                           {"spec", json::parse(spec, nullptr, false)}});
      }
      json services = json::array();
      for (const auto& [host, svc] : s->Services()) {
        services.push_back({{"hostname", host},
                            {"namespace", svc.ns},
                            {"endpoints", s->Endpoints(host).size()},
                            {"origin", svc.origin}});
      }
      out["services"] = services;
    }
    out["configs"] = configs;
    json rejected = json::array();
    if (file_source_) {
      for (const auto& r : file_source_->Rejections()) {
        rejected.push_back({{"file", r.file}, {"kind", r.object}, {"error", r.message}});
      }
    }
    out["rejected"] = rejected;
    HttpResponse r;
    r.content_type = "application/json";
    r.body = out.dump(2) + "\n";
    return r;
  });
}

}  // namespace meshd::bootstrap
