#include "controller/webhook/injector.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/config/yaml.h"
#include "re2/re2.h"

namespace meshd::webhook {
namespace {

using json = nlohmann::json;

constexpr char kStatusAnnotation[] = "sidecar.istio.io/status";
constexpr char kInjectAnnotation[] = "sidecar.istio.io/inject";

const json* Find(const json& obj, std::initializer_list<const char*> path) {
  const json* cur = &obj;
  for (const char* key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

void ReadString(const json& obj, std::initializer_list<const char*> path, std::string* out) {
  const json* v = Find(obj, path);
  if (v != nullptr && v->is_string() && !v->get<std::string>().empty()) {
    *out = v->get<std::string>();
  }
}

void ReadBool(const json& obj, std::initializer_list<const char*> path, bool* out) {
  const json* v = Find(obj, path);
  if (v == nullptr) return;
  if (v->is_boolean()) *out = v->get<bool>();
  if (v->is_string()) *out = v->get<std::string>() == "true";
}

std::map<std::string, std::string> StringMap(const json& obj, const char* key) {
  std::map<std::string, std::string> out;
  const json* m = Find(obj, {"metadata", key});
  if (m == nullptr || !m->is_object()) return out;
  for (auto it = m->begin(); it != m->end(); ++it) {
    if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

// A Kubernetes resource quantity ("100m", "1.5", "128Mi", "1e3").
bool IsQuantity(const std::string& q) {
  static const re2::RE2 re(
      R"([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?)");
  return re2::RE2::FullMatch(q, re);
}

json FieldEnv(const char* name, const char* field) {
  return {{"name", name},
          {"valueFrom", {{"fieldRef", {{"apiVersion", "v1"}, {"fieldPath", field}}}}}};
}
json Env(const char* name, const std::string& value) { return {{"name", name}, {"value", value}}; }

// istiod's workload name: a ReplicaSet owner's name without its pod-template-hash suffix
// (the Deployment), else the owner's name, else the pod's name (or generateName prefix).
void WorkloadOf(const json& pod, const std::string& ns, std::string* name, std::string* owner) {
  std::string pod_name;
  ReadString(pod, {"metadata", "name"}, &pod_name);
  if (pod_name.empty()) {
    ReadString(pod, {"metadata", "generateName"}, &pod_name);
    while (!pod_name.empty() && pod_name.back() == '-') pod_name.pop_back();
  }
  *name = pod_name;
  *owner = absl::StrCat("kubernetes://apis/v1/namespaces/", ns, "/pods/", pod_name);
  const json* refs = Find(pod, {"metadata", "ownerReferences"});
  if (refs == nullptr || !refs->is_array()) return;
  for (const json& ref : *refs) {
    if (!ref.is_object()) continue;
    bool controller = false;
    ReadBool(ref, {"controller"}, &controller);
    if (!controller) continue;
    std::string kind, ref_name, api_version;
    ReadString(ref, {"kind"}, &kind);
    ReadString(ref, {"name"}, &ref_name);
    ReadString(ref, {"apiVersion"}, &api_version);
    if (ref_name.empty()) continue;
    std::map<std::string, std::string> labels = StringMap(pod, "labels");
    auto hash = labels.find("pod-template-hash");
    if (kind == "ReplicaSet" && hash != labels.end() &&
        absl::EndsWith(ref_name, absl::StrCat("-", hash->second))) {
      *name = ref_name.substr(0, ref_name.size() - hash->second.size() - 1);
      *owner = absl::StrCat("kubernetes://apis/apps/v1/namespaces/", ns, "/deployments/", *name);
    } else {
      *name = ref_name;
      std::string lower = kind;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      *owner = absl::StrCat("kubernetes://apis/", api_version, "/namespaces/", ns, "/", lower, "s/",
                            ref_name);
    }
    return;
  }
}

}  // namespace

std::string InjectionConfig::DiscoveryAddress() const {
  const bool default_rev = revision.empty() || revision == "default";
  return absl::StrCat("istiod", default_rev ? "" : absl::StrCat("-", revision), ".",
                      istio_namespace, ".svc:15012");
}

bool SelectorMatches(const json& selector, const std::map<std::string, std::string>& labels) {
  if (!selector.is_object()) return false;
  if (auto ml = selector.find("matchLabels"); ml != selector.end() && ml->is_object()) {
    for (auto it = ml->begin(); it != ml->end(); ++it) {
      auto l = labels.find(it.key());
      if (l == labels.end() || !it.value().is_string() ||
          l->second != it.value().get<std::string>()) {
        return false;
      }
    }
  }
  if (auto me = selector.find("matchExpressions"); me != selector.end() && me->is_array()) {
    for (const json& e : *me) {
      std::string key, op;
      ReadString(e, {"key"}, &key);
      ReadString(e, {"operator"}, &op);
      std::vector<std::string> values;
      if (const json* v = Find(e, {"values"}); v != nullptr && v->is_array()) {
        for (const json& s : *v) {
          if (s.is_string()) values.push_back(s.get<std::string>());
        }
      }
      auto l = labels.find(key);
      bool in =
          l != labels.end() && std::find(values.begin(), values.end(), l->second) != values.end();
      if (op == "In" && !in) return false;
      if (op == "NotIn" && in) return false;
      if (op == "Exists" && l == labels.end()) return false;
      if (op == "DoesNotExist" && l != labels.end()) return false;
      if (op != "In" && op != "NotIn" && op != "Exists" && op != "DoesNotExist") return false;
    }
  }
  return true;
}

absl::StatusOr<InjectionConfig> ParseInjectionConfig(absl::string_view config_yaml,
                                                     absl::string_view values_json,
                                                     InjectionConfig defaults) {
  InjectionConfig c = std::move(defaults);
  if (!config_yaml.empty()) {
    absl::StatusOr<std::vector<config::Document>> docs = config::ParseYamlDocuments(config_yaml);
    if (!docs.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("config: ", docs.status().message()));
    }
    if (!docs->empty()) {
      const json& cfg = docs->front().value;
      if (!cfg.is_object()) return absl::InvalidArgumentError("config: expected a mapping");
      std::string policy;
      ReadString(cfg, {"policy"}, &policy);
      if (!policy.empty() && policy != "enabled" && policy != "disabled") {
        return absl::InvalidArgumentError(
            absl::StrCat("config: policy: expected enabled or disabled, got \"", policy, "\""));
      }
      if (!policy.empty()) c.enabled = policy == "enabled";
      for (auto [key, out] : {std::pair{"neverInjectSelector", &c.never_inject_selector},
                              std::pair{"alwaysInjectSelector", &c.always_inject_selector}}) {
        const json* v = Find(cfg, {key});
        if (v == nullptr || v->is_null()) continue;
        if (!v->is_array()) {
          return absl::InvalidArgumentError(absl::StrCat("config: ", key, ": expected a list"));
        }
        for (const json& s : *v) out->push_back(s);
      }
    }
  }
  if (!values_json.empty()) {
    json v = json::parse(values_json, nullptr, false);
    if (v.is_discarded() || !v.is_object()) {
      return absl::InvalidArgumentError("values: not a JSON object");
    }
    ReadString(v, {"global", "hub"}, &c.hub);
    ReadString(v, {"global", "tag"}, &c.tag);
    ReadString(v, {"global", "proxy", "image"}, &c.proxy_image);
    ReadString(v, {"global", "proxy_init", "image"}, &c.proxy_init_image);
    ReadString(v, {"global", "imagePullPolicy"}, &c.image_pull_policy);
    if (const json* s = Find(v, {"global", "imagePullSecrets"}); s != nullptr && s->is_array()) {
      for (const json& e : *s) {
        if (e.is_string()) c.image_pull_secrets.push_back(e.get<std::string>());
      }
    }
    ReadString(v, {"global", "multiCluster", "clusterName"}, &c.cluster_id);
    ReadString(v, {"global", "meshID"}, &c.mesh_id);
    ReadString(v, {"global", "caAddress"}, &c.ca_address);
    ReadString(v, {"global", "istioNamespace"}, &c.istio_namespace);
    ReadString(v, {"global", "proxy", "logLevel"}, &c.log_level);
    ReadString(v, {"global", "proxy", "clusterDomain"}, &c.cluster_domain);
    ReadString(v, {"global", "proxy", "resources", "requests", "cpu"}, &c.cpu_request);
    ReadString(v, {"global", "proxy", "resources", "requests", "memory"}, &c.memory_request);
    ReadString(v, {"global", "proxy", "resources", "limits", "cpu"}, &c.cpu_limit);
    ReadString(v, {"global", "proxy", "resources", "limits", "memory"}, &c.memory_limit);
    ReadBool(v, {"global", "proxy", "holdApplicationUntilProxyStarts"},
             &c.hold_application_until_proxy_starts);
    ReadBool(v, {"global", "nativeSidecar"}, &c.native_sidecar);
    ReadBool(v, {"pilot", "env", "ENABLE_NATIVE_SIDECARS"}, &c.native_sidecar);
    ReadString(v, {"meshConfig", "trustDomain"}, &c.trust_domain);
    ReadString(v, {"revision"}, &c.revision);
    if (const json* pc = Find(v, {"meshConfig", "defaultConfig"});
        pc != nullptr && pc->is_object()) {
      c.proxy_config = *pc;
      ReadBool(*pc, {"holdApplicationUntilProxyStarts"}, &c.hold_application_until_proxy_starts);
    }
    std::string policy;
    ReadString(v, {"sidecarInjectorWebhook", "failurePolicy"}, &policy);
    if (!policy.empty()) c.fail_closed = policy != "Ignore";
  }
  return c;
}

absl::StatusOr<InjectionResult> InjectPod(const json& pod, const std::string& request_ns,
                                          const InjectionConfig& config) {
  InjectionResult result;
  if (!pod.is_object()) return absl::InvalidArgumentError("pod: expected an object");
  const json* spec = Find(pod, {"spec"});
  if (spec == nullptr || !spec->is_object()) {
    return absl::InvalidArgumentError("pod: spec: expected an object");
  }
  const json* containers = Find(*spec, {"containers"});
  if (containers == nullptr || !containers->is_array()) {
    return absl::InvalidArgumentError("pod: spec.containers: expected a list");
  }
  std::string ns = request_ns;
  ReadString(pod, {"metadata", "namespace"}, &ns);
  if (ns.empty()) ns = "default";
  std::map<std::string, std::string> labels = StringMap(pod, "labels");
  std::map<std::string, std::string> annotations = StringMap(pod, "annotations");
  std::string workload, owner;
  WorkloadOf(pod, ns, &workload, &owner);
  const std::string pod_id = absl::StrCat("Pod ", ns, "/", workload);

  // Whether to inject (istiod's injectRequired).
  bool host_network = false;
  ReadBool(*spec, {"hostNetwork"}, &host_network);
  if (host_network) {
    result.skipped_reason = "hostNetwork pod";
    return result;
  }
  if (annotations.count(kStatusAnnotation)) {
    result.skipped_reason = "already injected";
    return result;
  }
  std::string explicit_inject;
  if (auto l = labels.find(kInjectAnnotation); l != labels.end()) {
    explicit_inject = l->second;
  } else if (auto a = annotations.find(kInjectAnnotation); a != annotations.end()) {
    explicit_inject = a->second;
  }
  bool required;
  if (explicit_inject == "true" || explicit_inject == "y" || explicit_inject == "yes" ||
      explicit_inject == "on") {
    required = true;
  } else if (!explicit_inject.empty()) {
    required = false;
  } else {
    required = config.enabled;
    for (const json& s : config.never_inject_selector) {
      if (SelectorMatches(s, labels)) required = false;
    }
    for (const json& s : config.always_inject_selector) {
      if (SelectorMatches(s, labels)) required = true;
    }
  }
  if (!required) {
    result.skipped_reason = explicit_inject.empty() ? "policy" : "sidecar.istio.io/inject";
    return result;
  }

  // Per-pod settings from annotations.
  std::string cpu = config.cpu_request, memory = config.memory_request;
  std::string cpu_limit = config.cpu_limit, memory_limit = config.memory_limit;
  for (auto [key, field] : {std::pair{"sidecar.istio.io/proxyCPU", &cpu},
                            std::pair{"sidecar.istio.io/proxyMemory", &memory},
                            std::pair{"sidecar.istio.io/proxyCPULimit", &cpu_limit},
                            std::pair{"sidecar.istio.io/proxyMemoryLimit", &memory_limit}}) {
    auto a = annotations.find(key);
    if (a == annotations.end()) continue;
    if (!IsQuantity(a->second)) {
      return absl::InvalidArgumentError(absl::StrCat(pod_id, ": metadata.annotations[", key,
                                                     "]: \"", a->second,
                                                     "\" is not a resource quantity"));
    }
    *field = a->second;
  }
  std::string proxy_image = absl::StrCat(config.hub, "/", config.proxy_image, ":", config.tag);
  if (absl::StrContains(config.proxy_image, "/")) proxy_image = config.proxy_image;
  std::string init_image = absl::StrCat(config.hub, "/", config.proxy_init_image, ":", config.tag);
  if (absl::StrContains(config.proxy_init_image, "/")) init_image = config.proxy_init_image;
  if (auto a = annotations.find("sidecar.istio.io/proxyImage"); a != annotations.end()) {
    proxy_image = a->second;
  }
  std::string log_level = config.log_level;
  if (auto a = annotations.find("sidecar.istio.io/logLevel"); a != annotations.end()) {
    static const std::set<std::string> kLevels = {"trace", "debug",    "info", "warning",
                                                  "error", "critical", "off"};
    if (!kLevels.count(a->second)) {
      return absl::InvalidArgumentError(
          absl::StrCat(pod_id, ": metadata.annotations[sidecar.istio.io/logLevel]: \"", a->second,
                       "\" is not one of trace, debug, info, warning, error, critical, off"));
    }
    log_level = a->second;
  }
  std::string interception = "REDIRECT";
  if (auto a = annotations.find("sidecar.istio.io/interceptionMode"); a != annotations.end()) {
    if (a->second != "REDIRECT" && a->second != "TPROXY" && a->second != "NONE") {
      return absl::InvalidArgumentError(
          absl::StrCat(pod_id, ": metadata.annotations[sidecar.istio.io/interceptionMode]: \"",
                       a->second, "\" is not one of REDIRECT, TPROXY, NONE"));
    }
    interception = a->second;
  }
  bool native = config.native_sidecar;
  if (auto a = annotations.find("sidecar.istio.io/nativeSidecar"); a != annotations.end()) {
    native = a->second == "true";
  }
  bool hold = config.hold_application_until_proxy_starts;
  json proxy_config = config.proxy_config;
  if (auto a = annotations.find("proxy.istio.io/config"); a != annotations.end()) {
    absl::StatusOr<std::vector<config::Document>> docs = config::ParseYamlDocuments(a->second);
    if (!docs.ok() || (!docs->empty() && !docs->front().value.is_object())) {
      return absl::InvalidArgumentError(absl::StrCat(
          pod_id, ": metadata.annotations[proxy.istio.io/config]: not a ProxyConfig mapping",
          docs.ok() ? "" : absl::StrCat(": ", docs.status().message())));
    }
    if (!docs->empty()) proxy_config.update(docs->front().value);
    ReadBool(proxy_config, {"holdApplicationUntilProxyStarts"}, &hold);
  }
  if (!proxy_config.contains("discoveryAddress")) {
    proxy_config["discoveryAddress"] = config.DiscoveryAddress();
  }
  const std::string ca_address =
      config.ca_address.empty() ? config.DiscoveryAddress() : config.ca_address;

  // Application containers and ports (ISTIO_META_POD_PORTS, ISTIO_META_APP_CONTAINERS).
  std::vector<std::string> app_names;
  json ports = json::array();
  for (const json& c : *containers) {
    if (!c.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(pod_id, ": spec.containers: expected objects"));
    }
    std::string name;
    ReadString(c, {"name"}, &name);
    app_names.push_back(name);
    if (const json* p = Find(c, {"ports"}); p != nullptr && p->is_array()) {
      for (const json& port : *p) ports.push_back(port);
    }
  }
  const json resources = {{"limits", {{"cpu", cpu_limit}, {"memory", memory_limit}}},
                          {"requests", {{"cpu", cpu}, {"memory", memory}}}};

  json proxy = {
      {"name", "istio-proxy"},
      {"image", proxy_image},
      {"args",
       {"proxy", "sidecar", "--domain",
        absl::StrCat("$(POD_NAMESPACE).svc.", config.cluster_domain),
        absl::StrCat("--proxyLogLevel=", log_level), "--proxyComponentLogLevel=misc:error",
        "--log_output_level=default:info"}},
      {"ports", {{{"containerPort", 15090}, {"name", "http-envoy-prom"}, {"protocol", "TCP"}}}},
      {"env",
       {Env("PILOT_CERT_PROVIDER", "istiod"), Env("CA_ADDR", ca_address),
        FieldEnv("POD_NAME", "metadata.name"), FieldEnv("POD_NAMESPACE", "metadata.namespace"),
        FieldEnv("INSTANCE_IP", "status.podIP"),
        FieldEnv("SERVICE_ACCOUNT", "spec.serviceAccountName"),
        FieldEnv("HOST_IP", "status.hostIP"), Env("ISTIO_CPU_LIMIT", cpu_limit),
        Env("PROXY_CONFIG", proxy_config.dump()), Env("ISTIO_META_POD_PORTS", ports.dump()),
        Env("ISTIO_META_APP_CONTAINERS", absl::StrJoin(app_names, ",")),
        Env("ISTIO_META_CLUSTER_ID", config.cluster_id),
        FieldEnv("ISTIO_META_NODE_NAME", "spec.nodeName"),
        Env("ISTIO_META_INTERCEPTION_MODE", interception),
        Env("ISTIO_META_WORKLOAD_NAME", workload), Env("ISTIO_META_OWNER", owner),
        Env("ISTIO_META_MESH_ID", config.mesh_id), Env("TRUST_DOMAIN", config.trust_domain)}},
      {"resources", resources},
      {"readinessProbe",
       {{"httpGet", {{"path", "/healthz/ready"}, {"port", 15021}}},
        {"initialDelaySeconds", 0},
        {"periodSeconds", 15},
        {"timeoutSeconds", 3},
        {"failureThreshold", 4}}},
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"capabilities", {{"drop", {"ALL"}}}},
        {"privileged", false},
        {"readOnlyRootFilesystem", true},
        {"runAsGroup", 1337},
        {"runAsNonRoot", true},
        {"runAsUser", 1337}}},
      {"volumeMounts",
       {{{"name", "workload-socket"}, {"mountPath", "/var/run/secrets/workload-spiffe-uds"}},
        {{"name", "credential-socket"}, {"mountPath", "/var/run/secrets/credential-uds"}},
        {{"name", "workload-certs"}, {"mountPath", "/var/run/secrets/workload-spiffe-credentials"}},
        {{"name", "istiod-ca-cert"}, {"mountPath", "/var/run/secrets/istio"}},
        {{"name", "istio-data"}, {"mountPath", "/var/lib/istio/data"}},
        {{"name", "istio-envoy"}, {"mountPath", "/etc/istio/proxy"}},
        {{"name", "istio-token"}, {"mountPath", "/var/run/secrets/tokens"}},
        {{"name", "istio-podinfo"}, {"mountPath", "/etc/istio/pod"}}}},
  };
  if (!config.image_pull_policy.empty()) proxy["imagePullPolicy"] = config.image_pull_policy;
  if (hold || native) {
    proxy["startupProbe"] = {{"httpGet", {{"path", "/healthz/ready"}, {"port", 15021}}},
                             {"initialDelaySeconds", 0},
                             {"periodSeconds", 1},
                             {"timeoutSeconds", 3},
                             {"failureThreshold", 600}};
  }
  if (hold && !native) {
    proxy["lifecycle"] = {{"postStart", {{"exec", {{"command", {"pilot-agent", "wait"}}}}}}};
  }

  json init = {
      {"name", "istio-init"},
      {"image", init_image},
      {"args",
       {"istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", interception, "-i", "*",
        "-x", "", "-b", "*", "-d", "15090,15021,15020", "--log_output_level=default:info"}},
      {"resources", resources},
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"capabilities", {{"add", {"NET_ADMIN", "NET_RAW"}}, {"drop", {"ALL"}}}},
        {"privileged", false},
        {"readOnlyRootFilesystem", false},
        {"runAsGroup", 0},
        {"runAsNonRoot", false},
        {"runAsUser", 0}}},
  };
  if (!config.image_pull_policy.empty()) init["imagePullPolicy"] = config.image_pull_policy;

  json volumes = {
      {{"name", "workload-socket"}, {"emptyDir", json::object()}},
      {{"name", "credential-socket"}, {"emptyDir", json::object()}},
      {{"name", "workload-certs"}, {"emptyDir", json::object()}},
      {{"name", "istio-envoy"}, {"emptyDir", {{"medium", "Memory"}}}},
      {{"name", "istio-data"}, {"emptyDir", json::object()}},
      {{"name", "istio-podinfo"},
       {"downwardAPI",
        {{"items",
          {{{"path", "labels"}, {"fieldRef", {{"fieldPath", "metadata.labels"}}}},
           {{"path", "annotations"}, {"fieldRef", {{"fieldPath", "metadata.annotations"}}}}}}}}},
      {{"name", "istio-token"},
       {"projected",
        {{"sources",
          {{{"serviceAccountToken",
             {{"audience", "istio-ca"},
              {"expirationSeconds", 43200},
              {"path", "istio-token"}}}}}}}}},
      {{"name", "istiod-ca-cert"}, {"configMap", {{"name", "istio-ca-root-cert"}}}},
  };

  // The injected pod.
  json out = pod;
  json& ospec = out["spec"];
  json init_containers = ospec.contains("initContainers") && ospec["initContainers"].is_array()
                             ? ospec["initContainers"]
                             : json::array();
  json new_inits = json::array();
  std::vector<std::string> status_inits = {"istio-init"};
  std::vector<std::string> status_containers;
  if (interception != "NONE") {
    new_inits.push_back(init);
  } else {
    status_inits.clear();
  }
  json app_containers = *containers;
  if (native) {
    proxy["restartPolicy"] = "Always";
    new_inits.push_back(proxy);
    status_inits.push_back("istio-proxy");
    for (const json& c : init_containers) new_inits.push_back(c);
    ospec["initContainers"] = new_inits;
  } else {
    for (const json& c : init_containers) new_inits.push_back(c);
    if (!new_inits.empty()) ospec["initContainers"] = new_inits;
    status_containers.push_back("istio-proxy");
    if (hold) {
      app_containers.insert(app_containers.begin(), proxy);
    } else {
      app_containers.push_back(proxy);
    }
    ospec["containers"] = app_containers;
  }
  std::vector<std::string> volume_names;
  json& ovolumes = ospec["volumes"];
  if (!ovolumes.is_array()) ovolumes = json::array();
  for (const json& v : volumes) {
    ovolumes.push_back(v);
    volume_names.push_back(v["name"].get<std::string>());
  }
  json pull_secrets = nullptr;
  if (!config.image_pull_secrets.empty()) {
    json& secrets = ospec["imagePullSecrets"];
    if (!secrets.is_array()) secrets = json::array();
    pull_secrets = json::array();
    for (const std::string& s : config.image_pull_secrets) {
      secrets.push_back({{"name", s}});
      pull_secrets.push_back(s);
    }
  }
  json status = {
      {"initContainers", status_inits.empty() ? json(nullptr) : json(status_inits)},
      {"containers", status_containers.empty() ? json(nullptr) : json(status_containers)},
      {"volumes", volume_names},
      {"imagePullSecrets", pull_secrets},
      {"revision", config.revision.empty() ? "default" : config.revision}};
  json& meta = out["metadata"];
  if (!meta.is_object()) meta = json::object();
  json& oann = meta["annotations"];
  if (!oann.is_object()) oann = json::object();
  oann[kStatusAnnotation] = status.dump();
  if (!app_names.empty() && !oann.contains("kubectl.kubernetes.io/default-container")) {
    oann["kubectl.kubernetes.io/default-container"] = app_names.front();
  }
  if (!oann.contains("kubectl.kubernetes.io/default-logs-container") && !app_names.empty()) {
    oann["kubectl.kubernetes.io/default-logs-container"] = app_names.front();
  }
  if (!oann.contains("prometheus.io/scrape")) {
    oann["prometheus.io/scrape"] = "true";
    oann["prometheus.io/port"] = "15020";
    oann["prometheus.io/path"] = "/stats/prometheus";
  }
  json& olabels = meta["labels"];
  if (!olabels.is_object()) olabels = json::object();
  olabels["security.istio.io/tlsMode"] = "istio";
  auto label = [&labels](std::initializer_list<const char*> keys, const std::string& dflt) {
    for (const char* k : keys) {
      if (auto it = labels.find(k); it != labels.end()) return it->second;
    }
    return dflt;
  };
  if (!olabels.contains("service.istio.io/canonical-name")) {
    olabels["service.istio.io/canonical-name"] =
        label({"service.istio.io/canonical-name", "app.kubernetes.io/name", "app"}, workload);
  }
  if (!olabels.contains("service.istio.io/canonical-revision")) {
    olabels["service.istio.io/canonical-revision"] = label(
        {"service.istio.io/canonical-revision", "app.kubernetes.io/version", "version"}, "latest");
  }
  result.injected = true;
  result.pod = std::move(out);
  return result;
}

}  // namespace meshd::webhook
