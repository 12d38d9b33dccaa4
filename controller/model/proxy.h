// A connected proxy as the generators see it: identity and metadata taken from the xDS
// Node once, at connection time. Immutable after construction.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace meshd::model {

struct Proxy {
  std::string id;    // Node.id as sent
  std::string type;  // "sidecar", "router", "proxyless" (first field of the id)
  std::string ip;    // first IP from the id or INSTANCE_IPS
  std::string pod_name;
  std::string ns;
  std::string dns_domain;
  std::string generator;  // metadata GENERATOR, "grpc" for proxyless
  std::string cluster_id;
  std::string service_account;
  std::string istio_version;
  std::map<std::string, std::string> labels;
  std::vector<std::string> ips;
  // Node.locality as "region/zone/subzone" (empty parts kept), "" when unset.
  std::string locality;
  std::string interception_mode;  // INTERCEPTION_MODE: REDIRECT (default), TPROXY, NONE
  std::string workload_name;      // WORKLOAD_NAME
  std::string istio_revision;     // ISTIO_REVISION
  // istio-agent proxies DNS (DNS_CAPTURE / DNS_AUTO_ALLOCATE "true") and asks for NDS.
  bool dns_capture = false;
  bool dns_auto_allocate = false;

  bool IsRouter() const { return type == "router"; }
  // An Envoy proxy (sidecar or gateway), as opposed to a proxyless gRPC client.
  bool IsEnvoy() const { return generator != "grpc" && type != "proxyless"; }
};

// Parses Istio's node id `<type>~<ip>~<pod>.<ns>~<ns>.svc.<domain>` into `proxy`'s fields.
// An id in another shape is not an error: the fields stay empty and metadata may fill them.
void ParseNodeId(absl::string_view id, Proxy* proxy);

}  // namespace meshd::model
