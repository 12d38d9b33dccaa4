#include "controller/kube/status_writer.h"

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "controller/common/metrics.h"
#include "spdlog/spdlog.h"

namespace meshd::kube {
namespace {

using nlohmann::json;

json Condition(const std::string& type, bool ok, const std::string& reason,
               const std::string& message, const json& existing, const std::string& now) {
  const std::string status = ok ? "True" : "False";
  std::string since = now;
  if (existing.is_object() && existing.contains("conditions") &&
      existing["conditions"].is_array()) {
    for (const auto& c : existing["conditions"]) {
      if (c.is_object() && c.value("type", "") == type && c.value("status", "") == status &&
          c.contains("lastTransitionTime") && c["lastTransitionTime"].is_string()) {
        since = c["lastTransitionTime"].get<std::string>();
      }
    }
  }
  json c = {{"type", type}, {"status", status}, {"reason", reason}, {"message", message}};
  if (!since.empty()) c["lastTransitionTime"] = since;
  return c;
}

void Count(const char* result) {
  Metrics::Get().config_status_writes.Add({{"result", result}}).Increment();
}

}  // namespace

json IstioStatusJson(const DesiredStatus& d, const json& existing, const std::string& now) {
  json conditions = json::array();
  std::string accepted_message =
      d.accepted ? (d.warnings.empty()
                        ? std::string("accepted by meshd")
                        : absl::StrCat("accepted by meshd with ", d.warnings.size(), " warning(s)"))
                 : d.rejection;
  conditions.push_back(Condition("Accepted", d.accepted, d.accepted ? "Accepted" : "Invalid",
                                 accepted_message, existing, now));
  if (d.accepted && d.distribution_known) {
    conditions.push_back(Condition("Reconciled", d.reconciled,
                                   d.reconciled ? "Reconciled" : "StillPropagating",
                                   d.distribution_message, existing, now));
  }
  json messages = json::array();
  if (!d.accepted) {
    messages.push_back({{"level", "ERROR"},
                        {"type", {{"name", "InvalidConfig"}, {"code", "IST0000"}}},
                        {"message", d.rejection}});
  }
  for (const auto& w : d.warnings) {
    messages.push_back({{"level", "WARNING"},
                        {"type", {{"name", "AcceptedWithWarning"}, {"code", "IST0000"}}},
                        {"message", w}});
  }
  json out = {{"conditions", conditions}, {"observedGeneration", d.generation}};
  if (!messages.empty()) out["validationMessages"] = messages;
  return out;
}

StatusWriter::StatusWriter(KubeClient* client, Options options, Source source)
    : client_(client), options_(std::move(options)), source_(std::move(source)), loop_([this] {
        (void)WriteAll();  // failures are counted and logged per object; retried next round
        return options_.interval;
      }) {}

StatusWriter::~StatusWriter() { Stop(); }

void StatusWriter::Start() {
  if (loop_.running()) return;
  {
    // A new term may follow another leader's writes: look at every object again.
    absl::MutexLock lock(&mu_);
    written_.clear();
  }
  loop_.Start(options_.interval);
}

void StatusWriter::Stop() { loop_.Stop(); }

std::string StatusWriter::Fingerprint(const DesiredStatus& d) {
  return IstioStatusJson(d, json(), "").dump();
}

absl::Status StatusWriter::WriteAll() {
  std::vector<DesiredStatus> desired = source_();
  absl::Status result;
  std::set<std::string> live;
  for (const auto& d : desired) {
    live.insert(d.path);
    std::string fp = Fingerprint(d);
    {
      if (loop_.stopping()) return absl::CancelledError("status writer stopping");
      absl::MutexLock lock(&mu_);
      auto it = written_.find(d.path);
      if (it != written_.end() && it->second == fp) continue;
    }
    absl::Status s = Write(d);
    absl::MutexLock lock(&mu_);
    if (s.ok()) {
      written_[d.path] = fp;
      error_logged_.erase(d.path);
    } else {
      if (error_logged_.insert(d.path).second) {
        spdlog::warn("kube: status of {} not written (will retry): {}", d.object, s.ToString());
      }
      result.Update(s);
      // An API server that fails (not a conflict on one object) is left alone for the rest of
      // the round instead of being asked once per object; the next round tries again.
      if (s.code() != absl::StatusCode::kAborted) break;
    }
  }
  absl::MutexLock lock(&mu_);
  for (auto it = written_.begin(); it != written_.end();) {
    it = live.count(it->first) > 0 ? std::next(it) : written_.erase(it);
  }
  return result;
}

absl::Status StatusWriter::Write(const DesiredStatus& d) {
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<KubeResponse> got = client_->Request("GET", d.path);
    if (!got.ok()) {
      Count("error");
      return got.status();
    }
    if (got->status == 404) return absl::OkStatus();  // deleted since: nothing to write
    if (got->status != 200) {
      Count("error");
      return absl::UnavailableError(
          absl::StrCat("GET ", d.path, ": HTTP ", got->status, ": ", got->body.substr(0, 200)));
    }
    json obj = json::parse(got->body, nullptr, false);
    if (!obj.is_object() || !obj.contains("metadata") || !obj["metadata"].is_object()) {
      Count("error");
      return absl::InternalError(absl::StrCat("GET ", d.path, ": not an object"));
    }
    json existing = obj.contains("status") ? obj["status"] : json();
    std::string now = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
    json status = IstioStatusJson(d, existing, now);
    if (existing == status) return absl::OkStatus();
    // Only meshd's fields change; whatever else the status holds (another controller's
    // conditions) stays.
    json merged = existing.is_object() ? existing : json::object();
    for (auto& [k, v] : status.items()) merged[k] = v;
    if (!status.contains("validationMessages")) merged.erase("validationMessages");
    obj["status"] = merged;
    absl::StatusOr<KubeResponse> put = client_->Request("PUT", d.path + "/status", obj.dump());
    if (!put.ok()) {
      Count("error");
      return put.status();
    }
    if (put->status == 200 || put->status == 201) {
      Count("written");
      spdlog::debug("kube: status of {} written", d.object);
      return absl::OkStatus();
    }
    if (put->status == 404) return absl::OkStatus();
    if (put->status == 409) {
      Count("conflict");
      if (attempt < options_.max_attempts) continue;  // re-GET the latest and try again
      return absl::AbortedError(
          absl::StrCat("PUT ", d.path, "/status: still conflicting after ", attempt, " attempts"));
    }
    Count("error");
    return absl::UnavailableError(absl::StrCat("PUT ", d.path, "/status: HTTP ", put->status, ": ",
                                               put->body.substr(0, 200)));
  }
}

}  // namespace meshd::kube
