#include "xds/gen/name_table.h"

#include <catch2/catch.hpp>

#include "tests/xds/gen/bookinfo.h"
#include "tests/xds/test_mesh.h"
#include "xds/gen/envoy_generator.h"
#include "xds/validate/envoy_validator.h"

namespace meshd::xds {
namespace {

using istio::networking::nds::v1::NameTable;

model::Service KubeService(const std::string& name, const std::string& ns,
                           std::vector<std::string> addresses) {
  model::Service s;
  s.hostname = name + "." + ns + ".svc.cluster.local";
  s.ns = ns;
  s.origin = "Service/" + ns + "/" + name;
  s.addresses = std::move(addresses);
  s.ports = {{"http", 9080, "HTTP", 9080}};
  return s;
}

// reviews (VIP), a headless db (pod IPs), a ServiceEntry with an address, one without, a
// wildcard ServiceEntry, and a service exported only to its own namespace.
model::SnapshotPtr Mesh() {
  model::Snapshot::Data data;
  data.version = 1;
  auto add = [&](model::Service s) { data.services[s.hostname] = std::move(s); };
  add(KubeService("reviews", "default", {"10.0.0.10"}));
  add(KubeService("db", "data", {}));
  data.endpoints["db.data.svc.cluster.local"] = {model::Endpoint{"10.1.0.7", 9080, 9080},
                                                 model::Endpoint{"10.1.0.8", 9080, 9080}};
  data.endpoints["db.data.svc.cluster.local"][0].hostname = "db-0";  // a StatefulSet's pod
  model::Service hidden = KubeService("secret", "vault", {"10.0.0.99"});
  hidden.export_to = {"."};
  add(hidden);
  model::Service se;
  se.hostname = "api.example.com";
  se.ns = "default";
  se.origin = "ServiceEntry/default/api";
  se.addresses = {"240.0.0.1"};
  se.resolution = model::Resolution::kDns;
  se.ports = {{"https", 443, "TLS", 443}};
  add(se);
  model::Service bare = se;
  bare.hostname = "cnn.com";
  bare.addresses = {};
  add(bare);
  model::Service wild = se;
  wild.hostname = "*.wikipedia.org";
  wild.addresses = {"240.0.0.2"};
  add(wild);
  return std::make_shared<const model::Snapshot>(std::move(data));
}

model::Proxy Capturing() {
  model::Proxy p = testing::ProductpageSidecar();
  p.dns_capture = true;
  return p;
}

TEST_CASE("NDS: host to VIPs, Kubernetes short names, headless endpoints, ServiceEntry hosts",
          "[envoy][nds]") {
  auto snap = Mesh();
  NameTable t = BuildNameTable(Capturing(), *snap);
  const auto& table = t.table();
  REQUIRE(table.count("reviews.default.svc.cluster.local") == 1);
  const auto& reviews = table.at("reviews.default.svc.cluster.local");
  CHECK(std::vector<std::string>(reviews.ips().begin(), reviews.ips().end()) ==
        std::vector<std::string>{"10.0.0.10"});
  CHECK(reviews.registry() == "Kubernetes");
  CHECK(reviews.shortname() == "reviews");
  CHECK(reviews.namespace_() == "default");
  const auto& db = table.at("db.data.svc.cluster.local");
  CHECK(std::vector<std::string>(db.ips().begin(), db.ips().end()) ==
        std::vector<std::string>{"10.1.0.7", "10.1.0.8"});
  // The StatefulSet pod's own name, as istiod's table: FQDN, and the short form.
  REQUIRE(table.count("db-0.db.data.svc.cluster.local") == 1);
  const auto& db0 = table.at("db-0.db.data.svc.cluster.local");
  CHECK(std::vector<std::string>(db0.ips().begin(), db0.ips().end()) ==
        std::vector<std::string>{"10.1.0.7"});
  CHECK(db0.shortname() == "db-0.db");
  CHECK(db0.namespace_() == "data");
  CHECK(db0.registry() == "Kubernetes");
  CHECK(table.count("db-1.db.data.svc.cluster.local") == 0);  // no hostname, no name
  const auto& api = table.at("api.example.com");
  CHECK(api.registry() == "External");
  CHECK(api.shortname().empty());
  CHECK(api.ips(0) == "240.0.0.1");
  CHECK(table.count("cnn.com") == 0);                         // no address to answer with
  CHECK(table.count("*.wikipedia.org") == 0);                 // not a DNS name
  CHECK(table.count("secret.vault.svc.cluster.local") == 0);  // not exported here
}

TEST_CASE("NDS: answered through the Envoy generator only for DNS-capturing sidecars",
          "[envoy][nds]") {
  auto snap = Mesh();
  EnvoyGenerator gen;
  Resources on = gen.GenerateOwn(kNameTableType, Capturing(), *snap);
  REQUIRE(on.size() == 1);
  CHECK(on[0]->any.type_url() == kNameTableType);
  CHECK(ValidateAny(on[0]->any).empty());
  NameTable t;
  REQUIRE(on[0]->any.UnpackTo(&t));
  CHECK(t.table().count("reviews.default.svc.cluster.local") == 1);
  // Not cached with the view: the shared part is empty.
  CHECK(gen.Generate(kNameTableType, Capturing(), *snap, {}).empty());

  CHECK(gen.GenerateOwn(kNameTableType, testing::ProductpageSidecar(), *snap).empty());
  model::Proxy auto_allocate = testing::ProductpageSidecar();
  auto_allocate.dns_auto_allocate = true;
  CHECK(gen.GenerateOwn(kNameTableType, auto_allocate, *snap).size() == 1);
  CHECK(gen.GenerateOwn(kNameTableType, testing::IngressGateway(), *snap).empty());
}

}  // namespace
}  // namespace meshd::xds
