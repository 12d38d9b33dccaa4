// Conversion of validated Istio specs (proto/istio/...) into the plain model structs the
// generators read (controller/model/networking.h). Called once per object by DecodeObject,
// after validation succeeded, so it never fails: what validation refuses never gets here.
// Thread-safe (pure).
#pragma once

#include "controller/model/networking.h"
#include "controller/model/security.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "istio/security/v1beta1/security.pb.h"

namespace meshd::config {

model::VirtualService ToModel(const istio::networking::v1alpha3::VirtualService& spec);
model::DestinationRule ToModel(const istio::networking::v1alpha3::DestinationRule& spec);
model::AuthorizationPolicy ToModel(const istio::security::v1beta1::AuthorizationPolicy& spec);
model::RequestAuthentication ToModel(const istio::security::v1beta1::RequestAuthentication& spec);

}  // namespace meshd::config
