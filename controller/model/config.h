// The config objects meshd keeps: Istio kinds, identified by kind/namespace/name, each with
// its validated typed spec. Config values are immutable once built and shared by pointer, so
// every reader is thread-safe.
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

struct Config {
  ConfigKey key;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string resource_version;
  int64_t generation = 0;
  std::string creation_timestamp;  // RFC 3339, empty when the source has none
  // Where it came from, for messages: "file:/etc/meshd/vs.yaml" or "kube".
  std::string origin;
  // The validated spec; its concrete type depends on key.kind (see config/decoder.h).
  std::shared_ptr<const google::protobuf::Message> spec;
  // What the decoder accepted but ignored, one line per field with its path
  // ("spec.http[0].appendHeaders: unknown field, ignored"); shown in /debug/configz.
  std::vector<std::string> warnings;
  // Stable hash of the spec and the metadata that affects generation; equal hashes mean
  // equal configs.
  uint64_t content_hash = 0;

  // The plain model form of the spec for the kinds generators read (networking.h); built
  // once at decode time. monostate for the other kinds.
  std::variant<std::monostate, VirtualService, DestinationRule, AuthorizationPolicy,
               RequestAuthentication>
      model;

  // The wire spec; T must be the kind's message type (see config/decoder.h).
  template <typename T>
  const T& Spec() const {
    return static_cast<const T&>(*spec);
  }
  // The model form, or null when this config is of another kind.
  const VirtualService* AsVirtualService() const { return std::get_if<VirtualService>(&model); }
  const DestinationRule* AsDestinationRule() const { return std::get_if<DestinationRule>(&model); }
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
