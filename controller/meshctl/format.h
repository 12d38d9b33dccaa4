// meshctl's tables, as pure functions of the JSON meshd serves (/debug/syncz,
// /debug/config_dump, /debug/configz), so that they are tested without a server.
// Thread-safe (stateless).
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace meshd::meshctl {

// Column-aligned text; `header` and every row have the same number of cells.
std::string Table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows);

// One type's sync state from a /debug/syncz "types" entry: "SYNCED", "STALE (12s)",
// "NACK", "NOT SENT" (no entry or nothing sent).
std::string SyncState(const nlohmann::json* type_entry, absl::Time now);

// proxy-status: NAME, CDS, LDS, EDS, RDS, ECDS, MESHD (the address asked). `color` wraps
// states other than SYNCED in ANSI colours.
std::string ProxyStatusTable(const nlohmann::json& syncz, const std::string& meshd, absl::Time now,
                             bool color);

// The resources of one type from a ConfigDump JSON ("listeners", "routes", "clusters",
// "endpoints", "secret"), in dump order.
std::vector<nlohmann::json> DumpResources(const nlohmann::json& dump, const std::string& what);

// proxy-config tables, istioctl-like columns.
std::string ProxyConfigTable(const nlohmann::json& dump, const std::string& what);

// The connection entries of `syncz` whose proxy matches `proxy` (full node id or
// "<pod>.<namespace>").
std::vector<nlohmann::json> MatchingConnections(const nlohmann::json& syncz,
                                                const std::string& proxy);

}  // namespace meshd::meshctl
