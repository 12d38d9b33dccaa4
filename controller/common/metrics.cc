#include "controller/common/metrics.h"

#include "prometheus/text_serializer.h"

namespace meshd {
namespace {

std::shared_ptr<prometheus::Registry> NewRegistry() {
  return std::make_shared<prometheus::Registry>();
}

}  // namespace

Metrics& Metrics::Get() {
  static Metrics* metrics = new Metrics();
  return *metrics;
}

Metrics::Metrics()
    : registry_(NewRegistry()),
      config_rejections(prometheus::BuildCounter()
                            .Name("meshd_config_rejections_total")
                            .Help("Config objects rejected by validation.")
                            .Register(*registry_)),
      config_objects(prometheus::BuildGauge()
                         .Name("meshd_config_objects")
                         .Help("Config objects currently accepted, by kind.")
                         .Register(*registry_)),
      xds_clients(prometheus::BuildGauge()
                      .Name("pilot_xds")
                      .Help("Number of endpoints connected to this pilot using XDS.")
                      .Register(*registry_)),
      xds_pushes(prometheus::BuildCounter()
                     .Name("pilot_xds_pushes")
                     .Help("Pilot build and send errors for lds, rds, cds and eds.")
                     .Register(*registry_)),
      xds_rejects(prometheus::BuildCounter()
                      .Name("pilot_total_xds_rejects")
                      .Help("Total number of XDS responses from pilot rejected by proxy.")
                      .Register(*registry_)),
      xds_bad_requests(prometheus::BuildCounter()
                           .Name("meshd_xds_bad_requests_total")
                           .Help("xDS requests that were malformed or broke the protocol.")
                           .Register(*registry_)),
      xds_invalid_resources(
          prometheus::BuildCounter()
              .Name("meshd_xds_invalid_resources_total")
              .Help("Generated xDS resources not sent because they fail Envoy's validation.")
              .Register(*registry_)),
      xds_config_size(prometheus::BuildHistogram()
                          .Name("pilot_xds_config_size_bytes")
                          .Help("Distribution of configuration sizes pushed to clients.")
                          .Register(*registry_)),
      xds_push_time(prometheus::BuildHistogram()
                        .Name("pilot_xds_push_time")
                        .Help("Total time in seconds Pilot takes to push lds, rds, cds and eds.")
                        .Register(*registry_)),
      debounce_time(prometheus::BuildHistogram()
                        .Name("pilot_debounce_time")
                        .Help("Delay in seconds between the first config enters debouncing "
                              "and the merged push request is pushed into the push queue.")
                        .Register(*registry_)),
      proxy_convergence_time(prometheus::BuildHistogram()
                                 .Name("pilot_proxy_convergence_time")
                                 .Help("Delay in seconds between config change and a proxy "
                                       "receiving all required configuration.")
                                 .Register(*registry_)),
      snapshots(prometheus::BuildCounter()
                    .Name("meshd_snapshots_total")
                    .Help("Immutable model snapshots built.")
                    .Register(*registry_)),
      services(prometheus::BuildGauge()
                   .Name("pilot_services")
                   .Help("Total services known to pilot.")
                   .Register(*registry_)),
      virt_services(prometheus::BuildGauge()
                        .Name("pilot_virt_services")
                        .Help("Total virtual services known to pilot.")
                        .Register(*registry_)),
      push_triggers(prometheus::BuildCounter()
                        .Name("pilot_push_triggers")
                        .Help("Total number of times a push was triggered, labeled by reason.")
                        .Register(*registry_)),
      build(prometheus::BuildGauge()
                .Name("istio_build")
                .Help("Istio component build info")
                .Register(*registry_)),
      k8s_cfg_events(prometheus::BuildCounter()
                         .Name("pilot_k8s_cfg_events")
                         .Help("Events from k8s config.")
                         .Register(*registry_)),
      xds_send_time(prometheus::BuildHistogram()
                        .Name("pilot_xds_send_time")
                        .Help("Total time in seconds Pilot takes to send generated configuration.")
                        .Register(*registry_)),
      citadel_csr(prometheus::BuildCounter()
                      .Name("citadel_server_csr_count")
                      .Help("The number of CSRs received by the CA server.")
                      .Register(*registry_)),
      citadel_success(prometheus::BuildCounter()
                          .Name("citadel_server_success_cert_issuance_count")
                          .Help("The number of certificates issued.")
                          .Register(*registry_)),
      citadel_authn_failures(prometheus::BuildCounter()
                                 .Name("citadel_server_authentication_failure_count")
                                 .Help("The number of authentication failures.")
                                 .Register(*registry_)),
      citadel_csr_parsing_errors(prometheus::BuildCounter()
                                     .Name("citadel_server_csr_parsing_err_count")
                                     .Help("The number of CSRs that could not be parsed.")
                                     .Register(*registry_)),
      citadel_id_extraction_errors(
          prometheus::BuildCounter()
              .Name("citadel_server_id_extraction_err_count")
              .Help("The number of callers whose identity could not be extracted.")
              .Register(*registry_)),
      citadel_csr_sign_errors(prometheus::BuildCounter()
                                  .Name("citadel_server_csr_sign_err_count")
                                  .Help("The number of errors when signing a CSR, by error type.")
                                  .Register(*registry_)),
      citadel_root_cert_expiry_timestamp(
          prometheus::BuildGauge()
              .Name("citadel_server_root_cert_expiry_timestamp")
              .Help("Unix time in seconds when the CA's root certificate expires.")
              .Register(*registry_)),
      citadel_cert_chain_expiry_timestamp(
          prometheus::BuildGauge()
              .Name("citadel_server_cert_chain_expiry_timestamp")
              .Help("Unix time in seconds when the CA's signing certificate expires.")
              .Register(*registry_)),
      citadel_root_cert_expiry_seconds(
          prometheus::BuildGauge()
              .Name("citadel_server_root_cert_expiry_seconds")
              .Help("Seconds until the CA's root certificate expires (negative once expired).")
              .Register(*registry_)),
      citadel_cert_chain_expiry_seconds(
          prometheus::BuildGauge()
              .Name("citadel_server_cert_chain_expiry_seconds")
              .Help("Seconds until the CA's signing certificate expires (negative once expired).")
              .Register(*registry_)),
      ca_plugin_load_errors(
          prometheus::BuildCounter()
              .Name("meshd_ca_plugin_load_errors_total")
              .Help("Plug-in CA material refused, by source; the previous CA stays in use.")
              .Register(*registry_)),
      authz_fail_closed(prometheus::BuildCounter()
                            .Name("meshd_authz_fail_closed_total")
                            .Help("AuthorizationPolicy fail-closed reasons (the workload denies "
                                  "all requests), by policy and proxy type; once per reason.")
                            .Register(*registry_)),
      config_status_writes(
          prometheus::BuildCounter()
              .Name("meshd_config_status_writes_total")
              .Help("Status subresource writes of Istio objects, by result (written, conflict, "
                    "error).")
              .Register(*registry_)) {
  build.Add({{"component", "pilot"}, {"tag", kMeshdVersion}}).Set(1);
}

std::string Metrics::Serialize() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

const prometheus::Histogram::BucketBoundaries& Metrics::TimeBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 3, 5, 10, 20, 30};
  return *b;
}

const prometheus::Histogram::BucketBoundaries& Metrics::SizeBuckets() {
  static const auto* b =
      new prometheus::Histogram::BucketBoundaries{1, 10000, 1000000, 4000000, 10000000, 40000000};
  return *b;
}

}  // namespace meshd
