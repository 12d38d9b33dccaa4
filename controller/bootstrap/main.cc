// meshd: the control plane. Parses options, starts the server, waits for SIGTERM/SIGINT,
// shuts down cleanly. The only place that decides the exit code.
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <set>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "controller/bootstrap/options.h"
#include "controller/bootstrap/server.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  // Debian's Abseil is built with Mutex deadlock detection on, which keeps a global lock
  // graph updated on every lock: 4 % of meshd's CPU in a push to 10 000 proxies, for a check
  // the tests (ABSL_GUARDED_BY, TSan-free design) already cover. Off in the server.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
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
  std::set<std::string> logged;
  for (const std::string& flag : options->ignored_flags) {
    if (logged.insert(flag).second) {
      spdlog::info("flag --{} accepted for istiod compatibility, not used", flag);
    }
  }

  // Block the shutdown signals in every thread; main waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  meshd::bootstrap::Server server(*options);
  // SIGTERM/SIGINT stop meshd at any time, also while Start() waits for the API server: a
  // thread waits for them and asks the server to stop. If Start() fails first, main wakes the
  // thread with a SIGTERM of its own, which it then ignores.
  std::atomic<bool> exiting{false};
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (exiting.load()) return;
    spdlog::info("meshd: signal {} received, shutting down", sig);
    server.RequestStop();
  });
  absl::Status started = server.Start();
  if (started.ok()) server.WaitForStopRequest();
  bool stopped = server.StopRequested();
  if (!stopped) {
    exiting.store(true);
    pthread_kill(signal_thread.native_handle(), SIGTERM);
  }
  signal_thread.join();
  int code = 0;
  if (!started.ok() && !stopped) {
    spdlog::critical("meshd: cannot start: {}", std::string(started.message()));
    code = 1;
  } else if (!started.ok()) {
    spdlog::info("meshd: stopped while starting: {}", std::string(started.message()));
  }
  server.Shutdown();
  spdlog::info("meshd: stopped");
  return code;
}
