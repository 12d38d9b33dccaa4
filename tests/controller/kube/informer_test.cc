#include "controller/kube/informer.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "tests/controller/kube/fake_kube_client.h"

namespace meshd::kube {
namespace {

using nlohmann::json;
using testing::FakeKubeClient;

json Svc(const std::string& name, const std::string& rv, const std::string& port = "80") {
  return json::parse(R"({"metadata":{"namespace":"default","name":")" + name +
                     R"(","resourceVersion":")" + rv + R"("},"spec":{"ports":[{"port":)" + port +
                     "}]}}");
}

std::string List(const std::vector<json>& items, const std::string& rv,
                 const std::string& cont = "") {
  json j = {{"kind", "ServiceList"}, {"apiVersion", "v1"}, {"items", items}};
  j["metadata"] = {{"resourceVersion", rv}};
  if (!cont.empty()) j["metadata"]["continue"] = cont;
  return j.dump();
}

std::string Event(const std::string& type, const json& obj) {
  return json{{"type", type}, {"object", obj}}.dump();
}

struct Recorder {
  std::vector<std::string> events;
  Informer::Handler Handler() {
    return {
        [this](const json& o) { events.push_back("add " + Informer::KeyOf(o)); },
        [this](const json&, const json& o) { events.push_back("update " + Informer::KeyOf(o)); },
        [this](const json& o) { events.push_back("delete " + Informer::KeyOf(o)); }};
  }
};

struct Fixture {
  FakeClock clock;
  FakeKubeClient client;
  Recorder rec;
  std::unique_ptr<Informer> informer;
  Fixture() {
    Informer::Options o;
    o.page_size = 2;
    informer = std::make_unique<Informer>(ResourceType{"v1", "Service", "services"}, &client,
                                          &clock, o, [] { return 0.5; });
    informer->AddHandler(rec.Handler());
  }
  // Lists a, b (page 1) and c (page 2) at RV 10.
  void InitialList() {
    client.on_request = [](const std::string&, const std::string& path, const std::string&) {
      KubeResponse r;
      r.status = 200;
      r.body = absl::StrContains(path, "continue=")
                   ? List({Svc("c", "3")}, "10")
                   : List({Svc("a", "1"), Svc("b", "2")}, "10", "tok1");
      return absl::StatusOr<KubeResponse>(r);
    };
    REQUIRE(informer->Step().ok());
  }
};

TEST_CASE("informer: paginated list fills the cache and delivers adds", "[kube][informer]") {
  Fixture f;
  bool synced = false;
  f.informer->OnSynced([&] { synced = true; });
  f.InitialList();
  CHECK(f.client.requests ==
        std::vector<std::string>{"GET /api/v1/services?limit=2",
                                 "GET /api/v1/services?limit=2&continue=tok1"});
  CHECK(f.rec.events ==
        std::vector<std::string>{"add default/a", "add default/b", "add default/c"});
  CHECK(f.informer->List().size() == 3);
  CHECK(f.informer->LastResourceVersion() == "10");
  CHECK(f.informer->state() == Informer::State::kWatch);
  CHECK(f.informer->NextAttempt() == f.clock.Now());
  CHECK(synced);
  // Built-in list items may lack apiVersion/kind; the informer fills them in.
  CHECK(f.informer->Get("default/a")->at("kind") == "Service");
}

TEST_CASE("informer: a field selector goes on every list and watch", "[kube][informer]") {
  FakeClock clock;
  FakeKubeClient client;
  Informer::Options o;
  o.page_size = 2;
  o.field_selector = "metadata.name=istio-ca-root-cert";
  Informer informer(ResourceType{"v1", "ConfigMap", "configmaps"}, &client, &clock, o,
                    [] { return 0.5; });
  client.on_request = [](const std::string&, const std::string&, const std::string&) {
    KubeResponse r;
    r.status = 200;
    r.body = List({}, "10");
    return absl::StatusOr<KubeResponse>(r);
  };
  REQUIRE(informer.Step().ok());
  CHECK(client.requests == std::vector<std::string>{"GET /api/v1/configmaps?fieldSelector="
                                                    "metadata.name%3Distio-ca-root-cert&limit=2"});
  client.streams.push_back({});
  clock.Advance(absl::Seconds(300));  // the watch lasted until its timeout
  informer.Step().IgnoreError();
  REQUIRE(client.stream_paths.size() == 1);
  CHECK(
      absl::EndsWith(client.stream_paths[0], "&fieldSelector=metadata.name%3Distio-ca-root-cert"));
}

TEST_CASE("informer: watch applies events and bookmarks, re-watches from the last RV",
          "[kube][informer]") {
  Fixture f;
  f.InitialList();
  f.rec.events.clear();
  f.client.streams.push_back(
      {{Event("ADDED", Svc("d", "11")), Event("MODIFIED", Svc("a", "12", "81")),
        Event("DELETED", Svc("b", "13")),
        Event("BOOKMARK", json{{"metadata", {{"resourceVersion", "15"}}}})}});
  f.clock.Advance(absl::Seconds(300));  // the watch lasted until its timeout
  REQUIRE(f.informer->Step().ok());
  REQUIRE(f.client.stream_paths.size() == 1);
  const std::string& p = f.client.stream_paths[0];
  CHECK(absl::StartsWith(p, "/api/v1/services?watch=true&allowWatchBookmarks=true"));
  CHECK(absl::StrContains(p, "&resourceVersion=10&"));
  CHECK(f.rec.events ==
        std::vector<std::string>{"add default/d", "update default/a", "delete default/b"});
  CHECK(f.informer->LastResourceVersion() == "15");
  CHECK(f.informer->Get("default/a")->at("spec").at("ports")[0].at("port") == 81);
  CHECK(!f.informer->Get("default/b").has_value());

  // A normal end: re-watch at once from the bookmark's RV, with no new list.
  CHECK(f.informer->state() == Informer::State::kWatch);
  CHECK(f.informer->NextAttempt() == f.clock.Now());
  size_t lists = f.client.requests.size();
  f.client.streams.push_back({{Event("ADDED", Svc("e", "16"))}});
  REQUIRE(f.informer->Step().ok());
  CHECK(absl::StrContains(f.client.stream_paths[1], "&resourceVersion=15&"));
  CHECK(f.client.requests.size() == lists);
}

TEST_CASE("informer: 410 Expired relists from the last RV and diffs the cache",
          "[kube][informer]") {
  Fixture f;
  f.InitialList();
  f.rec.events.clear();
  f.client.streams.push_back(
      {{Event("ERROR", json{{"kind", "Status"}, {"code", 410}, {"reason", "Expired"}})}});
  CHECK(absl::IsOutOfRange(f.informer->Step()));
  CHECK(f.informer->state() == Informer::State::kRelist);
  CHECK(f.informer->NextAttempt() == f.clock.Now());  // relist at once, no backoff
  // The relist: a changed, b unchanged, c gone, d new.
  f.client.on_request = [](const std::string&, const std::string&, const std::string&) {
    KubeResponse r;
    r.status = 200;
    r.body = List({Svc("a", "20", "81"), Svc("b", "2"), Svc("d", "21")}, "22");
    return absl::StatusOr<KubeResponse>(r);
  };
  REQUIRE(f.informer->Step().ok());
  CHECK(f.client.requests.back() == "GET /api/v1/services?resourceVersion=10");
  CHECK(f.rec.events ==
        std::vector<std::string>{"update default/a", "add default/d", "delete default/c"});
  CHECK(f.informer->LastResourceVersion() == "22");
  CHECK(f.informer->state() == Informer::State::kWatch);
}

TEST_CASE("informer: an expired relist lists the current state; HTTP 410 on a watch relists",
          "[kube][informer]") {
  Fixture f;
  f.InitialList();
  f.client.streams.push_back({{}, absl::OutOfRangeError(R"({"kind":"Status","code":410})")});
  CHECK(absl::IsOutOfRange(f.informer->Step()));
  CHECK(f.informer->state() == Informer::State::kRelist);
  f.client.on_request = [](const std::string&, const std::string&, const std::string&) {
    KubeResponse r;
    r.status = 410;
    r.body = R"({"kind":"Status","code":410,"reason":"Expired"})";
    return absl::StatusOr<KubeResponse>(r);
  };
  CHECK(absl::IsOutOfRange(f.informer->Step()));
  CHECK(f.informer->state() == Informer::State::kList);  // next: a consistent list (RV "")
  f.InitialList();
  CHECK(f.client.requests.back() == "GET /api/v1/services?limit=2&continue=tok1");
}

TEST_CASE("informer: errors and 429 back off exponentially with jitter; reset after 2 min",
          "[kube][informer]") {
  Fixture f;
  f.client.on_request = [](const std::string&, const std::string&, const std::string&) {
    return absl::StatusOr<KubeResponse>(absl::UnavailableError("connection refused"));
  };
  // rand = 0.5, jitter 1.0: delay = d * 1.5 with d = 0.8 s, 1.6 s, 3.2 s, ... capped at 30 s.
  std::vector<absl::Duration> want = {absl::Milliseconds(1200),  absl::Milliseconds(2400),
                                      absl::Milliseconds(4800),  absl::Milliseconds(9600),
                                      absl::Milliseconds(19200), absl::Milliseconds(38400),
                                      absl::Seconds(45),         absl::Seconds(45)};
  for (absl::Duration d : want) {
    CHECK(!f.informer->Step().ok());
    CHECK(f.informer->NextAttempt() - f.clock.Now() == d);
    CHECK(f.informer->state() == Informer::State::kList);
    f.clock.Advance(d);
  }
  // 429 with Retry-After 60: at least that long.
  f.client.on_request = [](const std::string&, const std::string&, const std::string&) {
    KubeResponse r;
    r.status = 429;
    r.retry_after = "60";
    r.body = R"({"kind":"Status","code":429})";
    return absl::StatusOr<KubeResponse>(r);
  };
  CHECK(!f.informer->Step().ok());
  CHECK(f.informer->NextAttempt() - f.clock.Now() == absl::Seconds(60));
  // Healthy for more than 2 minutes: the backoff starts over.
  f.client.on_request = [](const std::string&, const std::string&, const std::string&) {
    return absl::StatusOr<KubeResponse>(absl::UnavailableError("connection refused"));
  };
  f.clock.Advance(absl::Minutes(3));
  CHECK(!f.informer->Step().ok());
  CHECK(f.informer->NextAttempt() - f.clock.Now() == absl::Milliseconds(1200));
}

TEST_CASE("informer: a failed watch backs off and re-watches without relisting",
          "[kube][informer]") {
  Fixture f;
  f.InitialList();
  size_t lists = f.client.requests.size();
  f.client.streams.push_back({{}, absl::UnavailableError("Retrieving message chunk header")});
  CHECK(!f.informer->Step().ok());
  CHECK(f.informer->state() == Informer::State::kWatch);
  CHECK(f.informer->NextAttempt() - f.clock.Now() == absl::Milliseconds(1200));
  // A watch that ends at once with no event counts as an error too.
  f.clock.Advance(absl::Milliseconds(1200));
  f.client.streams.push_back({{}});
  CHECK(!f.informer->Step().ok());
  CHECK(f.informer->NextAttempt() - f.clock.Now() == absl::Milliseconds(2400));
  // An ERROR event other than 410 (e.g. 500) backs off too.
  f.clock.Advance(absl::Milliseconds(2400));
  f.client.streams.push_back({{Event("ERROR", json{{"kind", "Status"}, {"code", 500}})}});
  CHECK(!f.informer->Step().ok());
  CHECK(f.informer->state() == Informer::State::kWatch);
  CHECK(f.client.requests.size() == lists);
  for (const auto& p : f.client.stream_paths) CHECK(absl::StrContains(p, "&resourceVersion=10&"));
}

TEST_CASE("informer factory: one informer per resource type", "[kube][informer]") {
  FakeClock clock;
  FakeKubeClient client;
  InformerFactory factory(&client, &clock);
  Informer* a = factory.For({"v1", "Service", "services"});
  Informer* b = factory.For({"v1", "Service", "services"});
  Informer* c = factory.For({"v1", "Pod", "pods"});
  CHECK(a == b);
  CHECK(a != c);
  CHECK(a->type().CollectionPath() == "/api/v1/services");
  CHECK(ResourceType{"networking.istio.io/v1", "VirtualService", "virtualservices"}
            .CollectionPath() == "/apis/networking.istio.io/v1/virtualservices");
}

}  // namespace
}  // namespace meshd::kube
