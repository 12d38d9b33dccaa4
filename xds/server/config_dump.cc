#include "xds/server/config_dump.h"

#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "xds/gen/resource.h"

namespace meshd::xds {
namespace {

using nlohmann::json;
namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;

json AnyJson(const google::protobuf::Any& any) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(any, &out, opts).ok()) {
    return {{"@type", any.type_url()}, {"error", "not printable"}};
  }
  return json::parse(out, nullptr, false);
}

void AddRouteNames(const envoy::config::listener::v3::FilterChain& chain,
                   std::set<std::string>* names) {
  for (const auto& f : chain.filters()) {
    hcm::HttpConnectionManager m;
    if (f.has_typed_config() && f.typed_config().UnpackTo(&m) && m.has_rds()) {
      names->insert(m.rds().route_config_name());
    }
  }
}

}  // namespace

bool ProxyMatches(const std::string& id, const std::string& query) {
  if (id == query) return true;
  std::vector<std::string> parts = absl::StrSplit(id, '~');
  if (parts.size() != 4) return false;
  // parts[2] is "<pod>.<namespace>"
  return parts[2] == query;
}

absl::StatusOr<std::string> ConfigDumpJson(AdsServer& server, const std::string& query) {
  std::optional<model::Proxy> proxy;
  for (const auto& p : server.Proxies()) {
    if (ProxyMatches(p.id, query)) {
      proxy = p;
      break;
    }
  }
  if (!proxy) {
    return absl::NotFoundError(absl::StrCat("proxy ", query, " is not connected to this meshd"));
  }
  model::SnapshotPtr snapshot = server.snapshot();
  if (!snapshot) return absl::FailedPreconditionError("no config snapshot built yet");
  const std::string version = absl::StrCat(snapshot->version());

  Resources listeners = server.Generate(kListenerType, *proxy, *snapshot, {});
  Resources clusters = server.Generate(kClusterType, *proxy, *snapshot, {});
  std::set<std::string> route_names;
  for (const auto& r : listeners) {
    envoy::config::listener::v3::Listener l;
    if (!r->any.UnpackTo(&l)) continue;
    for (const auto& chain : l.filter_chains()) AddRouteNames(chain, &route_names);
    if (l.has_default_filter_chain()) AddRouteNames(l.default_filter_chain(), &route_names);
  }
  std::vector<std::string> eds_names;
  for (const auto& r : clusters) {
    envoy::config::cluster::v3::Cluster c;
    if (!r->any.UnpackTo(&c) || c.type() != envoy::config::cluster::v3::Cluster::EDS) continue;
    const std::string& sn = c.eds_cluster_config().service_name();
    eds_names.push_back(sn.empty() ? c.name() : sn);
  }
  Resources routes = route_names.empty()
                         ? Resources{}
                         : server.Generate(kRouteType, *proxy, *snapshot,
                                           {route_names.begin(), route_names.end()});
  Resources endpoints = eds_names.empty()
                            ? Resources{}
                            : server.Generate(kEndpointType, *proxy, *snapshot, eds_names);

  json configs = json::array();
  json jl = json::array();
  for (const auto& r : listeners) {
    jl.push_back({{"name", r->name},
                  {"active_state", {{"version_info", version}, {"listener", AnyJson(r->any)}}}});
  }
  configs.push_back({{"@type", "type.googleapis.com/envoy.admin.v3.ListenersConfigDump"},
                     {"version_info", version},
                     {"dynamic_listeners", jl}});
  json jc = json::array();
  for (const auto& r : clusters) {
    jc.push_back({{"version_info", version}, {"cluster", AnyJson(r->any)}});
  }
  configs.push_back({{"@type", "type.googleapis.com/envoy.admin.v3.ClustersConfigDump"},
                     {"version_info", version},
                     {"dynamic_active_clusters", jc}});
  json jr = json::array();
  for (const auto& r : routes) {
    jr.push_back({{"version_info", version}, {"route_config", AnyJson(r->any)}});
  }
  configs.push_back({{"@type", "type.googleapis.com/envoy.admin.v3.RoutesConfigDump"},
                     {"dynamic_route_configs", jr}});
  json je = json::array();
  for (const auto& r : endpoints) {
    je.push_back({{"version_info", version}, {"endpoint_config", AnyJson(r->any)}});
  }
  configs.push_back({{"@type", "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump"},
                     {"dynamic_endpoint_configs", je}});
  // Secrets: meshd serves only gateway credentialName secrets over SDS; the workload
  // certificate is the agent's. Private keys are never shown.
  json js = json::array();
  configs.push_back({{"@type", "type.googleapis.com/envoy.admin.v3.SecretsConfigDump"},
                     {"dynamic_active_secrets", js}});
  json out = {{"configs", configs}};
  return out.dump(2) + "\n";
}

}  // namespace meshd::xds
