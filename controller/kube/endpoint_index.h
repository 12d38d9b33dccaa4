// EndpointIndex: which Services' EndpointSlices reference which Pods (endpoint targetRef) and
// Nodes (endpoint nodeName), and which slices belong to each Service (label
// kubernetes.io/service-name). KubeSource keeps it current from the EndpointSlice informer so
// that a Pod or Node event recomputes only the services whose endpoints point at it, and a
// service's recomputation reads only its own slices — instead of every Service of the
// namespace (or the cluster) and every slice.
//
// Keys: services, slices and pods "namespace/name"; nodes by name. Thread-safe.
#pragma once

#include <map>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"

namespace meshd::kube {

class EndpointIndex {
 public:
  // An added or updated slice: replaces what the index knew of it.
  void SetSlice(const nlohmann::json& slice);
  void DeleteSlice(const nlohmann::json& slice);

  std::set<std::string> ServicesForPod(const std::string& pod_key) const;
  std::set<std::string> ServicesForNode(const std::string& node_name) const;
  // The keys of the slices of a service.
  std::set<std::string> SlicesForService(const std::string& service_key) const;

 private:
  struct SliceRefs {
    std::string service;  // "" for a slice without the service-name label
    std::set<std::string> pods;
    std::set<std::string> nodes;
  };

  void RemoveLocked(const std::string& slice_key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::set<std::string> ServicesOfLocked(const std::set<std::string>& slice_keys) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, SliceRefs> slices_ ABSL_GUARDED_BY(mu_);
  // Reverse indexes to slice keys.
  std::map<std::string, std::set<std::string>> by_service_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::set<std::string>> by_pod_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::set<std::string>> by_node_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meshd::kube
