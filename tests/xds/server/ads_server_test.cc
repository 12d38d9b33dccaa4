// The ADS server over a real gRPC channel: State of the World and Delta, with a raw stream
// standing in for a proxy so every message can be checked.
#include "xds/server/ads_server.h"

#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/service/status/v3/csds.pb.h"
#include "tests/xds/test_mesh.h"
#include "xds/server/syncz.h"

namespace meshd::xds {
namespace {

using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

std::string Mesh(int weight_v1, const std::string& v2_address) {
  return R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews.default.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 9080, name: grpc, protocol: GRPC}]
  endpoints:
  - {address: 10.0.0.1, labels: {version: v1}}
  - {address: )" +
         v2_address + R"(, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
    - {destination: {host: reviews, subset: v1}, weight: )" +
         std::to_string(weight_v1) + R"(}
    - {destination: {host: reviews, subset: v2}, weight: )" +
         std::to_string(100 - weight_v1) + R"(}
)";
}

struct Fixture {
  Fixture() : ads(AdsServer::Options{1}) {
    ads.Start();
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&ads);
    server = b.BuildAndStart();
    REQUIRE(port != 0);
    ads.OnSnapshot(testing::SnapshotFromYaml(Mesh(80, "10.0.0.2"), 1), Full());
    stub = AggregatedDiscoveryService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  }
  ~Fixture() {
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    ads.Stop();
  }
  static model::PushRequest Full() {
    model::PushRequest r;
    r.full = true;
    return r;
  }
  AdsServer ads;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<AggregatedDiscoveryService::Stub> stub;
};

void SetNode(envoy::config::core::v3::Node* node) {
  node->set_id("sidecar~10.0.0.9~client.default~default.svc.cluster.local");
  (*node->mutable_metadata()->mutable_fields())["GENERATOR"].set_string_value("grpc");
}

// A proxy on a raw SotW stream that knows when the server has handled what it sent. A
// stream's requests are handled one at a time, in order; so once Sync()'s own request is
// answered, every request written before it (an ACK, a NACK) is in the server's bookkeeping.
// No test polls or sleeps for that.
class SotwProxy {
 public:
  explicit SotwProxy(Fixture& f) : stream_(f.stub->StreamAggregatedResources(&ctx_)) {}
  ~SotwProxy() { ctx_.TryCancel(); }

  // Subscribes to `names` of `type` (replacing the type's names; the stream's first request
  // carries the node) and returns the answer.
  DiscoveryResponse Subscribe(const std::string& type, const std::vector<std::string>& names) {
    DiscoveryRequest& req = requests_[type];
    req.set_type_url(type);
    req.clear_resource_names();
    for (const auto& n : names) req.add_resource_names(n);
    Write(req);
    return Read();
  }
  // ACKs `resp` (NACKs it with `error`, keeping the last accepted version, as Envoy) and
  // returns once the server has handled the reply.
  void Reply(const DiscoveryResponse& resp, const std::string& error = "") {
    DiscoveryRequest& req = requests_[resp.type_url()];
    req.set_response_nonce(resp.nonce());
    if (error.empty()) {
      req.set_version_info(resp.version_info());
      req.clear_error_detail();
    } else {
      req.mutable_error_detail()->set_message(error);
    }
    Write(req);
    Sync();
  }
  DiscoveryResponse Read() {
    DiscoveryResponse resp;
    REQUIRE(stream_->Read(&resp));
    return resp;
  }
  // Returns once the server has handled every request written before: it asks for
  // istio.io/debug/syncz on this stream, which is answered while the request is handled and
  // touches none of the stream's bookkeeping. The answer must be the next message on the
  // stream (nothing else was pushed in between).
  void Sync() {
    DiscoveryRequest req;
    req.set_type_url(kSynczType);
    Write(req);
    REQUIRE(Read().type_url() == kSynczType);
  }

 private:
  void Write(DiscoveryRequest& req) {
    if (first_) SetNode(req.mutable_node());
    REQUIRE(stream_->Write(req));
    req.clear_node();
    first_ = false;
  }
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<DiscoveryRequest, DiscoveryResponse>> stream_;
  std::map<std::string, DiscoveryRequest> requests_;
  bool first_ = true;
};

// What the server keeps about `type` on its only proxy connection (streams that named no
// proxy, like istioctl's, are skipped).
TypeStatus StatusOf(AdsServer& ads, const std::string& type) {
  for (const auto& c : ads.Status()) {
    if (c.proxy_id.rfind("sidecar~", 0) != 0) continue;
    for (const auto& t : c.types) {
      if (t.type_url == type) return t;
    }
  }
  return TypeStatus{};
}

const char* kReviewsRoute = "outbound|9080||reviews.default.svc.cluster.local";

TEST_CASE("SotW: subscribe, ACK, push on change, NACK recorded", "[ads]") {
  Fixture f;
  SotwProxy proxy(f);
  DiscoveryResponse resp = proxy.Subscribe(kRouteType, {kReviewsRoute});
  CHECK(resp.type_url() == kRouteType);
  CHECK(resp.version_info() == "1");
  CHECK(resp.resources_size() == 1);
  // ACK, then a config change pushes a new version by itself.
  proxy.Reply(resp);
  REQUIRE(StatusOf(f.ads, kRouteType).version_acked == "1");
  f.ads.OnSnapshot(testing::SnapshotFromYaml(Mesh(50, "10.0.0.2"), 2), Fixture::Full());
  resp = proxy.Read();
  CHECK(resp.type_url() == kRouteType);
  CHECK(resp.version_info() == "2");
  // NACK it: recorded in the status, nothing re-sent (Sync's answer is the next message).
  proxy.Reply(resp, "bad route");
  REQUIRE(f.ads.Status().size() == 1);
  TypeStatus rds = StatusOf(f.ads, kRouteType);
  CHECK(rds.nack_error == "bad route");
  CHECK(rds.version_acked == "1");
  // The NACK keeps the names of the resources the refused response carried (what status on
  // the object attributes it by).
  CHECK(rds.nack_names == std::vector<std::string>{kReviewsRoute});
  // An endpoint-only change does not touch RDS: no push is queued for the proxy, and the
  // stream stays quiet.
  model::PushRequest eds;
  eds.endpoint_hosts.insert("reviews.default.svc.cluster.local");
  f.ads.OnSnapshot(testing::SnapshotFromYaml(Mesh(50, "10.0.0.3"), 3), eds);
  CHECK(f.ads.history().Recent(1)[0].version == 3);
  CHECK(f.ads.history().Recent(1)[0].proxies == 0);
  proxy.Sync();
  CHECK(StatusOf(f.ads, kRouteType).version_sent == "2");
}

TEST_CASE("SotW: a first request without node is refused", "[ads]") {
  Fixture f;
  grpc::ClientContext ctx;
  auto stream = f.stub->StreamAggregatedResources(&ctx);
  DiscoveryRequest req;
  req.set_type_url(kClusterType);
  REQUIRE(stream->Write(req));
  DiscoveryResponse resp;
  CHECK_FALSE(stream->Read(&resp));
  grpc::Status s = stream->Finish();
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("Delta: wildcard CDS, only changes sent, removals named", "[ads]") {
  Fixture f;
  grpc::ClientContext ctx;
  auto stream = f.stub->DeltaAggregatedResources(&ctx);
  DeltaDiscoveryRequest req;
  SetNode(req.mutable_node());
  req.set_type_url(kEndpointType);
  req.add_resource_names_subscribe("outbound|9080|v1|reviews.default.svc.cluster.local");
  req.add_resource_names_subscribe("outbound|9080|v2|reviews.default.svc.cluster.local");
  REQUIRE(stream->Write(req));
  DeltaDiscoveryResponse resp;
  REQUIRE(stream->Read(&resp));
  CHECK(resp.type_url() == kEndpointType);
  CHECK(resp.resources_size() == 2);
  DeltaDiscoveryRequest ack;
  ack.set_type_url(kEndpointType);
  ack.set_response_nonce(resp.nonce());
  REQUIRE(stream->Write(ack));
  // v2's endpoint moves: only v2 is sent.
  model::PushRequest eds;
  eds.endpoint_hosts.insert("reviews.default.svc.cluster.local");
  f.ads.OnSnapshot(testing::SnapshotFromYaml(Mesh(80, "10.0.0.3"), 2), eds);
  REQUIRE(stream->Read(&resp));
  REQUIRE(resp.resources_size() == 1);
  CHECK(resp.resources(0).name() == "outbound|9080|v2|reviews.default.svc.cluster.local");
  // The DestinationRule loses subset v2: its cluster is removed.
  ack.set_response_nonce(resp.nonce());
  REQUIRE(stream->Write(ack));
  std::string no_v2 = Mesh(100, "10.0.0.3");
  no_v2.replace(no_v2.find(", {name: v2, labels: {version: v2}}"),
                std::string(", {name: v2, labels: {version: v2}}").size(), "");
  no_v2.replace(no_v2.find("    - {destination: {host: reviews, subset: v2}, weight: 0}\n"),
                std::string("    - {destination: {host: reviews, subset: v2}, weight: 0}\n").size(),
                "");
  f.ads.OnSnapshot(testing::SnapshotFromYaml(no_v2, 3), Fixture::Full());
  REQUIRE(stream->Read(&resp));
  CHECK(resp.resources_size() == 0);
  REQUIRE(resp.removed_resources_size() == 1);
  CHECK(resp.removed_resources(0) == "outbound|9080|v2|reviews.default.svc.cluster.local");
  ctx.TryCancel();
}

TEST_CASE("Delta: a reconnecting client's initial_resource_versions are honoured", "[ads]") {
  Fixture f;
  const std::string v1 = "outbound|9080|v1|reviews.default.svc.cluster.local";
  const std::string v2 = "outbound|9080|v2|reviews.default.svc.cluster.local";
  // Subscribes to both subsets' endpoints on a new stream, saying what it already holds.
  auto connect = [&](const std::map<std::string, std::string>& held) {
    grpc::ClientContext ctx;
    auto stream = f.stub->DeltaAggregatedResources(&ctx);
    DeltaDiscoveryRequest req;
    SetNode(req.mutable_node());
    req.set_type_url(kEndpointType);
    req.add_resource_names_subscribe(v1);
    req.add_resource_names_subscribe(v2);
    for (const auto& [name, version] : held)
      (*req.mutable_initial_resource_versions())[name] = version;
    REQUIRE(stream->Write(req));
    DeltaDiscoveryResponse resp;
    REQUIRE(stream->Read(&resp));
    ctx.TryCancel();
    std::map<std::string, std::string> versions;
    for (const auto& r : resp.resources()) versions[r.name()] = r.version();
    return versions;
  };
  std::map<std::string, std::string> held = connect({});
  REQUIRE(held.size() == 2);
  // Holding the current versions: the first answer comes, and carries nothing.
  CHECK(connect(held).empty());
  // A version this server never sent is answered with the resource.
  CHECK(connect({{v1, held[v1]}, {v2, "not-a-version"}}) ==
        std::map<std::string, std::string>{{v2, held[v2]}});
  // v2's endpoint moves while the client is away: only v2 comes back, with a new version.
  model::PushRequest eds;
  eds.endpoint_hosts.insert("reviews.default.svc.cluster.local");
  f.ads.OnSnapshot(testing::SnapshotFromYaml(Mesh(80, "10.0.0.3"), 2), eds);
  std::map<std::string, std::string> after = connect(held);
  REQUIRE(after.size() == 1);
  REQUIRE(after.count(v2) == 1);
  CHECK(after[v2] != held[v2]);
}

TEST_CASE("Both kinds answer every known type, empty when there is nothing; reports are not",
          "[ads]") {
  // pilot-agent (and Envoy behind it) waits for a first answer to each type it asks for: NDS,
  // SDS, ECDS and a wildcard with nothing to serve included. HealthInfo is never answered.
  Fixture f;
  {
    grpc::ClientContext ctx;
    auto stream = f.stub->StreamAggregatedResources(&ctx);
    DiscoveryRequest req;
    SetNode(req.mutable_node());
    req.set_type_url(kHealthInfoType);
    REQUIRE(stream->Write(req));
    req.clear_node();
    for (const char* type : {kNameTableType, kSecretType, kExtensionConfigType}) {
      req.set_type_url(type);
      req.clear_resource_names();
      if (std::string(type) != kNameTableType) req.add_resource_names("default");
      REQUIRE(stream->Write(req));
      DiscoveryResponse resp;
      REQUIRE(stream->Read(&resp));
      CHECK(resp.type_url() == type);  // the HealthInfo before got no response
      CHECK(resp.resources_size() == 0);
      CHECK_FALSE(resp.nonce().empty());
    }
    ctx.TryCancel();
  }
  {
    grpc::ClientContext ctx;
    auto stream = f.stub->DeltaAggregatedResources(&ctx);
    DeltaDiscoveryRequest req;
    SetNode(req.mutable_node());
    req.set_type_url(kNameTableType);  // wildcard, nothing to serve to this proxy
    REQUIRE(stream->Write(req));
    DeltaDiscoveryResponse resp;
    REQUIRE(stream->Read(&resp));
    CHECK(resp.type_url() == kNameTableType);
    CHECK(resp.resources_size() == 0);
    CHECK_FALSE(resp.nonce().empty());
    ctx.TryCancel();
  }
}

TEST_CASE("ClusterID: a token caller claiming another cluster is refused, as istiod", "[ads]") {
  CHECK(AdsServer::CheckClusterId("", true, "Kubernetes").ok());
  CHECK(AdsServer::CheckClusterId("Kubernetes", true, "Kubernetes").ok());
  // Certificates carry no cluster: not checked.
  CHECK(AdsServer::CheckClusterId("east", false, "Kubernetes").ok());
  absl::Status s = AdsServer::CheckClusterId("east", true, "Kubernetes");
  CHECK(s.code() == absl::StatusCode::kUnauthenticated);
  CHECK(s.message() == "client claims to be in cluster east, but meshd serves cluster Kubernetes");
  CHECK(AdsServer(AdsServer::Options{}).cluster_id() == "Kubernetes");
  CHECK(AdsServer(AdsServer::Options{1, "west"}).cluster_id() == "west");
}

TEST_CASE("Push history: queued proxies, responses per type, ACK latency, NACK", "[ads]") {
  Fixture f;
  SotwProxy proxy(f);
  // The subscription is ACKed (and handled) before the change, so the push is all it owes.
  proxy.Reply(proxy.Subscribe(kRouteType, {kReviewsRoute}));
  model::PushRequest change = Fixture::Full();
  change.configs_updated.insert({model::Kind::kVirtualService, "default", "reviews"});
  f.ads.OnSnapshot(testing::SnapshotFromYaml(Mesh(50, "10.0.0.2"), 2), change);
  DiscoveryResponse resp = proxy.Read();
  // OnSnapshot names the targets before it returns; the response is counted before it is sent.
  PushRecord p = f.ads.history().Recent(1)[0];
  CHECK(p.version == 2);
  CHECK(p.targets_known);
  CHECK(p.proxies == 1);
  CHECK(p.pending());
  CHECK(p.responses.at("rds") == 1);
  CHECK(p.trigger.configs == std::vector<std::string>{"VirtualService/default/reviews"});
  proxy.Reply(resp);
  p = f.ads.history().Recent(1)[0];
  CHECK(p.version == 2);
  CHECK_FALSE(p.pending());
  CHECK(p.acked == 1);
  CHECK(p.max > absl::ZeroDuration());
  // The next change is NACKed: counted as such, no latency.
  f.ads.OnSnapshot(testing::SnapshotFromYaml(Mesh(20, "10.0.0.2"), 3), Fixture::Full());
  proxy.Reply(proxy.Read(), "bad route");
  p = f.ads.history().Recent(1)[0];
  CHECK(p.version == 3);
  CHECK_FALSE(p.pending());
  CHECK(p.nacked == 1);
  CHECK(p.acked == 0);
  // A change the proxy does not subscribe to queues nobody.
  model::PushRequest other;
  other.endpoint_hosts.insert("ratings.default.svc.cluster.local");
  f.ads.OnSnapshot(testing::SnapshotFromYaml(Mesh(20, "10.0.0.2"), 4), other);
  auto last = f.ads.history().Recent(1)[0];
  CHECK(last.version == 4);
  CHECK(last.proxies == 0);
  CHECK_FALSE(last.pending());
}

}  // namespace
}  // namespace meshd::xds

namespace meshd::xds {
namespace {

TEST_CASE("SotW EDS is incremental: an endpoint change sends only the changed CLA, as istiod",
          "[ads]") {
  Fixture f;
  grpc::ClientContext ctx;
  auto stream = f.stub->StreamAggregatedResources(&ctx);
  DiscoveryRequest req;
  SetNode(req.mutable_node());
  req.set_type_url(kEndpointType);
  req.add_resource_names("outbound|9080|v1|reviews.default.svc.cluster.local");
  req.add_resource_names("outbound|9080|v2|reviews.default.svc.cluster.local");
  REQUIRE(stream->Write(req));
  DiscoveryResponse resp;
  REQUIRE(stream->Read(&resp));
  REQUIRE(resp.type_url() == kEndpointType);
  CHECK(resp.resources_size() == 2);  // the first answer holds every subscribed name
  req.clear_node();
  req.set_version_info(resp.version_info());
  req.set_response_nonce(resp.nonce());
  REQUIRE(stream->Write(req));
  // v2's endpoint moves: only its ClusterLoadAssignment is sent; Envoy and gRPC keep v1's.
  model::PushRequest eds;
  eds.endpoint_hosts.insert("reviews.default.svc.cluster.local");
  f.ads.OnSnapshot(testing::SnapshotFromYaml(Mesh(80, "10.0.0.3"), 2), eds);
  REQUIRE(stream->Read(&resp));
  CHECK(resp.version_info() == "2");
  REQUIRE(resp.resources_size() == 1);
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  REQUIRE(resp.resources(0).UnpackTo(&cla));
  CHECK(cla.cluster_name() == "outbound|9080|v2|reviews.default.svc.cluster.local");
  REQUIRE(cla.endpoints_size() == 1);
  REQUIRE(cla.endpoints(0).lb_endpoints_size() == 1);
  CHECK(cla.endpoints(0).lb_endpoints(0).endpoint().address().socket_address().address() ==
        "10.0.0.3");
  // A changed subscription is answered in full again.
  req.set_version_info(resp.version_info());
  req.set_response_nonce(resp.nonce());
  req.add_resource_names("outbound|9080||reviews.default.svc.cluster.local");
  REQUIRE(stream->Write(req));
  REQUIRE(stream->Read(&resp));
  CHECK(resp.resources_size() == 3);
  ctx.TryCancel();
}

}  // namespace
}  // namespace meshd::xds

namespace meshd::xds {
namespace {

TEST_CASE("istio.io/debug/syncz over ADS: one ClientConfig per proxy, bookkeeping untouched",
          "[ads][debugz]") {
  Fixture f;
  SotwProxy proxy(f);
  proxy.Reply(proxy.Subscribe(kRouteType, {kReviewsRoute}));
  REQUIRE(StatusOf(f.ads, kRouteType).version_acked == "1");

  // istioctl's request, on a stream of its own.
  grpc::ClientContext dctx;
  // Without the syncz answer, the Read below fails at the deadline instead of hanging.
  dctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto debug = f.stub->StreamAggregatedResources(&dctx);
  DiscoveryRequest sreq;
  sreq.mutable_node()->set_id("istioctl~0.0.0.0~istioctl.default~default.svc.cluster.local");
  sreq.set_type_url(kSynczType);
  REQUIRE(debug->Write(sreq));
  DiscoveryResponse sresp;
  REQUIRE(debug->Read(&sresp));
  CHECK(sresp.type_url() == kSynczType);
  REQUIRE(sresp.resources_size() == 1);  // the proxy, not the asking stream
  envoy::service::status::v3::ClientConfig cc;
  REQUIRE(sresp.resources(0).UnpackTo(&cc));
  CHECK(cc.node().id() == "sidecar~10.0.0.9~client.default~default.svc.cluster.local");
  REQUIRE(cc.generic_xds_configs_size() == 1);
  CHECK(cc.generic_xds_configs(0).type_url() == kRouteType);
  CHECK(cc.generic_xds_configs(0).config_status() == envoy::service::status::v3::SYNCED);
  // The ACK of the syncz response is not answered, and the debug stream tracks no type.
  sreq.clear_node();
  sreq.set_response_nonce(sresp.nonce());
  REQUIRE(debug->Write(sreq));
  dctx.TryCancel();
  size_t istioctl_streams = 0;
  for (const auto& c : f.ads.Status()) {
    if (c.proxy_id.rfind("istioctl~", 0) != 0) continue;
    istioctl_streams++;
    CHECK(c.types.empty());
  }
  CHECK(istioctl_streams <= 1);
  CHECK(StatusOf(f.ads, kRouteType).version_acked == "1");  // the proxy's bookkeeping is unchanged

  // A NACK shows as ERROR with the proxy's message.
  f.ads.OnSnapshot(testing::SnapshotFromYaml(Mesh(50, "10.0.0.2"), 2), Fixture::Full());
  proxy.Reply(proxy.Read(), "bad route");
  auto r = SynczResponse(f.ads.Status(), 0, "n");
  bool error = false;
  for (const auto& any : r.resources()) {
    envoy::service::status::v3::ClientConfig c;
    REQUIRE(any.UnpackTo(&c));
    for (const auto& x : c.generic_xds_configs()) {
      if (x.type_url() != kRouteType) continue;
      CHECK(x.config_status() == envoy::service::status::v3::ERROR);
      error = x.error_state().details() == "bad route";
    }
  }
  CHECK(error);
}

}  // namespace
}  // namespace meshd::xds

namespace meshd::xds {
namespace {

// Waits until no response is queued or in flight on any stream (their bytes are back in the
// write budget).
bool BudgetDrained(AdsServer& ads) {
  for (int i = 0; i < 400; ++i) {
    if (ads.write_budget().used() == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

TEST_CASE("istio.io/debug/syncz over Delta: the same ClientConfigs as State of the World",
          "[ads][debugz]") {
  Fixture f;
  // A proxy on a SotW stream (RDS, ACKed) and one on a Delta stream (EDS, not ACKed).
  grpc::ClientContext sotw_ctx;
  auto sotw = f.stub->StreamAggregatedResources(&sotw_ctx);
  DiscoveryRequest req;
  SetNode(req.mutable_node());
  req.set_type_url(kRouteType);
  req.add_resource_names("outbound|9080||reviews.default.svc.cluster.local");
  REQUIRE(sotw->Write(req));
  DiscoveryResponse resp;
  REQUIRE(sotw->Read(&resp));
  req.clear_node();
  req.set_version_info(resp.version_info());
  req.set_response_nonce(resp.nonce());
  REQUIRE(sotw->Write(req));
  grpc::ClientContext delta_ctx;
  auto delta = f.stub->DeltaAggregatedResources(&delta_ctx);
  DeltaDiscoveryRequest dreq;
  SetNode(dreq.mutable_node());
  dreq.mutable_node()->set_id("sidecar~10.0.0.8~other.default~default.svc.cluster.local");
  dreq.set_type_url(kEndpointType);
  dreq.add_resource_names_subscribe("outbound|9080|v1|reviews.default.svc.cluster.local");
  REQUIRE(delta->Write(dreq));
  DeltaDiscoveryResponse dresp;
  REQUIRE(delta->Read(&dresp));
  auto settled = [&f] {
    bool rds_acked = false, eds_sent = false;
    for (const auto& c : f.ads.Status()) {
      for (const auto& t : c.types) {
        rds_acked = rds_acked || (t.type_url == kRouteType && t.version_acked == "1");
        eds_sent = eds_sent || (t.type_url == kEndpointType && t.version_sent == "1");
      }
    }
    return rds_acked && eds_sent;
  };
  for (int i = 0; i < 200 && !settled(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(settled());

  // istioctl's request over Delta, on a stream of its own.
  DeltaDiscoveryResponse synced;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto debug = f.stub->DeltaAggregatedResources(&ctx);
    DeltaDiscoveryRequest sreq;
    sreq.mutable_node()->set_id("istioctl~0.0.0.0~istioctl.default~default.svc.cluster.local");
    sreq.set_type_url(kSynczType);
    REQUIRE(debug->Write(sreq));
    REQUIRE(debug->Read(&synced));
    // Its ACK is not answered, and the debug stream tracks no type.
    DeltaDiscoveryRequest ack;
    ack.set_type_url(kSynczType);
    ack.set_response_nonce(synced.nonce());
    REQUIRE(debug->Write(ack));
    for (const auto& c : f.ads.Status()) {
      if (c.proxy_id.rfind("istioctl~", 0) == 0) CHECK(c.types.empty());
    }
    ctx.TryCancel();
  }
  CHECK(synced.type_url() == kSynczType);
  CHECK_FALSE(synced.nonce().empty());
  REQUIRE(synced.resources_size() == 2);  // both proxies, not the asking stream
  std::map<std::string, envoy::service::status::v3::ClientConfig> by_name;
  for (const auto& r : synced.resources()) {
    envoy::service::status::v3::ClientConfig cc;
    REQUIRE(r.resource().UnpackTo(&cc));
    CHECK(r.name() == cc.node().id());
    CHECK_FALSE(r.version().empty());
    by_name[r.name()] = cc;
  }
  const auto& rds = by_name["sidecar~10.0.0.9~client.default~default.svc.cluster.local"];
  REQUIRE(rds.generic_xds_configs_size() == 1);
  CHECK(rds.generic_xds_configs(0).type_url() == kRouteType);
  CHECK(rds.generic_xds_configs(0).config_status() == envoy::service::status::v3::SYNCED);
  const auto& eds = by_name["sidecar~10.0.0.8~other.default~default.svc.cluster.local"];
  REQUIRE(eds.generic_xds_configs_size() == 1);
  CHECK(eds.generic_xds_configs(0).type_url() == kEndpointType);
  CHECK(eds.generic_xds_configs(0).config_status() == envoy::service::status::v3::STALE);

  // The SotW answer, once the Delta debug stream is gone, carries the same ClientConfigs.
  for (int i = 0; i < 400 && f.ads.connections() != 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(f.ads.connections() == 2);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto debug = f.stub->StreamAggregatedResources(&ctx);
  DiscoveryRequest sreq;
  sreq.mutable_node()->set_id("istioctl~0.0.0.0~istioctl.default~default.svc.cluster.local");
  sreq.set_type_url(kSynczType);
  REQUIRE(debug->Write(sreq));
  DiscoveryResponse sotw_synced;
  REQUIRE(debug->Read(&sotw_synced));
  REQUIRE(sotw_synced.resources_size() == synced.resources_size());
  for (int i = 0; i < sotw_synced.resources_size(); ++i) {
    envoy::service::status::v3::ClientConfig cc;
    REQUIRE(sotw_synced.resources(i).UnpackTo(&cc));
    REQUIRE(by_name.count(cc.node().id()) == 1);
    CHECK(by_name[cc.node().id()].SerializeAsString() == cc.SerializeAsString());
  }
  ctx.TryCancel();
  sotw_ctx.TryCancel();
  delta_ctx.TryCancel();
}

TEST_CASE(
    "Write budget: every response's bytes are counted while queued and released once "
    "written",
    "[ads][write_budget]") {
  Fixture f;
  CHECK(f.ads.write_budget().used() == 0);
  grpc::ClientContext ctx;
  auto stream = f.stub->DeltaAggregatedResources(&ctx);
  DeltaDiscoveryRequest req;
  SetNode(req.mutable_node());
  req.set_type_url(kEndpointType);
  req.add_resource_names_subscribe("outbound|9080|v2|reviews.default.svc.cluster.local");
  REQUIRE(stream->Write(req));
  DeltaDiscoveryResponse resp;
  REQUIRE(stream->Read(&resp));
  req.clear_node();
  req.set_type_url(kClusterType);  // wildcard: every cluster
  req.clear_resource_names_subscribe();
  REQUIRE(stream->Write(req));
  REQUIRE(stream->Read(&resp));
  REQUIRE(BudgetDrained(f.ads));
  CHECK(f.ads.write_budget().peak() >= static_cast<int64_t>(resp.ByteSizeLong()));
  // Changes while nothing is read: responses queue (a newer EDS merges into an unsent one),
  // and all of their bytes come back once the client reads them.
  for (int v = 2; v < 6; ++v) {
    model::PushRequest eds;
    eds.endpoint_hosts.insert("reviews.default.svc.cluster.local");
    f.ads.OnSnapshot(
        testing::SnapshotFromYaml(Mesh(80, "10.0.0." + std::to_string(v % 2 ? 3 : 4)), v), eds);
  }
  do {
    REQUIRE(stream->Read(&resp));
  } while (resp.system_version_info() != "5");
  CHECK(BudgetDrained(f.ads));
  // A change queued for a client that goes away is released with the stream.
  model::PushRequest eds;
  eds.endpoint_hosts.insert("reviews.default.svc.cluster.local");
  f.ads.OnSnapshot(testing::SnapshotFromYaml(Mesh(80, "10.0.0.7"), 6), eds);
  ctx.TryCancel();
  CHECK(BudgetDrained(f.ads));
}

}  // namespace
}  // namespace meshd::xds
