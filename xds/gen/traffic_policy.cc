#include "xds/gen/traffic_policy.h"

#include "controller/common/grpc_codes.h"

namespace meshd::xds {
namespace {

namespace net = istio::networking::v1alpha3;

void Overlay(const net::TrafficPolicy& tp, uint32_t port, TrafficPolicy* out) {
  if (tp.has_load_balancer()) out->load_balancer = &tp.load_balancer();
  if (tp.has_connection_pool()) out->connection_pool = &tp.connection_pool();
  if (tp.has_outlier_detection()) out->outlier_detection = &tp.outlier_detection();
  if (tp.has_tls()) out->tls = &tp.tls();
  for (const auto& pl : tp.port_level_settings()) {
    if (pl.port().number() != port) continue;
    if (pl.has_load_balancer()) out->load_balancer = &pl.load_balancer();
    if (pl.has_connection_pool()) out->connection_pool = &pl.connection_pool();
    if (pl.has_outlier_detection()) out->outlier_detection = &pl.outlier_detection();
    if (pl.has_tls()) out->tls = &pl.tls();
  }
}

const net::DestinationRule* RuleFor(const model::Snapshot& snapshot, const model::Proxy& proxy,
                                    const std::string& host) {
  model::ConfigPtr dr = snapshot.DestinationRuleFor(host, proxy.ns);
  return dr == nullptr ? nullptr : &dr->Spec<net::DestinationRule>();
}

google::protobuf::Duration Copy(const google::protobuf::Duration& d) { return d; }

}  // namespace

TrafficPolicy EffectivePolicy(const model::Snapshot& snapshot, const model::Proxy& proxy,
                              const std::string& host, uint32_t port, const std::string& subset) {
  TrafficPolicy out;
  const net::DestinationRule* dr = RuleFor(snapshot, proxy, host);
  if (dr == nullptr) return out;
  Overlay(dr->traffic_policy(), port, &out);
  if (!subset.empty()) {
    for (const auto& s : dr->subsets()) {
      if (s.name() == subset && s.has_traffic_policy()) Overlay(s.traffic_policy(), port, &out);
    }
  }
  return out;
}

std::vector<std::string> SubsetNames(const model::Snapshot& snapshot, const model::Proxy& proxy,
                                     const std::string& host) {
  std::vector<std::string> out;
  if (const net::DestinationRule* dr = RuleFor(snapshot, proxy, host)) {
    for (const auto& s : dr->subsets()) out.push_back(s.name());
  }
  return out;
}

bool SubsetSelector(const model::Snapshot& snapshot, const model::Proxy& proxy,
                    const std::string& host, const std::string& subset,
                    std::map<std::string, std::string>* labels) {
  const net::DestinationRule* dr = RuleFor(snapshot, proxy, host);
  if (dr == nullptr) return false;
  for (const auto& s : dr->subsets()) {
    if (s.name() != subset) continue;
    labels->insert(s.labels().begin(), s.labels().end());
    return true;
  }
  return false;
}

void ApplyTrafficPolicy(const TrafficPolicy& policy, envoy::config::cluster::v3::Cluster* cluster) {
  using envoy::config::cluster::v3::Cluster;
  // gRPC clients implement ROUND_ROBIN and RING_HASH; LEAST_REQUEST, LEAST_CONN and RANDOM
  // fall back to ROUND_ROBIN (the C++ client NACKs other policies).
  cluster->set_lb_policy(Cluster::ROUND_ROBIN);
  if (policy.load_balancer != nullptr && policy.load_balancer->has_consistent_hash()) {
    const auto& ch = policy.load_balancer->consistent_hash();
    cluster->set_lb_policy(Cluster::RING_HASH);
    uint64_t min_ring =
        ch.has_ring_hash() ? ch.ring_hash().minimum_ring_size() : ch.minimum_ring_size();
    if (min_ring == 0) min_ring = 1024;
    min_ring = std::min<uint64_t>(min_ring, 8388608);  // both clients' upper bound
    cluster->mutable_ring_hash_lb_config()->mutable_minimum_ring_size()->set_value(min_ring);
  }
  if (policy.connection_pool != nullptr) {
    const auto& cp = *policy.connection_pool;
    auto* t = cluster->mutable_circuit_breakers()->add_thresholds();
    t->set_priority(envoy::config::core::v3::DEFAULT);
    if (cp.http().http2_max_requests() > 0) {
      t->mutable_max_requests()->set_value(cp.http().http2_max_requests());
    }
    if (cp.tcp().max_connections() > 0) {
      t->mutable_max_connections()->set_value(cp.tcp().max_connections());
    }
    if (cp.http().http1_max_pending_requests() > 0) {
      t->mutable_max_pending_requests()->set_value(cp.http().http1_max_pending_requests());
    }
    if (cp.http().max_retries() > 0) t->mutable_max_retries()->set_value(cp.http().max_retries());
    if (cp.tcp().has_connect_timeout()) {
      *cluster->mutable_connect_timeout() = Copy(cp.tcp().connect_timeout());
    }
  }
  if (policy.outlier_detection != nullptr) {
    const auto& od = *policy.outlier_detection;
    auto* out = cluster->mutable_outlier_detection();
    uint32_t consecutive = od.has_consecutive_5xx_errors()
                               ? od.consecutive_5xx_errors().value()
                               : static_cast<uint32_t>(od.consecutive_errors());
    if (consecutive > 0) {
      out->mutable_consecutive_5xx()->set_value(consecutive);
      out->mutable_enforcing_consecutive_5xx()->set_value(100);
    } else {
      out->mutable_enforcing_consecutive_5xx()->set_value(0);
    }
    if (od.has_consecutive_gateway_errors()) {
      out->mutable_consecutive_gateway_failure()->set_value(
          od.consecutive_gateway_errors().value());
      out->mutable_enforcing_consecutive_gateway_failure()->set_value(100);
    }
    if (od.has_interval()) *out->mutable_interval() = Copy(od.interval());
    if (od.has_base_ejection_time())
      *out->mutable_base_ejection_time() = Copy(od.base_ejection_time());
    if (od.max_ejection_percent() > 0) {
      out->mutable_max_ejection_percent()->set_value(od.max_ejection_percent());
    }
    // As Istio does: success-rate ejection stays off unless asked for.
    out->mutable_enforcing_success_rate()->set_value(0);
  }
}

uint32_t GrpcStatusCode(const std::string& name) {
  int code = GrpcCodeFromName(name);
  return code < 0 ? 2 : static_cast<uint32_t>(code);
}

}  // namespace meshd::xds
