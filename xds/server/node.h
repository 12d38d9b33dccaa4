// The proxy a stream belongs to, from the Node of its first request: Istio's node id and
// the metadata keys istio-agent sets. Thread-safe (pure).
#pragma once

#include "absl/status/statusor.h"
#include "controller/model/proxy.h"
#include "envoy/config/core/v3/base.pb.h"

namespace meshd::xds {

// InvalidArgument if the node has no id.
absl::StatusOr<model::Proxy> ProxyFromNode(const envoy::config::core::v3::Node& node);

}  // namespace meshd::xds
