// Process-wide Prometheus metrics, named as istiod names them where istiod has the metric
// (pilot_*), meshd_* otherwise. The registry and every family are thread-safe.
#pragma once

#include <memory>
#include <string>

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

#ifndef MESHD_VERSION
#define MESHD_VERSION "dev"
#endif

namespace meshd {

// The build's version, as istio_build's tag and meshctl's.
inline constexpr char kMeshdVersion[] = MESHD_VERSION;

class Metrics {
 private:
  // Declared first: the families below are registered in it during construction.
  std::shared_ptr<prometheus::Registry> registry_;

 public:
  static Metrics& Get();

  prometheus::Registry& registry() { return *registry_; }
  // Prometheus text exposition of every metric.
  std::string Serialize() const;

  // Config objects rejected by validation, by kind and source ("file", "kube").
  prometheus::Family<prometheus::Counter>& config_rejections;
  // Config objects currently accepted, by kind.
  prometheus::Family<prometheus::Gauge>& config_objects;
  // Connected xDS clients (istiod: pilot_xds), by version label.
  prometheus::Family<prometheus::Gauge>& xds_clients;
  // Responses sent, by type (istiod: pilot_xds_pushes).
  prometheus::Family<prometheus::Counter>& xds_pushes;
  // NACKs received, by type (istiod: pilot_total_xds_rejects).
  prometheus::Family<prometheus::Counter>& xds_rejects;
  // Requests that were malformed or violated the protocol, by reason.
  prometheus::Family<prometheus::Counter>& xds_bad_requests;
  // Generated resources withheld because they break Envoy's validation rules, by type.
  prometheus::Family<prometheus::Counter>& xds_invalid_resources;
  // Bytes of serialized resources sent, by type (istiod: pilot_xds_config_size_bytes).
  prometheus::Family<prometheus::Histogram>& xds_config_size;
  // Time to generate one push for one connection (istiod: pilot_xds_push_time).
  prometheus::Family<prometheus::Histogram>& xds_push_time;
  // Time from the first change of a debounce window to its push (istiod: pilot_debounce_time).
  prometheus::Family<prometheus::Histogram>& debounce_time;
  // Time from a snapshot's publication to a proxy's ACK of it (pilot_proxy_convergence_time).
  prometheus::Family<prometheus::Histogram>& proxy_convergence_time;
  // Snapshots built (meshd_snapshots_total).
  prometheus::Family<prometheus::Counter>& snapshots;
  // Services in the current snapshot (istiod: pilot_services).
  prometheus::Family<prometheus::Gauge>& services;
  // VirtualServices in the current snapshot (istiod: pilot_virt_services).
  prometheus::Family<prometheus::Gauge>& virt_services;
  // Pushes by what triggered them, istiod's `type` label: config, endpoint, service
  // (istiod: pilot_push_triggers).
  prometheus::Family<prometheus::Counter>& push_triggers;
  // Always 1, labelled component="pilot" and tag=<version> (istiod: istio_build).
  prometheus::Family<prometheus::Gauge>& build;
  // Istio config events from the Kubernetes API, by kind (`type`) and `event` (add, update,
  // delete) (istiod: pilot_k8s_cfg_events).
  prometheus::Family<prometheus::Counter>& k8s_cfg_events;
  // Time from handing a response to gRPC to its write completing (istiod: pilot_xds_send_time).
  prometheus::Family<prometheus::Histogram>& xds_send_time;

  // The CA, named as istiod's citadel_server_* (security/pkg/server/ca/monitoring.go).
  // CreateCertificate requests received.
  prometheus::Family<prometheus::Counter>& citadel_csr;
  // Certificates issued.
  prometheus::Family<prometheus::Counter>& citadel_success;
  // Callers that no authenticator accepted.
  prometheus::Family<prometheus::Counter>& citadel_authn_failures;
  // CSRs that do not parse or whose signature does not verify.
  prometheus::Family<prometheus::Counter>& citadel_csr_parsing_errors;
  // Authenticated callers whose identity is not a valid SPIFFE identity.
  prometheus::Family<prometheus::Counter>& citadel_id_extraction_errors;
  // Signing failures by istiod's `error` label: CA_NOT_READY, CSR_ERROR, TTL_ERROR,
  // CERT_GEN_ERROR.
  prometheus::Family<prometheus::Counter>& citadel_csr_sign_errors;
  // Unix time (seconds) when the root the CA chains to / the signing certificate expires.
  prometheus::Family<prometheus::Gauge>& citadel_root_cert_expiry_timestamp;
  prometheus::Family<prometheus::Gauge>& citadel_cert_chain_expiry_timestamp;
  // Seconds until those expire (negative once expired), refreshed every second.
  prometheus::Family<prometheus::Gauge>& citadel_root_cert_expiry_seconds;
  prometheus::Family<prometheus::Gauge>& citadel_cert_chain_expiry_seconds;
  // Plug-in CA material (cacerts directory or secret) refused, by source ("dir", "secret");
  // the previous CA stays in use.
  prometheus::Family<prometheus::Counter>& ca_plugin_load_errors;
  // AuthorizationPolicies that make a workload fail closed (deny all), by policy
  // ("namespace/name") and proxy type ("sidecar", "proxyless-grpc"): counted once for each
  // distinct reason, when it is first seen.
  prometheus::Family<prometheus::Counter>& authz_fail_closed;
  // Status subresource writes of Istio objects, by result ("written", "conflict", "error").
  prometheus::Family<prometheus::Counter>& config_status_writes;

  static const prometheus::Histogram::BucketBoundaries& TimeBuckets();
  static const prometheus::Histogram::BucketBoundaries& SizeBuckets();

 private:
  Metrics();
};

}  // namespace meshd
