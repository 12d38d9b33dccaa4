#include "controller/model/snapshot.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"

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

}  // namespace

Snapshot::Snapshot(Data data) : data_(std::move(data)) {
  for (const auto& [key, config] : data_.configs) by_kind_[key.kind].push_back(config);
  for (const auto& vs : Configs(Kind::kVirtualService)) {
    const auto& spec = vs->Spec<istio::networking::v1alpha3::VirtualService>();
    // Only mesh VirtualServices route proxyless/sidecar traffic.
    bool mesh = spec.gateways().empty();
    for (const auto& g : spec.gateways()) mesh = mesh || g == "mesh";
    if (!mesh) continue;
    for (const auto& h : spec.hosts()) vs_by_host_[ResolveShortName(h, vs->key.ns)].push_back(vs);
  }
  for (const auto& dr : Configs(Kind::kDestinationRule)) {
    const auto& spec = dr->Spec<istio::networking::v1alpha3::DestinationRule>();
    dr_by_host_[ResolveShortName(spec.host(), dr->key.ns)].push_back(dr);
  }
  for (auto* index : {&vs_by_host_, &dr_by_host_}) {
    for (auto& [host, list] : *index) std::stable_sort(list.begin(), list.end(), Older);
  }
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

ConfigPtr Snapshot::VirtualServiceFor(const std::string& host, const std::string& proxy_ns) const {
  auto it = vs_by_host_.find(host);
  if (it == vs_by_host_.end()) return nullptr;
  // The proxy's own namespace first, then the oldest anywhere (the list is sorted).
  ConfigPtr local = PickByNamespace(it->second, {proxy_ns});
  return local != nullptr ? local : it->second.front();
}

ConfigPtr Snapshot::DestinationRuleFor(const std::string& host, const std::string& proxy_ns) const {
  auto it = dr_by_host_.find(host);
  if (it == dr_by_host_.end()) return nullptr;
  const Service* svc = FindService(host);
  // Only these three namespaces, as istiod's destinationRule(): a rule elsewhere applies to
  // proxies of its own namespace only.
  return PickByNamespace(it->second,
                         {proxy_ns, svc ? svc->ns : std::string(), data_.root_namespace});
}

}  // namespace meshd::model
