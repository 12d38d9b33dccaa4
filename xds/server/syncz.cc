#include "xds/server/syncz.h"

#include "absl/hash/hash.h"
#include "absl/strings/str_format.h"

namespace meshd::xds {

using envoy::service::status::v3::ClientConfig;
using envoy::service::status::v3::ConfigStatus;

std::vector<ClientConfig> SynczClientConfigs(const std::vector<ConnectionStatus>& connections,
                                             uint64_t self) {
  std::vector<ClientConfig> out;
  for (const auto& c : connections) {
    if (c.id == self || c.proxy_id.empty()) continue;
    ClientConfig& cc = out.emplace_back();
    cc.mutable_node()->set_id(c.proxy_id);
    for (const auto& t : c.types) {
      auto* g = cc.add_generic_xds_configs();
      g->set_type_url(t.type_url);
      g->set_version_info(t.version_sent);
      ConfigStatus status = ConfigStatus::SYNCED;
      if (t.version_sent.empty()) {
        status = ConfigStatus::NOT_SENT;
      } else if (!t.nack_error.empty()) {
        status = ConfigStatus::ERROR;
        g->mutable_error_state()->set_details(t.nack_error);
        g->mutable_error_state()->set_version_info(t.nack_version);
      } else if (t.version_acked != t.version_sent) {
        status = ConfigStatus::STALE;
      }
      g->set_config_status(status);
    }
  }
  return out;
}

envoy::service::discovery::v3::DiscoveryResponse SynczResponse(
    const std::vector<ConnectionStatus>& connections, uint64_t self, const std::string& nonce) {
  envoy::service::discovery::v3::DiscoveryResponse response;
  response.set_type_url(kSynczType);
  response.set_nonce(nonce);
  response.mutable_control_plane()->set_identifier("meshd");
  for (const auto& cc : SynczClientConfigs(connections, self)) {
    response.add_resources()->PackFrom(cc);
  }
  return response;
}

envoy::service::discovery::v3::DeltaDiscoveryResponse SynczDeltaResponse(
    const std::vector<ConnectionStatus>& connections, uint64_t self, const std::string& nonce) {
  envoy::service::discovery::v3::DeltaDiscoveryResponse response;
  response.set_type_url(kSynczType);
  response.set_nonce(nonce);
  response.mutable_control_plane()->set_identifier("meshd");
  for (const auto& cc : SynczClientConfigs(connections, self)) {
    auto* r = response.add_resources();
    r->set_name(cc.node().id());
    r->mutable_resource()->PackFrom(cc);
    r->set_version(absl::StrFormat("%016x", absl::HashOf(r->resource().value())));
  }
  return response;
}

}  // namespace meshd::xds
