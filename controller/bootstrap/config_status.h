// ConfigStatus: the pure part of "status on the object" — for one config object, which of the
// connected proxies select it, how many applied it, and which NACKed a response that carried
// its resources (by the NACKed resource names each stream keeps, TypeStatus::nack_names), and
// the DesiredStatus the status writer turns into the object's IstioStatus. Also used, without
// an API server, for the `istioStatus` field of /debug/configz. Pure functions; thread-safe.
//
// Selection (which proxies an object reaches): VirtualService, DestinationRule and
// ServiceEntry by exportTo (none set: everywhere); Gateway: gateway proxies ("router~" IDs);
// the other namespaced kinds (Sidecar, PeerAuthentication, AuthorizationPolicy, ...): proxies of
// their namespace, or every proxy when they live in the root namespace.
// Attribution (which NACKed resources belong to an object): a resource whose name names one of
// the object's hosts (FQDN, short names expanded in the object's namespace), and, for a
// VirtualService that applies to the mesh, a route configuration named by a port only ("9080"),
// which carries every such VirtualService's virtual hosts.
#pragma once

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
};

struct ProxyState {
  std::string id;  // "sidecar~10.0.0.1~reviews-v1.default~default.svc.cluster.local"
  std::string ns;
  bool synced = true;  // every type acknowledged as sent (NACKed types aside)
  std::vector<ProxyNack> nacks;
};

struct Distribution {
  int selecting = 0;
  int applied = 0;
  std::vector<std::pair<std::string, std::string>> nacks;  // proxy, error
};

std::vector<ProxyState> ProxyStates(const std::vector<xds::ConnectionStatus>& connections);

// The proxies folded for the per-object computation: what selection depends on is only the
// namespace and whether the proxy is a gateway, so proxies without NACKs are counted per
// (namespace, gateway) bucket; only the NACKing ones are kept one by one. Computing every
// object's status is then O(objects x (namespaces + NACKing proxies)), not O(objects x proxies).
struct ProxySummary {
  struct Bucket {
    std::string ns;
    bool router = false;
    int total = 0;
    int synced = 0;
  };
  std::vector<Bucket> buckets;
  std::vector<ProxyState> nacking;
};
ProxySummary Summarize(const std::vector<ProxyState>& proxies);

bool Selects(const model::Config& config, const std::string& root_ns, const std::string& proxy_ns,
             bool router);
bool Selects(const model::Config& config, const std::string& root_ns, const ProxyState& proxy);
// Whether the resource `name` of `type_url` carries (part of) `config`.
bool Carries(const model::Config& config, const std::string& domain, const std::string& type_url,
             const std::string& name);

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
