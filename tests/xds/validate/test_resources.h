// Realistic Envoy sidecar resources for the validator tests: what istiod sends a sidecar for
// one outbound HTTP service (reviews:8080) with Istio mTLS. Each builder returns a valid
// resource; tests break one field at a time.
#pragma once

#include <string>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/core/v3/config_source.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/listener/http_inspector/v3/http_inspector.pb.h"
#include "envoy/extensions/filters/listener/original_dst/v3/original_dst.pb.h"
#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/load_balancing_policies/least_request/v3/least_request.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "google/protobuf/any.pb.h"

namespace meshd::xds::testing {

inline constexpr char kService[] = "reviews.default.svc.cluster.local";
inline constexpr char kCluster[] = "outbound|8080||reviews.default.svc.cluster.local";

template <typename M>
google::protobuf::Any Pack(const M& m) {
  google::protobuf::Any any;
  any.PackFrom(m);
  return any;
}

inline envoy::config::core::v3::ConfigSource Ads() {
  envoy::config::core::v3::ConfigSource source;
  source.mutable_ads();
  source.set_resource_api_version(envoy::config::core::v3::V3);
  return source;
}

inline envoy::config::core::v3::ConfigSource Sds() {
  envoy::config::core::v3::ConfigSource source;
  auto* api = source.mutable_api_config_source();
  api->set_api_type(envoy::config::core::v3::ApiConfigSource::GRPC);
  api->set_transport_api_version(envoy::config::core::v3::V3);
  api->add_grpc_services()->mutable_envoy_grpc()->set_cluster_name("sds-grpc");
  source.set_resource_api_version(envoy::config::core::v3::V3);
  return source;
}

inline envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager
RdsHcm(const std::string& route_name) {
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  hcm.set_stat_prefix("outbound_0.0.0.0_8080");
  hcm.set_codec_type(hcm.AUTO);
  *hcm.mutable_rds()->mutable_config_source() = Ads();
  hcm.mutable_rds()->set_route_config_name(route_name);
  auto* router = hcm.add_http_filters();
  router->set_name("envoy.filters.http.router");
  router->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::router::v3::Router());
  return hcm;
}

// The sidecar's outbound capture listener: original_dst + http_inspector, one chain per port.
inline envoy::config::listener::v3::Listener SidecarListener() {
  envoy::config::listener::v3::Listener l;
  l.set_name("virtualOutbound");
  auto* sa = l.mutable_address()->mutable_socket_address();
  sa->set_address("0.0.0.0");
  sa->set_port_value(15001);
  l.mutable_use_original_dst()->set_value(true);
  l.set_traffic_direction(envoy::config::core::v3::OUTBOUND);
  auto* od = l.add_listener_filters();
  od->set_name("envoy.filters.listener.original_dst");
  od->mutable_typed_config()->PackFrom(
      envoy::extensions::filters::listener::original_dst::v3::OriginalDst());
  auto* hi = l.add_listener_filters();
  hi->set_name("envoy.filters.listener.http_inspector");
  hi->mutable_typed_config()->PackFrom(
      envoy::extensions::filters::listener::http_inspector::v3::HttpInspector());
  auto* chain = l.add_filter_chains();
  chain->set_name("0.0.0.0_8080");
  chain->mutable_filter_chain_match()->mutable_destination_port()->set_value(8080);
  chain->mutable_filter_chain_match()->add_application_protocols("http/1.1");
  chain->mutable_filter_chain_match()->add_application_protocols("h2c");
  auto* hcm = chain->add_filters();
  hcm->set_name("envoy.filters.network.http_connection_manager");
  hcm->mutable_typed_config()->PackFrom(RdsHcm("8080"));
  return l;
}

inline envoy::config::route::v3::RouteConfiguration SidecarRoutes() {
  envoy::config::route::v3::RouteConfiguration r;
  r.set_name("8080");
  auto* vh = r.add_virtual_hosts();
  vh->set_name("reviews.default.svc.cluster.local:8080");
  vh->add_domains("reviews.default.svc.cluster.local");
  vh->add_domains("reviews");
  auto* route = vh->add_routes();
  route->set_name("default");
  route->mutable_match()->set_prefix("/");
  route->mutable_route()->set_cluster(kCluster);
  route->mutable_route()->mutable_timeout()->set_seconds(0);
  auto* retry = route->mutable_route()->mutable_retry_policy();
  retry->set_retry_on(
      "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes");
  retry->mutable_num_retries()->set_value(2);
  return r;
}

inline envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext IstioMtls() {
  envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext tls;
  auto* common = tls.mutable_common_tls_context();
  auto* cert = common->add_tls_certificate_sds_secret_configs();
  cert->set_name("default");
  *cert->mutable_sds_config() = Sds();
  auto* combined = common->mutable_combined_validation_context();
  combined->mutable_default_validation_context()->add_match_typed_subject_alt_names()->set_san_type(
      envoy::extensions::transport_sockets::tls::v3::SubjectAltNameMatcher::URI);
  combined->mutable_default_validation_context()
      ->mutable_match_typed_subject_alt_names(0)
      ->mutable_matcher()
      ->set_exact("spiffe://cluster.local/ns/default/sa/reviews");
  combined->mutable_validation_context_sds_secret_config()->set_name("ROOTCA");
  *combined->mutable_validation_context_sds_secret_config()->mutable_sds_config() = Sds();
  common->add_alpn_protocols("istio-peer-exchange");
  common->add_alpn_protocols("istio");
  tls.set_sni("outbound_.8080_._.reviews.default.svc.cluster.local");
  return tls;
}

inline envoy::config::cluster::v3::Cluster SidecarCluster() {
  envoy::config::cluster::v3::Cluster c;
  c.set_name(kCluster);
  c.set_type(c.EDS);
  *c.mutable_eds_cluster_config()->mutable_eds_config() = Ads();
  c.mutable_eds_cluster_config()->set_service_name(kCluster);
  c.mutable_connect_timeout()->set_seconds(10);
  c.set_lb_policy(c.LEAST_REQUEST);
  auto* mtls = c.add_transport_socket_matches();
  mtls->set_name("tlsMode-istio");
  (*mtls->mutable_match()->mutable_fields())["tlsMode"].set_string_value("istio");
  mtls->mutable_transport_socket()->set_name("envoy.transport_sockets.tls");
  mtls->mutable_transport_socket()->mutable_typed_config()->PackFrom(IstioMtls());
  auto* plain = c.add_transport_socket_matches();
  plain->set_name("tlsMode-disabled");
  plain->mutable_match();
  plain->mutable_transport_socket()->set_name("envoy.transport_sockets.raw_buffer");
  return c;
}

inline envoy::config::endpoint::v3::ClusterLoadAssignment SidecarEndpoints() {
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  cla.set_cluster_name(kCluster);
  auto* locality = cla.add_endpoints();
  locality->mutable_locality()->set_region("us-east1");
  locality->mutable_locality()->set_zone("us-east1-b");
  locality->mutable_load_balancing_weight()->set_value(2);
  for (const char* ip : {"10.0.0.1", "10.0.0.2"}) {
    auto* ep = locality->add_lb_endpoints();
    auto* sa = ep->mutable_endpoint()->mutable_address()->mutable_socket_address();
    sa->set_address(ip);
    sa->set_port_value(8080);
    ep->mutable_load_balancing_weight()->set_value(1);
    ep->set_health_status(envoy::config::core::v3::HEALTHY);
  }
  return cla;
}

}  // namespace meshd::xds::testing
