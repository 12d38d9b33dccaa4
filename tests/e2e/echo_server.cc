// A backend for the end-to-end tests: serves meshd.test.Echo on 127.0.0.1, answering with its
// id so clients can count where their RPCs went. Prints "READY <port>" when serving and stops
// on SIGTERM/SIGINT or when stdin closes (so it never outlives the test that started it).
#include <grpcpp/grpcpp.h>
#include <grpcpp/xds_server_builder.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <string>
#include <thread>

#include "meshd/test/echo.grpc.pb.h"

namespace {

class EchoService final : public meshd::test::Echo::Service {
 public:
  explicit EchoService(std::string id) : id_(std::move(id)) {}
  grpc::Status Echo(grpc::ServerContext* context, const meshd::test::EchoRequest* request,
                    meshd::test::EchoResponse* response) override {
    response->set_message(request->message());
    response->set_server_id(id_);
    auto identity = context->auth_context()->GetPeerIdentity();
    if (!identity.empty())
      response->set_peer_identity(std::string(identity[0].data(), identity[0].size()));
    return grpc::Status::OK;
  }

 private:
  std::string id_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string id = "backend";
  int port = 0;
  bool xds = false;  // --xds 1: an xDS-managed server (XdsServerBuilder + XdsServerCredentials)
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--id") id = argv[i + 1];
    if (flag == "--port") port = std::stoi(argv[i + 1]);
    if (flag == "--xds") xds = std::string(argv[i + 1]) == "1";
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  EchoService service(id);
  grpc::XdsServerBuilder xds_builder;
  grpc::ServerBuilder plain_builder;
  grpc::ServerBuilder& builder = xds ? xds_builder : plain_builder;
  int selected = 0;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port),
                           xds ? grpc::XdsServerCredentials(grpc::InsecureServerCredentials())
                               : grpc::InsecureServerCredentials(),
                           &selected);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server || selected == 0) {
    std::cerr << "echo_server: cannot listen on port " << port << "\n";
    return 1;
  }
  std::cout << "READY " << selected << std::endl;
  std::thread stdin_watch([] {
    char c;
    while (read(0, &c, 1) > 0) {
    }
    kill(getpid(), SIGTERM);
  });
  stdin_watch.detach();  // ends with the process
  int sig;
  sigwait(&signals, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  return 0;
}
