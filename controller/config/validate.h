// Semantic validation of Istio specs, after decoding: the rules Istio's validating webhook
// applies, plus what the real xDS clients would otherwise NACK (e.g. RE2 regexes). Every
// error is added with its field path; what istiod accepts with a warning goes to `warnings`
// (when given). Thread-safe (stateless).
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "controller/common/field_errors.h"
#include "controller/model/config.h"
#include "google/protobuf/message.h"

namespace meshd::config {

void ValidateSpec(model::Kind kind, const google::protobuf::Message& spec, const std::string& ns,
                  const std::string& path, FieldErrors* errors, FieldErrors* warnings = nullptr);

bool IsDns1123Label(absl::string_view s);
bool IsDns1123Subdomain(absl::string_view s);
// A host in VirtualService/ServiceEntry/DestinationRule: FQDN, short name, `*` or `*.suffix`.
bool IsValidHost(absl::string_view host);

}  // namespace meshd::config
