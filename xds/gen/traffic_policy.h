// DestinationRule lookups for the generators: the effective traffic policy of one cluster
// (top level, then port-level settings, then the subset's policy and its port-level
// settings, each section replacing the one before, as in Istio), subsets, and the mapping of
// a policy onto an Envoy Cluster in the form gRPC clients accept. Thread-safe (pure).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "controller/model/networking.h"
#include "controller/model/proxy.h"
#include "controller/model/snapshot.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/type/v3/percent.pb.h"
#include "xds/gen/resource.h"

namespace meshd::xds {

// Pointers into the snapshot's configs (model structs); valid while the snapshot lives.
struct TrafficPolicy {
  const model::LoadBalancer* load_balancer = nullptr;
  const model::ConnectionPool* connection_pool = nullptr;
  const model::OutlierDetection* outlier_detection = nullptr;
  const model::ClientTls* tls = nullptr;
};

TrafficPolicy EffectivePolicy(const model::Snapshot& snapshot, const model::Proxy& proxy,
                              const std::string& host, uint32_t port, const std::string& subset);

// The origins of a cluster or its endpoints for `host`: the DestinationRule that applies to it
// for this proxy (traffic policy, subsets, TLS) and the ServiceEntry behind the service.
Origins DestinationOrigins(const model::Snapshot& snapshot, const model::Proxy& proxy,
                           const std::string& host);

// Subset names of the DestinationRule that applies to `host` for this proxy.
std::vector<std::string> SubsetNames(const model::Snapshot& snapshot, const model::Proxy& proxy,
                                     const std::string& host);
// The labels of subset `subset`; false if the DestinationRule has no such subset.
bool SubsetSelector(const model::Snapshot& snapshot, const model::Proxy& proxy,
                    const std::string& host, const std::string& subset,
                    std::map<std::string, std::string>* labels);

// Load balancer, circuit breakers and outlier detection onto `cluster`, in the form gRPC
// clients accept (ROUND_ROBIN or RING_HASH only).
void ApplyTrafficPolicy(const TrafficPolicy& policy, envoy::config::cluster::v3::Cluster* cluster);

// Circuit breakers / connect timeout, and outlier detection, as both Envoy and gRPC read them.
void ApplyConnectionPool(const model::ConnectionPool* pool,
                         envoy::config::cluster::v3::Cluster* cluster);
void ApplyOutlierDetection(const model::OutlierDetection* od,
                           envoy::config::cluster::v3::Cluster* cluster);

// The port a route destination means: its own, else the request's port when the service has
// it, else the service's only port (Istio's rule for a destination without a port).
uint32_t DestinationPort(const model::Destination& d, const model::Service* svc, uint32_t port);

// A 0..100 percentage as Envoy's parts per million.
envoy::type::v3::FractionalPercent PerMillion(double percent);
// A VirtualService fault as the fault filter's per-route config (Envoy and gRPC read the same).
envoy::extensions::filters::http::fault::v3::HTTPFault BuildFault(const model::Fault& fault);

// absl::Duration → google.protobuf.Duration.
google::protobuf::Duration DurationProto(absl::Duration d);

// The gRPC status code for an Istio grpcStatus name; UNKNOWN if unrecognised.
uint32_t GrpcStatusCode(const std::string& name);

}  // namespace meshd::xds
