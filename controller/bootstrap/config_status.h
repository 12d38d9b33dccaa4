// ConfigStatus: the pure part of "status on the object" — for one config object, which of the
// connected proxies select it, how many applied it, and which NACKed a response that carried
// its resources (by the NACKed resources each stream keeps, TypeStatus::nack_names and
// nack_origins), and the DesiredStatus the status writer turns into the object's IstioStatus.
// Also used, without an API server, for the `istioStatus` field of /debug/configz. Pure
// functions; thread-safe.
//
// Selection (which proxies an object reaches): VirtualService, DestinationRule and
// ServiceEntry by exportTo (none set: everywhere); Gateway: gateway proxies ("router~" IDs)
// whose labels its selector matches; the other namespaced kinds (Sidecar, PeerAuthentication,
// AuthorizationPolicy, ...): proxies of their namespace, or every proxy when they live in the
// root namespace, and with a workload selector only those whose labels it matches (a
// DestinationRule's workloadSelector likewise). Labels are matched when the proxy's are known
// (ProxyState::labels non-empty); a proxy whose NACKed response carried the object selects it.
// Attribution (which NACKed resources belong to an object): a resource whose origins (the
// config objects its generator built it from, xds::Resource::origins) include the object. Only
// a resource without recorded origins falls back to its name: one that names one of the
// object's hosts (FQDN, short names expanded in the object's namespace), or, for a
// VirtualService that applies to the mesh, a route configuration named by a port only ("9080").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controller/kube/status_writer.h"
#include "controller/model/config.h"
#include "controller/model/snapshot.h"
#include "xds/server/stream.h"

namespace meshd::bootstrap {

struct ProxyNack {
  std::string type_url;
  std::string error;
  std::vector<std::string> names;  // resources of the NACKed response
  // The config objects each was built from (same index; null or missing: not recorded).
  std::vector<xds::Origins> origins;
};

struct ProxyState {
  std::string id;  // "sidecar~10.0.0.1~reviews-v1.default~default.svc.cluster.local"
  std::string ns;
  std::map<std::string, std::string> labels;  // empty: unknown (selectors are not matched)
  bool synced = true;  // every type acknowledged as sent (NACKed types aside)
  std::vector<ProxyNack> nacks;
};

struct Distribution {
  int selecting = 0;
  int applied = 0;
  std::vector<std::pair<std::string, std::string>> nacks;  // proxy, error
};

std::vector<ProxyState> ProxyStates(const std::vector<xds::ConnectionStatus>& connections);

// The proxies folded for the per-object computation: what selection depends on is the
// namespace, whether the proxy is a gateway, and (for objects with a selector) its labels, so
// proxies without NACKs are counted per (namespace, gateway) bucket, and within it per label
// set; only the NACKing ones are kept one by one. Computing every object's status is then
// O(objects x (namespaces + NACKing proxies)) plus, for objects with a selector only, the label
// sets of their buckets — not O(objects x proxies).
struct ProxySummary {
  struct LabelGroup {
    std::map<std::string, std::string> labels;  // empty: unknown
    int total = 0;
    int synced = 0;
  };
  struct Bucket {
    std::string ns;
    bool router = false;
    int total = 0;
    int synced = 0;
    std::vector<LabelGroup> by_labels;  // the bucket's proxies again, per label set
  };
  std::vector<Bucket> buckets;
  std::vector<ProxyState> nacking;
};
ProxySummary Summarize(const std::vector<ProxyState>& proxies);

// Selection by namespace and proxy kind only (labels unknown).
bool Selects(const model::Config& config, const std::string& root_ns, const std::string& proxy_ns,
             bool router);
// ... and, when `labels` is not empty, by the object's selector matched against them.
bool Selects(const model::Config& config, const std::string& root_ns, const std::string& proxy_ns,
             bool router, const std::map<std::string, std::string>& labels);
bool Selects(const model::Config& config, const std::string& root_ns, const ProxyState& proxy);
// Whether the object has a label selector (its selection depends on the proxy's labels).
bool HasSelector(const model::Config& config);
// Whether the resource `name` of `type_url` carries (part of) `config`, by its name alone (the
// fallback for resources without origins).
bool Carries(const model::Config& config, const std::string& domain, const std::string& type_url,
             const std::string& name);
// Whether a resource with `origins` (sorted, as the generators record them; null: not
// recorded, then by `name`) carries `config`.
bool Carries(const model::Config& config, const std::string& domain, const std::string& type_url,
             const std::string& name, const xds::Origins& origins);
// The first of `proxy`'s NACKs whose response carried `config`, or null.
const ProxyNack* NackOf(const model::Config& config, const std::string& domain,
                        const ProxyState& proxy);

Distribution DistributionOf(const model::Config& config, const std::string& root_ns,
                            const std::string& domain, const ProxySummary& proxies);
Distribution DistributionOf(const model::Config& config, const std::string& root_ns,
                            const std::string& domain, const std::vector<ProxyState>& proxies);
// "applied by N of M proxies that select it; NACKed by K: <proxy>: <error>; ..."
std::string DistributionMessage(const Distribution& d);

// The desired status of `config` (null when the object is only known as rejected), for the
// writer and for /debug/configz.
kube::DesiredStatus DesiredStatusOf(const model::Config* config, const std::string& root_ns,
                                    const std::string& domain, const ProxySummary& proxies);

}  // namespace meshd::bootstrap
