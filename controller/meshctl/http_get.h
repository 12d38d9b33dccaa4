// A minimal HTTP/1.1 GET client for meshctl (plain TCP, no TLS, Connection: close), so that
// meshctl links no HTTP library. Blocking; thread-safe (no shared state).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace meshd::meshctl {

struct HttpResult {
  int status = 0;
  std::string body;
};

// `base` is "http://host:port" (or "host:port"); `path` starts with "/" and may carry a query.
// Unavailable when meshd cannot be reached (refused, timed out, closed early), with the
// address in the message.
absl::StatusOr<HttpResult> HttpGet(const std::string& base, const std::string& path,
                                   absl::Duration timeout = absl::Seconds(10));

// Percent-encodes a query value.
std::string UrlEncode(const std::string& value);

}  // namespace meshd::meshctl
