// Test fixture shared by the Envoy generator tests: Bookinfo as ServiceEntries (reviews
// v1/v2/v3 with v3 not injected, ratings, details, productpage, mysql in namespace db, an
// egress ServiceEntry for edition.cnn.com) with the reviews subsets, an ingress gateway, the
// proxies under test, and everything a proxy would hold once warm.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "xds/gen/envoy_generator.h"

namespace meshd::testing {

inline const char* kBookinfoServices = R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews.default.svc.cluster.local]
  addresses: [10.0.0.10]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 9080, name: http, protocol: HTTP}]
  endpoints:
  - {address: 10.1.0.11, labels: {app: reviews, version: v1, security.istio.io/tlsMode: istio}, serviceAccount: bookinfo-reviews, locality: us/east/a}
  - {address: 10.1.0.12, labels: {app: reviews, version: v2, security.istio.io/tlsMode: istio}, serviceAccount: bookinfo-reviews, locality: us/east/b}
  - {address: 10.1.0.13, labels: {app: reviews, version: v3}, serviceAccount: bookinfo-reviews, locality: eu/west/a}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings.default.svc.cluster.local]
  addresses: [10.0.0.11]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 9080, name: http, protocol: HTTP}]
  endpoints:
  - {address: 10.1.0.21, labels: {app: ratings, security.istio.io/tlsMode: istio}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: productpage, namespace: default}
spec:
  hosts: [productpage.default.svc.cluster.local]
  addresses: [10.0.0.12]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 9080, name: http, protocol: HTTP}]
  endpoints:
  - {address: 10.1.0.1, labels: {app: productpage, security.istio.io/tlsMode: istio}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: details, namespace: default}
spec:
  hosts: [details.default.svc.cluster.local]
  addresses: [10.0.0.13]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 9080, name: http, protocol: HTTP}]
  endpoints:
  - {address: 10.1.0.31, labels: {app: details, security.istio.io/tlsMode: istio}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: mysql, namespace: db}
spec:
  hosts: [mysql.db.svc.cluster.local]
  addresses: [10.0.0.20]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 3306, name: tcp, protocol: TCP}]
  endpoints:
  - {address: 10.1.0.41, labels: {app: mysql}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: cnn, namespace: default}
spec:
  hosts: [edition.cnn.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 443, name: tls, protocol: TLS}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
)";

// The ingress gateway (Service ports 80→8080, 443→8443) and a Gateway with an HTTP server for
// every host and an HTTPS server for bookinfo.example.com by credentialName.
inline const char* kIngressGateway = R"(
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  hosts: [istio-ingressgateway.istio-system.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 80, name: http2, protocol: HTTP2, targetPort: 8080}
  - {number: 443, name: https, protocol: HTTPS, targetPort: 8443}
  endpoints:
  - {address: 10.2.0.1, labels: {istio: ingressgateway}}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [bookinfo.example.com]
    tls: {mode: SIMPLE, credentialName: bookinfo-cert}
)";

// productpage's sidecar (10.1.0.1, namespace default).
inline model::Proxy ProductpageSidecar() {
  model::Proxy p;
  model::ParseNodeId("sidecar~10.1.0.1~productpage-v1-abc.default~default.svc.cluster.local", &p);
  p.ips = {"10.1.0.1"};
  p.labels = {{"app", "productpage"}};
  return p;
}

inline model::Proxy IngressGateway() {
  model::Proxy p;
  model::ParseNodeId(
      "router~10.2.0.1~istio-ingressgateway-abc.istio-system~istio-system.svc.cluster.local", &p);
  p.ips = {"10.2.0.1"};
  p.labels = {{"istio", "ingressgateway"}};
  return p;
}

// Everything the proxy would hold once warm: LDS and CDS (shared and own parts), every RDS
// name its listeners reference and every EDS cluster's assignment.
inline xds::Resources FullConfig(const xds::EnvoyGenerator& gen, const model::Proxy& proxy,
                                 const model::Snapshot& snap) {
  namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
  xds::Resources all = gen.Generate(xds::kListenerType, proxy, snap, {});
  xds::Resources own = gen.GenerateOwn(xds::kListenerType, proxy, snap);
  all.insert(all.end(), own.begin(), own.end());
  std::vector<std::string> rds, eds;
  for (const auto& r : all) {
    envoy::config::listener::v3::Listener l;
    REQUIRE(r->any.UnpackTo(&l));
    for (const auto& fc : l.filter_chains()) {
      for (const auto& f : fc.filters()) {
        hcm::HttpConnectionManager m;
        if (f.typed_config().UnpackTo(&m) && m.has_rds()) {
          rds.push_back(m.rds().route_config_name());
        }
      }
    }
  }
  xds::Resources clusters = gen.Generate(xds::kClusterType, proxy, snap, {});
  xds::Resources own_clusters = gen.GenerateOwn(xds::kClusterType, proxy, snap);
  clusters.insert(clusters.end(), own_clusters.begin(), own_clusters.end());
  for (const auto& r : clusters) {
    envoy::config::cluster::v3::Cluster c;
    REQUIRE(r->any.UnpackTo(&c));
    if (c.type() == envoy::config::cluster::v3::Cluster::EDS) eds.push_back(r->name);
  }
  std::sort(rds.begin(), rds.end());
  rds.erase(std::unique(rds.begin(), rds.end()), rds.end());
  for (const auto& r : {gen.Generate(xds::kRouteType, proxy, snap, rds), clusters,
                        gen.Generate(xds::kEndpointType, proxy, snap, eds)}) {
    all.insert(all.end(), r.begin(), r.end());
  }
  return all;
}

}  // namespace meshd::testing
