// DestinationRule lookups for the generators: the effective traffic policy of one cluster
// (top level, then port-level settings, then the subset's policy and its port-level
// settings, each section replacing the one before, as in Istio), subsets, and the mapping of
// a policy onto an Envoy Cluster in the form gRPC clients accept. Thread-safe (pure).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "controller/model/proxy.h"
#include "controller/model/snapshot.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"

namespace meshd::xds {

// Pointers into the snapshot's configs; valid while the snapshot lives.
struct TrafficPolicy {
  const istio::networking::v1alpha3::LoadBalancerSettings* load_balancer = nullptr;
  const istio::networking::v1alpha3::ConnectionPoolSettings* connection_pool = nullptr;
  const istio::networking::v1alpha3::OutlierDetection* outlier_detection = nullptr;
  const istio::networking::v1alpha3::ClientTLSSettings* tls = nullptr;
};

TrafficPolicy EffectivePolicy(const model::Snapshot& snapshot, const model::Proxy& proxy,
                              const std::string& host, uint32_t port, const std::string& subset);

// Subset names of the DestinationRule that applies to `host` for this proxy.
std::vector<std::string> SubsetNames(const model::Snapshot& snapshot, const model::Proxy& proxy,
                                     const std::string& host);
// The labels of subset `subset`; false if the DestinationRule has no such subset.
bool SubsetSelector(const model::Snapshot& snapshot, const model::Proxy& proxy,
                    const std::string& host, const std::string& subset,
                    std::map<std::string, std::string>* labels);

// Load balancer, circuit breakers and outlier detection onto `cluster`.
void ApplyTrafficPolicy(const TrafficPolicy& policy, envoy::config::cluster::v3::Cluster* cluster);

// The gRPC status code for an Istio grpcStatus name; UNKNOWN if unrecognised.
uint32_t GrpcStatusCode(const std::string& name);

}  // namespace meshd::xds
