#include "controller/bootstrap/config_status.h"

#include <catch2/catch.hpp>

#include <chrono>
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

// Origins as a generator records them.
xds::Origins OriginsOf(const std::vector<model::ConfigPtr>& configs) {
  xds::OriginSet set;
  for (const auto& c : configs) set.Add(c);
  return set.Build();
}

model::ConfigPtr Object(const std::string& kind, const std::string& group, const std::string& ns,
                        const std::string& name, const std::string& spec) {
  return Decode(json{{"apiVersion", group + "/v1"},
                     {"kind", kind},
                     {"metadata", {{"name", name}, {"namespace", ns}}},
                     {"spec", json::parse(spec)}});
}

ProxyState Nacking(const std::string& id, const std::string& ns, const std::string& type,
                   const std::string& name, xds::Origins origins) {
  ProxyState p = Proxy(id, ns);
  p.nacks.push_back({type, "rejected " + name, {name}, {std::move(origins)}});
  return p;
}

TEST_CASE("A NACKed route config blames only the VirtualServices whose virtual hosts it carries",
          "[bootstrap][status][origins]") {
  model::ConfigPtr reviews = Reviews();
  model::ConfigPtr ratings = Object("VirtualService", "networking.istio.io", "default", "ratings",
                                    R"({"hosts": ["ratings"],
                                        "http": [{"route": [{"destination": {"host": "ratings"}}]}]})");
  std::vector<ProxyState> proxies = {Nacking("sidecar~10.0.0.1~a.default~x", "default",
                                             xds::kRouteType, "9080", OriginsOf({reviews})),
                                     Proxy("sidecar~10.0.0.2~b.default~x", "default")};
  Distribution blamed = DistributionOf(*reviews, "istio-system", "cluster.local", proxies);
  CHECK(blamed.nacks.size() == 1);
  // The name heuristic would blame every mesh VirtualService for route "9080"; origins do not.
  Distribution other = DistributionOf(*ratings, "istio-system", "cluster.local", proxies);
  CHECK(other.nacks.empty());
  CHECK(other.applied == 2);
  CHECK(other.selecting == 2);

  SECTION("recorded as shaped by no object, it blames none") {
    proxies[0] = Nacking("sidecar~10.0.0.1~a.default~x", "default", xds::kRouteType, "9080",
                         xds::OriginSet().Build());
    CHECK(DistributionOf(*reviews, "istio-system", "cluster.local", proxies).nacks.empty());
  }
  SECTION("without recorded origins, the name decides (the fallback)") {
    proxies[0] =
        Nacking("sidecar~10.0.0.1~a.default~x", "default", xds::kRouteType, "9080", nullptr);
    CHECK(DistributionOf(*ratings, "istio-system", "cluster.local", proxies).nacks.size() == 1);
  }
}

TEST_CASE("A NACKed cluster blames its DestinationRule, even one whose host is a wildcard",
          "[bootstrap][status][origins]") {
  model::ConfigPtr wildcard = Object("DestinationRule", "networking.istio.io", "istio-system",
                                     "mesh-mtls", R"({"host": "*.local"})");
  model::ConfigPtr se = Object("ServiceEntry", "networking.istio.io", "default", "reviews",
                               R"({"hosts": ["reviews.example.com"], "resolution": "DNS",
                                   "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}]})");
  std::vector<ProxyState> proxies = {
      Nacking("sidecar~10.0.0.1~a.default~x", "default", xds::kClusterType,
              "outbound|9080||reviews.default.svc.cluster.local", OriginsOf({wildcard})),
      Proxy("sidecar~10.0.0.2~b.default~x", "default")};
  CHECK(DistributionOf(*wildcard, "istio-system", "cluster.local", proxies).nacks.size() == 1);
  // A ServiceEntry the cluster was not built from is not blamed.
  CHECK(DistributionOf(*se, "istio-system", "cluster.local", proxies).nacks.empty());
}

TEST_CASE("A NACKed inbound listener blames the PeerAuthentication and AuthorizationPolicy",
          "[bootstrap][status][origins]") {
  model::ConfigPtr pa = Object("PeerAuthentication", "security.istio.io", "default", "default",
                               R"({"mtls": {"mode": "STRICT"}})");
  model::ConfigPtr ap =
      Object("AuthorizationPolicy", "security.istio.io", "default", "allow", R"({"rules": [{}]})");
  model::ConfigPtr unrelated = Object("AuthorizationPolicy", "security.istio.io", "default",
                                      "other", R"({"action": "DENY", "rules": [{}]})");
  std::vector<ProxyState> proxies = {
      Nacking("sidecar~10.0.0.1~a.default~x", "default", xds::kListenerType, "virtualInbound",
              OriginsOf({pa, ap})),
      Proxy("sidecar~10.0.0.2~b.default~x", "default")};
  CHECK(DistributionOf(*pa, "istio-system", "cluster.local", proxies).nacks.size() == 1);
  Distribution d = DistributionOf(*ap, "istio-system", "cluster.local", proxies);
  REQUIRE(d.nacks.size() == 1);
  CHECK(d.nacks[0].second == "rejected virtualInbound");
  CHECK(DistributionOf(*unrelated, "istio-system", "cluster.local", proxies).nacks.empty());
}

TEST_CASE("A NACKed gateway listener blames its Gateway; the gateway selects it",
          "[bootstrap][status][origins]") {
  model::ConfigPtr gw = Object("Gateway", "networking.istio.io", "default", "bookinfo",
                               R"({"selector": {"istio": "ingressgateway"},
                                   "servers": [{"port": {"number": 80, "name": "http",
                                                "protocol": "HTTP"}, "hosts": ["*"]}]})");
  ProxyState nacking = Nacking("router~10.2.0.1~gw.istio-system~x", "istio-system",
                               xds::kListenerType, "0.0.0.0_8080", OriginsOf({gw}));
  nacking.labels = {{"istio", "other"}};  // the labels disagree; the NACKed resource does not
  ProxyState matching = Proxy("router~10.2.0.2~gw2.istio-system~x", "istio-system");
  matching.labels = {{"istio", "ingressgateway"}};
  ProxyState elsewhere = Proxy("router~10.2.0.3~eg.istio-system~x", "istio-system");
  elsewhere.labels = {{"istio", "egressgateway"}};
  Distribution d =
      DistributionOf(*gw, "istio-system", "cluster.local", {nacking, matching, elsewhere});
  CHECK(d.selecting == 2);
  CHECK(d.applied == 1);
  CHECK(d.nacks.size() == 1);
}

TEST_CASE("Selection: workload and gateway selectors match the proxy's labels when known",
          "[bootstrap][status][origins]") {
  model::ConfigPtr ap = Object("AuthorizationPolicy", "security.istio.io", "default", "reviews",
                               R"({"selector": {"matchLabels": {"app": "reviews"}},
                                   "rules": [{}]})");
  model::ConfigPtr sidecar = Object("Sidecar", "networking.istio.io", "default", "ratings",
                                    R"({"workloadSelector": {"labels": {"app": "ratings"}},
                                        "egress": [{"hosts": ["./*"]}]})");
  std::vector<ProxyState> proxies;
  for (int i = 0; i < 30; ++i) {
    ProxyState p = Proxy("sidecar~10.0.0." + std::to_string(i) + "~p.default~x", "default");
    p.labels = {{"app", i % 3 == 0 ? "reviews" : i % 3 == 1 ? "ratings" : "details"}};
    if (i == 3) p.synced = false;
    proxies.push_back(p);
  }
  proxies.push_back(Proxy("sidecar~10.0.1.1~unknown.default~x", "default"));  // labels unknown
  ProxySummary s = Summarize(proxies);
  REQUIRE(s.buckets.size() == 1);
  CHECK(s.buckets[0].by_labels.size() == 4);
  Distribution d = DistributionOf(*ap, "istio-system", "cluster.local", s);
  CHECK(d.selecting == 11);  // 10 reviews + the proxy whose labels are unknown
  CHECK(d.applied == 10);
  CHECK(DistributionOf(*sidecar, "istio-system", "cluster.local", s).selecting == 11);
  // An object without a selector still counts the whole namespace.
  CHECK(DistributionOf(*Reviews(), "istio-system", "cluster.local", s).selecting == 31);
}

TEST_CASE("ProxyStates keeps the NACKed resources' origins and the proxy's labels",
          "[bootstrap][status][origins]") {
  model::ConfigPtr vs = Reviews();
  xds::ConnectionStatus c;
  c.proxy_id = "sidecar~1~a.default~x";
  c.ns = "default";
  c.labels = {{"app", "a"}};
  xds::TypeStatus rds;
  rds.type_url = xds::kRouteType;
  rds.nack_error = "bad";
  rds.nack_names = {"9080"};
  rds.nack_origins = {OriginsOf({vs})};
  c.types = {rds};
  std::vector<ProxyState> states = ProxyStates({c});
  REQUIRE(states.size() == 1);
  CHECK(states[0].labels == c.labels);
  REQUIRE(states[0].nacks.size() == 1);
  CHECK(states[0].nacks[0].origins == rds.nack_origins);
  CHECK(NackOf(*vs, "cluster.local", states[0]) == &states[0].nacks[0]);
}

// Not a timed test: prints the figure. `meshd_unit_tests "[.bench]"`.
TEST_CASE("Status recompute at 10,000 proxies", "[.bench][bootstrap][status]") {
  std::vector<model::ConfigPtr> configs;
  for (int i = 0; i < 500; ++i) {
    std::string ns = "ns" + std::to_string(i % 50);
    configs.push_back(Object("VirtualService", "networking.istio.io", ns, "vs" + std::to_string(i),
                             R"({"hosts": ["svc)" + std::to_string(i) + R"("],
                                 "http": [{"route": [{"destination": {"host": "svc"}}]}]})"));
    configs.push_back(Object("AuthorizationPolicy", "security.istio.io", ns,
                             "ap" + std::to_string(i),
                             R"({"selector": {"matchLabels": {"app": "app)" +
                                 std::to_string(i % 20) + R"("}}, "rules": [{}]})"));
  }
  xds::Origins shared = OriginsOf({configs[0], configs[2]});
  std::vector<xds::ConnectionStatus> connections;
  for (int i = 0; i < 10000; ++i) {
    xds::ConnectionStatus c;
    c.proxy_id = "sidecar~10.0." + std::to_string(i) + "~p" + std::to_string(i) + ".ns~x";
    c.ns = "ns" + std::to_string(i % 50);
    c.labels = {{"app", "app" + std::to_string(i % 40)},
                {"pod-template-hash", std::to_string(i % 200)}};
    for (const char* type :
         {xds::kListenerType, xds::kRouteType, xds::kClusterType, xds::kEndpointType}) {
      xds::TypeStatus t;
      t.type_url = type;
      t.version_sent = t.version_acked = "1";
      if (i % 100 == 0 && std::string(type) == xds::kRouteType) {  // 100 NACKing proxies
        t.nack_error = "bad route";
        t.nack_names = {"9080", "80"};
        t.nack_origins = {shared, nullptr};
      }
      c.types.push_back(t);
    }
    connections.push_back(std::move(c));
  }
  auto start = std::chrono::steady_clock::now();
  ProxySummary summary = Summarize(ProxyStates(connections));
  int reconciled = 0;
  for (const auto& c : configs) {
    reconciled += DesiredStatusOf(c.get(), "istio-system", "cluster.local", summary).reconciled;
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  WARN("status of " << configs.size() << " objects at 10000 proxies (100 NACKing, "
                    << summary.buckets.size() << " buckets): " << ms << " ms");
  CHECK(reconciled > 0);
}

}  // namespace
}  // namespace meshd::bootstrap
