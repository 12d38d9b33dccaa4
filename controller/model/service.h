// The service registry's plain types: services (from ServiceEntry, later Kubernetes
// Services) and the endpoints behind each service port. Immutable once published.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace meshd::model {

struct ServicePort {
  std::string name;
  uint32_t number = 0;
  std::string protocol;  // "GRPC", "HTTP", "HTTP2", "TCP", ...
  uint32_t target_port = 0;
};

enum class Resolution { kNone, kStatic, kDns, kDnsRoundRobin };

struct Service {
  std::string hostname;  // fully qualified
  std::string ns;
  std::vector<ServicePort> ports;
  Resolution resolution = Resolution::kStatic;
  bool mesh_external = false;
  std::vector<std::string> addresses;
  // exportTo (ServiceEntry field, or the Service's networking.istio.io/exportTo annotation):
  // empty means visible everywhere.
  std::vector<std::string> export_to;
  std::string origin;  // "ServiceEntry/default/reviews"

  const ServicePort* FindPort(uint32_t number) const {
    for (const auto& p : ports) {
      if (p.number == number) return &p;
    }
    return nullptr;
  }
};

// One workload address serving one port of a service.
struct Endpoint {
  std::string address;
  uint32_t port = 0;          // the port to connect to
  uint32_t service_port = 0;  // which service port it serves
  std::map<std::string, std::string> labels;
  std::string locality;  // "region/zone/subzone"
  uint32_t weight = 1;
  std::string service_account;
  std::string network;
  bool healthy = true;
  // The pod's DNS hostname under a headless service (EndpointSlice `hostname`: a pod with
  // spec.hostname whose spec.subdomain names the service, as a StatefulSet's). Empty: none.
  std::string hostname;

  friend bool operator==(const Endpoint& a, const Endpoint& b) {
    return a.address == b.address && a.port == b.port && a.service_port == b.service_port &&
           a.labels == b.labels && a.locality == b.locality && a.weight == b.weight &&
           a.service_account == b.service_account && a.network == b.network &&
           a.healthy == b.healthy && a.hostname == b.hostname;
  }
};

// TLS material from a Kubernetes secret that a Gateway names by `credentialName`: the
// certificate chain and key ("tls.crt"/"tls.key" or "cert"/"key"), and CA certificates for
// client verification ("ca.crt"/"cacert", or the "<name>-cacert" secret's).
struct Credential {
  std::string cert_chain;
  std::string private_key;
  std::string ca_cert;

  friend bool operator==(const Credential& a, const Credential& b) {
    return a.cert_chain == b.cert_chain && a.private_key == b.private_key && a.ca_cert == b.ca_cert;
  }
};

// True when every selector label is present with the same value.
inline bool LabelsMatch(const std::map<std::string, std::string>& selector,
                        const std::map<std::string, std::string>& labels) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace meshd::model
