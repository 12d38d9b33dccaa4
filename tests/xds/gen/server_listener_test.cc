#include "xds/gen/server_listener.h"

#include <catch2/catch.hpp>

namespace meshd::xds {
namespace {

TEST_CASE("inbound listener names", "[server_listener]") {
  std::string ip;
  uint32_t port = 0;
  REQUIRE(ParseInboundListenerName("xds.istio.io/grpc/lds/inbound/10.0.0.1:8080", &ip, &port));
  CHECK(ip == "10.0.0.1");
  CHECK(port == 8080);
  REQUIRE(ParseInboundListenerName("xds.istio.io/grpc/lds/inbound/[::1]:9000", &ip, &port));
  CHECK(ip == "::1");
  CHECK_FALSE(ParseInboundListenerName("xds.istio.io/grpc/lds/inbound/10.0.0.1", &ip, &port));
  CHECK_FALSE(ParseInboundListenerName("xds.istio.io/grpc/lds/inbound/:80", &ip, &port));
  CHECK_FALSE(ParseInboundListenerName("xds.istio.io/grpc/lds/inbound/a:0", &ip, &port));
  CHECK_FALSE(ParseInboundListenerName("echo:9000", &ip, &port));
}

}  // namespace
}  // namespace meshd::xds
