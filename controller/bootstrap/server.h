// The composition root of meshd: wires the config sources, the controller, the xDS server
// and the HTTP endpoints together, and owns their lifetimes. Start() then Shutdown(), from
// main's thread.
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "controller/bootstrap/options.h"

namespace grpc {
class Server;
}

namespace meshd {
class Controller;
class HttpServer;
namespace file {
class DirectorySource;
}
namespace xds {
class AdsServer;
}
}  // namespace meshd

namespace meshd::bootstrap {

class Server {
 public:
  explicit Server(Options options);
  ~Server();

  absl::Status Start();
  void Shutdown();

 private:
  void RegisterDebugHandlers(HttpServer* http);

  const Options options_;
  std::unique_ptr<xds::AdsServer> ads_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<file::DirectorySource> file_source_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<HttpServer> monitoring_;
};

}  // namespace meshd::bootstrap
