#include "xds/gen/tls.h"

#include <algorithm>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"

namespace meshd::xds {
namespace {

namespace tls = envoy::extensions::transport_sockets::tls::v3;

std::optional<MtlsMode> ToMode(model::PeerAuthentication::Mode mode) {
  switch (mode) {
    case model::PeerAuthentication::Mode::kStrict:
      return MtlsMode::kStrict;
    case model::PeerAuthentication::Mode::kPermissive:
      return MtlsMode::kPermissive;
    case model::PeerAuthentication::Mode::kDisable:
      return MtlsMode::kDisable;
    case model::PeerAuthentication::Mode::kUnset:
      break;
  }
  return std::nullopt;  // UNSET: inherit
}

// Oldest first (creation timestamp, then namespace/name), as istiod breaks ties.
bool Older(const model::ConfigPtr& a, const model::ConfigPtr& b) {
  if (a->creation_timestamp != b->creation_timestamp) {
    if (a->creation_timestamp.empty()) return false;
    if (b->creation_timestamp.empty()) return true;
    return a->creation_timestamp < b->creation_timestamp;
  }
  return a->key < b->key;
}

void SetProviders(tls::CommonTlsContext* common) {
  common->mutable_tls_certificate_provider_instance()->set_instance_name(kCertProviderInstance);
  common->mutable_tls_certificate_provider_instance()->set_certificate_name("default");
  auto* validation =
      common->mutable_combined_validation_context()->mutable_default_validation_context();
  validation->mutable_ca_certificate_provider_instance()->set_instance_name(kCertProviderInstance);
  validation->mutable_ca_certificate_provider_instance()->set_certificate_name("ROOTCA");
}

}  // namespace

const char* MtlsModeName(MtlsMode mode) {
  switch (mode) {
    case MtlsMode::kStrict:
      return "STRICT";
    case MtlsMode::kDisable:
      return "DISABLE";
    case MtlsMode::kPermissive:
      break;
  }
  return "PERMISSIVE";
}

namespace {

// The PeerAuthentications a workload's mode comes from, most specific first (any may be null).
struct ApplicablePeerAuthentications {
  model::ConfigPtr workload, namespace_wide, mesh;
};

ApplicablePeerAuthentications FindPeerAuthentications(
    const model::Snapshot& snapshot, const std::string& ns,
    const std::map<std::string, std::string>& labels) {
  model::ConfigPtr workload, namespace_wide, mesh;
  for (const auto& c : snapshot.Configs(model::Kind::kPeerAuthentication)) {
    const model::PeerAuthentication* pa = c->AsPeerAuthentication();
    if (pa == nullptr) continue;
    bool has_selector = pa->SelectsWorkloads();
    if (c->key.ns == ns && has_selector) {
      if (model::LabelsMatch(*pa->selector, labels) &&
          (workload == nullptr || Older(c, workload))) {
        workload = c;
      }
    } else if (c->key.ns == ns && !has_selector) {
      if (namespace_wide == nullptr || Older(c, namespace_wide)) namespace_wide = c;
    } else if (c->key.ns == snapshot.root_namespace() && !has_selector) {
      if (mesh == nullptr || Older(c, mesh)) mesh = c;
    }
  }
  return {workload, namespace_wide, mesh};
}

}  // namespace

std::vector<model::ConfigPtr> PeerAuthenticationsFor(
    const model::Snapshot& snapshot, const std::string& ns,
    const std::map<std::string, std::string>& labels) {
  ApplicablePeerAuthentications found = FindPeerAuthentications(snapshot, ns, labels);
  std::vector<model::ConfigPtr> out;
  for (const auto& c : {found.workload, found.namespace_wide, found.mesh}) {
    if (c != nullptr) out.push_back(c);
  }
  return out;
}

MtlsMode EffectiveMtlsMode(const model::Snapshot& snapshot, const std::string& ns,
                           const std::map<std::string, std::string>& labels, uint32_t port) {
  auto [workload, namespace_wide, mesh] = FindPeerAuthentications(snapshot, ns, labels);
  if (workload != nullptr) {
    const model::PeerAuthentication& pa = *workload->AsPeerAuthentication();
    if (auto it = pa.port_level_mtls.find(port); it != pa.port_level_mtls.end()) {
      if (auto m = ToMode(it->second)) return *m;
    }
    if (auto m = ToMode(pa.mode)) return *m;
  }
  for (const auto& c : {namespace_wide, mesh}) {
    if (c == nullptr) continue;
    if (auto m = ToMode(c->AsPeerAuthentication()->mode)) return *m;
  }
  return MtlsMode::kPermissive;
}

std::vector<std::string> EndpointIdentities(const model::Snapshot& snapshot,
                                            const std::string& host, uint32_t port,
                                            const std::map<std::string, std::string>& selector,
                                            const std::string& trust_domain) {
  const model::Service* svc = snapshot.FindService(host);
  if (svc == nullptr) return {};
  std::set<std::string> out;
  for (const auto& ep : snapshot.Endpoints(host)) {
    if (ep.service_port != port || !model::LabelsMatch(selector, ep.labels)) continue;
    out.insert(absl::StrCat("spiffe://", trust_domain, "/ns/", svc->ns, "/sa/",
                            ep.service_account.empty() ? "default" : ep.service_account));
  }
  return {out.begin(), out.end()};
}

bool DestinationRequiresMtls(const model::Snapshot& snapshot, const std::string& host,
                             uint32_t port, const std::map<std::string, std::string>& selector) {
  const model::Service* svc = snapshot.FindService(host);
  if (svc == nullptr || svc->mesh_external) return false;
  bool any = false;
  for (const auto& ep : snapshot.Endpoints(host)) {
    if (ep.service_port != port || !model::LabelsMatch(selector, ep.labels)) continue;
    if (EffectiveMtlsMode(snapshot, svc->ns, ep.labels, ep.port) != MtlsMode::kStrict) {
      return false;
    }
    any = true;
  }
  return any;
}

tls::UpstreamTlsContext BuildUpstreamTlsContext(const std::vector<std::string>& peer_identities,
                                                const std::string& sni) {
  tls::UpstreamTlsContext ctx;
  if (!sni.empty()) ctx.set_sni(sni);
  SetProviders(ctx.mutable_common_tls_context());
  auto* validation = ctx.mutable_common_tls_context()
                         ->mutable_combined_validation_context()
                         ->mutable_default_validation_context();
  for (const auto& id : peer_identities) {
    validation->add_match_subject_alt_names()->set_exact(id);
  }
  if (peer_identities.empty()) {
    validation->add_match_subject_alt_names()->set_prefix("spiffe://");
  }
  return ctx;
}

tls::DownstreamTlsContext BuildDownstreamTlsContext(bool require_client_certificate) {
  tls::DownstreamTlsContext ctx;
  SetProviders(ctx.mutable_common_tls_context());
  ctx.mutable_require_client_certificate()->set_value(require_client_certificate);
  return ctx;
}

envoy::config::core::v3::TransportSocket TlsTransportSocket(
    const google::protobuf::Message& context) {
  envoy::config::core::v3::TransportSocket socket;
  socket.set_name(kTlsTransportSocket);
  socket.mutable_typed_config()->PackFrom(context);
  return socket;
}

}  // namespace meshd::xds
