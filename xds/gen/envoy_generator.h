// Generation of xDS resources for Envoy sidecars (istio-proxy), named as istiod names them so
// istioctl, dashboards and runbooks keep working:
//   LDS  "virtualOutbound" 0.0.0.0:15001 (use_original_dst; passthrough or blackhole catch-all)
//        "virtualInbound"  0.0.0.0:15006 (original_dst + tls_inspector; per workload port:
//                          mTLS / plaintext chains by PeerAuthentication mode)
//        "0.0.0.0_<port>"  HTTP services' port: HCM with RDS "<port>"
//        "<vip>_<port>"    TCP service with a VIP (else "0.0.0.0_<port>"): tcp_proxy
//   RDS  "<port>"          virtual hosts "<host>:<port>" from VirtualServices (or a default
//                          route), plus "allow_any" / "block_all" for unknown hosts
//   CDS  "outbound|<port>|<subset>|<host>" (EDS, DNS or ORIGINAL_DST), "inbound|<port>||",
//        "PassthroughCluster", "BlackHoleCluster", "InboundPassthroughCluster"
//   EDS  ClusterLoadAssignment per outbound cluster: locality priorities from the proxy's
//        locality, endpoint metadata `tlsMode` for auto mTLS
// DestinationRules apply as Envoy reads them (LEAST_REQUEST by default, consistent hash,
// connection pool, outlier detection, TLS modes, auto mTLS via transport_socket_matches with
// SDS "default"/"ROOTCA" from the agent's "sds-grpc" cluster).
//
// Generate depends only on the proxy's view (see generator.h); the inbound side (listener
// virtualInbound and the inbound|<port>|| clusters), built from the endpoints at the proxy's
// IP, comes from GenerateOwn, as does NDS (name_table.h: it depends on the proxy's DNS-capture
// metadata). Thread-safe (pure, apart from the secret access checker, itself thread-safe).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "controller/model/proxy.h"
#include "controller/model/secret_access.h"
#include "controller/model/snapshot.h"
#include "xds/gen/generator.h"
#include "xds/gen/resource.h"

namespace meshd::xds {

inline constexpr char kVirtualOutbound[] = "virtualOutbound";
inline constexpr char kVirtualInbound[] = "virtualInbound";
inline constexpr char kPassthroughCluster[] = "PassthroughCluster";
inline constexpr char kBlackHoleCluster[] = "BlackHoleCluster";
inline constexpr char kInboundPassthroughCluster[] = "InboundPassthroughCluster";
inline constexpr char kSdsCluster[] = "sds-grpc";
inline constexpr uint32_t kOutboundPort = 15001;
inline constexpr uint32_t kInboundPort = 15006;

// "inbound|9080||"
std::string InboundClusterName(uint32_t port);
// Istio's SNI for mesh mTLS to a cluster: "outbound_.9080_.v1_.reviews.default.svc.cluster.local"
std::string IstioSni(uint32_t port, const std::string& subset, const std::string& host);

class EnvoyGenerator : public Generator {
 public:
  // Who may be sent a Gateway's credentialName secrets (SDS "kubernetes://<name>"). Unset:
  // a gateway gets the secrets of its own namespace (file mode). Before serving.
  void SetSecretAccessChecker(std::shared_ptr<model::SecretAccessChecker> checker) {
    secret_access_ = std::move(checker);
  }

  Resources Generate(const std::string& type_url, const model::Proxy& proxy,
                     const model::Snapshot& snapshot,
                     const std::vector<std::string>& names) const override;
  Resources GenerateOwn(const std::string& type_url, const model::Proxy& proxy,
                        const model::Snapshot& snapshot) const override;

  // The parts, for tests and benchmarks.
  Resources OutboundListeners(const model::Proxy& proxy, const model::Snapshot& snapshot) const;
  Resources InboundListener(const model::Proxy& proxy, const model::Snapshot& snapshot) const;
  Resources Routes(const model::Proxy& proxy, const model::Snapshot& snapshot,
                   const std::vector<std::string>& names) const;
  Resources OutboundClusters(const model::Proxy& proxy, const model::Snapshot& snapshot) const;
  Resources InboundClusters(const model::Proxy& proxy, const model::Snapshot& snapshot) const;
  Resources Endpoints(const model::Proxy& proxy, const model::Snapshot& snapshot,
                      const std::vector<std::string>& names) const;

 private:
  std::shared_ptr<model::SecretAccessChecker> secret_access_;
};

}  // namespace meshd::xds
