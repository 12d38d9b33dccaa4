#include "controller/bootstrap/config_status.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "xds/gen/resource.h"

namespace meshd::bootstrap {
namespace {

// An object's host as the generators name it: short names are services of its namespace.
std::string Fqdn(const std::string& host, const std::string& ns, const std::string& domain) {
  if (host.empty() || host == "*" || absl::StrContains(host, '.')) return host;
  return absl::StrCat(host, ".", ns, ".svc.", domain);
}

std::vector<std::string> HostsOf(const model::Config& c, const std::string& domain) {
  std::vector<std::string> hosts;
  if (const model::VirtualService* vs = c.AsVirtualService()) {
    for (const auto& h : vs->hosts) hosts.push_back(Fqdn(h, c.key.ns, domain));
  } else if (const model::DestinationRule* dr = c.AsDestinationRule()) {
    hosts.push_back(Fqdn(dr->host, c.key.ns, domain));
  } else if (const model::ServiceEntry* se = c.AsServiceEntry()) {
    hosts = se->hosts;
  }
  return hosts;
}

// `name` names `host` as a whole token: "outbound|9080|v1|reviews.default.svc.cluster.local",
// "reviews.default.svc.cluster.local:9080", "reviews.default.svc.cluster.local".
bool NamesHost(const std::string& name, const std::string& host) {
  if (host.empty() || host == "*") return false;
  size_t pos = 0;
  while ((pos = name.find(host, pos)) != std::string::npos) {
    bool start = pos == 0 || name[pos - 1] == '|' || name[pos - 1] == '_';
    size_t end = pos + host.size();
    bool stop = end == name.size() || name[end] == '|' || name[end] == ':' || name[end] == '_';
    if (start && stop) return true;
    pos = end;
  }
  return false;
}

bool AllDigits(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char ch) { return absl::ascii_isdigit(ch); });
}

}  // namespace

std::vector<ProxyState> ProxyStates(const std::vector<xds::ConnectionStatus>& connections) {
  std::vector<ProxyState> out;
  out.reserve(connections.size());
  for (const auto& c : connections) {
    if (c.proxy_id.empty()) continue;
    ProxyState p;
    p.id = c.proxy_id;
    p.ns = c.ns;
    p.labels = c.labels;
    for (const auto& t : c.types) {
      if (!t.nack_error.empty()) {
        p.nacks.push_back({t.type_url, t.nack_error, t.nack_names, t.nack_origins});
      } else if (t.version_acked != t.version_sent) {
        p.synced = false;
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

bool Selects(const model::Config& c, const std::string& root_ns, const std::string& proxy_ns,
             bool router) {
  switch (c.key.kind) {
    case model::Kind::kVirtualService:
      return model::ExportedTo(
          c.AsVirtualService() ? c.AsVirtualService()->export_to : std::vector<std::string>{},
          c.key.ns, proxy_ns);
    case model::Kind::kDestinationRule:
      return model::ExportedTo(
          c.AsDestinationRule() ? c.AsDestinationRule()->export_to : std::vector<std::string>{},
          c.key.ns, proxy_ns);
    case model::Kind::kServiceEntry:
      return model::ExportedTo(
          c.AsServiceEntry() ? c.AsServiceEntry()->export_to : std::vector<std::string>{}, c.key.ns,
          proxy_ns);
    case model::Kind::kGateway:
      return router;
    default:
      return c.key.ns == root_ns || c.key.ns == proxy_ns;
  }
}

namespace {

// The label selector of `c` (null: none, or one that selects by namespace only).
const std::map<std::string, std::string>* SelectorOf(const model::Config& c) {
  auto of = [](const std::optional<std::map<std::string, std::string>>& s) {
    return s.has_value() && !s->empty() ? &*s : nullptr;
  };
  switch (c.key.kind) {
    case model::Kind::kGateway:
      return c.AsGateway() ? &c.AsGateway()->selector : nullptr;
    case model::Kind::kSidecar:
      return c.AsSidecar() ? of(c.AsSidecar()->workload_selector) : nullptr;
    case model::Kind::kDestinationRule:
      return c.AsDestinationRule() ? of(c.AsDestinationRule()->workload_selector) : nullptr;
    case model::Kind::kPeerAuthentication:
      return c.AsPeerAuthentication() ? of(c.AsPeerAuthentication()->selector) : nullptr;
    case model::Kind::kAuthorizationPolicy:
      return c.AsAuthorizationPolicy() ? of(c.AsAuthorizationPolicy()->selector) : nullptr;
    case model::Kind::kRequestAuthentication:
      return c.AsRequestAuthentication() ? of(c.AsRequestAuthentication()->selector) : nullptr;
    default:
      return nullptr;
  }
}

}  // namespace

bool HasSelector(const model::Config& c) { return SelectorOf(c) != nullptr; }

bool Selects(const model::Config& c, const std::string& root_ns, const std::string& proxy_ns,
             bool router, const std::map<std::string, std::string>& labels) {
  if (!Selects(c, root_ns, proxy_ns, router)) return false;
  if (labels.empty()) return true;  // unknown: by namespace and kind only
  const std::map<std::string, std::string>* selector = SelectorOf(c);
  if (selector == nullptr) return true;
  // A DestinationRule's workloadSelector, like the security kinds', applies in its namespace
  // (or everywhere from the root namespace); a Gateway's selector in every namespace.
  return model::LabelsMatch(*selector, labels);
}

bool Selects(const model::Config& c, const std::string& root_ns, const ProxyState& p) {
  return Selects(c, root_ns, p.ns, absl::StartsWith(p.id, "router~"), p.labels);
}

ProxySummary Summarize(const std::vector<ProxyState>& proxies) {
  ProxySummary out;
  std::map<std::pair<std::string, bool>, size_t> index;
  // Per bucket, the label sets seen (index into by_labels).
  std::vector<std::map<std::map<std::string, std::string>, size_t>> label_index;
  for (const auto& p : proxies) {
    if (!p.nacks.empty()) {
      out.nacking.push_back(p);
      continue;
    }
    bool router = absl::StartsWith(p.id, "router~");
    auto [it, added] = index.emplace(std::make_pair(p.ns, router), out.buckets.size());
    if (added) {
      out.buckets.push_back({p.ns, router, 0, 0, {}});
      label_index.emplace_back();
    }
    ProxySummary::Bucket& b = out.buckets[it->second];
    b.total++;
    if (p.synced) b.synced++;
    auto& groups = label_index[it->second];
    auto lit = groups.find(p.labels);  // find first: most proxies share a label set
    if (lit == groups.end()) {
      lit = groups.emplace(p.labels, b.by_labels.size()).first;
      b.by_labels.push_back({p.labels, 0, 0});
    }
    ProxySummary::LabelGroup& g = b.by_labels[lit->second];
    g.total++;
    if (p.synced) g.synced++;
  }
  return out;
}

bool Carries(const model::Config& c, const std::string& domain, const std::string& type_url,
             const std::string& name) {
  for (const auto& h : HostsOf(c, domain)) {
    if (NamesHost(name, h)) return true;
  }
  if (type_url == xds::kRouteType && AllDigits(name)) {
    const model::VirtualService* vs = c.AsVirtualService();
    return vs != nullptr && vs->AppliesToMesh();
  }
  return false;
}

bool Carries(const model::Config& c, const std::string& domain, const std::string& type_url,
             const std::string& name, const xds::Origins& origins) {
  if (origins == nullptr) return Carries(c, domain, type_url, name);
  return std::binary_search(origins->begin(), origins->end(), c.key);
}

const ProxyNack* NackOf(const model::Config& c, const std::string& domain, const ProxyState& p) {
  static const xds::Origins kNotRecorded;
  for (const auto& n : p.nacks) {
    for (size_t i = 0; i < n.names.size(); ++i) {
      const xds::Origins& origins = i < n.origins.size() ? n.origins[i] : kNotRecorded;
      if (Carries(c, domain, n.type_url, n.names[i], origins)) return &n;
    }
  }
  return nullptr;
}

Distribution DistributionOf(const model::Config& c, const std::string& root_ns,
                            const std::string& domain, const ProxySummary& proxies) {
  Distribution d;
  bool by_labels = HasSelector(c);
  for (const auto& b : proxies.buckets) {
    if (!Selects(c, root_ns, b.ns, b.router)) continue;
    if (!by_labels) {
      d.selecting += b.total;
      d.applied += b.synced;
      continue;
    }
    for (const auto& g : b.by_labels) {
      if (!Selects(c, root_ns, b.ns, b.router, g.labels)) continue;
      d.selecting += g.total;
      d.applied += g.synced;
    }
  }
  for (const auto& p : proxies.nacking) {
    const ProxyNack* nack = NackOf(c, domain, p);
    // A proxy whose NACKed response carried the object selects it, whatever the rules say.
    if (nack == nullptr && !Selects(c, root_ns, p)) continue;
    d.selecting++;
    if (nack) {
      d.nacks.emplace_back(p.id, nack->error);
    } else if (p.synced) {
      d.applied++;  // its NACK is about other objects
    }
  }
  return d;
}

Distribution DistributionOf(const model::Config& c, const std::string& root_ns,
                            const std::string& domain, const std::vector<ProxyState>& proxies) {
  return DistributionOf(c, root_ns, domain, Summarize(proxies));
}

std::string DistributionMessage(const Distribution& d) {
  std::string msg =
      absl::StrCat("applied by ", d.applied, " of ", d.selecting,
                   d.selecting == 1 ? " proxy that selects it" : " proxies that select it");
  if (!d.nacks.empty()) {
    absl::StrAppend(&msg, "; NACKed by ", d.nacks.size());
    // A bounded message: the first few proxies with their error text.
    constexpr size_t kShown = 3;
    for (size_t i = 0; i < d.nacks.size() && i < kShown; ++i) {
      absl::StrAppend(&msg, i == 0 ? ": " : "; ", d.nacks[i].first, ": ",
                      d.nacks[i].second.substr(0, 300));
    }
    if (d.nacks.size() > kShown) absl::StrAppend(&msg, "; ...");
  }
  return msg;
}

kube::DesiredStatus DesiredStatusOf(const model::Config* c, const std::string& root_ns,
                                    const std::string& domain, const ProxySummary& proxies) {
  kube::DesiredStatus s;
  if (c == nullptr) return s;
  s.object = absl::StrCat(model::KindName(c->key.kind), " ", c->key.ns, "/", c->key.name);
  s.generation = c->generation;
  s.warnings = c->warnings;
  Distribution d = DistributionOf(*c, root_ns, domain, proxies);
  s.distribution_known = true;
  s.reconciled = d.nacks.empty() && d.applied == d.selecting;
  s.distribution_message = DistributionMessage(d);
  return s;
}

}  // namespace meshd::bootstrap
