#include "xds/gen/traffic_policy.h"

#include "controller/common/grpc_codes.h"

namespace meshd::xds {
namespace {

void Overlay(const model::PolicySections& p, TrafficPolicy* out) {
  if (p.load_balancer) out->load_balancer = &*p.load_balancer;
  if (p.connection_pool) out->connection_pool = &*p.connection_pool;
  if (p.outlier_detection) out->outlier_detection = &*p.outlier_detection;
  if (p.tls) out->tls = &*p.tls;
}

void Overlay(const model::TrafficPolicy& tp, uint32_t port, TrafficPolicy* out) {
  Overlay(static_cast<const model::PolicySections&>(tp), out);
  for (const auto& [number, sections] : tp.port_level) {
    if (number == port) Overlay(sections, out);
  }
}

const model::DestinationRule* RuleFor(const model::Snapshot& snapshot, const model::Proxy& proxy,
                                      const std::string& host) {
  model::ConfigPtr dr = snapshot.DestinationRuleFor(host, proxy.ns, &proxy.labels);
  return dr == nullptr ? nullptr : dr->AsDestinationRule();
}

google::protobuf::Duration ToProto(absl::Duration d) {
  google::protobuf::Duration out;
  int64_t nanos = absl::ToInt64Nanoseconds(d);
  out.set_seconds(nanos / 1000000000);
  out.set_nanos(static_cast<int32_t>(nanos % 1000000000));
  return out;
}

}  // namespace

TrafficPolicy EffectivePolicy(const model::Snapshot& snapshot, const model::Proxy& proxy,
                              const std::string& host, uint32_t port, const std::string& subset) {
  TrafficPolicy out;
  const model::DestinationRule* dr = RuleFor(snapshot, proxy, host);
  if (dr == nullptr) return out;
  if (dr->traffic_policy) Overlay(*dr->traffic_policy, port, &out);
  if (!subset.empty()) {
    const model::Subset* s = dr->FindSubset(subset);
    if (s != nullptr && s->traffic_policy) Overlay(*s->traffic_policy, port, &out);
  }
  return out;
}

Origins DestinationOrigins(const model::Snapshot& snapshot, const model::Proxy& proxy,
                           const std::string& host) {
  OriginSet origins;
  origins.Add(snapshot.DestinationRuleFor(host, proxy.ns, &proxy.labels));
  origins.AddServiceOrigin(snapshot.FindService(host));
  return origins.Build();
}

std::vector<std::string> SubsetNames(const model::Snapshot& snapshot, const model::Proxy& proxy,
                                     const std::string& host) {
  std::vector<std::string> out;
  if (const model::DestinationRule* dr = RuleFor(snapshot, proxy, host)) {
    for (const auto& s : dr->subsets) out.push_back(s.name);
  }
  return out;
}

bool SubsetSelector(const model::Snapshot& snapshot, const model::Proxy& proxy,
                    const std::string& host, const std::string& subset,
                    std::map<std::string, std::string>* labels) {
  const model::DestinationRule* dr = RuleFor(snapshot, proxy, host);
  if (dr == nullptr) return false;
  const model::Subset* s = dr->FindSubset(subset);
  if (s == nullptr) return false;
  labels->insert(s->labels.begin(), s->labels.end());
  return true;
}

google::protobuf::Duration DurationProto(absl::Duration d) { return ToProto(d); }

envoy::type::v3::FractionalPercent PerMillion(double percent) {
  envoy::type::v3::FractionalPercent out;
  out.set_numerator(static_cast<uint32_t>(percent * 10000 + 0.5));
  out.set_denominator(envoy::type::v3::FractionalPercent::MILLION);
  return out;
}

envoy::extensions::filters::http::fault::v3::HTTPFault BuildFault(const model::Fault& f) {
  envoy::extensions::filters::http::fault::v3::HTTPFault fault;
  if (f.delay) {
    *fault.mutable_delay()->mutable_fixed_delay() = ToProto(f.delay->fixed);
    *fault.mutable_delay()->mutable_percentage() = PerMillion(f.delay->percent);
  }
  if (f.abort) {
    auto* abort = fault.mutable_abort();
    if (!f.abort->grpc_status.empty()) {
      abort->set_grpc_status(GrpcStatusCode(f.abort->grpc_status));
    } else {
      abort->set_http_status(f.abort->http_status);
    }
    *abort->mutable_percentage() = PerMillion(f.abort->percent);
  }
  return fault;
}

uint32_t DestinationPort(const model::Destination& d, const model::Service* svc, uint32_t port) {
  if (d.port != 0) return d.port;
  if (svc != nullptr && svc->FindPort(port) != nullptr) return port;
  if (svc != nullptr && svc->ports.size() == 1) return svc->ports[0].number;
  return port;
}

void ApplyTrafficPolicy(const TrafficPolicy& policy, envoy::config::cluster::v3::Cluster* cluster) {
  using envoy::config::cluster::v3::Cluster;
  // gRPC clients implement ROUND_ROBIN and RING_HASH; LEAST_REQUEST, LEAST_CONN and RANDOM
  // fall back to ROUND_ROBIN (the C++ client NACKs other policies).
  cluster->set_lb_policy(Cluster::ROUND_ROBIN);
  if (policy.load_balancer != nullptr && policy.load_balancer->consistent_hash) {
    const model::ConsistentHash& ch = *policy.load_balancer->consistent_hash;
    cluster->set_lb_policy(Cluster::RING_HASH);
    uint64_t min_ring = ch.minimum_ring_size == 0 ? 1024 : ch.minimum_ring_size;
    min_ring = std::min<uint64_t>(min_ring, 8388608);  // both clients' upper bound
    cluster->mutable_ring_hash_lb_config()->mutable_minimum_ring_size()->set_value(min_ring);
  }
  ApplyConnectionPool(policy.connection_pool, cluster);
  ApplyOutlierDetection(policy.outlier_detection, cluster);
}

void ApplyConnectionPool(const model::ConnectionPool* pool,
                         envoy::config::cluster::v3::Cluster* cluster) {
  if (pool == nullptr) return;
  auto* t = cluster->mutable_circuit_breakers()->add_thresholds();
  t->set_priority(envoy::config::core::v3::DEFAULT);
  if (pool->http) {
    const auto& h = *pool->http;
    if (h.http2_max_requests > 0) t->mutable_max_requests()->set_value(h.http2_max_requests);
    if (h.http1_max_pending_requests > 0) {
      t->mutable_max_pending_requests()->set_value(h.http1_max_pending_requests);
    }
    if (h.max_retries > 0) t->mutable_max_retries()->set_value(h.max_retries);
  }
  if (pool->tcp) {
    const auto& tcp = *pool->tcp;
    if (tcp.max_connections > 0) t->mutable_max_connections()->set_value(tcp.max_connections);
    if (tcp.connect_timeout) *cluster->mutable_connect_timeout() = ToProto(*tcp.connect_timeout);
  }
}

void ApplyOutlierDetection(const model::OutlierDetection* od,
                           envoy::config::cluster::v3::Cluster* cluster) {
  if (od == nullptr) return;
  auto* out = cluster->mutable_outlier_detection();
  if (od->consecutive_5xx > 0) {
    out->mutable_consecutive_5xx()->set_value(od->consecutive_5xx);
    out->mutable_enforcing_consecutive_5xx()->set_value(100);
  } else {
    out->mutable_enforcing_consecutive_5xx()->set_value(0);
  }
  if (od->consecutive_gateway_errors) {
    out->mutable_consecutive_gateway_failure()->set_value(*od->consecutive_gateway_errors);
    out->mutable_enforcing_consecutive_gateway_failure()->set_value(100);
  }
  if (od->interval) *out->mutable_interval() = ToProto(*od->interval);
  if (od->base_ejection_time) *out->mutable_base_ejection_time() = ToProto(*od->base_ejection_time);
  if (od->max_ejection_percent > 0) {
    out->mutable_max_ejection_percent()->set_value(od->max_ejection_percent);
  }
  // As Istio does: success-rate ejection stays off unless asked for.
  out->mutable_enforcing_success_rate()->set_value(0);
}

uint32_t GrpcStatusCode(const std::string& name) {
  int code = GrpcCodeFromName(name);
  return code < 0 ? 2 : static_cast<uint32_t>(code);
}

}  // namespace meshd::xds
