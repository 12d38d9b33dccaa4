// meshd's command-line options, named as istiod names its flags where an istiod user would
// look for them, with environment fallbacks. Parsed once in main.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace meshd::bootstrap {

struct Options {
  std::string config_dir;             // --configDir: the file config source
  std::string grpc_addr = ":15010";   // --grpcAddr: plaintext xDS
  std::string http_addr = ":8080";    // --httpAddr: /ready
  std::string monitoring_addr = ":15014";  // --monitoringAddr: /metrics, /debug/*
  std::string domain = "cluster.local";    // --domain
  std::string ns = "istio-system";         // --namespace (env POD_NAMESPACE)
  std::string log_level = "info";          // --log_output_level (default:info or info)
  int push_workers = 2;                    // --pushWorkers
  absl::Duration debounce_after = absl::Milliseconds(100);  // env PILOT_DEBOUNCE_AFTER
  absl::Duration debounce_max = absl::Seconds(10);          // env PILOT_DEBOUNCE_MAX
};

// Parses argv (`--flag value` or `--flag=value`). InvalidArgument names the bad flag.
absl::StatusOr<Options> ParseOptions(const std::vector<std::string>& args);
std::string Usage();

}  // namespace meshd::bootstrap
