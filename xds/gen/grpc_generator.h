// Generation of xDS resources for proxyless gRPC clients (node metadata GENERATOR=grpc), the
// way Istio's grpcgen names them:
//   LDS  "<host>:<port>"            api_listener → HttpConnectionManager (RDS over ADS)
//   RDS  "outbound|<port>||<host>"  routes from the host's VirtualService
//   CDS  "outbound|<port>|<subset>|<host>"  from the DestinationRule's traffic policy
//   EDS  same name as the cluster   endpoints by locality, filtered by subset labels
// Every resource is built to the strictest client's rules (gRPC C++ 1.51 and
// @grpc/grpc-js-xds): router filter last, no total_weight, every locality weighted, ads{}
// config sources. A pure function of (snapshot, names, and the proxy's *view*: namespace,
// labels and generator — nothing else of the proxy may influence the output, because the
// server's ResourceCache shares resources between proxies with the same view); thread-safe.
#pragma once

#include <string>
#include <vector>

#include "controller/model/proxy.h"
#include "controller/model/snapshot.h"
#include "xds/gen/generator.h"
#include "xds/gen/resource.h"

namespace meshd::xds {

struct ClusterName {
  uint32_t port = 0;
  std::string subset;
  std::string host;
};

// "outbound|9080|v1|reviews.default.svc.cluster.local"
std::string BuildClusterName(uint32_t port, const std::string& subset, const std::string& host);
bool ParseClusterName(const std::string& name, ClusterName* out);

class GrpcGenerator : public Generator {
 public:
  // Resources of `type_url` named in `names`; an empty `names` means every resource of the
  // type (wildcard), which only LDS and CDS support. Unknown names are left out.
  Resources Generate(const std::string& type_url, const model::Proxy& proxy,
                     const model::Snapshot& snapshot,
                     const std::vector<std::string>& names) const override;

  Resources Listeners(const model::Proxy& proxy, const model::Snapshot& snapshot,
                      const std::vector<std::string>& names) const;
  Resources Routes(const model::Proxy& proxy, const model::Snapshot& snapshot,
                   const std::vector<std::string>& names) const;
  Resources Clusters(const model::Proxy& proxy, const model::Snapshot& snapshot,
                     const std::vector<std::string>& names) const;
  Resources Endpoints(const model::Proxy& proxy, const model::Snapshot& snapshot,
                      const std::vector<std::string>& names) const;
};

}  // namespace meshd::xds
