// EndpointIndex: a Pod or Node event recomputes only the services whose EndpointSlices
// reference it (istiod's endpoint controller indexes pods by IP and updates only the affected
// services; a rescan of the namespace would be O(services) per pod event).
#include "controller/kube/endpoint_index.h"

#include <catch2/catch.hpp>

namespace meshd::kube {
namespace {

using nlohmann::json;
using Keys = std::set<std::string>;

json Endpoint(const std::string& ip, const std::string& pod, const std::string& node,
              const std::string& pod_ns = "") {
  json e = {{"addresses", {ip}}, {"nodeName", node}};
  e["targetRef"] = {{"kind", "Pod"}, {"name", pod}};
  if (!pod_ns.empty()) e["targetRef"]["namespace"] = pod_ns;
  return e;
}

json Slice(const std::string& ns, const std::string& name, const std::string& service,
           std::vector<json> endpoints) {
  return {
      {"apiVersion", "discovery.k8s.io/v1"},
      {"kind", "EndpointSlice"},
      {"metadata",
       {{"namespace", ns}, {"name", name}, {"labels", {{"kubernetes.io/service-name", service}}}}},
      {"addressType", "IPv4"},
      {"endpoints", endpoints}};
}

TEST_CASE("a pod event touches only the services whose slices reference the pod", "[kube]") {
  EndpointIndex index;
  index.SetSlice(Slice(
      "default", "reviews-abc", "reviews",
      {Endpoint("10.0.0.1", "reviews-1", "node-a"), Endpoint("10.0.0.2", "reviews-2", "node-b")}));
  index.SetSlice(
      Slice("default", "ratings-abc", "ratings", {Endpoint("10.0.0.3", "ratings-1", "node-a")}));
  // A pod behind two services (both select it).
  index.SetSlice(Slice("default", "reviews-canary-abc", "reviews-canary",
                       {Endpoint("10.0.0.2", "reviews-2", "node-b")}));
  index.SetSlice(
      Slice("other", "reviews-abc", "reviews", {Endpoint("10.1.0.1", "reviews-1", "node-c")}));

  CHECK(index.ServicesForPod("default/reviews-1") == Keys{"default/reviews"});
  CHECK(index.ServicesForPod("default/reviews-2") ==
        Keys{"default/reviews", "default/reviews-canary"});
  CHECK(index.ServicesForPod("default/ratings-1") == Keys{"default/ratings"});
  CHECK(index.ServicesForPod("other/reviews-1") == Keys{"other/reviews"});
  // A pod no endpoint references (not ready yet, or no service selects it): nothing.
  CHECK(index.ServicesForPod("default/details-1").empty());
}

TEST_CASE("a node event touches only the services with endpoints on that node", "[kube]") {
  EndpointIndex index;
  index.SetSlice(Slice(
      "default", "reviews-abc", "reviews",
      {Endpoint("10.0.0.1", "reviews-1", "node-a"), Endpoint("10.0.0.2", "reviews-2", "node-b")}));
  index.SetSlice(
      Slice("default", "ratings-abc", "ratings", {Endpoint("10.0.0.3", "ratings-1", "node-a")}));
  index.SetSlice(
      Slice("prod", "details-abc", "details", {Endpoint("10.0.0.4", "details-1", "node-c")}));
  CHECK(index.ServicesForNode("node-a") == Keys{"default/ratings", "default/reviews"});
  CHECK(index.ServicesForNode("node-b") == Keys{"default/reviews"});
  CHECK(index.ServicesForNode("node-c") == Keys{"prod/details"});
  CHECK(index.ServicesForNode("node-z").empty());
}

TEST_CASE("a slice update replaces its references; a delete removes them", "[kube]") {
  EndpointIndex index;
  index.SetSlice(
      Slice("default", "reviews-abc", "reviews", {Endpoint("10.0.0.1", "reviews-1", "node-a")}));
  // Scaled: reviews-1 replaced by reviews-3 on another node.
  index.SetSlice(
      Slice("default", "reviews-abc", "reviews", {Endpoint("10.0.0.9", "reviews-3", "node-b")}));
  CHECK(index.ServicesForPod("default/reviews-1").empty());
  CHECK(index.ServicesForNode("node-a").empty());
  CHECK(index.ServicesForPod("default/reviews-3") == Keys{"default/reviews"});
  CHECK(index.SlicesForService("default/reviews") == Keys{"default/reviews-abc"});

  index.DeleteSlice(Slice("default", "reviews-abc", "reviews", {}));
  CHECK(index.ServicesForPod("default/reviews-3").empty());
  CHECK(index.ServicesForNode("node-b").empty());
  CHECK(index.SlicesForService("default/reviews").empty());
}

TEST_CASE("a service's slices are indexed by the service-name label, per namespace", "[kube]") {
  EndpointIndex index;
  index.SetSlice(Slice("default", "reviews-1", "reviews", {}));
  index.SetSlice(Slice("default", "reviews-2", "reviews", {}));
  index.SetSlice(Slice("other", "reviews-1", "reviews", {}));
  CHECK(index.SlicesForService("default/reviews") ==
        Keys{"default/reviews-1", "default/reviews-2"});
  CHECK(index.SlicesForService("other/reviews") == Keys{"other/reviews-1"});
  // Relabelled to another service: it moves.
  index.SetSlice(Slice("default", "reviews-2", "ratings", {}));
  CHECK(index.SlicesForService("default/reviews") == Keys{"default/reviews-1"});
  CHECK(index.SlicesForService("default/ratings") == Keys{"default/reviews-2"});
}

TEST_CASE("a targetRef without a namespace names a pod in the slice's namespace", "[kube]") {
  EndpointIndex index;
  index.SetSlice(Slice("default", "reviews-abc", "reviews",
                       {Endpoint("10.0.0.1", "reviews-1", "", ""),
                        Endpoint("10.0.0.2", "reviews-2", "", "elsewhere")}));
  CHECK(index.ServicesForPod("default/reviews-1") == Keys{"default/reviews"});
  CHECK(index.ServicesForPod("elsewhere/reviews-2") == Keys{"default/reviews"});
  CHECK(index.ServicesForNode("").empty());  // no nodeName: not indexed
}

}  // namespace
}  // namespace meshd::kube
