// The C++ test client: a real gRPC channel on the library's own xds:/// resolver
// (GRPC_XDS_BOOTSTRAP names the bootstrap). It reads commands from stdin, one per line, and
// answers each with one JSON line, so a test can keep one long-lived client (one xDS stream)
// and watch its routing change:
//   run <count> [header=value ...]   →
//   {"ok":N,"backends":{"v1":n,...},"codes":{"UNAVAILABLE":n},"ms":T} quit
// --seed S seeds libc rand(), which gRPC 1.51 uses for weighted cluster picks.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "controller/common/grpc_codes.h"
#include "meshd/test/echo.grpc.pb.h"

namespace {

const char* CodeName(grpc::StatusCode code) { return meshd::GrpcCodeName(static_cast<int>(code)); }

std::string Json(const std::map<std::string, int>& m) {
  std::string out = "{";
  for (const auto& [k, v] : m) {
    if (out.size() > 1) out += ",";
    out += "\"" + k + "\":" + std::to_string(v);
  }
  return out + "}";
}

}  // namespace

int main(int argc, char** argv) {
  std::string target;
  int deadline_ms = 10000;
  bool xds_creds = false;  // --xds_creds 1: security from xDS (mTLS by the control plane)
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--target") target = argv[i + 1];
    if (flag == "--seed") srand(static_cast<unsigned>(std::stoul(argv[i + 1])));
    if (flag == "--deadline_ms") deadline_ms = std::stoi(argv[i + 1]);
    if (flag == "--xds_creds") xds_creds = std::string(argv[i + 1]) == "1";
  }
  if (target.empty()) {
    std::cerr << "usage: xds_client --target xds:///host:port [--seed S] [--deadline_ms MS]\n";
    return 2;
  }
  auto channel = grpc::CreateChannel(
      target, xds_creds ? grpc::XdsCredentials(grpc::InsecureChannelCredentials())
                        : grpc::InsecureChannelCredentials());
  auto stub = meshd::test::Echo::NewStub(channel);
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    if (cmd == "quit") break;
    if (cmd != "run") {
      std::cout << "{\"error\":\"unknown command\"}" << std::endl;
      continue;
    }
    int count = 0;
    in >> count;
    std::map<std::string, std::string> headers;
    std::string kv;
    while (in >> kv) {
      auto eq = kv.find('=');
      if (eq != std::string::npos) headers[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    std::map<std::string, int> backends, codes, peers;
    int ok = 0;
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < count; ++i) {
      grpc::ClientContext ctx;
      ctx.set_wait_for_ready(true);
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
      for (const auto& [k, v] : headers) ctx.AddMetadata(k, v);
      meshd::test::EchoRequest req;
      req.set_message("hello");
      meshd::test::EchoResponse resp;
      grpc::Status status = stub->Echo(&ctx, req, &resp);
      if (status.ok()) {
        ok++;
        backends[resp.server_id()]++;
        if (!resp.peer_identity().empty()) peers[resp.peer_identity()]++;
      } else {
        codes[CodeName(status.error_code())]++;
      }
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    std::cout << "{\"ok\":" << ok << ",\"backends\":" << Json(backends)
              << ",\"codes\":" << Json(codes) << ",\"peers\":" << Json(peers) << ",\"ms\":" << ms
              << "}" << std::endl;
  }
  return 0;
}
