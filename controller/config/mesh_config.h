// MeshConfig from its YAML text (the `mesh` key of ConfigMap `istio`, or the file istiod reads
// with --meshConfig). Every error names its field path; fields meshd does not apply are named
// in warnings and otherwise ignored, as istiod ignores what it does not know. Stateless.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "controller/model/mesh_config.h"

namespace meshd::config {

struct ParsedMeshConfig {
  model::MeshConfig mesh;
  std::vector<std::string> warnings;  // "defaultConfig.tracing: not applied by meshd"
};

// An empty text yields the defaults. InvalidArgument lists every bad field.
absl::StatusOr<ParsedMeshConfig> ParseMeshConfig(absl::string_view yaml);

// Reads and parses `path`. A missing file yields the defaults when `missing_ok`.
absl::StatusOr<ParsedMeshConfig> LoadMeshConfigFile(const std::string& path, bool missing_ok);

}  // namespace meshd::config
