// Snapshot: the immutable model of the whole mesh at one version — accepted configs,
// services, endpoints, and the indexes the generators need. Built once by the snapshot
// builder, then shared (shared_ptr<const Snapshot>) by every reader without locks.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "controller/model/config.h"
#include "controller/model/service.h"

namespace meshd::model {

// Istio host matching: `pattern` equals `host`, is "*", or is "*.suffix" and `host` ends with
// ".suffix".
bool HostMatches(absl::string_view pattern, absl::string_view host);

// Istio's exportTo: whether an object of `config_ns` with `export_to` is visible from
// `proxy_ns` (empty or "*" → everywhere, "." → its own namespace, else the namespaces named).
bool ExportedTo(const std::vector<std::string>& export_to, const std::string& config_ns,
                const std::string& proxy_ns);

class Snapshot {
 public:
  struct Data {
    uint64_t version = 0;
    std::string domain = "cluster.local";
    std::string trust_domain = "cluster.local";  // SPIFFE IDs: spiffe://<trust_domain>/ns/..
    std::string root_namespace = "istio-system";
    std::map<ConfigKey, ConfigPtr> configs;
    std::map<std::string, Service> services;                 // by hostname
    std::map<std::string, std::vector<Endpoint>> endpoints;  // by hostname
    std::map<std::string, Credential> credentials;           // by "<namespace>/<secret name>"
  };

  explicit Snapshot(Data data);

  uint64_t version() const { return data_.version; }
  const std::string& domain() const { return data_.domain; }
  const std::string& trust_domain() const { return data_.trust_domain; }
  const std::string& root_namespace() const { return data_.root_namespace; }

  // Configs of one kind, ordered by namespace/name.
  const std::vector<ConfigPtr>& Configs(Kind kind) const;
  const std::map<ConfigKey, ConfigPtr>& AllConfigs() const { return data_.configs; }
  ConfigPtr FindConfig(const ConfigKey& key) const;

  const std::map<std::string, Service>& Services() const { return data_.services; }
  // The credential in secret `name` of namespace `ns`, or null.
  const Credential* FindCredential(const std::string& ns, const std::string& name) const {
    auto it = data_.credentials.find(ns + "/" + name);
    return it == data_.credentials.end() ? nullptr : &it->second;
  }
  const Service* FindService(const std::string& hostname) const;
  // Endpoints of a service (every port), empty if none.
  const std::vector<Endpoint>& Endpoints(const std::string& hostname) const;

  // The service endpoints at `address` (a workload's IP): what the workload serves, for the
  // inbound side of its sidecar. Indexed once per snapshot.
  struct EndpointRef {
    const Service* service;
    const Endpoint* endpoint;
  };
  const std::vector<EndpointRef>& EndpointsAt(const std::string& address) const;

  // Istio's short-name rule: a name without dots is `<name>.<ns>.svc.<domain>`.
  std::string ResolveShortName(const std::string& name, const std::string& ns) const;
  // The registry host a client's target names, trying the forms a gRPC client may use
  // ("reviews", "reviews.default", "reviews.default.svc", FQDN). Empty if none matches.
  std::string ResolveClientHost(const std::string& name, const std::string& proxy_ns) const;

  // The VirtualService that routes `host` for a proxy in `proxy_ns`: the exact host, else the
  // most specific wildcard host ("*.example.com", "*"); among those, one in the proxy's
  // namespace first, then the oldest/lexically first elsewhere (Istio's precedence).
  ConfigPtr VirtualServiceFor(const std::string& host, const std::string& proxy_ns) const;
  // The DestinationRule for `host`: proxy namespace, then the service's namespace, then the
  // root namespace; in each, the exact host before the most specific wildcard (so a mesh-wide
  // "*.local" ISTIO_MUTUAL rule in the root namespace applies where nothing closer does).
  // With `labels` (the proxy's), a rule whose workloadSelector selects the proxy comes first.
  // A rule whose exportTo does not include the proxy's namespace never applies to it.
  ConfigPtr DestinationRuleFor(const std::string& host, const std::string& proxy_ns,
                               const std::map<std::string, std::string>* labels = nullptr) const;

 private:
  static const std::vector<ConfigPtr>* MostSpecific(
      const std::map<std::string, std::vector<ConfigPtr>>& index, const std::string& host);

  Data data_;
  std::map<Kind, std::vector<ConfigPtr>> by_kind_;
  std::map<std::string, std::vector<ConfigPtr>> vs_by_host_;
  std::map<std::string, std::vector<ConfigPtr>> dr_by_host_;
  std::map<std::string, std::vector<EndpointRef>> endpoints_by_address_;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace meshd::model
