#include "controller/model/config.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "istio/networking/v1alpha3/service_entry.pb.h"

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
  namespace net = istio::networking::v1alpha3;
  if (before == nullptr || after == nullptr || before->key.kind != Kind::kServiceEntry ||
      after->key.kind != Kind::kServiceEntry || before->spec == nullptr || after->spec == nullptr) {
    return false;
  }
  net::ServiceEntry x = before->Spec<net::ServiceEntry>();
  net::ServiceEntry y = after->Spec<net::ServiceEntry>();
  if (y.resolution() != net::ServiceEntry::STATIC && y.resolution() != net::ServiceEntry::NONE) {
    return false;
  }
  x.clear_endpoints();
  y.clear_endpoints();
  return google::protobuf::util::MessageDifferencer::Equals(x, y) &&
         before->labels == after->labels;
}

}  // namespace meshd::model
