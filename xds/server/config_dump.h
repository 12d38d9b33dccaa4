// ConfigDump: what meshd would send a connected proxy now, as the JSON of an Envoy admin
// ConfigDump (the shape `istioctl proxy-config` and /debug/config_dump?proxyID= readers
// expect): one entry per type — BootstrapConfigDump is left out, meshd has no bootstrap —
// with the resources in proto JSON (proto field names, as Envoy's admin endpoint prints).
// Built by hand from the resources, since Envoy's admin protos are not compiled into meshd.
// Thread-safe (reads the server's snapshot and generates through its shared cache).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "xds/server/ads_server.h"

namespace meshd::xds {

// `proxy` is a connected proxy's full node id or "<pod>.<namespace>" (istioctl's form).
// NotFound names the proxy when no connection matches; FailedPrecondition before the first
// snapshot.
absl::StatusOr<std::string> ConfigDumpJson(AdsServer& server, const std::string& proxy);

// Whether node id `id` ("sidecar~10.0.0.1~reviews-v1-abc.default~default.svc.cluster.local")
// is named by `query` (the same id, or "reviews-v1-abc.default").
bool ProxyMatches(const std::string& id, const std::string& query);

}  // namespace meshd::xds
