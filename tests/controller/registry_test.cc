// BuildServiceEntryRegistry: services and endpoints from ServiceEntries and WorkloadEntries,
// as istiod's ServiceEntry registry builds them.
#include "controller/registry.h"

#include <catch2/catch.hpp>

#include "controller/config/to_model.h"
#include "istio/networking/v1alpha3/service_entry.pb.h"

namespace meshd {
namespace {

namespace net = istio::networking::v1alpha3;

model::ConfigPtr Se(const std::string& ns, const std::string& name, const net::ServiceEntry& spec,
                    const std::string& created = "") {
  auto c = std::make_shared<model::Config>();
  c->key = {model::Kind::kServiceEntry, ns, name};
  c->creation_timestamp = created;
  c->model = config::ToModel(spec);  // as DecodeObject does
  c->spec = std::make_shared<net::ServiceEntry>(spec);
  return c;
}

model::ConfigPtr We(const std::string& ns, const std::string& name, const net::WorkloadEntry& spec,
                    std::map<std::string, std::string> meta_labels = {}) {
  auto c = std::make_shared<model::Config>();
  c->key = {model::Kind::kWorkloadEntry, ns, name};
  c->labels = std::move(meta_labels);
  c->model = config::ToModel(spec);
  c->spec = std::make_shared<net::WorkloadEntry>(spec);
  return c;
}

net::ServiceEntry Entry(const std::string& host) {
  net::ServiceEntry se;
  se.add_hosts(host);
  auto* p = se.add_ports();
  p->set_number(80);
  p->set_name("http");
  p->set_protocol("http");
  p->set_target_port(8080);
  se.set_resolution(net::ServiceEntry::STATIC);
  return se;
}

TEST_CASE("registry: a ServiceEntry's hosts and ports become services", "[registry]") {
  net::ServiceEntry se = Entry("api.example.com");
  se.add_hosts("api2.example.com");
  se.set_location(net::ServiceEntry::MESH_EXTERNAL);
  Registry reg = BuildServiceEntryRegistry({Se("ext", "api", se)}, {}, "cluster.local");
  REQUIRE(reg.services.size() == 2);
  const model::Service& s = reg.services.at("api.example.com");
  CHECK(s.ns == "ext");
  CHECK(s.mesh_external);
  CHECK(s.resolution == model::Resolution::kStatic);
  CHECK(s.origin == "ServiceEntry/ext/api");
  REQUIRE(s.ports.size() == 1);
  CHECK(s.ports[0].protocol == "HTTP");  // upper-cased, as istiod's protocol.Parse
  CHECK(s.ports[0].target_port == 8080);
}

TEST_CASE("registry: inline endpoints use the port map, else targetPort, else the number",
          "[registry]") {
  net::ServiceEntry se = Entry("api.example.com");
  auto* e1 = se.add_endpoints();
  e1->set_address("10.0.0.1");
  (*e1->mutable_ports())["http"] = 9090;
  auto* e2 = se.add_endpoints();
  e2->set_address("10.0.0.2");
  e2->set_weight(5);
  Registry reg = BuildServiceEntryRegistry({Se("ext", "api", se)}, {}, "cluster.local");
  const auto& eps = reg.endpoints.at("api.example.com");
  REQUIRE(eps.size() == 2);
  CHECK(eps[0].port == 9090);
  CHECK(eps[0].weight == 1);  // unset weight counts as 1
  CHECK(eps[1].port == 8080);
  CHECK(eps[1].weight == 5);
  CHECK(eps[1].service_port == 80);
}

TEST_CASE(
    "registry: a workloadSelector picks WorkloadEntries of its own namespace by spec or "
    "metadata labels",
    "[registry]") {
  net::ServiceEntry se = Entry("vm.example.com");
  (*se.mutable_workload_selector()->mutable_labels())["app"] = "vm";
  net::WorkloadEntry by_spec;
  by_spec.set_address("10.0.0.1");
  (*by_spec.mutable_labels())["app"] = "vm";
  net::WorkloadEntry by_meta;
  by_meta.set_address("10.0.0.2");
  by_meta.set_service_account("vm-sa");
  net::WorkloadEntry other_ns = by_spec;
  other_ns.set_address("10.0.0.3");
  net::WorkloadEntry no_match;
  no_match.set_address("10.0.0.4");
  Registry reg =
      BuildServiceEntryRegistry({Se("vms", "vm", se)},
                                {We("vms", "a", by_spec), We("vms", "b", by_meta, {{"app", "vm"}}),
                                 We("elsewhere", "c", other_ns), We("vms", "d", no_match)},
                                "cluster.local");
  const auto& eps = reg.endpoints.at("vm.example.com");
  REQUIRE(eps.size() == 2);
  CHECK(eps[0].address == "10.0.0.1");
  CHECK(eps[0].service_account == "default");  // istiod's default service account
  CHECK(eps[1].address == "10.0.0.2");
  CHECK(eps[1].service_account == "vm-sa");
  CHECK(eps[1].labels.at("app") == "vm");  // metadata labels are endpoint labels too
}

TEST_CASE("registry: istiod keeps the oldest ServiceEntry for a shared host", "[registry]") {
  Registry reg = BuildServiceEntryRegistry(
      {Se("b", "newer", Entry("api.example.com"), "2024-02-01T00:00:00Z"),
       Se("a", "older", Entry("api.example.com"), "2024-01-01T00:00:00Z")},
      {}, "cluster.local");
  CHECK(reg.services.at("api.example.com").origin == "ServiceEntry/a/older");
}

TEST_CASE("registry: an entry without a creation time counts as the newest", "[registry]") {
  // Mixed sources (files carry no creation time, Kubernetes objects do). The order must be a
  // strict weak order: the timestamped oldest wins, the untimestamped entry loses.
  Registry reg = BuildServiceEntryRegistry(
      {Se("b", "untimed", Entry("api.example.com")),
       Se("a", "late", Entry("api.example.com"), "2024-02-01T00:00:00Z"),
       Se("c", "early", Entry("api.example.com"), "2024-01-01T00:00:00Z")},
      {}, "cluster.local");
  CHECK(reg.services.at("api.example.com").origin == "ServiceEntry/c/early");
  Registry only_untimed = BuildServiceEntryRegistry(
      {Se("b", "y", Entry("api.example.com")), Se("a", "x", Entry("api.example.com"))}, {},
      "cluster.local");
  CHECK(only_untimed.services.at("api.example.com").origin == "ServiceEntry/a/x");
}

}  // namespace
}  // namespace meshd
