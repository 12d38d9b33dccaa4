#include "controller/bootstrap/config_status.h"

#include <catch2/catch.hpp>
#include "controller/bootstrap/debug_handlers.h"
#include "controller/config/decoder.h"
#include "nlohmann/json.hpp"
#include "xds/gen/resource.h"

namespace meshd::bootstrap {
namespace {

using json = nlohmann::json;

model::ConfigPtr Decode(const json& obj) {
  absl::StatusOr<model::ConfigPtr> c = config::DecodeObject(obj, config::DecodeOptions());
  REQUIRE(c.ok());
  return *c;
}

model::ConfigPtr Reviews(json export_to = nullptr) {
  json obj = json::parse(R"({
    "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
    "metadata": {"name": "reviews", "namespace": "default", "generation": 4},
    "spec": {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews"}}]}]}
  })");
  if (!export_to.is_null()) obj["spec"]["exportTo"] = export_to;
  return Decode(obj);
}

ProxyState Proxy(const std::string& id, const std::string& ns) {
  ProxyState p;
  p.id = id;
  p.ns = ns;
  return p;
}

TEST_CASE("Distribution: applied by the synced proxies that select the object",
          "[bootstrap][status]") {
  model::ConfigPtr vs = Reviews();
  std::vector<ProxyState> proxies = {Proxy("sidecar~10.0.0.1~a.default~x", "default"),
                                     Proxy("sidecar~10.0.0.2~b.other~x", "other")};
  proxies[1].synced = false;  // a response not acknowledged yet
  Distribution d = DistributionOf(*vs, "istio-system", "cluster.local", proxies);
  CHECK(d.selecting == 2);
  CHECK(d.applied == 1);
  CHECK(d.nacks.empty());
  CHECK(DistributionMessage(d) == "applied by 1 of 2 proxies that select it");

  SECTION("exportTo . selects only its namespace") {
    model::ConfigPtr local = Reviews(json::array({"."}));
    Distribution dl = DistributionOf(*local, "istio-system", "cluster.local", proxies);
    CHECK(dl.selecting == 1);
    CHECK(dl.applied == 1);
  }
}

TEST_CASE("Distribution: a NACK is attributed to the objects its resources carry",
          "[bootstrap][status]") {
  model::ConfigPtr vs = Reviews();
  model::ConfigPtr other = Decode(json::parse(R"({
    "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
    "metadata": {"name": "ratings", "namespace": "default"}, "spec": {"host": "ratings"}})"));
  ProxyState p = Proxy("sidecar~10.0.0.1~a.default~x", "default");
  p.nacks.push_back({xds::kClusterType,
                     "cluster outbound|9080||reviews.default.svc.cluster.local: bad config",
                     {"outbound|9080||reviews.default.svc.cluster.local"}});
  std::vector<ProxyState> proxies = {p, Proxy("sidecar~10.0.0.2~c.default~x", "default")};

  Distribution d = DistributionOf(*vs, "istio-system", "cluster.local", proxies);
  CHECK(d.selecting == 2);
  CHECK(d.applied == 1);
  REQUIRE(d.nacks.size() == 1);
  CHECK(DistributionMessage(d) ==
        "applied by 1 of 2 proxies that select it; NACKed by 1: sidecar~10.0.0.1~a.default~x: "
        "cluster outbound|9080||reviews.default.svc.cluster.local: bad config");
  // The DestinationRule for another host is not blamed (the proxy applied it).
  Distribution dr = DistributionOf(*other, "istio-system", "cluster.local", proxies);
  CHECK(dr.nacks.empty());
  CHECK(dr.applied == 2);

  kube::DesiredStatus s =
      DesiredStatusOf(vs.get(), "istio-system", "cluster.local", Summarize(proxies));
  CHECK(s.accepted);
  CHECK_FALSE(s.reconciled);
  CHECK(s.generation == 4);
}

TEST_CASE("Summarize: proxies without NACKs fold into (namespace, gateway) buckets",
          "[bootstrap][status]") {
  std::vector<ProxyState> proxies;
  for (int i = 0; i < 1000; ++i) {
    proxies.push_back(
        Proxy("sidecar~10.0." + std::to_string(i) + "~a.default~x", i % 2 ? "default" : "other"));
  }
  proxies.push_back(Proxy("router~10.1.0.1~gw.istio-system~x", "istio-system"));
  proxies[3].synced = false;
  ProxySummary s = Summarize(proxies);
  CHECK(s.buckets.size() == 3);
  CHECK(s.nacking.empty());
  model::ConfigPtr local = Reviews(json::array({"."}));
  Distribution d = DistributionOf(*local, "istio-system", "cluster.local", s);
  CHECK(d.selecting == 500);
  CHECK(d.applied == 499);
  model::ConfigPtr gw = Decode(json::parse(R"({
    "apiVersion": "networking.istio.io/v1", "kind": "Gateway",
    "metadata": {"name": "gw", "namespace": "default"},
    "spec": {"selector": {"istio": "ingressgateway"},
             "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"},
                          "hosts": ["*"]}]}})"));
  CHECK(DistributionOf(*gw, "istio-system", "cluster.local", s).selecting == 1);
}

TEST_CASE("Carries: host tokens and port-named routes", "[bootstrap][status]") {
  model::ConfigPtr vs = Reviews();
  CHECK(Carries(*vs, "cluster.local", xds::kRouteType, "reviews.default.svc.cluster.local:9080"));
  CHECK(Carries(*vs, "cluster.local", xds::kRouteType, "9080"));
  CHECK(Carries(*vs, "cluster.local", xds::kClusterType,
                "outbound|9080|v1|reviews.default.svc.cluster.local"));
  CHECK_FALSE(Carries(*vs, "cluster.local", xds::kClusterType,
                      "outbound|9080||myreviews.default.svc.cluster.local"));
  CHECK_FALSE(Carries(*vs, "cluster.local", xds::kListenerType, "virtualOutbound"));
}

TEST_CASE("ProxyStates: NACKed names and sync from the streams' status", "[bootstrap][status]") {
  xds::ConnectionStatus c;
  c.proxy_id = "sidecar~1~a.default~x";
  c.ns = "default";
  xds::TypeStatus lds;
  lds.type_url = xds::kListenerType;
  lds.version_sent = "5";
  lds.version_acked = "5";
  xds::TypeStatus cds;
  cds.type_url = xds::kClusterType;
  cds.version_sent = "5";
  cds.version_acked = "4";
  cds.nack_error = "bad";
  cds.nack_names = {"outbound|9080||reviews.default.svc.cluster.local"};
  c.types = {lds, cds};
  std::vector<ProxyState> states = ProxyStates({c});
  REQUIRE(states.size() == 1);
  CHECK(states[0].synced);
  REQUIRE(states[0].nacks.size() == 1);
  CHECK(states[0].nacks[0].names == cds.nack_names);
}

TEST_CASE("configz shows each config's istioStatus (file mode)", "[bootstrap][status]") {
  model::Snapshot::Data data;
  data.version = 7;
  model::ConfigPtr vs = Reviews();
  data.configs[vs->key] = vs;
  model::Snapshot snapshot(std::move(data));
  xds::ConnectionStatus c;
  c.proxy_id = "sidecar~1~a.default~x";
  c.ns = "default";
  std::vector<xds::ConnectionStatus> connections = {c};
  json out = ConfigzJson(&snapshot, {}, {}, &connections);
  REQUIRE(out["configs"].size() == 1);
  const json& st = out["configs"][0]["istioStatus"];
  CHECK(st["conditions"][0]["type"] == "Accepted");
  CHECK(st["conditions"][0]["status"] == "True");
  CHECK(st["conditions"][1]["type"] == "Reconciled");
  CHECK(st["conditions"][1]["message"] == "applied by 1 of 1 proxy that selects it");
  // Without connections (the old form) there is no istioStatus.
  json plain = ConfigzJson(&snapshot, {}, {});
  CHECK_FALSE(plain["configs"][0].contains("istioStatus"));
}

}  // namespace
}  // namespace meshd::bootstrap
