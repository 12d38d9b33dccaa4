#include "ca/identity.h"

#include <catch2/catch.hpp>

namespace meshd::ca {
namespace {

TEST_CASE("SpiffeUri uses the identity's trust domain, else the default", "[ca][identity]") {
  CHECK(SpiffeUri({"", "default", "sleep"}, "cluster.local") ==
        "spiffe://cluster.local/ns/default/sa/sleep");
  CHECK(SpiffeUri({"example.org", "prod", "web"}, "cluster.local") ==
        "spiffe://example.org/ns/prod/sa/web");
}

TEST_CASE("ParseSpiffeUri round-trips a workload SPIFFE ID", "[ca][identity]") {
  absl::StatusOr<Identity> id = ParseSpiffeUri("spiffe://cluster.local/ns/default/sa/sleep");
  REQUIRE(id.ok());
  CHECK(*id == Identity{"cluster.local", "default", "sleep"});
  CHECK(SpiffeUri(*id, "ignored") == "spiffe://cluster.local/ns/default/sa/sleep");
}

TEST_CASE("ParseSpiffeUri refuses other shapes", "[ca][identity]") {
  for (const char* uri : {
           "",
           "https://cluster.local/ns/default/sa/sleep",
           "spiffe://cluster.local/ns/default",
           "spiffe://cluster.local/ns/default/sa/sleep/extra",
           "spiffe://cluster.local/sa/default/ns/sleep",
           "spiffe:///ns/default/sa/sleep",
           "spiffe://cluster.local/ns//sa/sleep",
           "spiffe://cluster.local/ns/Default/sa/sleep",
           "spiffe://Cluster.local/ns/default/sa/sleep",
       }) {
    INFO(uri);
    absl::StatusOr<Identity> id = ParseSpiffeUri(uri);
    REQUIRE_FALSE(id.ok());
    CHECK(id.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("ValidateIdentity checks every part", "[ca][identity]") {
  CHECK(ValidateIdentity({"", "istio-system", "istiod.sa-1"}).ok());
  CHECK(ValidateIdentity({"td_1.example", "a", "b"}).ok());
  CHECK(ValidateIdentity({"", "", "sa"}).message() == "invalid namespace \"\"");
  CHECK(ValidateIdentity({"", "ns", "a/b"}).message() == "invalid service account \"a/b\"");
  CHECK(ValidateIdentity({"", "ns", "a,URI:x"}).code() == absl::StatusCode::kInvalidArgument);
  CHECK(ValidateIdentity({"bad/td", "ns", "sa"}).message() == "invalid trust domain \"bad/td\"");
  CHECK_FALSE(ValidateIdentity({"", std::string(254, 'a'), "sa"}).ok());
}

}  // namespace
}  // namespace meshd::ca
