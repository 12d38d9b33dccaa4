// The shape of /debug/syncz, /debug/configz and /debug/leaderz: the fields tools and tests read
// (names, types, nesting), built from plain inputs without a server.
#include "controller/bootstrap/debug_handlers.h"

#include <catch2/catch.hpp>
#include <memory>

#include "controller/bootstrap/mesh_page.h"
#include "istio/networking/v1alpha3/envoy_filter.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "tests/xds/test_mesh.h"
#include "xds/gen/resource.h"

namespace meshd::bootstrap {
namespace {

using nlohmann::json;

model::ConfigPtr Config(model::Kind kind, const std::string& ns, const std::string& name,
                        std::shared_ptr<const google::protobuf::Message> spec,
                        std::vector<std::string> warnings = {}) {
  auto c = std::make_shared<model::Config>();
  c->key = {kind, ns, name};
  c->origin = "file:/etc/mesh/" + name + ".yaml";
  c->spec = std::move(spec);
  c->warnings = std::move(warnings);
  return c;
}

TEST_CASE("leaderz: without leader election only 'enabled' (and the informers)", "[debug]") {
  LeaderStatus off;
  CHECK(LeaderzJson(off) == json({{"enabled", false}}));
  off.informers = std::map<std::string, std::string>{{"/api/v1/services", "42"}};
  CHECK(LeaderzJson(off) ==
        json({{"enabled", false}, {"informers", {{"/api/v1/services", "42"}}}}));
}

TEST_CASE("leaderz: identity, lease, leadership and holder", "[debug]") {
  LeaderStatus s;
  s.enabled = true;
  s.identity = "meshd-a";
  s.lease = "istio-system/meshd-leader";
  s.leader = false;
  s.holder = "meshd-b";
  s.informers = std::map<std::string, std::string>{};
  json j = LeaderzJson(s);
  CHECK(j["enabled"] == true);
  CHECK(j["identity"] == "meshd-a");
  CHECK(j["lease"] == "istio-system/meshd-leader");
  CHECK(j["leader"] == false);
  CHECK(j["holder"] == "meshd-b");
  CHECK(j["informers"].is_object());
}

TEST_CASE("syncz: one entry per connection, types by short name, NACK only when there is one",
          "[debug]") {
  xds::ConnectionStatus c;
  c.id = 7;
  c.peer = "ipv4:127.0.0.1:5555";
  c.proxy_id = "sidecar~10.0.0.1~reviews-1.default~default.svc.cluster.local";
  c.ns = "default";
  c.generator = "grpc";
  c.connected = absl::FromUnixSeconds(1700000000);
  xds::TypeStatus lds;
  lds.type_url = "type.googleapis.com/envoy.config.listener.v3.Listener";
  lds.names = 2;
  lds.version_sent = "3";
  lds.nonce_sent = "n3";
  lds.version_acked = "3";
  lds.responses = 3;
  lds.sent_at = absl::FromUnixSeconds(1700000000);  // for meshctl's STALE (age)
  xds::TypeStatus cds;
  cds.type_url = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  cds.wildcard = true;
  cds.version_sent = "4";
  cds.nonce_sent = "n4";
  cds.version_acked = "3";
  cds.nack_version = "4";
  cds.nack_error = "bad cluster";
  cds.responses = 4;
  c.types = {lds, cds};

  CHECK(SynczJson({}) == json::array());
  json j = SynczJson({c});
  REQUIRE(j.is_array());
  REQUIRE(j.size() == 1);
  const json& e = j[0];
  CHECK(e["connection"] == 7);
  CHECK(e["proxy"] == c.proxy_id);
  CHECK(e["namespace"] == "default");
  CHECK(e["generator"] == "grpc");
  CHECK(e["peer"] == "ipv4:127.0.0.1:5555");
  CHECK(e["connected"] == "2023-11-14T22:13:20.000Z");
  REQUIRE(e["types"].is_object());
  REQUIRE(e["types"].size() == 2);
  std::string lds_name = xds::ShortType(lds.type_url);
  std::string cds_name = xds::ShortType(cds.type_url);
  CHECK(e["types"][lds_name] == json({{"version_sent", "3"},
                                      {"nonce_sent", "n3"},
                                      {"version_acked", "3"},
                                      {"subscribed", 2},
                                      {"wildcard", false},
                                      {"responses", 3},
                                      {"sent_at", "2023-11-14T22:13:20.000Z"}}));
  CHECK_FALSE(e["types"][lds_name].contains("nack"));
  CHECK(e["types"][cds_name]["wildcard"] == true);
  CHECK(e["types"][cds_name]["nack"] == json({{"version", "4"}, {"error", "bad cluster"}}));
}

TEST_CASE("configz: before the first snapshot, only configs (empty) and rejections", "[debug]") {
  json j = ConfigzJson(nullptr, {}, {});
  CHECK(j == json({{"configs", json::array()}, {"rejected", json::array()}}));
}

TEST_CASE("configz: configs with spec, warnings and not-applied status; services; rejections",
          "[debug]") {
  auto vs = std::make_shared<istio::networking::v1alpha3::VirtualService>();
  vs->add_hosts("reviews");
  auto ef = std::make_shared<istio::networking::v1alpha3::EnvoyFilter>();
  model::Snapshot::Data d;
  d.version = 12;
  auto vs_config = Config(model::Kind::kVirtualService, "default", "reviews", vs,
                          {"spec.http[0].appendHeaders: unknown field, ignored"});
  auto ef_config = Config(model::Kind::kEnvoyFilter, "default", "lua", ef);
  d.configs[vs_config->key] = vs_config;
  d.configs[ef_config->key] = ef_config;
  model::Service svc;
  svc.hostname = "reviews.default.svc.cluster.local";
  svc.ns = "default";
  svc.origin = "Service/default/reviews";
  d.services[svc.hostname] = svc;
  model::Endpoint ep;
  ep.address = "10.0.0.1";
  ep.port = 9080;
  d.endpoints[svc.hostname] = {ep, ep};
  model::Snapshot snapshot(std::move(d));

  std::vector<file::Rejection> file_rejections = {
      {"/etc/mesh/bad.yaml", "VirtualService default/bad", "spec.hosts: required"}};
  std::vector<kube::KubeSource::Rejection> kube_rejections = {
      {"DestinationRule default/worse", "spec.host: required"}};
  json j = ConfigzJson(&snapshot, file_rejections, kube_rejections);

  CHECK(j["version"] == 12);
  REQUIRE(j["configs"].size() == 2);
  const json* vs_entry = nullptr;
  const json* ef_entry = nullptr;
  for (const auto& c : j["configs"]) {
    if (c["kind"] == "VirtualService") vs_entry = &c;
    if (c["kind"] == "EnvoyFilter") ef_entry = &c;
  }
  REQUIRE(vs_entry != nullptr);
  REQUIRE(ef_entry != nullptr);
  CHECK((*vs_entry)["namespace"] == "default");
  CHECK((*vs_entry)["name"] == "reviews");
  CHECK((*vs_entry)["origin"] == "file:/etc/mesh/reviews.yaml");
  CHECK((*vs_entry)["spec"] == json({{"hosts", {"reviews"}}}));
  CHECK((*vs_entry)["warnings"] == json({"spec.http[0].appendHeaders: unknown field, ignored"}));
  CHECK_FALSE(vs_entry->contains("status"));
  CHECK_FALSE(ef_entry->contains("warnings"));
  REQUIRE(ef_entry->contains("status"));
  CHECK((*ef_entry)["status"].get<std::string>().rfind("accepted, not applied to ", 0) == 0);

  CHECK(j["services"] == json::array({{{"hostname", "reviews.default.svc.cluster.local"},
                                       {"namespace", "default"},
                                       {"endpoints", 2},
                                       {"origin", "Service/default/reviews"}}}));
  CHECK(j["rejected"] == json::array({{{"file", "/etc/mesh/bad.yaml"},
                                       {"kind", "VirtualService default/bad"},
                                       {"error", "spec.hosts: required"}},
                                      {{"source", "kube"},
                                       {"kind", "DestinationRule default/worse"},
                                       {"error", "spec.host: required"}}}));
}

TEST_CASE("configz: an AuthorizationPolicy that fails closed lists why, per proxy type",
          "[debug][authz]") {
  auto snap = testing::SnapshotFromYaml(R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext, namespace: default}
spec:
  action: CUSTOM
  provider: {name: my-authz}
  rules: [{to: [{operation: {paths: [/admin]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: fine, namespace: default}
spec:
  rules: [{from: [{source: {namespaces: [default]}}]}]
)");
  json j = ConfigzJson(snap.get(), {}, {});
  REQUIRE(j["configs"].size() == 2);
  const json& ext = j["configs"][0];
  const json& fine = j["configs"][1];
  REQUIRE(ext["name"] == "ext");
  CHECK(ext["status"] == "accepted, fails closed (deny all) where not applied");
  const std::string reason =
      "AuthorizationPolicy default/ext: CUSTOM provider \"my-authz\" is not a known extension "
      "provider";
  CHECK(ext["warnings"] ==
        json({"not applied to Envoy sidecars (HTTP): " + reason,
              "not applied to Envoy sidecars (TCP): " + reason,
              "not applied to proxyless gRPC: AuthorizationPolicy default/ext: CUSTOM provider "
              "\"my-authz\": ext_authz is not supported by proxyless gRPC"}));
  CHECK_FALSE(fine.contains("status"));
  CHECK_FALSE(fine.contains("warnings"));
}

TEST_CASE("debug responses are indented JSON with a final newline", "[debug]") {
  HttpResponse r = JsonResponse(json({{"enabled", false}}));
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  CHECK(r.body == "{\n  \"enabled\": false\n}\n");
}

TEST_CASE("pushz: trigger, replies, pending and latency in milliseconds", "[debug]") {
  xds::PushRecord p;
  p.id = 3;
  p.version = 9;
  p.time = absl::FromUnixMillis(1000);
  p.trigger.full = true;
  p.trigger.kinds = {{"VirtualService", 1}};
  p.trigger.configs = {"VirtualService/default/reviews"};
  p.trigger.configs_total = 1;
  p.trigger.first_change = absl::FromUnixMillis(900);
  p.proxies = 2;
  p.targets_known = true;
  p.responses = {{"rds", 2}};
  p.acked = 1;
  p.p50 = p.p99 = p.max = absl::Microseconds(1500);
  json j = PushzJson({p}, 100);
  CHECK(j["capacity"] == 100);
  const json& e = j["pushes"][0];
  CHECK(e["version"] == 9);
  CHECK(e["type"] == "full");
  CHECK(e["time"] == "1970-01-01T00:00:01.000Z");
  CHECK(e["trigger"]["configs"]["names"][0] == "VirtualService/default/reviews");
  CHECK(e["trigger"]["debounce_ms"] == 100.0);
  CHECK(e["scope"] == 0);
  CHECK(e["pending"] == true);  // one of two proxies answered
  CHECK(e["latency_ms"]["max"] == 1.5);
  p.acked = 0;
  p.unchanged = 2;
  json done = PushzJson({p}, 100)["pushes"][0];
  CHECK(done["pending"] == false);
  CHECK(done["latency_ms"].is_null());
}

TEST_CASE("push_status: istiod's ProxyStatus shape from the snapshot", "[debug]") {
  CHECK(PushStatusJson(nullptr) == json::object());
  auto snapshot = testing::SnapshotFromYaml(R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings.default.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 9080, name: grpc, protocol: GRPC}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: default}
spec:
  hosts: [ratings]
  http: [{route: [{destination: {host: ratings}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: default}
spec:
  hosts: [ratings.default.svc.cluster.local]
  http: [{route: [{destination: {host: ratings}}]}]
)",
                                            1);
  json j = PushStatusJson(snapshot.get());
  CHECK(j["pilot_eds_no_instances"] ==
        json({{"outbound|9080||ratings.default.svc.cluster.local", json::object()}}));
  const std::string msg =
      j["pilot_vservice_dup_domain"]["ratings.default.svc.cluster.local"]["message"];
  CHECK(msg.find("default/a, default/b") != std::string::npos);
}

TEST_CASE("mesh page: embedded, self-contained, polls the debug endpoints", "[debug]") {
  std::string html(MeshPageHtml());
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("/debug/pushz") != std::string::npos);
  CHECK(html.find("meshd unreachable since") != std::string::npos);
  // No external resources: nothing loaded from another origin (the SVG namespace URI is an
  // identifier, not a fetch).
  for (const char* bad : {"src=\"http", "href=\"http", "@import", "<link", "src=\"//"}) {
    INFO(bad);
    CHECK(html.find(bad) == std::string::npos);
  }
}

}  // namespace
}  // namespace meshd::bootstrap
