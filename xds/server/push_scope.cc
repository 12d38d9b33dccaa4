#include "xds/server/push_scope.h"

#include <algorithm>
#include <optional>

#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "xds/gen/grpc_generator.h"
#include "xds/gen/resource.h"

namespace meshd::xds {
namespace {

using model::Kind;

void AddHosts(const model::Config& c, const model::Snapshot& s, std::set<std::string>* out) {
  switch (c.key.kind) {
    case Kind::kVirtualService:
      if (const model::VirtualService* vs = c.AsVirtualService()) {
        for (const auto& h : vs->hosts) out->insert(s.ResolveShortName(h, c.key.ns));
      }
      break;
    case Kind::kDestinationRule:
      if (const model::DestinationRule* dr = c.AsDestinationRule()) {
        out->insert(s.ResolveShortName(dr->host, c.key.ns));
      }
      break;
    case Kind::kServiceEntry:
      if (const model::ServiceEntry* se = c.AsServiceEntry()) {
        out->insert(se->hosts.begin(), se->hosts.end());
      }
      break;
    default:
      break;
  }
}

// Hosts of the ServiceEntries in `ns` that select workloads.
void SelectingHosts(const model::Snapshot& s, const std::string& ns, std::set<std::string>* out) {
  for (const auto& c : s.Configs(Kind::kServiceEntry)) {
    const model::ServiceEntry* se = c->AsServiceEntry();
    if (c->key.ns != ns || se == nullptr || !se->workload_selector) continue;
    out->insert(se->hosts.begin(), se->hosts.end());
  }
}

}  // namespace

PushScope ComputeScope(const model::Snapshot* previous, const model::Snapshot& next,
                       const model::PushRequest& request) {
  PushScope scope;
  if (!request.full) {
    scope.endpoint_hosts = request.endpoint_hosts;
    return scope;
  }
  if (previous == nullptr || (request.configs_updated.empty() && request.service_hosts.empty())) {
    scope.all = true;
    return scope;
  }
  // A changed Service is a full push for its host even when merged with config changes.
  scope.hosts.insert(request.service_hosts.begin(), request.service_hosts.end());
  for (const auto& key : request.configs_updated) {
    model::ConfigPtr before = previous->FindConfig(key);
    model::ConfigPtr after = next.FindConfig(key);
    switch (key.kind) {
      case Kind::kVirtualService:
      case Kind::kDestinationRule:
        if (before) AddHosts(*before, *previous, &scope.hosts);
        if (after) AddHosts(*after, next, &scope.hosts);
        break;
      case Kind::kServiceEntry:
        if (model::OnlyServiceEntryEndpointsDiffer(before.get(), after.get())) {
          AddHosts(*after, next, &scope.endpoint_hosts);
        } else {
          if (before) AddHosts(*before, *previous, &scope.hosts);
          if (after) AddHosts(*after, next, &scope.hosts);
        }
        break;
      case Kind::kWorkloadEntry:
        SelectingHosts(*previous, key.ns, &scope.endpoint_hosts);
        SelectingHosts(next, key.ns, &scope.endpoint_hosts);
        break;
      default:
        scope.all = true;
        return scope;
    }
  }
  // A wildcard host ("*.example.com", "*") may cover any service: push everything.
  for (const auto& h : scope.hosts) {
    if (!h.empty() && h[0] == '*') {
      scope.all = true;
      return scope;
    }
  }
  // The registry's services and endpoints may also come from other sources (Kubernetes):
  // a request that names endpoint hosts keeps them.
  scope.endpoint_hosts.insert(request.endpoint_hosts.begin(), request.endpoint_hosts.end());
  for (const auto& h : scope.hosts) scope.endpoint_hosts.erase(h);
  return scope;
}

namespace {

// The host `name` of `type_url` refers to (a view into `name`), or nothing when it names none:
// a listener "<host>:<port>" whose host has a '/', a cluster name not "outbound|p|s|host".
std::optional<absl::string_view> HostOfName(const std::string& type_url, absl::string_view n) {
  if (type_url == kListenerType) {
    absl::string_view h = n.substr(0, n.rfind(':'));
    if (h.find('/') != absl::string_view::npos) return std::nullopt;
    return h;
  }
  // outbound|<port>|<subset>|<host>
  size_t bar = 0;
  for (int i = 0; i < 3 && bar != absl::string_view::npos; ++i) bar = n.find('|', bar + (i > 0));
  if (!absl::StartsWith(n, "outbound|") || bar == absl::string_view::npos) return std::nullopt;
  return n.substr(bar + 1);
}

}  // namespace

SubscriptionHosts HostsOf(const std::string& type_url, const std::set<std::string>& names) {
  SubscriptionHosts out;
  for (const auto& name : names) {
    std::optional<absl::string_view> host = HostOfName(type_url, name);
    if (host) {
      out.hosts.push_back(*host);
    } else {
      out.opaque = true;
    }
  }
  std::sort(out.hosts.begin(), out.hosts.end());
  out.hosts.erase(std::unique(out.hosts.begin(), out.hosts.end()), out.hosts.end());
  return out;
}

absl::string_view FirstLabel(absl::string_view host) { return host.substr(0, host.find('.')); }

absl::string_view HostBucket(const std::string& type_url, absl::string_view name) {
  std::optional<absl::string_view> host = HostOfName(type_url, name);
  return host ? FirstLabel(*host) : absl::string_view();
}

uint64_t BucketId(absl::string_view bucket) { return absl::HashOf(bucket); }

void AppendBuckets(const SubscriptionHosts& hosts, std::vector<uint64_t>* out) {
  if (hosts.opaque) out->push_back(BucketId(""));
  for (absl::string_view h : hosts.hosts) out->push_back(BucketId(FirstLabel(h)));
}

std::vector<uint64_t> ScopeBuckets(const PushScope& scope) {
  std::vector<uint64_t> out;
  for (const auto* hosts : {&scope.hosts, &scope.endpoint_hosts}) {
    for (const auto& h : *hosts) out.push_back(BucketId(FirstLabel(h)));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

// Whether a client's `h` may resolve to registry host `fqdn` (see ResolveClientHost).
bool MayResolveTo(absl::string_view h, absl::string_view fqdn, absl::string_view ns,
                  absl::string_view domain) {
  if (fqdn == h) return true;
  if (!absl::ConsumePrefix(&fqdn, h) || !absl::ConsumePrefix(&fqdn, ".")) return false;
  if (fqdn == domain) return true;  // "<h>.<domain>"
  absl::string_view rest = fqdn;
  if (absl::ConsumePrefix(&rest, ns) && absl::ConsumePrefix(&rest, ".svc.") && rest == domain) {
    return true;  // "<h>.<ns>.svc.<domain>"
  }
  rest = fqdn;
  return absl::ConsumePrefix(&rest, "svc.") && rest == domain;  // "<h>.svc.<domain>"
}

}  // namespace

bool Affects(const PushScope& scope, const std::string& type_url, const SubscriptionHosts& hosts,
             const std::string& proxy_ns, const std::string& domain) {
  if (scope.all || hosts.opaque) return true;
  if (type_url == kListenerType) {
    for (const auto& fqdn : scope.hosts) {
      for (absl::string_view h : hosts.hosts) {
        if (MayResolveTo(h, fqdn, proxy_ns, domain)) return true;
      }
    }
    return false;
  }
  auto has = [&hosts](const std::string& h) {
    return std::binary_search(hosts.hosts.begin(), hosts.hosts.end(), absl::string_view(h));
  };
  for (const auto& h : scope.hosts) {
    if (has(h)) return true;
  }
  if (type_url == kEndpointType || type_url == kClusterType) {
    for (const auto& h : scope.endpoint_hosts) {
      if (has(h)) return true;
    }
  }
  return false;
}

bool Affects(const PushScope& scope, const std::string& type_url, const std::string& name,
             const model::Proxy& proxy, const model::Snapshot& next) {
  if (scope.all) return true;
  std::string host;
  if (type_url == kListenerType) {
    auto colon = name.rfind(':');
    std::string h = colon == std::string::npos ? name : name.substr(0, colon);
    if (h.find('/') != std::string::npos) return true;  // not a client listener name
    host = next.ResolveClientHost(h, proxy.ns);
    // A name that resolves to nothing now may have named a host that was just removed.
    if (host.empty()) return !scope.hosts.empty();
    return scope.hosts.count(host) > 0;
  }
  ClusterName cn;
  if (!ParseClusterName(name, &cn)) return true;
  if (scope.hosts.count(cn.host)) return true;
  // Endpoint changes reach EDS, and CDS for clusters that embed their address (LOGICAL_DNS).
  return (type_url == kEndpointType || type_url == kClusterType) &&
         scope.endpoint_hosts.count(cn.host) > 0;
}

}  // namespace meshd::xds
