#include "controller/config/json_to_proto.h"

#include <catch2/catch.hpp>

#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"

namespace meshd::config {
namespace {

namespace net = istio::networking::v1alpha3;
using nlohmann::json;

std::string Decode(const json& j, google::protobuf::Message* m) {
  FieldErrors errors;
  JsonToProto(j, "spec", m, &errors);
  return errors.ToString();
}

TEST_CASE("camelCase and proto names both decode", "[config]") {
  net::VirtualService vs;
  CHECK(Decode(json::parse(R"({"hosts":["a"],"export_to":["."],"http":[{"route":[
      {"destination":{"host":"a","subset":"v1","port":{"number":9080}},"weight":80}]}]})"),
               &vs) == "");
  CHECK(vs.export_to(0) == ".");
  CHECK(vs.http(0).route(0).weight() == 80);
  CHECK(vs.http(0).route(0).destination().port().number() == 9080);
}

TEST_CASE("unknown field is reported with its path", "[config]") {
  net::VirtualService vs;
  CHECK(Decode(json::parse(R"({"hosts":["a"],"http":[{"rout":[]}]})"), &vs) ==
        "spec.http[0].rout: unknown field");
}

TEST_CASE("with warnings, unknown fields are ignored and named, as istiod accepts them",
          "[config]") {
  net::VirtualService vs;
  FieldErrors errors, warnings;
  JsonToProto(json::parse(R"({"hosts":["a"],"futureField":{"x":1},"http":[{"route":[
      {"destination":{"host":"a"}}],"websocketUpgrade":true}]})"),
              "spec", &vs, &errors, &warnings);
  CHECK(errors.ToString() == "");
  CHECK(warnings.ToString() ==
        "spec.futureField: unknown field, ignored; spec.http[0].websocketUpgrade: unknown field, "
        "ignored (removed from Istio's API)");
  CHECK(vs.http(0).route(0).destination().host() == "a");
}

TEST_CASE("with warnings, a type error on a known field is still an error", "[config]") {
  net::VirtualService vs;
  FieldErrors errors, warnings;
  JsonToProto(json::parse(R"({"hosts":"a","extra":1})"), "spec", &vs, &errors, &warnings);
  CHECK(errors.ToString() == "spec.hosts: expected a list, got string \"a\"");
  CHECK(warnings.ToString() == "spec.extra: unknown field, ignored");
}

TEST_CASE("an unknown field inside a strict (match) message stays an error", "[config]") {
  net::VirtualService vs;
  FieldErrors errors, warnings;
  JsonToProto(json::parse(R"({"hosts":["a"],"http":[{"match":[{"sourceSubnet":"10.0.0.0/8"}],
      "route":[{"destination":{"host":"a"}}]}]})"),
              "spec", &vs, &errors, &warnings, {"istio.networking.v1alpha3.HTTPMatchRequest"});
  CHECK(errors.ToString() ==
        "spec.http[0].match[0].sourceSubnet: unknown field in a match: ignoring it would make "
        "the match wider than written");
  CHECK(warnings.empty());
}

TEST_CASE("type errors carry the path and the value", "[config]") {
  net::VirtualService vs;
  CHECK(Decode(json::parse(R"({"hosts":"a","http":[{"route":[{"weight":"abc"}]}]})"), &vs) ==
        "spec.hosts: expected a list, got string \"a\"; "
        "spec.http[0].route[0].weight: expected an integer, got string \"abc\"");
}

TEST_CASE("numbers as strings and out-of-range integers", "[config]") {
  net::VirtualService vs;
  CHECK(Decode(json::parse(R"({"http":[{"route":[{"weight":"80"}]}]})"), &vs) == "");
  CHECK(vs.http(0).route(0).weight() == 80);
  net::VirtualService vs2;
  CHECK(Decode(json::parse(R"({"http":[{"route":[{"weight":5000000000}]}]})"), &vs2) ==
        "spec.http[0].route[0].weight: value 5000000000 is out of range for int32");
}

TEST_CASE("enums decode by name and list the allowed values", "[config]") {
  net::DestinationRule dr;
  CHECK(Decode(json::parse(
                   R"({"host":"a","trafficPolicy":{"loadBalancer":{"simple":"LEAST_REQUEST"}}})"),
               &dr) == "");
  CHECK(dr.traffic_policy().load_balancer().simple() == net::LoadBalancerSettings::LEAST_REQUEST);
  net::DestinationRule bad;
  CHECK(Decode(json::parse(R"({"trafficPolicy":{"loadBalancer":{"simple":"FASTEST"}}})"), &bad) ==
        "spec.trafficPolicy.loadBalancer.simple: unknown value \"FASTEST\", must be one of "
        "UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST");
}

TEST_CASE("durations accept Go syntax", "[config]") {
  net::DestinationRule dr;
  CHECK(
      Decode(
          json::parse(
              R"({"trafficPolicy":{"outlierDetection":{"interval":"1m30s","baseEjectionTime":"250ms"}}})"),
          &dr) == "");
  CHECK(dr.traffic_policy().outlier_detection().interval().seconds() == 90);
  CHECK(dr.traffic_policy().outlier_detection().base_ejection_time().nanos() == 250000000);
  net::DestinationRule bad;
  CHECK(Decode(json::parse(R"({"trafficPolicy":{"outlierDetection":{"interval":"5 minutes"}}})"),
               &bad) ==
        "spec.trafficPolicy.outlierDetection.interval: invalid duration \"5 minutes\": expected "
        "a number with a unit such as \"1.5s\" or \"100ms\"");
}

TEST_CASE("wrapper types take bare values", "[config]") {
  net::DestinationRule dr;
  CHECK(Decode(json::parse(R"({"trafficPolicy":{"outlierDetection":{"consecutive5xxErrors":7}}})"),
               &dr) == "");
  CHECK(dr.traffic_policy().outlier_detection().consecutive_5xx_errors().value() == 7);
}

TEST_CASE("two members of a oneof are rejected", "[config]") {
  net::VirtualService vs;
  CHECK(
      Decode(json::parse(R"({"http":[{"match":[{"uri":{"exact":"/a","prefix":"/b"}}]}]})"), &vs) ==
      "spec.http[0].match[0].uri: only one of exact, prefix, regex may be set (got exact and "
      "prefix)");
}

TEST_CASE("maps decode with typed keys and paths", "[config]") {
  net::VirtualService vs;
  CHECK(
      Decode(
          json::parse(
              R"({"http":[{"match":[{"headers":{"end-user":{"exact":"jason"},"x":{"exact":1}}}]}]})"),
          &vs) == "spec.http[0].match[0].headers[x].exact: expected a string, got number 1");
}

}  // namespace
}  // namespace meshd::config
