#include "controller/config/validate.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "controller/common/grpc_codes.h"
#include "controller/config/decoder.h"
#include "google/protobuf/duration.pb.h"
#include "istio/extensions/v1alpha1/wasm.pb.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/envoy_filter.pb.h"
#include "istio/networking/v1alpha3/gateway.pb.h"
#include "istio/networking/v1alpha3/service_entry.pb.h"
#include "istio/networking/v1alpha3/sidecar.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "istio/networking/v1alpha3/workload_group.pb.h"
#include "istio/networking/v1beta1/proxy_config.pb.h"
#include "istio/security/v1beta1/security.pb.h"
#include "istio/telemetry/v1alpha1/telemetry.pb.h"
#include "nlohmann/json.hpp"
#include "re2/re2.h"

namespace meshd::config {
namespace {

namespace net = istio::networking::v1alpha3;
namespace sec = istio::security::v1beta1;
using model::Kind;

std::string P(const std::string& parent, absl::string_view child) {
  return JoinPath(parent, child);
}
std::string I(const std::string& parent, size_t i) { return IndexPath(parent, i); }

int64_t Nanos(const google::protobuf::Duration& d) { return d.seconds() * 1000000000 + d.nanos(); }

// Istio requires durations of at least 1ms.
void CheckDuration(const google::protobuf::Duration& d, const std::string& path,
                   FieldErrors* errors) {
  if (Nanos(d) < 1000000) errors->Add(path, "duration must be at least 1ms");
}

void CheckPercent(double v, const std::string& path, FieldErrors* errors) {
  if (v < 0 || v > 100) errors->Add(path, absl::StrCat("percentage ", v, " must be in [0, 100]"));
}

void CheckPort(uint32_t port, const std::string& path, FieldErrors* errors) {
  if (port == 0 || port > 65535) {
    errors->Add(path, absl::StrCat("port number ", port, " must be in [1, 65535]"));
  }
}

void CheckHost(const std::string& host, const std::string& path, FieldErrors* errors) {
  if (host.empty()) {
    errors->Add(path, "host must not be empty");
  } else if (!IsValidHost(host)) {
    errors->Add(path, absl::StrCat("\"", host, "\" is not a valid host name"));
  }
}

void CheckLabels(const google::protobuf::Map<std::string, std::string>& labels,
                 const std::string& path, FieldErrors* errors) {
  static const re2::RE2 kKey(
      R"(([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)");
  static const re2::RE2 kValue(R"(([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)");
  for (const auto& [k, v] : labels) {
    if (!re2::RE2::FullMatch(k, kKey)) {
      errors->Add(KeyPath(path, k), absl::StrCat("\"", k, "\" is not a valid label key"));
    }
    if (!re2::RE2::FullMatch(v, kValue)) {
      errors->Add(KeyPath(path, k), absl::StrCat("\"", v, "\" is not a valid label value"));
    }
  }
}

void CheckStringMatch(const net::StringMatch& m, const std::string& path, FieldErrors* errors) {
  switch (m.match_type_case()) {
    case net::StringMatch::MATCH_TYPE_NOT_SET:
      errors->Add(path, "one of exact, prefix or regex is required");
      break;
    case net::StringMatch::kRegex: {
      re2::RE2 re(m.regex(), re2::RE2::Quiet);
      if (!re.ok()) {
        errors->Add(P(path, "regex"),
                    absl::StrCat("\"", m.regex(), "\" is not a valid RE2 regex: ", re.error()));
      }
      break;
    }
    default:
      break;
  }
}

const std::set<std::string>& RetryOnPolicies() {
  static const auto* s = new std::set<std::string>{"5xx",
                                                   "gateway-error",
                                                   "reset",
                                                   "reset-before-request",
                                                   "connect-failure",
                                                   "envoy-ratelimited",
                                                   "retriable-4xx",
                                                   "refused-stream",
                                                   "retriable-status-codes",
                                                   "retriable-headers",
                                                   "http3-post-connect-failure",
                                                   "cancelled",
                                                   "deadline-exceeded",
                                                   "internal",
                                                   "resource-exhausted",
                                                   "unavailable"};
  return *s;
}

void CheckDestination(const net::Destination& d, const std::string& path, FieldErrors* errors) {
  if (d.host().empty()) {
    errors->Add(P(path, "host"), "required field is missing");
  } else if (absl::StrContains(d.host(), '*')) {
    errors->Add(P(path, "host"), "a destination host must not be a wildcard");
  } else {
    CheckHost(d.host(), P(path, "host"), errors);
  }
  if (!d.subset().empty() && !IsDns1123Label(d.subset())) {
    errors->Add(P(path, "subset"), absl::StrCat("\"", d.subset(), "\" is not a valid subset name"));
  }
  if (d.has_port() && d.port().number() > 65535) {
    errors->Add(P(path, "port.number"), "port number must be in [1, 65535]");
  }
}

void ValidateHttpRoute(const net::HTTPRoute& r, const std::string& path, FieldErrors* errors) {
  int actions =
      (r.route_size() > 0) + r.has_redirect() + r.has_direct_response() + r.has_delegate();
  if (actions == 0) {
    errors->Add(path, "one of route, redirect, directResponse or delegate is required");
  } else if (actions > 1) {
    errors->Add(path, "only one of route, redirect, directResponse or delegate may be set");
  }
  for (int i = 0; i < r.match_size(); ++i) {
    const auto& m = r.match(i);
    std::string mp = I(P(path, "match"), i);
    if (m.has_uri()) CheckStringMatch(m.uri(), P(mp, "uri"), errors);
    if (m.has_scheme()) CheckStringMatch(m.scheme(), P(mp, "scheme"), errors);
    if (m.has_method()) CheckStringMatch(m.method(), P(mp, "method"), errors);
    if (m.has_authority()) CheckStringMatch(m.authority(), P(mp, "authority"), errors);
    for (const auto* headers : {&m.headers(), &m.without_headers()}) {
      const char* field = headers == &m.headers() ? "headers" : "withoutHeaders";
      for (const auto& [name, sm] : *headers) {
        std::string hp = KeyPath(P(mp, field), name);
        if (name.empty() || name != absl::AsciiStrToLower(name)) {
          errors->Add(hp, "header name must be non-empty and lower case");
        }
        // An empty match on a header means "present", as in Istio.
        if (sm.match_type_case() == net::StringMatch::kRegex) CheckStringMatch(sm, hp, errors);
      }
    }
    for (const auto& [name, sm] : m.query_params()) {
      if (sm.match_type_case() == net::StringMatch::kRegex) {
        CheckStringMatch(sm, KeyPath(P(mp, "queryParams"), name), errors);
      }
    }
    if (m.port() > 65535) errors->Add(P(mp, "port"), "port number must be in [1, 65535]");
    CheckLabels(m.source_labels(), P(mp, "sourceLabels"), errors);
  }
  for (int i = 0; i < r.route_size(); ++i) {
    const auto& d = r.route(i);
    std::string dp = I(P(path, "route"), i);
    if (!d.has_destination()) {
      errors->Add(P(dp, "destination"), "required field is missing");
    } else {
      CheckDestination(d.destination(), P(dp, "destination"), errors);
    }
    if (d.weight() < 0) errors->Add(P(dp, "weight"), "weight must not be negative");
  }
  if (r.route_size() > 1) {
    int64_t total = 0;
    for (const auto& d : r.route()) total += d.weight();
    if (total == 0) {
      errors->Add(P(path, "route"), "weights of more than one destination must not all be 0");
    }
  }
  if (r.has_timeout() && Nanos(r.timeout()) < 0) {
    errors->Add(P(path, "timeout"), "timeout must not be negative");
  }
  if (r.has_retries()) {
    const auto& rt = r.retries();
    std::string rp = P(path, "retries");
    if (rt.attempts() < 0) errors->Add(P(rp, "attempts"), "attempts must not be negative");
    if (rt.has_per_try_timeout())
      CheckDuration(rt.per_try_timeout(), P(rp, "perTryTimeout"), errors);
    if (!rt.retry_on().empty()) {
      for (absl::string_view policy : absl::StrSplit(rt.retry_on(), ',')) {
        policy = absl::StripAsciiWhitespace(policy);
        int status;
        if (RetryOnPolicies().count(std::string(policy)) == 0 &&
            !absl::SimpleAtoi(policy, &status)) {
          errors->Add(P(rp, "retryOn"), absl::StrCat("unknown retry policy \"", policy, "\""));
        }
      }
    }
  }
  if (r.has_fault()) {
    std::string fp = P(path, "fault");
    const auto& f = r.fault();
    if (!f.has_delay() && !f.has_abort()) errors->Add(fp, "one of delay or abort is required");
    if (f.has_delay()) {
      const auto& d = f.delay();
      std::string dp = P(fp, "delay");
      if (d.has_fixed_delay()) {
        CheckDuration(d.fixed_delay(), P(dp, "fixedDelay"), errors);
      } else if (d.has_exponential_delay()) {
        errors->Add(P(dp, "exponentialDelay"), "exponentialDelay is not supported");
      } else {
        errors->Add(dp, "fixedDelay is required");
      }
      if (d.percent() < 0 || d.percent() > 100) {
        errors->Add(P(dp, "percent"), "percent must be in [0, 100]");
      }
      if (d.has_percentage())
        CheckPercent(d.percentage().value(), P(dp, "percentage.value"), errors);
    }
    if (f.has_abort()) {
      const auto& a = f.abort();
      std::string ap = P(fp, "abort");
      switch (a.error_type_case()) {
        case net::HTTPFaultInjection::Abort::kHttpStatus:
          if (a.http_status() < 200 || a.http_status() > 599) {
            errors->Add(P(ap, "httpStatus"), "HTTP status must be in [200, 599]");
          }
          break;
        case net::HTTPFaultInjection::Abort::kGrpcStatus:
          if (GrpcCodeFromName(a.grpc_status()) < 0) {
            errors->Add(P(ap, "grpcStatus"),
                        absl::StrCat("\"", a.grpc_status(), "\" is not a gRPC status code name"));
          }
          break;
        case net::HTTPFaultInjection::Abort::kHttp2Error:
          errors->Add(P(ap, "http2Error"), "http2Error is not supported");
          break;
        default:
          errors->Add(ap, "one of httpStatus or grpcStatus is required");
      }
      if (a.has_percentage())
        CheckPercent(a.percentage().value(), P(ap, "percentage.value"), errors);
    }
  }
  if (r.has_mirror()) CheckDestination(r.mirror(), P(path, "mirror"), errors);
  if (r.has_mirror_percentage()) {
    CheckPercent(r.mirror_percentage().value(), P(path, "mirrorPercentage.value"), errors);
  }
  if (r.has_redirect() && r.redirect().redirect_code() != 0) {
    uint32_t c = r.redirect().redirect_code();
    if (c != 301 && c != 302 && c != 303 && c != 307 && c != 308) {
      errors->Add(P(path, "redirect.redirectCode"),
                  "redirect code must be 301, 302, 303, 307 or 308");
    }
  }
  if (r.has_rewrite() && r.rewrite().has_uri_regex_rewrite()) {
    re2::RE2 re(r.rewrite().uri_regex_rewrite().match(), re2::RE2::Quiet);
    if (!re.ok()) {
      errors->Add(P(path, "rewrite.uriRegexRewrite.match"),
                  absl::StrCat("invalid RE2 regex: ", re.error()));
    }
  }
}

void ValidateVirtualService(const net::VirtualService& vs, const std::string& path,
                            FieldErrors* errors) {
  if (vs.hosts().empty()) errors->Add(P(path, "hosts"), "at least one host is required");
  for (int i = 0; i < vs.hosts_size(); ++i) CheckHost(vs.hosts(i), I(P(path, "hosts"), i), errors);
  if (vs.http().empty() && vs.tcp().empty() && vs.tls().empty()) {
    errors->Add(path, "at least one of http, tcp or tls routes is required");
  }
  std::set<std::string> names;
  for (int i = 0; i < vs.http_size(); ++i) {
    std::string rp = I(P(path, "http"), i);
    ValidateHttpRoute(vs.http(i), rp, errors);
    if (!vs.http(i).name().empty() && !names.insert(vs.http(i).name()).second) {
      errors->Add(P(rp, "name"),
                  absl::StrCat("route name \"", vs.http(i).name(), "\" is not unique"));
    }
  }
  for (int i = 0; i < vs.tcp_size(); ++i) {
    for (int j = 0; j < vs.tcp(i).route_size(); ++j) {
      CheckDestination(vs.tcp(i).route(j).destination(),
                       P(I(P(I(P(path, "tcp"), i), "route"), j), "destination"), errors);
    }
  }
  for (int i = 0; i < vs.tls_size(); ++i) {
    if (vs.tls(i).match().empty()) {
      errors->Add(P(I(P(path, "tls"), i), "match"), "at least one match is required");
    }
    for (int j = 0; j < vs.tls(i).route_size(); ++j) {
      CheckDestination(vs.tls(i).route(j).destination(),
                       P(I(P(I(P(path, "tls"), i), "route"), j), "destination"), errors);
    }
  }
}

void ValidateTrafficPolicy(const net::TrafficPolicy& tp, const std::string& path, bool top,
                           FieldErrors* errors);

void ValidateLoadBalancer(const net::LoadBalancerSettings& lb, const std::string& path,
                          FieldErrors* errors) {
  if (lb.has_consistent_hash()) {
    const auto& ch = lb.consistent_hash();
    std::string cp = P(path, "consistentHash");
    if (ch.hash_key_case() == net::LoadBalancerSettings::ConsistentHashLB::HASH_KEY_NOT_SET) {
      errors->Add(cp,
                  "one of httpHeaderName, httpCookie, useSourceIp or "
                  "httpQueryParameterName is required");
    }
    if (ch.has_http_cookie() && ch.http_cookie().name().empty()) {
      errors->Add(P(cp, "httpCookie.name"), "required field is missing");
    }
  }
}

void ValidateTrafficPolicy(const net::TrafficPolicy& tp, const std::string& path, bool top,
                           FieldErrors* errors) {
  if (tp.has_load_balancer())
    ValidateLoadBalancer(tp.load_balancer(), P(path, "loadBalancer"), errors);
  if (tp.has_outlier_detection()) {
    const auto& od = tp.outlier_detection();
    std::string op = P(path, "outlierDetection");
    if (od.consecutive_errors() < 0)
      errors->Add(P(op, "consecutiveErrors"), "must not be negative");
    if (od.has_interval()) CheckDuration(od.interval(), P(op, "interval"), errors);
    if (od.has_base_ejection_time())
      CheckDuration(od.base_ejection_time(), P(op, "baseEjectionTime"), errors);
    if (od.max_ejection_percent() < 0 || od.max_ejection_percent() > 100) {
      errors->Add(P(op, "maxEjectionPercent"), "must be in [0, 100]");
    }
    if (od.min_health_percent() < 0 || od.min_health_percent() > 100) {
      errors->Add(P(op, "minHealthPercent"), "must be in [0, 100]");
    }
  }
  if (tp.has_connection_pool()) {
    const auto& cp = tp.connection_pool();
    std::string pp = P(path, "connectionPool");
    if (cp.tcp().max_connections() < 0)
      errors->Add(P(pp, "tcp.maxConnections"), "must not be negative");
    if (cp.tcp().has_connect_timeout())
      CheckDuration(cp.tcp().connect_timeout(), P(pp, "tcp.connectTimeout"), errors);
    const auto& h = cp.http();
    if (h.http1_max_pending_requests() < 0)
      errors->Add(P(pp, "http.http1MaxPendingRequests"), "must not be negative");
    if (h.http2_max_requests() < 0)
      errors->Add(P(pp, "http.http2MaxRequests"), "must not be negative");
    if (h.max_requests_per_connection() < 0)
      errors->Add(P(pp, "http.maxRequestsPerConnection"), "must not be negative");
    if (h.max_retries() < 0) errors->Add(P(pp, "http.maxRetries"), "must not be negative");
    if (h.max_concurrent_streams() < 0)
      errors->Add(P(pp, "http.maxConcurrentStreams"), "must not be negative");
  }
  if (tp.has_tls()) {
    const auto& tls = tp.tls();
    if (tls.mode() == net::ClientTLSSettings::MUTUAL && tls.credential_name().empty() &&
        (tls.client_certificate().empty() || tls.private_key().empty())) {
      errors->Add(P(path, "tls"),
                  "MUTUAL mode requires credentialName or clientCertificate and privateKey");
    }
  }
  if (!top && tp.port_level_settings_size() > 0) {
    // Istio allows portLevelSettings in subsets too; nothing extra to check here.
  }
  std::set<uint32_t> ports;
  for (int i = 0; i < tp.port_level_settings_size(); ++i) {
    const auto& pl = tp.port_level_settings(i);
    std::string pp = I(P(path, "portLevelSettings"), i);
    if (!pl.has_port() || pl.port().number() == 0) {
      errors->Add(P(pp, "port"), "port number is required");
      continue;
    }
    CheckPort(pl.port().number(), P(pp, "port.number"), errors);
    if (!ports.insert(pl.port().number()).second) {
      errors->Add(P(pp, "port.number"),
                  absl::StrCat("port ", pl.port().number(), " appears more than once"));
    }
    if (pl.has_load_balancer())
      ValidateLoadBalancer(pl.load_balancer(), P(pp, "loadBalancer"), errors);
  }
}

void ValidateDestinationRule(const net::DestinationRule& dr, const std::string& path,
                             FieldErrors* errors) {
  if (dr.host().empty()) {
    errors->Add(P(path, "host"), "required field is missing");
  } else {
    CheckHost(dr.host(), P(path, "host"), errors);
  }
  if (dr.has_traffic_policy())
    ValidateTrafficPolicy(dr.traffic_policy(), P(path, "trafficPolicy"), true, errors);
  std::set<std::string> names;
  for (int i = 0; i < dr.subsets_size(); ++i) {
    const auto& s = dr.subsets(i);
    std::string sp = I(P(path, "subsets"), i);
    if (s.name().empty()) {
      errors->Add(P(sp, "name"), "required field is missing");
    } else if (!IsDns1123Label(s.name())) {
      errors->Add(P(sp, "name"),
                  absl::StrCat("\"", s.name(), "\" is not a valid subset name (a DNS label)"));
    } else if (!names.insert(s.name()).second) {
      errors->Add(P(sp, "name"),
                  absl::StrCat("subset \"", s.name(), "\" is defined more than once"));
    }
    CheckLabels(s.labels(), P(sp, "labels"), errors);
    if (s.has_traffic_policy())
      ValidateTrafficPolicy(s.traffic_policy(), P(sp, "trafficPolicy"), false, errors);
  }
  if (dr.has_workload_selector())
    CheckLabels(dr.workload_selector().labels(), P(path, "workloadSelector.labels"), errors);
}

const std::set<std::string>& Protocols() {
  static const auto* s = new std::set<std::string>{
      "HTTP", "HTTPS", "GRPC", "GRPC-WEB", "HTTP2", "MONGO", "MYSQL", "REDIS", "TCP", "TLS", "UDP"};
  return *s;
}

bool IsIp(absl::string_view s) {
  static const re2::RE2 kV4(
      R"((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3})");
  static const re2::RE2 kV6(R"([0-9a-fA-F:]*:[0-9a-fA-F:.]*)");
  return re2::RE2::FullMatch(re2::StringPiece(s.data(), s.size()), kV4) ||
         re2::RE2::FullMatch(re2::StringPiece(s.data(), s.size()), kV6);
}

// istiod's rule: an address is an IP, a DNS name (resolution DNS) or a unix:// socket path;
// only a WorkloadEntry on another network may leave it empty.
void ValidateWorkloadEntry(const net::WorkloadEntry& we, const std::string& path, bool need_ip,
                           FieldErrors* errors) {
  const bool uds = absl::StartsWith(we.address(), "unix://");
  if (we.address().empty()) {
    if (we.network().empty()) errors->Add(P(path, "address"), "required field is missing");
  } else if (uds) {
    const absl::string_view socket = absl::string_view(we.address()).substr(strlen("unix://"));
    if (socket.empty()) {
      errors->Add(P(path, "address"), "a unix:// address needs a socket path");
    } else if (socket[0] != '@' && (socket[0] != '/' || socket.back() == '/')) {
      // istiod: an abstract socket (@name) or an absolute path to a file.
      errors->Add(P(path, "address"),
                  absl::StrCat("\"", socket, "\" is not an absolute path to a file"));
    }
    if (!we.ports().empty()) {
      errors->Add(P(path, "ports"), "a unix:// endpoint must not have ports");
    }
  } else if (need_ip && !IsIp(we.address())) {
    errors->Add(P(path, "address"),
                absl::StrCat("\"", we.address(), "\" is not an IP address (resolution STATIC)"));
  } else if (!IsIp(we.address()) &&
             (absl::StrContains(we.address(), '*') || !IsValidHost(we.address()))) {
    errors->Add(P(path, "address"),
                absl::StrCat("\"", we.address(), "\" is neither an IP address nor a DNS name"));
  }
  for (const auto& [name, port] : we.ports()) {
    if (!IsDns1123Label(name)) {
      errors->Add(KeyPath(P(path, "ports"), name),
                  absl::StrCat("\"", name, "\" is not a valid port name"));
    }
    CheckPort(port, KeyPath(P(path, "ports"), name), errors);
  }
  CheckLabels(we.labels(), P(path, "labels"), errors);
}

void ValidateServiceEntry(const net::ServiceEntry& se, const std::string& path,
                          FieldErrors* errors) {
  if (se.hosts().empty()) errors->Add(P(path, "hosts"), "at least one host is required");
  for (int i = 0; i < se.hosts_size(); ++i) {
    std::string hp = I(P(path, "hosts"), i);
    if (se.hosts(i) == "*") {
      errors->Add(hp, "\"*\" is not allowed in a ServiceEntry");
    } else {
      CheckHost(se.hosts(i), hp, errors);
    }
  }
  std::set<std::string> port_names;
  std::set<uint32_t> port_numbers;
  for (int i = 0; i < se.ports_size(); ++i) {
    const auto& p = se.ports(i);
    std::string pp = I(P(path, "ports"), i);
    CheckPort(p.number(), P(pp, "number"), errors);
    if (p.target_port() > 65535)
      errors->Add(P(pp, "targetPort"), "port number must be in [1, 65535]");
    if (!p.protocol().empty() && Protocols().count(absl::AsciiStrToUpper(p.protocol())) == 0) {
      errors->Add(P(pp, "protocol"), absl::StrCat("unknown protocol \"", p.protocol(), "\""));
    }
    if (!p.name().empty() && !port_names.insert(p.name()).second) {
      errors->Add(P(pp, "name"), absl::StrCat("port name \"", p.name(), "\" is not unique"));
    }
    if (!port_numbers.insert(p.number()).second) {
      errors->Add(P(pp, "number"), absl::StrCat("port ", p.number(), " appears more than once"));
    }
  }
  if (se.endpoints_size() > 0 && se.has_workload_selector()) {
    errors->Add(path, "only one of endpoints or workloadSelector may be set");
  }
  bool is_static = se.resolution() == net::ServiceEntry::STATIC;
  for (int i = 0; i < se.endpoints_size(); ++i) {
    std::string ep = I(P(path, "endpoints"), i);
    ValidateWorkloadEntry(se.endpoints(i), ep, is_static, errors);
    for (const auto& [name, port] : se.endpoints(i).ports()) {
      if (port_names.count(name) == 0) {
        errors->Add(KeyPath(P(ep, "ports"), name),
                    absl::StrCat("no service port is named \"", name, "\""));
      }
    }
  }
  if (se.resolution() == net::ServiceEntry::DNS && se.endpoints().empty()) {
    for (int i = 0; i < se.hosts_size(); ++i) {
      if (absl::StrContains(se.hosts(i), '*')) {
        errors->Add(I(P(path, "hosts"), i),
                    "resolution DNS without endpoints needs hosts without wildcards");
      }
    }
  }
  if (se.has_workload_selector())
    CheckLabels(se.workload_selector().labels(), P(path, "workloadSelector.labels"), errors);
}

void ValidateSelector(const istio::type::v1beta1::WorkloadSelector& sel, const std::string& path,
                      FieldErrors* errors) {
  CheckLabels(sel.match_labels(), P(path, "matchLabels"), errors);
}

void ValidateTargetRef(const istio::type::v1beta1::PolicyTargetReference& ref,
                       const std::string& path, FieldErrors* errors) {
  if (ref.kind().empty()) errors->Add(P(path, "kind"), "required field is missing");
  if (ref.name().empty()) errors->Add(P(path, "name"), "required field is missing");
}

// What a policy (AuthorizationPolicy, RequestAuthentication, Telemetry, WasmPlugin) may target,
// as istiod: a Service, a ServiceEntry or a Gateway API Gateway, in the policy's own namespace.
void ValidatePolicyTargetRef(const istio::type::v1beta1::PolicyTargetReference& ref,
                             const std::string& path, FieldErrors* errors) {
  ValidateTargetRef(ref, path, errors);
  if (!ref.namespace_().empty()) {
    errors->Add(P(path, "namespace"),
                "must be empty: cross-namespace references are not supported");
  }
  const std::string group = ref.group().empty() ? "core" : ref.group();
  const bool allowed = (group == "core" && ref.kind() == "Service") ||
                       (group == "networking.istio.io" && ref.kind() == "ServiceEntry") ||
                       (group == "gateway.networking.k8s.io" && ref.kind() == "Gateway");
  if (!ref.kind().empty() && !allowed) {
    errors->Add(P(path, "kind"),
                absl::StrCat("must be a Service, a networking.istio.io ServiceEntry or a "
                             "gateway.networking.k8s.io Gateway, not ",
                             group, "/", ref.kind()));
  }
}

// The policy kinds select workloads either by labels or by target references, never both
// (istiod: "only one of targetRefs or workloadSelector can be set").
template <typename Spec>
void ValidatePolicyScope(const Spec& spec, const std::string& path, const char* selector_field,
                         FieldErrors* errors) {
  const bool has_selector = spec.has_selector();
  const bool has_ref = spec.has_target_ref();
  const bool has_refs = spec.target_refs_size() > 0;
  if (has_selector && (has_ref || has_refs)) {
    errors->Add(path, absl::StrCat("only one of ", selector_field, " or targetRef(s) may be set"));
  }
  if (has_ref && has_refs) errors->Add(path, "only one of targetRef or targetRefs may be set");
  if (has_selector) ValidateSelector(spec.selector(), P(path, selector_field), errors);
  if (has_ref) ValidatePolicyTargetRef(spec.target_ref(), P(path, "targetRef"), errors);
  for (int i = 0; i < spec.target_refs_size(); ++i) {
    ValidatePolicyTargetRef(spec.target_refs(i), I(P(path, "targetRefs"), i), errors);
  }
}

void ValidatePeerAuthentication(const sec::PeerAuthentication& pa, const std::string& path,
                                FieldErrors* errors) {
  if (pa.has_selector()) ValidateSelector(pa.selector(), P(path, "selector"), errors);
  if (!pa.port_level_mtls().empty() &&
      (!pa.has_selector() || pa.selector().match_labels().empty())) {
    errors->Add(P(path, "portLevelMtls"), "portLevelMtls requires a workload selector");
  }
  for (const auto& [port, m] : pa.port_level_mtls()) {
    CheckPort(port, KeyPath(P(path, "portLevelMtls"), std::to_string(port)), errors);
  }
}

bool IsIpOrCidr(absl::string_view s) {
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(s, absl::MaxSplits('/', 1));
  if (!IsIp(parts.first)) return false;
  if (!absl::StrContains(s, '/')) return true;
  int bits;
  const int max = absl::StrContains(parts.first, ':') ? 128 : 32;
  return absl::SimpleAtoi(parts.second, &bits) && bits >= 0 && bits <= max;
}

// The `when` keys istiod knows (security/pkg/authz/model), exact or as a prefix.
bool IsKnownConditionKey(absl::string_view key) {
  static const auto* exact = new std::set<std::string>{"source.ip",
                                                       "remote.ip",
                                                       "source.namespace",
                                                       "source.principal",
                                                       "source.serviceAccount",
                                                       "request.auth.principal",
                                                       "request.auth.audiences",
                                                       "request.auth.presenter",
                                                       "destination.ip",
                                                       "destination.port",
                                                       "connection.sni"};
  if (exact->count(std::string(key)) > 0) return true;
  for (absl::string_view prefix :
       {"request.headers[", "request.auth.claims[", "experimental.envoy.filters."}) {
    if (absl::StartsWith(key, prefix)) {
      return prefix.back() != '[' || (absl::EndsWith(key, "]") && key.size() > prefix.size() + 1);
    }
  }
  return false;
}

template <typename Repeated>
void CheckIpBlocks(const Repeated& blocks, const std::string& path, FieldErrors* errors) {
  for (int i = 0; i < blocks.size(); ++i) {
    if (!IsIpOrCidr(blocks.Get(i))) {
      errors->Add(I(path, i), absl::StrCat("\"", blocks.Get(i), "\" is not an IP address or CIDR"));
    }
  }
}

template <typename Repeated>
void CheckPortStrings(const Repeated& ports, const std::string& path, FieldErrors* errors) {
  for (int k = 0; k < ports.size(); ++k) {
    uint32_t port;
    const std::string& s = ports.Get(k);
    if (!absl::SimpleAtoi(s, &port) || port == 0 || port > 65535) {
      errors->Add(I(path, k), absl::StrCat("\"", s, "\" is not a port number"));
    }
  }
}

// Istio's string values in policies: exact, "*" alone (presence), "prefix*" or "*suffix";
// a `*` elsewhere would silently never match, and an empty value is refused as istiod does.
void CheckMatchValue(const std::string& v, const std::string& path, FieldErrors* errors) {
  if (v.empty()) {
    errors->Add(path, "empty value is not allowed");
    return;
  }
  const size_t stars = std::count(v.begin(), v.end(), '*');
  if (stars > 1 || (stars == 1 && v.front() != '*' && v.back() != '*')) {
    errors->Add(path, absl::StrCat("\"", v,
                                   "\": `*` is only supported as a whole value, a prefix or a "
                                   "suffix"));
  }
}

template <typename Repeated>
void CheckMatchValues(const Repeated& values, const std::string& path, FieldErrors* errors) {
  for (int k = 0; k < values.size(); ++k) CheckMatchValue(values.Get(k), I(path, k), errors);
}

// istiod's path template rules (`{*}` one segment, `{**}` any suffix): a template operator is
// a whole segment, `{**}` only in the last segment, and a template path has no other `*`.
template <typename Repeated>
void CheckPaths(const Repeated& paths, const std::string& path, FieldErrors* errors) {
  for (int k = 0; k < paths.size(); ++k) {
    const std::string& v = paths.Get(k);
    if (v.find('{') == std::string::npos && v.find('}') == std::string::npos) {
      CheckMatchValue(v, I(path, k), errors);
      continue;
    }
    std::vector<absl::string_view> segments = absl::StrSplit(v, '/');
    for (size_t i = 0; i < segments.size(); ++i) {
      absl::string_view seg = segments[i];
      const bool op = seg == "{*}" || seg == "{**}";
      if (!op && (absl::StrContains(seg, '{') || absl::StrContains(seg, '}') ||
                  absl::StrContains(seg, '*'))) {
        errors->Add(I(path, k), absl::StrCat("\"", v, "\": invalid path template segment \"", seg,
                                             "\" (use {*} or {**} as a whole segment)"));
        break;
      }
      if (seg == "{**}" && i + 1 != segments.size()) {
        errors->Add(I(path, k), absl::StrCat("\"", v, "\": {**} must be the last segment"));
        break;
      }
    }
    if (!absl::StartsWith(v, "/")) {
      errors->Add(I(path, k), absl::StrCat("\"", v, "\": a path template must start with /"));
    }
  }
}

void ValidateAuthorizationPolicy(const sec::AuthorizationPolicy& ap, const std::string& path,
                                 FieldErrors* errors) {
  ValidatePolicyScope(ap, path, "selector", errors);
  if (ap.action() == sec::AuthorizationPolicy::CUSTOM && !ap.has_provider()) {
    errors->Add(P(path, "provider"), "action CUSTOM requires a provider");
  }
  if (ap.action() != sec::AuthorizationPolicy::CUSTOM && ap.has_provider()) {
    errors->Add(P(path, "provider"), "a provider may only be set with action CUSTOM");
  }
  if (ap.has_provider() && ap.provider().name().empty()) {
    errors->Add(P(path, "provider.name"), "required field is missing");
  }
  // istiod: a DENY or CUSTOM policy without rules never triggers (`rules: [{}]` matches
  // every request), so it is refused rather than silently doing nothing.
  if ((ap.action() == sec::AuthorizationPolicy::DENY ||
       ap.action() == sec::AuthorizationPolicy::CUSTOM) &&
      ap.rules().empty()) {
    errors->Add(P(path, "rules"),
                absl::StrCat("action ", sec::AuthorizationPolicy::Action_Name(ap.action()),
                             " without rules never triggers; add an empty rule {} to match "
                             "every request"));
  }
  const bool custom = ap.action() == sec::AuthorizationPolicy::CUSTOM;
  // istiod: the ext_authz filter a CUSTOM policy becomes runs before the identity checks, so
  // its rules cannot match on peer or request identities.
  auto custom_unsupported = [custom, errors](const std::string& field_path) {
    if (custom) errors->Add(field_path, "is not supported with action CUSTOM");
  };
  for (int i = 0; i < ap.rules_size(); ++i) {
    const auto& rule = ap.rules(i);
    std::string rp = I(P(path, "rules"), i);
    for (int j = 0; j < rule.from_size(); ++j) {
      std::string sp = P(I(P(rp, "from"), j), "source");
      if (!rule.from(j).has_source()) {
        errors->Add(sp, "required field is missing");
        continue;
      }
      const sec::Source& src = rule.from(j).source();
      if (src.ByteSizeLong() == 0) errors->Add(sp, "a source must set at least one field");
      if (!src.principals().empty()) custom_unsupported(P(sp, "principals"));
      if (!src.not_principals().empty()) custom_unsupported(P(sp, "notPrincipals"));
      if (!src.request_principals().empty()) custom_unsupported(P(sp, "requestPrincipals"));
      if (!src.not_request_principals().empty()) custom_unsupported(P(sp, "notRequestPrincipals"));
      if (!src.namespaces().empty()) custom_unsupported(P(sp, "namespaces"));
      if (!src.not_namespaces().empty()) custom_unsupported(P(sp, "notNamespaces"));
      CheckIpBlocks(src.ip_blocks(), P(sp, "ipBlocks"), errors);
      CheckIpBlocks(src.not_ip_blocks(), P(sp, "notIpBlocks"), errors);
      CheckIpBlocks(src.remote_ip_blocks(), P(sp, "remoteIpBlocks"), errors);
      CheckIpBlocks(src.not_remote_ip_blocks(), P(sp, "notRemoteIpBlocks"), errors);
      CheckMatchValues(src.principals(), P(sp, "principals"), errors);
      CheckMatchValues(src.not_principals(), P(sp, "notPrincipals"), errors);
      CheckMatchValues(src.request_principals(), P(sp, "requestPrincipals"), errors);
      CheckMatchValues(src.not_request_principals(), P(sp, "notRequestPrincipals"), errors);
      CheckMatchValues(src.namespaces(), P(sp, "namespaces"), errors);
      CheckMatchValues(src.not_namespaces(), P(sp, "notNamespaces"), errors);
    }
    for (int j = 0; j < rule.to_size(); ++j) {
      std::string op = P(I(P(rp, "to"), j), "operation");
      if (!rule.to(j).has_operation()) {
        errors->Add(op, "required field is missing");
        continue;
      }
      const sec::Operation& o = rule.to(j).operation();
      if (o.ByteSizeLong() == 0) errors->Add(op, "an operation must set at least one field");
      CheckPortStrings(o.ports(), P(op, "ports"), errors);
      CheckPortStrings(o.not_ports(), P(op, "notPorts"), errors);
      CheckMatchValues(o.hosts(), P(op, "hosts"), errors);
      CheckMatchValues(o.not_hosts(), P(op, "notHosts"), errors);
      CheckMatchValues(o.methods(), P(op, "methods"), errors);
      CheckMatchValues(o.not_methods(), P(op, "notMethods"), errors);
      CheckPaths(o.paths(), P(op, "paths"), errors);
      CheckPaths(o.not_paths(), P(op, "notPaths"), errors);
    }
    for (int j = 0; j < rule.when_size(); ++j) {
      const auto& c = rule.when(j);
      std::string cp = I(P(rp, "when"), j);
      if (c.key().empty()) {
        errors->Add(P(cp, "key"), "required field is missing");
      } else if (!IsKnownConditionKey(c.key())) {
        errors->Add(P(cp, "key"), absl::StrCat("unknown attribute \"", c.key(), "\""));
      } else if (c.key() == "source.namespace" || c.key() == "source.principal" ||
                 absl::StartsWith(c.key(), "request.auth.")) {
        custom_unsupported(P(cp, "key"));
      }
      if (c.values().empty() && c.not_values().empty())
        errors->Add(cp, "one of values or notValues is required");
      if (absl::StartsWith(c.key(), "request.headers[") ||
          absl::StartsWith(c.key(), "request.auth.") || c.key() == "source.namespace" ||
          c.key() == "source.principal" || c.key() == "connection.sni") {
        CheckMatchValues(c.values(), P(cp, "values"), errors);
        CheckMatchValues(c.not_values(), P(cp, "notValues"), errors);
      }
      if (c.key() == "source.ip" || c.key() == "remote.ip" || c.key() == "destination.ip") {
        CheckIpBlocks(c.values(), P(cp, "values"), errors);
        CheckIpBlocks(c.not_values(), P(cp, "notValues"), errors);
      } else if (c.key() == "destination.port") {
        CheckPortStrings(c.values(), P(cp, "values"), errors);
        CheckPortStrings(c.not_values(), P(cp, "notValues"), errors);
      }
    }
  }
}

void ValidateRequestAuthentication(const sec::RequestAuthentication& ra, const std::string& path,
                                   FieldErrors* errors) {
  ValidatePolicyScope(ra, path, "selector", errors);
  for (int i = 0; i < ra.jwt_rules_size(); ++i) {
    const sec::JWTRule& rule = ra.jwt_rules(i);
    std::string rp = I(P(path, "jwtRules"), i);
    if (rule.issuer().empty()) errors->Add(P(rp, "issuer"), "required field is missing");
    for (int j = 0; j < rule.audiences_size(); ++j) {
      if (rule.audiences(j).empty()) {
        errors->Add(I(P(rp, "audiences"), j), "an audience must not be empty");
      }
    }
    if (!rule.jwks_uri().empty() && !absl::StartsWith(rule.jwks_uri(), "http://") &&
        !absl::StartsWith(rule.jwks_uri(), "https://")) {
      errors->Add(P(rp, "jwksUri"),
                  absl::StrCat("\"", rule.jwks_uri(), "\" is not an http:// or https:// URL"));
    }
    for (int j = 0; j < rule.from_headers_size(); ++j) {
      if (rule.from_headers(j).name().empty()) {
        errors->Add(P(I(P(rp, "fromHeaders"), j), "name"), "required field is missing");
      }
    }
    for (int j = 0; j < rule.from_params_size(); ++j) {
      if (rule.from_params(j).empty()) {
        errors->Add(I(P(rp, "fromParams"), j), "a query parameter name must not be empty");
      }
    }
    for (int j = 0; j < rule.from_cookies_size(); ++j) {
      if (rule.from_cookies(j).empty()) {
        errors->Add(I(P(rp, "fromCookies"), j), "a cookie name must not be empty");
      }
    }
    if (!rule.jwks().empty()) {
      // istiod parses it as a JWK Set (or one JWK): a JSON object, its `keys` a list.
      nlohmann::json jwks = nlohmann::json::parse(rule.jwks(), nullptr, false);
      if (jwks.is_discarded() || !jwks.is_object() ||
          (jwks.contains("keys") && !jwks["keys"].is_array())) {
        errors->Add(P(rp, "jwks"), "is not a JSON Web Key Set");
      }
    }
    if (rule.has_timeout()) CheckDuration(rule.timeout(), P(rp, "timeout"), errors);
    for (int j = 0; j < rule.output_claim_to_headers_size(); ++j) {
      const auto& ch = rule.output_claim_to_headers(j);
      std::string hp = I(P(rp, "outputClaimToHeaders"), j);
      static const re2::RE2 kHeader("[-_A-Za-z0-9]+");
      if (!re2::RE2::FullMatch(ch.header(), kHeader)) {
        errors->Add(P(hp, "header"), absl::StrCat("\"", ch.header(), "\" is not a header name"));
      }
      if (ch.claim().empty()) errors->Add(P(hp, "claim"), "required field is missing");
    }
  }
}

// "namespace/host" (Sidecar requires the namespace; Gateway allows it to be left out), where
// namespace is a DNS label, "*", "." or "~" and host is a host name or wildcard.
void CheckNamespacedHost(const std::string& value, bool namespace_required, const std::string& path,
                         FieldErrors* errors) {
  // Sidecar hosts are namespace/host and may name no namespace ("~"); a Gateway's namespace
  // is optional and "~" is refused (istiod allows it only on Gateway API conversions).
  const bool is_sidecar = namespace_required;
  std::vector<std::string> parts = absl::StrSplit(value, absl::MaxSplits('/', 1));
  if (parts.size() == 1) {
    if (namespace_required) {
      errors->Add(path, absl::StrCat("\"", value, "\" must be of the form namespace/host"));
      return;
    }
    parts.insert(parts.begin(), "*");
  }
  const std::string& ns = parts[0];
  if (ns != "*" && ns != "." && (ns != "~" || !is_sidecar) && !IsDns1123Label(ns)) {
    errors->Add(path, absl::StrCat("\"", ns, "\" is not a valid namespace"));
  }
  if (parts[1].empty() || !IsValidHost(parts[1])) {
    errors->Add(path, absl::StrCat("\"", parts[1], "\" is not a valid host name"));
  }
}

bool IsTlsProtocol(const std::string& protocol) {
  std::string p = absl::AsciiStrToUpper(protocol);
  return p == "HTTPS" || p == "TLS";
}

void ValidateGateway(const net::Gateway& gw, const std::string& path, FieldErrors* errors) {
  if (gw.servers().empty()) errors->Add(P(path, "servers"), "at least one server is required");
  std::set<std::string> port_names;
  for (int i = 0; i < gw.servers_size(); ++i) {
    const auto& s = gw.servers(i);
    std::string sp = I(P(path, "servers"), i);
    // istiod: a bind is an IP address or a unix:// socket.
    if (!s.bind().empty() && !absl::StartsWith(s.bind(), "unix://") && !IsIp(s.bind())) {
      errors->Add(P(sp, "bind"), absl::StrCat("\"", s.bind(), "\" is not an IP address"));
    }
    if (!s.has_port()) {
      errors->Add(P(sp, "port"), "required field is missing");
    } else {
      CheckPort(s.port().number(), P(sp, "port.number"), errors);
      // istiod: a server's port has a name and a protocol it knows.
      if (s.port().name().empty()) errors->Add(P(sp, "port.name"), "required field is missing");
      if (s.port().protocol().empty()) {
        errors->Add(P(sp, "port.protocol"), "required field is missing");
      } else if (Protocols().count(absl::AsciiStrToUpper(s.port().protocol())) == 0) {
        errors->Add(P(sp, "port.protocol"),
                    absl::StrCat("unknown protocol \"", s.port().protocol(), "\""));
      }
      if (!s.port().name().empty() && !port_names.insert(s.port().name()).second) {
        errors->Add(P(sp, "port.name"),
                    absl::StrCat("port name \"", s.port().name(), "\" is used by another server"));
      }
      if (IsTlsProtocol(s.port().protocol()) && !s.has_tls()) {
        errors->Add(P(sp, "tls"), absl::StrCat("a server with protocol ", s.port().protocol(),
                                               " requires TLS settings"));
      }
      if (s.port().target_port() != 0) {
        errors->Add(P(sp, "port.targetPort"), "targetPort has no effect on a Gateway");
      }
      // istiod: TLS settings on a plain-text server are refused, except an HTTP server's
      // httpsRedirect (mode left PASSTHROUGH, no certificates).
      if (s.has_tls() && !s.port().protocol().empty() && !IsTlsProtocol(s.port().protocol())) {
        const auto& tls = s.tls();
        const std::string p = absl::AsciiStrToUpper(s.port().protocol());
        const bool http = p == "HTTP" || p == "HTTP2" || p == "GRPC" || p == "GRPC-WEB";
        const bool passthrough = tls.mode() == net::ServerTLSSettings::PASSTHROUGH ||
                                 tls.mode() == net::ServerTLSSettings::AUTO_PASSTHROUGH;
        if (!http) {
          errors->Add(P(sp, "tls"), absl::StrCat("a server with protocol ", s.port().protocol(),
                                                 " cannot have TLS settings"));
        } else if (!passthrough || !tls.server_certificate().empty() ||
                   !tls.private_key().empty() || !tls.ca_certificates().empty()) {
          errors->Add(P(sp, "tls"), absl::StrCat("a server with protocol ", s.port().protocol(),
                                                 " can only have tls.httpsRedirect"));
        }
      }
    }
    if (s.hosts().empty()) errors->Add(P(sp, "hosts"), "at least one host is required");
    for (int j = 0; j < s.hosts_size(); ++j) {
      CheckNamespacedHost(s.hosts(j), false, I(P(sp, "hosts"), j), errors);
    }
    if (s.has_tls()) {
      const auto& tls = s.tls();
      std::string tp = P(sp, "tls");
      if (tls.mode() == net::ServerTLSSettings::ISTIO_MUTUAL) {
        // The mesh certificate is used: istiod refuses certificates named beside it.
        for (const auto& [field, value] : {std::pair<const char*, const std::string*>{
                                               "serverCertificate", &tls.server_certificate()},
                                           {"privateKey", &tls.private_key()},
                                           {"caCertificates", &tls.ca_certificates()},
                                           {"credentialName", &tls.credential_name()}}) {
          if (!value->empty()) {
            errors->Add(P(tp, field), "mode ISTIO_MUTUAL uses the mesh certificate; must be empty");
          }
        }
      }
      if ((tls.mode() == net::ServerTLSSettings::SIMPLE ||
           tls.mode() == net::ServerTLSSettings::MUTUAL ||
           tls.mode() == net::ServerTLSSettings::OPTIONAL_MUTUAL) &&
          tls.credential_name().empty()) {
        if (tls.server_certificate().empty()) {
          errors->Add(P(tp, "serverCertificate"),
                      absl::StrCat("mode ", net::ServerTLSSettings::TLSmode_Name(tls.mode()),
                                   " requires credentialName or serverCertificate"));
        }
        if (tls.private_key().empty()) {
          errors->Add(P(tp, "privateKey"),
                      absl::StrCat("mode ", net::ServerTLSSettings::TLSmode_Name(tls.mode()),
                                   " requires credentialName or privateKey"));
        }
        if (tls.mode() != net::ServerTLSSettings::SIMPLE && tls.ca_certificates().empty()) {
          errors->Add(P(tp, "caCertificates"),
                      absl::StrCat("mode ", net::ServerTLSSettings::TLSmode_Name(tls.mode()),
                                   " requires credentialName or caCertificates"));
        }
      }
    }
  }
  CheckLabels(gw.selector(), P(path, "selector"), errors);
}

// A Sidecar listener's port: the name, when set, is a DNS label; the protocol one istiod knows.
template <typename Port>
void CheckSidecarPort(const Port& port, const std::string& path, FieldErrors* errors) {
  if (!port.name().empty() && !IsDns1123Label(port.name())) {
    errors->Add(P(path, "name"), absl::StrCat("\"", port.name(), "\" is not a valid port name"));
  }
  if (!port.protocol().empty() && Protocols().count(absl::AsciiStrToUpper(port.protocol())) == 0) {
    errors->Add(P(path, "protocol"), absl::StrCat("unknown protocol \"", port.protocol(), "\""));
  }
}

// istiod: 127.0.0.1:<port>, 0.0.0.0:<port>, [::1]:<port>, [::]:<port> (or :<port>), or
// unix://<absolute path or @abstract name>.
void CheckDefaultEndpoint(const std::string& value, const std::string& path, FieldErrors* errors) {
  absl::string_view v = value;
  if (absl::ConsumePrefix(&v, "unix://")) {
    if (v.empty() || (v[0] != '@' && (v[0] != '/' || v.back() == '/'))) {
      errors->Add(path, absl::StrCat("\"", v, "\" is not an absolute path to a file"));
    }
    return;
  }
  const size_t colon = v.rfind(':');
  const absl::string_view host = colon == absl::string_view::npos ? v : v.substr(0, colon);
  uint32_t port = 0;
  const bool port_ok = colon != absl::string_view::npos &&
                       absl::SimpleAtoi(v.substr(colon + 1), &port) && port >= 1 && port <= 65535;
  const bool host_ok =
      host.empty() || host == "127.0.0.1" || host == "0.0.0.0" || host == "[::1]" || host == "[::]";
  if (!port_ok || !host_ok) {
    errors->Add(path, absl::StrCat("\"", value,
                                   "\" must be 127.0.0.1:<port>, 0.0.0.0:<port>, [::1]:<port>, "
                                   "[::]:<port> or unix://<path>"));
  }
}

void ValidateSidecar(const net::Sidecar& sc, const std::string& path, FieldErrors* errors,
                     FieldErrors* warnings) {
  if (sc.has_workload_selector()) {
    // istiod accepts it (a warning): the Sidecar applies to every workload of the namespace.
    if (sc.workload_selector().labels().empty() && warnings != nullptr) {
      warnings->Add(P(path, "workloadSelector.labels"),
                    "a workload selector without labels selects every workload in the namespace");
    }
    CheckLabels(sc.workload_selector().labels(), P(path, "workloadSelector.labels"), errors);
  }
  if (sc.egress().empty() && sc.ingress().empty() && !sc.has_outbound_traffic_policy()) {
    errors->Add(path, "one of egress, ingress or outboundTrafficPolicy is required");
  }
  std::set<uint32_t> ports;
  for (int i = 0; i < sc.ingress_size(); ++i) {
    std::string ip = I(P(path, "ingress"), i);
    if (!sc.ingress(i).has_port()) {
      errors->Add(P(ip, "port"), "required field is missing");
      continue;
    }
    const auto& in = sc.ingress(i);
    CheckPort(in.port().number(), P(ip, "port.number"), errors);
    if (!ports.insert(in.port().number()).second) {
      errors->Add(P(ip, "port.number"), absl::StrCat("port ", in.port().number(),
                                                     " is used by another ingress listener"));
    }
    CheckSidecarPort(in.port(), P(ip, "port"), errors);
    if (!in.bind().empty() && !IsIp(in.bind())) {
      errors->Add(P(ip, "bind"), absl::StrCat("\"", in.bind(), "\" is not an IP address"));
    }
    if (!in.default_endpoint().empty()) {
      CheckDefaultEndpoint(in.default_endpoint(), P(ip, "defaultEndpoint"), errors);
    }
    if (in.has_tls()) {
      const auto& tls = in.tls();
      const std::string tp = P(ip, "tls");
      if (!tls.subject_alt_names().empty()) {
        errors->Add(P(tp, "subjectAltNames"), "is not supported on a Sidecar ingress listener");
      }
      if (tls.https_redirect()) {
        errors->Add(P(tp, "httpsRedirect"), "is not supported on a Sidecar ingress listener");
      }
      if (!tls.credential_name().empty()) {
        errors->Add(P(tp, "credentialName"), "is not supported on a Sidecar ingress listener");
      }
      if (tls.mode() == net::ServerTLSSettings::ISTIO_MUTUAL ||
          tls.mode() == net::ServerTLSSettings::AUTO_PASSTHROUGH) {
        errors->Add(P(tp, "mode"),
                    absl::StrCat("mode ", net::ServerTLSSettings::TLSmode_Name(tls.mode()),
                                 " is not allowed on a Sidecar ingress listener"));
      }
    }
  }
  ports.clear();
  for (int i = 0; i < sc.egress_size(); ++i) {
    const auto& e = sc.egress(i);
    std::string ep = I(P(path, "egress"), i);
    if (!e.has_port()) {
      if (i != sc.egress_size() - 1) {
        errors->Add(ep, "only the last egress listener may leave out its port (the catch-all)");
      }
    } else {
      CheckPort(e.port().number(), P(ep, "port.number"), errors);
      if (!ports.insert(e.port().number()).second) {
        errors->Add(P(ep, "port.number"), absl::StrCat("port ", e.port().number(),
                                                       " is used by another egress listener"));
      }
      CheckSidecarPort(e.port(), P(ep, "port"), errors);
      if (!e.bind().empty() && !IsIp(e.bind())) {
        errors->Add(P(ep, "bind"), absl::StrCat("\"", e.bind(), "\" is not an IP address"));
      }
    }
    if (e.hosts().empty()) errors->Add(P(ep, "hosts"), "at least one host is required");
    for (int j = 0; j < e.hosts_size(); ++j) {
      CheckNamespacedHost(e.hosts(j), true, I(P(ep, "hosts"), j), errors);
    }
  }
}

// ---- EnvoyFilter ---------------------------------------------------------------------------

void ValidateEnvoyFilter(const net::EnvoyFilter& ef, const std::string& path, FieldErrors* errors) {
  using EF = net::EnvoyFilter;
  if (ef.has_workload_selector() && ef.target_refs_size() > 0) {
    errors->Add(path, "only one of workloadSelector or targetRefs may be set");
  }
  if (ef.has_workload_selector()) {
    CheckLabels(ef.workload_selector().labels(), P(path, "workloadSelector.labels"), errors);
  }
  for (int i = 0; i < ef.target_refs_size(); ++i) {
    ValidateTargetRef(ef.target_refs(i), I(P(path, "targetRefs"), i), errors);
  }
  for (int i = 0; i < ef.config_patches_size(); ++i) {
    const EF::EnvoyConfigObjectPatch& cp = ef.config_patches(i);
    std::string pp = I(P(path, "configPatches"), i);
    if (cp.apply_to() == EF::INVALID) {
      errors->Add(P(pp, "applyTo"), "required field is missing");
      continue;
    }
    if (!cp.has_patch()) {
      errors->Add(P(pp, "patch"), "required field is missing");
      continue;
    }
    if (cp.patch().operation() == EF::Patch::INVALID) {
      errors->Add(P(pp, "patch.operation"), "required field is missing");
      continue;
    }
    if (cp.patch().operation() != EF::Patch::REMOVE && !cp.patch().has_value()) {
      errors->Add(P(pp, "patch.value"),
                  absl::StrCat("required for operation ",
                               EF::Patch::Operation_Name(cp.patch().operation())));
      continue;
    }
    if (cp.match().has_proxy() && !cp.match().proxy().proxy_version().empty()) {
      re2::RE2 re(cp.match().proxy().proxy_version(), re2::RE2::Quiet);
      if (!re.ok()) {
        errors->Add(P(pp, "match.proxy.proxyVersion"),
                    absl::StrCat("\"", cp.match().proxy().proxy_version(),
                                 "\" is not a valid RE2 regex: ", re.error()));
      }
    }
    const auto types = cp.match().object_types_case();
    const std::string apply_to = EF::ApplyTo_Name(cp.apply_to());
    switch (cp.apply_to()) {
      case EF::LISTENER:
      case EF::FILTER_CHAIN:
      case EF::NETWORK_FILTER:
      case EF::HTTP_FILTER: {
        if (types != EF::EnvoyConfigObjectMatch::OBJECT_TYPES_NOT_SET &&
            types != EF::EnvoyConfigObjectMatch::kListener) {
          errors->Add(P(pp, "match"),
                      absl::StrCat("applyTo ", apply_to, " needs a listener match"));
          break;
        }
        const auto& fc = cp.match().listener().filter_chain();
        if (!fc.has_filter()) break;
        std::string fp = P(pp, "match.listener.filterChain.filter");
        if (fc.filter().name().empty()) {
          errors->Add(P(fp, "name"), "a filter match needs a name to match on");
        } else if (fc.filter().has_sub_filter()) {
          if (cp.apply_to() != EF::HTTP_FILTER) {
            errors->Add(P(fp, "subFilter"),
                        "a subFilter match is only valid with applyTo HTTP_FILTER");
          } else if (fc.filter().name() != "envoy.filters.network.http_connection_manager" &&
                     fc.filter().name() != "envoy.http_connection_manager") {
            errors->Add(P(fp, "subFilter"),
                        "a subFilter match needs the filter match "
                        "envoy.filters.network.http_connection_manager");
          } else if (fc.filter().sub_filter().name().empty()) {
            errors->Add(P(fp, "subFilter.name"), "a subFilter match needs a name to match on");
          }
        }
        break;
      }
      case EF::ROUTE_CONFIGURATION:
      case EF::VIRTUAL_HOST:
      case EF::HTTP_ROUTE:
        if (types != EF::EnvoyConfigObjectMatch::OBJECT_TYPES_NOT_SET &&
            types != EF::EnvoyConfigObjectMatch::kRouteConfiguration) {
          errors->Add(P(pp, "match"),
                      absl::StrCat("applyTo ", apply_to, " needs a routeConfiguration match"));
        }
        break;
      case EF::CLUSTER:
        if (types != EF::EnvoyConfigObjectMatch::OBJECT_TYPES_NOT_SET &&
            types != EF::EnvoyConfigObjectMatch::kCluster) {
          errors->Add(P(pp, "match"), "applyTo CLUSTER needs a cluster match");
        }
        break;
      default:
        break;
    }
  }
}

// ---- WorkloadGroup -------------------------------------------------------------------------

void ValidateReadinessProbe(const net::ReadinessProbe& probe, const std::string& path,
                            FieldErrors* errors) {
  const std::pair<int32_t, const char*> counts[] = {
      {probe.initial_delay_seconds(), "initialDelaySeconds"},
      {probe.timeout_seconds(), "timeoutSeconds"},
      {probe.period_seconds(), "periodSeconds"},
      {probe.success_threshold(), "successThreshold"},
      {probe.failure_threshold(), "failureThreshold"}};
  for (const auto& [value, field] : counts) {
    if (value < 0) errors->Add(P(path, field), "must not be negative");
  }
  switch (probe.health_check_method_case()) {
    case net::ReadinessProbe::kHttpGet: {
      const auto& h = probe.http_get();
      CheckPort(h.port(), P(path, "httpGet.port"), errors);
      // Kubernetes' URIScheme values, which istiod compares against.
      if (!h.scheme().empty() && h.scheme() != "HTTP" && h.scheme() != "HTTPS") {
        errors->Add(P(path, "httpGet.scheme"),
                    absl::StrCat("\"", h.scheme(), "\" must be HTTP or HTTPS"));
      }
      for (int i = 0; i < h.http_headers_size(); ++i) {
        if (h.http_headers(i).name().empty()) {
          errors->Add(P(I(P(path, "httpGet.httpHeaders"), i), "name"), "required field is missing");
        }
      }
      break;
    }
    case net::ReadinessProbe::kTcpSocket:
      CheckPort(probe.tcp_socket().port(), P(path, "tcpSocket.port"), errors);
      break;
    case net::ReadinessProbe::kExec:
      if (probe.exec().command().empty()) {
        errors->Add(P(path, "exec.command"), "required field is missing");
      }
      break;
    case net::ReadinessProbe::kGrpc:
      CheckPort(probe.grpc().port(), P(path, "grpc.port"), errors);
      break;
    case net::ReadinessProbe::HEALTH_CHECK_METHOD_NOT_SET:
      errors->Add(path, "one of httpGet, tcpSocket, exec or grpc is required");
      break;
  }
}

void ValidateWorkloadGroup(const net::WorkloadGroup& wg, const std::string& path,
                           FieldErrors* errors) {
  if (!wg.has_template_()) {
    errors->Add(P(path, "template"), "required field is missing");
  } else {
    // Not the WorkloadEntry rules (istiod skips them: the address is filled in per
    // workload); its ports and labels are checked.
    const net::WorkloadEntry& t = wg.template_();
    std::string tp = P(path, "template");
    for (const auto& [name, port] : t.ports())
      CheckPort(port, KeyPath(P(tp, "ports"), name), errors);
    CheckLabels(t.labels(), P(tp, "labels"), errors);
  }
  if (wg.has_metadata()) CheckLabels(wg.metadata().labels(), P(path, "metadata.labels"), errors);
  if (wg.has_probe()) ValidateReadinessProbe(wg.probe(), P(path, "probe"), errors);
}

// ---- ProxyConfig ---------------------------------------------------------------------------

void ValidateProxyConfig(const istio::networking::v1beta1::ProxyConfig& pc, const std::string& path,
                         FieldErrors* errors) {
  if (pc.has_selector()) ValidateSelector(pc.selector(), P(path, "selector"), errors);
  if (pc.has_concurrency() && pc.concurrency().value() < 0) {
    errors->Add(P(path, "concurrency"), "must be greater than or equal to 0");
  }
}

// ---- Telemetry -----------------------------------------------------------------------------

template <typename Repeated>
void CheckProviders(const Repeated& providers, const std::string& path, FieldErrors* errors) {
  for (int i = 0; i < providers.size(); ++i) {
    if (providers.Get(i).name().empty()) {
      errors->Add(P(I(path, i), "name"), "required field is missing");
    }
  }
}

void ValidateTelemetry(const istio::telemetry::v1alpha1::Telemetry& t, const std::string& path,
                       FieldErrors* errors) {
  namespace tel = istio::telemetry::v1alpha1;
  ValidatePolicyScope(t, path, "selector", errors);
  for (int i = 0; i < t.tracing_size(); ++i) {
    const tel::Tracing& tr = t.tracing(i);
    std::string tp = I(P(path, "tracing"), i);
    CheckProviders(tr.providers(), P(tp, "providers"), errors);
    if (tr.has_random_sampling_percentage()) {
      CheckPercent(tr.random_sampling_percentage().value(), P(tp, "randomSamplingPercentage"),
                   errors);
    }
    for (const auto& [name, tag] : tr.custom_tags()) {
      std::string cp = KeyPath(P(tp, "customTags"), name);
      if (name.empty()) errors->Add(cp, "a tag name must not be empty");
      switch (tag.type_case()) {
        case tel::Tracing::CustomTag::kLiteral:
          if (tag.literal().value().empty())
            errors->Add(P(cp, "literal.value"), "required field is missing");
          break;
        case tel::Tracing::CustomTag::kEnvironment:
          if (tag.environment().name().empty()) {
            errors->Add(P(cp, "environment.name"), "required field is missing");
          }
          break;
        case tel::Tracing::CustomTag::kHeader:
          if (tag.header().name().empty())
            errors->Add(P(cp, "header.name"), "required field is missing");
          break;
        case tel::Tracing::CustomTag::kFormatter:
          if (tag.formatter().value().empty()) {
            errors->Add(P(cp, "formatter.value"), "required field is missing");
          }
          break;
        case tel::Tracing::CustomTag::TYPE_NOT_SET:
          errors->Add(cp, "one of literal, environment, header or formatter is required");
          break;
      }
    }
  }
  for (int i = 0; i < t.metrics_size(); ++i) {
    const tel::Metrics& m = t.metrics(i);
    std::string mp = I(P(path, "metrics"), i);
    CheckProviders(m.providers(), P(mp, "providers"), errors);
    if (m.has_reporting_interval()) {
      CheckDuration(m.reporting_interval(), P(mp, "reportingInterval"), errors);
    }
    for (int j = 0; j < m.overrides_size(); ++j) {
      const auto& o = m.overrides(j);
      std::string op = I(P(mp, "overrides"), j);
      if (o.match().metric_match_case() == tel::MetricSelector::kCustomMetric &&
          o.match().custom_metric().empty()) {
        errors->Add(P(op, "match.customMetric"), "must not be empty");
      }
      for (const auto& [tag, to] : o.tag_overrides()) {
        std::string tp = KeyPath(P(op, "tagOverrides"), tag);
        if (to.operation() == tel::MetricsOverrides::TagOverride::UPSERT && to.value().empty()) {
          errors->Add(P(tp, "value"), "required when operation is UPSERT");
        }
        if (to.operation() == tel::MetricsOverrides::TagOverride::REMOVE && !to.value().empty()) {
          errors->Add(P(tp, "value"), "may only be set when operation is UPSERT");
        }
      }
    }
  }
  for (int i = 0; i < t.access_logging_size(); ++i) {
    CheckProviders(t.access_logging(i).providers(), P(I(P(path, "accessLogging"), i), "providers"),
                   errors);
  }
}

// ---- WasmPlugin ----------------------------------------------------------------------------

void ValidateWasmPlugin(const istio::extensions::v1alpha1::WasmPlugin& wp, const std::string& path,
                        FieldErrors* errors) {
  ValidatePolicyScope(wp, path, "selector", errors);
  if (wp.url().empty()) {
    errors->Add(P(path, "url"), "required field is missing");
  } else {
    std::string::size_type colon = wp.url().find("://");
    if (colon != std::string::npos) {
      std::string scheme = wp.url().substr(0, colon);
      if (scheme != "oci" && scheme != "file" && scheme != "http" && scheme != "https") {
        errors->Add(P(path, "url"), absl::StrCat("unsupported scheme \"", scheme,
                                                 "\": use oci://, file://, http:// or https://"));
      }
    }
  }
  if (!wp.sha256().empty()) {
    static const re2::RE2 kSha("[a-f0-9]{64}");
    if (!re2::RE2::FullMatch(wp.sha256(), kSha)) {
      errors->Add(P(path, "sha256"), "must be 64 lower-case hexadecimal characters");
    }
  }
  if (wp.image_pull_secret().size() > 253) {
    errors->Add(P(path, "imagePullSecret"), "must be at most 253 characters long");
  }
  if (wp.plugin_name().size() > 256) {
    errors->Add(P(path, "pluginName"), "must be at most 256 characters long");
  }
  std::set<std::string> env_names;
  for (int i = 0; i < wp.vm_config().env_size(); ++i) {
    const auto& env = wp.vm_config().env(i);
    std::string ep = I(P(path, "vmConfig.env"), i);
    if (env.name().empty()) {
      errors->Add(P(ep, "name"), "required field is missing");
    } else if (!env_names.insert(env.name()).second) {
      errors->Add(P(ep, "name"), absl::StrCat("\"", env.name(), "\" is defined more than once"));
    }
  }
  for (int i = 0; i < wp.match_size(); ++i) {
    for (int j = 0; j < wp.match(i).ports_size(); ++j) {
      CheckPort(wp.match(i).ports(j).number(),
                P(I(P(I(P(path, "match"), i), "ports"), j), "number"), errors);
    }
  }
}

}  // namespace

bool IsDns1123Label(absl::string_view s) {
  static const re2::RE2 kLabel("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  return re2::RE2::FullMatch(re2::StringPiece(s.data(), s.size()), kLabel);
}

bool IsDns1123Subdomain(absl::string_view s) {
  static const re2::RE2 kSub(R"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)");
  return s.size() <= 253 && re2::RE2::FullMatch(re2::StringPiece(s.data(), s.size()), kSub);
}

bool IsValidHost(absl::string_view host) {
  if (host == "*") return true;
  absl::string_view rest = host;
  if (absl::ConsumePrefix(&rest, "*.")) {
    if (rest.empty()) return false;
  }
  if (rest.size() > 255) return false;
  static const re2::RE2 kLabel("[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?");
  for (absl::string_view label : absl::StrSplit(rest, '.')) {
    if (!re2::RE2::FullMatch(re2::StringPiece(label.data(), label.size()), kLabel)) return false;
  }
  return true;
}

void ValidateSpec(Kind kind, const google::protobuf::Message& spec, const std::string& ns,
                  const std::string& path, FieldErrors* errors, FieldErrors* warnings) {
  // The casts below are checked here, once: `spec` must be the kind's generated message.
  std::unique_ptr<google::protobuf::Message> want = NewSpec(kind);
  if (want == nullptr || spec.GetReflection() != want->GetReflection()) {
    errors->Add(path, absl::StrCat("a ", model::KindName(kind), " spec must be a ",
                                   want ? want->GetDescriptor()->full_name() : "known message",
                                   ", got ", spec.GetDescriptor()->full_name()));
    return;
  }
  switch (kind) {
    case Kind::kVirtualService:
      ValidateVirtualService(static_cast<const net::VirtualService&>(spec), path, errors);
      break;
    case Kind::kDestinationRule:
      ValidateDestinationRule(static_cast<const net::DestinationRule&>(spec), path, errors);
      break;
    case Kind::kGateway:
      ValidateGateway(static_cast<const net::Gateway&>(spec), path, errors);
      break;
    case Kind::kServiceEntry:
      ValidateServiceEntry(static_cast<const net::ServiceEntry&>(spec), path, errors);
      break;
    case Kind::kWorkloadEntry:
      ValidateWorkloadEntry(static_cast<const net::WorkloadEntry&>(spec), path, false, errors);
      break;
    case Kind::kSidecar:
      ValidateSidecar(static_cast<const net::Sidecar&>(spec), path, errors, warnings);
      break;
    case Kind::kPeerAuthentication:
      ValidatePeerAuthentication(static_cast<const sec::PeerAuthentication&>(spec), path, errors);
      break;
    case Kind::kAuthorizationPolicy:
      ValidateAuthorizationPolicy(static_cast<const sec::AuthorizationPolicy&>(spec), path, errors);
      break;
    case Kind::kRequestAuthentication:
      ValidateRequestAuthentication(static_cast<const sec::RequestAuthentication&>(spec), path,
                                    errors);
      break;
    case Kind::kEnvoyFilter:
      ValidateEnvoyFilter(static_cast<const net::EnvoyFilter&>(spec), path, errors);
      break;
    case Kind::kTelemetry:
      ValidateTelemetry(static_cast<const istio::telemetry::v1alpha1::Telemetry&>(spec), path,
                        errors);
      break;
    case Kind::kWorkloadGroup:
      ValidateWorkloadGroup(static_cast<const net::WorkloadGroup&>(spec), path, errors);
      break;
    case Kind::kProxyConfig:
      ValidateProxyConfig(static_cast<const istio::networking::v1beta1::ProxyConfig&>(spec), path,
                          errors);
      break;
    case Kind::kWasmPlugin:
      ValidateWasmPlugin(static_cast<const istio::extensions::v1alpha1::WasmPlugin&>(spec), path,
                         errors);
      break;
  }
}

}  // namespace meshd::config
