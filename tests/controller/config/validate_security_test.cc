// istiod's AuthorizationPolicy value rules meshd enforces beyond the structural ones in
// validate_test.cc (empty values, `*` placement, path templates), and the model form
// (controller/model/security.h) DecodeObject builds for accepted policies.
#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "controller/config/decoder.h"
#include "controller/config/yaml.h"

namespace meshd::config {
namespace {

absl::StatusOr<model::ConfigPtr> Decode(const std::string& kind, const std::string& spec) {
  std::string yaml = absl::StrCat("apiVersion: security.istio.io/v1\nkind: ", kind,
                                  "\nmetadata: {name: x, namespace: ns}\nspec:\n", spec);
  auto docs = ParseYamlDocuments(yaml);
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  return DecodeObject((*docs)[0].value, DecodeOptions{"test"});
}

std::string Ap(const std::string& spec) {
  auto c = Decode("AuthorizationPolicy", spec);
  if (c.ok()) return "";
  std::string message(c.status().message());
  const std::string prefix = "AuthorizationPolicy ns/x: ";
  REQUIRE(message.rfind(prefix, 0) == 0);
  return message.substr(prefix.size());
}

TEST_CASE("AuthorizationPolicy: istiod refuses empty values", "[validate][authz]") {
  CHECK(Ap("  rules:\n  - from:\n    - source: {principals: [\"\"]}\n") ==
        "spec.rules[0].from[0].source.principals[0]: empty value is not allowed");
  CHECK(Ap("  rules:\n  - to:\n    - operation: {methods: [GET, \"\"]}\n") ==
        "spec.rules[0].to[0].operation.methods[1]: empty value is not allowed");
  CHECK(Ap("  rules:\n  - when:\n    - key: request.headers[x]\n      notValues: [\"\"]\n") ==
        "spec.rules[0].when[0].notValues[0]: empty value is not allowed");
}

TEST_CASE("AuthorizationPolicy: `*` only as a whole value, a prefix or a suffix",
          "[validate][authz]") {
  CHECK(Ap("  rules:\n  - from:\n    - source: {principals: [\"*\", \"a*\", \"*b\"]}\n") == "");
  CHECK(Ap("  rules:\n  - from:\n    - source: {namespaces: [\"a*b\"]}\n") ==
        "spec.rules[0].from[0].source.namespaces[0]: \"a*b\": `*` is only supported as a whole "
        "value, a prefix or a suffix");
  CHECK(Ap("  rules:\n  - to:\n    - operation: {hosts: [\"*a*\"]}\n") ==
        "spec.rules[0].to[0].operation.hosts[0]: \"*a*\": `*` is only supported as a whole "
        "value, a prefix or a suffix");
}

TEST_CASE("AuthorizationPolicy: path templates as istiod", "[validate][authz]") {
  CHECK(Ap("  rules:\n  - to:\n    - operation: {paths: [\"/a/{*}/b\", \"/c/{**}\"]}\n") == "");
  CHECK(Ap("  rules:\n  - to:\n    - operation: {paths: [\"/a/{**}/b\"]}\n") ==
        "spec.rules[0].to[0].operation.paths[0]: \"/a/{**}/b\": {**} must be the last segment");
  CHECK(Ap("  rules:\n  - to:\n    - operation: {notPaths: [\"/a/x{*}\"]}\n") ==
        "spec.rules[0].to[0].operation.notPaths[0]: \"/a/x{*}\": invalid path template segment "
        "\"x{*}\" (use {*} or {**} as a whole segment)");
  CHECK(Ap("  rules:\n  - to:\n    - operation: {paths: [\"/a/{*}/b*\"]}\n") ==
        "spec.rules[0].to[0].operation.paths[0]: \"/a/{*}/b*\": invalid path template segment "
        "\"b*\" (use {*} or {**} as a whole segment)");
}

TEST_CASE("AuthorizationPolicy: the model form", "[model][authz]") {
  auto c = Decode("AuthorizationPolicy", R"(  selector: {matchLabels: {app: a}}
  action: DENY
  rules:
  - from: [{source: {principals: [cluster.local/ns/x/sa/y], notIpBlocks: [10.0.0.0/8]}}]
    to: [{operation: {ports: ["8080"], notPaths: [/admin]}}]
    when: [{key: "request.headers[x-a]", values: [b]}]
)");
  REQUIRE(c.ok());
  const model::AuthorizationPolicy* ap = (*c)->AsAuthorizationPolicy();
  REQUIRE(ap != nullptr);
  CHECK(ap->action == model::AuthorizationPolicy::Action::kDeny);
  REQUIRE(ap->selector.has_value());
  CHECK(ap->selector->at("app") == "a");
  REQUIRE(ap->rules.size() == 1);
  CHECK(ap->rules[0].from[0].principals == std::vector<std::string>{"cluster.local/ns/x/sa/y"});
  CHECK(ap->rules[0].from[0].not_ip_blocks == std::vector<std::string>{"10.0.0.0/8"});
  CHECK(ap->rules[0].to[0].ports == std::vector<uint32_t>{8080});
  CHECK(ap->rules[0].to[0].not_paths == std::vector<std::string>{"/admin"});
  CHECK(ap->rules[0].when[0].key == "request.headers[x-a]");

  auto ra = Decode("RequestAuthentication", R"(  jwtRules:
  - issuer: iss
    jwksUri: https://example.com/jwks
    fromHeaders: [{name: x-jwt, prefix: "Bearer "}]
    forwardOriginalToken: true
    timeout: 3s
)");
  REQUIRE(ra.ok());
  const model::RequestAuthentication* r = (*ra)->AsRequestAuthentication();
  REQUIRE(r != nullptr);
  REQUIRE(r->jwt_rules.size() == 1);
  CHECK(r->jwt_rules[0].issuer == "iss");
  CHECK(r->jwt_rules[0].from_headers[0].prefix == "Bearer ");
  CHECK(r->jwt_rules[0].forward_original_token);
  CHECK(r->jwt_rules[0].timeout == absl::Seconds(3));
  CHECK_FALSE(r->selector.has_value());
}

}  // namespace
}  // namespace meshd::config
