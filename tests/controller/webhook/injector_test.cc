// Injection outputs compared with pod specs written from istiod's documented injection
// behaviour (the `sidecar` template of istio-sidecar-injector, Istio 1.2x) for the same inputs.
#include "controller/webhook/injector.h"

#include <catch2/catch.hpp>

namespace meshd::webhook {
namespace {

using json = nlohmann::json;

json PlainPod() {
  return json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "reviews-v1-abc", "namespace": "bookinfo",
                 "labels": {"app": "reviews", "version": "v1"}},
    "spec": {"serviceAccountName": "reviews",
             "containers": [{"name": "app", "image": "reviews:1",
                             "ports": [{"containerPort": 9080, "protocol": "TCP"}]}]}})");
}

InjectionConfig Values() {
  absl::StatusOr<InjectionConfig> c = ParseInjectionConfig("policy: enabled\n", R"({
    "global": {"hub": "docker.io/istio", "tag": "1.24.0", "meshID": "mesh1",
               "multiCluster": {"clusterName": "cluster1"}, "istioNamespace": "istio-system",
               "proxy": {"image": "proxyv2"}, "proxy_init": {"image": "proxyv2"}},
    "meshConfig": {"trustDomain": "example.org"}})");
  REQUIRE(c.ok());
  return *c;
}

// The istio-proxy container istiod renders for PlainPod() with Values().
json ExpectedProxy() {
  return json::parse(R"({
    "name": "istio-proxy",
    "image": "docker.io/istio/proxyv2:1.24.0",
    "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local",
             "--proxyLogLevel=warning", "--proxyComponentLogLevel=misc:error",
             "--log_output_level=default:info"],
    "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
    "env": [
      {"name": "PILOT_CERT_PROVIDER", "value": "istiod"},
      {"name": "CA_ADDR", "value": "istiod.istio-system.svc:15012"},
      {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
      {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
      {"name": "INSTANCE_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}},
      {"name": "SERVICE_ACCOUNT", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.serviceAccountName"}}},
      {"name": "HOST_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.hostIP"}}},
      {"name": "ISTIO_CPU_LIMIT", "value": "2000m"},
      {"name": "PROXY_CONFIG", "value": "{\"discoveryAddress\":\"istiod.istio-system.svc:15012\"}"},
      {"name": "ISTIO_META_POD_PORTS", "value": "[{\"containerPort\":9080,\"protocol\":\"TCP\"}]"},
      {"name": "ISTIO_META_APP_CONTAINERS", "value": "app"},
      {"name": "ISTIO_META_CLUSTER_ID", "value": "cluster1"},
      {"name": "ISTIO_META_NODE_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}},
      {"name": "ISTIO_META_INTERCEPTION_MODE", "value": "REDIRECT"},
      {"name": "ISTIO_META_WORKLOAD_NAME", "value": "reviews-v1-abc"},
      {"name": "ISTIO_META_OWNER", "value": "kubernetes://apis/v1/namespaces/bookinfo/pods/reviews-v1-abc"},
      {"name": "ISTIO_META_MESH_ID", "value": "mesh1"},
      {"name": "TRUST_DOMAIN", "value": "example.org"}],
    "resources": {"limits": {"cpu": "2000m", "memory": "1024Mi"},
                  "requests": {"cpu": "100m", "memory": "128Mi"}},
    "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": 15021},
                       "initialDelaySeconds": 0, "periodSeconds": 15, "timeoutSeconds": 3,
                       "failureThreshold": 4},
    "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
                        "privileged": false, "readOnlyRootFilesystem": true, "runAsGroup": 1337,
                        "runAsNonRoot": true, "runAsUser": 1337},
    "volumeMounts": [
      {"name": "workload-socket", "mountPath": "/var/run/secrets/workload-spiffe-uds"},
      {"name": "credential-socket", "mountPath": "/var/run/secrets/credential-uds"},
      {"name": "workload-certs", "mountPath": "/var/run/secrets/workload-spiffe-credentials"},
      {"name": "istiod-ca-cert", "mountPath": "/var/run/secrets/istio"},
      {"name": "istio-data", "mountPath": "/var/lib/istio/data"},
      {"name": "istio-envoy", "mountPath": "/etc/istio/proxy"},
      {"name": "istio-token", "mountPath": "/var/run/secrets/tokens"},
      {"name": "istio-podinfo", "mountPath": "/etc/istio/pod"}]})");
}

json ExpectedInit() {
  return json::parse(R"({
    "name": "istio-init",
    "image": "docker.io/istio/proxyv2:1.24.0",
    "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT",
             "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020",
             "--log_output_level=default:info"],
    "resources": {"limits": {"cpu": "2000m", "memory": "1024Mi"},
                  "requests": {"cpu": "100m", "memory": "128Mi"}},
    "securityContext": {"allowPrivilegeEscalation": false,
                        "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
                        "privileged": false, "readOnlyRootFilesystem": false, "runAsGroup": 0,
                        "runAsNonRoot": false, "runAsUser": 0}})");
}

json ExpectedVolumes() {
  return json::parse(R"([
    {"name": "workload-socket", "emptyDir": {}},
    {"name": "credential-socket", "emptyDir": {}},
    {"name": "workload-certs", "emptyDir": {}},
    {"name": "istio-envoy", "emptyDir": {"medium": "Memory"}},
    {"name": "istio-data", "emptyDir": {}},
    {"name": "istio-podinfo", "downwardAPI": {"items": [
      {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
      {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}}]}},
    {"name": "istio-token", "projected": {"sources": [{"serviceAccountToken":
      {"audience": "istio-ca", "expirationSeconds": 43200, "path": "istio-token"}}]}},
    {"name": "istiod-ca-cert", "configMap": {"name": "istio-ca-root-cert"}}])");
}

const char kStatus[] =
    R"({"containers":["istio-proxy"],"imagePullSecrets":null,"initContainers":["istio-init"],)"
    R"("revision":"default","volumes":["workload-socket","credential-socket","workload-certs",)"
    R"("istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"]})";

TEST_CASE("a plain pod is injected as istiod's sidecar template renders it", "[webhook][inject]") {
  json expected = PlainPod();
  expected["metadata"]["labels"]["security.istio.io/tlsMode"] = "istio";
  expected["metadata"]["labels"]["service.istio.io/canonical-name"] = "reviews";
  expected["metadata"]["labels"]["service.istio.io/canonical-revision"] = "v1";
  expected["metadata"]["annotations"] = {{"sidecar.istio.io/status", kStatus},
                                         {"kubectl.kubernetes.io/default-container", "app"},
                                         {"kubectl.kubernetes.io/default-logs-container", "app"},
                                         {"prometheus.io/scrape", "true"},
                                         {"prometheus.io/port", "15020"},
                                         {"prometheus.io/path", "/stats/prometheus"}};
  expected["spec"]["initContainers"] = {ExpectedInit()};
  expected["spec"]["containers"].push_back(ExpectedProxy());
  expected["spec"]["volumes"] = ExpectedVolumes();

  absl::StatusOr<InjectionResult> r = InjectPod(PlainPod(), "bookinfo", Values());
  REQUIRE(r.ok());
  REQUIRE(r->injected);
  INFO(json::diff(expected, r->pod).dump(1));
  CHECK(r->pod == expected);
  // The JSONPatch the webhook returns turns the admitted pod into the injected one.
  CHECK(PlainPod().patch(json::diff(PlainPod(), r->pod)) == expected);
}

TEST_CASE("annotations set proxy resources, image and log level", "[webhook][inject]") {
  json pod = PlainPod();
  pod["metadata"]["annotations"] = {{"sidecar.istio.io/proxyCPU", "250m"},
                                    {"sidecar.istio.io/proxyMemory", "256Mi"},
                                    {"sidecar.istio.io/proxyCPULimit", "1"},
                                    {"sidecar.istio.io/proxyMemoryLimit", "512Mi"},
                                    {"sidecar.istio.io/logLevel", "debug"},
                                    {"sidecar.istio.io/proxyImage", "example.com/proxy:dev"}};
  json expected_proxy = ExpectedProxy();
  expected_proxy["image"] = "example.com/proxy:dev";
  expected_proxy["args"][4] = "--proxyLogLevel=debug";
  expected_proxy["resources"] = {{"limits", {{"cpu", "1"}, {"memory", "512Mi"}}},
                                 {"requests", {{"cpu", "250m"}, {"memory", "256Mi"}}}};
  expected_proxy["env"][7]["value"] = "1";  // ISTIO_CPU_LIMIT
  json expected_init = ExpectedInit();
  expected_init["resources"] = expected_proxy["resources"];

  absl::StatusOr<InjectionResult> r = InjectPod(pod, "bookinfo", Values());
  REQUIRE(r.ok());
  REQUIRE(r->injected);
  CHECK(r->pod["spec"]["containers"][1] == expected_proxy);
  CHECK(r->pod["spec"]["initContainers"][0] == expected_init);
  // The pod's own annotations stay.
  CHECK(r->pod["metadata"]["annotations"]["sidecar.istio.io/proxyCPU"] == "250m");
}

TEST_CASE("a Deployment's pod is named after the Deployment", "[webhook][inject]") {
  json pod = PlainPod();
  pod["metadata"].erase("name");
  pod["metadata"]["generateName"] = "reviews-v1-7d9f8c-";
  pod["metadata"]["labels"]["pod-template-hash"] = "7d9f8c";
  pod["metadata"]["ownerReferences"] = {{{"apiVersion", "apps/v1"},
                                         {"kind", "ReplicaSet"},
                                         {"name", "reviews-v1-7d9f8c"},
                                         {"controller", true}}};
  absl::StatusOr<InjectionResult> r = InjectPod(pod, "bookinfo", Values());
  REQUIRE(r.ok());
  json env = r->pod["spec"]["containers"][1]["env"];
  CHECK(env[14] == json({{"name", "ISTIO_META_WORKLOAD_NAME"}, {"value", "reviews-v1"}}));
  CHECK(env[15] ==
        json({{"name", "ISTIO_META_OWNER"},
              {"value", "kubernetes://apis/apps/v1/namespaces/bookinfo/deployments/reviews-v1"}}));
}

TEST_CASE("opted-out, injected and hostNetwork pods are left alone", "[webhook][inject]") {
  json annotated = PlainPod();
  annotated["metadata"]["annotations"] = {{"sidecar.istio.io/inject", "false"}};
  json labelled = PlainPod();
  labelled["metadata"]["labels"]["sidecar.istio.io/inject"] = "false";
  json injected = PlainPod();
  injected["metadata"]["annotations"] = {{"sidecar.istio.io/status", kStatus}};
  json host = PlainPod();
  host["spec"]["hostNetwork"] = true;
  for (const json& pod : {annotated, labelled, injected, host}) {
    absl::StatusOr<InjectionResult> r = InjectPod(pod, "bookinfo", Values());
    REQUIRE(r.ok());
    CHECK_FALSE(r->injected);
    CHECK_FALSE(r->skipped_reason.empty());
  }
}

TEST_CASE("policy disabled injects only opted-in pods; selectors override", "[webhook][inject]") {
  absl::StatusOr<InjectionConfig> c = ParseInjectionConfig(
      "policy: disabled\nalwaysInjectSelector:\n- matchLabels: {app: reviews}\n", "");
  REQUIRE(c.ok());
  CHECK(InjectPod(PlainPod(), "bookinfo", *c)->injected);
  json other = PlainPod();
  other["metadata"]["labels"]["app"] = "ratings";
  CHECK_FALSE(InjectPod(other, "bookinfo", *c)->injected);
  other["metadata"]["annotations"] = {{"sidecar.istio.io/inject", "true"}};
  CHECK(InjectPod(other, "bookinfo", *c)->injected);

  absl::StatusOr<InjectionConfig> never = ParseInjectionConfig(
      "policy: enabled\nneverInjectSelector:\n- matchExpressions:\n  - {key: app, operator: In, "
      "values: [reviews]}\n",
      "");
  REQUIRE(never.ok());
  CHECK_FALSE(InjectPod(PlainPod(), "bookinfo", *never)->injected);
}

TEST_CASE("native sidecar: istio-proxy is an init container that keeps running",
          "[webhook][inject]") {
  json pod = PlainPod();
  pod["metadata"]["annotations"] = {{"sidecar.istio.io/nativeSidecar", "true"}};
  absl::StatusOr<InjectionResult> r = InjectPod(pod, "bookinfo", Values());
  REQUIRE(r.ok());
  REQUIRE(r->injected);
  json proxy = ExpectedProxy();
  proxy["restartPolicy"] = "Always";
  proxy["startupProbe"] = {{"httpGet", {{"path", "/healthz/ready"}, {"port", 15021}}},
                           {"initialDelaySeconds", 0},
                           {"periodSeconds", 1},
                           {"timeoutSeconds", 3},
                           {"failureThreshold", 600}};
  CHECK(r->pod["spec"]["initContainers"] == json::array({ExpectedInit(), proxy}));
  CHECK(r->pod["spec"]["containers"] == PlainPod()["spec"]["containers"]);
  json status =
      json::parse(r->pod["metadata"]["annotations"]["sidecar.istio.io/status"].get<std::string>());
  CHECK(status["initContainers"] == json({"istio-init", "istio-proxy"}));
  CHECK(status["containers"].is_null());
}

TEST_CASE("holdApplicationUntilProxyStarts puts the proxy first with a startup probe",
          "[webhook][inject]") {
  absl::StatusOr<InjectionConfig> c = ParseInjectionConfig(
      "",
      R"({"global": {"proxy": {"holdApplicationUntilProxyStarts": true}}, "revision": "canary"})");
  REQUIRE(c.ok());
  absl::StatusOr<InjectionResult> r = InjectPod(PlainPod(), "bookinfo", *c);
  REQUIRE(r.ok());
  json first = r->pod["spec"]["containers"][0];
  CHECK(first["name"] == "istio-proxy");
  CHECK(first.contains("startupProbe"));
  CHECK(first["lifecycle"]["postStart"]["exec"]["command"] == json({"pilot-agent", "wait"}));
  CHECK(first["env"][1]["value"] == "istiod-canary.istio-system.svc:15012");
  json status =
      json::parse(r->pod["metadata"]["annotations"]["sidecar.istio.io/status"].get<std::string>());
  CHECK(status["revision"] == "canary");
}

TEST_CASE("a pod that cannot be templated is an error naming the annotation", "[webhook][inject]") {
  json pod = PlainPod();
  pod["metadata"]["annotations"] = {{"sidecar.istio.io/proxyCPU", "lots"}};
  absl::StatusOr<InjectionResult> r = InjectPod(pod, "bookinfo", Values());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() ==
        "Pod bookinfo/reviews-v1-abc: metadata.annotations[sidecar.istio.io/proxyCPU]: \"lots\" "
        "is not a resource quantity");
  json no_containers = PlainPod();
  no_containers["spec"]["containers"] = "x";
  CHECK_FALSE(InjectPod(no_containers, "bookinfo", Values()).ok());
  CHECK_FALSE(InjectPod(json("x"), "bookinfo", Values()).ok());
}

TEST_CASE("ParseInjectionConfig names bad keys", "[webhook][inject]") {
  CHECK(ParseInjectionConfig("policy: sometimes\n", "").status().message() ==
        "config: policy: expected enabled or disabled, got \"sometimes\"");
  CHECK(ParseInjectionConfig("", "[1]").status().message() == "values: not a JSON object");
  CHECK(ParseInjectionConfig("neverInjectSelector: 3\n", "").status().message() ==
        "config: neverInjectSelector: expected a list");
  absl::StatusOr<InjectionConfig> ignore =
      ParseInjectionConfig("", R"({"sidecarInjectorWebhook": {"failurePolicy": "Ignore"}})");
  REQUIRE(ignore.ok());
  CHECK_FALSE(ignore->fail_closed);
}

}  // namespace
}  // namespace meshd::webhook
