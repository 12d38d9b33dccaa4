// ToModel: the plain model form of Gateway, ServiceEntry, WorkloadEntry, Sidecar and
// PeerAuthentication, built once when DecodeObject accepts an object. Each test pins the Istio
// meaning of an unset or defaulted field (the zero value of Istio's enums), or what a reader
// needs kept as written, and decodes real YAML so the decoder's conversion is covered too.
#include "controller/config/to_model.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "controller/config/decoder.h"
#include "controller/config/yaml.h"

namespace meshd::config {
namespace {

using Labels = std::map<std::string, std::string>;

model::ConfigPtr Decode(const std::string& yaml) {
  auto docs = ParseYamlDocuments(yaml);
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  auto c = DecodeObject((*docs)[0].value, DecodeOptions{"test"});
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  return *c;
}

// The model forms by value: the decoded config is a temporary in the tests.
model::ServiceEntry Se(const model::ConfigPtr& c) {
  REQUIRE(c->AsServiceEntry() != nullptr);
  return *c->AsServiceEntry();
}

model::Sidecar Sc(const model::ConfigPtr& c) {
  REQUIRE(c->AsSidecar() != nullptr);
  return *c->AsSidecar();
}

model::Gateway Gw(const model::ConfigPtr& c) {
  REQUIRE(c->AsGateway() != nullptr);
  return *c->AsGateway();
}

model::PeerAuthentication Pa(const model::ConfigPtr& c) {
  REQUIRE(c->AsPeerAuthentication() != nullptr);
  return *c->AsPeerAuthentication();
}

// ---- ServiceEntry -----------------------------------------------------------------------

TEST_CASE(
    "ServiceEntry without resolution is NONE, without location MESH_EXTERNAL (Istio's "
    "enum zero values)",
    "[to_model]") {
  const auto se = Se(Decode(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api, namespace: ext}
spec:
  hosts: [api.example.com]
  ports: [{number: 443, name: tls, protocol: TLS}]
)"));
  CHECK(se.resolution == model::Resolution::kNone);
  CHECK(se.location == model::ServiceEntry::Location::kMeshExternal);
  CHECK_FALSE(se.workload_selector.has_value());
}

TEST_CASE("ServiceEntry resolution and location as written", "[to_model]") {
  for (auto [name, want] : std::map<std::string, model::Resolution>{
           {"NONE", model::Resolution::kNone},
           {"STATIC", model::Resolution::kStatic},
           {"DNS", model::Resolution::kDns},
           {"DNS_ROUND_ROBIN", model::Resolution::kDnsRoundRobin}}) {
    // DNS without endpoints resolves the hosts; STATIC needs endpoints.
    const auto se = Se(Decode(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: data}
spec:
  hosts: [db.internal]
  location: MESH_INTERNAL
  ports: [{number: 5432, name: tcp, protocol: TCP}]
  endpoints: [{address: 10.1.0.1}]
  resolution: )" + name));
    INFO(name);
    CHECK(se.resolution == want);
    CHECK(se.location == model::ServiceEntry::Location::kMeshInternal);
  }
}

TEST_CASE(
    "ServiceEntry keeps hosts, addresses, ports (protocol upper-cased), exportTo and "
    "subjectAltNames",
    "[to_model]") {
  const auto se = Se(Decode(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api, namespace: ext}
spec:
  hosts: [api.example.com, api2.example.com]
  addresses: [240.0.0.1]
  ports:
  - {number: 80, name: http, protocol: http, targetPort: 8080}
  - {number: 443, name: https, protocol: HTTPS}
  resolution: DNS
  exportTo: [".", "istio-system"]
  subjectAltNames: ["spiffe://cluster.local/ns/ext/sa/api"]
)"));
  CHECK(se.hosts == std::vector<std::string>{"api.example.com", "api2.example.com"});
  CHECK(se.addresses == std::vector<std::string>{"240.0.0.1"});
  REQUIRE(se.ports.size() == 2);
  CHECK(se.ports[0] == model::Port{80, "HTTP", "http", 8080});
  CHECK(se.ports[1] == model::Port{443, "HTTPS", "https", 0});
  CHECK(se.export_to == std::vector<std::string>{".", "istio-system"});
  CHECK(se.subject_alt_names == std::vector<std::string>{"spiffe://cluster.local/ns/ext/sa/api"});
  CHECK(se.endpoints.empty());
}

TEST_CASE(
    "ServiceEntry inline endpoints keep their port map, labels, locality, network and "
    "weight; an unset weight stays 0 (the registry reads it as 1)",
    "[to_model]") {
  const auto se = Se(Decode(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: vms, namespace: default}
spec:
  hosts: [vms.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints:
  - address: 10.0.0.1
    ports: {http: 8080}
    labels: {app: vm, version: v1}
    locality: us-east/zone-a
    network: net-1
    weight: 3
    serviceAccount: vm-sa
  - address: 10.0.0.2
)"));
  REQUIRE(se.endpoints.size() == 2);
  const model::WorkloadEntry& a = se.endpoints[0];
  CHECK(a.address == "10.0.0.1");
  CHECK(a.ports == std::map<std::string, uint32_t>{{"http", 8080}});
  CHECK(a.labels == Labels{{"app", "vm"}, {"version", "v1"}});
  CHECK(a.locality == "us-east/zone-a");
  CHECK(a.network == "net-1");
  CHECK(a.weight == 3);
  CHECK(a.service_account == "vm-sa");
  const model::WorkloadEntry& b = se.endpoints[1];
  CHECK(b.address == "10.0.0.2");
  CHECK(b.ports.empty());
  CHECK(b.weight == 0);
  CHECK(b.service_account.empty());
}

TEST_CASE("ServiceEntry workloadSelector selects WorkloadEntries by labels", "[to_model]") {
  const auto se = Se(Decode(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: vms, namespace: default}
spec:
  hosts: [vms.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  workloadSelector: {labels: {app: vm}}
)"));
  REQUIRE(se.workload_selector.has_value());
  CHECK(*se.workload_selector == Labels{{"app", "vm"}});
}

// ---- WorkloadEntry ----------------------------------------------------------------------

TEST_CASE(
    "WorkloadEntry keeps address, ports, labels, locality, network, weight and "
    "serviceAccount",
    "[to_model]") {
  model::ConfigPtr c = Decode(R"(
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-1, namespace: default}
spec:
  address: 10.0.0.7
  ports: {http: 8081}
  labels: {app: vm}
  locality: eu-west/zone-b
  network: net-2
  weight: 5
  serviceAccount: vm-sa
)");
  REQUIRE(c->AsWorkloadEntry() != nullptr);
  const model::WorkloadEntry& we = *c->AsWorkloadEntry();
  CHECK(we.address == "10.0.0.7");
  CHECK(we.ports == std::map<std::string, uint32_t>{{"http", 8081}});
  CHECK(we.labels == Labels{{"app", "vm"}});
  CHECK(we.locality == "eu-west/zone-b");
  CHECK(we.network == "net-2");
  CHECK(we.weight == 5);
  CHECK(we.service_account == "vm-sa");
}

// ---- Gateway ----------------------------------------------------------------------------

TEST_CASE(
    "Gateway server without tls is plain text; tls without mode is PASSTHROUGH (Istio's "
    "TLSmode zero value)",
    "[to_model]") {
  const auto gw = Gw(Decode(R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 443, name: tls-pass, protocol: TLS}
    hosts: ["shop/*.example.com"]
    tls: {}
)"));
  CHECK(gw.selector == Labels{{"istio", "ingressgateway"}});
  REQUIRE(gw.servers.size() == 2);
  CHECK(gw.servers[0].port == model::Port{80, "HTTP", "http", 0});
  CHECK(gw.servers[0].hosts == std::vector<std::string>{"*"});
  CHECK_FALSE(gw.servers[0].tls.has_value());
  REQUIRE(gw.servers[1].tls.has_value());
  CHECK(gw.servers[1].tls->mode == model::ServerTls::Mode::kPassthrough);
  CHECK(gw.servers[1].hosts == std::vector<std::string>{"shop/*.example.com"});  // as written
}

TEST_CASE("Gateway server TLS keeps mode, credentialName, files and httpsRedirect", "[to_model]") {
  const auto gw = Gw(Decode(R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [shop.example.com]
    tls: {httpsRedirect: true}
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: shop-cert}
  - port: {number: 8443, name: mtls, protocol: HTTPS}
    hosts: [api.example.com]
    tls:
      mode: MUTUAL
      serverCertificate: /etc/certs/cert.pem
      privateKey: /etc/certs/key.pem
      caCertificates: /etc/certs/ca.pem
  - port: {number: 9443, name: optional, protocol: HTTPS}
    hosts: [opt.example.com]
    tls: {mode: OPTIONAL_MUTUAL, credentialName: opt}
  - port: {number: 15443, name: tls, protocol: TLS}
    hosts: ["*.local"]
    tls: {mode: AUTO_PASSTHROUGH}
  - port: {number: 15012, name: istio, protocol: TLS}
    hosts: ["*"]
    tls: {mode: ISTIO_MUTUAL}
)"));
  using Mode = model::ServerTls::Mode;
  REQUIRE(gw.servers.size() == 6);
  REQUIRE(gw.servers[0].tls.has_value());
  CHECK(gw.servers[0].tls->https_redirect);
  const model::ServerTls& simple = *gw.servers[1].tls;
  CHECK(simple.mode == Mode::kSimple);
  CHECK(simple.credential_name == "shop-cert");
  CHECK_FALSE(simple.https_redirect);
  const model::ServerTls& mutual = *gw.servers[2].tls;
  CHECK(mutual.mode == Mode::kMutual);
  CHECK(mutual.server_certificate == "/etc/certs/cert.pem");
  CHECK(mutual.private_key == "/etc/certs/key.pem");
  CHECK(mutual.ca_certificates == "/etc/certs/ca.pem");
  CHECK(gw.servers[3].tls->mode == Mode::kOptionalMutual);
  CHECK(gw.servers[4].tls->mode == Mode::kAutoPassthrough);
  CHECK(gw.servers[5].tls->mode == Mode::kIstioMutual);
}

// ---- Sidecar ----------------------------------------------------------------------------

TEST_CASE(
    "Sidecar egress hosts split into namespace and host; './*' keeps '.' for the "
    "namespace of the workload it applies to",
    "[to_model]") {
  const auto sc = Sc(Decode(R"(
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: istio-system}
spec:
  egress:
  - hosts: ["./*", "istio-system/*", "*/api.example.com", "~/*"]
)"));
  REQUIRE(sc.egress.size() == 1);
  const auto& hosts = sc.egress[0].hosts;
  REQUIRE(hosts.size() == 4);
  CHECK((hosts[0].ns == "." && hosts[0].host == "*"));
  CHECK((hosts[1].ns == "istio-system" && hosts[1].host == "*"));
  CHECK((hosts[2].ns == "*" && hosts[2].host == "api.example.com"));
  CHECK((hosts[3].ns == "~" && hosts[3].host == "*"));
  CHECK_FALSE(sc.workload_selector.has_value());  // the namespace's (here: the mesh) default
  CHECK_FALSE(sc.outbound_traffic_policy.has_value());
}

TEST_CASE(
    "Sidecar egress listener without port is the catch-all; with one, its port, bind and "
    "captureMode",
    "[to_model]") {
  const auto sc = Sc(Decode(R"(
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: ratings, namespace: shop}
spec:
  workloadSelector: {labels: {app: ratings}}
  egress:
  - port: {number: 3306, protocol: MYSQL, name: mysql}
    bind: 127.0.0.1
    captureMode: NONE
    hosts: ["*/mysql.example.com"]
  - hosts: ["./*"]
)"));
  REQUIRE(sc.workload_selector.has_value());
  CHECK(*sc.workload_selector == Labels{{"app", "ratings"}});
  REQUIRE(sc.egress.size() == 2);
  REQUIRE(sc.egress[0].port.has_value());
  CHECK(*sc.egress[0].port == model::Port{3306, "MYSQL", "mysql", 0});
  CHECK(sc.egress[0].bind == "127.0.0.1");
  CHECK(sc.egress[0].capture_mode == model::CaptureMode::kNone);
  CHECK_FALSE(sc.egress[1].port.has_value());
  CHECK(sc.egress[1].capture_mode == model::CaptureMode::kDefault);
}

TEST_CASE("Sidecar outboundTrafficPolicy without mode is REGISTRY_ONLY (Istio's zero value)",
          "[to_model]") {
  auto policy = [](const std::string& yaml_policy) {
    return Sc(Decode(R"(
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  outboundTrafficPolicy: )" +
                     yaml_policy))
        .outbound_traffic_policy;
  };
  CHECK(policy("{}") == model::Sidecar::OutboundMode::kRegistryOnly);
  CHECK(policy("{mode: REGISTRY_ONLY}") == model::Sidecar::OutboundMode::kRegistryOnly);
  CHECK(policy("{mode: ALLOW_ANY}") == model::Sidecar::OutboundMode::kAllowAny);
}

TEST_CASE("Sidecar ingress listeners keep port, bind, captureMode, defaultEndpoint and tls",
          "[to_model]") {
  const auto sc = Sc(Decode(R"(
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: web, namespace: shop}
spec:
  workloadSelector: {labels: {app: web}}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: http}
    defaultEndpoint: 127.0.0.1:8080
  - port: {number: 8443, protocol: HTTPS, name: https}
    bind: 0.0.0.0
    captureMode: IPTABLES
    defaultEndpoint: 0.0.0.0:8443
    tls:
      mode: SIMPLE
      serverCertificate: /etc/certs/web.pem
      privateKey: /etc/certs/web-key.pem
)"));
  REQUIRE(sc.ingress.size() == 2);
  const auto& http = sc.ingress[0];
  REQUIRE(http.port.has_value());
  CHECK(*http.port == model::Port{9080, "HTTP", "http", 0});
  CHECK(http.default_endpoint == "127.0.0.1:8080");
  CHECK(http.capture_mode == model::CaptureMode::kDefault);
  CHECK_FALSE(http.tls.has_value());  // mesh mTLS by PeerAuthentication
  const auto& https = sc.ingress[1];
  CHECK(https.bind == "0.0.0.0");
  CHECK(https.capture_mode == model::CaptureMode::kIptables);
  REQUIRE(https.tls.has_value());
  CHECK(https.tls->mode == model::ServerTls::Mode::kSimple);
  CHECK(https.tls->server_certificate == "/etc/certs/web.pem");
  CHECK(https.tls->private_key == "/etc/certs/web-key.pem");
  CHECK(sc.egress.empty());
}

TEST_CASE("Port protocols are case-insensitive, as istiod's protocol.Parse: http is HTTP",
          "[to_model]") {
  const auto sc = Sc(Decode(R"(
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: web, namespace: shop}
spec:
  workloadSelector: {labels: {app: web}}
  ingress:
  - port: {number: 9080, protocol: http, name: web}
    defaultEndpoint: 127.0.0.1:8080
  egress:
  - port: {number: 9090, protocol: grpc, name: api}
    hosts: ["./*"]
)"));
  REQUIRE(sc.ingress.size() == 1);
  REQUIRE(sc.ingress[0].port.has_value());
  CHECK(sc.ingress[0].port->protocol == "HTTP");
  REQUIRE(sc.egress.size() == 1);
  REQUIRE(sc.egress[0].port.has_value());
  CHECK(sc.egress[0].port->protocol == "GRPC");
}

// ---- PeerAuthentication -----------------------------------------------------------------

TEST_CASE("PeerAuthentication without mtls is UNSET: it inherits the namespace or mesh mode",
          "[to_model]") {
  const auto pa = Pa(Decode(R"(
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
)"));
  CHECK(pa.mode == model::PeerAuthentication::Mode::kUnset);
  CHECK_FALSE(pa.selector.has_value());
  CHECK_FALSE(pa.SelectsWorkloads());
  CHECK(pa.port_level_mtls.empty());
}

TEST_CASE("PeerAuthentication with an empty selector is namespace-wide, as without one",
          "[to_model]") {
  const auto pa = Pa(Decode(R"(
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec:
  selector: {matchLabels: {}}
  mtls: {mode: STRICT}
)"));
  CHECK(pa.mode == model::PeerAuthentication::Mode::kStrict);
  CHECK(pa.selector.has_value());
  CHECK_FALSE(pa.SelectsWorkloads());
}

TEST_CASE(
    "PeerAuthentication portLevelMtls overrides the workload mode for that port (UNSET "
    "there inherits the workload mode)",
    "[to_model]") {
  using Mode = model::PeerAuthentication::Mode;
  const auto pa = Pa(Decode(R"(
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: ratings, namespace: shop}
spec:
  selector: {matchLabels: {app: ratings}}
  mtls: {mode: STRICT}
  portLevelMtls:
    "8080": {mode: DISABLE}
    "9090": {mode: PERMISSIVE}
    "9091": {}
)"));
  CHECK(pa.SelectsWorkloads());
  CHECK(*pa.selector == Labels{{"app", "ratings"}});
  CHECK(pa.mode == Mode::kStrict);
  CHECK(pa.port_level_mtls == std::map<uint32_t, Mode>{{8080, Mode::kDisable},
                                                       {9090, Mode::kPermissive},
                                                       {9091, Mode::kUnset}});
}

// ---- The decoder's one conversion -------------------------------------------------------

TEST_CASE("every kind a reader uses gets its model form at decode time; the others none",
          "[to_model]") {
  struct Case {
    model::Kind kind;
    std::string yaml;
  };
  std::vector<Case> cases = {
      {model::Kind::kVirtualService,
       "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: a}\n"
       "spec: {hosts: [a], http: [{route: [{destination: {host: a}}]}]}"},
      {model::Kind::kDestinationRule,
       "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: a}\n"
       "spec: {host: a}"},
      {model::Kind::kGateway,
       "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: a}\n"
       "spec: {servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]}"},
      {model::Kind::kServiceEntry,
       "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a}\n"
       "spec: {hosts: [a.example.com], ports: [{number: 80, name: http}], resolution: DNS}"},
      {model::Kind::kWorkloadEntry,
       "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: a}\n"
       "spec: {address: 10.0.0.1}"},
      {model::Kind::kSidecar,
       "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: a}\n"
       "spec: {egress: [{hosts: ['./*']}]}"},
      {model::Kind::kPeerAuthentication,
       "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: a}\n"},
      {model::Kind::kAuthorizationPolicy,
       "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a}\n"},
      {model::Kind::kRequestAuthentication,
       "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: a}\n"},
      {model::Kind::kEnvoyFilter,
       "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: a}\n"},
  };
  for (const Case& k : cases) {
    model::ConfigPtr c = Decode(k.yaml);
    INFO(c->key.ToString());
    CHECK(c->key.kind == k.kind);
    CHECK((c->AsVirtualService() != nullptr) == (k.kind == model::Kind::kVirtualService));
    CHECK((c->AsDestinationRule() != nullptr) == (k.kind == model::Kind::kDestinationRule));
    CHECK((c->AsGateway() != nullptr) == (k.kind == model::Kind::kGateway));
    CHECK((c->AsServiceEntry() != nullptr) == (k.kind == model::Kind::kServiceEntry));
    CHECK((c->AsWorkloadEntry() != nullptr) == (k.kind == model::Kind::kWorkloadEntry));
    CHECK((c->AsSidecar() != nullptr) == (k.kind == model::Kind::kSidecar));
    CHECK((c->AsPeerAuthentication() != nullptr) == (k.kind == model::Kind::kPeerAuthentication));
    CHECK((c->AsAuthorizationPolicy() != nullptr) == (k.kind == model::Kind::kAuthorizationPolicy));
    CHECK((c->AsRequestAuthentication() != nullptr) ==
          (k.kind == model::Kind::kRequestAuthentication));
    if (k.kind == model::Kind::kEnvoyFilter) {
      CHECK(std::holds_alternative<std::monostate>(c->model));
    }
  }
}

TEST_CASE("ToModel(kind, spec) refuses a message of another kind instead of casting it",
          "[to_model]") {
  istio::networking::v1alpha3::ServiceEntry se;
  se.add_hosts("api.example.com");
  // A ServiceEntry message handed over as a Sidecar, a Gateway or a PeerAuthentication.
  CHECK(std::holds_alternative<std::monostate>(ToModel(model::Kind::kSidecar, se)));
  CHECK(std::holds_alternative<std::monostate>(ToModel(model::Kind::kGateway, se)));
  CHECK(std::holds_alternative<std::monostate>(ToModel(model::Kind::kPeerAuthentication, se)));
  model::ConfigModel right = ToModel(model::Kind::kServiceEntry, se);
  REQUIRE(std::holds_alternative<model::ServiceEntry>(right));
  CHECK(std::get<model::ServiceEntry>(right).hosts == std::vector<std::string>{"api.example.com"});
}

}  // namespace
}  // namespace meshd::config
