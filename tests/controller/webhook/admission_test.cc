#include "controller/webhook/admission.h"

#include <catch2/catch.hpp>
#include "absl/strings/escaping.h"

namespace meshd::webhook {
namespace {

using json = nlohmann::json;

json Review(const json& object, const std::string& op = "CREATE",
            const std::string& group = "networking.istio.io",
            const std::string& kind = "VirtualService") {
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", "u-1"},
            {"kind", {{"group", group}, {"version", "v1"}, {"kind", kind}}},
            {"resource", {{"group", group}, {"version", "v1"}, {"resource", "virtualservices"}}},
            {"namespace", "default"},
            {"name", "reviews"},
            {"operation", op},
            {"object", object}}}};
}

json GoodVs() {
  return {{"apiVersion", "networking.istio.io/v1"},
          {"kind", "VirtualService"},
          {"metadata", {{"name", "reviews"}}},
          {"spec",
           {{"hosts", {"reviews"}},
            {"http", {{{"route", {{{"destination", {{"host", "reviews"}}}}}}}}}}}};
}

TEST_CASE("ParseAdmissionReview reads a v1 review", "[webhook]") {
  absl::StatusOr<AdmissionRequest> r = ParseAdmissionReview(Review(GoodVs()).dump());
  REQUIRE(r.ok());
  CHECK(r->uid == "u-1");
  CHECK(r->group == "networking.istio.io");
  CHECK(r->kind == "VirtualService");
  CHECK(r->resource == "virtualservices");
  CHECK(r->operation == "CREATE");
  CHECK(r->ns == "default");
  CHECK(r->object["spec"]["hosts"][0] == "reviews");
}

TEST_CASE("ParseAdmissionReview refuses bad bodies with the reason", "[webhook]") {
  auto error = [](const std::string& body) {
    absl::StatusOr<AdmissionRequest> r = ParseAdmissionReview(body);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    return std::string(r.status().message());
  };
  CHECK(error("") == "body: not valid JSON");
  CHECK(error("{\"apiVersion\":") == "body: not valid JSON");
  CHECK(error("[1,2]") == "body: expected a JSON object");
  json v1beta1 = Review(GoodVs());
  v1beta1["apiVersion"] = "admission.k8s.io/v1beta1";
  CHECK(error(v1beta1.dump()) ==
        "apiVersion: expected admission.k8s.io/v1, got \"admission.k8s.io/v1beta1\"");
  json wrong_kind = Review(GoodVs());
  wrong_kind["kind"] = "TokenReview";
  CHECK(error(wrong_kind.dump()) == "kind: expected AdmissionReview, got \"TokenReview\"");
  json number_kind = Review(GoodVs());
  number_kind["kind"] = 7;
  CHECK(error(number_kind.dump()) == "kind: expected a string");
  json no_request = Review(GoodVs());
  no_request.erase("request");
  CHECK(error(no_request.dump()) == "request: missing or not an object");
  json no_uid = Review(GoodVs());
  no_uid["request"].erase("uid");
  CHECK(error(no_uid.dump()) == "request.uid: missing");
  json bad_uid = Review(GoodVs());
  bad_uid["request"]["uid"] = json::array();
  CHECK(error(bad_uid.dump()) == "request.uid: expected a string");
  json bad_object = Review(GoodVs());
  bad_object["request"]["object"] = "x";
  CHECK(error(bad_object.dump()) == "request.object: expected an object");
  json no_object = Review(GoodVs());
  no_object["request"].erase("object");
  CHECK(error(no_object.dump()) == "request.object: missing for operation CREATE");
  json no_kind = Review(GoodVs());
  no_kind["request"]["kind"] = 3;
  CHECK(error(no_kind.dump()) == "request.kind: missing or not an object");
}

TEST_CASE("Validate allows a good VirtualService", "[webhook]") {
  AdmissionResponse r = Validate(*ParseAdmissionReview(Review(GoodVs()).dump()));
  CHECK(r.allowed);
  CHECK(r.warnings.empty());
}

TEST_CASE("Validate refuses with the object, field path and reason", "[webhook]") {
  json vs = GoodVs();
  vs["spec"]["http"][0]["route"][0]["weight"] = "heavy";
  AdmissionResponse r = Validate(*ParseAdmissionReview(Review(vs).dump()));
  CHECK_FALSE(r.allowed);
  CHECK(r.code == 400);
  CHECK(r.message.rfind("VirtualService default/reviews: spec.http[0].route[0].weight: ", 0) == 0);
  json doc = ReviewResponse("u-1", r);
  CHECK(doc["response"]["uid"] == "u-1");
  CHECK(doc["response"]["allowed"] == false);
  CHECK(doc["response"]["status"]["code"] == 400);
  CHECK(doc["response"]["status"]["message"] == r.message);
}

TEST_CASE("Validate reports unknown fields as warnings", "[webhook]") {
  json vs = GoodVs();
  vs["spec"]["futureField"] = true;
  AdmissionResponse r = Validate(*ParseAdmissionReview(Review(vs).dump()));
  CHECK(r.allowed);
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].find("spec.futureField") != std::string::npos);
  CHECK(ReviewResponse("u", r)["response"]["warnings"][0] == r.warnings[0]);
}

TEST_CASE("Validate allows DELETE and kinds meshd does not serve", "[webhook]") {
  json vs = GoodVs();
  vs["spec"]["http"] = "not a list";
  CHECK(Validate(*ParseAdmissionReview(Review(vs, "DELETE").dump())).allowed);
  json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "x"}}}};
  CHECK(Validate(*ParseAdmissionReview(Review(cm, "CREATE", "", "ConfigMap").dump())).allowed);
}

TEST_CASE("ReviewResponse carries a base64 JSONPatch", "[webhook]") {
  AdmissionResponse r;
  r.json_patch = R"([{"op":"add","path":"/a","value":1}])";
  json doc = ReviewResponse("u-2", r);
  CHECK(doc["apiVersion"] == "admission.k8s.io/v1");
  CHECK(doc["kind"] == "AdmissionReview");
  CHECK(doc["response"]["patchType"] == "JSONPatch");
  std::string decoded;
  REQUIRE(absl::Base64Unescape(doc["response"]["patch"].get<std::string>(), &decoded));
  CHECK(decoded == r.json_patch);
  CHECK_FALSE(doc["response"].contains("status"));
}

}  // namespace
}  // namespace meshd::webhook
