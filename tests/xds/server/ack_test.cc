#include "xds/server/ack.h"

#include <catch2/catch.hpp>

namespace meshd::xds {
namespace {

TypeView Sent(std::string nonce, std::set<std::string> names) {
  return TypeView{true, std::move(nonce), InternNames(std::move(names))};
}

TEST_CASE("first request of a type is a subscription", "[ack]") {
  Decision d = Classify({"", false, {"a"}}, TypeView{});
  CHECK(d.kind == RequestKind::kSubscribe);
  CHECK(d.respond);
}

TEST_CASE("request without nonce after a response re-subscribes", "[ack]") {
  Decision d = Classify({"", false, {"a"}}, Sent("1-3", {"a"}));
  CHECK(d.kind == RequestKind::kSubscribe);
  CHECK(d.respond);
  CHECK_FALSE(d.names_changed);
}

TEST_CASE("matching nonce without error is an ACK and sends nothing", "[ack]") {
  Decision d = Classify({"1-3", false, {"a"}}, Sent("1-3", {"a"}));
  CHECK(d.kind == RequestKind::kAck);
  CHECK_FALSE(d.respond);
}

TEST_CASE("matching nonce with error is a NACK and sends nothing", "[ack]") {
  Decision d = Classify({"1-3", true, {"a"}}, Sent("1-3", {"a"}));
  CHECK(d.kind == RequestKind::kNack);
  CHECK_FALSE(d.respond);
}

TEST_CASE("ACK that changes the names responds with the new set", "[ack]") {
  Decision d = Classify({"1-3", false, {"a", "b"}}, Sent("1-3", {"a"}));
  CHECK(d.kind == RequestKind::kAck);
  CHECK(d.names_changed);
  CHECK(d.respond);
}

TEST_CASE("stale nonce with the same names is ignored", "[ack]") {
  // The Node client ACKs nonce 7 after we already sent nonce 8.
  Decision d = Classify({"1-7", false, {"a", "b"}}, Sent("1-8", {"a", "b"}));
  CHECK(d.kind == RequestKind::kStale);
  CHECK_FALSE(d.respond);
}

TEST_CASE("stale nonce that changes the names still responds", "[ack]") {
  Decision d = Classify({"1-7", false, {"a", "b", "c"}}, Sent("1-8", {"a", "b"}));
  CHECK(d.kind == RequestKind::kStale);
  CHECK(d.respond);
}

TEST_CASE("NACK that also changes names responds", "[ack]") {
  Decision d = Classify({"1-3", true, {"b"}}, Sent("1-3", {"a"}));
  CHECK(d.kind == RequestKind::kNack);
  CHECK(d.respond);
}

}  // namespace
}  // namespace meshd::xds
