#include "controller/kube/leader_elector.h"

#include "absl/strings/str_cat.h"
#include "controller/common/backoff.h"
#include "controller/common/metrics.h"
#include "prometheus/gauge.h"
#include "spdlog/spdlog.h"

namespace meshd::kube {
namespace {

using nlohmann::json;

std::string MicroTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

prometheus::Family<prometheus::Gauge>& LeaderGauge() {
  static prometheus::Family<prometheus::Gauge>& family =
      prometheus::BuildGauge()
          .Name("meshd_leader_election_leader")
          .Help("1 while this replica holds the lease, by lease (namespace/name)")
          .Register(Metrics::Get().registry());
  return family;
}

}  // namespace

LeaderElector::LeaderElector(Options options, KubeClient* client, const Clock* clock,
                             Callbacks callbacks, std::function<double()> rand01)
    : options_(std::move(options)),
      client_(client),
      clock_(clock),
      callbacks_(std::move(callbacks)),
      rand01_(rand01 ? std::move(rand01) : Backoff::DefaultRandom()) {
  LeaderGauge().Add({{"lease", absl::StrCat(options_.ns, "/", options_.name)}}).Set(0);
}

LeaderElector::~LeaderElector() { Stop(); }

std::string LeaderElector::LeasePath(bool collection) const {
  std::string p = absl::StrCat("/apis/coordination.k8s.io/v1/namespaces/", options_.ns, "/leases");
  return collection ? p : absl::StrCat(p, "/", options_.name);
}

bool LeaderElector::IsLeader() const {
  absl::MutexLock lock(&mu_);
  return leader_;
}

std::string LeaderElector::Holder() const {
  absl::MutexLock lock(&mu_);
  return holder_;
}

bool LeaderElector::Put(const json& lease, absl::Time now) {
  absl::StatusOr<KubeResponse> r = client_->Request("PUT", LeasePath(false), lease.dump());
  if (!r.ok() || r->status != 200) {
    spdlog::debug("leader election: update of lease {}/{} failed: {}", options_.ns, options_.name,
                  r.ok() ? absl::StrCat("HTTP ", r->status) : r.status().ToString());
    return false;
  }
  json stored = json::parse(r->body, nullptr, false);
  absl::MutexLock lock(&mu_);
  lease_ = stored.is_object() ? stored : lease;
  observed_spec_ = lease_.value("spec", json::object());
  observed_time_ = now;
  holder_ = options_.identity;
  return true;
}

bool LeaderElector::TryAcquireOrRenew(absl::Time now) {
  int duration_s = static_cast<int>(absl::ToInt64Seconds(options_.lease_duration));
  // Fast path: we lead and our lease is still valid locally; renew the cached object.
  json cached;
  {
    absl::MutexLock lock(&mu_);
    if (leader_ && lease_.is_object() && observed_time_ + options_.lease_duration > now) {
      cached = lease_;
    }
  }
  if (cached.is_object()) {
    cached["spec"]["renewTime"] = MicroTime(now);
    cached["spec"]["holderIdentity"] = options_.identity;
    cached["spec"]["leaseDurationSeconds"] = duration_s;
    if (Put(cached, now)) return true;
  }
  // Slow path: read it.
  absl::StatusOr<KubeResponse> r = client_->Request("GET", LeasePath(false));
  if (!r.ok()) return false;
  if (r->status == 404) {
    json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", options_.name}, {"namespace", options_.ns}}},
                  {"spec",
                   {{"holderIdentity", options_.identity},
                    {"leaseDurationSeconds", duration_s},
                    {"acquireTime", MicroTime(now)},
                    {"renewTime", MicroTime(now)},
                    {"leaseTransitions", 0}}}};
    absl::StatusOr<KubeResponse> c = client_->Request("POST", LeasePath(true), lease.dump());
    if (!c.ok() || c->status != 201) return false;  // 409 AlreadyExists: someone raced us
    json stored = json::parse(c->body, nullptr, false);
    absl::MutexLock lock(&mu_);
    lease_ = stored.is_object() ? stored : lease;
    observed_spec_ = lease_.value("spec", json::object());
    observed_time_ = now;
    holder_ = options_.identity;
    return true;
  }
  if (r->status != 200) return false;
  json lease = json::parse(r->body, nullptr, false);
  if (!lease.is_object()) return false;
  json spec = lease.value("spec", json::object());
  if (!spec.is_object()) spec = json::object();
  std::string holder = spec.value("holderIdentity", "");
  int held_for = spec.value("leaseDurationSeconds", 0);
  {
    absl::MutexLock lock(&mu_);
    if (spec != observed_spec_) {
      observed_spec_ = spec;
      observed_time_ = now;
    }
    holder_ = holder;
    lease_ = lease;
    if (!holder.empty() && holder != options_.identity &&
        observed_time_ + absl::Seconds(held_for) > now) {
      return false;  // held by another, and not expired by our observation
    }
  }
  json next = lease;
  next["spec"] = spec;
  next["spec"]["holderIdentity"] = options_.identity;
  next["spec"]["leaseDurationSeconds"] = duration_s;
  next["spec"]["renewTime"] = MicroTime(now);
  if (holder != options_.identity) {
    next["spec"]["acquireTime"] = MicroTime(now);
    next["spec"]["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  return Put(next, now);  // carries the RV read: a race is a 409
}

void LeaderElector::SetLeader(bool leader) {
  {
    absl::MutexLock lock(&mu_);
    if (leader_ == leader) return;
    leader_ = leader;
  }
  LeaderGauge().Add({{"lease", absl::StrCat(options_.ns, "/", options_.name)}}).Set(leader);
  if (leader) {
    spdlog::info("leader election: {} became the leader of lease {}/{}", options_.identity,
                 options_.ns, options_.name);
    if (callbacks_.on_started_leading) callbacks_.on_started_leading();
  } else {
    spdlog::info("leader election: {} stopped leading lease {}/{} (holder now \"{}\")",
                 options_.identity, options_.ns, options_.name, Holder());
    if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
  }
}

absl::Time LeaderElector::Tick() {
  absl::Time now = clock_->Now();
  {
    absl::MutexLock lock(&mu_);
    if (now < next_) return next_;
  }
  bool was_leader = IsLeader();
  bool ok = TryAcquireOrRenew(now);
  absl::Time next;
  if (ok) {
    {
      absl::MutexLock lock(&mu_);
      last_renew_ = now;
    }
    SetLeader(true);
    next = now + options_.retry_period;
  } else if (was_leader) {
    absl::Time last_renew;
    std::string holder;
    {
      absl::MutexLock lock(&mu_);
      last_renew = last_renew_;
      holder = holder_;
    }
    // Lost: someone else holds it, or we could not renew within the deadline.
    if ((!holder.empty() && holder != options_.identity) ||
        now - last_renew >= options_.renew_deadline) {
      SetLeader(false);
      next = now + options_.retry_period * (1 + 1.2 * rand01_());
    } else {
      next = now + options_.retry_period;
    }
  } else {
    next = now + options_.retry_period * (1 + 1.2 * rand01_());
  }
  absl::MutexLock lock(&mu_);
  next_ = next;
  return next;
}

void LeaderElector::Release() {
  json lease;
  {
    absl::MutexLock lock(&mu_);
    if (!leader_ || !lease_.is_object()) return;
    lease = lease_;
  }
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = MicroTime(clock_->Now());
  absl::StatusOr<KubeResponse> r = client_->Request("PUT", LeasePath(false), lease.dump());
  spdlog::info("leader election: released lease {}/{} ({})", options_.ns, options_.name,
               r.ok() ? absl::StrCat("HTTP ", r->status) : r.status().ToString());
}

void LeaderElector::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    while (true) {
      absl::Time next = Tick();
      absl::MutexLock lock(&mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      mu_.AwaitWithTimeout(absl::Condition(&stop),
                           std::max(absl::ZeroDuration(), next - clock_->Now()));
      if (stopping_) return;
    }
  });
}

void LeaderElector::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  Release();
  SetLeader(false);
}

}  // namespace meshd::kube
