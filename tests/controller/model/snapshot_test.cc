// Snapshot's lookups, each pinned to the istiod behaviour it reproduces: short-name
// resolution, the host forms a gRPC client may use, and which VirtualService and
// DestinationRule apply to a proxy when several name the same host.
#include "controller/model/snapshot.h"

#include <catch2/catch.hpp>

#include "controller/config/to_model.h"

#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"

namespace meshd::model {
namespace {

namespace net = istio::networking::v1alpha3;

ConfigPtr Vs(const std::string& ns, const std::string& name, std::vector<std::string> hosts,
             const std::string& created = "", std::vector<std::string> gateways = {}) {
  auto c = std::make_shared<Config>();
  c->key = {Kind::kVirtualService, ns, name};
  c->creation_timestamp = created;
  auto spec = std::make_shared<net::VirtualService>();
  for (const auto& h : hosts) spec->add_hosts(h);
  for (const auto& g : gateways) spec->add_gateways(g);
  c->model = config::ToModel(*spec);  // as DecodeObject does
  c->spec = spec;
  return c;
}

ConfigPtr Dr(const std::string& ns, const std::string& name, const std::string& host,
             const std::string& created = "") {
  auto c = std::make_shared<Config>();
  c->key = {Kind::kDestinationRule, ns, name};
  c->creation_timestamp = created;
  auto spec = std::make_shared<net::DestinationRule>();
  spec->set_host(host);
  c->model = config::ToModel(*spec);
  c->spec = spec;
  return c;
}

Snapshot Make(std::vector<ConfigPtr> configs, std::vector<Service> services = {}) {
  Snapshot::Data d;
  for (auto& c : configs) d.configs[c->key] = c;
  for (auto& s : services) d.services[s.hostname] = s;
  return Snapshot(std::move(d));
}

Service Svc(const std::string& host, const std::string& ns) {
  Service s;
  s.hostname = host;
  s.ns = ns;
  return s;
}

const char* kReviews = "reviews.default.svc.cluster.local";

TEST_CASE("ResolveShortName: istiod expands a dot-less name in the config's namespace",
          "[snapshot]") {
  Snapshot s = Make({});
  CHECK(s.ResolveShortName("reviews", "default") == kReviews);
  CHECK(s.ResolveShortName("reviews.default", "shop") == "reviews.default");
  CHECK(s.ResolveShortName("*", "default") == "*");
  CHECK(s.ResolveShortName("reviews", "") == "reviews");
}

TEST_CASE("ResolveClientHost: the forms a gRPC client may name a service by", "[snapshot]") {
  Snapshot s = Make({}, {Svc(kReviews, "default"), Svc("api.example.com", "ext")});
  CHECK(s.ResolveClientHost("reviews", "default") == kReviews);
  CHECK(s.ResolveClientHost("reviews", "other") == "");
  CHECK(s.ResolveClientHost("reviews.default", "other") == kReviews);
  CHECK(s.ResolveClientHost("reviews.default.svc", "other") == kReviews);
  CHECK(s.ResolveClientHost(kReviews, "other") == kReviews);
  CHECK(s.ResolveClientHost("api.example.com", "default") == "api.example.com");
  CHECK(s.ResolveClientHost("ratings", "default") == "");
}

TEST_CASE("VirtualServiceFor: istiod prefers the proxy's namespace, then the oldest",
          "[snapshot]") {
  Snapshot s = Make({Vs("b", "vs-b", {kReviews}, "2024-01-02T00:00:00Z"),
                     Vs("a", "vs-a", {kReviews}, "2024-01-03T00:00:00Z"),
                     Vs("default", "local", {"reviews"}, "2024-01-05T00:00:00Z")});
  CHECK(s.VirtualServiceFor(kReviews, "default")->key.name == "local");
  CHECK(s.VirtualServiceFor(kReviews, "a")->key.name == "vs-a");
  // Neither in the proxy's namespace: the oldest wins, whatever its name.
  CHECK(s.VirtualServiceFor(kReviews, "elsewhere")->key.name == "vs-b");
  CHECK(s.VirtualServiceFor("ratings.default.svc.cluster.local", "default") == nullptr);
}

TEST_CASE("VirtualServiceFor: same creation time orders by namespace/name; none is newest",
          "[snapshot]") {
  Snapshot s = Make({Vs("z", "x", {kReviews}), Vs("b", "y", {kReviews}, "2024-01-01T00:00:00Z"),
                     Vs("a", "y", {kReviews}, "2024-01-01T00:00:00Z")});
  CHECK(s.VirtualServiceFor(kReviews, "elsewhere")->key.ns == "a");
}

TEST_CASE("VirtualServiceFor: a gateway-only VirtualService does not route mesh traffic",
          "[snapshot]") {
  Snapshot s = Make({Vs("default", "gw", {"reviews"}, "", {"bookinfo-gateway"}),
                     Vs("default", "both", {"ratings"}, "", {"bookinfo-gateway", "mesh"})});
  CHECK(s.VirtualServiceFor(kReviews, "default") == nullptr);
  CHECK(s.VirtualServiceFor("ratings.default.svc.cluster.local", "default")->key.name == "both");
}

TEST_CASE(
    "DestinationRuleFor: istiod looks in the proxy's, the service's, then the root "
    "namespace",
    "[snapshot]") {
  std::vector<ConfigPtr> all = {Dr("client", "c", kReviews), Dr("default", "svc", "reviews"),
                                Dr("istio-system", "root", kReviews)};
  Snapshot s = Make(all, {Svc(kReviews, "default")});
  CHECK(s.DestinationRuleFor(kReviews, "client")->key.name == "c");
  CHECK(s.DestinationRuleFor(kReviews, "other")->key.name == "svc");
  Snapshot root_only = Make({all[2]}, {Svc(kReviews, "default")});
  CHECK(root_only.DestinationRuleFor(kReviews, "other")->key.name == "root");
}

TEST_CASE("DestinationRuleFor: istiod ignores a rule in an unrelated namespace", "[snapshot]") {
  // Not the proxy's namespace, not the service's, not the root namespace: istiod's
  // destinationRule() never looks there.
  Snapshot s = Make({Dr("unrelated", "u", kReviews)}, {Svc(kReviews, "default")});
  CHECK(s.DestinationRuleFor(kReviews, "client") == nullptr);
  CHECK(s.DestinationRuleFor(kReviews, "unrelated")->key.name == "u");
}

}  // namespace
}  // namespace meshd::model

namespace meshd::model {
namespace {

TEST_CASE(
    "DestinationRuleFor: a workloadSelector rule applies only to the workloads it selects, "
    "before the namespace's rule (istiod)",
    "[snapshot]") {
  auto selected = std::make_shared<Config>();
  selected->key = {Kind::kDestinationRule, "client", "canary-clients"};
  auto spec = std::make_shared<net::DestinationRule>();
  spec->set_host(kReviews);
  (*spec->mutable_workload_selector()->mutable_labels())["track"] = "canary";
  selected->model = config::ToModel(*spec);
  selected->spec = spec;
  Snapshot s = Make({Dr("client", "ns-wide", kReviews), selected});
  std::map<std::string, std::string> canary = {{"track", "canary"}};
  std::map<std::string, std::string> stable = {{"track", "stable"}};
  CHECK(s.DestinationRuleFor(kReviews, "client", &canary)->key.name == "canary-clients");
  CHECK(s.DestinationRuleFor(kReviews, "client", &stable)->key.name == "ns-wide");
  CHECK(s.DestinationRuleFor(kReviews, "client")->key.name == "ns-wide");
  // Never for a proxy of another namespace, even with matching labels.
  Snapshot only = Make({selected});
  CHECK(only.DestinationRuleFor(kReviews, "other", &canary) == nullptr);
}

}  // namespace
}  // namespace meshd::model

namespace meshd::model {
namespace {

TEST_CASE(
    "DestinationRuleFor: a rule exported only to its own namespace ('.') does not apply "
    "to proxies elsewhere (istiod exportTo)",
    "[snapshot]") {
  auto local = std::make_shared<Config>();
  local->key = {Kind::kDestinationRule, "default", "private"};
  auto spec = std::make_shared<net::DestinationRule>();
  spec->set_host(kReviews);
  spec->add_export_to(".");
  local->model = config::ToModel(*spec);
  local->spec = spec;
  Service svc;
  svc.hostname = kReviews;
  svc.ns = "default";
  Snapshot s = Make({local}, {svc});
  // The service's namespace is "default": a proxy there sees it, one in "other" does not.
  CHECK(s.DestinationRuleFor(kReviews, "default")->key.name == "private");
  CHECK(s.DestinationRuleFor(kReviews, "other") == nullptr);
}

ConfigPtr DrWith(const std::string& ns, const std::string& name, const std::string& host,
                 const std::string& created, std::vector<std::string> subsets, bool policy,
                 std::vector<std::string> export_to = {}) {
  auto c = std::make_shared<Config>();
  c->key = {Kind::kDestinationRule, ns, name};
  c->creation_timestamp = created;
  auto spec = std::make_shared<net::DestinationRule>();
  spec->set_host(host);
  for (const auto& s : subsets) {
    auto* sub = spec->add_subsets();
    sub->set_name(s);
    (*sub->mutable_labels())["version"] = s + "-" + name;
  }
  if (policy) spec->mutable_traffic_policy()->mutable_tls()->set_sni(name);
  for (const auto& e : export_to) spec->add_export_to(e);
  c->model = config::ToModel(*spec);
  c->spec = spec;
  return c;
}

TEST_CASE("DestinationRuleFor: istiod merges rules for one host in one namespace", "[snapshot]") {
  // The oldest is the base; a later one adds subsets it lacks, and its traffic policy only
  // when the base has none.
  auto base = DrWith("default", "a", "reviews", "2024-01-01T00:00:00Z", {"v1"}, false);
  auto more = DrWith("default", "b", "reviews", "2024-01-02T00:00:00Z", {"v1", "v2"}, true);
  auto other_ns = DrWith("other", "c", kReviews, "2023-01-01T00:00:00Z", {"v3"}, false);
  Snapshot s = Make({base, more, other_ns}, {Svc(kReviews, "default")});
  ConfigPtr got = s.DestinationRuleFor(kReviews, "default");
  REQUIRE(got != nullptr);
  CHECK(got->key.name == "a");
  const DestinationRule* dr = got->AsDestinationRule();
  REQUIRE(dr->subsets.size() == 2);
  CHECK(dr->FindSubset("v1")->labels.at("version") == "v1-a");  // the base's wins
  CHECK(dr->FindSubset("v2") != nullptr);
  CHECK(dr->FindSubset("v3") == nullptr);  // another namespace is not merged
  REQUIRE(dr->traffic_policy.has_value());
  REQUIRE(dr->traffic_policy->tls.has_value());
  CHECK(dr->traffic_policy->tls->sni == "b");
  CHECK(std::count(got->warnings.begin(), got->warnings.end(),
                   "merged with DestinationRule/default/b") == 1);
  // The stored objects themselves are unchanged.
  CHECK(base->AsDestinationRule()->subsets.size() == 1);
}

TEST_CASE("DestinationRuleFor: rules with different exportTo are not merged", "[snapshot]") {
  auto a = DrWith("default", "a", "reviews", "2024-01-01T00:00:00Z", {"v1"}, false, {"."});
  auto b = DrWith("default", "b", "reviews", "2024-01-02T00:00:00Z", {"v2"}, false, {"*"});
  Snapshot s = Make({a, b}, {Svc(kReviews, "default")});
  ConfigPtr local = s.DestinationRuleFor(kReviews, "default");
  REQUIRE(local != nullptr);
  CHECK(local->AsDestinationRule()->subsets.size() == 1);
}

TEST_CASE("MeshConfig: default exportTo applies to objects that set none", "[snapshot]") {
  auto dr = DrWith("default", "a", "reviews", "", {"v1"}, false);
  auto vs = Vs("default", "r", {"reviews"});
  Snapshot::Data d;
  d.configs[dr->key] = dr;
  d.configs[vs->key] = vs;
  d.services[kReviews] = Svc(kReviews, "default");
  auto mesh = std::make_shared<MeshConfig>();
  mesh->default_destination_rule_export_to = {"."};
  mesh->default_virtual_service_export_to = {"."};
  d.mesh = mesh;
  Snapshot s(std::move(d));
  CHECK(s.DestinationRuleFor(kReviews, "default") != nullptr);
  CHECK(s.DestinationRuleFor(kReviews, "other") == nullptr);
  CHECK(s.VirtualServiceFor(kReviews, "default") != nullptr);
  CHECK(s.VirtualServiceFor(kReviews, "other") == nullptr);
}

TEST_CASE("MeshConfig: the root namespace of DestinationRule fallback is rootNamespace",
          "[snapshot]") {
  auto root_rule = Dr("mesh-root", "all", "*.local");
  Snapshot::Data d;
  d.configs[root_rule->key] = root_rule;
  d.services[kReviews] = Svc(kReviews, "default");
  auto mesh = std::make_shared<MeshConfig>();
  mesh->root_namespace = "mesh-root";
  d.mesh = mesh;
  Snapshot s(std::move(d));
  CHECK(s.root_namespace() == "mesh-root");
  CHECK(s.DestinationRuleFor(kReviews, "default") != nullptr);
  CHECK(Make({root_rule}, {Svc(kReviews, "default")}).DestinationRuleFor(kReviews, "default") ==
        nullptr);
}

}  // namespace
}  // namespace meshd::model
