#include "controller/bootstrap/debug_handlers.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "controller/config/decoder.h"
#include "google/protobuf/util/json_util.h"
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
      if (!t.version_sent.empty()) jt["sent_at"] = Rfc3339(t.sent_at);
      if (!t.nack_error.empty()) {
        jt["nack"] = {{"version", t.nack_version}, {"error", t.nack_error}};
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
                 const std::vector<kube::KubeSource::Rejection>& kube_rejections) {
  json out = json::object();
  json configs = json::array();
  if (snapshot != nullptr) {
    out["version"] = snapshot->version();
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
      if (!c->warnings.empty()) entry["warnings"] = c->warnings;
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

}  // namespace meshd::bootstrap
