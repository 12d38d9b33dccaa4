// gRPC status code names, as Istio's API spells them ("UNAVAILABLE"). Thread-safe.
#pragma once

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"

namespace meshd {

inline constexpr const char* kGrpcCodeNames[] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

// The name of a code ("UNAVAILABLE" for 14), or "?" if out of range.
inline const char* GrpcCodeName(int code) {
  return code >= 0 && code <= 16 ? kGrpcCodeNames[code] : "?";
}

// The code for a name such as "UNAVAILABLE" (or a number "14"), or -1 if unknown.
inline int GrpcCodeFromName(absl::string_view name) {
  for (int i = 0; i < 17; ++i) {
    if (name == kGrpcCodeNames[i]) return i;
  }
  int code;
  if (absl::SimpleAtoi(name, &code) && code >= 0 && code <= 16) return code;
  return -1;
}

}  // namespace meshd
