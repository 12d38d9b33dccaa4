#include "controller/model/snapshot.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace meshd::model {
namespace {

// Istio orders competing configs by creation time, then namespace/name.
bool Older(const ConfigPtr& a, const ConfigPtr& b) {
  if (a->creation_timestamp != b->creation_timestamp) {
    if (a->creation_timestamp.empty()) return false;
    if (b->creation_timestamp.empty()) return true;
    return a->creation_timestamp < b->creation_timestamp;
  }
  return a->key < b->key;
}

// The first candidate in the first of `namespaces` that has one; nullptr if none.
ConfigPtr PickByNamespace(const std::vector<ConfigPtr>& candidates,
                          const std::vector<std::string>& namespaces) {
  for (const auto& ns : namespaces) {
    for (const auto& c : candidates) {
      if (c->key.ns == ns) return c;
    }
  }
  return nullptr;
}

const std::vector<ConfigPtr>& Empty() {
  static const auto* empty = new std::vector<ConfigPtr>();
  return *empty;
}

// istiod merges DestinationRules for the same host in the same namespace that have no
// workloadSelector and the same exportTo: the oldest is the base; later rules add the subsets
// whose names it lacks (a duplicate name is ignored), and give the traffic policy only when the
// base has none. The merged rule takes the base's place; its warnings name what was dropped.
std::vector<ConfigPtr> MergeDestinationRules(const std::vector<ConfigPtr>& sorted) {
  std::vector<ConfigPtr> out;
  std::map<size_t, std::shared_ptr<Config>> merged;  // position in `out` → merged copy
  for (const auto& c : sorted) {
    const DestinationRule* dr = c->AsDestinationRule();
    bool mergeable = dr != nullptr && !(dr->workload_selector && !dr->workload_selector->empty());
    size_t base_pos = out.size();
    if (mergeable) {
      for (size_t i = 0; i < out.size(); ++i) {
        const DestinationRule* b = out[i]->AsDestinationRule();
        if (out[i]->key.ns == c->key.ns && b != nullptr &&
            !(b->workload_selector && !b->workload_selector->empty()) &&
            b->export_to == dr->export_to) {
          base_pos = i;
          break;
        }
      }
    }
    if (base_pos == out.size()) {
      out.push_back(c);
      continue;
    }
    auto& copy = merged[base_pos];
    if (copy == nullptr) {
      copy = std::make_shared<Config>(*out[base_pos]);
      out[base_pos] = copy;
    }
    auto& base = std::get<DestinationRule>(copy->model);
    if (!base.traffic_policy && dr->traffic_policy) base.traffic_policy = dr->traffic_policy;
    for (const auto& subset : dr->subsets) {
      if (base.FindSubset(subset.name) == nullptr) {
        base.subsets.push_back(subset);
      } else {
        copy->warnings.push_back(absl::StrCat("subset \"", subset.name, "\" of ", c->key.ToString(),
                                              " ignored: an older rule for the host has it"));
      }
    }
    copy->warnings.push_back(absl::StrCat("merged with ", c->key.ToString()));
  }
  return out;
}

}  // namespace

Snapshot::Snapshot(Data data) : data_(std::move(data)) {
  if (data_.mesh == nullptr) data_.mesh = std::make_shared<const MeshConfig>();
  for (const auto& [key, config] : data_.configs) by_kind_[key.kind].push_back(config);
  for (const auto& vs : Configs(Kind::kVirtualService)) {
    const VirtualService* spec = vs->AsVirtualService();
    // Only mesh VirtualServices route proxyless/sidecar traffic.
    if (spec == nullptr || !spec->AppliesToMesh()) continue;
    for (const auto& h : spec->hosts) vs_by_host_[ResolveShortName(h, vs->key.ns)].push_back(vs);
  }
  for (const auto& dr : Configs(Kind::kDestinationRule)) {
    const DestinationRule* spec = dr->AsDestinationRule();
    if (spec == nullptr) continue;
    dr_by_host_[ResolveShortName(spec->host, dr->key.ns)].push_back(dr);
  }
  for (const auto& [host, eps] : data_.endpoints) {
    const Service* svc = FindService(host);
    if (svc == nullptr) continue;
    for (const auto& ep : eps) endpoints_by_address_[ep.address].push_back({svc, &ep});
  }
  for (auto* index : {&vs_by_host_, &dr_by_host_}) {
    for (auto& [host, list] : *index) std::stable_sort(list.begin(), list.end(), Older);
  }
  for (auto& [host, list] : dr_by_host_) list = MergeDestinationRules(list);
}

const std::vector<ConfigPtr>& Snapshot::Configs(Kind kind) const {
  auto it = by_kind_.find(kind);
  return it == by_kind_.end() ? Empty() : it->second;
}

ConfigPtr Snapshot::FindConfig(const ConfigKey& key) const {
  auto it = data_.configs.find(key);
  return it == data_.configs.end() ? nullptr : it->second;
}

const Service* Snapshot::FindService(const std::string& hostname) const {
  auto it = data_.services.find(hostname);
  return it == data_.services.end() ? nullptr : &it->second;
}

const std::vector<Endpoint>& Snapshot::Endpoints(const std::string& hostname) const {
  static const auto* empty = new std::vector<Endpoint>();
  auto it = data_.endpoints.find(hostname);
  return it == data_.endpoints.end() ? *empty : it->second;
}

const std::vector<Snapshot::EndpointRef>& Snapshot::EndpointsAt(const std::string& address) const {
  static const auto* empty = new std::vector<EndpointRef>();
  auto it = endpoints_by_address_.find(address);
  return it == endpoints_by_address_.end() ? *empty : it->second;
}

std::string Snapshot::ResolveShortName(const std::string& name, const std::string& ns) const {
  if (name == "*" || absl::StrContains(name, '.') || ns.empty()) return name;
  return absl::StrCat(name, ".", ns, ".svc.", data_.domain);
}

std::string Snapshot::ResolveClientHost(const std::string& name,
                                        const std::string& proxy_ns) const {
  std::vector<std::string> candidates = {name};
  if (!absl::StrContains(name, '.')) {
    if (!proxy_ns.empty())
      candidates.push_back(absl::StrCat(name, ".", proxy_ns, ".svc.", domain()));
  } else if (std::count(name.begin(), name.end(), '.') == 1) {
    candidates.push_back(absl::StrCat(name, ".svc.", domain()));
  } else if (absl::EndsWith(name, ".svc")) {
    candidates.push_back(absl::StrCat(name, ".", domain()));
  }
  for (const auto& c : candidates) {
    if (FindService(c) != nullptr) return c;
  }
  return "";
}

bool ExportedTo(const std::vector<std::string>& export_to, const std::string& config_ns,
                const std::string& proxy_ns) {
  if (export_to.empty()) return true;
  for (const auto& e : export_to) {
    if (e == "*" || e == proxy_ns || (e == "." && config_ns == proxy_ns)) return true;
  }
  return false;
}

bool HostMatches(absl::string_view pattern, absl::string_view host) {
  if (pattern == host || pattern == "*") return true;
  if (absl::StartsWith(pattern, "*.")) {
    return absl::EndsWith(host, pattern.substr(1)) && host.size() > pattern.size() - 1;
  }
  return false;
}

const std::vector<ConfigPtr>* Snapshot::MostSpecific(
    const std::map<std::string, std::vector<ConfigPtr>>& index, const std::string& host) {
  auto it = index.find(host);
  if (it != index.end()) return &it->second;
  // Wildcards: the longest pattern that covers the host wins ("*.ns.svc.cluster.local" over
  // "*.local" over "*"), as istiod picks the most specific host.
  const std::vector<ConfigPtr>* best = nullptr;
  size_t best_len = 0;
  for (const auto& [pattern, list] : index) {
    if (pattern.empty() || pattern[0] != '*') continue;
    if (!HostMatches(pattern, host)) continue;
    if (best == nullptr || pattern.size() > best_len) {
      best = &list;
      best_len = pattern.size();
    }
  }
  return best;
}

ConfigPtr Snapshot::VirtualServiceFor(const std::string& host, const std::string& proxy_ns) const {
  const std::vector<ConfigPtr>* list = MostSpecific(vs_by_host_, host);
  if (list == nullptr || list->empty()) return nullptr;
  // The proxy's own namespace first, then the oldest anywhere (the list is sorted), among the
  // ones exported to the proxy's namespace.
  ConfigPtr local = PickByNamespace(*list, {proxy_ns});
  if (local != nullptr) return local;
  for (const auto& c : *list) {
    const VirtualService* vs = c->AsVirtualService();
    if (vs != nullptr &&
        ExportedTo(EffectiveExportTo(vs->export_to, data_.mesh->default_virtual_service_export_to),
                   c->key.ns, proxy_ns)) {
      return c;
    }
  }
  return nullptr;
}

ConfigPtr Snapshot::DestinationRuleFor(const std::string& host, const std::string& proxy_ns,
                                       const std::map<std::string, std::string>* labels) const {
  // istiod: a rule in the proxy's namespace (one whose workloadSelector matches the proxy
  // first), then in the service's namespace, then in the root namespace; within each
  // namespace the most specific host. A rule with a workloadSelector applies only to the
  // workloads it selects in its own namespace.
  const Service* svc = FindService(host);
  auto pick = [&](const std::string& ns, bool selected) -> ConfigPtr {
    auto usable = [&](const ConfigPtr& c) {
      if (c->key.ns != ns) return false;
      const DestinationRule* dr = c->AsDestinationRule();
      if (dr != nullptr &&
          !ExportedTo(
              EffectiveExportTo(dr->export_to, data_.mesh->default_destination_rule_export_to),
              c->key.ns, proxy_ns)) {
        return false;
      }
      bool has_selector = dr != nullptr && dr->workload_selector && !dr->workload_selector->empty();
      if (!selected) return !has_selector;
      return has_selector && ns == proxy_ns && labels != nullptr &&
             LabelsMatch(*dr->workload_selector, *labels);
    };
    const std::vector<ConfigPtr>* best = nullptr;
    size_t best_len = 0;
    for (const auto& [pattern, list] : dr_by_host_) {
      if (!HostMatches(pattern, host)) continue;
      bool any = false;
      for (const auto& c : list) any = any || usable(c);
      if (!any) continue;
      size_t len = pattern == host ? std::string::npos : pattern.size();
      if (best == nullptr || len > best_len) {
        best = &list;
        best_len = len;
      }
    }
    if (best != nullptr) {
      for (const auto& c : *best) {
        if (usable(c)) return c;
      }
    }
    return nullptr;
  };
  if (ConfigPtr c = pick(proxy_ns, true)) return c;
  for (const std::string& ns :
       {proxy_ns, svc ? svc->ns : std::string(), data_.mesh->root_namespace}) {
    if (ns.empty()) continue;
    if (ConfigPtr c = pick(ns, false)) return c;
  }
  // Only these three namespaces, as istiod's destinationRule(): a rule elsewhere applies to
  // proxies of its own namespace only.
  return nullptr;
}

}  // namespace meshd::model
