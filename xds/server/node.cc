#include "xds/server/node.h"

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace meshd::xds {
namespace {

std::string StringField(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  if (it == s.fields().end() || !it->second.has_string_value()) return "";
  return it->second.string_value();
}

}  // namespace

absl::StatusOr<model::Proxy> ProxyFromNode(const envoy::config::core::v3::Node& node) {
  if (node.id().empty()) return absl::InvalidArgumentError("node.id is required");
  model::Proxy proxy;
  model::ParseNodeId(node.id(), &proxy);
  const auto& md = node.metadata();
  if (std::string ns = StringField(md, "NAMESPACE"); !ns.empty()) proxy.ns = ns;
  if (proxy.ns.empty()) proxy.ns = "default";
  proxy.generator = StringField(md, "GENERATOR");
  proxy.cluster_id = StringField(md, "CLUSTER_ID");
  proxy.service_account = StringField(md, "SERVICE_ACCOUNT");
  proxy.istio_version = StringField(md, "ISTIO_VERSION");
  proxy.interception_mode = StringField(md, "INTERCEPTION_MODE");
  proxy.workload_name = StringField(md, "WORKLOAD_NAME");
  proxy.istio_revision = StringField(md, "ISTIO_REVISION");
  proxy.dns_capture = absl::EqualsIgnoreCase(StringField(md, "DNS_CAPTURE"), "true");
  proxy.dns_auto_allocate = absl::EqualsIgnoreCase(StringField(md, "DNS_AUTO_ALLOCATE"), "true");
  if (node.has_locality()) {
    const auto& l = node.locality();
    if (!l.region().empty() || !l.zone().empty() || !l.sub_zone().empty()) {
      proxy.locality = l.region();
      if (!l.zone().empty() || !l.sub_zone().empty()) proxy.locality += "/" + l.zone();
      if (!l.sub_zone().empty()) proxy.locality += "/" + l.sub_zone();
    }
  }
  if (auto it = md.fields().find("LABELS");
      it != md.fields().end() && it->second.has_struct_value()) {
    for (const auto& [k, v] : it->second.struct_value().fields()) {
      if (v.has_string_value()) proxy.labels[k] = v.string_value();
    }
  }
  for (absl::string_view ip :
       absl::StrSplit(StringField(md, "INSTANCE_IPS"), ',', absl::SkipWhitespace())) {
    proxy.ips.emplace_back(absl::StripAsciiWhitespace(ip));
  }
  // As istiod: INSTANCE_IPS is preferred over the IP in the node id.
  if (!proxy.ips.empty()) proxy.ip = proxy.ips[0];
  if (proxy.ips.empty() && !proxy.ip.empty()) proxy.ips.push_back(proxy.ip);
  if (proxy.type.empty()) proxy.type = proxy.generator == "grpc" ? "proxyless" : "sidecar";
  return proxy;
}

}  // namespace meshd::xds
