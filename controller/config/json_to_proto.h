// Decodes JSON (as parsed from Kubernetes objects or YAML files) into a protobuf message by
// reflection, the way Istio's API is written in JSON: lowerCamelCase field names (the proto
// names are accepted too), enum names, Go-style durations ("1m30s", "100ms"), wrapper types as
// bare values, Struct as any JSON. Unlike protobuf's own JSON parser it collects every error
// with its field path instead of stopping at the first. Thread-safe (stateless).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "controller/common/field_errors.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"

namespace meshd::config {

// Fills `message` from `json`. Errors are added to `errors` with paths below `path`.
void JsonToProto(const nlohmann::json& json, const std::string& path,
                 google::protobuf::Message* message, FieldErrors* errors);

// Parses a Go-style duration ("1h2m3.5s", "250ms", "10us", "5ns", also protobuf's "1.5s").
absl::StatusOr<absl::Duration> ParseGoDuration(absl::string_view text);

// "object", "array", "string", "number", "boolean" or "null".
std::string JsonTypeName(const nlohmann::json& json);

}  // namespace meshd::config
