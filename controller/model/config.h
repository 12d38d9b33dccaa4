// The config objects meshd keeps: Istio kinds, identified by kind/namespace/name, each with
// its validated typed spec and, for the kinds meshd reads, its plain model form. Config values are
// immutable once built and shared by pointer, so every reader is thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "controller/model/networking.h"
#include "controller/model/security.h"
#include "google/protobuf/message.h"

namespace meshd::model {

enum class Kind {
  kVirtualService,
  kDestinationRule,
  kGateway,
  kServiceEntry,
  kWorkloadEntry,
  kSidecar,
  kPeerAuthentication,
  kAuthorizationPolicy,
  kRequestAuthentication,
  kEnvoyFilter,
  kTelemetry,
  kWorkloadGroup,
  kProxyConfig,
  kWasmPlugin,
};

struct KindInfo {
  Kind kind;
  absl::string_view name;                   // "VirtualService"
  absl::string_view group;                  // "networking.istio.io"
  absl::string_view plural;                 // "virtualservices"
  std::vector<absl::string_view> versions;  // served versions, preferred first
};

// Every kind meshd decodes, in a fixed order.
const std::vector<KindInfo>& AllKinds();
const KindInfo& Info(Kind kind);
absl::string_view KindName(Kind kind);
// Looks a kind up by API group and kind name ("networking.istio.io", "VirtualService").
std::optional<Kind> FindKind(absl::string_view group, absl::string_view kind);

struct ConfigKey {
  Kind kind;
  std::string ns;
  std::string name;

  // "VirtualService/default/reviews"
  std::string ToString() const;
  friend bool operator<(const ConfigKey& a, const ConfigKey& b) {
    return std::tie(a.kind, a.ns, a.name) < std::tie(b.kind, b.ns, b.name);
  }
  friend bool operator==(const ConfigKey& a, const ConfigKey& b) {
    return a.kind == b.kind && a.ns == b.ns && a.name == b.name;
  }
  friend bool operator!=(const ConfigKey& a, const ConfigKey& b) { return !(a == b); }
};

// `message` as the generated message type T, or null when it is null or of another type: its
// descriptor is not T's, or it is a dynamic message built from T's descriptor. The one checked
// downcast of wire specs.
template <typename T>
const T* MessageAs(const google::protobuf::Message* message) {
  if (message == nullptr || message->GetDescriptor() != T::descriptor() ||
      message->GetReflection() != T::default_instance().GetReflection()) {
    return nullptr;
  }
  return static_cast<const T*>(message);
}

// The model form of a config's spec, one alternative per kind that has one.
using ConfigModel = std::variant<std::monostate, VirtualService, DestinationRule, Gateway,
                                 ServiceEntry, WorkloadEntry, Sidecar, PeerAuthentication,
                                 AuthorizationPolicy, RequestAuthentication>;

struct Config {
  ConfigKey key;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string resource_version;
  int64_t generation = 0;
  std::string creation_timestamp;  // RFC 3339, empty when the source has none
  // Where it came from, for messages: "file:/etc/meshd/vs.yaml" or "kube".
  std::string origin;
  // The validated wire spec; its concrete type depends on key.kind (see config/decoder.h).
  // Generators and the registry read `model` instead.
  std::shared_ptr<const google::protobuf::Message> spec;
  // What the decoder accepted but ignored, one line per field with its path
  // ("spec.http[0].appendHeaders: unknown field, ignored"); shown in /debug/configz.
  std::vector<std::string> warnings;
  // Stable hash of the spec and the metadata that affects generation; equal hashes mean
  // equal configs.
  uint64_t content_hash = 0;

  // The plain model form of the spec for the kinds meshd reads (networking.h, security.h);
  // built once at decode time. monostate for the other kinds.
  ConfigModel model;

  // The wire spec as T, or null when it is not a T (another kind's message). Readers use the
  // model form (As...() below); this is for the decoder, /debug output and tests.
  template <typename T>
  const T* SpecAs() const {
    return MessageAs<T>(spec.get());
  }
  // The model form, or null when this config is of another kind.
  const VirtualService* AsVirtualService() const { return std::get_if<VirtualService>(&model); }
  const DestinationRule* AsDestinationRule() const { return std::get_if<DestinationRule>(&model); }
  const Gateway* AsGateway() const { return std::get_if<Gateway>(&model); }
  const ServiceEntry* AsServiceEntry() const { return std::get_if<ServiceEntry>(&model); }
  const WorkloadEntry* AsWorkloadEntry() const { return std::get_if<WorkloadEntry>(&model); }
  const Sidecar* AsSidecar() const { return std::get_if<Sidecar>(&model); }
  const PeerAuthentication* AsPeerAuthentication() const {
    return std::get_if<PeerAuthentication>(&model);
  }
  const AuthorizationPolicy* AsAuthorizationPolicy() const {
    return std::get_if<AuthorizationPolicy>(&model);
  }
  const RequestAuthentication* AsRequestAuthentication() const {
    return std::get_if<RequestAuthentication>(&model);
  }
};

using ConfigPtr = std::shared_ptr<const Config>;

// Whether two versions of one ServiceEntry differ only in their STATIC `endpoints` (and
// nothing else, labels included): then only EDS changes, as istiod's ServiceEntry controller
// decides. With DNS resolution the endpoints are in CDS, so that is a full change. False
// for other kinds or a missing version.
bool OnlyServiceEntryEndpointsDiffer(const Config* before, const Config* after);

}  // namespace meshd::model
