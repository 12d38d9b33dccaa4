#include "controller/bootstrap/debug_handlers.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "controller/bootstrap/config_status.h"
#include "controller/config/decoder.h"
#include "controller/kube/status_writer.h"
#include "google/protobuf/util/json_util.h"
#include "xds/gen/authz.h"
#include "xds/gen/resource.h"

namespace meshd::bootstrap {
namespace {

using nlohmann::json;

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

}  // namespace

json LeaderzJson(const LeaderStatus& status) {
  json out = {{"enabled", status.enabled}};
  if (status.enabled) {
    out["identity"] = status.identity;
    out["lease"] = status.lease;
    out["leader"] = status.leader;
    out["holder"] = status.holder;
  }
  if (status.informers) out["informers"] = *status.informers;
  return out;
}

json SynczJson(const std::vector<xds::ConnectionStatus>& connections) {
  json out = json::array();
  for (const auto& c : connections) {
    json types = json::object();
    for (const auto& t : c.types) {
      json jt = {{"version_sent", t.version_sent},   {"nonce_sent", t.nonce_sent},
                 {"version_acked", t.version_acked}, {"subscribed", t.names},
                 {"wildcard", t.wildcard},           {"responses", t.responses}};
      if (!t.subscribed_names.empty()) jt["names"] = t.subscribed_names;
      if (!t.version_sent.empty()) jt["sent_at"] = Rfc3339(t.sent_at);
      if (!t.nack_error.empty()) {
        jt["nack"] = {{"version", t.nack_version}, {"error", t.nack_error}};
        if (!t.nack_names.empty()) jt["nack"]["resources"] = t.nack_names;
      }
      types[xds::ShortType(t.type_url)] = jt;
    }
    out.push_back({{"connection", c.id},
                   {"proxy", c.proxy_id},
                   {"namespace", c.ns},
                   {"generator", c.generator},
                   {"peer", c.peer},
                   {"connected", Rfc3339(c.connected)},
                   {"types", types}});
  }
  return out;
}

json ConfigzJson(const model::Snapshot* snapshot,
                 const std::vector<file::Rejection>& file_rejections,
                 const std::vector<kube::KubeSource::Rejection>& kube_rejections,
                 const std::vector<xds::ConnectionStatus>* connections) {
  json out = json::object();
  json configs = json::array();
  if (snapshot != nullptr) {
    out["version"] = snapshot->version();
    ProxySummary proxies;
    if (connections != nullptr) proxies = Summarize(ProxyStates(*connections));
    for (const auto& [key, c] : snapshot->AllConfigs()) {
      std::string spec;
      google::protobuf::util::JsonPrintOptions opts;
      (void)google::protobuf::util::MessageToJsonString(*c->spec, &spec, opts);
      json entry = {{"kind", std::string(model::KindName(key.kind))},
                    {"namespace", key.ns},
                    {"name", key.name},
                    {"origin", c->origin},
                    {"spec", json::parse(spec, nullptr, false)}};
      std::vector<std::string> not_applied = config::ProxyTypesNotApplying(key.kind);
      if (!not_applied.empty()) {
        entry["status"] =
            absl::StrCat("accepted, not applied to ", absl::StrJoin(not_applied, ", "));
      }
      std::vector<std::string> warnings = c->warnings;
      if (key.kind == model::Kind::kAuthorizationPolicy) {
        // Where the policy fails closed (the workloads it selects deny everything).
        std::vector<std::string> fail_closed = xds::AuthzFailClosedReasons(*c, *snapshot);
        if (!fail_closed.empty()) {
          entry["status"] = "accepted, fails closed (deny all) where not applied";
          warnings.insert(warnings.end(), fail_closed.begin(), fail_closed.end());
        }
      }
      if (!warnings.empty()) entry["warnings"] = warnings;
      if (connections != nullptr) {
        entry["istioStatus"] = kube::IstioStatusJson(
            DesiredStatusOf(c.get(), snapshot->root_namespace(), snapshot->domain(), proxies),
            json(), "");
      }
      configs.push_back(std::move(entry));
    }
    json services = json::array();
    for (const auto& [host, svc] : snapshot->Services()) {
      services.push_back({{"hostname", host},
                          {"namespace", svc.ns},
                          {"endpoints", snapshot->Endpoints(host).size()},
                          {"origin", svc.origin}});
    }
    out["services"] = services;
  }
  out["configs"] = configs;
  json rejected = json::array();
  for (const auto& r : file_rejections) {
    rejected.push_back({{"file", r.file}, {"kind", r.object}, {"error", r.message}});
  }
  for (const auto& r : kube_rejections) {
    rejected.push_back({{"source", "kube"}, {"kind", r.object}, {"error", r.message}});
  }
  out["rejected"] = rejected;
  return out;
}

HttpResponse JsonResponse(const json& body) {
  HttpResponse r;
  r.content_type = "application/json";
  r.body = body.dump(2) + "\n";
  return r;
}

// ---- push history ---------------------------------------------------------------------

namespace {

double Millis(absl::Duration d) { return absl::ToDoubleMicroseconds(d) / 1000.0; }

json Listed(const std::vector<std::string>& names, size_t total) {
  json out = {{"names", names}, {"total", total}};
  return out;
}

}  // namespace

json PushzJson(const std::vector<xds::PushRecord>& pushes, size_t capacity) {
  json list = json::array();
  for (const auto& p : pushes) {
    const xds::PushTrigger& t = p.trigger;
    json trigger = {{"kinds", t.kinds},
                    {"configs", Listed(t.configs, t.configs_total)},
                    {"endpoint_hosts", Listed(t.endpoint_hosts, t.endpoint_hosts_total)},
                    {"service_hosts", Listed(t.service_hosts, t.service_hosts_total)},
                    {"merged", t.merged}};
    if (t.first_change != absl::InfinitePast()) {
      trigger["debounce_ms"] = Millis(std::max(p.time - t.first_change, absl::ZeroDuration()));
    }
    json latency = nullptr;
    if (p.acked > 0)
      latency = {{"p50", Millis(p.p50)}, {"p99", Millis(p.p99)}, {"max", Millis(p.max)}};
    list.push_back({{"id", p.id},
                    {"version", p.version},
                    {"time", Rfc3339(p.time)},
                    {"type", t.full ? "full" : "endpoints"},
                    {"trigger", trigger},
                    {"scope", p.scope_all ? json("all") : json(p.scope_hosts)},
                    {"proxies", p.proxies},
                    {"responses", p.responses},
                    {"acked", p.acked},
                    {"nacked", p.nacked},
                    {"unchanged", p.unchanged},
                    {"disconnected", p.disconnected},
                    {"pending", p.pending()},
                    {"latency_ms", latency}});
  }
  return {{"capacity", capacity}, {"pushes", list}};
}

json PushStatusJson(const model::Snapshot* snapshot) {
  json out = json::object();
  if (snapshot == nullptr) return out;
  json no_instances = json::object();
  for (const auto& [host, svc] : snapshot->Services()) {
    if (!snapshot->Endpoints(host).empty()) continue;
    for (const auto& port : svc.ports) {
      no_instances[absl::StrCat("outbound|", port.number, "||", host)] = json::object();
    }
  }
  if (!no_instances.empty()) out["pilot_eds_no_instances"] = no_instances;
  // Hosts claimed by more than one VirtualService that applies to sidecars: each proxy uses
  // one of them (its own namespace's first, as istiod), the others are ignored for it.
  std::map<std::string, std::vector<std::string>> claims;
  for (const auto& c : snapshot->Configs(model::Kind::kVirtualService)) {
    const model::VirtualService* vs = c->AsVirtualService();
    if (vs == nullptr || !vs->AppliesToMesh()) continue;
    std::set<std::string> hosts;
    for (const auto& h : vs->hosts) hosts.insert(snapshot->ResolveShortName(h, c->key.ns));
    for (const auto& h : hosts) claims[h].push_back(absl::StrCat(c->key.ns, "/", c->key.name));
  }
  json dup = json::object();
  for (const auto& [host, names] : claims) {
    if (names.size() < 2) continue;
    dup[host] = {{"message", absl::StrCat("VirtualServices ", absl::StrJoin(names, ", "),
                                          " all claim this host; a proxy uses one of them")}};
  }
  if (!dup.empty()) out["pilot_vservice_dup_domain"] = dup;
  return out;
}

}  // namespace meshd::bootstrap
