#include "controller/config/to_model.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace meshd::config {
namespace {

namespace net = istio::networking::v1alpha3;

absl::Duration ToDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

template <typename Message>
std::optional<absl::Duration> OptDuration(bool has, const Message& d) {
  if (!has) return std::nullopt;
  return ToDuration(d);
}

model::StringMatch ToMatch(const net::StringMatch& m) {
  model::StringMatch out;
  switch (m.match_type_case()) {
    case net::StringMatch::kExact:
      out.type = model::StringMatch::Type::kExact;
      out.value = m.exact();
      break;
    case net::StringMatch::kPrefix:
      out.type = model::StringMatch::Type::kPrefix;
      out.value = m.prefix();
      break;
    case net::StringMatch::kRegex:
      out.type = model::StringMatch::Type::kRegex;
      out.value = m.regex();
      break;
    default:
      break;
  }
  return out;
}

std::vector<model::NamedMatch> ToNamed(
    const google::protobuf::Map<std::string, net::StringMatch>& in, bool lower) {
  std::vector<model::NamedMatch> out;
  for (const auto& [name, m] : in) {
    out.push_back({lower ? absl::AsciiStrToLower(name) : name, ToMatch(m)});
  }
  std::sort(out.begin(), out.end(),
            [](const model::NamedMatch& a, const model::NamedMatch& b) { return a.name < b.name; });
  return out;
}

template <typename MapT>
std::vector<std::pair<std::string, std::string>> SortedPairs(const MapT& in) {
  std::vector<std::pair<std::string, std::string>> out(in.begin(), in.end());
  std::sort(out.begin(), out.end());
  return out;
}

model::HeaderOperations ToOps(const net::Headers::HeaderOperations& ops) {
  model::HeaderOperations out;
  out.set = SortedPairs(ops.set());
  out.add = SortedPairs(ops.add());
  out.remove.assign(ops.remove().begin(), ops.remove().end());
  return out;
}

model::HeaderRules ToHeaders(const net::Headers& h) {
  return {ToOps(h.request()), ToOps(h.response())};
}

model::Destination ToDestination(const net::Destination& d) {
  return {d.host(), d.subset(), d.has_port() ? d.port().number() : 0};
}

double ToPercent(bool has, const net::Percent& p, int legacy) {
  if (has) return p.value();
  if (legacy > 0) return legacy;
  return 100;  // Istio: an unset percentage means every request
}

model::HttpMatch ToHttpMatch(const net::HTTPMatchRequest& m) {
  model::HttpMatch out;
  out.name = m.name();
  if (m.has_uri()) out.uri = ToMatch(m.uri());
  if (m.has_scheme()) out.scheme = ToMatch(m.scheme());
  if (m.has_method()) out.method = ToMatch(m.method());
  if (m.has_authority()) out.authority = ToMatch(m.authority());
  out.headers = ToNamed(m.headers(), true);
  out.without_headers = ToNamed(m.without_headers(), true);
  out.query_params = ToNamed(m.query_params(), false);
  out.port = m.port();
  out.source_labels.insert(m.source_labels().begin(), m.source_labels().end());
  out.gateways.assign(m.gateways().begin(), m.gateways().end());
  out.source_namespace = m.source_namespace();
  out.ignore_uri_case = m.ignore_uri_case();
  return out;
}

template <typename RouteDest>
std::vector<model::WeightedDestination> ToDestinations(
    const google::protobuf::RepeatedPtrField<RouteDest>& in) {
  std::vector<model::WeightedDestination> out;
  for (const auto& d : in) {
    model::WeightedDestination wd;
    wd.destination = ToDestination(d.destination());
    wd.weight = in.size() == 1 ? 100 : static_cast<uint32_t>(std::max(0, d.weight()));
    if constexpr (std::is_same_v<RouteDest, net::HTTPRouteDestination>) {
      if (d.has_headers()) wd.headers = ToHeaders(d.headers());
    }
    out.push_back(std::move(wd));
  }
  return out;
}

model::HttpRoute ToHttpRoute(const net::HTTPRoute& r) {
  model::HttpRoute out;
  out.name = r.name();
  for (const auto& m : r.match()) out.matches.push_back(ToHttpMatch(m));
  out.destinations = ToDestinations(r.route());
  if (r.has_redirect()) {
    const auto& rd = r.redirect();
    model::Redirect redirect;
    redirect.uri = rd.uri();
    redirect.authority = rd.authority();
    redirect.scheme = rd.scheme();
    redirect.port = rd.redirect_port_case() == net::HTTPRedirect::kPort ? rd.port() : 0;
    redirect.port_from_request = rd.redirect_port_case() == net::HTTPRedirect::kDerivePort &&
                                 rd.derive_port() == net::HTTPRedirect::FROM_REQUEST_PORT;
    redirect.code = rd.redirect_code() == 0 ? 301 : rd.redirect_code();
    out.redirect = std::move(redirect);
  }
  if (r.has_direct_response()) {
    const auto& dr = r.direct_response();
    model::DirectResponse direct{dr.status(), ""};
    if (dr.has_body()) {
      direct.body = dr.body().specifier_case() == net::HTTPBody::kBytes ? dr.body().bytes()
                                                                        : dr.body().string();
    }
    out.direct_response = std::move(direct);
  }
  if (r.has_delegate())
    out.delegate = model::Delegate{r.delegate().name(), r.delegate().namespace_()};
  if (r.has_rewrite()) {
    const auto& rw = r.rewrite();
    out.rewrite = model::Rewrite{rw.uri(), rw.authority(), rw.uri_regex_rewrite().match(),
                                 rw.uri_regex_rewrite().rewrite()};
  }
  if (r.has_timeout()) out.timeout = ToDuration(r.timeout());
  if (r.has_retries()) {
    const auto& rt = r.retries();
    model::Retry retry;
    retry.attempts = static_cast<uint32_t>(std::max(0, rt.attempts()));
    retry.per_try_timeout = OptDuration(rt.has_per_try_timeout(), rt.per_try_timeout());
    retry.retry_on = rt.retry_on();
    if (rt.has_retry_remote_localities()) {
      retry.retry_remote_localities = rt.retry_remote_localities().value();
    }
    out.retries = std::move(retry);
  }
  if (r.has_fault()) {
    model::Fault fault;
    if (r.fault().has_delay()) {
      const auto& d = r.fault().delay();
      fault.delay = model::FaultDelay{
          ToDuration(d.has_fixed_delay() ? d.fixed_delay() : d.exponential_delay()),
          ToPercent(d.has_percentage(), d.percentage(), d.percent())};
    }
    if (r.fault().has_abort()) {
      const auto& a = r.fault().abort();
      model::FaultAbort abort;
      if (a.error_type_case() == net::HTTPFaultInjection::Abort::kGrpcStatus) {
        abort.grpc_status = a.grpc_status();
      } else {
        abort.http_status = static_cast<uint32_t>(std::max(0, a.http_status()));
      }
      abort.percent = ToPercent(a.has_percentage(), a.percentage(), 0);
      fault.abort = std::move(abort);
    }
    out.fault = std::move(fault);
  }
  if (r.has_mirror()) {
    double percent = r.has_mirror_percentage() ? r.mirror_percentage().value()
                     : r.has_mirror_percent()  ? r.mirror_percent().value()
                                               : 100;
    out.mirrors.push_back({ToDestination(r.mirror()), percent});
  }
  for (const auto& m : r.mirrors()) {
    out.mirrors.push_back(
        {ToDestination(m.destination()), m.has_percentage() ? m.percentage().value() : 100});
  }
  if (r.has_cors_policy()) {
    const auto& c = r.cors_policy();
    model::Cors cors;
    for (const auto& o : c.allow_origin()) {
      cors.allow_origins.push_back({model::StringMatch::Type::kExact, o});
    }
    for (const auto& o : c.allow_origins()) cors.allow_origins.push_back(ToMatch(o));
    cors.allow_methods.assign(c.allow_methods().begin(), c.allow_methods().end());
    cors.allow_headers.assign(c.allow_headers().begin(), c.allow_headers().end());
    cors.expose_headers.assign(c.expose_headers().begin(), c.expose_headers().end());
    cors.max_age = OptDuration(c.has_max_age(), c.max_age());
    if (c.has_allow_credentials()) cors.allow_credentials = c.allow_credentials().value();
    out.cors = std::move(cors);
  }
  if (r.has_headers()) out.headers = ToHeaders(r.headers());
  return out;
}

template <typename Attributes>
model::L4Match ToL4Match(const Attributes& m) {
  model::L4Match out;
  out.destination_subnets.assign(m.destination_subnets().begin(), m.destination_subnets().end());
  out.port = m.port();
  out.source_labels.insert(m.source_labels().begin(), m.source_labels().end());
  out.gateways.assign(m.gateways().begin(), m.gateways().end());
  out.source_namespace = m.source_namespace();
  if constexpr (std::is_same_v<Attributes, net::TLSMatchAttributes>) {
    out.sni_hosts.assign(m.sni_hosts().begin(), m.sni_hosts().end());
  }
  return out;
}

template <typename Route>
model::L4Route ToL4Route(const Route& r) {
  model::L4Route out;
  for (const auto& m : r.match()) out.matches.push_back(ToL4Match(m));
  out.destinations = ToDestinations(r.route());
  return out;
}

model::LoadBalancer ToLoadBalancer(const net::LoadBalancerSettings& lb) {
  model::LoadBalancer out;
  if (lb.lb_policy_case() == net::LoadBalancerSettings::kSimple) {
    switch (lb.simple()) {
      case net::LoadBalancerSettings::LEAST_CONN:
      case net::LoadBalancerSettings::LEAST_REQUEST:
        out.simple = model::LoadBalancer::Simple::kLeastRequest;
        break;
      case net::LoadBalancerSettings::RANDOM:
        out.simple = model::LoadBalancer::Simple::kRandom;
        break;
      case net::LoadBalancerSettings::PASSTHROUGH:
        out.simple = model::LoadBalancer::Simple::kPassthrough;
        break;
      case net::LoadBalancerSettings::ROUND_ROBIN:
        out.simple = model::LoadBalancer::Simple::kRoundRobin;
        break;
      default:
        break;
    }
  } else if (lb.has_consistent_hash()) {
    const auto& ch = lb.consistent_hash();
    model::ConsistentHash hash;
    switch (ch.hash_key_case()) {
      case net::LoadBalancerSettings::ConsistentHashLB::kHttpHeaderName:
        hash.key = model::ConsistentHash::Key::kHeader;
        hash.name = ch.http_header_name();
        break;
      case net::LoadBalancerSettings::ConsistentHashLB::kHttpCookie:
        hash.key = model::ConsistentHash::Key::kCookie;
        hash.name = ch.http_cookie().name();
        hash.cookie_path = ch.http_cookie().path();
        hash.cookie_ttl = OptDuration(ch.http_cookie().has_ttl(), ch.http_cookie().ttl());
        break;
      case net::LoadBalancerSettings::ConsistentHashLB::kUseSourceIp:
        hash.key = model::ConsistentHash::Key::kSourceIp;
        break;
      case net::LoadBalancerSettings::ConsistentHashLB::kHttpQueryParameterName:
        hash.key = model::ConsistentHash::Key::kQueryParameter;
        hash.name = ch.http_query_parameter_name();
        break;
      default:
        break;
    }
    hash.maglev = ch.has_maglev();
    hash.maglev_table_size = ch.maglev().table_size();
    hash.minimum_ring_size =
        ch.has_ring_hash() ? ch.ring_hash().minimum_ring_size() : ch.minimum_ring_size();
    out.consistent_hash = std::move(hash);
  }
  if (lb.has_locality_lb_setting()) {
    const auto& l = lb.locality_lb_setting();
    model::LocalityLb locality;
    for (const auto& d : l.distribute()) {
      std::vector<std::pair<std::string, uint32_t>> to(d.to().begin(), d.to().end());
      std::sort(to.begin(), to.end());
      locality.distribute.push_back({d.from(), std::move(to)});
    }
    for (const auto& f : l.failover()) locality.failover.push_back({f.from(), f.to()});
    locality.failover_priority.assign(l.failover_priority().begin(), l.failover_priority().end());
    if (l.has_enabled()) locality.enabled = l.enabled().value();
    out.locality = std::move(locality);
  }
  if (lb.has_warmup()) {
    out.warmup = ToDuration(lb.warmup().duration());
  } else if (lb.has_warmup_duration_secs()) {
    out.warmup = ToDuration(lb.warmup_duration_secs());
  }
  return out;
}

uint32_t NonNegative(int32_t v) { return static_cast<uint32_t>(std::max(0, v)); }

model::ConnectionPool ToConnectionPool(const net::ConnectionPoolSettings& cp) {
  model::ConnectionPool out;
  if (cp.has_tcp()) {
    const auto& t = cp.tcp();
    model::ConnectionPool::Tcp tcp;
    tcp.max_connections = NonNegative(t.max_connections());
    tcp.connect_timeout = OptDuration(t.has_connect_timeout(), t.connect_timeout());
    tcp.idle_timeout = OptDuration(t.has_idle_timeout(), t.idle_timeout());
    tcp.max_connection_duration =
        OptDuration(t.has_max_connection_duration(), t.max_connection_duration());
    tcp.keepalive = t.has_tcp_keepalive();
    tcp.keepalive_probes = t.tcp_keepalive().probes();
    tcp.keepalive_time = OptDuration(t.tcp_keepalive().has_time(), t.tcp_keepalive().time());
    tcp.keepalive_interval =
        OptDuration(t.tcp_keepalive().has_interval(), t.tcp_keepalive().interval());
    out.tcp = std::move(tcp);
  }
  if (cp.has_http()) {
    const auto& h = cp.http();
    model::ConnectionPool::Http http;
    http.http1_max_pending_requests = NonNegative(h.http1_max_pending_requests());
    http.http2_max_requests = NonNegative(h.http2_max_requests());
    http.max_requests_per_connection = NonNegative(h.max_requests_per_connection());
    http.max_retries = NonNegative(h.max_retries());
    http.idle_timeout = OptDuration(h.has_idle_timeout(), h.idle_timeout());
    switch (h.h2_upgrade_policy()) {
      case net::ConnectionPoolSettings::HTTPSettings::UPGRADE:
        http.h2_upgrade = model::ConnectionPool::Http::H2Upgrade::kUpgrade;
        break;
      case net::ConnectionPoolSettings::HTTPSettings::DO_NOT_UPGRADE:
        http.h2_upgrade = model::ConnectionPool::Http::H2Upgrade::kDoNotUpgrade;
        break;
      default:
        break;
    }
    http.use_client_protocol = h.use_client_protocol();
    http.max_concurrent_streams = NonNegative(h.max_concurrent_streams());
    out.http = std::move(http);
  }
  return out;
}

model::OutlierDetection ToOutlier(const net::OutlierDetection& od) {
  model::OutlierDetection out;
  if (od.has_consecutive_5xx_errors()) {
    out.consecutive_5xx = od.consecutive_5xx_errors().value();
    out.consecutive_5xx_set = true;
  } else if (od.consecutive_errors() > 0) {
    out.consecutive_5xx = static_cast<uint32_t>(od.consecutive_errors());
    out.consecutive_5xx_set = true;
  }
  if (od.has_consecutive_gateway_errors()) {
    out.consecutive_gateway_errors = od.consecutive_gateway_errors().value();
  }
  if (od.has_consecutive_local_origin_failures()) {
    out.consecutive_local_origin_failures = od.consecutive_local_origin_failures().value();
  }
  out.split_external_local_origin_errors = od.split_external_local_origin_errors();
  out.interval = OptDuration(od.has_interval(), od.interval());
  out.base_ejection_time = OptDuration(od.has_base_ejection_time(), od.base_ejection_time());
  out.max_ejection_percent = NonNegative(od.max_ejection_percent());
  out.min_health_percent = od.min_health_percent();
  return out;
}

model::ClientTls ToTls(const net::ClientTLSSettings& t) {
  model::ClientTls out;
  switch (t.mode()) {
    case net::ClientTLSSettings::SIMPLE:
      out.mode = model::ClientTls::Mode::kSimple;
      break;
    case net::ClientTLSSettings::MUTUAL:
      out.mode = model::ClientTls::Mode::kMutual;
      break;
    case net::ClientTLSSettings::ISTIO_MUTUAL:
      out.mode = model::ClientTls::Mode::kIstioMutual;
      break;
    default:
      break;
  }
  out.client_certificate = t.client_certificate();
  out.private_key = t.private_key();
  out.ca_certificates = t.ca_certificates();
  out.credential_name = t.credential_name();
  out.subject_alt_names.assign(t.subject_alt_names().begin(), t.subject_alt_names().end());
  out.sni = t.sni();
  out.insecure_skip_verify = t.has_insecure_skip_verify() && t.insecure_skip_verify().value();
  out.ca_crl = t.ca_crl();
  return out;
}

template <typename Section>
model::PolicySections ToSections(const Section& s) {
  model::PolicySections out;
  if (s.has_load_balancer()) out.load_balancer = ToLoadBalancer(s.load_balancer());
  if (s.has_connection_pool()) out.connection_pool = ToConnectionPool(s.connection_pool());
  if (s.has_outlier_detection()) out.outlier_detection = ToOutlier(s.outlier_detection());
  if (s.has_tls()) out.tls = ToTls(s.tls());
  return out;
}

model::TrafficPolicy ToTrafficPolicy(const net::TrafficPolicy& tp) {
  model::TrafficPolicy out;
  static_cast<model::PolicySections&>(out) = ToSections(tp);
  for (const auto& pl : tp.port_level_settings()) {
    out.port_level.emplace_back(pl.port().number(), ToSections(pl));
  }
  return out;
}

}  // namespace

model::VirtualService ToModel(const net::VirtualService& spec) {
  model::VirtualService out;
  out.hosts.assign(spec.hosts().begin(), spec.hosts().end());
  out.gateways.assign(spec.gateways().begin(), spec.gateways().end());
  for (const auto& r : spec.http()) out.http.push_back(ToHttpRoute(r));
  for (const auto& r : spec.tls()) out.tls.push_back(ToL4Route(r));
  for (const auto& r : spec.tcp()) out.tcp.push_back(ToL4Route(r));
  out.export_to.assign(spec.export_to().begin(), spec.export_to().end());
  return out;
}

model::DestinationRule ToModel(const net::DestinationRule& spec) {
  model::DestinationRule out;
  out.host = spec.host();
  if (spec.has_traffic_policy()) out.traffic_policy = ToTrafficPolicy(spec.traffic_policy());
  for (const auto& s : spec.subsets()) {
    model::Subset subset;
    subset.name = s.name();
    subset.labels.insert(s.labels().begin(), s.labels().end());
    if (s.has_traffic_policy()) subset.traffic_policy = ToTrafficPolicy(s.traffic_policy());
    out.subsets.push_back(std::move(subset));
  }
  out.export_to.assign(spec.export_to().begin(), spec.export_to().end());
  if (spec.has_workload_selector()) {
    out.workload_selector.emplace(spec.workload_selector().labels().begin(),
                                  spec.workload_selector().labels().end());
  }
  return out;
}

namespace {

// Istio's protocol names are case-insensitive (istiod's protocol.Parse): "http" is HTTP.
model::Port ToPort(const net::Port& p) {
  return {p.number(), absl::AsciiStrToUpper(p.protocol()), p.name(), p.target_port()};
}

model::ServerTls ToServerTls(const net::ServerTLSSettings& t) {
  model::ServerTls out;
  out.https_redirect = t.https_redirect();
  switch (t.mode()) {
    case net::ServerTLSSettings::SIMPLE:
      out.mode = model::ServerTls::Mode::kSimple;
      break;
    case net::ServerTLSSettings::MUTUAL:
      out.mode = model::ServerTls::Mode::kMutual;
      break;
    case net::ServerTLSSettings::AUTO_PASSTHROUGH:
      out.mode = model::ServerTls::Mode::kAutoPassthrough;
      break;
    case net::ServerTLSSettings::ISTIO_MUTUAL:
      out.mode = model::ServerTls::Mode::kIstioMutual;
      break;
    case net::ServerTLSSettings::OPTIONAL_MUTUAL:
      out.mode = model::ServerTls::Mode::kOptionalMutual;
      break;
    default:
      out.mode = model::ServerTls::Mode::kPassthrough;
      break;
  }
  out.server_certificate = t.server_certificate();
  out.private_key = t.private_key();
  out.ca_certificates = t.ca_certificates();
  out.credential_name = t.credential_name();
  return out;
}

model::CaptureMode ToCaptureMode(net::CaptureMode m) {
  switch (m) {
    case net::IPTABLES:
      return model::CaptureMode::kIptables;
    case net::NONE:
      return model::CaptureMode::kNone;
    default:
      return model::CaptureMode::kDefault;
  }
}

model::Resolution ToResolution(net::ServiceEntry::Resolution r) {
  switch (r) {
    case net::ServiceEntry::STATIC:
      return model::Resolution::kStatic;
    case net::ServiceEntry::DNS:
      return model::Resolution::kDns;
    case net::ServiceEntry::DNS_ROUND_ROBIN:
      return model::Resolution::kDnsRoundRobin;
    default:
      return model::Resolution::kNone;
  }
}

}  // namespace

model::Gateway ToModel(const net::Gateway& spec) {
  model::Gateway out;
  for (const auto& s : spec.servers()) {
    model::GatewayServer server;
    server.port = ToPort(s.port());
    server.bind = s.bind();
    server.hosts.assign(s.hosts().begin(), s.hosts().end());
    if (s.has_tls()) server.tls = ToServerTls(s.tls());
    server.name = s.name();
    out.servers.push_back(std::move(server));
  }
  out.selector.insert(spec.selector().begin(), spec.selector().end());
  return out;
}

model::WorkloadEntry ToModel(const net::WorkloadEntry& spec) {
  model::WorkloadEntry out;
  out.address = spec.address();
  out.ports.insert(spec.ports().begin(), spec.ports().end());
  out.labels.insert(spec.labels().begin(), spec.labels().end());
  out.network = spec.network();
  out.locality = spec.locality();
  out.weight = spec.weight();
  out.service_account = spec.service_account();
  return out;
}

model::ServiceEntry ToModel(const net::ServiceEntry& spec) {
  model::ServiceEntry out;
  out.hosts.assign(spec.hosts().begin(), spec.hosts().end());
  out.addresses.assign(spec.addresses().begin(), spec.addresses().end());
  for (const auto& p : spec.ports()) {
    out.ports.push_back(
        {p.number(), absl::AsciiStrToUpper(p.protocol()), p.name(), p.target_port()});
  }
  out.location = spec.location() == net::ServiceEntry::MESH_INTERNAL
                     ? model::ServiceEntry::Location::kMeshInternal
                     : model::ServiceEntry::Location::kMeshExternal;
  out.resolution = ToResolution(spec.resolution());
  for (const auto& e : spec.endpoints()) out.endpoints.push_back(ToModel(e));
  if (spec.has_workload_selector()) {
    out.workload_selector.emplace(spec.workload_selector().labels().begin(),
                                  spec.workload_selector().labels().end());
  }
  out.export_to.assign(spec.export_to().begin(), spec.export_to().end());
  out.subject_alt_names.assign(spec.subject_alt_names().begin(), spec.subject_alt_names().end());
  return out;
}

model::Sidecar ToModel(const net::Sidecar& spec) {
  model::Sidecar out;
  if (spec.has_workload_selector()) {
    out.workload_selector.emplace(spec.workload_selector().labels().begin(),
                                  spec.workload_selector().labels().end());
  }
  for (const auto& i : spec.ingress()) {
    model::SidecarIngressListener l;
    if (i.has_port()) l.port = ToPort(i.port());
    l.bind = i.bind();
    l.capture_mode = ToCaptureMode(i.capture_mode());
    l.default_endpoint = i.default_endpoint();
    if (i.has_tls()) l.tls = ToServerTls(i.tls());
    out.ingress.push_back(std::move(l));
  }
  for (const auto& e : spec.egress()) {
    model::SidecarEgressListener l;
    if (e.has_port()) l.port = ToPort(e.port());
    l.bind = e.bind();
    l.capture_mode = ToCaptureMode(e.capture_mode());
    for (const auto& h : e.hosts()) {
      // Validation requires "<namespace>/<host>".
      std::vector<std::string> parts = absl::StrSplit(h, absl::MaxSplits('/', 1));
      if (parts.size() != 2) continue;
      l.hosts.push_back({parts[0], parts[1]});
    }
    out.egress.push_back(std::move(l));
  }
  if (spec.has_outbound_traffic_policy()) {
    out.outbound_traffic_policy =
        spec.outbound_traffic_policy().mode() == net::OutboundTrafficPolicy::ALLOW_ANY
            ? model::Sidecar::OutboundMode::kAllowAny
            : model::Sidecar::OutboundMode::kRegistryOnly;
  }
  return out;
}

namespace {

namespace sec = istio::security::v1beta1;

template <typename Repeated>
std::vector<std::string> Strings(const Repeated& in) {
  return std::vector<std::string>(in.begin(), in.end());
}

template <typename Repeated>
std::vector<uint32_t> Ports(const Repeated& in) {
  std::vector<uint32_t> out;
  for (const std::string& s : in) {
    uint32_t port = 0;
    if (absl::SimpleAtoi(s, &port)) out.push_back(port);  // validated: always a number
  }
  return out;
}

model::PolicyTargetRef ToTargetRef(const istio::type::v1beta1::PolicyTargetReference& r) {
  return {r.group(), r.kind(), r.name(), r.namespace_()};
}

template <typename Spec>
void ToScope(const Spec& spec, std::optional<std::map<std::string, std::string>>* selector,
             std::vector<model::PolicyTargetRef>* refs) {
  if (spec.has_selector()) {
    *selector = std::map<std::string, std::string>(spec.selector().match_labels().begin(),
                                                   spec.selector().match_labels().end());
  }
  if (spec.has_target_ref()) refs->push_back(ToTargetRef(spec.target_ref()));
  for (const auto& r : spec.target_refs()) refs->push_back(ToTargetRef(r));
}

}  // namespace

model::AuthorizationPolicy ToModel(const sec::AuthorizationPolicy& spec) {
  model::AuthorizationPolicy out;
  switch (spec.action()) {
    case sec::AuthorizationPolicy::DENY:
      out.action = model::AuthorizationPolicy::Action::kDeny;
      break;
    case sec::AuthorizationPolicy::AUDIT:
      out.action = model::AuthorizationPolicy::Action::kAudit;
      break;
    case sec::AuthorizationPolicy::CUSTOM:
      out.action = model::AuthorizationPolicy::Action::kCustom;
      break;
    default:
      out.action = model::AuthorizationPolicy::Action::kAllow;
      break;
  }
  ToScope(spec, &out.selector, &out.target_refs);
  if (spec.has_provider()) out.provider = spec.provider().name();
  for (const sec::Rule& r : spec.rules()) {
    model::AuthzRule rule;
    for (const auto& f : r.from()) {
      const sec::Source& s = f.source();
      model::AuthzSource src;
      src.principals = Strings(s.principals());
      src.not_principals = Strings(s.not_principals());
      src.request_principals = Strings(s.request_principals());
      src.not_request_principals = Strings(s.not_request_principals());
      src.namespaces = Strings(s.namespaces());
      src.not_namespaces = Strings(s.not_namespaces());
      src.ip_blocks = Strings(s.ip_blocks());
      src.not_ip_blocks = Strings(s.not_ip_blocks());
      src.remote_ip_blocks = Strings(s.remote_ip_blocks());
      src.not_remote_ip_blocks = Strings(s.not_remote_ip_blocks());
      rule.from.push_back(std::move(src));
    }
    for (const auto& t : r.to()) {
      const sec::Operation& o = t.operation();
      model::AuthzOperation op;
      op.hosts = Strings(o.hosts());
      op.not_hosts = Strings(o.not_hosts());
      op.ports = Ports(o.ports());
      op.not_ports = Ports(o.not_ports());
      op.methods = Strings(o.methods());
      op.not_methods = Strings(o.not_methods());
      op.paths = Strings(o.paths());
      op.not_paths = Strings(o.not_paths());
      rule.to.push_back(std::move(op));
    }
    for (const auto& c : r.when()) {
      rule.when.push_back({c.key(), Strings(c.values()), Strings(c.not_values())});
    }
    out.rules.push_back(std::move(rule));
  }
  return out;
}

model::RequestAuthentication ToModel(const sec::RequestAuthentication& spec) {
  model::RequestAuthentication out;
  ToScope(spec, &out.selector, &out.target_refs);
  for (const sec::JWTRule& r : spec.jwt_rules()) {
    model::JwtRule rule;
    rule.issuer = r.issuer();
    rule.audiences = Strings(r.audiences());
    rule.jwks_uri = r.jwks_uri();
    rule.jwks = r.jwks();
    for (const auto& h : r.from_headers()) rule.from_headers.push_back({h.name(), h.prefix()});
    rule.from_params = Strings(r.from_params());
    rule.from_cookies = Strings(r.from_cookies());
    rule.output_payload_to_header = r.output_payload_to_header();
    rule.forward_original_token = r.forward_original_token();
    for (const auto& c : r.output_claim_to_headers()) {
      rule.output_claim_to_headers.emplace_back(c.header(), c.claim());
    }
    if (r.has_timeout()) rule.timeout = ToDuration(r.timeout());
    out.jwt_rules.push_back(std::move(rule));
  }
  return out;
}

namespace {

model::PeerAuthentication::Mode ToMtlsMode(sec::PeerAuthentication::MutualTLS::Mode m) {
  switch (m) {
    case sec::PeerAuthentication::MutualTLS::DISABLE:
      return model::PeerAuthentication::Mode::kDisable;
    case sec::PeerAuthentication::MutualTLS::PERMISSIVE:
      return model::PeerAuthentication::Mode::kPermissive;
    case sec::PeerAuthentication::MutualTLS::STRICT:
      return model::PeerAuthentication::Mode::kStrict;
    default:
      return model::PeerAuthentication::Mode::kUnset;
  }
}

template <typename T>
model::ConfigModel ModelOf(const google::protobuf::Message& spec) {
  if (const T* typed = model::MessageAs<T>(&spec)) return ToModel(*typed);
  return std::monostate();
}

}  // namespace

model::PeerAuthentication ToModel(const sec::PeerAuthentication& spec) {
  model::PeerAuthentication out;
  if (spec.has_selector()) {
    out.selector.emplace(spec.selector().match_labels().begin(),
                         spec.selector().match_labels().end());
  }
  if (spec.has_mtls()) out.mode = ToMtlsMode(spec.mtls().mode());
  for (const auto& [port, m] : spec.port_level_mtls()) {
    out.port_level_mtls[port] = ToMtlsMode(m.mode());
  }
  return out;
}

model::ConfigModel ToModel(model::Kind kind, const google::protobuf::Message& spec) {
  using model::Kind;
  switch (kind) {
    case Kind::kVirtualService:
      return ModelOf<net::VirtualService>(spec);
    case Kind::kDestinationRule:
      return ModelOf<net::DestinationRule>(spec);
    case Kind::kGateway:
      return ModelOf<net::Gateway>(spec);
    case Kind::kServiceEntry:
      return ModelOf<net::ServiceEntry>(spec);
    case Kind::kWorkloadEntry:
      return ModelOf<net::WorkloadEntry>(spec);
    case Kind::kSidecar:
      return ModelOf<net::Sidecar>(spec);
    case Kind::kPeerAuthentication:
      return ModelOf<sec::PeerAuthentication>(spec);
    case Kind::kAuthorizationPolicy:
      return ModelOf<sec::AuthorizationPolicy>(spec);
    case Kind::kRequestAuthentication:
      return ModelOf<sec::RequestAuthentication>(spec);
    default:
      return std::monostate();
  }
}

}  // namespace meshd::config
