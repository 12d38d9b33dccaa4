#include "xds/validate/config_set.h"

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "tests/xds/validate/test_resources.h"

namespace meshd::xds {
namespace {

using Errors = std::vector<std::string>;
using envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;
using testing::IstioMtls;
using testing::kCluster;
using testing::Pack;
using testing::RdsHcm;
using testing::SidecarCluster;
using testing::SidecarEndpoints;
using testing::SidecarListener;
using testing::SidecarRoutes;

constexpr char kHcm[] =
    "typed_config(envoy.extensions.filters.network.http_connection_manager.v3."
    "HttpConnectionManager)";

EnvoyConfigSet Sidecar() {
  EnvoyConfigSet set;
  set.listeners.push_back(SidecarListener());
  set.routes.push_back(SidecarRoutes());
  set.clusters.push_back(SidecarCluster());
  set.endpoints.push_back(SidecarEndpoints());
  return set;
}

envoy::config::listener::v3::Filter TcpProxyFilter(const std::string& cluster) {
  TcpProxy tcp;
  tcp.set_stat_prefix(cluster);
  tcp.set_cluster(cluster);
  envoy::config::listener::v3::Filter f;
  f.set_name("envoy.filters.network.tcp_proxy");
  f.mutable_typed_config()->PackFrom(tcp);
  return f;
}

envoy::config::listener::v3::Listener& Listener(EnvoyConfigSet& set) { return set.listeners[0]; }
envoy::config::route::v3::VirtualHost& Vhost(EnvoyConfigSet& set) {
  return *set.routes[0].mutable_virtual_hosts(0);
}

TEST_CASE("a consistent sidecar config set has no errors", "[validate]") {
  CHECK(CheckConfigSet(Sidecar()) == Errors{});
  CHECK(ValidateConfigSet(Sidecar()) == Errors{});
}

TEST_CASE("ValidateConfigSet prefixes per-resource errors with kind and name", "[validate]") {
  auto set = Sidecar();
  set.clusters[0].mutable_connect_timeout()->set_seconds(-1);
  CHECK(ValidateConfigSet(set) == Errors{std::string("cluster \"") + kCluster +
                                         "\": connect_timeout: value must be greater than 0s"});
}

TEST_CASE("ConfigSetFromResources unpacks by type URL and refuses other types", "[validate]") {
  Resources resources;
  auto add = [&resources](const std::string& name, google::protobuf::Any any) {
    auto r = std::make_shared<Resource>();
    r->name = name;
    r->any = std::move(any);
    resources.push_back(r);
  };
  add("virtualOutbound", Pack(SidecarListener()));
  add("8080", Pack(SidecarRoutes()));
  add(kCluster, Pack(SidecarCluster()));
  add(kCluster, Pack(SidecarEndpoints()));
  auto set = ConfigSetFromResources(resources);
  REQUIRE(set.ok());
  CHECK(set->listeners.size() == 1);
  CHECK(set->endpoints.size() == 1);
  CHECK(CheckConfigSet(*set) == Errors{});
  add("tls", Pack(IstioMtls()));
  CHECK(ConfigSetFromResources(resources).status().message() ==
        "resource \"tls\": unexpected resource type URL "
        "\"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext\"");
}

TEST_CASE("duplicate listener names", "[validate]") {
  auto set = Sidecar();
  set.listeners.push_back(SidecarListener());
  set.listeners[1].mutable_address()->mutable_socket_address()->set_port_value(15006);
  CHECK(CheckConfigSet(set) ==
        Errors{"listener \"virtualOutbound\": duplicate listener name (also listeners[0])"});
}

TEST_CASE("two listeners bound to the same address", "[validate]") {
  auto set = Sidecar();
  set.listeners.push_back(SidecarListener());
  set.listeners[1].set_name("virtualInbound");
  CHECK(CheckConfigSet(set) ==
        Errors{"listener \"virtualInbound\": address: 0.0.0.0:15001 (TCP) is also bound by "
               "listener \"virtualOutbound\""});
  set.listeners[1].mutable_bind_to_port()->set_value(false);  // Istio's per-port listeners
  CHECK(CheckConfigSet(set) == Errors{});
}

TEST_CASE("a listener without filter chains", "[validate]") {
  auto set = Sidecar();
  Listener(set).clear_filter_chains();
  CHECK(CheckConfigSet(set) ==
        Errors{"listener \"virtualOutbound\": no filter_chains and no default_filter_chain"});
  *Listener(set).mutable_default_filter_chain()->add_filters() = TcpProxyFilter(kCluster);
  CHECK(CheckConfigSet(set) == Errors{});
}

TEST_CASE("two filter chains with the same match", "[validate]") {
  auto set = Sidecar();
  *Listener(set).add_filter_chains() = Listener(set).filter_chains(0);
  CHECK(CheckConfigSet(set) ==
        Errors{"listener \"virtualOutbound\": filter_chains[1].filter_chain_match: same "
               "matching rules as filter_chains[0]"});
}

TEST_CASE("two filter chains with overlapping matches", "[validate]") {
  auto set = Sidecar();
  auto* chain = Listener(set).add_filter_chains();
  *chain = Listener(set).filter_chains(0);
  chain->mutable_filter_chain_match()->clear_application_protocols();
  chain->mutable_filter_chain_match()->add_application_protocols("h2c");  // also in chain 0
  CHECK(CheckConfigSet(set) ==
        Errors{"listener \"virtualOutbound\": filter_chains[1].filter_chain_match: matching "
               "rules overlap filter_chains[0]"});
  chain->mutable_filter_chain_match()->set_application_protocols(0, "h2");
  CHECK(CheckConfigSet(set) == Errors{});
}

TEST_CASE("terminal network filter not last, or missing", "[validate]") {
  auto set = Sidecar();
  auto* chain = Listener(set).mutable_filter_chains(0);
  *chain->add_filters() = TcpProxyFilter(kCluster);
  CHECK(CheckConfigSet(set) ==
        Errors{"listener \"virtualOutbound\": filter_chains[0].filters[0]: terminal filter "
               "\"envoy.filters.network.http_connection_manager\" must be the last filter in a "
               "network filter chain"});
  chain->mutable_filters()->RemoveLast();
  chain->mutable_filters()->RemoveLast();
  auto* rbac = chain->add_filters();
  rbac->set_name("envoy.filters.network.rbac");
  CHECK(CheckConfigSet(set) ==
        Errors{"listener \"virtualOutbound\": filter_chains[0].filters[0]: non-terminal filter "
               "\"envoy.filters.network.rbac\" is the last filter in a network filter chain"});
}

TEST_CASE("HCM http_filters must end with the router", "[validate]") {
  auto set = Sidecar();
  auto hcm = RdsHcm("8080");
  auto* cors = hcm.add_http_filters();
  cors->set_name("envoy.filters.http.cors");
  Listener(set).mutable_filter_chains(0)->mutable_filters(0)->mutable_typed_config()->PackFrom(hcm);
  std::string prefix = std::string("listener \"virtualOutbound\": filter_chains[0].filters[0].") +
                       kHcm + ".http_filters";
  CHECK(CheckConfigSet(set) ==
        Errors{prefix + "[0]: terminal filter \"envoy.filters.http.router\" must be the last "
                        "filter in an http filter chain",
               prefix + "[1]: non-terminal filter \"envoy.filters.http.cors\" is the last filter "
                        "in an http filter chain"});
}

TEST_CASE("matching server_names or tls needs the tls_inspector", "[validate]") {
  auto set = Sidecar();
  auto* chain = Listener(set).add_filter_chains();
  chain->mutable_filter_chain_match()->add_server_names("reviews.example.com");
  chain->mutable_filter_chain_match()->set_transport_protocol("tls");
  *chain->add_filters() = TcpProxyFilter(kCluster);
  CHECK(CheckConfigSet(set) ==
        Errors{"listener \"virtualOutbound\": filter_chains[1].filter_chain_match.server_names: "
               "matching requires the tls_inspector listener filter",
               "listener \"virtualOutbound\": filter_chains[1].filter_chain_match."
               "transport_protocol: matching \"tls\" requires the tls_inspector listener filter"});
  auto* ti = Listener(set).add_listener_filters();
  ti->set_name("envoy.filters.listener.tls_inspector");
  ti->mutable_typed_config()->PackFrom(
      envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector());
  CHECK(CheckConfigSet(set) == Errors{});
}

TEST_CASE("matching application_protocols needs an inspector", "[validate]") {
  auto set = Sidecar();
  Listener(set).mutable_listener_filters()->RemoveLast();  // the http_inspector
  CHECK(CheckConfigSet(set) ==
        Errors{"listener \"virtualOutbound\": filter_chains[0].filter_chain_match."
               "application_protocols: matching requires the tls_inspector or http_inspector "
               "listener filter"});
}

TEST_CASE("RDS route_config_name must be in RDS", "[validate]") {
  auto set = Sidecar();
  set.routes[0].set_name("9090");
  CHECK(CheckConfigSet(set) ==
        Errors{std::string("listener \"virtualOutbound\": filter_chains[0].filters[0].") + kHcm +
               ".rds.route_config_name: route configuration \"8080\" is not in RDS"});
}

TEST_CASE("duplicate virtual host domains, case-insensitively", "[validate]") {
  auto set = Sidecar();
  auto* vh = set.routes[0].add_virtual_hosts();
  *vh = Vhost(set);
  vh->set_name("other");
  vh->clear_domains();
  vh->add_domains("Reviews");
  CHECK(CheckConfigSet(set) ==
        Errors{"route \"8080\": virtual_hosts[1].domains[0]: duplicate domain \"Reviews\" (also "
               "virtual_hosts[0].domains[1])"});
}

TEST_CASE("duplicate virtual host names", "[validate]") {
  auto set = Sidecar();
  auto* vh = set.routes[0].add_virtual_hosts();
  *vh = Vhost(set);
  vh->clear_domains();
  vh->add_domains("ratings");
  CHECK(CheckConfigSet(set) ==
        Errors{"route \"8080\": virtual_hosts[1].name: duplicate virtual host name "
               "\"reviews.default.svc.cluster.local:8080\" (also virtual_hosts[0])"});
}

TEST_CASE("weighted clusters: zero sum and total_weight mismatch", "[validate]") {
  auto set = Sidecar();
  auto* wc = Vhost(set).mutable_routes(0)->mutable_route()->mutable_weighted_clusters();
  auto* a = wc->add_clusters();
  a->set_name(kCluster);
  a->mutable_weight()->set_value(0);
  std::string path = "route \"8080\": virtual_hosts[0].routes[0].route.weighted_clusters";
  CHECK(CheckConfigSet(set) == Errors{path + ": sum of weights must be greater than 0"});
  a->mutable_weight()->set_value(90);
  wc->mutable_total_weight()->set_value(100);
  CHECK(CheckConfigSet(set) ==
        Errors{path + ".total_weight: total_weight 100 does not equal the sum of weights 90"});
  wc->mutable_total_weight()->set_value(90);
  CHECK(CheckConfigSet(set) == Errors{});
}

TEST_CASE("clusters named by routes must be in CDS", "[validate]") {
  auto set = Sidecar();
  auto* action = Vhost(set).mutable_routes(0)->mutable_route();
  action->set_cluster("outbound|8080||missing");
  action->add_request_mirror_policies()->set_cluster("outbound|8080||shadow");
  auto* weighted = Vhost(set).add_routes();
  weighted->mutable_match()->set_prefix("/v2");
  auto* c = weighted->mutable_route()->mutable_weighted_clusters()->add_clusters();
  c->set_name("outbound|8080|v2|reviews");
  c->mutable_weight()->set_value(1);
  CHECK(CheckConfigSet(set) ==
        Errors{"route \"8080\": virtual_hosts[0].routes[0].route.cluster: cluster "
               "\"outbound|8080||missing\" is not in CDS",
               "route \"8080\": virtual_hosts[0].routes[0].route.request_mirror_policies[0]."
               "cluster: cluster \"outbound|8080||shadow\" is not in CDS",
               "route \"8080\": virtual_hosts[0].routes[1].route.weighted_clusters.clusters[0]."
               "name: cluster \"outbound|8080|v2|reviews\" is not in CDS"});
}

TEST_CASE("tcp_proxy clusters must be in CDS", "[validate]") {
  auto set = Sidecar();
  auto* chain = Listener(set).add_filter_chains();
  chain->mutable_filter_chain_match()->mutable_destination_port()->set_value(3306);
  *chain->add_filters() = TcpProxyFilter("outbound|3306||mysql");
  CHECK(CheckConfigSet(set) ==
        Errors{"listener \"virtualOutbound\": filter_chains[1].filters[0].typed_config(envoy."
               "extensions.filters.network.tcp_proxy.v3.TcpProxy).cluster: cluster "
               "\"outbound|3306||mysql\" is not in CDS"});
}

TEST_CASE("an EDS cluster needs a ClusterLoadAssignment", "[validate]") {
  auto set = Sidecar();
  set.endpoints.clear();
  CHECK(CheckConfigSet(set) == Errors{std::string("cluster \"") + kCluster + "\": EDS service \"" +
                                      kCluster + "\" has no ClusterLoadAssignment"});
}

TEST_CASE("duplicate cluster and endpoint names", "[validate]") {
  auto set = Sidecar();
  set.clusters.push_back(SidecarCluster());
  set.endpoints.push_back(SidecarEndpoints());
  CHECK(CheckConfigSet(set) == Errors{std::string("cluster \"") + kCluster +
                                          "\": duplicate cluster name (also clusters[0])",
                                      std::string("endpoints \"") + kCluster +
                                          "\": duplicate cluster_name (also endpoints[0])"});
}

TEST_CASE("transport_socket_matches names are unique", "[validate]") {
  auto set = Sidecar();
  set.clusters[0].mutable_transport_socket_matches(1)->set_name("tlsMode-istio");
  CHECK(CheckConfigSet(set) ==
        Errors{std::string("cluster \"") + kCluster +
               "\": transport_socket_matches[1].name: duplicate name \"tlsMode-istio\" (also "
               "transport_socket_matches[0])"});
}

}  // namespace
}  // namespace meshd::xds
