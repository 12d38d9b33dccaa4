// The JSON of meshd's debug endpoints on the monitoring port, as pure functions of what they
// show, so that their shape is tested without a server:
//   /debug/syncz   — every xDS connection: per type, what was sent, acknowledged, last NACK,
//                    the first 32 subscribed names;
//   /debug/configz — the current snapshot's accepted configs (with warnings and "accepted, not
//                    applied to ..." status; an AuthorizationPolicy that fails closed for a
//                    proxy type lists "not applied to <proxy type>: <reason>" among its
//                    warnings) and services, and what the sources rejected;
//   /debug/leaderz — leader election: identity, lease, leadership, holder, informer versions.
// Server registers the handlers (RegisterDebugHandlers in server.cc) and gathers the inputs.
// The functions are thread-safe (they only read their arguments).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controller/common/http_server.h"
#include "controller/file/directory_source.h"
#include "controller/kube/kube_source.h"
#include "controller/model/snapshot.h"
#include "nlohmann/json.hpp"
#include "xds/server/push_history.h"
#include "xds/server/stream.h"

namespace meshd::bootstrap {

// What /debug/leaderz shows.
struct LeaderStatus {
  bool enabled = false;  // leader election runs (the fields below are set only then)
  std::string identity;
  std::string lease;  // "namespace/name"
  bool leader = false;
  std::string holder;
  // The informers' collection paths and last resourceVersions, with a Kubernetes source.
  std::optional<std::map<std::string, std::string>> informers;
};

nlohmann::json LeaderzJson(const LeaderStatus& status);

nlohmann::json SynczJson(const std::vector<xds::ConnectionStatus>& connections);

// `snapshot` may be null (nothing built yet): then only "configs" (empty) and "rejected".
// With `connections`, each config also gets "istioStatus": the IstioStatus meshd writes to the
// object in Kubernetes (Accepted, Reconciled with its distribution to the connected proxies;
// config_status.h), so that file mode shows it too.
nlohmann::json ConfigzJson(const model::Snapshot* snapshot,
                           const std::vector<file::Rejection>& file_rejections,
                           const std::vector<kube::KubeSource::Rejection>& kube_rejections,
                           const std::vector<xds::ConnectionStatus>* connections = nullptr);

// 200, application/json, the JSON indented by 2 and a final newline.
HttpResponse JsonResponse(const nlohmann::json& body);

// ---- push history: /debug/pushz and istiod's /debug/push_status ------------------------

// /debug/pushz: the last pushes, newest first — trigger (config kinds and keys, or endpoints
// only), proxies pushed, responses per type, replies so far and the latency to all-ACKed
// (p50/p99/max in milliseconds, null while no proxy has ACKed; "pending" until every proxy
// pushed has answered or disconnected).
nlohmann::json PushzJson(const std::vector<xds::PushRecord>& pushes, size_t capacity);

// /debug/push_status in istiod's shape (PushContext.ProxyStatus): metric name → key →
// {"proxy", "message"}, only the metrics with entries ({} when none). meshd fills what its
// snapshot shows: `pilot_eds_no_instances` (clusters of services without endpoints) and
// `pilot_vservice_dup_domain` (a host claimed by more than one mesh VirtualService). `snapshot`
// may be null.
nlohmann::json PushStatusJson(const model::Snapshot* snapshot);

}  // namespace meshd::bootstrap
