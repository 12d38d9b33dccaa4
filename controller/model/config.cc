#include "controller/model/config.h"

#include "absl/strings/str_cat.h"

namespace meshd::model {

const std::vector<KindInfo>& AllKinds() {
  static const auto* kinds = new std::vector<KindInfo>{
      {Kind::kVirtualService,
       "VirtualService",
       "networking.istio.io",
       "virtualservices",
       {"v1", "v1beta1", "v1alpha3"}},
      {Kind::kDestinationRule,
       "DestinationRule",
       "networking.istio.io",
       "destinationrules",
       {"v1", "v1beta1", "v1alpha3"}},
      {Kind::kGateway, "Gateway", "networking.istio.io", "gateways", {"v1", "v1beta1", "v1alpha3"}},
      {Kind::kServiceEntry,
       "ServiceEntry",
       "networking.istio.io",
       "serviceentries",
       {"v1", "v1beta1", "v1alpha3"}},
      {Kind::kWorkloadEntry,
       "WorkloadEntry",
       "networking.istio.io",
       "workloadentries",
       {"v1", "v1beta1", "v1alpha3"}},
      {Kind::kSidecar, "Sidecar", "networking.istio.io", "sidecars", {"v1", "v1beta1", "v1alpha3"}},
      {Kind::kPeerAuthentication,
       "PeerAuthentication",
       "security.istio.io",
       "peerauthentications",
       {"v1", "v1beta1"}},
      {Kind::kAuthorizationPolicy,
       "AuthorizationPolicy",
       "security.istio.io",
       "authorizationpolicies",
       {"v1", "v1beta1"}},
      {Kind::kRequestAuthentication,
       "RequestAuthentication",
       "security.istio.io",
       "requestauthentications",
       {"v1", "v1beta1"}},
      {Kind::kEnvoyFilter, "EnvoyFilter", "networking.istio.io", "envoyfilters", {"v1alpha3"}},
      {Kind::kTelemetry, "Telemetry", "telemetry.istio.io", "telemetries", {"v1", "v1alpha1"}},
      {Kind::kWorkloadGroup,
       "WorkloadGroup",
       "networking.istio.io",
       "workloadgroups",
       {"v1", "v1beta1", "v1alpha3"}},
      {Kind::kProxyConfig, "ProxyConfig", "networking.istio.io", "proxyconfigs", {"v1beta1"}},
      {Kind::kWasmPlugin, "WasmPlugin", "extensions.istio.io", "wasmplugins", {"v1alpha1"}},
  };
  return *kinds;
}

const KindInfo& Info(Kind kind) { return AllKinds()[static_cast<size_t>(kind)]; }

absl::string_view KindName(Kind kind) { return Info(kind).name; }

std::optional<Kind> FindKind(absl::string_view group, absl::string_view kind) {
  for (const auto& info : AllKinds()) {
    if (info.group == group && info.name == kind) return info.kind;
  }
  return std::nullopt;
}

std::string ConfigKey::ToString() const { return absl::StrCat(KindName(kind), "/", ns, "/", name); }

bool OnlyServiceEntryEndpointsDiffer(const Config* before, const Config* after) {
  if (before == nullptr || after == nullptr) return false;
  const ServiceEntry* x = before->AsServiceEntry();
  const ServiceEntry* y = after->AsServiceEntry();
  if (x == nullptr || y == nullptr) return false;
  if (y->resolution != Resolution::kStatic && y->resolution != Resolution::kNone) return false;
  return SameExceptEndpoints(*x, *y) && before->labels == after->labels;
}

}  // namespace meshd::model
