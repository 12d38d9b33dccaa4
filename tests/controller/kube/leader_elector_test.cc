#include "controller/kube/leader_elector.h"

#include <catch2/catch.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/controller/kube/fake_kube_client.h"

namespace meshd::kube {
namespace {

using nlohmann::json;
using testing::FakeKubeClient;

constexpr char kPath[] = "/apis/coordination.k8s.io/v1/namespaces/istio-system/leases/meshd";
constexpr char kCollection[] = "/apis/coordination.k8s.io/v1/namespaces/istio-system/leases";

// One Lease in an API server with optimistic concurrency (404, 409 AlreadyExists/Conflict).
struct LeaseStore {
  json lease;  // null: absent
  int rv = 100;
  bool down = false;

  absl::StatusOr<KubeResponse> Handle(const std::string& method, const std::string& path,
                                      const std::string& body) {
    KubeResponse r;
    if (down) {
      r.status = 500;
      return r;
    }
    if (method == "GET" && path == kPath) {
      r.status = lease.is_null() ? 404 : 200;
      r.body = lease.is_null() ? R"({"kind":"Status","code":404})" : lease.dump();
      return r;
    }
    json in = json::parse(body);
    if (method == "POST" && path == kCollection) {
      if (!lease.is_null()) {
        r.status = 409;
        return r;
      }
      lease = in;
      lease["metadata"]["resourceVersion"] = std::to_string(++rv);
      r.status = 201;
      r.body = lease.dump();
      return r;
    }
    if (method == "PUT" && path == kPath) {
      if (lease.is_null() ||
          in["metadata"].value("resourceVersion", "") != lease["metadata"]["resourceVersion"]) {
        r.status = 409;
        return r;
      }
      lease = in;
      lease["metadata"]["resourceVersion"] = std::to_string(++rv);
      r.status = 200;
      r.body = lease.dump();
      return r;
    }
    r.status = 404;
    return r;
  }
  std::string Holder() const {
    return lease.is_null() ? "" : lease["spec"].value("holderIdentity", "");
  }
};

struct Candidate {
  FakeKubeClient client;
  int started = 0, stopped = 0;
  std::unique_ptr<LeaderElector> elector;
  Candidate(const std::string& id, LeaseStore* store, const Clock* clock) {
    client.on_request = [store](const std::string& m, const std::string& p, const std::string& b) {
      return store->Handle(m, p, b);
    };
    LeaderElector::Options o;
    o.name = "meshd";
    o.identity = id;
    elector = std::make_unique<LeaderElector>(
        o, &client, clock, LeaderElector::Callbacks{[this] { ++started; }, [this] { ++stopped; }},
        [] { return 0.0; });  // no jitter: candidates retry every RetryPeriod exactly
  }
};

TEST_CASE("leader election: the first candidate creates the lease, the second waits",
          "[kube][leader]") {
  FakeClock clock;
  LeaseStore store;
  Candidate a("a", &store, &clock), b("b", &store, &clock);
  CHECK(a.elector->Tick() == clock.Now() + absl::Milliseconds(7500));
  CHECK(a.elector->IsLeader());
  CHECK(a.started == 1);
  CHECK(store.Holder() == "a");
  CHECK(store.lease["spec"]["leaseDurationSeconds"] == 30);
  CHECK(store.lease["spec"]["leaseTransitions"] == 0);
  b.elector->Tick();
  CHECK(!b.elector->IsLeader());
  CHECK(b.elector->Holder() == "a");
  CHECK(b.started == 0);
}

TEST_CASE("leader election: the leader renews; the lease moves only after it went unrenewed",
          "[kube][leader]") {
  FakeClock clock;
  LeaseStore store;
  Candidate a("a", &store, &clock), b("b", &store, &clock);
  a.elector->Tick();
  b.elector->Tick();
  // Both tick every 7.5 s for a minute: a renews, b keeps observing a changing record.
  for (int i = 0; i < 8; ++i) {
    clock.Advance(absl::Milliseconds(7500));
    std::string renew = store.lease["spec"]["renewTime"];
    a.elector->Tick();
    CHECK(store.lease["spec"]["renewTime"] != renew);
    b.elector->Tick();
    CHECK(a.elector->IsLeader());
    CHECK(!b.elector->IsLeader());
  }
  // a dies. b saw the last renewal at t0; the lease is a's until t0 + 30 s on b's clock.
  absl::Time t0 = clock.Now();
  while (clock.Now() < t0 + absl::Seconds(30)) {
    clock.Advance(absl::Milliseconds(7500));
    b.elector->Tick();
    // Expired once observedTime + leaseDuration is no longer after now (client-go).
    CHECK(b.elector->IsLeader() == (clock.Now() >= t0 + absl::Seconds(30)));
  }
  CHECK(b.elector->IsLeader());
  CHECK(b.started == 1);
  CHECK(store.Holder() == "b");
  CHECK(store.lease["spec"]["leaseTransitions"] == 1);
}

TEST_CASE("leader election: a leader that cannot renew within the deadline stops at once",
          "[kube][leader]") {
  FakeClock clock;
  LeaseStore store;
  Candidate a("a", &store, &clock);
  a.elector->Tick();
  REQUIRE(a.elector->IsLeader());
  store.down = true;
  clock.Advance(absl::Milliseconds(7500));
  a.elector->Tick();  // 7.5 s since the last renewal: still within the 15 s deadline
  CHECK(a.elector->IsLeader());
  clock.Advance(absl::Milliseconds(7500));
  a.elector->Tick();  // 15 s: the renew deadline passed
  CHECK(!a.elector->IsLeader());
  CHECK(a.stopped == 1);
}

TEST_CASE("leader election: a leader that finds another holder stops at once", "[kube][leader]") {
  FakeClock clock;
  LeaseStore store;
  Candidate a("a", &store, &clock);
  a.elector->Tick();
  REQUIRE(a.elector->IsLeader());
  // Someone else took the lease (e.g. a's renewals were lost long enough elsewhere).
  store.lease["spec"]["holderIdentity"] = "x";
  store.lease["metadata"]["resourceVersion"] = std::to_string(++store.rv);
  clock.Advance(absl::Milliseconds(7500));
  a.elector->Tick();  // the fast-path PUT gets 409; the GET shows holder x
  CHECK(!a.elector->IsLeader());
  CHECK(a.stopped == 1);
  CHECK(a.elector->Holder() == "x");
  CHECK(store.Holder() == "x");
}

TEST_CASE("leader election: a conflicting update is a failed attempt, not a takeover",
          "[kube][leader]") {
  FakeClock clock;
  LeaseStore store;
  // An expired lease of someone else: b will try to take it over.
  store.lease = {
      {"metadata", {{"name", "meshd"}, {"namespace", "istio-system"}, {"resourceVersion", "100"}}},
      {"spec", {{"holderIdentity", "old"}, {"leaseDurationSeconds", 1}, {"leaseTransitions", 4}}}};
  Candidate b("b", &store, &clock);
  b.elector->Tick();  // first observation: not expired yet on b's clock
  CHECK(!b.elector->IsLeader());
  clock.Advance(absl::Milliseconds(7500));
  b.client.on_request = [&store](const std::string& m, const std::string& p,
                                 const std::string& body) {
    if (m == "PUT")
      store.lease["metadata"]["resourceVersion"] = std::to_string(++store.rv);  // race
    return store.Handle(m, p, body);
  };
  b.elector->Tick();
  CHECK(!b.elector->IsLeader());
  CHECK(store.Holder() == "old");
}

TEST_CASE("leader election: Stop releases the lease so a successor need not wait",
          "[kube][leader]") {
  FakeClock clock;
  LeaseStore store;
  Candidate a("a", &store, &clock), b("b", &store, &clock);
  a.elector->Tick();
  b.elector->Tick();
  a.elector->Stop();
  CHECK(a.stopped == 1);
  CHECK(store.Holder() == "");
  CHECK(store.lease["spec"]["leaseDurationSeconds"] == 1);
  clock.Advance(absl::Milliseconds(7500));
  b.elector->Tick();
  CHECK(b.elector->IsLeader());
}

}  // namespace
}  // namespace meshd::kube
