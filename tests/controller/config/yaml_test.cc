#include "controller/config/yaml.h"

#include <catch2/catch.hpp>

namespace meshd::config {
namespace {

TEST_CASE("multi-document YAML with scalar typing", "[config]") {
  auto docs = ParseYamlDocuments("a: 1\nb: '1'\nc: true\nd: 1.5\ne: ~\n---\n---\nx: [y]\n");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 2);
  const auto& d = (*docs)[0].value;
  CHECK(d["a"] == 1);
  CHECK(d["b"] == "1");
  CHECK(d["c"] == true);
  CHECK(d["d"] == 1.5);
  CHECK(d["e"].is_null());
  CHECK((*docs)[1].index == 2);
  CHECK((*docs)[1].value["x"][0] == "y");
}

TEST_CASE("JSON is YAML too", "[config]") {
  auto docs = ParseYamlDocuments(R"({"kind": "VirtualService", "spec": {"hosts": ["a"]}})");
  REQUIRE(docs.ok());
  CHECK((*docs)[0].value["spec"]["hosts"][0] == "a");
}

TEST_CASE("syntax errors name the line", "[config]") {
  auto docs = ParseYamlDocuments("a: 1\nb: [unclosed\n");
  REQUIRE_FALSE(docs.ok());
  CHECK(std::string(docs.status().message()).find("YAML syntax error at line") == 0);
}

}  // namespace
}  // namespace meshd::config
