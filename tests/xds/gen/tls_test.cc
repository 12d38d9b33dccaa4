#include "xds/gen/tls.h"
#include "tests/xds/test_mesh.h"

#include <catch2/catch.hpp>

#include "controller/config/decoder.h"
#include "controller/config/yaml.h"
#include "controller/registry.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "xds/gen/grpc_generator.h"
#include "xds/gen/server_listener.h"

namespace meshd::xds {
namespace {

namespace tls = envoy::extensions::transport_sockets::tls::v3;
using envoy::config::cluster::v3::Cluster;
using envoy::config::listener::v3::Listener;

const char* kMesh = R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: echo, namespace: default}
spec:
  hosts: [echo.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 9000, name: grpc, protocol: GRPC}]
  endpoints:
  - {address: 10.0.0.1, labels: {app: echo}, serviceAccount: echo-sa}
)";

model::SnapshotPtr Build(const std::string& yaml) { return testing::SnapshotFromYaml(yaml); }

std::string PeerAuth(const std::string& ns, const std::string& name, const std::string& body) {
  return "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: " +
         name + ", namespace: " + ns + "}\nspec: " + body + "\n";
}

model::Proxy Server(std::map<std::string, std::string> labels = {{"app", "echo"}}) {
  model::Proxy p;
  p.id = "sidecar~10.0.0.1~echo-0.default~default.svc.cluster.local";
  p.ns = "default";
  p.generator = "grpc";
  p.labels = std::move(labels);
  return p;
}

const std::string kInbound = "xds.istio.io/grpc/lds/inbound/10.0.0.1:9000";
const std::string kCluster = "outbound|9000||echo.default.svc.cluster.local";

Listener Inbound(const model::Snapshot& snap, const model::Proxy& proxy = Server()) {
  Resources r = GrpcGenerator().Listeners(proxy, snap, {kInbound});
  REQUIRE(r.size() == 1);
  Listener l;
  REQUIRE(r[0]->any.UnpackTo(&l));
  return l;
}

Cluster OutboundCluster(const model::Snapshot& snap) {
  model::Proxy client = Server({{"app", "client"}});
  Resources r = GrpcGenerator().Clusters(client, snap, {kCluster});
  REQUIRE(r.size() == 1);
  Cluster c;
  REQUIRE(r[0]->any.UnpackTo(&c));
  return c;
}

TEST_CASE("PeerAuthentication: workload > namespace > mesh, port level, UNSET inherits", "[tls]") {
  std::map<std::string, std::string> echo = {{"app", "echo"}};
  CHECK(EffectiveMtlsMode(*Build(kMesh), "default", echo, 9000) == MtlsMode::kPermissive);
  std::string mesh = PeerAuth("istio-system", "default", "{mtls: {mode: STRICT}}");
  CHECK(EffectiveMtlsMode(*Build(kMesh + mesh), "default", echo, 9000) == MtlsMode::kStrict);
  std::string ns = PeerAuth("default", "ns", "{mtls: {mode: DISABLE}}");
  CHECK(EffectiveMtlsMode(*Build(kMesh + mesh + ns), "default", echo, 9000) == MtlsMode::kDisable);
  CHECK(EffectiveMtlsMode(*Build(kMesh + mesh + ns), "other", echo, 9000) == MtlsMode::kStrict);
  std::string wl = PeerAuth("default", "wl",
                            "{selector: {matchLabels: {app: echo}}, mtls: {mode: UNSET}, "
                            "portLevelMtls: {9000: {mode: PERMISSIVE}}}");
  auto snap = Build(kMesh + mesh + ns + wl);
  CHECK(EffectiveMtlsMode(*snap, "default", echo, 9000) == MtlsMode::kPermissive);
  CHECK(EffectiveMtlsMode(*snap, "default", echo, 9001) == MtlsMode::kDisable);  // inherits ns
  CHECK(EffectiveMtlsMode(*snap, "default", {{"app", "other"}}, 9000) == MtlsMode::kDisable);
}

TEST_CASE("inbound listener: STRICT requires client certificates from the provider", "[tls]") {
  Listener l =
      Inbound(*Build(kMesh + PeerAuth("istio-system", "default", "{mtls: {mode: STRICT}}")));
  CHECK(l.name() == kInbound);
  CHECK(l.address().socket_address().address() == "10.0.0.1");
  CHECK(l.address().socket_address().port_value() == 9000);
  REQUIRE(l.filter_chains_size() == 1);
  const auto& chain = l.filter_chains(0);
  CHECK(chain.filters(0).name() == "envoy.filters.network.http_connection_manager");
  REQUIRE(chain.has_transport_socket());
  CHECK(chain.transport_socket().name() == "envoy.transport_sockets.tls");
  tls::DownstreamTlsContext ctx;
  REQUIRE(chain.transport_socket().typed_config().UnpackTo(&ctx));
  CHECK(ctx.require_client_certificate().value());
  const auto& common = ctx.common_tls_context();
  CHECK(common.tls_certificate_provider_instance().instance_name() == "default");
  const auto& v = common.combined_validation_context().default_validation_context();
  CHECK(v.ca_certificate_provider_instance().instance_name() == "default");
  CHECK(v.match_subject_alt_names().empty());  // gRPC servers reject SAN matchers
}

TEST_CASE("inbound listener: PERMISSIVE and DISABLE serve plaintext", "[tls]") {
  CHECK_FALSE(Inbound(*Build(kMesh)).filter_chains(0).has_transport_socket());
  auto disable = Build(kMesh + PeerAuth("default", "ns", "{mtls: {mode: DISABLE}}"));
  CHECK_FALSE(Inbound(*disable).filter_chains(0).has_transport_socket());
  CHECK(GrpcGenerator().Listeners(Server(), *disable, {"xds.istio.io/grpc/lds/inbound/x"}).empty());
}

// The cluster's UpstreamTlsContext and the exact SANs it matches.
tls::UpstreamTlsContext UpstreamTls(const Cluster& c, std::vector<std::string>* sans) {
  tls::UpstreamTlsContext ctx;
  REQUIRE(c.has_transport_socket());
  REQUIRE(c.transport_socket().typed_config().UnpackTo(&ctx));
  const auto& v =
      ctx.common_tls_context().combined_validation_context().default_validation_context();
  for (const auto& m : v.match_subject_alt_names()) sans->push_back(m.exact());
  return ctx;
}

TEST_CASE("CDS: auto mTLS for STRICT destinations, with the endpoints' SPIFFE SANs", "[tls]") {
  CHECK_FALSE(OutboundCluster(*Build(kMesh)).has_transport_socket());
  const std::string strict = kMesh + PeerAuth("istio-system", "default", "{mtls: {mode: STRICT}}");
  std::vector<std::string> sans;
  tls::UpstreamTlsContext ctx = UpstreamTls(OutboundCluster(*Build(strict)), &sans);
  CHECK(sans == std::vector<std::string>{"spiffe://cluster.local/ns/default/sa/echo-sa"});
  CHECK(ctx.common_tls_context().tls_certificate_provider_instance().instance_name() == "default");

  SECTION("the SANs carry the trust domain, not the DNS domain") {
    std::vector<std::string> other;
    UpstreamTls(OutboundCluster(*testing::SnapshotFromYaml(strict, 1, "example.org")), &other);
    CHECK(other == std::vector<std::string>{"spiffe://example.org/ns/default/sa/echo-sa"});
  }
}

TEST_CASE("CDS: DestinationRule ISTIO_MUTUAL turns mTLS on, DISABLE keeps it off", "[tls]") {
  std::string dr = R"(---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: echo, namespace: default}
spec:
  host: echo
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
)";
  CHECK(OutboundCluster(*Build(kMesh + dr)).has_transport_socket());
  std::string off = dr;
  off.replace(off.find("ISTIO_MUTUAL"), 12, "DISABLE");
  CHECK_FALSE(OutboundCluster(*Build(kMesh + off +
                                     PeerAuth("istio-system", "default", "{mtls: {mode: STRICT}}")))
                  .has_transport_socket());
}

}  // namespace
}  // namespace meshd::xds
