// YAML (and JSON) documents to nlohmann::json, with YAML 1.2 core-schema typing of plain
// scalars (quoted scalars are always strings). Thread-safe (stateless).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace meshd::config {

struct Document {
  int index = 0;  // position in the stream, from 0
  int line = 0;   // 1-based line where the document starts
  nlohmann::json value;
};

// Parses every document of a multi-document YAML stream. Empty documents are skipped.
// A syntax error fails the whole stream, with the line and column.
absl::StatusOr<std::vector<Document>> ParseYamlDocuments(absl::string_view text);

}  // namespace meshd::config
