// Decoding of Kubernetes-style Istio objects ({apiVersion, kind, metadata, spec}) into
// validated model::Config values: the one place where untrusted config JSON becomes a typed
// spec. Every error names the object (kind namespace/name) and the field path.
// Thread-safe (stateless).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "controller/model/config.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"

namespace meshd::config {

// A new, empty spec message of the kind's type (VirtualService -> istio...VirtualService).
std::unique_ptr<google::protobuf::Message> NewSpec(model::Kind kind);

struct DecodeOptions {
  std::string origin;  // "file:/path/x.yaml" or "kube"
  std::string default_namespace = "default";
};

// Decodes and validates one object. Fields of `spec` the schema does not know are ignored and
// listed in the config's `warnings` with their paths, as istiod accepts them. Errors:
//  - NotFound: the apiVersion/kind is not an Istio kind meshd knows (callers may skip it);
//  - InvalidArgument: "<Kind> <ns>/<name>: <path>: <message>; <path>: <message>".
absl::StatusOr<model::ConfigPtr> DecodeObject(const nlohmann::json& object,
                                              const DecodeOptions& options);

// The proxy types whose generator does not honour objects of `kind` ("proxyless gRPC"); such
// objects are accepted, logged once by their source and listed in /debug/configz as
// "accepted, not applied to ..." instead of being silently ignored. Empty when every
// generator honours the kind.
std::vector<std::string> ProxyTypesNotApplying(model::Kind kind);

// Validates an already-typed spec; errors carry paths under "spec".
absl::Status ValidateSpec(model::Kind kind, const google::protobuf::Message& spec,
                          const std::string& ns);

}  // namespace meshd::config
