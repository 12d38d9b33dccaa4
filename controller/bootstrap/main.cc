// meshd: the control plane. Parses options, starts the server, waits for SIGTERM/SIGINT,
// shuts down cleanly. The only place that decides the exit code.
#include <csignal>
#include <iostream>

#include "controller/bootstrap/options.h"
#include "controller/bootstrap/server.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::cout << meshd::bootstrap::Usage();
      return 0;
    }
  }
  auto options = meshd::bootstrap::ParseOptions(args);
  if (!options.ok()) {
    std::cerr << "meshd: " << options.status().message() << "\n" << meshd::bootstrap::Usage();
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(options->log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ\t%l\t%v", spdlog::pattern_time_type::utc);

  // Block the shutdown signals in every thread; main waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  meshd::bootstrap::Server server(*options);
  if (auto s = server.Start(); !s.ok()) {
    spdlog::critical("meshd: cannot start: {}", std::string(s.message()));
    server.Shutdown();
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("meshd: signal {} received, shutting down", sig);
  server.Shutdown();
  spdlog::info("meshd: stopped");
  return 0;
}
