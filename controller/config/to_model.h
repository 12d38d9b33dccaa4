// Conversion of validated Istio specs (proto/istio/...) into the plain model structs meshd
// reads (controller/model/networking.h, security.h). Called once per object by DecodeObject,
// after validation succeeded, so it never fails: what validation refuses never gets here.
// Thread-safe (pure).
#pragma once

#include "controller/model/config.h"
#include "controller/model/networking.h"
#include "controller/model/security.h"
#include "google/protobuf/message.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/gateway.pb.h"
#include "istio/networking/v1alpha3/service_entry.pb.h"
#include "istio/networking/v1alpha3/sidecar.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "istio/security/v1beta1/security.pb.h"

namespace meshd::config {

model::VirtualService ToModel(const istio::networking::v1alpha3::VirtualService& spec);
model::DestinationRule ToModel(const istio::networking::v1alpha3::DestinationRule& spec);
model::Gateway ToModel(const istio::networking::v1alpha3::Gateway& spec);
model::ServiceEntry ToModel(const istio::networking::v1alpha3::ServiceEntry& spec);
model::WorkloadEntry ToModel(const istio::networking::v1alpha3::WorkloadEntry& spec);
model::Sidecar ToModel(const istio::networking::v1alpha3::Sidecar& spec);
model::PeerAuthentication ToModel(const istio::security::v1beta1::PeerAuthentication& spec);
model::AuthorizationPolicy ToModel(const istio::security::v1beta1::AuthorizationPolicy& spec);
model::RequestAuthentication ToModel(const istio::security::v1beta1::RequestAuthentication& spec);

// The model form of `spec` for a config of `kind`: monostate for the kinds without one, and
// also when `spec` is not the kind's message type (checked, never cast blindly).
model::ConfigModel ToModel(model::Kind kind, const google::protobuf::Message& spec);

}  // namespace meshd::config
