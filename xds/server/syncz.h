// istioctl's proxy-status over ADS: a DiscoveryRequest of type `istio.io/debug/syncz` is
// answered, as istiod answers it, with one envoy.service.status.v3.ClientConfig per connected
// proxy (its node id and per xDS type SYNCED / NOT_SENT / STALE / ERROR for a NACK). The
// answer is outside the stream's ACK bookkeeping: the type is never subscribed or tracked,
// and an ACK of it is not answered again. Thread-safe (a pure function of its inputs).
#pragma once

#include <cstdint>
#include <vector>

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "xds/server/stream.h"

namespace meshd::xds {

inline constexpr char kSynczType[] = "istio.io/debug/syncz";

// The response listing `connections` except the asking stream `self` and streams that have
// not named a proxy yet.
envoy::service::discovery::v3::DiscoveryResponse SynczResponse(
    const std::vector<ConnectionStatus>& connections, uint64_t self, const std::string& nonce);

}  // namespace meshd::xds
