#include "tests/xds/sim/envoy_sim.h"

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "envoy/extensions/filters/http/cors/v3/cors.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/rbac/v3/rbac.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "google/protobuf/text_format.h"

namespace meshd::xds::sim {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;

// The configs below are written in protobuf text format, in the shape istiod produces for a
// sidecar (names from Istio's *_simulation_test.go). Any-typed fields name their type, so each
// type's descriptor must be linked in and registered: ask each for it once.
void LinkTypes() {
  static const bool linked = [] {
    for (const auto* descriptor :
         {envoy::extensions::filters::http::router::v3::Router::descriptor(),
          envoy::extensions::filters::http::cors::v3::Cors::descriptor(),
          envoy::extensions::filters::http::fault::v3::HTTPFault::descriptor(),
          envoy::extensions::filters::network::rbac::v3::RBAC::descriptor(),
          envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext::descriptor()}) {
      REQUIRE(descriptor != nullptr);
    }
    return true;
  }();
  (void)linked;
}

template <typename T>
T Parse(const std::string& text) {
  LinkTypes();
  T message;
  INFO(text);
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text, &message));
  return message;
}

const char kReviews[] = "reviews.default.svc.cluster.local";
const char kV1[] = "outbound|9080|v1|reviews.default.svc.cluster.local";
const char kV2[] = "outbound|9080|v2|reviews.default.svc.cluster.local";
const char kRatings[] = "outbound|9080||ratings.default.svc.cluster.local";
const char kMysql[] = "outbound|3306||mysql.default.svc.cluster.local";

std::string Socket(const std::string& ip, int port) {
  return "address { socket_address { address: \"" + ip + "\" port_value: " + std::to_string(port) +
         " } }";
}

std::string TcpProxy(const std::string& cluster) {
  return R"(filters { name: "envoy.filters.network.tcp_proxy" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy] {
        stat_prefix: ")" +
         cluster + R"(" cluster: ")" + cluster + R"(" } } })";
}

const char kHttpFilters[] = R"(
  http_filters { name: "envoy.filters.http.fault" typed_config {
    [type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault] {} } }
  http_filters { name: "envoy.filters.http.cors" typed_config {
    [type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors] {} } }
  http_filters { name: "envoy.filters.http.router" typed_config {
    [type.googleapis.com/envoy.extensions.filters.http.router.v3.Router] {} } })";

// An HTTP connection manager; `routes` is `rds { ... }` or `route_config { ... }`.
std::string Hcm(const std::string& routes, const std::string& options = "") {
  return R"(filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "http" )" +
         options + " " + routes + kHttpFilters + " } } }";
}

std::string Rds(const std::string& name) {
  return R"(rds { config_source { ads {} resource_api_version: V3 } route_config_name: ")" + name +
         "\" }";
}

Listener VirtualOutbound() {
  return Parse<Listener>(R"(name: "virtualOutbound" )" + Socket("0.0.0.0", 15001) + R"(
    use_original_dst { value: true }
    filter_chains { name: "virtualOutbound-catchall-tcp" )" +
                         TcpProxy("PassthroughCluster") + R"( }
    filter_chains { name: "virtualOutbound-blackhole"
      filter_chain_match { destination_port { value: 15001 } } )" +
                         TcpProxy("BlackHoleCluster") + " }");
}

Listener Outbound9080() {
  return Parse<Listener>(R"(name: "0.0.0.0_9080" )" + Socket("0.0.0.0", 9080) + R"(
    bind_to_port { value: false }
    filter_chains { name: "0.0.0.0_9080" )" +
                         Hcm(Rds("9080")) + " }");
}

Listener MysqlVip() {
  return Parse<Listener>(R"(name: "10.0.0.7_3306" )" + Socket("10.0.0.7", 3306) + R"(
    bind_to_port { value: false }
    filter_chains { name: "10.0.0.7_3306" )" +
                         TcpProxy(kMysql) + " }");
}

std::string InboundRoutes() {
  return R"(route_config { name: "inbound|9080||" virtual_hosts {
      name: "inbound|http|9080" domains: "*"
      routes { name: "default" match { prefix: "/" }
               route { cluster: "inbound|9080||" timeout { seconds: 0 } } } } })";
}

const char kDownstreamTls[] = R"(transport_socket { name: "envoy.transport_sockets.tls"
    typed_config { [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext] {
      require_client_certificate { value: true }
      common_tls_context {
        tls_certificate_sds_secret_configs { name: "default" }
        combined_validation_context { default_validation_context {}
          validation_context_sds_secret_config { name: "ROOTCA" } } } } } })";

Listener VirtualInbound() {
  const std::string rbac = R"(filters { name: "envoy.filters.network.rbac" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC] {
        stat_prefix: "tcp." rules { policies { key: "any" value {
          permissions { any: true } principals { any: true } } } } } } })";
  return Parse<Listener>(R"(name: "virtualInbound" )" + Socket("0.0.0.0", 15006) + R"(
    filter_chains { name: "0.0.0.0_9080"
      filter_chain_match { destination_port { value: 9080 } transport_protocol: "tls"
        application_protocols: ["istio-http/1.0", "istio-http/1.1", "istio-h2"] } )" +
                         kDownstreamTls + Hcm(InboundRoutes()) + R"( }
    filter_chains { name: "0.0.0.0_9080"
      filter_chain_match { destination_port { value: 9080 } transport_protocol: "raw_buffer"
        application_protocols: ["http/1.1", "h2c"] } )" +
                         Hcm(InboundRoutes()) + R"( }
    filter_chains { name: "0.0.0.0_9080-tcp"
      filter_chain_match { destination_port { value: 9080 } transport_protocol: "tls" } )" +
                         kDownstreamTls + rbac + TcpProxy("inbound|9080||") + R"( }
    filter_chains { name: "virtualInbound-catchall-http"
      filter_chain_match { transport_protocol: "raw_buffer" application_protocols: ["http/1.1", "h2c"] } )" +
                         Hcm(R"(route_config { name: "InboundPassthroughCluster" virtual_hosts {
                               name: "inbound|http|0" domains: "*" routes { match { prefix: "/" }
                               route { cluster: "InboundPassthroughCluster" } } } })") +
                         R"( }
    filter_chains { name: "virtualInbound" filter_chain_match { transport_protocol: "raw_buffer" } )" +
                         TcpProxy("InboundPassthroughCluster") + " }");
}

// Route "9080": reviews (header match, direct response, redirect, regex rewrite, fault,
// query match, 80/20 split), ratings (EDS cluster without endpoints), details (no cluster),
// and Istio's allow_any catch-all.
RouteConfiguration Routes9080() {
  return Parse<RouteConfiguration>(R"(
    name: "9080"
    virtual_hosts {
      name: "reviews.default.svc.cluster.local:9080"
      domains: ["reviews.default.svc.cluster.local", "reviews.default.svc.cluster.local:9080",
                "reviews", "reviews:9080", "reviews.default.svc", "reviews.default.svc:9080",
                "reviews.default", "reviews.default:9080", "10.0.0.5", "10.0.0.5:9080"]
      request_headers_to_add { header { key: "x-vhost" value: "reviews" } }
      routes { name: "jason"
        match { prefix: "/" headers { name: "end-user" string_match { exact: "jason" } } }
        route { cluster: "outbound|9080|v2|reviews.default.svc.cluster.local"
                timeout { seconds: 3 }
                retry_policy { retry_on: "5xx" num_retries { value: 5 } per_try_timeout { nanos: 500000000 } } } }
      routes { name: "health" match { path: "/health" }
        direct_response { status: 200 body { inline_string: "ok" } } }
      routes { name: "old" match { prefix: "/old/" }
        redirect { prefix_rewrite: "/new/" response_code: FOUND } }
      routes { name: "secure" match { path_separated_prefix: "/login" }
        redirect { https_redirect: true host_redirect: "login.example.com" } }
      routes { name: "api" match { safe_regex { regex: "/api/v[0-9]+/.*" } }
        request_headers_to_add { header { key: "x-api" value: "1" } append_action: OVERWRITE_IF_EXISTS_OR_ADD }
        request_headers_to_remove: "x-debug"
        route { cluster: "outbound|9080|v1|reviews.default.svc.cluster.local"
                regex_rewrite { pattern { regex: "^/api/v[0-9]+/" } substitution: "/" }
                host_rewrite_literal: "reviews.internal" } }
      routes { name: "ratings-fault" match { prefix: "/ratings" }
        typed_per_filter_config { key: "envoy.filters.http.fault" value {
          [type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault] {
            abort { http_status: 503 percentage { numerator: 50 } }
            delay { fixed_delay { seconds: 2 } percentage { numerator: 10 } } } } }
        route { cluster: "outbound|9080|v1|reviews.default.svc.cluster.local" } }
      routes { name: "search" match { prefix: "/search" case_sensitive { value: false }
          query_parameters { name: "q" string_match { prefix: "mesh" } } }
        route { cluster: "outbound|9080|v2|reviews.default.svc.cluster.local"
                prefix_rewrite: "/find" } }
      routes { name: "default" match { prefix: "/" }
        route { weighted_clusters {
                  clusters { name: "outbound|9080|v1|reviews.default.svc.cluster.local" weight { value: 80 } }
                  clusters { name: "outbound|9080|v2|reviews.default.svc.cluster.local" weight { value: 20 } } }
                timeout { seconds: 0 }
                retry_policy { retry_on: "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
                               num_retries { value: 2 } }
                request_mirror_policies { cluster: "outbound|9080|v2|reviews.default.svc.cluster.local"
                  runtime_fraction { default_value { numerator: 25 } } }
                hash_policy { header { header_name: "x-user" } } } }
    }
    virtual_hosts {
      name: "ratings.default.svc.cluster.local:9080"
      domains: ["ratings.default.svc.cluster.local", "ratings", "ratings:9080"]
      routes { name: "default" match { prefix: "/" }
        route { cluster: "outbound|9080||ratings.default.svc.cluster.local" } }
    }
    virtual_hosts {
      name: "details.default.svc.cluster.local:9080"
      domains: ["details", "details:9080"]
      routes { name: "default" match { prefix: "/" }
        route { cluster: "outbound|9080||details.default.svc.cluster.local" } }
    }
    virtual_hosts {
      name: "allow_any" domains: "*"
      routes { name: "allow_any" match { prefix: "/" } route { cluster: "PassthroughCluster" } }
    })");
}

std::string UpstreamTls(const std::string& sni) {
  return R"(transport_socket { name: "envoy.transport_sockets.tls" typed_config {
      [type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext] {
        sni: ")" +
         sni + R"("
        common_tls_context {
          tls_certificate_sds_secret_configs { name: "default" sds_config { ads {} } }
          combined_validation_context { default_validation_context {}
            validation_context_sds_secret_config { name: "ROOTCA" sds_config { ads {} } } }
          alpn_protocols: ["istio-peer-exchange", "istio"] } } } })";
}

Cluster EdsCluster(const std::string& name) {
  return Parse<Cluster>(R"(name: ")" + name + R"(" type: EDS lb_policy: LEAST_REQUEST
    eds_cluster_config { eds_config { ads {} resource_api_version: V3 } service_name: ")" +
                        name + R"(" }
    transport_socket_matches { name: "tlsMode-istio"
      match { fields { key: "tlsMode" value { string_value: "istio" } } } )" +
                        UpstreamTls("outbound_.9080_.v1_.reviews.default.svc.cluster.local") + R"( }
    transport_socket_matches { name: "tlsMode-disabled" match {}
      transport_socket { name: "envoy.transport_sockets.raw_buffer" } })");
}

std::string LbEndpoint(const std::string& ip, int port, bool istio) {
  std::string out = "lb_endpoints { endpoint { " + Socket(ip, port) + " }";
  if (istio) {
    out += R"( metadata { filter_metadata { key: "envoy.transport_socket_match" value {
        fields { key: "tlsMode" value { string_value: "istio" } } } } })";
  }
  return out + " load_balancing_weight { value: 1 } }";
}

Mesh Sidecar() {
  Mesh mesh;
  mesh.AddListener(VirtualOutbound());
  mesh.AddListener(Outbound9080());
  mesh.AddListener(MysqlVip());
  mesh.AddListener(VirtualInbound());
  mesh.AddRouteConfiguration(Routes9080());
  mesh.AddCluster(EdsCluster(kV1));
  mesh.AddCluster(EdsCluster(kV2));
  mesh.AddCluster(EdsCluster(kRatings));
  mesh.AddCluster(EdsCluster(kMysql));
  mesh.AddCluster(Parse<Cluster>(
      R"(name: "PassthroughCluster" type: ORIGINAL_DST lb_policy: CLUSTER_PROVIDED)"));
  mesh.AddCluster(Parse<Cluster>(
      R"(name: "InboundPassthroughCluster" type: ORIGINAL_DST lb_policy: CLUSTER_PROVIDED)"));
  mesh.AddCluster(Parse<Cluster>(R"(name: "BlackHoleCluster" type: STATIC)"));
  mesh.AddCluster(
      Parse<Cluster>(R"(name: "inbound|9080||" type: ORIGINAL_DST lb_policy: CLUSTER_PROVIDED)"));
  // v1: a meshed pod in zone a, a pod without a sidecar as priority-1 failover.
  mesh.AddClusterLoadAssignment(
      Parse<ClusterLoadAssignment>(std::string("cluster_name: \"") + kV1 + R"("
      endpoints { locality { region: "us-east" zone: "a" } )" +
                                   LbEndpoint("10.1.0.1", 9080, true) +
                                   R"( load_balancing_weight { value: 1 } }
      endpoints { locality { region: "us-east" zone: "b" } priority: 1 )" +
                                   LbEndpoint("10.1.0.2", 9080, false) + " }"));
  mesh.AddClusterLoadAssignment(
      Parse<ClusterLoadAssignment>(std::string("cluster_name: \"") + kV2 + "\" endpoints { " +
                                   LbEndpoint("10.1.0.3", 9080, true) + " }"));
  mesh.AddClusterLoadAssignment(
      Parse<ClusterLoadAssignment>(std::string("cluster_name: \"") + kMysql + "\" endpoints { " +
                                   LbEndpoint("10.1.0.9", 3306, true) + " }"));
  return mesh;
}

// ---- outbound HTTP ---------------------------------------------------------------------------

TEST_CASE("outbound HTTP to a service VIP takes the 80/20 split", "[sim]") {
  const Mesh mesh = Sidecar();
  const Result r =
      mesh.Simulate(Request::OutboundHttp("10.0.0.5", 9080, "reviews:9080", "/reviews/1"));
  INFO(r.ToString());
  REQUIRE(r.decision == Decision::kRoute);
  CHECK(r.ok());
  CHECK(r.entry_listener == "virtualOutbound");
  CHECK(r.listener == "0.0.0.0_9080");
  CHECK(r.filter_chain == "0.0.0.0_9080");
  CHECK(r.network_filters ==
        std::vector<std::string>{"envoy.filters.network.http_connection_manager"});
  CHECK(r.http_filters.back() == "envoy.filters.http.router");
  CHECK(r.route_config == "9080");
  CHECK(r.virtual_host == "reviews.default.svc.cluster.local:9080");
  CHECK(r.route == "default");
  CHECK(r.cluster().empty());  // two targets
  const auto shares = r.Distribution();
  CHECK(shares.size() == 2);
  CHECK(shares.at(kV1) == Approx(0.8));
  CHECK(shares.at(kV2) == Approx(0.2));
  CHECK(r.WeightedPick(0) == kV1);
  CHECK(r.WeightedPick(79) == kV1);
  CHECK(r.WeightedPick(80) == kV2);
  CHECK(r.WeightedPick(199) == kV2);
  CHECK(r.timeout == absl::ZeroDuration());
  CHECK(r.timeout_set);
  CHECK(r.retry.present);
  CHECK(r.retry.num_retries == 2);
  CHECK(r.retry.retry_on.find("connect-failure") == 0);
  REQUIRE(r.mirrors.size() == 1);
  CHECK(r.mirrors[0].cluster == kV2);
  CHECK(r.mirrors[0].percent == Approx(25));
  CHECK(r.hash_policy);
  CHECK_FALSE(r.fault.present);
  CHECK(r.upstream_path == "/reviews/1");
  CHECK(r.upstream_authority == "reviews:9080");
  REQUIRE(r.request_headers_added.size() == 1);
  CHECK(r.request_headers_added[0].name == "x-vhost");
  CHECK(r.request_headers_added[0].level == "virtual_host");
  CHECK(r.request_headers_added[0].append);
}

TEST_CASE("endpoints per priority, TLS chosen by transport_socket_matches", "[sim]") {
  const Mesh mesh = Sidecar();
  const Result r = mesh.Simulate(Request::OutboundHttp("10.0.0.5", 9080, "reviews", "/"));
  INFO(r.ToString());
  REQUIRE(r.clusters.size() == 2);
  const ClusterInfo& v1 = r.clusters[0].info;
  CHECK(v1.found);
  CHECK(v1.type == "EDS");
  CHECK(v1.lb_policy == "LEAST_REQUEST");
  CHECK(v1.eds_service_name == kV1);
  REQUIRE(v1.priorities.size() == 2);
  CHECK(v1.priorities[0].priority == 0);
  REQUIRE(v1.priorities[0].endpoints.size() == 1);
  const Endpoint& meshed = v1.priorities[0].endpoints[0];
  CHECK(meshed.address == "10.1.0.1:9080");
  CHECK(meshed.locality == "us-east/a/");
  CHECK(meshed.locality_weight == 1);
  CHECK(meshed.transport.tls);
  CHECK(meshed.transport.match_name == "tlsMode-istio");
  CHECK(meshed.transport.sni == "outbound_.9080_.v1_.reviews.default.svc.cluster.local");
  CHECK(meshed.transport.sds_secrets == std::vector<std::string>{"default", "ROOTCA"});
  CHECK(meshed.transport.alpn == std::vector<std::string>{"istio-peer-exchange", "istio"});
  CHECK(v1.priorities[1].priority == 1);
  const Endpoint& plain = v1.priorities[1].endpoints[0];
  CHECK(plain.address == "10.1.0.2:9080");
  CHECK_FALSE(plain.transport.tls);
  CHECK(plain.transport.match_name == "tlsMode-disabled");
}

TEST_CASE("a header match sends jason to v2; names are case-insensitive, values exact", "[sim]") {
  const Mesh mesh = Sidecar();
  Request request =
      Request::OutboundHttp("10.0.0.5", 9080, "reviews.default.svc.cluster.local", "/reviews/1");
  request.WithHeader("End-User", "jason");
  Result r = mesh.Simulate(request);
  INFO(r.ToString());
  CHECK(r.route == "jason");
  CHECK(r.cluster() == kV2);
  CHECK(r.Distribution() == std::map<std::string, double>{{kV2, 1.0}});
  CHECK(r.timeout == absl::Seconds(3));
  CHECK(r.retry.num_retries == 5);
  CHECK(r.retry.retry_on == "5xx");
  CHECK(r.retry.per_try_timeout == absl::Milliseconds(500));
  CHECK(r.clusters[0].info.priorities[0].endpoints[0].address == "10.1.0.3:9080");

  request.headers = {{"end-user", "Jason"}};
  r = mesh.Simulate(request);
  CHECK(r.route == "default");
}

TEST_CASE("direct response, redirects, rewrites, fault, query match", "[sim]") {
  const Mesh mesh = Sidecar();
  Result r = mesh.Simulate(Request::OutboundHttp("10.0.0.5", 9080, "reviews", "/health?x=1"));
  CHECK(r.decision == Decision::kDirectResponse);
  CHECK(r.route == "health");
  CHECK(r.http_status == 200);
  CHECK(r.direct_response.status == 200);
  CHECK(r.direct_response.body == "ok");
  CHECK(r.clusters.empty());

  r = mesh.Simulate(Request::OutboundHttp("10.0.0.5", 9080, "reviews:9080", "/old/page?x=1"));
  INFO(r.ToString());
  CHECK(r.decision == Decision::kRedirect);
  CHECK(r.redirect.status == 302);
  CHECK(r.redirect.path == "/new/page?x=1");
  CHECK(r.redirect.location == "http://reviews:9080/new/page?x=1");

  // path_separated_prefix "/login" matches "/login" and "/login/x", not "/loginx".
  r = mesh.Simulate(Request::OutboundHttp("10.0.0.5", 9080, "reviews", "/login/x"));
  CHECK(r.route == "secure");
  CHECK(r.redirect.status == 301);
  CHECK(r.redirect.location == "https://login.example.com/login/x");
  r = mesh.Simulate(Request::OutboundHttp("10.0.0.5", 9080, "reviews", "/login"));
  CHECK(r.route == "secure");
  r = mesh.Simulate(Request::OutboundHttp("10.0.0.5", 9080, "reviews", "/loginx"));
  CHECK(r.route == "default");

  r = mesh.Simulate(Request::OutboundHttp("10.0.0.5", 9080, "reviews", "/api/v2/reviews?id=3"));
  INFO(r.ToString());
  CHECK(r.route == "api");
  CHECK(r.cluster() == kV1);
  CHECK(r.upstream_path == "/reviews?id=3");
  CHECK(r.upstream_authority == "reviews.internal");
  CHECK_FALSE(r.timeout_set);
  CHECK(r.timeout == absl::Seconds(15));
  REQUIRE(r.request_headers_added.size() == 2);
  CHECK(r.request_headers_added[0].name == "x-api");
  CHECK_FALSE(r.request_headers_added[0].append);
  CHECK(r.request_headers_added[0].level == "route");
  CHECK(r.request_headers_removed == std::vector<std::string>{"x-debug"});
  // The regex must match the whole path (query excluded).
  r = mesh.Simulate(Request::OutboundHttp("10.0.0.5", 9080, "reviews", "/api/vX/reviews"));
  CHECK(r.route == "default");

  r = mesh.Simulate(Request::OutboundHttp("10.0.0.5", 9080, "reviews", "/ratings/7"));
  CHECK(r.route == "ratings-fault");
  CHECK(r.fault.present);
  CHECK(r.fault.abort);
  CHECK(r.fault.abort_http_status == 503);
  CHECK(r.fault.abort_percent == Approx(50));
  CHECK(r.fault.delay);
  CHECK(r.fault.delay_duration == absl::Seconds(2));
  CHECK(r.fault.delay_percent == Approx(10));

  r = mesh.Simulate(Request::OutboundHttp("10.0.0.5", 9080, "reviews", "/SEARCH/all?q=meshd&x=1"));
  CHECK(r.route == "search");
  CHECK(r.cluster() == kV2);
  CHECK(r.upstream_path == "/find/all?q=meshd&x=1");
  r = mesh.Simulate(Request::OutboundHttp("10.0.0.5", 9080, "reviews", "/search?q=istio"));
  CHECK(r.route == "default");
  r = mesh.Simulate(Request::OutboundHttp("10.0.0.5", 9080, "reviews", "/search?q=%6Desh"));
  CHECK(r.route == "search");  // query values are percent-decoded
}

TEST_CASE("virtual host domains: case-insensitive, port literal, VIP form, allow_any", "[sim]") {
  const Mesh mesh = Sidecar();
  Result r = mesh.Simulate(
      Request::OutboundHttp("10.0.0.5", 9080, "REVIEWS.default.svc.cluster.local:9080"));
  CHECK(r.virtual_host == "reviews.default.svc.cluster.local:9080");
  r = mesh.Simulate(Request::OutboundHttp("10.0.0.5", 9080, ""));  // Host defaults to ip:port
  CHECK(r.virtual_host == "reviews.default.svc.cluster.local:9080");
  // "ratings:9999" is not listed (Envoy does not strip the port): allow_any forwards it to the
  // original destination.
  r = mesh.Simulate(Request::OutboundHttp("10.0.0.6", 9080, "ratings:9999"));
  INFO(r.ToString());
  CHECK(r.virtual_host == "allow_any");
  CHECK(r.cluster() == "PassthroughCluster");
  REQUIRE(r.clusters.size() == 1);
  CHECK(r.clusters[0].info.original_destination);
  CHECK(r.clusters[0].info.type == "ORIGINAL_DST");
  CHECK(r.clusters[0].info.priorities[0].endpoints[0].address == "10.0.0.6:9080");
}

// ---- outbound TCP and the original-destination hand-off ---------------------------------------

TEST_CASE("outbound TCP: exact listener, wildcard listener, passthrough, blackhole", "[sim]") {
  Mesh mesh = Sidecar();
  Result r = mesh.Simulate(Request::OutboundTcp("10.0.0.7", 3306));
  INFO(r.ToString());
  CHECK(r.decision == Decision::kTcp);
  CHECK(r.listener == "10.0.0.7_3306");
  CHECK(r.cluster() == kMysql);
  CHECK(r.clusters[0].info.priorities[0].endpoints[0].address == "10.1.0.9:3306");
  CHECK(r.clusters[0].info.priorities[0].endpoints[0].transport.tls);

  // Another IP on 3306: no listener, so virtualOutbound's catch-all passes it through.
  r = mesh.Simulate(Request::OutboundTcp("10.0.0.8", 3306));
  CHECK(r.decision == Decision::kTcp);
  CHECK(r.listener == "virtualOutbound");
  CHECK(r.filter_chain == "virtualOutbound-catchall-tcp");
  CHECK(r.cluster() == "PassthroughCluster");
  CHECK(r.clusters[0].info.priorities[0].endpoints[0].address == "10.0.0.8:3306");

  // Dialing 15001 itself hits the loop guard.
  r = mesh.Simulate(Request::OutboundTcp("10.0.0.8", 15001));
  CHECK(r.decision == Decision::kDropped);
  CHECK(r.filter_chain == "virtualOutbound-blackhole");
  CHECK(r.cluster() == "BlackHoleCluster");
  CHECK(r.clusters[0].info.black_hole);

  // An exact ip:port listener wins over 0.0.0.0:port.
  mesh.AddListener(Parse<Listener>(R"(name: "10.0.0.9_9080" )" + Socket("10.0.0.9", 9080) +
                                   " filter_chains { " + TcpProxy(kMysql) + " }"));
  CHECK(mesh.Simulate(Request::OutboundTcp("10.0.0.9", 9080)).listener == "10.0.0.9_9080");
  CHECK(mesh.Simulate(Request::OutboundTcp("10.0.0.5", 9080)).listener == "0.0.0.0_9080");
}

// ---- inbound --------------------------------------------------------------------------------

TEST_CASE("inbound chains by port, transport and ALPN", "[sim]") {
  const Mesh mesh = Sidecar();
  Request request = Request::Inbound("10.1.0.1", 9080);
  request.transport_protocol = "tls";
  request.alpn = {"istio-http/1.1", "istio", "http/1.1"};
  request.authority = "reviews:9080";
  Result r = mesh.Simulate(request);
  INFO(r.ToString());
  CHECK(r.decision == Decision::kRoute);
  CHECK(r.entry_listener == "virtualInbound");
  CHECK(r.listener == "virtualInbound");
  CHECK(r.filter_chain == "0.0.0.0_9080");
  CHECK(r.downstream_tls);
  CHECK(r.route_config == "inbound|9080||");
  CHECK(r.virtual_host == "inbound|http|9080");
  CHECK(r.cluster() == "inbound|9080||");
  CHECK(r.clusters[0].info.priorities[0].endpoints[0].address == "10.1.0.1:9080");

  // mTLS TCP (ALPN "istio"): the TCP chain, network RBAC on the way.
  request.alpn = {"istio"};
  r = mesh.Simulate(request);
  CHECK(r.decision == Decision::kTcp);
  CHECK(r.filter_chain == "0.0.0.0_9080-tcp");
  CHECK(r.network_filters ==
        std::vector<std::string>{"envoy.filters.network.rbac", "envoy.filters.network.tcp_proxy"});

  // Plaintext HTTP (http_inspector detected http/1.1).
  request.transport_protocol = "raw_buffer";
  request.alpn = {"http/1.1"};
  r = mesh.Simulate(request);
  CHECK(r.decision == Decision::kRoute);
  CHECK(r.filter_chain == "0.0.0.0_9080");
  CHECK_FALSE(r.downstream_tls);

  // Plaintext non-HTTP to 9080: the port's bucket has no chain for it, and Envoy does not fall
  // back to the port-less catch-all chains.
  request.alpn = {};
  r = mesh.Simulate(request);
  CHECK(r.decision == Decision::kDropped);
  CHECK(r.reason == "no filter chain matched on listener virtualInbound");

  // An undeclared port: the catch-all chains (raw_buffer first, then ALPN).
  request.destination_port = 8080;
  r = mesh.Simulate(request);
  CHECK(r.filter_chain == "virtualInbound");
  CHECK(r.cluster() == "InboundPassthroughCluster");
  request.alpn = {"h2c"};
  r = mesh.Simulate(request);
  CHECK(r.filter_chain == "virtualInbound-catchall-http");
  CHECK(r.decision == Decision::kRoute);
  CHECK(r.cluster() == "InboundPassthroughCluster");
}

// ---- failures -------------------------------------------------------------------------------

Mesh Gateway() {
  Mesh mesh;
  mesh.AddListener(Parse<Listener>(R"(name: "0.0.0.0_8080" )" + Socket("0.0.0.0", 8080) +
                                   " filter_chains { " + Hcm(Rds("http.8080")) + " }"));
  mesh.AddListener(Parse<Listener>(R"(name: "0.0.0.0_8443" )" + Socket("0.0.0.0", 8443) + R"(
      filter_chains { name: "bookinfo"
        filter_chain_match { server_names: "bookinfo.example.com" } )" +
                                   Hcm(Rds("https.443.https.gw.default")) + " }"));
  mesh.AddListener(Parse<Listener>(R"(name: "0.0.0.0_9000" )" + Socket("0.0.0.0", 9000) +
                                   " filter_chains { " + Hcm(Rds("missing")) + " }"));
  mesh.AddRouteConfiguration(Parse<RouteConfiguration>(R"(
      name: "http.8080"
      virtual_hosts { name: "bookinfo.example.com:80" domains: ["bookinfo.example.com"]
        routes { match { prefix: "/productpage" } route { cluster: "outbound|9080||productpage.default.svc.cluster.local" } }
        routes { match { prefix: "/details" } route { cluster: "outbound|9080||details.default.svc.cluster.local" } }
        routes { match { prefix: "/ratings" } route { cluster: "outbound|9080||ratings.default.svc.cluster.local" } } })"));
  mesh.AddCluster(EdsCluster("outbound|9080||productpage.default.svc.cluster.local"));
  mesh.AddCluster(EdsCluster("outbound|9080||ratings.default.svc.cluster.local"));
  mesh.AddClusterLoadAssignment(Parse<ClusterLoadAssignment>(
      R"(cluster_name: "outbound|9080||productpage.default.svc.cluster.local" endpoints { )" +
      LbEndpoint("10.1.0.20", 9080, true) + " }"));
  return mesh;
}

TEST_CASE("gateway: direct entry, then each failure named", "[sim]") {
  const Mesh mesh = Gateway();
  Request request = Request::Direct("10.2.0.1", 8080);
  request.authority = "bookinfo.example.com";
  request.path = "/productpage";
  Result r = mesh.Simulate(request);
  INFO(r.ToString());
  CHECK(r.decision == Decision::kRoute);
  CHECK(r.entry_listener == "0.0.0.0_8080");
  CHECK(r.filter_chain == "#0");
  CHECK(r.route == "#0");
  CHECK(r.cluster() == "outbound|9080||productpage.default.svc.cluster.local");

  request.path = "/admin";
  r = mesh.Simulate(request);
  CHECK(r.decision == Decision::kNotFound);
  CHECK(r.http_status == 404);
  CHECK(r.reason == "no route in bookinfo.example.com:80 matches GET /admin");

  request.path = "/details";
  r = mesh.Simulate(request);
  CHECK(r.decision == Decision::kError);
  CHECK(r.http_status == 503);
  CHECK(r.reason == "unknown cluster outbound|9080||details.default.svc.cluster.local");

  request.path = "/ratings";
  r = mesh.Simulate(request);
  CHECK(r.decision == Decision::kError);
  CHECK(r.reason ==
        "no ClusterLoadAssignment for outbound|9080||ratings.default.svc.cluster.local (EDS "
        "cluster outbound|9080||ratings.default.svc.cluster.local)");

  request.authority = "evil.example.com";
  r = mesh.Simulate(request);
  CHECK(r.decision == Decision::kNotFound);
  CHECK(r.reason == "no virtual host for \"evil.example.com\" in http.8080");
  CHECK_FALSE(r.ok());

  // "bookinfo.example.com:8080" is not a listed domain: Envoy matches the port literally.
  request.authority = "bookinfo.example.com:8080";
  CHECK(mesh.Simulate(request).decision == Decision::kNotFound);

  Request tls = Request::Direct("10.2.0.1", 8443);
  tls.transport_protocol = "tls";
  tls.sni = "other.example.com";
  r = mesh.Simulate(tls);
  CHECK(r.decision == Decision::kDropped);
  CHECK(r.reason == "no filter chain matched on listener 0.0.0.0_8443");
  tls.sni = "BookInfo.example.com";
  tls.authority = "bookinfo.example.com";
  r = mesh.Simulate(tls);
  CHECK(r.filter_chain == "bookinfo");
  CHECK(r.decision == Decision::kError);
  CHECK(r.reason == "route configuration \"https.443.https.gw.default\" not found (RDS)");

  r = mesh.Simulate(Request::Direct("10.2.0.1", 7000));
  CHECK(r.decision == Decision::kError);
  CHECK(r.reason == "no listener bound to 10.2.0.1:7000");
  r = mesh.Simulate(Request::OutboundTcp("10.2.0.1", 8080));
  CHECK(r.reason == "no virtualOutbound listener (port 15001) to capture 10.2.0.1:8080");
  r = mesh.Simulate(Request::Direct("not-an-ip", 8080));
  CHECK(r.decision == Decision::kError);
}

TEST_CASE("connection manager port stripping and ignore_port_in_host_matching", "[sim]") {
  Mesh mesh = Gateway();
  mesh.AddListener(Parse<Listener>(R"(name: "0.0.0.0_8080" )" + Socket("0.0.0.0", 8080) +
                                   " filter_chains { " +
                                   Hcm(Rds("http.8080"), "strip_any_host_port: true") + " }"));
  Request request = Request::Direct("10.2.0.1", 8080);
  request.authority = "bookinfo.example.com:8080";
  request.path = "/productpage";
  CHECK(mesh.Simulate(request).decision == Decision::kRoute);

  mesh.AddListener(Parse<Listener>(R"(name: "0.0.0.0_8080" )" + Socket("0.0.0.0", 8080) +
                                   " filter_chains { " +
                                   Hcm(Rds("http.8080"), "strip_matching_host_port: true") + " }"));
  CHECK(mesh.Simulate(request).decision == Decision::kRoute);
  request.authority = "bookinfo.example.com:80";  // not the listener's port: kept
  CHECK(mesh.Simulate(request).decision == Decision::kNotFound);

  RouteConfiguration routes = Parse<RouteConfiguration>(R"(
      name: "http.8080" ignore_port_in_host_matching: true
      virtual_hosts { name: "bookinfo" domains: ["bookinfo.example.com"]
        routes { match { prefix: "/" } direct_response { status: 204 } } })");
  mesh.AddRouteConfiguration(routes);
  CHECK(mesh.Simulate(request).decision == Decision::kDirectResponse);
}

// ---- Envoy's precedence rules -----------------------------------------------------------------

TEST_CASE("virtual host precedence: exact, longest suffix, longest prefix, then *", "[sim]") {
  Mesh mesh;
  mesh.AddListener(Parse<Listener>(R"(name: "gw" )" + Socket("0.0.0.0", 80) + " filter_chains { " +
                                   Hcm(Rds("vh")) + " }"));
  mesh.AddRouteConfiguration(Parse<RouteConfiguration>(R"(name: "vh"
      virtual_hosts { name: "any" domains: "*" routes { match { prefix: "/" } direct_response { status: 200 } } }
      virtual_hosts { name: "prefix" domains: "api.*" routes { match { prefix: "/" } direct_response { status: 200 } } }
      virtual_hosts { name: "suffix" domains: "*.example.com" routes { match { prefix: "/" } direct_response { status: 200 } } }
      virtual_hosts { name: "longer-suffix" domains: "*.api.example.com" routes { match { prefix: "/" } direct_response { status: 200 } } }
      virtual_hosts { name: "exact" domains: "exact.api.example.com" routes { match { prefix: "/" } direct_response { status: 200 } } })"));
  auto vhost = [&](const std::string& host) {
    Request request = Request::Direct("10.0.0.1", 80);
    request.authority = host;
    return mesh.Simulate(request).virtual_host;
  };
  CHECK(vhost("exact.api.example.com") == "exact");
  CHECK(vhost("x.api.example.com") == "longer-suffix");
  CHECK(vhost("api.example.com") == "suffix");  // suffix wildcards before prefix wildcards
  CHECK(vhost("example.com") == "any");         // "*.example.com" needs a label before it
  CHECK(vhost("api.foo.org") == "prefix");
  CHECK(vhost("other.org") == "any");
  CHECK(vhost("x.api.example.com:80") == "any");  // the port is part of the host

  mesh.AddRouteConfiguration(Parse<RouteConfiguration>(R"(name: "vh"
      virtual_hosts { name: "a" domains: "a.com" routes { match { prefix: "/" } direct_response { status: 200 } } }
      virtual_hosts { name: "b" domains: "A.com" routes { match { prefix: "/" } direct_response { status: 200 } } })"));
  Request request = Request::Direct("10.0.0.1", 80);
  request.authority = "a.com";
  const Result r = mesh.Simulate(request);
  CHECK(r.decision == Decision::kError);
  CHECK(r.reason == "duplicate domain \"a.com\" in route configuration vh (Envoy rejects it)");
}

TEST_CASE("header, method, scheme and cluster_header matching", "[sim]") {
  Mesh mesh;
  mesh.AddListener(Parse<Listener>(R"(name: "gw" )" + Socket("0.0.0.0", 80) + " filter_chains { " +
                                   Hcm(Rds("h")) + " }"));
  mesh.AddRouteConfiguration(Parse<RouteConfiguration>(R"(name: "h"
      virtual_hosts { name: "h" domains: "*"
        routes { name: "absent" match { prefix: "/absent" headers { name: "x-a" present_match: false } } direct_response { status: 200 } }
        routes { name: "not-canary" match { prefix: "/inv" headers { name: "x-canary" string_match { exact: "true" } invert_match: true } } direct_response { status: 200 } }
        routes { name: "empty" match { prefix: "/empty" headers { name: "x-e" string_match { exact: "" } treat_missing_header_as_empty: true } } direct_response { status: 200 } }
        routes { name: "range" match { prefix: "/range" headers { name: "x-n" range_match { start: 10 end: 20 } } } direct_response { status: 200 } }
        routes { name: "regex" match { prefix: "/re" headers { name: "user-agent" string_match { safe_regex { regex: ".*Chrome.*" } } } } direct_response { status: 200 } }
        routes { name: "suffix" match { prefix: "/s" headers { name: "x-s" string_match { suffix: "ABC" ignore_case: true } } } direct_response { status: 200 } }
        routes { name: "contains" match { prefix: "/c" headers { name: "x-c" string_match { contains: "mid" } } } direct_response { status: 200 } }
        routes { name: "post" match { prefix: "/m" headers { name: ":method" string_match { exact: "POST" } } } direct_response { status: 200 } }
        routes { name: "https" match { prefix: "/m" headers { name: ":scheme" string_match { exact: "https" } } } direct_response { status: 200 } }
        routes { name: "authority" match { prefix: "/m" headers { name: ":authority" string_match { prefix: "api." } } } direct_response { status: 200 } }
        routes { name: "by-header" match { prefix: "/ch" } route { cluster_header: "x-cluster" } }
        routes { name: "grpc" match { prefix: "/" grpc {} } direct_response { status: 200 } }
        routes { name: "bad-regex" match { safe_regex { regex: "(" } } direct_response { status: 200 } } })"));
  mesh.AddCluster(Parse<Cluster>(R"(name: "chosen" type: STATIC load_assignment {
      cluster_name: "chosen" endpoints { lb_endpoints { endpoint { address { socket_address {
      address: "10.9.0.1" port_value: 80 } } } } } })"));
  auto route = [&](const std::string& path,
                   std::vector<std::pair<std::string, std::string>> headers = {},
                   const std::string& method = "GET", const std::string& scheme = "http") {
    Request request = Request::Direct("10.0.0.1", 80);
    request.authority = "web.example.com";
    request.path = path;
    request.method = method;
    request.scheme = scheme;
    request.headers = std::move(headers);
    const Result r = mesh.Simulate(request);
    return r.decision == Decision::kError ? "error: " + r.reason : r.route;
  };
  CHECK(route("/absent") == "absent");
  CHECK(route("/absent", {{"x-a", "1"}}).rfind("error", 0) == 0);  // falls through to bad-regex
  // An inverted value matcher does not match a missing header (Envoy's documented rule).
  CHECK(route("/inv").rfind("error", 0) == 0);
  CHECK(route("/inv", {{"x-canary", "true"}}).rfind("error", 0) == 0);
  CHECK(route("/inv", {{"x-canary", "false"}}) == "not-canary");
  CHECK(route("/empty") == "empty");
  CHECK(route("/range", {{"x-n", "15"}}) == "range");
  CHECK(route("/range", {{"x-n", "20"}}) != "range");
  CHECK(route("/re", {{"User-Agent", "Mozilla Chrome/1"}}) == "regex");
  CHECK(route("/s", {{"x-s", "xyzabc"}}) == "suffix");
  CHECK(route("/c", {{"x-c", "amidb"}}) == "contains");
  CHECK(route("/m", {}, "POST") == "post");
  CHECK(route("/m", {}, "GET", "https") == "https");
  CHECK(route("/m", {{"content-type", "application/grpc"}}) == "grpc");
  CHECK(route("/x", {{"content-type", "application/grpc+proto"}}) == "grpc");
  CHECK(route("/x").rfind("error: route #12 of h: invalid regex", 0) == 0);

  Request request = Request::Direct("10.0.0.1", 80);
  request.path = "/ch";
  request.WithHeader("x-cluster", "chosen");
  Result r = mesh.Simulate(request);
  CHECK(r.cluster() == "chosen");
  CHECK(r.clusters[0].info.type == "STATIC");
  CHECK(r.clusters[0].info.priorities[0].endpoints[0].address == "10.9.0.1:80");
  request.headers.clear();
  r = mesh.Simulate(request);
  CHECK(r.decision == Decision::kNotFound);
  CHECK(r.reason == "cluster header x-cluster missing");
}

// Listener "p" with chains that overlap on purpose.
Listener Ambiguous(const std::string& chains) {
  return Parse<Listener>(R"(name: "p" )" + Socket("0.0.0.0", 443) + " " + chains);
}

std::string Chain(const std::string& name, const std::string& match) {
  return "filter_chains { name: \"" + name + "\" filter_chain_match { " + match + " } " +
         TcpProxy("BlackHoleCluster") + " }";
}

std::string ChainFor(Mesh& mesh, const std::string& chains, Request request) {
  mesh.AddListener(Ambiguous(chains));
  const Result r = mesh.Simulate(request);
  if (!r.filter_chain.empty()) return r.filter_chain;
  return r.reason;
}

TEST_CASE("filter chain precedence follows Envoy's match order, without backtracking", "[sim]") {
  Mesh mesh;
  mesh.AddCluster(Parse<Cluster>(R"(name: "BlackHoleCluster" type: STATIC)"));
  Request tls = Request::Direct("10.3.0.1", 443);
  tls.transport_protocol = "tls";
  tls.sni = "api.example.com";

  // destination_port is decided before server_names.
  const std::string port_vs_sni = Chain("sni", "server_names: \"api.example.com\"") +
                                  Chain("port", "destination_port { value: 443 }");
  CHECK(ChainFor(mesh, port_vs_sni, tls) == "port");

  // Once the port picked its bucket, a later mismatch does not fall back to port-less chains.
  const std::string no_backtrack =
      Chain("port-raw", "destination_port { value: 443 } transport_protocol: \"raw_buffer\"") +
      Chain("sni", "server_names: \"api.example.com\"");
  CHECK(ChainFor(mesh, no_backtrack, tls) == "no filter chain matched on listener p");

  // The most specific destination prefix wins; then server names.
  const std::string prefixes =
      Chain("wide", "prefix_ranges { address_prefix: \"10.0.0.0\" prefix_len { value: 8 } }") +
      Chain("narrow", "prefix_ranges { address_prefix: \"10.3.0.0\" prefix_len { value: 16 } }") +
      Chain("sni-any-ip", "server_names: \"api.example.com\"");
  CHECK(ChainFor(mesh, prefixes, tls) == "narrow");
  tls.destination_ip = "10.4.0.1";
  CHECK(ChainFor(mesh, prefixes, tls) == "wide");
  tls.destination_ip = "192.168.0.1";
  CHECK(ChainFor(mesh, prefixes, tls) == "sni-any-ip");
  tls.destination_ip = "10.3.0.1";

  // Exact server name, then the longest wildcard, then no server name.
  const std::string names = Chain("exact", "server_names: \"api.example.com\"") +
                            Chain("wild", "server_names: \"*.example.com\"") +
                            Chain("wilder", "server_names: \"*.api.example.com\"") +
                            Chain("none", "transport_protocol: \"tls\"");
  CHECK(ChainFor(mesh, names, tls) == "exact");
  tls.sni = "v1.api.example.com";
  CHECK(ChainFor(mesh, names, tls) == "wilder");
  tls.sni = "www.example.com";
  CHECK(ChainFor(mesh, names, tls) == "wild");
  tls.sni = "example.com";
  CHECK(ChainFor(mesh, names, tls) == "none");

  // server_names before transport_protocol; transport before ALPN; ALPN in the client's order.
  tls.sni = "api.example.com";
  const std::string sni_vs_transport = Chain("tls", "transport_protocol: \"tls\"") +
                                       Chain("sni", "server_names: \"api.example.com\"");
  CHECK(ChainFor(mesh, sni_vs_transport, tls) == "sni");
  const std::string alpn = Chain("h2", "application_protocols: \"h2\"") +
                           Chain("h1", "application_protocols: \"http/1.1\"") +
                           Chain("raw", "transport_protocol: \"raw_buffer\"");
  tls.alpn = {"http/1.1", "h2"};
  CHECK(ChainFor(mesh, alpn, tls) == "h1");
  tls.alpn = {"h2", "http/1.1"};
  CHECK(ChainFor(mesh, alpn, tls) == "h2");

  // Source: type, then the most specific source prefix, then the exact source port.
  Request plain = Request::Direct("10.3.0.1", 443);
  const std::string sources =
      Chain("local", "source_type: SAME_IP_OR_LOOPBACK") + Chain("any", "") +
      Chain("net",
            "source_prefix_ranges { address_prefix: \"10.8.0.0\" prefix_len { value: 16 } }");
  plain.source_ip = "127.0.0.1";
  CHECK(ChainFor(mesh, sources, plain) == "local");
  plain.source_ip = "10.8.1.1";
  CHECK(ChainFor(mesh, sources, plain) == "net");
  plain.source_ip = "10.9.1.1";
  CHECK(ChainFor(mesh, sources, plain) == "any");
  const std::string ports = Chain("port", "source_ports: 5000") + Chain("any", "");
  plain.source_port = 5000;
  CHECK(ChainFor(mesh, ports, plain) == "port");
  plain.source_port = 5001;
  CHECK(ChainFor(mesh, ports, plain) == "any");

  // Two chains with the same match: Envoy rejects the listener.
  CHECK(ChainFor(mesh,
                 Chain("a", "destination_port { value: 443 }") +
                     Chain("b", "destination_port { value: 443 }"),
                 plain) ==
        "filter chains a and b of listener p have the same match (Envoy rejects the listener)");

  // No chain matches: the default filter chain, if any.
  const std::string with_default = Chain("other-port", "destination_port { value: 444 }") +
                                   " default_filter_chain { name: \"fallback\" " +
                                   TcpProxy("BlackHoleCluster") + " }";
  mesh.AddListener(Ambiguous(with_default));
  const Result r = mesh.Simulate(plain);
  CHECK(r.filter_chain == "fallback");
  CHECK(r.default_filter_chain);
  CHECK(r.decision == Decision::kDropped);  // BlackHoleCluster
}

TEST_CASE("resources by type URL; ToString names every step", "[sim]") {
  Resources resources;
  auto add = [&resources](const std::string& type, const google::protobuf::Message& message,
                          const std::string& name) {
    auto resource = std::make_shared<Resource>();
    resource->name = name;
    resource->any.PackFrom(message);
    REQUIRE(resource->any.type_url() == type);
    resources.push_back(resource);
  };
  add(kListenerType, VirtualOutbound(), "virtualOutbound");
  add(kListenerType, Outbound9080(), "0.0.0.0_9080");
  add(kRouteType, Routes9080(), "9080");
  add(kClusterType, EdsCluster(kV2), kV2);
  add(kEndpointType,
      Parse<ClusterLoadAssignment>(std::string("cluster_name: \"") + kV2 + "\" endpoints { " +
                                   LbEndpoint("10.1.0.3", 9080, true) + " }"),
      kV2);
  Mesh mesh;
  REQUIRE(mesh.AddResources(resources).ok());
  const Result r = mesh.Simulate(
      Request::OutboundHttp("10.0.0.5", 9080, "reviews", "/").WithHeader("end-user", "jason"));
  CHECK(r.cluster() == kV2);
  const std::string text = r.ToString();
  INFO(text);
  for (const char* step : {"decision: route", "virtualOutbound", "0.0.0.0_9080",
                           "route configuration 9080", "reviews.default.svc.cluster.local:9080",
                           "route jason", kV2, "10.1.0.3:9080", "TLS sni="}) {
    CHECK(text.find(step) != std::string::npos);
  }

  Resources wrong;
  auto bad = std::make_shared<Resource>();
  bad->name = "x";
  bad->any.set_type_url("type.googleapis.com/envoy.config.core.v3.Node");
  wrong.push_back(bad);
  CHECK(mesh.AddResources(wrong).code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace meshd::xds::sim
