// Sidecar injection: a Pod in, the injected Pod (and its JSONPatch) out, as istiod's
// `sidecar` template renders it. meshd does not run Go templates: the template is written
// here in C++, and ConfigMap `istio-sidecar-injector` supplies what istiod's template reads —
// key `values` (JSON: global.hub/tag/proxy/proxy_init/imagePullPolicy/imagePullSecrets/
// meshID/multiCluster.clusterName/caAddress/istioNamespace, meshConfig.trustDomain and
// defaultConfig, revision, pilot.env.ENABLE_NATIVE_SIDECARS, global.nativeSidecar) and key
// `config` (YAML: policy enabled|disabled, neverInjectSelector, alwaysInjectSelector).
// Application probes are not rewritten (istiod's rewriteAppHTTPProbe is not implemented).
// Thread-safe (stateless functions over immutable inputs).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace meshd::webhook {

struct InjectionConfig {
  // Policy (`config`).
  bool enabled = true;  // policy: enabled (inject unless opted out) or disabled (opt-in only)
  std::vector<nlohmann::json> never_inject_selector;   // LabelSelectors
  std::vector<nlohmann::json> always_inject_selector;  // LabelSelectors
  // Values (`values`).
  std::string hub = "docker.io/istio";
  std::string tag = "latest";
  std::string proxy_image = "proxyv2";
  std::string proxy_init_image = "proxyv2";
  std::string image_pull_policy;  // empty: not set
  std::vector<std::string> image_pull_secrets;
  std::string cluster_id = "Kubernetes";
  std::string mesh_id = "cluster.local";
  std::string trust_domain = "cluster.local";
  std::string cluster_domain = "cluster.local";
  std::string istio_namespace = "istio-system";
  std::string revision;    // "" is the default revision
  std::string ca_address;  // "": istiod[-rev].<istio_namespace>.svc:15012
  std::string log_level = "warning";
  std::string cpu_request = "100m", memory_request = "128Mi";
  std::string cpu_limit = "2000m", memory_limit = "1024Mi";
  bool hold_application_until_proxy_starts = false;
  bool native_sidecar = false;
  nlohmann::json proxy_config = nlohmann::json::object();  // meshConfig.defaultConfig
  // What to do with a pod that cannot be injected: Fail (deny) or Ignore (admit unchanged);
  // values sidecarInjectorWebhook.failurePolicy (meshd's own key).
  bool fail_closed = true;

  std::string DiscoveryAddress() const;
};

// Builds the configuration from the ConfigMap's `config` (YAML) and `values` (JSON) texts;
// either may be empty (defaults). Errors name the key and field.
// Values absent from the texts keep their value in `defaults`.
absl::StatusOr<InjectionConfig> ParseInjectionConfig(absl::string_view config_yaml,
                                                     absl::string_view values_json,
                                                     InjectionConfig defaults = {});

struct InjectionResult {
  bool injected = false;
  std::string skipped_reason;  // when not injected and not an error
  nlohmann::json pod;          // the injected pod (when injected)
};

// Decides whether `pod` (of namespace `ns`, as admitted) is injected and renders it.
// InvalidArgument names the pod and the annotation or field that cannot be templated.
absl::StatusOr<InjectionResult> InjectPod(const nlohmann::json& pod, const std::string& ns,
                                          const InjectionConfig& config);

// Whether a LabelSelector (matchLabels, matchExpressions) selects `labels`.
bool SelectorMatches(const nlohmann::json& selector,
                     const std::map<std::string, std::string>& labels);

}  // namespace meshd::webhook
