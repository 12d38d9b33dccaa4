#include "xds/gen/server_listener.h"

#include "tests/xds/test_mesh.h"

#include <catch2/catch.hpp>

#include <algorithm>

namespace meshd::xds {
namespace {

TEST_CASE("inbound listener names", "[server_listener]") {
  std::string ip;
  uint32_t port = 0;
  REQUIRE(ParseInboundListenerName("xds.istio.io/grpc/lds/inbound/10.0.0.1:8080", &ip, &port));
  CHECK(ip == "10.0.0.1");
  CHECK(port == 8080);
  REQUIRE(ParseInboundListenerName("xds.istio.io/grpc/lds/inbound/[::1]:9000", &ip, &port));
  CHECK(ip == "::1");
  CHECK_FALSE(ParseInboundListenerName("xds.istio.io/grpc/lds/inbound/10.0.0.1", &ip, &port));
  CHECK_FALSE(ParseInboundListenerName("xds.istio.io/grpc/lds/inbound/:80", &ip, &port));
  CHECK_FALSE(ParseInboundListenerName("xds.istio.io/grpc/lds/inbound/a:0", &ip, &port));
  CHECK_FALSE(ParseInboundListenerName("echo:9000", &ip, &port));
}

TEST_CASE(
    "A gRPC server listener records the PeerAuthentication and AuthorizationPolicies "
    "that select the workload",
    "[server_listener][origins]") {
  auto snap = testing::SnapshotFromYaml(R"(
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: echo, namespace: default}
spec:
  selector: {matchLabels: {app: echo}}
  rules: [{from: [{source: {namespaces: [default]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: other, namespace: default}
spec:
  selector: {matchLabels: {app: other}}
  rules: [{from: [{source: {namespaces: [default]}}]}]
)");
  model::Proxy p;
  p.id = "sidecar~10.0.0.5~echo.default~default.svc.cluster.local";
  p.ns = "default";
  p.generator = "grpc";
  p.labels = {{"app", "echo"}};
  Resources r = ServerListeners(p, *snap, {"xds.istio.io/grpc/lds/inbound/10.0.0.5:8080"});
  REQUIRE(r.size() == 1);
  REQUIRE(r[0]->origins != nullptr);
  std::vector<std::string> origins;
  for (const auto& k : *r[0]->origins) origins.push_back(k.ToString());
  std::sort(origins.begin(), origins.end());
  CHECK(origins == std::vector<std::string>{"AuthorizationPolicy/default/echo",
                                            "PeerAuthentication/istio-system/default"});
}

}  // namespace
}  // namespace meshd::xds
