// meshctl analyze: meshd's validators (config/decoder.h) and cross-object checks, offline on
// files or on the configs a live meshd reports in /debug/configz. Every finding names the
// object and the field path. Thread-safe (stateless functions).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "controller/model/config.h"
#include "nlohmann/json.hpp"

namespace meshd::meshctl {

struct Finding {
  enum class Level { kError, kWarning };
  Level level = Level::kError;
  std::string code;     // short stable id: "InvalidConfig", "MissingSubset", ...
  std::string object;   // "VirtualService default/reviews" (or a file name when unknown)
  std::string field;    // "spec.http[0].route[1].destination.subset" ("" when n/a)
  std::string message;  // what is wrong

  std::string ToString() const;  // "Error [MissingSubset] VirtualService default/x: field: msg"
};

struct AnalyzeInput {
  std::vector<model::ConfigPtr> configs;
  std::set<std::string> service_hosts;  // FQDNs of the services in scope
  std::vector<Finding> findings;        // what decoding rejected
  std::string domain = "cluster.local";
};

// Reads *.yaml, *.yml and *.json files (directories recursively), decodes every Istio object
// and records Kubernetes Services (kind Service, v1) as service hosts. Objects meshd rejects
// become findings; a path that cannot be read is an error.
absl::Status LoadPaths(const std::vector<std::string>& paths, AnalyzeInput* input);

// Fills `input` from a /debug/configz body: its configs (decoded again) and services, and its
// rejected objects as findings.
void LoadConfigz(const nlohmann::json& configz, AnalyzeInput* input);

// The cross-object checks: a VirtualService route to a subset no DestinationRule defines, or
// to a gateway that does not exist; VirtualServices claiming the same host for the same
// gateway; a DestinationRule whose host matches no service. Plus input.findings.
std::vector<Finding> Analyze(const AnalyzeInput& input);

bool HasErrors(const std::vector<Finding>& findings);

}  // namespace meshd::meshctl
