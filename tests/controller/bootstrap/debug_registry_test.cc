// The shape of /debug/registryz and /debug/endpointz (istiod's field names), built from a
// plain snapshot without a server.
#include "controller/bootstrap/debug_registry.h"

#include <catch2/catch.hpp>

namespace meshd::bootstrap {
namespace {

using nlohmann::json;

model::Snapshot TwoServices() {
  model::Snapshot::Data d;
  model::Service reviews;
  reviews.hostname = "reviews.default.svc.cluster.local";
  reviews.ns = "default";
  reviews.ports = {{"http", 9080, "HTTP", 9080}, {"grpc", 9090, "GRPC", 9090}};
  reviews.addresses = {"10.96.0.10"};
  reviews.origin = "Service/default/reviews";
  d.services[reviews.hostname] = reviews;
  model::Service ext;
  ext.hostname = "api.example.com";
  ext.ns = "web";
  ext.ports = {{"https", 443, "TLS", 443}};
  ext.mesh_external = true;
  ext.origin = "ServiceEntry/web/api";
  d.services[ext.hostname] = ext;
  model::Endpoint e;
  e.address = "10.0.0.5";
  e.port = 9080;
  e.service_port = 9080;
  e.labels = {{"app", "reviews"}, {"security.istio.io/tlsMode", "istio"}};
  e.locality = "us-east1/b";
  e.service_account = "spiffe://cluster.local/ns/default/sa/reviews";
  d.endpoints[reviews.hostname] = {e};
  return model::Snapshot(std::move(d));
}

TEST_CASE("registryz: hostname, namespace, ports and VIPs per service, as istiod", "[debugz]") {
  CHECK(RegistryzJson(nullptr) == json::array());
  model::Snapshot s = TwoServices();
  json j = RegistryzJson(&s);
  REQUIRE(j.size() == 2);
  const json& ext = j[0];  // ordered by hostname
  CHECK(ext["hostname"] == "api.example.com");
  CHECK(ext["MeshExternal"] == true);
  CHECK(ext["Attributes"]["ServiceRegistry"] == "External");
  const json& r = j[1];
  CHECK(r["hostname"] == "reviews.default.svc.cluster.local");
  CHECK(r["namespace"] == "default");
  CHECK(r["Attributes"]["Namespace"] == "default");
  CHECK(r["Attributes"]["ServiceRegistry"] == "Kubernetes");
  CHECK(r["ClusterVIPs"]["Kubernetes"] == json({"10.96.0.10"}));
  REQUIRE(r["ports"].size() == 2);
  CHECK(r["ports"][0] == json({{"name", "http"}, {"port", 9080}, {"protocol", "HTTP"}}));
}

TEST_CASE("endpointz: per service and port, endpoints with labels, locality, health, tlsMode",
          "[debugz]") {
  CHECK(EndpointzJson(nullptr) == json::array());
  model::Snapshot s = TwoServices();
  json j = EndpointzJson(&s);
  // api.example.com:443 and reviews:9080, reviews:9090.
  REQUIRE(j.size() == 3);
  CHECK(j[0]["endpoints"].empty());
  CHECK(j[1]["service"] == "reviews.default.svc.cluster.local");
  CHECK(j[1]["servicePort"]["port"] == 9080);
  REQUIRE(j[1]["endpoints"].size() == 1);
  const json& e = j[1]["endpoints"][0];
  CHECK(e["address"] == "10.0.0.5");
  CHECK(e["port"] == 9080);
  CHECK(e["labels"]["app"] == "reviews");
  CHECK(e["locality"] == "us-east1/b");
  CHECK(e["healthStatus"] == "HEALTHY");
  CHECK(e["tlsMode"] == "istio");
  CHECK(e["serviceAccount"] == "spiffe://cluster.local/ns/default/sa/reviews");
  CHECK(j[2]["servicePort"]["port"] == 9090);
  CHECK(j[2]["endpoints"].empty());  // the endpoint serves 9080 only
}

}  // namespace
}  // namespace meshd::bootstrap
