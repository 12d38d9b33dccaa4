// istioctl's proxy-status over ADS: a request of type `istio.io/debug/syncz` is answered, as
// istiod answers it, with one envoy.service.status.v3.ClientConfig per connected proxy (its
// node id and per xDS type SYNCED / NOT_SENT / STALE / ERROR for a NACK) — on a State-of-the-
// World stream as a DiscoveryResponse, on a Delta stream as a DeltaDiscoveryResponse whose
// resources carry the same ClientConfigs, each named by its node id. The answer is outside
// the stream's ACK bookkeeping: the type is never subscribed or tracked, and an ACK of it is
// not answered again. Thread-safe (pure functions of their inputs).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "envoy/service/status/v3/csds.pb.h"
#include "xds/server/stream.h"

namespace meshd::xds {

inline constexpr char kSynczType[] = "istio.io/debug/syncz";

// One ClientConfig per entry of `connections`, in order, except the asking stream `self` and
// streams that have not named a proxy yet.
std::vector<envoy::service::status::v3::ClientConfig> SynczClientConfigs(
    const std::vector<ConnectionStatus>& connections, uint64_t self);

// The State-of-the-World answer: SynczClientConfigs packed as the response's resources.
envoy::service::discovery::v3::DiscoveryResponse SynczResponse(
    const std::vector<ConnectionStatus>& connections, uint64_t self, const std::string& nonce);

// The Delta answer: the same ClientConfigs as Resources named by the proxy's node id, with a
// version that changes when the ClientConfig does.
envoy::service::discovery::v3::DeltaDiscoveryResponse SynczDeltaResponse(
    const std::vector<ConnectionStatus>& connections, uint64_t self, const std::string& nonce);

}  // namespace meshd::xds
