// Conversion of Kubernetes registry objects into meshd's model: a core Service becomes a
// model::Service (host "<name>.<ns>.svc.<domain>", ports with protocol from appProtocol or
// the port name's prefix), and the EndpointSlices of a Service (label
// kubernetes.io/service-name), with the Pods their endpoints point at (targetRef) and the
// Nodes' topology labels, become its endpoints. Pure functions of their inputs; thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "controller/model/service.h"
#include "nlohmann/json.hpp"

namespace meshd::kube {

// "grpc", "http2", "kubernetes.io/h2c", port names "grpc-web", "http-foo", ... → "GRPC", ...
std::string PortProtocol(const std::string& app_protocol, const std::string& port_name,
                         const std::string& l4_protocol);

// The registry host of a Service.
std::string ServiceHost(const std::string& name, const std::string& ns, const std::string& domain);

// Nothing if the object is not a usable Service.
std::optional<model::Service> ServiceFromKube(const nlohmann::json& service,
                                              const std::string& domain);

struct EndpointInputs {
  std::vector<nlohmann::json> slices;  // the Service's EndpointSlices
  // Looks up a Pod ("ns/name") and a Node ("name"); nothing if unknown.
  std::function<std::optional<nlohmann::json>(const std::string& key)> pod;
  std::function<std::optional<nlohmann::json>(const std::string& name)> node;
};

// The endpoints of `service`: one per (slice endpoint address, service port served), healthy
// when ready (or serving and not terminating), labelled with the Pod's labels, ordered and
// without duplicates.
std::vector<model::Endpoint> EndpointsFromSlices(const model::Service& service,
                                                 const EndpointInputs& inputs);

// The TLS material in a Kubernetes Secret, as istiod reads a credentialName: "tls.crt" +
// "tls.key" (+ "ca.crt"), or "cert" + "key" (+ "cacert"); a secret with only "ca.crt" /
// "cacert" (the "<name>-cacert" form) gives a CA-only credential. nullopt for anything else
// (service-account tokens, opaque data), including undecodable base64.
std::optional<model::Credential> CredentialFromSecret(const nlohmann::json& secret);

}  // namespace meshd::kube
