#include "controller/kube/endpoint_index.h"

#include "absl/strings/str_cat.h"

namespace meshd::kube {
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

const json& Obj(const json& j, const char* key) {
  static const json kEmpty = json::object();
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

std::string SliceKey(const json& slice) {
  const json& meta = Obj(slice, "metadata");
  std::string ns = Str(meta, "namespace");
  std::string name = Str(meta, "name");
  if (name.empty()) return "";
  return ns.empty() ? name : absl::StrCat(ns, "/", name);
}

void Erase(std::map<std::string, std::set<std::string>>* index, const std::string& key,
           const std::string& slice_key) {
  auto it = index->find(key);
  if (it == index->end()) return;
  it->second.erase(slice_key);
  if (it->second.empty()) index->erase(it);
}

}  // namespace

void EndpointIndex::SetSlice(const json& slice) {
  std::string key = SliceKey(slice);
  if (key.empty()) return;
  const json& meta = Obj(slice, "metadata");
  std::string ns = Str(meta, "namespace");
  SliceRefs refs;
  if (std::string svc = Str(Obj(meta, "labels"), "kubernetes.io/service-name"); !svc.empty()) {
    refs.service = absl::StrCat(ns, "/", svc);
  }
  if (auto eps = slice.find("endpoints"); eps != slice.end() && eps->is_array()) {
    for (const auto& e : *eps) {
      const json& ref = Obj(e, "targetRef");
      if (Str(ref, "kind") == "Pod" && !Str(ref, "name").empty()) {
        std::string pns = Str(ref, "namespace");
        if (pns.empty()) pns = ns;  // as EndpointsFromSlices resolves it
        refs.pods.insert(absl::StrCat(pns, "/", Str(ref, "name")));
      }
      if (std::string node = Str(e, "nodeName"); !node.empty()) refs.nodes.insert(node);
    }
  }
  absl::MutexLock lock(&mu_);
  RemoveLocked(key);
  if (!refs.service.empty()) by_service_[refs.service].insert(key);
  for (const auto& p : refs.pods) by_pod_[p].insert(key);
  for (const auto& n : refs.nodes) by_node_[n].insert(key);
  slices_[key] = std::move(refs);
}

void EndpointIndex::DeleteSlice(const json& slice) {
  std::string key = SliceKey(slice);
  absl::MutexLock lock(&mu_);
  RemoveLocked(key);
}

void EndpointIndex::RemoveLocked(const std::string& slice_key) {
  auto it = slices_.find(slice_key);
  if (it == slices_.end()) return;
  if (!it->second.service.empty()) Erase(&by_service_, it->second.service, slice_key);
  for (const auto& p : it->second.pods) Erase(&by_pod_, p, slice_key);
  for (const auto& n : it->second.nodes) Erase(&by_node_, n, slice_key);
  slices_.erase(it);
}

std::set<std::string> EndpointIndex::ServicesOfLocked(
    const std::set<std::string>& slice_keys) const {
  std::set<std::string> out;
  for (const auto& k : slice_keys) {
    auto it = slices_.find(k);
    if (it != slices_.end() && !it->second.service.empty()) out.insert(it->second.service);
  }
  return out;
}

std::set<std::string> EndpointIndex::ServicesForPod(const std::string& pod_key) const {
  absl::MutexLock lock(&mu_);
  auto it = by_pod_.find(pod_key);
  return it == by_pod_.end() ? std::set<std::string>() : ServicesOfLocked(it->second);
}

std::set<std::string> EndpointIndex::ServicesForNode(const std::string& node_name) const {
  absl::MutexLock lock(&mu_);
  auto it = by_node_.find(node_name);
  return it == by_node_.end() ? std::set<std::string>() : ServicesOfLocked(it->second);
}

std::set<std::string> EndpointIndex::SlicesForService(const std::string& service_key) const {
  absl::MutexLock lock(&mu_);
  auto it = by_service_.find(service_key);
  return it == by_service_.end() ? std::set<std::string>() : it->second;
}

}  // namespace meshd::kube
