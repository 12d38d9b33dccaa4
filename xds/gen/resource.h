// A generated xDS resource: its name, its serialized form, packed once, and the config objects
// it was built from (its origins, so that a NACK of it is attributed to them). Shared between
// connections by pointer; immutable. OriginSet collects origins during generation (not
// thread-safe: one per resource being built).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/model/config.h"
#include "controller/model/service.h"
#include "google/protobuf/any.pb.h"

namespace meshd::xds {

inline constexpr char kListenerType[] = "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr char kRouteType[] = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr char kClusterType[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr char kEndpointType[] =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

// Types istio-agent asks istiod for besides the four above. meshd answers NDS, PCDS, ECDS and
// SDS (empty where it has nothing), so no request stays pending; HealthInfo is a report the
// agent sends and istiod never answers.
inline constexpr char kSecretType[] =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
inline constexpr char kExtensionConfigType[] =
    "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig";
inline constexpr char kNameTableType[] = "type.googleapis.com/istio.networking.nds.v1.NameTable";
inline constexpr char kProxyConfigType[] = "type.googleapis.com/istio.mesh.v1alpha1.ProxyConfig";
inline constexpr char kHealthInfoType[] = "type.googleapis.com/istio.v1.HealthInformation";

// The config objects a resource was built from: sorted, unique, immutable, shared by pointer
// (every connection holding the resource shares one copy). Empty: the generator recorded that
// no config object shaped it (registry or mesh config alone); null: nothing was recorded (a
// fixed resource such as BlackHoleCluster, or a generator that records none), and readers
// fall back to what the name says.
using Origins = std::shared_ptr<const std::vector<model::ConfigKey>>;

struct Resource {
  std::string name;
  google::protobuf::Any any;
  uint64_t hash = 0;  // of name and serialized value; equal hashes mean an unchanged resource
  Origins origins;    // not part of `hash`: they explain the resource, they are not sent
};

// Collects the origins of one resource while it is built; Build() sorts and shares them.
class OriginSet {
 public:
  void Add(const model::Config* config) {
    if (config != nullptr) keys_.push_back(config->key);
  }
  void Add(const model::ConfigPtr& config) { Add(config.get()); }
  void Add(const model::ConfigKey& key) { keys_.push_back(key); }
  void Add(const Origins& origins) {
    if (origins != nullptr) keys_.insert(keys_.end(), origins->begin(), origins->end());
  }
  // The ServiceEntry a registry service was made from (nothing for a Kubernetes Service).
  void AddServiceOrigin(const model::Service* service);
  bool empty() const { return keys_.empty(); }
  // Sorted and unique; empty (one shared empty set, never null) when nothing was added.
  Origins Build() const;

 private:
  std::vector<model::ConfigKey> keys_;
};

// The ServiceEntry behind a registry service (Service::origin "ServiceEntry/<ns>/<name>").
std::optional<model::ConfigKey> ServiceEntryOf(const model::Service& service);

using ResourcePtr = std::shared_ptr<const Resource>;
using Resources = std::vector<ResourcePtr>;

// Short name of a type URL for logs and metrics: "lds", "rds", "cds", "eds", or the URL.
std::string ShortType(const std::string& type_url);

}  // namespace meshd::xds
