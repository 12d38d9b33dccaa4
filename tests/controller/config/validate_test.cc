// The validation rules istiod applies to each kind, one case per rule, each asserting the exact
// message and field path meshd reports. Objects go through DecodeObject, as they do in meshd.
#include "controller/config/validate.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/config/decoder.h"
#include "controller/config/yaml.h"

namespace meshd::config {
namespace {

// Decodes `spec` (YAML, indented by two) as an object of `api_version`/`kind` named x in
// namespace ns; returns "" when accepted, else the error after "<Kind> ns/x: ".
std::string Check(const std::string& api_version, const std::string& kind,
                  const std::string& spec) {
  std::string yaml = absl::StrCat("apiVersion: ", api_version, "\nkind: ", kind,
                                  "\nmetadata: {name: x, namespace: ns}\nspec:\n", spec);
  auto docs = ParseYamlDocuments(yaml);
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  auto c = DecodeObject((*docs)[0].value, DecodeOptions{"test"});
  if (c.ok()) return "";
  std::string prefix = absl::StrCat(kind, " ns/x: ");
  std::string message(c.status().message());
  REQUIRE(message.rfind(prefix, 0) == 0);
  return message.substr(prefix.size());
}

// The warnings an accepted object carries, "; "-joined ("refused: ..." when it is refused).
std::string Warnings(const std::string& api_version, const std::string& kind,
                     const std::string& spec) {
  std::string yaml = absl::StrCat("apiVersion: ", api_version, "\nkind: ", kind,
                                  "\nmetadata: {name: x, namespace: ns}\nspec:\n", spec);
  auto docs = ParseYamlDocuments(yaml);
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  auto c = DecodeObject((*docs)[0].value, DecodeOptions{"test"});
  if (!c.ok()) return absl::StrCat("refused: ", c.status().message());
  return absl::StrJoin((*c)->warnings, "; ");
}

std::string Gateway(const std::string& spec) {
  return Check("networking.istio.io/v1", "Gateway", spec);
}
std::string Sidecar(const std::string& spec) {
  return Check("networking.istio.io/v1", "Sidecar", spec);
}
std::string Pa(const std::string& spec) {
  return Check("security.istio.io/v1", "PeerAuthentication", spec);
}
std::string Ap(const std::string& spec) {
  return Check("security.istio.io/v1", "AuthorizationPolicy", spec);
}
std::string Ra(const std::string& spec) {
  return Check("security.istio.io/v1", "RequestAuthentication", spec);
}
std::string We(const std::string& spec) {
  return Check("networking.istio.io/v1", "WorkloadEntry", spec);
}
std::string Ef(const std::string& spec) {
  return Check("networking.istio.io/v1alpha3", "EnvoyFilter", spec);
}
std::string Wg(const std::string& spec) {
  return Check("networking.istio.io/v1", "WorkloadGroup", spec);
}
std::string Pc(const std::string& spec) {
  return Check("networking.istio.io/v1beta1", "ProxyConfig", spec);
}
std::string Tel(const std::string& spec) {
  return Check("telemetry.istio.io/v1", "Telemetry", spec);
}
std::string Wasm(const std::string& spec) {
  return Check("extensions.istio.io/v1alpha1", "WasmPlugin", spec);
}

// ---- Gateway -------------------------------------------------------------------------------

const char* kServer = R"(  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
)";

TEST_CASE("Gateway: a server with port, protocol and hosts is accepted", "[validate]") {
  CHECK(Gateway(kServer) == "");
  CHECK(Gateway(R"(  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["bookinfo/reviews.example.com", "./*", "*/x.example.com"]
    tls: {mode: SIMPLE, credentialName: cert}
)") == "");
}

TEST_CASE("Gateway: istiod refuses a gateway without servers", "[validate]") {
  CHECK(Gateway("  selector: {istio: ingressgateway}\n") ==
        "spec.servers: at least one server is required");
}

TEST_CASE("Gateway: istiod refuses a server without port or hosts", "[validate]") {
  CHECK(Gateway("  servers:\n  - hosts: [a.example.com]\n") ==
        "spec.servers[0].port: required field is missing");
  CHECK(Gateway("  servers:\n  - port: {number: 80, name: p, protocol: HTTP}\n") ==
        "spec.servers[0].hosts: at least one host is required");
}

TEST_CASE("Gateway: istiod refuses a server port without name or protocol", "[validate]") {
  CHECK(Gateway("  servers:\n  - port: {number: 80, protocol: HTTP}\n    hosts: [a]\n") ==
        "spec.servers[0].port.name: required field is missing");
  CHECK(Gateway("  servers:\n  - port: {number: 80, name: http}\n    hosts: [a]\n") ==
        "spec.servers[0].port.protocol: required field is missing");
}

TEST_CASE("Gateway: istiod refuses a bad port number or protocol", "[validate]") {
  CHECK(
      Gateway("  servers:\n  - port: {number: 70000, name: p, protocol: HTTP}\n    hosts: [a]\n") ==
      "spec.servers[0].port.number: port number 70000 must be in [1, 65535]");
  CHECK(Gateway("  servers:\n  - port: {number: 80, name: p, protocol: SMTP}\n    hosts: [a]\n") ==
        "spec.servers[0].port.protocol: unknown protocol \"SMTP\"");
}

TEST_CASE("Gateway: istiod refuses hosts that are not [namespace/]dnsName", "[validate]") {
  CHECK(Gateway("  servers:\n  - port: {number: 80, name: p, protocol: HTTP}\n    hosts: "
                "[\"Bad_NS/a\"]\n") ==
        "spec.servers[0].hosts[0]: \"Bad_NS\" is not a valid namespace");
  CHECK(Gateway("  servers:\n  - port: {number: 80, name: p, protocol: HTTP}\n    hosts: "
                "[\"ns/a..b\"]\n") ==
        "spec.servers[0].hosts[0]: \"a..b\" is not a valid host name");
}

TEST_CASE("Gateway: istiod refuses duplicate server port names", "[validate]") {
  CHECK(Gateway(R"(  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [a]
  - port: {number: 81, name: http, protocol: HTTP}
    hosts: [b]
)") == "spec.servers[1].port.name: port name \"http\" is used by another server");
}

TEST_CASE("Gateway: istiod refuses HTTPS/TLS servers without TLS settings", "[validate]") {
  CHECK(
      Gateway("  servers:\n  - port: {number: 443, name: p, protocol: HTTPS}\n    hosts: [a]\n") ==
      "spec.servers[0].tls: a server with protocol HTTPS requires TLS settings");
}

TEST_CASE("Gateway: istiod refuses SIMPLE/MUTUAL TLS without certificates", "[validate]") {
  CHECK(Gateway(R"(  servers:
  - port: {number: 443, name: p, protocol: HTTPS}
    hosts: [a]
    tls: {mode: SIMPLE}
)") == "spec.servers[0].tls.serverCertificate: mode SIMPLE requires credentialName or "
       "serverCertificate; spec.servers[0].tls.privateKey: mode SIMPLE requires credentialName "
       "or privateKey");
  CHECK(Gateway(R"(  servers:
  - port: {number: 443, name: p, protocol: HTTPS}
    hosts: [a]
    tls: {mode: MUTUAL, serverCertificate: /c.pem, privateKey: /k.pem}
)") == "spec.servers[0].tls.caCertificates: mode MUTUAL requires credentialName or "
       "caCertificates");
}

TEST_CASE("Gateway: OPTIONAL_MUTUAL needs certificates as MUTUAL; credentialName stands for them",
          "[validate]") {
  CHECK(Gateway(R"(  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a]
    tls: {mode: OPTIONAL_MUTUAL, serverCertificate: /c.pem, privateKey: /k.pem}
)") == "spec.servers[0].tls.caCertificates: mode OPTIONAL_MUTUAL requires credentialName or "
       "caCertificates");
  CHECK(Gateway(R"(  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a]
    tls: {mode: MUTUAL, credentialName: cert}
)") == "");
  CHECK(Gateway(R"(  servers:
  - port: {number: 443, name: tls, protocol: TLS}
    hosts: [a]
    tls: {mode: PASSTHROUGH}
)") == "");
}

TEST_CASE("Gateway: istiod refuses certificates on an ISTIO_MUTUAL server", "[validate]") {
  CHECK(Gateway(R"(  servers:
  - port: {number: 15443, name: tls, protocol: TLS}
    hosts: ["*.local"]
    tls: {mode: ISTIO_MUTUAL}
)") == "");
  CHECK(Gateway(R"(  servers:
  - port: {number: 15443, name: tls, protocol: TLS}
    hosts: ["*.local"]
    tls: {mode: ISTIO_MUTUAL, credentialName: cert}
)") == "spec.servers[0].tls.credentialName: mode ISTIO_MUTUAL uses the mesh certificate; must "
       "be empty");
}

TEST_CASE("Gateway: istiod refuses TLS settings on a plain-text server, except httpsRedirect",
          "[validate]") {
  CHECK(Gateway(R"(  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [a]
    tls: {httpsRedirect: true}
)") == "");
  CHECK(Gateway(R"(  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [a]
    tls: {mode: SIMPLE, credentialName: cert}
)") == "spec.servers[0].tls: a server with protocol HTTP can only have tls.httpsRedirect");
  CHECK(Gateway(R"(  servers:
  - port: {number: 3306, name: mysql, protocol: TCP}
    hosts: [a]
    tls: {mode: PASSTHROUGH}
)") == "spec.servers[0].tls: a server with protocol TCP cannot have TLS settings");
}

TEST_CASE("Gateway: istiod refuses a bind that is neither an IP nor unix://", "[validate]") {
  CHECK(Gateway(R"(  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    bind: 10.0.0.1
    hosts: [a]
)") == "");
  CHECK(Gateway(R"(  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    bind: gateway.local
    hosts: [a]
)") == "spec.servers[0].bind: \"gateway.local\" is not an IP address");
}

TEST_CASE("Gateway: istiod refuses a targetPort on a server", "[validate]") {
  CHECK(Gateway(R"(  servers:
  - port: {number: 80, name: http, protocol: HTTP, targetPort: 8080}
    hosts: [a]
)") == "spec.servers[0].port.targetPort: targetPort has no effect on a Gateway");
}

TEST_CASE("Gateway: istiod refuses the ~ namespace in hosts (Sidecar only)", "[validate]") {
  CHECK(Gateway("  servers:\n  - port: {number: 80, name: p, protocol: HTTP}\n    hosts: "
                "[\"~/a.com\"]\n") == "spec.servers[0].hosts[0]: \"~\" is not a valid namespace");
  CHECK(Sidecar("  egress:\n  - hosts: [\"~/*\"]\n") == "");
}

TEST_CASE("Gateway: istiod refuses invalid or wildcard selector labels", "[validate]") {
  CHECK(Gateway("  selector: {istio: \"*\"}\n  servers:\n  - port: {number: 80, name: p, protocol: "
                "HTTP}\n    hosts: [a]\n") ==
        "spec.selector[istio]: \"*\" is not a valid label value");
}

// ---- Sidecar -------------------------------------------------------------------------------

TEST_CASE("Sidecar: egress hosts as namespace/host are accepted", "[validate]") {
  CHECK(Sidecar("  egress:\n  - hosts: [\"./*\", \"istio-system/*\", \"*/x.example.com\"]\n") ==
        "");
  CHECK(Sidecar("  outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n") == "");
}

TEST_CASE("Sidecar: istiod refuses an empty configuration", "[validate]") {
  CHECK(Sidecar("  {}\n") == "spec: one of egress, ingress or outboundTrafficPolicy is required");
}

TEST_CASE("Sidecar: istiod accepts a workload selector without labels, with a warning",
          "[validate]") {
  // istiod: "workload selector specified without labels ... will be applied to all services
  // in namespace" is a warning, not a rejection.
  const std::string spec = "  workloadSelector: {labels: {}}\n  egress:\n  - hosts: [\"./*\"]\n";
  CHECK(Sidecar(spec) == "");
  CHECK(Warnings("networking.istio.io/v1", "Sidecar", spec) ==
        "spec.workloadSelector.labels: a workload selector without labels selects every "
        "workload in the namespace");
  CHECK(Warnings("networking.istio.io/v1", "Sidecar", "  egress:\n  - hosts: [\"./*\"]\n") == "");
}

TEST_CASE("Sidecar: istiod refuses wildcard workload selector labels", "[validate]") {
  CHECK(Sidecar("  workloadSelector: {labels: {app: \"*\"}}\n  egress:\n  - hosts: [\"./*\"]\n") ==
        "spec.workloadSelector.labels[app]: \"*\" is not a valid label value");
}

TEST_CASE("Sidecar: istiod refuses an invalid namespace or host in egress hosts", "[validate]") {
  CHECK(Sidecar("  egress:\n  - hosts: [\"Bad_NS/a.com\"]\n") ==
        "spec.egress[0].hosts[0]: \"Bad_NS\" is not a valid namespace");
  CHECK(Sidecar("  egress:\n  - hosts: [\"ns/\"]\n") ==
        "spec.egress[0].hosts[0]: \"\" is not a valid host name");
}

TEST_CASE("Sidecar: istiod refuses listener port numbers out of range", "[validate]") {
  CHECK(Sidecar(
            "  egress:\n  - port: {number: 0, protocol: HTTP, name: h}\n    hosts: [\"./*\"]\n") ==
        "spec.egress[0].port.number: port number 0 must be in [1, 65535]");
  CHECK(Sidecar("  ingress:\n  - port: {number: 70000, protocol: HTTP, name: h}\n") ==
        "spec.ingress[0].port.number: port number 70000 must be in [1, 65535]");
}

TEST_CASE("Sidecar: istiod refuses egress hosts without a namespace", "[validate]") {
  CHECK(Sidecar("  egress:\n  - hosts: [reviews]\n") ==
        "spec.egress[0].hosts[0]: \"reviews\" must be of the form namespace/host");
}

TEST_CASE("Sidecar: istiod refuses an egress listener without hosts", "[validate]") {
  CHECK(Sidecar("  egress:\n  - port: {number: 80, protocol: HTTP, name: h}\n") ==
        "spec.egress[0].hosts: at least one host is required");
}

TEST_CASE("Sidecar: istiod allows the port-less catch-all egress listener only last",
          "[validate]") {
  CHECK(Sidecar(R"(  egress:
  - hosts: ["./*"]
  - port: {number: 80, protocol: HTTP, name: h}
    hosts: ["./*"]
)") == "spec.egress[0]: only the last egress listener may leave out its port (the catch-all)");
}

TEST_CASE("Sidecar: istiod refuses duplicate listener ports", "[validate]") {
  CHECK(Sidecar(R"(  egress:
  - port: {number: 80, protocol: HTTP, name: a}
    hosts: ["./*"]
  - port: {number: 80, protocol: HTTP, name: b}
    hosts: ["./*"]
)") == "spec.egress[1].port.number: port 80 is used by another egress listener");
  CHECK(Sidecar(R"(  ingress:
  - port: {number: 80, protocol: HTTP, name: a}
  - port: {number: 80, protocol: HTTP, name: b}
)") == "spec.ingress[1].port.number: port 80 is used by another ingress listener");
}

TEST_CASE("Sidecar: defaultEndpoint is a loopback or any address with a port, or unix://",
          "[validate]") {
  for (const char* ok : {"127.0.0.1:8080", "0.0.0.0:8080", "[::1]:8080", "[::]:8080", ":8080",
                         "unix:///var/run/app.sock", "unix://@app"}) {
    CAPTURE(ok);
    CHECK(Sidecar(absl::StrCat("  ingress:\n  - port: {number: 80, protocol: HTTP, name: h}\n"
                               "    defaultEndpoint: \"",
                               ok, "\"\n")) == "");
  }
  CHECK(Sidecar("  ingress:\n  - port: {number: 80, protocol: HTTP, name: h}\n"
                "    defaultEndpoint: 10.0.0.1:8080\n") ==
        "spec.ingress[0].defaultEndpoint: \"10.0.0.1:8080\" must be 127.0.0.1:<port>, "
        "0.0.0.0:<port>, [::1]:<port>, [::]:<port> or unix://<path>");
  CHECK(Sidecar("  ingress:\n  - port: {number: 80, protocol: HTTP, name: h}\n"
                "    defaultEndpoint: 127.0.0.1\n") ==
        "spec.ingress[0].defaultEndpoint: \"127.0.0.1\" must be 127.0.0.1:<port>, "
        "0.0.0.0:<port>, [::1]:<port>, [::]:<port> or unix://<path>");
  CHECK(Sidecar("  ingress:\n  - port: {number: 80, protocol: HTTP, name: h}\n"
                "    defaultEndpoint: unix://app.sock\n") ==
        "spec.ingress[0].defaultEndpoint: \"app.sock\" is not an absolute path to a file");
}

TEST_CASE("Sidecar: istiod refuses a bind that is not an IP, bad port names and protocols",
          "[validate]") {
  CHECK(Sidecar("  ingress:\n  - port: {number: 80, protocol: HTTP, name: h}\n    bind: "
                "localhost\n") == "spec.ingress[0].bind: \"localhost\" is not an IP address");
  CHECK(Sidecar("  egress:\n  - port: {number: 80, protocol: HTTP, name: h}\n    bind: "
                "127.0.0.2\n    hosts: [\"./*\"]\n") == "");
  CHECK(Sidecar("  egress:\n  - port: {number: 80, protocol: HTTP, name: Web_1}\n    hosts: "
                "[\"./*\"]\n") == "spec.egress[0].port.name: \"Web_1\" is not a valid port name");
  CHECK(Sidecar("  ingress:\n  - port: {number: 80, protocol: SMTP, name: h}\n") ==
        "spec.ingress[0].port.protocol: unknown protocol \"SMTP\"");
}

TEST_CASE("Sidecar: istiod refuses ingress TLS it cannot serve", "[validate]") {
  const std::string head = "  ingress:\n  - port: {number: 8443, protocol: HTTPS, name: h}\n";
  CHECK(Sidecar(head +
                "    tls: {mode: SIMPLE, serverCertificate: /c.pem, privateKey: /k.pem}\n") == "");
  CHECK(Sidecar(head + "    tls: {mode: SIMPLE, credentialName: c}\n") ==
        "spec.ingress[0].tls.credentialName: is not supported on a Sidecar ingress listener");
  CHECK(Sidecar(head + "    tls: {mode: ISTIO_MUTUAL}\n") ==
        "spec.ingress[0].tls.mode: mode ISTIO_MUTUAL is not allowed on a Sidecar ingress "
        "listener");
  CHECK(Sidecar(head + "    tls: {mode: SIMPLE, serverCertificate: /c.pem, privateKey: /k.pem, "
                       "subjectAltNames: [a]}\n") ==
        "spec.ingress[0].tls.subjectAltNames: is not supported on a Sidecar ingress listener");
}

TEST_CASE("Sidecar: istiod refuses an ingress listener without a port", "[validate]") {
  CHECK(Sidecar("  ingress:\n  - defaultEndpoint: 127.0.0.1:8080\n") ==
        "spec.ingress[0].port: required field is missing");
}

// ---- PeerAuthentication --------------------------------------------------------------------

TEST_CASE("PeerAuthentication: mesh, namespace and workload policies are accepted", "[validate]") {
  CHECK(Pa("  mtls: {mode: STRICT}\n") == "");
  CHECK(Pa(R"(  selector: {matchLabels: {app: a}}
  mtls: {mode: PERMISSIVE}
  portLevelMtls:
    8080: {mode: DISABLE}
)") == "");
}

TEST_CASE("PeerAuthentication: istiod refuses portLevelMtls without a selector", "[validate]") {
  CHECK(Pa("  portLevelMtls:\n    8080: {mode: DISABLE}\n") ==
        "spec.portLevelMtls: portLevelMtls requires a workload selector");
}

TEST_CASE("PeerAuthentication: istiod refuses port 0 in portLevelMtls", "[validate]") {
  CHECK(Pa("  selector: {matchLabels: {app: a}}\n  portLevelMtls:\n    0: {mode: DISABLE}\n") ==
        "spec.portLevelMtls[0]: port number 0 must be in [1, 65535]");
}

TEST_CASE("PeerAuthentication: istiod refuses an unknown mode", "[validate]") {
  CHECK(Pa("  mtls: {mode: ON}\n") ==
        "spec.mtls.mode: unknown value \"ON\", must be one of UNSET, DISABLE, PERMISSIVE, STRICT");
}

TEST_CASE("PeerAuthentication: portLevelMtls needs a selector with labels", "[validate]") {
  CHECK(Pa("  selector: {matchLabels: {}}\n  portLevelMtls:\n    8080: {mode: DISABLE}\n") ==
        "spec.portLevelMtls: portLevelMtls requires a workload selector");
}

TEST_CASE("PeerAuthentication: istiod refuses invalid selector labels", "[validate]") {
  CHECK(Pa("  selector: {matchLabels: {\"a b\": x}}\n") ==
        "spec.selector.matchLabels[a b]: \"a b\" is not a valid label key");
}

// ---- AuthorizationPolicy -------------------------------------------------------------------

TEST_CASE("AuthorizationPolicy: allow-nothing, principals and JWT claims are accepted",
          "[validate]") {
  CHECK(Ap("  {}\n") == "");
  CHECK(Ap(R"(  selector: {matchLabels: {app: details}}
  rules:
  - from:
    - source: {principals: ["cluster.local/ns/default/sa/productpage"]}
    to:
    - operation: {methods: [GET], ports: ["9080"]}
    when:
    - key: request.auth.claims[groups]
      values: [group1]
    - key: source.ip
      notValues: ["10.0.0.0/8", "::1"]
)") == "");
}

TEST_CASE(
    "AuthorizationPolicy: istiod refuses CUSTOM without a provider and a provider "
    "without CUSTOM",
    "[validate]") {
  CHECK(Ap("  action: CUSTOM\n  rules: [{}]\n") ==
        "spec.provider: action CUSTOM requires a provider");
  CHECK(Ap("  action: DENY\n  provider: {name: ext}\n  rules: [{}]\n") ==
        "spec.provider: a provider may only be set with action CUSTOM");
}

TEST_CASE("AuthorizationPolicy: istiod refuses DENY and CUSTOM without rules", "[validate]") {
  CHECK(Ap("  action: DENY\n") ==
        "spec.rules: action DENY without rules never triggers; add an empty rule {} to match "
        "every request");
  CHECK(Ap("  action: DENY\n  rules: [{}]\n") == "");
  CHECK(Ap("  action: CUSTOM\n  provider: {name: ext}\n") ==
        "spec.rules: action CUSTOM without rules never triggers; add an empty rule {} to match "
        "every request");
  CHECK(Ap("  action: CUSTOM\n  provider: {name: ext}\n  rules: [{}]\n") == "");
  CHECK(Ap("  action: ALLOW\n") == "");  // allow-nothing
}

TEST_CASE("AuthorizationPolicy: istiod refuses a CUSTOM provider without a name", "[validate]") {
  CHECK(Ap("  action: CUSTOM\n  provider: {}\n  rules: [{}]\n") ==
        "spec.provider.name: required field is missing");
}

TEST_CASE("AuthorizationPolicy: istiod refuses targetRef together with targetRefs", "[validate]") {
  CHECK(Ap("  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: a}\n  targetRefs: "
           "[{group: gateway.networking.k8s.io, kind: Gateway, name: b}]\n") ==
        "spec: only one of targetRef or targetRefs may be set");
  CHECK(Ap("  targetRefs: [{name: b}]\n") == "spec.targetRefs[0].kind: required field is missing");
}

TEST_CASE("AuthorizationPolicy: istiod refuses bad remote IP blocks and notPorts", "[validate]") {
  CHECK(Ap("  rules:\n  - from:\n    - source: {remoteIpBlocks: [\"1.2.3\"]}\n") ==
        "spec.rules[0].from[0].source.remoteIpBlocks[0]: \"1.2.3\" is not an IP address or CIDR");
  CHECK(Ap("  rules:\n  - to:\n    - operation: {notPorts: [\"0\"]}\n") ==
        "spec.rules[0].to[0].operation.notPorts[0]: \"0\" is not a port number");
  CHECK(Ap("  rules:\n  - when:\n    - key: request.headers[]\n      values: [a]\n") ==
        "spec.rules[0].when[0].key: unknown attribute \"request.headers[]\"");
}

TEST_CASE("AuthorizationPolicy: targetRef names a Service, ServiceEntry or Gateway API Gateway",
          "[validate]") {
  CHECK(Ap("  targetRefs:\n  - {kind: Service, name: a}\n  - {group: networking.istio.io, kind: "
           "ServiceEntry, name: b}\n  - {group: gateway.networking.k8s.io, kind: Gateway, name: "
           "c}\n") == "");
  CHECK(Ap("  targetRef: {kind: Gateway, name: gw}\n") ==
        "spec.targetRef.kind: must be a Service, a networking.istio.io ServiceEntry or a "
        "gateway.networking.k8s.io Gateway, not core/Gateway");
  CHECK(Ap("  targetRef: {group: networking.istio.io, kind: Gateway, name: gw}\n") ==
        "spec.targetRef.kind: must be a Service, a networking.istio.io ServiceEntry or a "
        "gateway.networking.k8s.io Gateway, not networking.istio.io/Gateway");
}

TEST_CASE("AuthorizationPolicy: istiod refuses a targetRef into another namespace", "[validate]") {
  CHECK(Ap("  targetRef: {kind: Service, name: a, namespace: other}\n") ==
        "spec.targetRef.namespace: must be empty: cross-namespace references are not supported");
}

TEST_CASE("AuthorizationPolicy: istiod refuses identity matches in a CUSTOM policy", "[validate]") {
  const std::string head = "  action: CUSTOM\n  provider: {name: ext}\n  rules:\n";
  CHECK(Ap(head + "  - to: [{operation: {paths: [/admin]}}]\n") == "");
  CHECK(Ap(head + "  - from: [{source: {principals: [a], namespaces: [b]}}]\n") ==
        "spec.rules[0].from[0].source.principals: is not supported with action CUSTOM; "
        "spec.rules[0].from[0].source.namespaces: is not supported with action CUSTOM");
  CHECK(Ap(head + "  - when: [{key: \"request.auth.claims[iss]\", values: [x]}]\n") ==
        "spec.rules[0].when[0].key: is not supported with action CUSTOM");
  CHECK(Ap(head + "  - from: [{source: {ipBlocks: [10.0.0.0/8]}}]\n") == "");
}

TEST_CASE("AuthorizationPolicy: istiod refuses selector together with targetRef", "[validate]") {
  CHECK(Ap("  selector: {matchLabels: {app: a}}\n  targetRef: {kind: Service, name: gw}\n") ==
        "spec: only one of selector or targetRef(s) may be set");
  CHECK(Ap("  targetRef: {kind: Service}\n") == "spec.targetRef.name: required field is missing");
}

TEST_CASE("AuthorizationPolicy: istiod refuses empty or missing sources and operations",
          "[validate]") {
  CHECK(Ap("  rules:\n  - from:\n    - {}\n") ==
        "spec.rules[0].from[0].source: required field is missing");
  CHECK(Ap("  rules:\n  - from:\n    - source: {}\n") ==
        "spec.rules[0].from[0].source: a source must set at least one field");
  CHECK(Ap("  rules:\n  - to:\n    - {}\n") ==
        "spec.rules[0].to[0].operation: required field is missing");
  CHECK(Ap("  rules:\n  - to:\n    - operation: {}\n") ==
        "spec.rules[0].to[0].operation: an operation must set at least one field");
}

TEST_CASE("AuthorizationPolicy: istiod refuses bad ports and IP blocks", "[validate]") {
  CHECK(Ap("  rules:\n  - to:\n    - operation: {ports: [\"http\"]}\n") ==
        "spec.rules[0].to[0].operation.ports[0]: \"http\" is not a port number");
  CHECK(Ap("  rules:\n  - from:\n    - source: {ipBlocks: [\"10.0.0.0/33\"]}\n") ==
        "spec.rules[0].from[0].source.ipBlocks[0]: \"10.0.0.0/33\" is not an IP address or CIDR");
}

TEST_CASE("AuthorizationPolicy: istiod refuses unknown condition keys and empty conditions",
          "[validate]") {
  CHECK(Ap("  rules:\n  - when:\n    - key: request.colour\n      values: [red]\n") ==
        "spec.rules[0].when[0].key: unknown attribute \"request.colour\"");
  CHECK(Ap("  rules:\n  - when:\n    - key: source.namespace\n") ==
        "spec.rules[0].when[0]: one of values or notValues is required");
  CHECK(Ap("  rules:\n  - when:\n    - key: destination.port\n      values: [\"x\"]\n") ==
        "spec.rules[0].when[0].values[0]: \"x\" is not a port number");
}

TEST_CASE("AuthorizationPolicy: an unknown field in a rule is refused, never ignored",
          "[validate]") {
  // Ignoring a newer source field (say, a service-account list) would let every caller in.
  CHECK(Ap("  rules:\n  - from:\n    - source: {serviceAccountz: [a]}\n") ==
        "spec.rules[0].from[0].source.serviceAccountz: unknown field in a match: ignoring it "
        "would make the match wider than written");
}

// ---- RequestAuthentication -----------------------------------------------------------------

TEST_CASE("RequestAuthentication: a JWT rule with issuer and jwksUri is accepted", "[validate]") {
  CHECK(Ra(R"(  selector: {matchLabels: {app: httpbin}}
  jwtRules:
  - issuer: testing@secure.istio.io
    jwksUri: https://example.com/jwks.json
    fromHeaders: [{name: x-jwt, prefix: "Bearer "}]
    outputClaimToHeaders: [{header: x-sub, claim: sub}]
)") == "");
}

TEST_CASE("RequestAuthentication: istiod refuses a rule without issuer", "[validate]") {
  CHECK(Ra("  jwtRules:\n  - jwksUri: https://example.com/jwks.json\n") ==
        "spec.jwtRules[0].issuer: required field is missing");
}

TEST_CASE("RequestAuthentication: istiod refuses a jwksUri that is not http(s)", "[validate]") {
  CHECK(Ra("  jwtRules:\n  - issuer: i\n    jwksUri: ftp://example.com/jwks\n") ==
        "spec.jwtRules[0].jwksUri: \"ftp://example.com/jwks\" is not an http:// or https:// URL");
}

TEST_CASE("RequestAuthentication: istiod refuses empty audiences and token locations",
          "[validate]") {
  CHECK(Ra("  jwtRules:\n  - issuer: i\n    audiences: [\"\"]\n") ==
        "spec.jwtRules[0].audiences[0]: an audience must not be empty");
  CHECK(Ra("  jwtRules:\n  - issuer: i\n    fromHeaders: [{prefix: x}]\n") ==
        "spec.jwtRules[0].fromHeaders[0].name: required field is missing");
  CHECK(Ra("  jwtRules:\n  - issuer: i\n    fromParams: [\"\"]\n") ==
        "spec.jwtRules[0].fromParams[0]: a query parameter name must not be empty");
}

TEST_CASE("RequestAuthentication: istiod refuses selector together with targetRef(s)",
          "[validate]") {
  CHECK(Ra("  selector: {matchLabels: {app: a}}\n  targetRefs: [{kind: Service, name: gw}]\n") ==
        "spec: only one of selector or targetRef(s) may be set");
  CHECK(Ra("  selector: {matchLabels: {\"a b\": x}}\n") ==
        "spec.selector.matchLabels[a b]: \"a b\" is not a valid label key");
}

TEST_CASE("RequestAuthentication: istiod refuses inline jwks that is not a JWK Set", "[validate]") {
  CHECK(Ra("  jwtRules:\n  - issuer: i\n    jwks: '{\"keys\": [{\"kty\": \"RSA\", \"e\": \"AQAB\", "
           "\"n\": \"x\"}]}'\n") == "");
  CHECK(Ra("  jwtRules:\n  - issuer: i\n    jwks: not-json\n") ==
        "spec.jwtRules[0].jwks: is not a JSON Web Key Set");
  CHECK(Ra("  jwtRules:\n  - issuer: i\n    jwks: '{\"keys\": 1}'\n") ==
        "spec.jwtRules[0].jwks: is not a JSON Web Key Set");
}

TEST_CASE("RequestAuthentication: istiod refuses empty cookie names and a bad timeout",
          "[validate]") {
  CHECK(Ra("  jwtRules:\n  - issuer: i\n    fromCookies: [session, \"\"]\n") ==
        "spec.jwtRules[0].fromCookies[1]: a cookie name must not be empty");
  CHECK(Ra("  jwtRules:\n  - issuer: i\n    timeout: 0s\n") ==
        "spec.jwtRules[0].timeout: duration must be at least 1ms");
  CHECK(Ra("  jwtRules:\n  - issuer: i\n    timeout: 5s\n") == "");
}

TEST_CASE("RequestAuthentication: istiod refuses bad claim-to-header outputs", "[validate]") {
  CHECK(
      Ra("  jwtRules:\n  - issuer: i\n    outputClaimToHeaders: [{header: \"a b\", claim: c}]\n") ==
      "spec.jwtRules[0].outputClaimToHeaders[0].header: \"a b\" is not a header name");
  CHECK(Ra("  jwtRules:\n  - issuer: i\n    outputClaimToHeaders: [{header: x}]\n") ==
        "spec.jwtRules[0].outputClaimToHeaders[0].claim: required field is missing");
}

// ---- WorkloadEntry -------------------------------------------------------------------------

TEST_CASE("WorkloadEntry: IP, DNS name and unix socket addresses are accepted", "[validate]") {
  CHECK(We("  address: 10.0.0.1\n  ports: {http: 8080}\n  labels: {app: a}\n") == "");
  CHECK(We("  address: vm1.example.com\n") == "");
  CHECK(We("  address: unix:///var/run/a.sock\n") == "");
  CHECK(We("  network: vm-net\n") == "");
}

TEST_CASE("WorkloadEntry: istiod refuses a missing address off-network", "[validate]") {
  CHECK(We("  labels: {app: a}\n") == "spec.address: required field is missing");
}

TEST_CASE("WorkloadEntry: istiod refuses an address that is neither IP nor DNS name",
          "[validate]") {
  CHECK(We("  address: \"*.example.com\"\n") ==
        "spec.address: \"*.example.com\" is neither an IP address nor a DNS name");
}

TEST_CASE("WorkloadEntry: istiod refuses ports on a unix socket", "[validate]") {
  CHECK(We("  address: unix:///a.sock\n  ports: {http: 80}\n") ==
        "spec.ports: a unix:// endpoint must not have ports");
}

TEST_CASE("WorkloadEntry: a unix:// address is an absolute path or an abstract socket",
          "[validate]") {
  CHECK(We("  address: \"unix://@envoy-admin\"\n") == "");
  CHECK(We("  address: \"unix://\"\n") == "spec.address: a unix:// address needs a socket path");
  CHECK(We("  address: \"unix://run/a.sock\"\n") ==
        "spec.address: \"run/a.sock\" is not an absolute path to a file");
  CHECK(We("  address: \"unix:///run/\"\n") ==
        "spec.address: \"/run/\" is not an absolute path to a file");
}

TEST_CASE("WorkloadEntry: istiod refuses invalid labels", "[validate]") {
  CHECK(We("  address: 10.0.0.1\n  labels: {app: \"a b\"}\n") ==
        "spec.labels[app]: \"a b\" is not a valid label value");
}

TEST_CASE("WorkloadEntry: istiod refuses bad port names and numbers", "[validate]") {
  CHECK(We("  address: 10.0.0.1\n  ports: {Http: 80}\n") ==
        "spec.ports[Http]: \"Http\" is not a valid port name");
  CHECK(We("  address: 10.0.0.1\n  ports: {http: 0}\n") ==
        "spec.ports[http]: port number 0 must be in [1, 65535]");
}

// ---- EnvoyFilter ---------------------------------------------------------------------------

TEST_CASE("EnvoyFilter: patches with applyTo, operation and value are accepted", "[validate]") {
  CHECK(Ef(R"(  workloadSelector: {labels: {app: reviews}}
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: SIDECAR_INBOUND
      proxy: {proxyVersion: '^1\.2.*'}
      listener:
        filterChain:
          filter:
            name: envoy.filters.network.http_connection_manager
            subFilter: {name: envoy.filters.http.router}
    patch:
      operation: INSERT_BEFORE
      value: {name: envoy.filters.http.lua}
  - applyTo: CLUSTER
    match: {cluster: {name: c}}
    patch: {operation: REMOVE}
)") == "");
}

TEST_CASE("EnvoyFilter: istiod refuses a patch without applyTo, patch or operation", "[validate]") {
  CHECK(Ef("  configPatches:\n  - patch: {operation: REMOVE}\n") ==
        "spec.configPatches[0].applyTo: required field is missing");
  CHECK(Ef("  configPatches:\n  - applyTo: LISTENER\n") ==
        "spec.configPatches[0].patch: required field is missing");
  CHECK(Ef("  configPatches:\n  - applyTo: LISTENER\n    patch: {value: {}}\n") ==
        "spec.configPatches[0].patch.operation: required field is missing");
}

TEST_CASE("EnvoyFilter: istiod refuses MERGE/ADD/... without a value", "[validate]") {
  CHECK(Ef("  configPatches:\n  - applyTo: CLUSTER\n    patch: {operation: MERGE}\n") ==
        "spec.configPatches[0].patch.value: required for operation MERGE");
  CHECK(Ef("  configPatches:\n  - applyTo: LISTENER\n    patch: {operation: ADD}\n") ==
        "spec.configPatches[0].patch.value: required for operation ADD");
}

TEST_CASE("EnvoyFilter: istiod refuses an unknown applyTo or operation", "[validate]") {
  CHECK(Ef("  configPatches:\n  - applyTo: SECRET\n    patch: {operation: REMOVE}\n") ==
        "spec.configPatches[0].applyTo: unknown value \"SECRET\", must be one of INVALID, "
        "LISTENER, FILTER_CHAIN, NETWORK_FILTER, HTTP_FILTER, ROUTE_CONFIGURATION, VIRTUAL_HOST, "
        "HTTP_ROUTE, CLUSTER, EXTENSION_CONFIG, BOOTSTRAP, LISTENER_FILTER");
}

TEST_CASE("EnvoyFilter: istiod refuses an invalid proxyVersion regex", "[validate]") {
  CHECK(Ef(R"(  configPatches:
  - applyTo: CLUSTER
    match: {proxy: {proxyVersion: "1.(2"}}
    patch: {operation: REMOVE}
)") == "spec.configPatches[0].match.proxy.proxyVersion: \"1.(2\" is not a valid RE2 regex: "
       "missing ): 1.(2");
}

TEST_CASE("EnvoyFilter: istiod refuses a match of the wrong class for applyTo", "[validate]") {
  CHECK(Ef("  configPatches:\n  - applyTo: HTTP_FILTER\n    match: {cluster: {name: c}}\n"
           "    patch: {operation: REMOVE}\n") ==
        "spec.configPatches[0].match: applyTo HTTP_FILTER needs a listener match");
  CHECK(Ef("  configPatches:\n  - applyTo: VIRTUAL_HOST\n    match: {listener: {portNumber: 80}}\n"
           "    patch: {operation: REMOVE}\n") ==
        "spec.configPatches[0].match: applyTo VIRTUAL_HOST needs a routeConfiguration match");
  CHECK(Ef("  configPatches:\n  - applyTo: CLUSTER\n    match: {listener: {portNumber: 80}}\n"
           "    patch: {operation: REMOVE}\n") ==
        "spec.configPatches[0].match: applyTo CLUSTER needs a cluster match");
}

TEST_CASE("EnvoyFilter: istiod refuses filter and subFilter matches without names", "[validate]") {
  CHECK(Ef(R"(  configPatches:
  - applyTo: NETWORK_FILTER
    match: {listener: {filterChain: {filter: {}}}}
    patch: {operation: REMOVE}
)") == "spec.configPatches[0].match.listener.filterChain.filter.name: a filter match needs a "
       "name to match on");
  CHECK(Ef(R"(  configPatches:
  - applyTo: NETWORK_FILTER
    match: {listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager, subFilter: {name: r}}}}}
    patch: {operation: REMOVE}
)") == "spec.configPatches[0].match.listener.filterChain.filter.subFilter: a subFilter match is "
       "only valid with applyTo HTTP_FILTER");
  CHECK(Ef(R"(  configPatches:
  - applyTo: HTTP_FILTER
    match: {listener: {filterChain: {filter: {name: envoy.filters.network.tcp_proxy, subFilter: {name: r}}}}}
    patch: {operation: REMOVE}
)") == "spec.configPatches[0].match.listener.filterChain.filter.subFilter: a subFilter match "
       "needs the filter match envoy.filters.network.http_connection_manager");
}

TEST_CASE("EnvoyFilter: the removed filters/workloadLabels fields load with a warning",
          "[validate]") {
  auto docs = ParseYamlDocuments(R"(apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: x, namespace: ns}
spec:
  workloadLabels: {app: a}
)");
  REQUIRE(docs.ok());
  auto c = DecodeObject((*docs)[0].value, DecodeOptions{"test"});
  REQUIRE(c.ok());
  CHECK((*c)->warnings ==
        std::vector<std::string>{"spec.workloadLabels: unknown field, ignored (removed from "
                                 "Istio's API)"});
}

// ---- WorkloadGroup -------------------------------------------------------------------------

TEST_CASE("WorkloadGroup: a template with a probe is accepted", "[validate]") {
  CHECK(Wg(R"(  metadata: {labels: {app: reviews}}
  template: {ports: {http: 8080}, serviceAccount: default}
  probe: {periodSeconds: 4, tcpSocket: {port: 8080}}
)") == "");
}

TEST_CASE("WorkloadGroup: istiod refuses a group without template", "[validate]") {
  CHECK(Wg("  metadata: {labels: {app: reviews}}\n") == "spec.template: required field is missing");
}

TEST_CASE("WorkloadGroup: istiod refuses invalid metadata labels", "[validate]") {
  CHECK(Wg("  metadata: {labels: {app: \"a b\"}}\n  template: {}\n") ==
        "spec.metadata.labels[app]: \"a b\" is not a valid label value");
}

TEST_CASE("WorkloadGroup: istiod refuses negative probe settings and missing methods",
          "[validate]") {
  CHECK(Wg("  template: {}\n  probe: {periodSeconds: -1, exec: {command: [/bin/check]}}\n") ==
        "spec.probe.periodSeconds: must not be negative");
  CHECK(Wg("  template: {}\n  probe: {periodSeconds: 1}\n") ==
        "spec.probe: one of httpGet, tcpSocket, exec or grpc is required");
  CHECK(Wg("  template: {}\n  probe: {exec: {}}\n") ==
        "spec.probe.exec.command: required field is missing");
  CHECK(Wg("  template: {}\n  probe: {httpGet: {port: 0}}\n") ==
        "spec.probe.httpGet.port: port number 0 must be in [1, 65535]");
  CHECK(Wg("  template: {}\n  probe: {httpGet: {port: 80, scheme: ftp}}\n") ==
        "spec.probe.httpGet.scheme: \"ftp\" must be HTTP or HTTPS");
}

// ---- ProxyConfig ---------------------------------------------------------------------------

TEST_CASE("ProxyConfig: concurrency, environment and image are accepted", "[validate]") {
  CHECK(Pc("  concurrency: 0\n  image: {imageType: distroless}\n") == "");
  CHECK(Pc("  selector: {matchLabels: {app: a}}\n  concurrency: 2\n"
           "  environmentVariables: {A: b}\n") == "");
}

TEST_CASE("ProxyConfig: istiod refuses a negative concurrency", "[validate]") {
  CHECK(Pc("  concurrency: -1\n") == "spec.concurrency: must be greater than or equal to 0");
}

// ---- Telemetry -----------------------------------------------------------------------------

TEST_CASE("Telemetry: tracing, metrics and access logging are accepted", "[validate]") {
  CHECK(Tel(R"(  selector: {matchLabels: {app: a}}
  tracing:
  - providers: [{name: zipkin}]
    randomSamplingPercentage: 10
    customTags: {t: {literal: {value: v}}}
  metrics:
  - overrides:
    - match: {metric: REQUEST_COUNT, mode: CLIENT}
      tagOverrides: {a: {value: x}, b: {operation: REMOVE}}
  accessLogging:
  - providers: [{name: envoy}]
)") == "");
}

TEST_CASE("Telemetry: istiod refuses selector together with targetRef(s)", "[validate]") {
  CHECK(Tel("  selector: {matchLabels: {app: a}}\n  targetRefs: [{kind: Service, name: g}]\n") ==
        "spec: only one of selector or targetRef(s) may be set");
  CHECK(Tel("  targetRef: {kind: Service, name: g}\n  targetRefs: [{kind: Service, name: h}]\n") ==
        "spec: only one of targetRef or targetRefs may be set");
}

TEST_CASE("Telemetry: istiod refuses a sampling percentage outside [0, 100]", "[validate]") {
  CHECK(Tel("  tracing:\n  - randomSamplingPercentage: 101\n") ==
        "spec.tracing[0].randomSamplingPercentage: percentage 101 must be in [0, 100]");
}

TEST_CASE("Telemetry: istiod refuses custom tags without value or name", "[validate]") {
  CHECK(Tel("  tracing:\n  - customTags: {t: {literal: {}}}\n") ==
        "spec.tracing[0].customTags[t].literal.value: required field is missing");
  CHECK(Tel("  tracing:\n  - customTags: {t: {header: {}}}\n") ==
        "spec.tracing[0].customTags[t].header.name: required field is missing");
  CHECK(Tel("  tracing:\n  - customTags: {t: {}}\n") ==
        "spec.tracing[0].customTags[t]: one of literal, environment, header or formatter is "
        "required");
}

TEST_CASE("Telemetry: istiod refuses tag overrides whose value contradicts the operation",
          "[validate]") {
  CHECK(Tel("  metrics:\n  - overrides:\n    - tagOverrides: {a: {operation: UPSERT}}\n") ==
        "spec.metrics[0].overrides[0].tagOverrides[a].value: required when operation is UPSERT");
  CHECK(
      Tel("  metrics:\n  - overrides:\n    - tagOverrides: {a: {operation: REMOVE, value: x}}\n") ==
      "spec.metrics[0].overrides[0].tagOverrides[a].value: may only be set when operation is "
      "UPSERT");
}

TEST_CASE("Telemetry: istiod refuses providers without a name", "[validate]") {
  CHECK(Tel("  accessLogging:\n  - providers: [{}]\n") ==
        "spec.accessLogging[0].providers[0].name: required field is missing");
}

// ---- WasmPlugin ----------------------------------------------------------------------------

TEST_CASE("WasmPlugin: an OCI plugin with phase, env and match is accepted", "[validate]") {
  CHECK(Wasm(R"(  selector: {matchLabels: {istio: ingressgateway}}
  url: oci://ghcr.io/x/basic_auth:1.12.0
  phase: AUTHN
  vmConfig: {env: [{name: A, value: b}, {name: POD_NAME, valueFrom: HOST}]}
  match: [{mode: SERVER, ports: [{number: 80}]}]
)") == "");
  CHECK(Wasm("  url: ghcr.io/x/plugin:1\n") == "");  // no scheme means oci
}

TEST_CASE("WasmPlugin: istiod refuses a plugin without url", "[validate]") {
  CHECK(Wasm("  phase: AUTHN\n") == "spec.url: required field is missing");
}

TEST_CASE("WasmPlugin: istiod refuses an unsupported url scheme", "[validate]") {
  CHECK(Wasm("  url: ftp://x/p.wasm\n") ==
        "spec.url: unsupported scheme \"ftp\": use oci://, file://, http:// or https://");
}

TEST_CASE("WasmPlugin: istiod refuses an unknown phase", "[validate]") {
  CHECK(Wasm("  url: oci://x/p\n  phase: LOGGING\n") ==
        "spec.phase: unknown value \"LOGGING\", must be one of UNSPECIFIED_PHASE, AUTHN, AUTHZ, "
        "STATS");
}

TEST_CASE("WasmPlugin: istiod refuses a malformed sha256", "[validate]") {
  CHECK(Wasm("  url: oci://x/p\n  sha256: abc\n") ==
        "spec.sha256: must be 64 lower-case hexadecimal characters");
}

TEST_CASE("WasmPlugin: istiod refuses env vars without a name or defined twice", "[validate]") {
  CHECK(Wasm("  url: oci://x/p\n  vmConfig: {env: [{value: b}]}\n") ==
        "spec.vmConfig.env[0].name: required field is missing");
  CHECK(Wasm("  url: oci://x/p\n  vmConfig: {env: [{name: A}, {name: A}]}\n") ==
        "spec.vmConfig.env[1].name: \"A\" is defined more than once");
}

TEST_CASE("WasmPlugin: istiod refuses match ports out of range", "[validate]") {
  CHECK(Wasm("  url: oci://x/p\n  match: [{ports: [{number: 0}]}]\n") ==
        "spec.match[0].ports[0].number: port number 0 must be in [1, 65535]");
}

}  // namespace
}  // namespace meshd::config
