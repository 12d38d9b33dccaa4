// meshctl's tables from the JSON meshd serves: sync states with age, proxy-status rows,
// proxy-config tables from a config dump, colours only when asked.
#include "controller/meshctl/format.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"

namespace meshd::meshctl {
namespace {

using nlohmann::json;

const absl::Time kNow = absl::FromUnixSeconds(1700000100);

json Syncz() {
  return json::parse(R"([
    {"proxy": "sidecar~10.0.0.1~reviews-1.default~default.svc.cluster.local",
     "namespace": "default",
     "types": {
       "cds": {"version_sent": "4", "version_acked": "4"},
       "lds": {"version_sent": "4", "version_acked": "3", "sent_at": "2023-11-14T22:14:40.000Z"},
       "eds": {"version_sent": "4", "version_acked": "3", "nack": {"version": "4", "error": "bad"}}
     }},
    {"proxy": "router~10.0.0.2~gw-1.istio-system~istio-system.svc.cluster.local",
     "namespace": "istio-system", "types": {}}
  ])");
}

TEST_CASE("sync state: SYNCED, STALE with its age, NACK, NOT SENT", "[meshctl]") {
  json s = Syncz();
  const json& t = s[0]["types"];
  CHECK(SyncState(&t["cds"], kNow) == "SYNCED");
  CHECK(SyncState(&t["lds"], kNow) == "STALE (20s)");
  CHECK(SyncState(&t["eds"], kNow) == "NACK");
  CHECK(SyncState(nullptr, kNow) == "NOT SENT");
  CHECK(SyncState(&s[1]["types"], kNow) == "NOT SENT");
}

TEST_CASE("proxy-status: one row per proxy, sorted, every type column", "[meshctl]") {
  std::string t = ProxyStatusTable(Syncz(), "http://127.0.0.1:15014", kNow, false);
  INFO(t);
  CHECK(absl::StartsWith(t, "NAME"));
  CHECK(absl::StrContains(t, "ECDS"));
  size_t router = t.find("router~");
  size_t sidecar = t.find("sidecar~");
  REQUIRE(router != std::string::npos);
  CHECK(router < sidecar);
  CHECK(absl::StrContains(t, "SYNCED     STALE (20s)   NACK       NOT SENT"));
  CHECK_FALSE(absl::StrContains(t, "\033["));
  std::string colored = ProxyStatusTable(Syncz(), "m", kNow, true);
  CHECK(absl::StrContains(colored, "\033[31mNACK\033[0m"));
}

TEST_CASE("proxy-config: clusters, listeners, routes, endpoints from a config dump", "[meshctl]") {
  json dump = json::parse(R"({"configs": [
    {"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
     "dynamic_listeners": [{"name": "0.0.0.0_9080", "active_state": {"listener": {
       "name": "0.0.0.0_9080",
       "address": {"socket_address": {"address": "0.0.0.0", "port_value": 9080}},
       "filter_chains": [{}, {}]}}}]},
    {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
     "dynamic_active_clusters": [
       {"cluster": {"name": "outbound|9080|v1|reviews.default.svc.cluster.local", "type": "EDS"}},
       {"cluster": {"name": "BlackHoleCluster", "type": "STATIC"}}]},
    {"@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
     "dynamic_route_configs": [{"route_config": {"name": "9080", "virtual_hosts": [
       {"name": "reviews:9080", "domains": ["reviews", "reviews.default"], "routes": [{}]}]}}]},
    {"@type": "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump",
     "dynamic_endpoint_configs": [{"endpoint_config": {
       "cluster_name": "outbound|9080|v1|reviews.default.svc.cluster.local",
       "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address":
         {"address": "10.0.0.5", "port_value": 9080}}}}]}]}}]}
  ]})");
  std::string c = ProxyConfigTable(dump, "clusters");
  INFO(c);
  CHECK(absl::StartsWith(c, "SERVICE FQDN"));
  CHECK(
      absl::StrContains(c, "reviews.default.svc.cluster.local   9080   v1       outbound    EDS"));
  CHECK(absl::StrContains(c, "BlackHoleCluster"));
  CHECK(DumpResources(dump, "clusters").size() == 2);
  CHECK(DumpResources(dump, "listeners")[0]["name"] == "0.0.0.0_9080");
  std::string l = ProxyConfigTable(dump, "listeners");
  CHECK(absl::StrContains(l, "0.0.0.0_9080   0.0.0.0   9080   2"));
  std::string r = ProxyConfigTable(dump, "routes");
  CHECK(absl::StrContains(r, "reviews,reviews.default"));
  std::string e = ProxyConfigTable(dump, "endpoints");
  CHECK(absl::StrContains(e, "10.0.0.5:9080   HEALTHY"));
  CHECK(absl::StartsWith(ProxyConfigTable(dump, "secret"), "RESOURCE NAME"));
}

TEST_CASE("a proxy is named by its node id or <pod>.<namespace>", "[meshctl]") {
  json s = Syncz();
  CHECK(MatchingConnections(s, "reviews-1.default").size() == 1);
  CHECK(MatchingConnections(s, s[1]["proxy"].get<std::string>()).size() == 1);
  CHECK(MatchingConnections(s, "reviews-1").empty());
}

}  // namespace
}  // namespace meshd::meshctl
