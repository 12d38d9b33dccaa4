// AdmissionReview v1 (admission.k8s.io/v1) in and out, and the validating webhook's decision
// for Istio objects. Untrusted bodies become either an AdmissionRequest or an InvalidArgument
// naming the bad field; nothing here throws. Thread-safe (stateless).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace meshd::webhook {

struct AdmissionRequest {
  std::string uid;
  std::string group, version, kind;  // request.kind
  std::string resource;              // request.resource.resource ("pods")
  std::string ns, name;
  std::string operation;  // CREATE, UPDATE, DELETE, CONNECT
  nlohmann::json object;  // null when absent (DELETE)
  bool dry_run = false;
};

// Parses an AdmissionReview v1 body. InvalidArgument ("apiVersion: expected
// admission.k8s.io/v1, got ...", "request.uid: missing", ...) for anything else.
absl::StatusOr<AdmissionRequest> ParseAdmissionReview(absl::string_view body);

struct AdmissionResponse {
  bool allowed = true;
  int code = 0;         // status.code when not allowed
  std::string message;  // status.message when not allowed
  std::vector<std::string> warnings;
  std::string json_patch;  // RFC 6902 JSON; empty: no patch
};

// The AdmissionReview v1 response document for `uid` (the patch base64-encoded, patchType
// JSONPatch).
nlohmann::json ReviewResponse(const std::string& uid, const AdmissionResponse& response);

// The validating webhook: Istio kinds meshd serves are decoded and validated exactly as the
// config sources do (config::DecodeObject), so a refusal reads as /debug/configz shows it
// ("VirtualService default/x: spec.http[0].route: ..."); unknown fields become warnings.
// DELETE and kinds meshd does not know are allowed.
AdmissionResponse Validate(const AdmissionRequest& request);

}  // namespace meshd::webhook
