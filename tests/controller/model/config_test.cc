// model::Config: the checked wire-spec accessor, and OnlyServiceEntryEndpointsDiffer, which
// decides (as istiod's ServiceEntry controller) whether a ServiceEntry change is endpoints-only.
#include "controller/model/config.h"

#include <catch2/catch.hpp>
#include <memory>

#include "controller/config/to_model.h"
#include "istio/networking/v1alpha3/service_entry.pb.h"
#include "istio/networking/v1alpha3/sidecar.pb.h"

namespace meshd::model {
namespace {

namespace net = istio::networking::v1alpha3;

ConfigPtr Se(const net::ServiceEntry& spec, std::map<std::string, std::string> labels = {}) {
  auto c = std::make_shared<Config>();
  c->key = {Kind::kServiceEntry, "default", "api"};
  c->labels = std::move(labels);
  c->model = config::ToModel(spec);  // as DecodeObject does
  c->spec = std::make_shared<net::ServiceEntry>(spec);
  return c;
}

net::ServiceEntry Static() {
  net::ServiceEntry se;
  se.add_hosts("api.example.com");
  auto* p = se.add_ports();
  p->set_number(80);
  p->set_name("http");
  p->set_protocol("HTTP");
  se.set_resolution(net::ServiceEntry::STATIC);
  se.add_endpoints()->set_address("10.0.0.1");
  return se;
}

TEST_CASE("Config::SpecAs returns the wire spec of its own type and null for any other",
          "[config]") {
  ConfigPtr c = Se(Static());
  REQUIRE(c->SpecAs<net::ServiceEntry>() != nullptr);
  CHECK(c->SpecAs<net::ServiceEntry>()->hosts(0) == "api.example.com");
  CHECK(c->SpecAs<net::Sidecar>() == nullptr);
  CHECK(c->SpecAs<net::WorkloadEntry>() == nullptr);
  Config empty;
  CHECK(empty.SpecAs<net::ServiceEntry>() == nullptr);
}

TEST_CASE(
    "a STATIC ServiceEntry whose endpoints alone changed is an endpoints-only change "
    "(istiod: EDS)",
    "[config]") {
  net::ServiceEntry after = Static();
  after.mutable_endpoints(0)->set_address("10.0.0.2");
  after.add_endpoints()->set_address("10.0.0.3");
  CHECK(OnlyServiceEntryEndpointsDiffer(Se(Static()).get(), Se(after).get()));
}

TEST_CASE("a ServiceEntry change in any field but endpoints is a full change (istiod)",
          "[config]") {
  ConfigPtr before = Se(Static());
  net::ServiceEntry sans = Static();
  sans.add_subject_alt_names("spiffe://cluster.local/ns/default/sa/api");
  CHECK_FALSE(OnlyServiceEntryEndpointsDiffer(before.get(), Se(sans).get()));
  net::ServiceEntry port = Static();
  port.mutable_ports(0)->set_target_port(8080);
  CHECK_FALSE(OnlyServiceEntryEndpointsDiffer(before.get(), Se(port).get()));
  net::ServiceEntry location = Static();
  location.set_location(net::ServiceEntry::MESH_INTERNAL);
  CHECK_FALSE(OnlyServiceEntryEndpointsDiffer(before.get(), Se(location).get()));
  net::ServiceEntry selector = Static();
  selector.mutable_workload_selector();  // an empty selector is still a selector
  CHECK_FALSE(OnlyServiceEntryEndpointsDiffer(before.get(), Se(selector).get()));
  net::ServiceEntry export_to = Static();
  export_to.add_export_to(".");
  CHECK_FALSE(OnlyServiceEntryEndpointsDiffer(before.get(), Se(export_to).get()));
  // And its metadata labels.
  CHECK_FALSE(OnlyServiceEntryEndpointsDiffer(before.get(), Se(Static(), {{"a", "b"}}).get()));
}

TEST_CASE("a DNS ServiceEntry's endpoints are in CDS: changing them is a full change (istiod)",
          "[config]") {
  net::ServiceEntry before = Static();
  before.set_resolution(net::ServiceEntry::DNS);
  net::ServiceEntry after = before;
  after.mutable_endpoints(0)->set_address("db.example.com");
  CHECK_FALSE(OnlyServiceEntryEndpointsDiffer(Se(before).get(), Se(after).get()));
}

TEST_CASE("OnlyServiceEntryEndpointsDiffer is false for a missing version or another kind",
          "[config]") {
  ConfigPtr se = Se(Static());
  CHECK_FALSE(OnlyServiceEntryEndpointsDiffer(nullptr, se.get()));
  CHECK_FALSE(OnlyServiceEntryEndpointsDiffer(se.get(), nullptr));
  Config sidecar;
  sidecar.key = {Kind::kSidecar, "default", "api"};
  sidecar.model = config::ToModel(net::Sidecar());
  CHECK_FALSE(OnlyServiceEntryEndpointsDiffer(se.get(), &sidecar));
}

}  // namespace
}  // namespace meshd::model
