// Decodes JSON (as parsed from Kubernetes objects or YAML files) into a protobuf message by
// reflection, the way Istio's API is written in JSON: lowerCamelCase field names (the proto
// names are accepted too), enum names, Go-style durations ("1m30s", "100ms"), wrapper types as
// bare values, Struct as any JSON. Unlike protobuf's own JSON parser it collects every error
// with its field path instead of stopping at the first. Like istiod, it can accept fields its
// schema does not have (newer than meshd, or removed from Istio's API) and report them as
// warnings. Thread-safe (stateless).
#pragma once

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "controller/common/field_errors.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"

namespace meshd::config {

// Fills `message` from `json`. Errors are added to `errors` with paths below `path`. A field
// the schema does not know is ignored and added to `warnings` ("unknown field, ignored", with
// "(removed from Istio's API)" when the schema reserves its name); without `warnings` it is an
// error ("unknown field"). In the messages named in `strict_messages` (full proto names) an
// unknown field stays an error even with `warnings`: there, ignoring a field would change the
// meaning of what is kept (a match that matches more than written). Type errors on known
// fields are always errors.
void JsonToProto(const nlohmann::json& json, const std::string& path,
                 google::protobuf::Message* message, FieldErrors* errors,
                 FieldErrors* warnings = nullptr,
                 const std::set<std::string>& strict_messages = {});

// Parses a Go-style duration ("1h2m3.5s", "250ms", "10us", "5ns", also protobuf's "1.5s").
absl::StatusOr<absl::Duration> ParseGoDuration(absl::string_view text);

// "object", "array", "string", "number", "boolean" or "null".
std::string JsonTypeName(const nlohmann::json& json);

}  // namespace meshd::config
