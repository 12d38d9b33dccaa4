#include "controller/kube/status_writer.h"

#include <map>
#include <string>

#include <catch2/catch.hpp>
#include "nlohmann/json.hpp"
#include "tests/controller/kube/fake_kube_client.h"

namespace meshd::kube {
namespace {

using json = nlohmann::json;

constexpr char kPath[] = "/apis/networking.istio.io/v1/namespaces/default/virtualservices/reviews";

// An API server holding one object: GET returns it, PUT .../status checks the
// resourceVersion (409 on a mismatch) and bumps it; `bump_before_put` simulates another writer
// changing the object between our GET and our PUT, that many times.
struct Server {
  json object = {{"apiVersion", "networking.istio.io/v1"},
                 {"kind", "VirtualService"},
                 {"metadata",
                  {{"name", "reviews"},
                   {"namespace", "default"},
                   {"resourceVersion", "10"},
                   {"generation", 3}}},
                 {"spec", {{"hosts", {"reviews"}}}}};
  int bump_before_put = 0;
  int gets = 0;
  int puts = 0;
  int conflicts = 0;
  void Bump() {
    int rv = std::stoi(object["metadata"]["resourceVersion"].get<std::string>());
    object["metadata"]["resourceVersion"] = std::to_string(rv + 1);
  }
  absl::StatusOr<KubeResponse> operator()(const std::string& method, const std::string& path,
                                          const std::string& body) {
    if (method == "GET" && path == kPath) {
      ++gets;
      return KubeResponse{200, object.dump(), ""};
    }
    if (method == "PUT" && path == std::string(kPath) + "/status") {
      ++puts;
      if (bump_before_put > 0) {
        --bump_before_put;
        Bump();
      }
      json b = json::parse(body);
      if (b["metadata"]["resourceVersion"] != object["metadata"]["resourceVersion"]) {
        ++conflicts;
        return KubeResponse{409, R"({"kind":"Status","reason":"Conflict","code":409})", ""};
      }
      object["status"] = b["status"];
      Bump();
      return KubeResponse{200, object.dump(), ""};
    }
    return KubeResponse{404, "{}", ""};
  }
};

DesiredStatus Accepted() {
  DesiredStatus d;
  d.path = kPath;
  d.object = "VirtualService default/reviews";
  d.generation = 3;
  d.distribution_known = true;
  d.reconciled = true;
  d.distribution_message = "applied by 2 of 2 proxies that select it";
  return d;
}

const json* FindCondition(const json& status, const std::string& type) {
  for (const auto& c : status["conditions"]) {
    if (c["type"] == type) return &c;
  }
  return nullptr;
}

TEST_CASE("IstioStatusJson: accepted, reconciled, observedGeneration", "[kube][status]") {
  json s = IstioStatusJson(Accepted(), json(), "2026-12-05T06:00:00Z");
  CHECK(s["observedGeneration"] == 3);
  const json* accepted = FindCondition(s, "Accepted");
  REQUIRE(accepted != nullptr);
  CHECK((*accepted)["status"] == "True");
  CHECK((*accepted)["lastTransitionTime"] == "2026-12-05T06:00:00Z");
  const json* reconciled = FindCondition(s, "Reconciled");
  REQUIRE(reconciled != nullptr);
  CHECK((*reconciled)["status"] == "True");
  CHECK((*reconciled)["message"] == "applied by 2 of 2 proxies that select it");
  CHECK_FALSE(s.contains("validationMessages"));
}

TEST_CASE("IstioStatusJson: a rejected object is Accepted False with its field path",
          "[kube][status]") {
  DesiredStatus d;
  d.generation = 2;
  d.accepted = false;
  d.rejection = "spec.http[0].route[0].weight: must be between 0 and 100";
  json s = IstioStatusJson(d, json(), "2026-12-05T06:00:00Z");
  const json* accepted = FindCondition(s, "Accepted");
  REQUIRE(accepted != nullptr);
  CHECK((*accepted)["status"] == "False");
  CHECK((*accepted)["reason"] == "Invalid");
  CHECK((*accepted)["message"] == d.rejection);
  CHECK(FindCondition(s, "Reconciled") == nullptr);
  REQUIRE(s["validationMessages"].size() == 1);
  CHECK(s["validationMessages"][0]["level"] == "ERROR");
  CHECK(s["validationMessages"][0]["message"] == d.rejection);
}

TEST_CASE("IstioStatusJson: warnings, and lastTransitionTime kept while a condition holds",
          "[kube][status]") {
  DesiredStatus d = Accepted();
  d.warnings = {"spec.http[0].appendHeaders: unknown field, ignored"};
  json first = IstioStatusJson(d, json(), "2026-12-05T06:00:00Z");
  REQUIRE(first["validationMessages"].size() == 1);
  CHECK(first["validationMessages"][0]["level"] == "WARNING");
  // Later: Accepted unchanged keeps its time; Reconciled flips and gets the new time.
  d.reconciled = false;
  d.distribution_message = "applied by 1 of 2 proxies that select it";
  json second = IstioStatusJson(d, first, "2026-12-05T07:00:00Z");
  CHECK((*FindCondition(second, "Accepted"))["lastTransitionTime"] == "2026-12-05T06:00:00Z");
  CHECK((*FindCondition(second, "Reconciled"))["lastTransitionTime"] == "2026-12-05T07:00:00Z");
  CHECK((*FindCondition(second, "Reconciled"))["status"] == "False");
}

TEST_CASE("StatusWriter PUTs the status subresource with the resourceVersion read",
          "[kube][status]") {
  testing::FakeKubeClient client;
  Server server;
  client.on_request = [&server](const std::string& m, const std::string& p, const std::string& b) {
    return server(m, p, b);
  };
  std::vector<DesiredStatus> desired = {Accepted()};
  StatusWriter writer(&client, StatusWriter::Options{}, [&desired] { return desired; });
  REQUIRE(writer.WriteAll().ok());
  CHECK(server.puts == 1);
  CHECK((*FindCondition(server.object["status"], "Accepted"))["status"] == "True");
  CHECK(server.object["status"]["observedGeneration"] == 3);
  // Coalesced: nothing changed, nothing requested (not even a GET).
  int requests = static_cast<int>(client.requests.size());
  REQUIRE(writer.WriteAll().ok());
  CHECK(static_cast<int>(client.requests.size()) == requests);
  // A change is written.
  desired[0].reconciled = false;
  desired[0].distribution_message = "applied by 1 of 2 proxies that select it; NACKed by 1: p: x";
  REQUIRE(writer.WriteAll().ok());
  CHECK(server.puts == 2);
  CHECK((*FindCondition(server.object["status"], "Reconciled"))["message"] ==
        desired[0].distribution_message);
}

TEST_CASE("StatusWriter retries a 409 with the latest object, bounded", "[kube][status]") {
  testing::FakeKubeClient client;
  Server server;
  client.on_request = [&server](const std::string& m, const std::string& p, const std::string& b) {
    return server(m, p, b);
  };
  StatusWriter::Options o;
  o.max_attempts = 3;
  std::vector<DesiredStatus> desired = {Accepted()};
  StatusWriter writer(&client, o, [&desired] { return desired; });

  SECTION("two conflicts, then written") {
    server.bump_before_put = 2;
    REQUIRE(writer.WriteAll().ok());
    CHECK(server.conflicts == 2);
    CHECK(server.gets == 3);  // re-read after each conflict
    CHECK(server.object.contains("status"));
  }
  SECTION("conflicting forever: gives up after max_attempts, retried next round") {
    server.bump_before_put = 100;
    absl::Status s = writer.WriteAll();
    CHECK(s.code() == absl::StatusCode::kAborted);
    CHECK(server.puts == 3);
    CHECK_FALSE(server.object.contains("status"));
    server.bump_before_put = 0;
    REQUIRE(writer.WriteAll().ok());
    CHECK(server.object.contains("status"));
  }
}

TEST_CASE("StatusWriter: API server errors are reported, a deleted object is not an error",
          "[kube][status]") {
  testing::FakeKubeClient client;
  int code = 500;
  client.on_request = [&code](const std::string&, const std::string&, const std::string&) {
    return absl::StatusOr<KubeResponse>(KubeResponse{code, "{}", ""});
  };
  DesiredStatus second = Accepted();
  second.path += "2";
  std::vector<DesiredStatus> desired = {Accepted(), second};
  StatusWriter writer(&client, StatusWriter::Options{}, [&desired] { return desired; });
  CHECK_FALSE(writer.WriteAll().ok());
  // A failing API server is asked once a round, not once per object.
  CHECK(client.requests.size() == 1);
  code = 404;
  CHECK(writer.WriteAll().ok());
}

}  // namespace
}  // namespace meshd::kube
