// Offline validation of Envoy resources by the protoc-gen-validate (PGV) rules compiled into
// Envoy's protos: what Envoy's own MessageUtil::validate would reject, without an Envoy binary.
//
// The rules are read at run time from the descriptors of the generated protos in
// meshd_xds_proto: `(validate.rules)` on fields, `(validate.required)` on oneofs and
// `(validate.disabled)` (and `(validate.ignored)` where the compiled validate.proto has it) on
// messages. Any message is walked by reflection; every `google.protobuf.Any` found on the way
// (typed_config, typed_per_filter_config values, ...) is unpacked through the generated pool
// and validated recursively. All errors are collected, each as "<field path>: <reason>", e.g.
//   filter_chains[1].filters[0].typed_config(envoy.extensions.filters.network.
//   http_connection_manager.v3.HttpConnectionManager).route_config.virtual_hosts[0].domains:
//   value must contain at least 1 item(s)
// An error about the root message itself has no path and no colon.
//
// Besides the PGV annotations, one rule Envoy applies to every message is checked too: every
// google.protobuf.Duration must be non-negative and within protobuf's range (Envoy's
// validateDurationFields).
//
// All functions are thread-safe (pure; compiled regular expressions are cached behind a mutex).
#pragma once

#include <string>
#include <vector>

#include "google/protobuf/any.pb.h"
#include "google/protobuf/message.h"

namespace meshd::xds {

// Validates `message` and everything under it (including packed Any values) against the PGV
// rules of its descriptor. Returns every violation; empty means valid.
std::vector<std::string> ValidateResource(const google::protobuf::Message& message);

// Unpacks `any` by its type URL (the message must be in the compiled descriptor pool) and
// validates it like ValidateResource. An unknown type URL or bytes that do not parse as the
// named type are errors.
std::vector<std::string> ValidateAny(const google::protobuf::Any& any);

}  // namespace meshd::xds
