// PushScope: which proxies a snapshot change can affect, so a push visits only those. Computed
// once per snapshot from the changed config keys and the previous and next snapshots:
//  - VirtualService / DestinationRule: their hosts (before and after the change);
//  - ServiceEntry: its hosts; when only its inline endpoints changed, an endpoint-only change;
//  - WorkloadEntry: an endpoint-only change of the selecting ServiceEntries' hosts;
//  - anything else (Sidecar, security policies, Gateway), or no previous snapshot: everything.
// A connection is affected when one of its subscribed names belongs to a scoped host.
// Thread-safe (pure).
#pragma once

#include <cstdint>
#include <set>

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "controller/model/proxy.h"
#include "controller/model/push_request.h"
#include "controller/model/snapshot.h"

namespace meshd::xds {

struct PushScope {
  bool all = false;
  std::set<std::string> hosts;           // anything about these hosts may have changed
  std::set<std::string> endpoint_hosts;  // only the endpoints of these hosts changed
  uint64_t push_id = 0;                  // the PushHistory entry of this push (0: none)
};

PushScope ComputeScope(const model::Snapshot* previous, const model::Snapshot& next,
                       const model::PushRequest& request);

// True if the resource `name` of `type_url`, subscribed by `proxy`, may differ after the
// change. Unknown name shapes (e.g. inbound server listeners) are always affected.
bool Affects(const PushScope& scope, const std::string& type_url, const std::string& name,
             const model::Proxy& proxy, const model::Snapshot& next);

// The hosts a subscription can depend on, computed once when the subscription changes so a
// push over thousands of streams costs a few comparisons per stream and allocates nothing:
// for a listener `<host>:<port>` its host part (matched against every form
// Snapshot::ResolveClientHost may resolve it to); for cluster-named types the host in the
// name. The views point into the subscription's name strings: recompute whenever the names
// change. `opaque` is set for names of another shape (always affected).
struct SubscriptionHosts {
  bool opaque = false;
  std::vector<absl::string_view> hosts;  // sorted, unique
};
SubscriptionHosts HostsOf(const std::string& type_url, const std::set<std::string>& names);
// The first DNS label of a host ("reviews" of "reviews.default.svc.cluster.local").
absl::string_view FirstLabel(absl::string_view host);
// The first label of the host resource `name` refers to (a view into `name`): "reviews" for
// cluster "outbound|9080||reviews.default.svc.cluster.local" and for listener "reviews:9080";
// empty when the name refers to no host (HostsOf's opaque). Every name for which Affects can
// hold for a scope host carries that host's first label (a client's short name is a prefix of
// the FQDN ending at a dot), so a change can reach only the names in its hosts' buckets and
// the empty one.
absl::string_view HostBucket(const std::string& type_url, absl::string_view name);
// A bucket as a number, for indexes that may over-approximate: two buckets with the same
// number only make a lookup return more candidates, each still tested exactly (Affects).
uint64_t BucketId(absl::string_view bucket);
// The BucketIds of the hosts a scope changes: where Affects can hold (see HostBucket), besides
// the empty bucket.
std::vector<uint64_t> ScopeBuckets(const PushScope& scope);
// Appends the BucketIds of a subscription's names, from its computed hosts (the same as
// HostBucket of every name, without parsing the names again).
void AppendBuckets(const SubscriptionHosts& hosts, std::vector<uint64_t>* out);
// Same answer as Affects for every name of the subscription.
bool Affects(const PushScope& scope, const std::string& type_url, const SubscriptionHosts& hosts,
             const std::string& proxy_ns, const std::string& domain);

}  // namespace meshd::xds
