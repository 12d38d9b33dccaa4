#include "xds/gen/server_listener.h"

#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "xds/gen/authz.h"
#include "xds/gen/tls.h"

namespace meshd::xds {
namespace {

namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
using envoy::config::listener::v3::Listener;

constexpr char kHcmFilter[] = "envoy.filters.network.http_connection_manager";
constexpr char kRouterFilter[] = "envoy.filters.http.router";

}  // namespace

bool ParseInboundListenerName(const std::string& name, std::string* ip, uint32_t* port) {
  if (!absl::StartsWith(name, kInboundListenerPrefix)) return false;
  std::string rest = name.substr(sizeof(kInboundListenerPrefix) - 1);
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  if (!absl::SimpleAtoi(rest.substr(colon + 1), port) || *port == 0 || *port > 65535) {
    return false;
  }
  *ip = rest.substr(0, colon);
  if (ip->size() > 2 && ip->front() == '[' && ip->back() == ']') {
    *ip = ip->substr(1, ip->size() - 2);
  }
  return !ip->empty();
}

Resources ServerListeners(const model::Proxy& proxy, const model::Snapshot& snapshot,
                          const std::vector<std::string>& names) {
  Resources out;
  // The PeerAuthentications (mTLS mode) and AuthorizationPolicies (RBAC) of the workload.
  OriginSet shaped_by;
  for (const auto& c : PeerAuthenticationsFor(snapshot, proxy.ns, proxy.labels)) shaped_by.Add(c);
  for (const auto& c : AuthorizationPoliciesFor(proxy, snapshot)) shaped_by.Add(c);
  Origins origins = shaped_by.Build();
  for (const auto& name : names) {
    std::string ip;
    uint32_t port = 0;
    if (!ParseInboundListenerName(name, &ip, &port)) continue;
    MtlsMode mode = EffectiveMtlsMode(snapshot, proxy.ns, proxy.labels, port);

    hcm::HttpConnectionManager manager;
    manager.set_stat_prefix(name);
    manager.set_codec_type(hcm::HttpConnectionManager::AUTO);
    auto* vh = manager.mutable_route_config()->add_virtual_hosts();
    vh->set_name("inbound|http|" + std::to_string(port));
    vh->add_domains("*");
    auto* route = vh->add_routes();
    route->mutable_match()->set_prefix("/");
    route->mutable_non_forwarding_action();
    manager.mutable_route_config()->set_name(name);
    auto* router = manager.add_http_filters();
    router->set_name(kRouterFilter);
    router->mutable_typed_config()->PackFrom(
        envoy::extensions::filters::http::router::v3::Router());
    AppendGrpcServerAuthzFilters(proxy, snapshot, &manager);

    Listener listener;
    listener.set_name(name);
    auto* sa = listener.mutable_address()->mutable_socket_address();
    sa->set_address(ip);
    sa->set_port_value(port);
    auto* chain = listener.add_filter_chains();
    chain->set_name(std::string("inbound-") + MtlsModeName(mode));
    auto* filter = chain->add_filters();
    filter->set_name(kHcmFilter);
    filter->mutable_typed_config()->PackFrom(manager);
    if (mode == MtlsMode::kStrict) {
      *chain->mutable_transport_socket() =
          TlsTransportSocket(BuildDownstreamTlsContext(/*require_client_certificate=*/true));
    }
    auto r = std::make_shared<Resource>();
    r->name = name;
    r->any.PackFrom(listener);
    r->hash = absl::HashOf(r->name, r->any.value());
    r->origins = origins;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace meshd::xds
