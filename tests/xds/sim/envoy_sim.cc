#include "tests/xds/sim/envoy_sim.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <functional>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "envoy/extensions/filters/http/ext_authz/v3/ext_authz.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/http/jwt_authn/v3/config.pb.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/ext_authz/v3/ext_authz.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "re2/re2.h"
#include "tests/xds/sim/rbac_eval.h"

namespace meshd::xds::sim {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::core::v3::CidrRange;
using envoy::config::core::v3::Metadata;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::listener::v3::FilterChain;
using envoy::config::listener::v3::FilterChainMatch;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::HeaderMatcher;
using envoy::config::route::v3::QueryParameterMatcher;
using envoy::config::route::v3::Route;
using envoy::config::route::v3::RouteAction;
using envoy::config::route::v3::RouteConfiguration;
using envoy::config::route::v3::VirtualHost;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using envoy::type::matcher::v3::StringMatcher;

constexpr char kHcmType[] =
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
constexpr char kHcmName[] = "envoy.filters.network.http_connection_manager";
constexpr char kTcpProxyType[] = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
constexpr char kTcpProxyName[] = "envoy.filters.network.tcp_proxy";
constexpr char kHttpRbacName[] = "envoy.filters.http.rbac";
constexpr char kNetworkRbacName[] = "envoy.filters.network.rbac";
constexpr char kFaultType[] = "envoy.extensions.filters.http.fault.v3.HTTPFault";
constexpr char kCorsPolicyType[] = "envoy.extensions.filters.http.cors.v3.CorsPolicy";
constexpr char kFilterConfigType[] = "envoy.config.route.v3.FilterConfig";
constexpr char kUpstreamTlsType[] = "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
constexpr char kTransportSocketMatchKey[] = "envoy.transport_socket_match";

// The message name of an Any ("type.googleapis.com/a.b.C" -> "a.b.C").
std::string TypeName(const google::protobuf::Any& any) {
  const std::string& url = any.type_url();
  const size_t slash = url.rfind('/');
  return slash == std::string::npos ? url : url.substr(slash + 1);
}

// ---- addresses ------------------------------------------------------------------------------

struct Ip {
  int family = 0;  // 4 or 6
  std::array<uint8_t, 16> bytes{};
  bool operator==(const Ip& other) const { return family == other.family && bytes == other.bytes; }
  bool IsAny() const {
    return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
  }
};

std::optional<Ip> ParseIp(const std::string& text) {
  Ip ip;
  if (inet_pton(AF_INET, text.c_str(), ip.bytes.data()) == 1) {
    ip.family = 4;
    return ip;
  }
  if (inet_pton(AF_INET6, text.c_str(), ip.bytes.data()) == 1) {
    ip.family = 6;
    return ip;
  }
  return std::nullopt;
}

bool IsLoopback(const Ip& ip) {
  if (ip.family == 4) return ip.bytes[0] == 127;
  for (int i = 0; i < 15; ++i) {
    if (ip.bytes[i] != 0) return false;
  }
  return ip.bytes[15] == 1;
}

// The prefix length of `range` when `ip` lies in it.
std::optional<int> CidrMatch(const std::optional<Ip>& ip, const CidrRange& range) {
  const std::optional<Ip> net = ParseIp(range.address_prefix());
  if (!ip || !net || net->family != ip->family) return std::nullopt;
  const int max_len = ip->family == 4 ? 32 : 128;
  const int len = std::min<int>(max_len, range.has_prefix_len() ? range.prefix_len().value() : 0);
  for (int bit = 0; bit < len; ++bit) {
    const int mask = 0x80 >> (bit % 8);
    if ((ip->bytes[bit / 8] & mask) != (net->bytes[bit / 8] & mask)) return std::nullopt;
  }
  return len;
}

std::string HostPort(const std::string& ip, uint32_t port) {
  if (ip.find(':') != std::string::npos) return absl::StrCat("[", ip, "]:", port);
  return absl::StrCat(ip, ":", port);
}

std::string AddressString(const envoy::config::core::v3::Address& address) {
  if (address.has_socket_address()) {
    return HostPort(address.socket_address().address(), address.socket_address().port_value());
  }
  if (address.has_pipe()) return address.pipe().path();
  if (address.has_envoy_internal_address()) {
    return "internal:" + address.envoy_internal_address().server_listener_name();
  }
  return "(no address)";
}

// Splits "host:port" / "[v6]:port" / "host"; port is -1 when absent.
std::pair<std::string, int> SplitHostPort(const std::string& authority) {
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) return {authority, -1};
    int port = -1;
    if (close + 1 < authority.size() && authority[close + 1] == ':' &&
        !absl::SimpleAtoi(authority.substr(close + 2), &port)) {
      port = -1;
    }
    return {authority.substr(0, close + 1), port};
  }
  const size_t colon = authority.rfind(':');
  if (colon == std::string::npos || authority.find(':') != colon) return {authority, -1};
  int port = -1;
  if (!absl::SimpleAtoi(authority.substr(colon + 1), &port)) return {authority, -1};
  return {authority.substr(0, colon), port};
}

// Whether the listener is bound to ip:port; with `wildcard`, to the any-address of ip's family
// (or to :: with ipv4_compat for an IPv4 destination).
bool ListensOn(const Listener& listener, const Ip& ip, uint32_t port, bool wildcard) {
  std::vector<const envoy::config::core::v3::Address*> addresses = {&listener.address()};
  for (const auto& extra : listener.additional_addresses()) addresses.push_back(&extra.address());
  for (const auto* address : addresses) {
    if (!address->has_socket_address()) continue;
    const auto& socket = address->socket_address();
    if (socket.port_value() != port) continue;
    const std::optional<Ip> bound = ParseIp(socket.address());
    if (!bound) continue;
    if (!wildcard) {
      if (*bound == ip) return true;
      continue;
    }
    if (!bound->IsAny()) continue;
    if (bound->family == ip.family) return true;
    if (bound->family == 6 && ip.family == 4 && socket.ipv4_compat()) return true;
  }
  return false;
}

// ---- string and header matching -------------------------------------------------------------

RE2::Options QuietRegex() {
  RE2::Options options;
  options.set_log_errors(false);  // a bad pattern is reported in the result
  return options;
}

bool FullRegexMatch(const std::string& regex, absl::string_view value, std::string* error) {
  RE2 re(regex, QuietRegex());
  if (!re.ok()) {
    *error = absl::StrCat("invalid regex \"", regex, "\": ", re.error());
    return false;
  }
  return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), re);
}

bool MatchString(const StringMatcher& matcher, absl::string_view value, std::string* error) {
  const bool ignore_case = matcher.ignore_case();
  switch (matcher.match_pattern_case()) {
    case StringMatcher::kExact:
      return ignore_case ? absl::EqualsIgnoreCase(value, matcher.exact())
                         : value == matcher.exact();
    case StringMatcher::kPrefix:
      return ignore_case ? absl::StartsWithIgnoreCase(value, matcher.prefix())
                         : absl::StartsWith(value, matcher.prefix());
    case StringMatcher::kSuffix:
      return ignore_case ? absl::EndsWithIgnoreCase(value, matcher.suffix())
                         : absl::EndsWith(value, matcher.suffix());
    case StringMatcher::kContains:
      return ignore_case ? absl::StrContains(absl::AsciiStrToLower(value),
                                             absl::AsciiStrToLower(matcher.contains()))
                         : absl::StrContains(value, matcher.contains());
    case StringMatcher::kSafeRegex:
      return FullRegexMatch(matcher.safe_regex().regex(), value, error);
    default:
      *error = "string matcher kind not modeled (custom or unset)";
      return false;
  }
}

std::string PercentDecode(absl::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    int hi = 0;
    int lo = 0;
    auto hex = [](char c, int* v) {
      if (c >= '0' && c <= '9')
        *v = c - '0';
      else if (c >= 'a' && c <= 'f')
        *v = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        *v = c - 'A' + 10;
      else
        return false;
      return true;
    };
    if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1], &hi) && hex(in[i + 2], &lo)) {
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

double Percent(const envoy::type::v3::FractionalPercent& fraction) {
  double denominator = 100;
  if (fraction.denominator() == envoy::type::v3::FractionalPercent::TEN_THOUSAND) {
    denominator = 10000;
  } else if (fraction.denominator() == envoy::type::v3::FractionalPercent::MILLION) {
    denominator = 1000000;
  }
  return fraction.numerator() * 100.0 / denominator;
}

absl::Duration ToDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

// The HTTP request as the route table sees it.
struct HttpView {
  const Request* request = nullptr;
  std::string authority;  // after the connection manager's port stripping
  std::string path;       // with the query string
  std::string path_only;  // without query and fragment
  std::string query;

  std::optional<std::string> Header(absl::string_view raw_name) const {
    const std::string name = absl::AsciiStrToLower(raw_name);
    if (name == ":authority" || name == "host") return authority;
    if (name == ":path") return path;
    if (name == ":method") return request->method;
    if (name == ":scheme") return request->scheme;
    std::vector<std::string> values;
    for (const auto& [key, value] : request->headers) {
      if (absl::EqualsIgnoreCase(key, name)) values.push_back(value);
    }
    if (values.empty()) return std::nullopt;
    return absl::StrJoin(values, ",");
  }

  std::optional<std::string> QueryParameter(const std::string& name) const {
    for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
      const size_t eq = pair.find('=');
      const std::string key = PercentDecode(pair.substr(0, eq));
      if (key != name) continue;
      return eq == absl::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1));
    }
    return std::nullopt;
  }
};

bool MatchHeader(const HeaderMatcher& matcher, const HttpView& view, std::string* error) {
  const std::optional<std::string> value = view.Header(matcher.name());
  const bool is_present_kind =
      matcher.header_match_specifier_case() == HeaderMatcher::kPresentMatch ||
      matcher.header_match_specifier_case() == HeaderMatcher::HEADER_MATCH_SPECIFIER_NOT_SET;
  const bool present_wanted = matcher.header_match_specifier_case() == HeaderMatcher::kPresentMatch
                                  ? matcher.present_match()
                                  : true;
  if (!value && !matcher.treat_missing_header_as_empty()) {
    // A missing header matches only "present_match: false" (or an inverted "present: true").
    return is_present_kind && (matcher.invert_match() ? present_wanted : !present_wanted);
  }
  const std::string v = value.value_or("");
  bool matched = false;
  switch (matcher.header_match_specifier_case()) {
    case HeaderMatcher::kExactMatch:
      matched = v == matcher.exact_match();
      break;
    case HeaderMatcher::kSafeRegexMatch:
      matched = FullRegexMatch(matcher.safe_regex_match().regex(), v, error);
      break;
    case HeaderMatcher::kRangeMatch: {
      int64_t n = 0;
      matched = absl::SimpleAtoi(v, &n) && n >= matcher.range_match().start() &&
                n < matcher.range_match().end();
      break;
    }
    case HeaderMatcher::kPresentMatch:
    case HeaderMatcher::HEADER_MATCH_SPECIFIER_NOT_SET:
      matched = present_wanted;
      break;
    case HeaderMatcher::kPrefixMatch:
      matched = absl::StartsWith(v, matcher.prefix_match());
      break;
    case HeaderMatcher::kSuffixMatch:
      matched = absl::EndsWith(v, matcher.suffix_match());
      break;
    case HeaderMatcher::kContainsMatch:
      matched = absl::StrContains(v, matcher.contains_match());
      break;
    case HeaderMatcher::kStringMatch:
      matched = MatchString(matcher.string_match(), v, error);
      break;
  }
  return matched != matcher.invert_match();
}

bool MatchQueryParameter(const QueryParameterMatcher& matcher, const HttpView& view,
                         std::string* error) {
  const std::optional<std::string> value = view.QueryParameter(matcher.name());
  if (!value) return false;
  if (matcher.query_parameter_match_specifier_case() == QueryParameterMatcher::kStringMatch) {
    return MatchString(matcher.string_match(), *value, error);
  }
  return true;  // present_match (or no specifier): present is enough
}

// ---- filter chain matching ------------------------------------------------------------------

// One level of Envoy's filter chain match tree: each candidate gets a rank (higher is more
// specific) or none (does not match); only the candidates with the best rank go on. Envoy
// never backtracks to a less specific branch when a deeper level fails, and this does the same.
using Rank = std::function<std::optional<int>(const FilterChainMatch&)>;

std::optional<int> RankPrefixes(const google::protobuf::RepeatedPtrField<CidrRange>& ranges,
                                const std::optional<Ip>& ip) {
  if (ranges.empty()) return 0;
  std::optional<int> best;
  for (const auto& range : ranges) {
    const std::optional<int> len = CidrMatch(ip, range);
    if (len && (!best || *len > *best)) best = len;
  }
  return best;
}

struct Level {
  const char* name;
  Rank rank;
};

std::vector<Level> MatchLevels(const Request& request) {
  const std::optional<Ip> destination = ParseIp(request.destination_ip);
  const std::optional<Ip> source = ParseIp(request.source_ip);
  const bool local = source && (IsLoopback(*source) || (destination && *source == *destination));
  const std::string sni = absl::AsciiStrToLower(request.sni);
  std::vector<Level> levels;
  levels.push_back(
      {"destination_port", [&request](const FilterChainMatch& m) -> std::optional<int> {
         if (!m.has_destination_port()) return 0;
         if (m.destination_port().value() == request.destination_port) return 1;
         return std::nullopt;
       }});
  levels.push_back({"prefix_ranges", [destination](const FilterChainMatch& m) {
                      return RankPrefixes(m.prefix_ranges(), destination);
                    }});
  levels.push_back({"server_names", [sni](const FilterChainMatch& m) -> std::optional<int> {
                      if (m.server_names().empty()) return 0;
                      std::optional<int> best;
                      for (const auto& raw : m.server_names()) {
                        const std::string name = absl::AsciiStrToLower(raw);
                        if (name == sni && !sni.empty()) return 1000;
                        // "*.example.com" matches "a.example.com", never "example.com"; the
                        // longest wildcard wins.
                        if (absl::StartsWith(name, "*.") && sni.size() > name.size() - 1 &&
                            absl::EndsWith(sni, name.substr(1))) {
                          const int len = static_cast<int>(name.size());
                          if (!best || len > *best) best = len;
                        }
                      }
                      return best;
                    }});
  levels.push_back(
      {"transport_protocol", [&request](const FilterChainMatch& m) -> std::optional<int> {
         if (m.transport_protocol().empty()) return 0;
         if (m.transport_protocol() == request.transport_protocol) return 1;
         return std::nullopt;
       }});
  levels.push_back(
      {"application_protocols", [&request](const FilterChainMatch& m) -> std::optional<int> {
         if (m.application_protocols().empty()) return 0;
         // The client's first protocol that any chain names wins.
         const int n = static_cast<int>(request.alpn.size());
         for (int i = 0; i < n; ++i) {
           for (const auto& p : m.application_protocols()) {
             if (p == request.alpn[i]) return n - i;
           }
         }
         return std::nullopt;
       }});
  levels.push_back({"direct_source_prefix_ranges", [source](const FilterChainMatch& m) {
                      return RankPrefixes(m.direct_source_prefix_ranges(), source);
                    }});
  levels.push_back({"source_type", [local](const FilterChainMatch& m) -> std::optional<int> {
                      switch (m.source_type()) {
                        case FilterChainMatch::SAME_IP_OR_LOOPBACK:
                          return local ? std::optional<int>(1) : std::nullopt;
                        case FilterChainMatch::EXTERNAL:
                          return local ? std::nullopt : std::optional<int>(1);
                        default:
                          return 0;
                      }
                    }});
  levels.push_back({"source_prefix_ranges", [source](const FilterChainMatch& m) {
                      return RankPrefixes(m.source_prefix_ranges(), source);
                    }});
  levels.push_back({"source_ports", [&request](const FilterChainMatch& m) -> std::optional<int> {
                      if (m.source_ports().empty()) return 0;
                      for (uint32_t port : m.source_ports()) {
                        if (port == request.source_port) return 1;
                      }
                      return std::nullopt;
                    }});
  return levels;
}

std::string ChainName(const FilterChain& chain, int index) {
  return chain.name().empty() ? absl::StrCat("#", index) : chain.name();
}

std::string LocalityString(const envoy::config::core::v3::Locality& locality) {
  return absl::StrCat(locality.region(), "/", locality.zone(), "/", locality.sub_zone());
}

// Whether every key of `match` appears with an equal value in the endpoint's
// filter_metadata["envoy.transport_socket_match"]. An empty match matches everything.
bool LabelsMatch(const google::protobuf::Struct& match, const Metadata& metadata) {
  if (match.fields().empty()) return true;
  const auto section = metadata.filter_metadata().find(kTransportSocketMatchKey);
  if (section == metadata.filter_metadata().end()) return false;
  for (const auto& [key, want] : match.fields()) {
    const auto got = section->second.fields().find(key);
    if (got == section->second.fields().end()) return false;
    if (!google::protobuf::util::MessageDifferencer::Equals(want, got->second)) return false;
  }
  return true;
}

UpstreamTransport DescribeTransport(const envoy::config::core::v3::TransportSocket& socket,
                                    const std::string& match_name) {
  UpstreamTransport transport;
  transport.match_name = match_name;
  transport.name = socket.name();
  if (TypeName(socket.typed_config()) == kUpstreamTlsType) {
    envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext tls;
    transport.tls = true;
    if (socket.typed_config().UnpackTo(&tls)) {
      transport.sni = tls.sni();
      const auto& common = tls.common_tls_context();
      for (const auto& sds : common.tls_certificate_sds_secret_configs()) {
        transport.sds_secrets.push_back(sds.name());
      }
      if (common.has_validation_context_sds_secret_config()) {
        transport.sds_secrets.push_back(common.validation_context_sds_secret_config().name());
      } else if (common.has_combined_validation_context()) {
        transport.sds_secrets.push_back(
            common.combined_validation_context().validation_context_sds_secret_config().name());
      }
      transport.alpn.assign(common.alpn_protocols().begin(), common.alpn_protocols().end());
    }
  } else if (socket.name() == "envoy.transport_sockets.tls") {
    transport.tls = true;
  }
  return transport;
}

UpstreamTransport SelectTransport(const Cluster& cluster, const Metadata& endpoint_metadata,
                                  const Metadata& locality_metadata) {
  for (const Metadata* metadata : {&endpoint_metadata, &locality_metadata}) {
    for (const auto& match : cluster.transport_socket_matches()) {
      if (LabelsMatch(match.match(), *metadata)) {
        return DescribeTransport(match.transport_socket(), match.name());
      }
    }
  }
  if (cluster.has_transport_socket()) return DescribeTransport(cluster.transport_socket(), "");
  return UpstreamTransport{};
}

std::string TransportString(const UpstreamTransport& t) {
  if (!t.tls) return t.name.empty() ? "plaintext" : absl::StrCat("plaintext (", t.name, ")");
  std::string out =
      absl::StrCat("TLS sni=", t.sni, " sds=[", absl::StrJoin(t.sds_secrets, ","), "]");
  if (!t.alpn.empty()) absl::StrAppend(&out, " alpn=[", absl::StrJoin(t.alpn, ","), "]");
  if (!t.match_name.empty()) absl::StrAppend(&out, " by match ", t.match_name);
  return out;
}

std::string DataSourceString(const envoy::config::core::v3::DataSource& source) {
  switch (source.specifier_case()) {
    case envoy::config::core::v3::DataSource::kInlineString:
      return source.inline_string();
    case envoy::config::core::v3::DataSource::kInlineBytes:
      return source.inline_bytes();
    case envoy::config::core::v3::DataSource::kFilename:
      return "file:" + source.filename();
    case envoy::config::core::v3::DataSource::kEnvironmentVariable:
      return "env:" + source.environment_variable();
    default:
      return "";
  }
}

// The HTTPFault in a typed_per_filter_config map (directly or in a FilterConfig wrapper).
bool FindFault(const google::protobuf::Map<std::string, google::protobuf::Any>& configs,
               envoy::extensions::filters::http::fault::v3::HTTPFault* fault) {
  for (const auto& [name, any] : configs) {
    if (TypeName(any) == kFaultType) return any.UnpackTo(fault);
    if (TypeName(any) == kFilterConfigType) {
      envoy::config::route::v3::FilterConfig wrapper;
      if (any.UnpackTo(&wrapper) && TypeName(wrapper.config()) == kFaultType) {
        return wrapper.config().UnpackTo(fault);
      }
    }
  }
  return false;
}

bool HasCors(const google::protobuf::Map<std::string, google::protobuf::Any>& configs) {
  for (const auto& [name, any] : configs) {
    if (TypeName(any) == kCorsPolicyType) return true;
  }
  return false;
}

FaultInfo DescribeFault(const envoy::extensions::filters::http::fault::v3::HTTPFault& fault) {
  FaultInfo info;
  info.present = true;
  if (fault.has_abort()) {
    info.abort = true;
    info.abort_http_status = fault.abort().http_status();
    info.abort_grpc_status = fault.abort().grpc_status();
    info.abort_percent = fault.abort().has_percentage() ? Percent(fault.abort().percentage()) : 0;
  }
  if (fault.has_delay()) {
    info.delay = true;
    info.delay_duration = ToDuration(fault.delay().fixed_delay());
    info.delay_percent = fault.delay().has_percentage() ? Percent(fault.delay().percentage()) : 0;
  }
  return info;
}

void AddHeaderChanges(
    const google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>& add,
    const google::protobuf::RepeatedPtrField<std::string>& remove, const std::string& level,
    Result* result) {
  for (const auto& option : add) {
    HeaderChange change;
    change.name = option.header().key();
    change.value = option.header().value();
    change.append = option.has_append()
                        ? option.append().value()
                        : option.append_action() ==
                              envoy::config::core::v3::HeaderValueOption::APPEND_IF_EXISTS_OR_ADD;
    change.level = level;
    result->request_headers_added.push_back(change);
  }
  for (const auto& name : remove) result->request_headers_removed.push_back(name);
}

}  // namespace

// ---- Request ----------------------------------------------------------------------------------

Request Request::OutboundHttp(std::string ip, uint32_t port, std::string authority,
                              std::string path) {
  Request request;
  request.entry = Entry::kOutbound;
  request.destination_ip = std::move(ip);
  request.destination_port = port;
  request.authority = std::move(authority);
  request.path = std::move(path);
  return request;
}

Request Request::OutboundTcp(std::string ip, uint32_t port) {
  Request request;
  request.entry = Entry::kOutbound;
  request.destination_ip = std::move(ip);
  request.destination_port = port;
  return request;
}

Request Request::Inbound(std::string ip, uint32_t port) {
  Request request = OutboundTcp(std::move(ip), port);
  request.entry = Entry::kInbound;
  return request;
}

Request Request::Direct(std::string ip, uint32_t port) {
  Request request = OutboundTcp(std::move(ip), port);
  request.entry = Entry::kDirect;
  return request;
}

Request& Request::WithHeader(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

const char* DecisionName(Decision decision) {
  switch (decision) {
    case Decision::kRoute:
      return "route";
    case Decision::kTcp:
      return "tcp";
    case Decision::kRedirect:
      return "redirect";
    case Decision::kDirectResponse:
      return "direct_response";
    case Decision::kNotFound:
      return "not_found";
    case Decision::kDropped:
      return "dropped";
    case Decision::kError:
      return "error";
    case Decision::kDenied:
      return "denied";
  }
  return "?";
}

// ---- Result -----------------------------------------------------------------------------------

bool Result::ok() const {
  return decision == Decision::kRoute || decision == Decision::kTcp ||
         decision == Decision::kRedirect || decision == Decision::kDirectResponse;
}

std::string Result::cluster() const { return clusters.size() == 1 ? clusters[0].cluster : ""; }

std::map<std::string, double> Result::Distribution() const {
  std::map<std::string, double> shares;
  for (const auto& target : clusters) shares[target.cluster] += target.share;
  return shares;
}

std::string Result::WeightedPick(uint64_t random_value) const {
  uint64_t total = 0;
  for (const auto& target : clusters) total += target.weight;
  if (total == 0) return clusters.empty() ? "" : clusters[0].cluster;
  const uint64_t point = random_value % total;
  uint64_t sum = 0;
  for (const auto& target : clusters) {
    sum += target.weight;
    if (point < sum) return target.cluster;
  }
  return clusters.back().cluster;
}

std::string Result::ToString() const {
  std::string out = absl::StrCat("decision: ", DecisionName(decision));
  if (!reason.empty()) absl::StrAppend(&out, " (", reason, ")");
  if (http_status != 0) absl::StrAppend(&out, " status ", http_status);
  absl::StrAppend(&out, "\n");
  for (const auto& line : trace) absl::StrAppend(&out, "  ", line, "\n");
  for (const auto& target : clusters) {
    absl::StrAppend(&out, "  cluster ", target.cluster, " weight ", target.weight, " share ",
                    target.share);
    if (!target.info.error.empty()) absl::StrAppend(&out, " ERROR ", target.info.error);
    absl::StrAppend(&out, " type ", target.info.type, " lb ", target.info.lb_policy, "\n");
    if (target.info.original_destination) {
      absl::StrAppend(&out, "    forwards to the original destination\n");
    }
    for (const auto& priority : target.info.priorities) {
      for (const auto& endpoint : priority.endpoints) {
        absl::StrAppend(&out, "    p", priority.priority, " ", endpoint.address, " locality ",
                        endpoint.locality, " weight ", endpoint.weight, " ",
                        TransportString(endpoint.transport), "\n");
      }
    }
  }
  if (decision == Decision::kRoute) {
    absl::StrAppend(&out, "  upstream ", upstream_authority, upstream_path, " timeout ",
                    absl::FormatDuration(timeout), timeout_set ? "" : " (default)");
    if (retry.present) {
      absl::StrAppend(&out, " retries ", retry.num_retries, " on ", retry.retry_on);
    }
    if (fault.present) {
      absl::StrAppend(&out, " fault abort ", fault.abort_http_status, "@", fault.abort_percent,
                      "% delay ", absl::FormatDuration(fault.delay_duration), "@",
                      fault.delay_percent, "%");
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

// ---- Mesh -------------------------------------------------------------------------------------

absl::Status Mesh::AddResources(const Resources& resources) {
  for (const auto& resource : resources) {
    const std::string& url = resource->any.type_url();
    bool unpacked = false;
    if (url == kListenerType) {
      Listener listener;
      if ((unpacked = resource->any.UnpackTo(&listener))) AddListener(listener);
    } else if (url == kRouteType) {
      RouteConfiguration route;
      if ((unpacked = resource->any.UnpackTo(&route))) AddRouteConfiguration(route);
    } else if (url == kClusterType) {
      Cluster cluster;
      if ((unpacked = resource->any.UnpackTo(&cluster))) AddCluster(cluster);
    } else if (url == kEndpointType) {
      ClusterLoadAssignment cla;
      if ((unpacked = resource->any.UnpackTo(&cla))) AddClusterLoadAssignment(cla);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("resource ", resource->name, ": type ", url, " is not simulated"));
    }
    if (!unpacked) {
      return absl::InvalidArgumentError(
          absl::StrCat("resource ", resource->name, ": does not unpack as ", url));
    }
  }
  return absl::OkStatus();
}

void Mesh::AddListener(const Listener& listener) { listeners_[listener.name()] = listener; }
void Mesh::AddRouteConfiguration(const RouteConfiguration& route) { routes_[route.name()] = route; }
void Mesh::AddCluster(const Cluster& cluster) { clusters_[cluster.name()] = cluster; }
void Mesh::AddClusterLoadAssignment(const ClusterLoadAssignment& cla) {
  endpoints_[cla.cluster_name()] = cla;
}

ClusterInfo Mesh::ResolveCluster(const std::string& name, const Request& request) const {
  ClusterInfo info;
  info.name = name;
  const auto it = clusters_.find(name);
  if (it == clusters_.end()) {
    info.error = "unknown cluster " + name;
    return info;
  }
  info.found = true;
  const Cluster& cluster = it->second;
  info.lb_policy = Cluster::LbPolicy_Name(cluster.lb_policy());
  if (cluster.has_load_balancing_policy() && cluster.load_balancing_policy().policies_size() > 0) {
    info.lb_policy = TypeName(
        cluster.load_balancing_policy().policies(0).typed_extension_config().typed_config());
  }
  if (cluster.has_transport_socket()) {
    info.transport = DescribeTransport(cluster.transport_socket(), "");
  }
  if (cluster.has_cluster_type()) {
    info.type = cluster.cluster_type().name();
    return info;  // custom cluster types (aggregate, ...): endpoints not modeled
  }
  info.type = Cluster::DiscoveryType_Name(cluster.type());

  const ClusterLoadAssignment* cla = nullptr;
  switch (cluster.type()) {
    case Cluster::EDS: {
      info.eds_service_name = cluster.eds_cluster_config().service_name().empty()
                                  ? name
                                  : cluster.eds_cluster_config().service_name();
      const auto found = endpoints_.find(info.eds_service_name);
      if (found == endpoints_.end()) {
        info.error = absl::StrCat("no ClusterLoadAssignment for ", info.eds_service_name,
                                  " (EDS cluster ", name, ")");
        return info;
      }
      cla = &found->second;
      break;
    }
    case Cluster::ORIGINAL_DST: {
      info.original_destination = true;
      std::string address = HostPort(request.destination_ip, request.destination_port);
      if (cluster.original_dst_lb_config().use_http_header()) {
        const std::string header = cluster.original_dst_lb_config().http_header_name().empty()
                                       ? "x-envoy-original-dst-host"
                                       : cluster.original_dst_lb_config().http_header_name();
        for (const auto& [key, value] : request.headers) {
          if (absl::EqualsIgnoreCase(key, header)) {
            address = value;
            break;
          }
        }
      }
      Endpoint endpoint;
      endpoint.address = address;
      endpoint.health = "UNKNOWN";
      endpoint.transport = SelectTransport(cluster, Metadata(), Metadata());
      info.priorities.push_back(Priority{0, {endpoint}});
      return info;
    }
    default:
      cla = &cluster.load_assignment();
      break;
  }

  std::map<uint32_t, std::vector<Endpoint>> by_priority;
  for (const auto& locality : cla->endpoints()) {
    for (const auto& lb_endpoint : locality.lb_endpoints()) {
      Endpoint endpoint;
      endpoint.address = AddressString(lb_endpoint.endpoint().address());
      endpoint.hostname = lb_endpoint.endpoint().hostname();
      endpoint.locality = LocalityString(locality.locality());
      endpoint.weight =
          lb_endpoint.has_load_balancing_weight() ? lb_endpoint.load_balancing_weight().value() : 1;
      endpoint.locality_weight =
          locality.has_load_balancing_weight() ? locality.load_balancing_weight().value() : 0;
      endpoint.health = envoy::config::core::v3::HealthStatus_Name(lb_endpoint.health_status());
      endpoint.transport = SelectTransport(cluster, lb_endpoint.metadata(), locality.metadata());
      by_priority[locality.priority()].push_back(std::move(endpoint));
    }
  }
  for (auto& [priority, endpoints] : by_priority) {
    info.priorities.push_back(Priority{priority, std::move(endpoints)});
  }
  info.black_hole = cluster.type() != Cluster::EDS && info.priorities.empty();
  return info;
}

// One simulation: the steps share the request, the result, and the mesh.
class Walker {
 public:
  Walker(const Mesh& mesh, const Request& request) : mesh_(mesh), request_(request) {}

  Result Run() {
    const Listener* listener = EntryListener();
    if (listener == nullptr) return std::move(result_);
    const FilterChain* chain = MatchFilterChain(*listener);
    if (chain == nullptr) return std::move(result_);
    RunNetworkFilters(*chain);
    return std::move(result_);
  }

 private:
  void Trace(std::string line) { result_.trace.push_back(std::move(line)); }

  void Fail(Decision decision, std::string reason, uint32_t status = 0) {
    failed_ = true;
    result_.decision = decision;
    result_.reason = std::move(reason);
    result_.http_status = status;
    Trace(absl::StrCat(DecisionName(decision), ": ", result_.reason));
  }

  const Listener* FindBound(const Ip& ip, uint32_t port) const {
    for (bool wildcard : {false, true}) {
      for (const auto& [name, listener] : mesh_.listeners_) {
        if (ListensOn(listener, ip, port, wildcard)) return &listener;
      }
    }
    return nullptr;
  }

  const Listener* FindCapture(const std::string& name, uint32_t port) const {
    const auto it = mesh_.listeners_.find(name);
    if (it != mesh_.listeners_.end()) return &it->second;
    for (const auto& [other, listener] : mesh_.listeners_) {
      if (listener.address().has_socket_address() &&
          listener.address().socket_address().port_value() == port) {
        return &listener;
      }
    }
    return nullptr;
  }

  const Listener* EntryListener() {
    const std::optional<Ip> destination = ParseIp(request_.destination_ip);
    const std::string dialed = HostPort(request_.destination_ip, request_.destination_port);
    if (!destination) {
      Fail(Decision::kError, "destination \"" + request_.destination_ip + "\" is not an IP");
      return nullptr;
    }
    const Listener* listener = nullptr;
    switch (request_.entry) {
      case Entry::kOutbound:
        listener = FindCapture("virtualOutbound", 15001);
        if (listener == nullptr) {
          Fail(Decision::kError, "no virtualOutbound listener (port 15001) to capture " + dialed);
          return nullptr;
        }
        break;
      case Entry::kInbound:
        listener = FindCapture("virtualInbound", 15006);
        if (listener == nullptr) {
          Fail(Decision::kError, "no virtualInbound listener (port 15006) to capture " + dialed);
          return nullptr;
        }
        break;
      case Entry::kDirect:
        listener = FindBound(*destination, request_.destination_port);
        if (listener == nullptr) {
          Fail(Decision::kError, "no listener bound to " + dialed);
          return nullptr;
        }
        break;
    }
    result_.entry_listener = listener->name();
    Trace(absl::StrCat("listener ", listener->name(), " (", AddressString(listener->address()),
                       ") accepts ", dialed));
    if (request_.entry == Entry::kOutbound && listener->use_original_dst().value()) {
      const Listener* handoff = FindBound(*destination, request_.destination_port);
      if (handoff != nullptr && handoff != listener) {
        Trace(absl::StrCat("use_original_dst hands ", dialed, " to listener ", handoff->name(),
                           " (", AddressString(handoff->address()), ")"));
        listener = handoff;
      } else {
        Trace("use_original_dst: no listener bound to " + dialed + ", stays on " +
              listener->name());
      }
    }
    result_.listener = listener->name();
    return listener;
  }

  const FilterChain* MatchFilterChain(const Listener& listener) {
    std::vector<int> candidates;
    for (int i = 0; i < listener.filter_chains_size(); ++i) candidates.push_back(i);
    for (const Level& level : MatchLevels(request_)) {
      std::optional<int> best;
      std::vector<std::pair<int, int>> ranked;
      for (int i : candidates) {
        const std::optional<int> rank = level.rank(listener.filter_chains(i).filter_chain_match());
        if (!rank) continue;
        ranked.emplace_back(i, *rank);
        if (!best || *rank > *best) best = rank;
      }
      candidates.clear();
      for (const auto& [i, rank] : ranked) {
        if (rank == *best) candidates.push_back(i);
      }
      if (candidates.empty()) break;
    }
    if (candidates.size() > 1) {
      Fail(Decision::kError,
           absl::StrCat("filter chains ",
                        ChainName(listener.filter_chains(candidates[0]), candidates[0]), " and ",
                        ChainName(listener.filter_chains(candidates[1]), candidates[1]),
                        " of listener ", listener.name(),
                        " have the same match (Envoy rejects the listener)"));
      return nullptr;
    }
    if (candidates.size() == 1) {
      const FilterChain& chain = listener.filter_chains(candidates[0]);
      result_.filter_chain = ChainName(chain, candidates[0]);
      Trace(absl::StrCat("filter chain ", result_.filter_chain));
      return &chain;
    }
    if (listener.has_default_filter_chain()) {
      result_.filter_chain = listener.default_filter_chain().name().empty()
                                 ? "default_filter_chain"
                                 : listener.default_filter_chain().name();
      result_.default_filter_chain = true;
      Trace("no filter chain matched; default filter chain " + result_.filter_chain);
      return &listener.default_filter_chain();
    }
    Fail(Decision::kDropped, "no filter chain matched on listener " + listener.name());
    return nullptr;
  }

  void RunNetworkFilters(const FilterChain& chain) {
    result_.downstream_tls = chain.has_transport_socket() &&
                             (chain.transport_socket().name() == "envoy.transport_sockets.tls" ||
                              absl::StrContains(chain.transport_socket().typed_config().type_url(),
                                                "DownstreamTlsContext"));
    if (result_.downstream_tls) Trace("chain terminates TLS");
    for (const auto& filter : chain.filters()) {
      result_.network_filters.push_back(filter.name());
      const std::string type = TypeName(filter.typed_config());
      if (type == kHcmType || (type.empty() && filter.name() == kHcmName)) {
        HttpConnectionManager hcm;
        if (!filter.typed_config().UnpackTo(&hcm)) {
          Fail(Decision::kError, "filter " + filter.name() + " does not unpack");
          return;
        }
        Trace("network filter " + filter.name() + " (HTTP connection manager)");
        RunHttp(hcm);
        return;
      }
      if (type == "envoy.extensions.filters.network.rbac.v3.RBAC") {
        envoy::extensions::filters::network::rbac::v3::RBAC config;
        if (!filter.typed_config().UnpackTo(&config)) {
          Fail(Decision::kError, "filter " + filter.name() + " does not unpack");
          return;
        }
        RbacInput in = AuthzInput(nullptr);
        if (config.has_shadow_rules()) {
          ShadowRbac(kNetworkRbacName, config.shadow_rules(), config.shadow_rules_stat_prefix(),
                     in);
        }
        if (!config.has_rules()) continue;  // no rules: Envoy enforces nothing
        if (!CheckRbac(filter.name(), config.rules(), in, 0)) return;
        continue;
      }
      if (type == "envoy.extensions.filters.network.ext_authz.v3.ExtAuthz") {
        envoy::extensions::filters::network::ext_authz::v3::ExtAuthz config;
        if (!filter.typed_config().UnpackTo(&config)) {
          Fail(Decision::kError, "filter " + filter.name() + " does not unpack");
          return;
        }
        const envoy::type::matcher::v3::MetadataMatcher* enabled =
            config.has_filter_enabled_metadata() ? &config.filter_enabled_metadata() : nullptr;
        if (!ExtAuthz(filter.name(), config.grpc_service().envoy_grpc().cluster_name(), enabled,
                      config.failure_mode_allow(), 0)) {
          return;
        }
        continue;
      }
      if (type == kTcpProxyType || (type.empty() && filter.name() == kTcpProxyName)) {
        envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy proxy;
        if (!filter.typed_config().UnpackTo(&proxy)) {
          Fail(Decision::kError, "filter " + filter.name() + " does not unpack");
          return;
        }
        Trace("network filter " + filter.name() + " (TCP proxy)");
        if (proxy.has_weighted_clusters()) {
          uint64_t total = 0;
          for (const auto& c : proxy.weighted_clusters().clusters()) total += c.weight();
          for (const auto& c : proxy.weighted_clusters().clusters()) {
            AddTarget(c.name(), c.weight(), total);
          }
        } else {
          AddTarget(proxy.cluster(), 1, 1);
        }
        Forward(Decision::kTcp);
        return;
      }
      Trace(absl::StrCat("network filter ", filter.name(), " (", type.empty() ? "untyped" : type,
                         ": passed through, not evaluated)"));
    }
    Fail(Decision::kError, "filter chain " + result_.filter_chain + " has no terminal filter");
  }

  void AddTarget(const std::string& cluster, uint32_t weight, uint64_t total) {
    Target target;
    target.cluster = cluster;
    target.weight = weight;
    target.share = total == 0 ? 0.0 : static_cast<double>(weight) / static_cast<double>(total);
    result_.clusters.push_back(std::move(target));
  }

  // Resolves every target's cluster and settles the decision.
  void Forward(Decision decision) {
    const bool http = decision == Decision::kRoute;
    bool all_black_hole = !result_.clusters.empty();
    for (auto& target : result_.clusters) {
      target.info = mesh_.ResolveCluster(target.cluster, request_);
      if (!target.info.error.empty() && target.weight > 0) {
        Fail(Decision::kError, target.info.error, http ? 503 : 0);
        return;
      }
      all_black_hole = all_black_hole && target.info.black_hole;
      Trace(absl::StrCat("cluster ", target.cluster, " (", target.info.type, ")",
                         target.info.original_destination ? ": original destination" : "",
                         target.info.black_hole ? ": no endpoints" : ""));
    }
    if (all_black_hole) {
      Fail(Decision::kDropped,
           absl::StrCat("cluster ", result_.clusters[0].cluster,
                        " has no endpoints: ", http ? "503" : "connection closed"),
           http ? 503 : 0);
      return;
    }
    result_.decision = decision;
  }

  // ---- Authorization (RBAC, jwt_authn) ----

  RbacInput AuthzInput(const HttpView* view) const {
    RbacInput in;
    if (result_.downstream_tls) in.principal = request_.peer_principal;
    in.direct_remote_ip = request_.source_ip;
    in.destination_ip = request_.destination_ip;
    in.destination_port = request_.destination_port;
    in.sni = request_.sni;
    if (view != nullptr) {
      in.http = true;
      in.path = view->path_only;
      in.headers = request_.headers;
      in.headers.emplace_back(":method", request_.method);
      in.headers.emplace_back(":authority", view->authority);
      in.headers.emplace_back(":path", view->path);
      if (jwt_validated_) in.jwt_payload = &request_.jwt_payload;
    }
    return in;
  }

  // False (and the result settled) when the filter refuses.
  bool CheckRbac(const std::string& name, const envoy::config::rbac::v3::RBAC& rules,
                 const RbacInput& in, uint32_t status) {
    RbacVerdict v = EvaluateRbac(rules, in);
    Trace(absl::StrCat(
        "rbac filter ", name, " (", envoy::config::rbac::v3::RBAC::Action_Name(rules.action()),
        "): ", v.policy.empty() ? "no policy matched" : "policy " + v.policy,
        v.allowed ? " -> continue" : " -> deny", v.error.empty() ? "" : " (" + v.error + ")"));
    if (v.allowed) return true;
    result_.authz_filter = name;
    result_.authz_policy = v.policy;
    Fail(Decision::kDenied,
         absl::StrCat("RBAC: access denied by ", name,
                      v.policy.empty() ? " (no policy matched)" : " policy " + v.policy),
         status);
    return false;
  }

  // RBAC shadow rules never refuse: they record the policy that matched in the filter's dynamic
  // metadata (<prefix>shadow_effective_policy_id, <prefix>shadow_engine_result), under the
  // filter's canonical name, as Envoy does.
  void ShadowRbac(const std::string& canonical, const envoy::config::rbac::v3::RBAC& rules,
                  const std::string& prefix, const RbacInput& in) {
    RbacVerdict v = EvaluateRbac(rules, in);
    Trace(absl::StrCat("rbac shadow rules (", canonical,
                       "): ", v.policy.empty() ? "no policy matched" : "policy " + v.policy,
                       v.error.empty() ? "" : " (" + v.error + ")"));
    auto& md = metadata_[canonical];
    if (!v.policy.empty()) md[prefix + "shadow_effective_policy_id"] = v.policy;
    md[prefix + "shadow_engine_result"] = v.allowed ? "allowed" : "denied";
  }

  // filter_enabled_metadata as Envoy reads it; modeled: one key path into a string value.
  bool MetadataMatches(const envoy::type::matcher::v3::MetadataMatcher& m, std::string* error) {
    if (m.path_size() != 1 || !m.value().has_string_match()) {
      *error = "filter_enabled_metadata: only one key and a string_match are modeled";
      return false;
    }
    auto f = metadata_.find(m.filter());
    if (f == metadata_.end()) return m.invert();
    auto v = f->second.find(m.path(0).key());
    if (v == f->second.end()) return m.invert();
    bool match = MatchString(m.value().string_match(), v->second, error);
    return match != m.invert();
  }

  // An ext_authz filter: asks the provider behind `cluster` when `enabled` (null: always)
  // matches; the request's ext_authz_allow is the answer. False (and the result settled) when
  // the request is refused; `error_status` 0 closes the connection (network filter).
  bool ExtAuthz(const std::string& name, const std::string& cluster,
                const envoy::type::matcher::v3::MetadataMatcher* enabled, bool failure_mode_allow,
                uint32_t error_status) {
    if (enabled != nullptr) {
      std::string error;
      bool on = MetadataMatches(*enabled, &error);
      if (!error.empty()) {
        Fail(Decision::kError, absl::StrCat("ext_authz filter ", name, ": ", error));
        return false;
      }
      if (!on) {
        Trace(absl::StrCat("ext_authz filter ", name, ": not enabled for this request"));
        return true;
      }
    }
    if (mesh_.clusters_.find(cluster) == mesh_.clusters_.end()) {
      Fail(Decision::kError,
           absl::StrCat("ext_authz filter ", name, ": cluster \"", cluster, "\" not found (CDS)"));
      return false;
    }
    result_.ext_authz_checked.push_back(cluster);
    const uint32_t deny_status = error_status == 0 ? 0 : 403;
    if (!request_.ext_authz_allow.has_value()) {
      Trace(absl::StrCat("ext_authz filter ", name, ": ", cluster, " does not answer",
                         failure_mode_allow ? " -> failure_mode_allow" : " -> deny"));
      if (failure_mode_allow) return true;
      result_.authz_filter = name;
      Fail(Decision::kDenied, "ext_authz: authorization service unavailable", error_status);
      return false;
    }
    Trace(absl::StrCat("ext_authz filter ", name, ": ", cluster,
                       *request_.ext_authz_allow ? " allows" : " denies"));
    if (*request_.ext_authz_allow) return true;
    result_.authz_filter = name;
    Fail(Decision::kDenied, absl::StrCat("ext_authz: denied by ", cluster), deny_status);
    return false;
  }

  bool RunAuthzHttpFilters(const HttpConnectionManager& hcm, const HttpView& view) {
    for (const auto& filter : hcm.http_filters()) {
      const std::string type = TypeName(filter.typed_config());
      if (type == "envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication") {
        envoy::extensions::filters::http::jwt_authn::v3::JwtAuthentication config;
        if (!filter.typed_config().UnpackTo(&config)) {
          Fail(Decision::kError, "filter " + filter.name() + " does not unpack");
          return false;
        }
        if (request_.jwt_invalid) {
          result_.authz_filter = filter.name();
          Fail(Decision::kDenied, "Jwt verification fails", 401);
          return false;
        }
        if (request_.jwt_payload.empty()) continue;  // missing token: the requirement allows it
        auto iss = request_.jwt_payload.find("iss");
        bool known = false;
        for (const auto& [name, provider] : config.providers()) {
          if (iss != request_.jwt_payload.end() && iss->second.size() == 1 &&
              iss->second[0] == provider.issuer()) {
            known = true;
          }
        }
        if (!known) {
          result_.authz_filter = filter.name();
          Fail(Decision::kDenied, "Jwt issuer is not configured", 401);
          return false;
        }
        jwt_validated_ = true;
        Trace("jwt_authn: token validated");
        continue;
      }
      if (type == "envoy.extensions.filters.http.rbac.v3.RBAC") {
        envoy::extensions::filters::http::rbac::v3::RBAC config;
        if (!filter.typed_config().UnpackTo(&config)) {
          Fail(Decision::kError, "filter " + filter.name() + " does not unpack");
          return false;
        }
        if (config.has_shadow_rules()) {
          ShadowRbac(kHttpRbacName, config.shadow_rules(), config.shadow_rules_stat_prefix(),
                     AuthzInput(&view));
        }
        if (!config.has_rules()) continue;
        if (!CheckRbac(filter.name(), config.rules(), AuthzInput(&view), 403)) return false;
        continue;
      }
      if (type == "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz") {
        envoy::extensions::filters::http::ext_authz::v3::ExtAuthz config;
        if (!filter.typed_config().UnpackTo(&config)) {
          Fail(Decision::kError, "filter " + filter.name() + " does not unpack");
          return false;
        }
        const std::string cluster = config.has_http_service()
                                        ? config.http_service().server_uri().cluster()
                                        : config.grpc_service().envoy_grpc().cluster_name();
        const envoy::type::matcher::v3::MetadataMatcher* enabled =
            config.has_filter_enabled_metadata() ? &config.filter_enabled_metadata() : nullptr;
        uint32_t on_error = config.has_status_on_error() ? config.status_on_error().code() : 403;
        if (!ExtAuthz(filter.name(), cluster, enabled, config.failure_mode_allow(), on_error)) {
          return false;
        }
      }
    }
    return true;
  }

  // ---- HTTP ----

  void RunHttp(const HttpConnectionManager& hcm) {
    for (const auto& filter : hcm.http_filters()) result_.http_filters.push_back(filter.name());
    const RouteConfiguration* config = nullptr;
    switch (hcm.route_specifier_case()) {
      case HttpConnectionManager::kRds: {
        const std::string& name = hcm.rds().route_config_name();
        const auto it = mesh_.routes_.find(name);
        if (it == mesh_.routes_.end()) {
          Fail(Decision::kError, "route configuration \"" + name + "\" not found (RDS)");
          return;
        }
        config = &it->second;
        result_.route_config = name;
        Trace("route configuration " + name + " (RDS)");
        break;
      }
      case HttpConnectionManager::kRouteConfig:
        config = &hcm.route_config();
        result_.route_config = config->name().empty() ? "(inline)" : config->name();
        Trace("route configuration " + result_.route_config + " (inline)");
        break;
      default:
        Fail(Decision::kError, "route specifier not modeled (scoped routes)");
        return;
    }

    HttpView view;
    view.request = &request_;
    view.authority = request_.authority.empty()
                         ? HostPort(request_.destination_ip, request_.destination_port)
                         : request_.authority;
    const auto [host, port] = SplitHostPort(view.authority);
    if (port >= 0 &&
        (hcm.strip_any_host_port() || (hcm.strip_matching_host_port() &&
                                       static_cast<uint32_t>(port) == request_.destination_port))) {
      view.authority = host;
      Trace("connection manager strips the port: authority " + host);
    }
    view.path = request_.path;
    const size_t query = view.path.find_first_of("?#");
    view.path_only = view.path.substr(0, query);
    if (query != std::string::npos && view.path[query] == '?') {
      const size_t fragment = view.path.find('#', query);
      view.query = view.path.substr(
          query + 1, fragment == std::string::npos ? std::string::npos : fragment - query - 1);
    }

    if (!RunAuthzHttpFilters(hcm, view)) return;

    std::string host_for_match = absl::AsciiStrToLower(view.authority);
    if (config->ignore_port_in_host_matching())
      host_for_match = SplitHostPort(host_for_match).first;
    const VirtualHost* vhost = FindVirtualHost(*config, host_for_match);
    if (failed_) return;
    if (vhost == nullptr) {
      Fail(Decision::kNotFound,
           absl::StrCat("no virtual host for \"", host_for_match, "\" in ", result_.route_config),
           404);
      return;
    }
    result_.virtual_host = vhost->name();
    Trace(absl::StrCat("virtual host ", vhost->name(), " for \"", host_for_match, "\""));
    if (vhost->has_matcher()) {
      Fail(Decision::kError, "virtual host matcher tree not modeled");
      return;
    }

    const Route* route = nullptr;
    size_t matched_len = 0;
    for (int i = 0; i < vhost->routes_size(); ++i) {
      std::string error;
      size_t len = 0;
      const bool matched = MatchRoute(vhost->routes(i), view, &len, &error);
      if (!error.empty()) {
        Fail(Decision::kError, absl::StrCat("route #", i, " of ", vhost->name(), ": ", error));
        return;
      }
      if (matched) {
        route = &vhost->routes(i);
        matched_len = len;
        result_.route = route->name().empty() ? absl::StrCat("#", i) : route->name();
        break;
      }
    }
    if (route == nullptr) {
      Fail(Decision::kNotFound,
           absl::StrCat("no route in ", vhost->name(), " matches ", request_.method, " ",
                        request_.path),
           404);
      return;
    }
    Trace("route " + result_.route);

    // Per-filter configs and header changes: the most specific level first.
    envoy::extensions::filters::http::fault::v3::HTTPFault fault;
    if (FindFault(route->typed_per_filter_config(), &fault) ||
        FindFault(vhost->typed_per_filter_config(), &fault) ||
        FindFault(config->typed_per_filter_config(), &fault)) {
      result_.fault = DescribeFault(fault);
    } else {
      for (const auto& filter : hcm.http_filters()) {
        if (TypeName(filter.typed_config()) == kFaultType &&
            filter.typed_config().UnpackTo(&fault) && (fault.has_abort() || fault.has_delay())) {
          result_.fault = DescribeFault(fault);
        }
      }
    }
    if (result_.fault.present) Trace("fault injection configured");
    result_.cors = HasCors(route->typed_per_filter_config()) ||
                   HasCors(vhost->typed_per_filter_config()) || vhost->has_cors() ||
                   (route->has_route() && route->route().has_cors());
    AddHeaderChanges(route->request_headers_to_add(), route->request_headers_to_remove(), "route",
                     &result_);
    AddHeaderChanges(vhost->request_headers_to_add(), vhost->request_headers_to_remove(),
                     "virtual_host", &result_);
    AddHeaderChanges(config->request_headers_to_add(), config->request_headers_to_remove(),
                     "route_configuration", &result_);

    switch (route->action_case()) {
      case Route::kRoute:
        RunRouteAction(route->route(), *vhost, view, matched_len);
        return;
      case Route::kRedirect:
        RunRedirect(route->redirect(), view, matched_len);
        return;
      case Route::kDirectResponse:
        result_.decision = Decision::kDirectResponse;
        result_.direct_response.status = route->direct_response().status();
        result_.direct_response.body = DataSourceString(route->direct_response().body());
        result_.http_status = result_.direct_response.status;
        Trace(absl::StrCat("direct response ", result_.http_status));
        return;
      default:
        Fail(Decision::kError, "route action not modeled (filter_action / non_forwarding)");
        return;
    }
  }

  const VirtualHost* FindVirtualHost(const RouteConfiguration& config, const std::string& host) {
    std::map<std::string, const VirtualHost*> exact;
    std::map<size_t, std::map<std::string, const VirtualHost*>, std::greater<size_t>> suffixes;
    std::map<size_t, std::map<std::string, const VirtualHost*>, std::greater<size_t>> prefixes;
    const VirtualHost* fallback = nullptr;
    for (const auto& vhost : config.virtual_hosts()) {
      for (const auto& raw : vhost.domains()) {
        const std::string domain = absl::AsciiStrToLower(raw);
        bool duplicate = false;
        if (domain == "*") {
          duplicate = fallback != nullptr;
          fallback = &vhost;
        } else if (domain.size() > 1 && domain.front() == '*') {
          const std::string key = domain.substr(1);
          duplicate = !suffixes[key.size()].emplace(key, &vhost).second;
        } else if (domain.size() > 1 && domain.back() == '*') {
          const std::string key = domain.substr(0, domain.size() - 1);
          duplicate = !prefixes[key.size()].emplace(key, &vhost).second;
        } else {
          duplicate = !exact.emplace(domain, &vhost).second;
        }
        if (duplicate) {
          Fail(Decision::kError,
               absl::StrCat("duplicate domain \"", domain, "\" in route configuration ",
                            result_.route_config, " (Envoy rejects it)"));
          return nullptr;
        }
      }
    }
    if (const auto it = exact.find(host); it != exact.end()) return it->second;
    for (const auto& [len, keys] : suffixes) {
      if (len >= host.size()) continue;
      if (const auto it = keys.find(host.substr(host.size() - len)); it != keys.end()) {
        return it->second;
      }
    }
    for (const auto& [len, keys] : prefixes) {
      if (len >= host.size()) continue;
      if (const auto it = keys.find(host.substr(0, len)); it != keys.end()) return it->second;
    }
    return fallback;
  }

  bool MatchRoute(const Route& route, const HttpView& view, size_t* matched_len,
                  std::string* error) {
    const auto& match = route.match();
    const bool case_sensitive = !match.has_case_sensitive() || match.case_sensitive().value();
    const std::string& path = view.path_only;
    bool path_ok = false;
    switch (match.path_specifier_case()) {
      case envoy::config::route::v3::RouteMatch::kPrefix:
        path_ok = case_sensitive ? absl::StartsWith(path, match.prefix())
                                 : absl::StartsWithIgnoreCase(path, match.prefix());
        *matched_len = match.prefix().size();
        break;
      case envoy::config::route::v3::RouteMatch::kPath:
        path_ok =
            case_sensitive ? path == match.path() : absl::EqualsIgnoreCase(path, match.path());
        *matched_len = path.size();
        break;
      case envoy::config::route::v3::RouteMatch::kSafeRegex:
        path_ok = FullRegexMatch(match.safe_regex().regex(), path, error);
        *matched_len = path.size();
        break;
      case envoy::config::route::v3::RouteMatch::kPathSeparatedPrefix: {
        const std::string& prefix = match.path_separated_prefix();
        path_ok = (case_sensitive ? absl::StartsWith(path, prefix)
                                  : absl::StartsWithIgnoreCase(path, prefix)) &&
                  (path.size() == prefix.size() || path[prefix.size()] == '/');
        *matched_len = prefix.size();
        break;
      }
      case envoy::config::route::v3::RouteMatch::kConnectMatcher:
        path_ok = request_.method == "CONNECT";
        *matched_len = 0;
        break;
      default:
        *error = "path specifier not modeled (path_match_policy or unset)";
        return false;
    }
    if (!path_ok || !error->empty()) return false;
    for (const auto& header : match.headers()) {
      if (!MatchHeader(header, view, error)) return false;
    }
    for (const auto& parameter : match.query_parameters()) {
      if (!MatchQueryParameter(parameter, view, error)) return false;
    }
    if (match.has_grpc()) {
      const std::optional<std::string> type = view.Header("content-type");
      if (!type || !absl::StartsWith(*type, "application/grpc")) return false;
    }
    return error->empty();
  }

  std::string RewritePath(const std::string& prefix_rewrite,
                          const envoy::type::matcher::v3::RegexMatchAndSubstitute* regex,
                          const HttpView& view, size_t matched_len) {
    const std::string tail = view.path.substr(view.path_only.size());  // query and fragment
    if (!prefix_rewrite.empty()) {
      return prefix_rewrite + view.path.substr(std::min(matched_len, view.path.size()));
    }
    if (regex != nullptr) {
      std::string rewritten = view.path_only;
      RE2 re(regex->pattern().regex(), QuietRegex());
      if (!re.ok()) {
        Fail(Decision::kError, "invalid regex \"" + regex->pattern().regex() + "\"");
        return view.path;
      }
      RE2::GlobalReplace(&rewritten, re, regex->substitution());
      return rewritten + tail;
    }
    return view.path;
  }

  void RunRouteAction(const RouteAction& action, const VirtualHost& vhost, const HttpView& view,
                      size_t matched_len) {
    switch (action.cluster_specifier_case()) {
      case RouteAction::kCluster:
        AddTarget(action.cluster(), 1, 1);
        break;
      case RouteAction::kClusterHeader: {
        const std::optional<std::string> name = view.Header(action.cluster_header());
        if (!name || name->empty()) {
          Fail(Decision::kNotFound, "cluster header " + action.cluster_header() + " missing", 404);
          return;
        }
        AddTarget(name->substr(0, name->find(',')), 1, 1);
        break;
      }
      case RouteAction::kWeightedClusters: {
        const auto& weighted = action.weighted_clusters();
        uint64_t total = 0;
        for (const auto& c : weighted.clusters()) total += c.weight().value();
        if (weighted.has_total_weight()) total = weighted.total_weight().value();
        for (const auto& c : weighted.clusters()) {
          std::string name = c.name();
          if (name.empty() && !c.cluster_header().empty()) {
            name = view.Header(c.cluster_header()).value_or("");
          }
          AddTarget(name, c.weight().value(), total);
        }
        break;
      }
      default:
        Fail(Decision::kError, "cluster specifier not modeled (cluster_specifier_plugin)", 503);
        return;
    }

    result_.upstream_authority = view.authority;
    if (action.host_rewrite_specifier_case() == RouteAction::kHostRewriteLiteral) {
      result_.upstream_authority = action.host_rewrite_literal();
    } else if (!action.host_rewrite_header().empty()) {
      result_.upstream_authority =
          view.Header(action.host_rewrite_header()).value_or(view.authority);
    } else if (action.has_auto_host_rewrite() && action.auto_host_rewrite().value()) {
      Trace("auto_host_rewrite: the upstream host's hostname (not modeled)");
    }
    result_.upstream_path = RewritePath(
        action.prefix_rewrite(), action.has_regex_rewrite() ? &action.regex_rewrite() : nullptr,
        view, matched_len);
    if (failed_) return;
    if (result_.upstream_path != view.path || result_.upstream_authority != view.authority) {
      Trace("rewrite to " + result_.upstream_authority + result_.upstream_path);
    }

    if (action.has_timeout()) {
      result_.timeout = ToDuration(action.timeout());
      result_.timeout_set = true;
    }
    const envoy::config::route::v3::RetryPolicy* retry =
        action.has_retry_policy()  ? &action.retry_policy()
        : vhost.has_retry_policy() ? &vhost.retry_policy()
                                   : nullptr;
    if (retry != nullptr) {
      result_.retry.present = true;
      result_.retry.retry_on = retry->retry_on();
      result_.retry.num_retries = retry->has_num_retries() ? retry->num_retries().value() : 1;
      if (retry->has_per_try_timeout()) {
        result_.retry.per_try_timeout = ToDuration(retry->per_try_timeout());
      }
    }
    const auto& mirrors = action.request_mirror_policies().empty()
                              ? vhost.request_mirror_policies()
                              : action.request_mirror_policies();
    for (const auto& mirror : mirrors) {
      MirrorInfo info;
      info.cluster = mirror.cluster();
      if (mirror.has_runtime_fraction()) {
        info.percent = Percent(mirror.runtime_fraction().default_value());
      }
      result_.mirrors.push_back(info);
    }
    result_.hash_policy = action.hash_policy_size() > 0;
    Forward(Decision::kRoute);
  }

  void RunRedirect(const envoy::config::route::v3::RedirectAction& redirect, const HttpView& view,
                   size_t matched_len) {
    using envoy::config::route::v3::RedirectAction;
    RedirectInfo& info = result_.redirect;
    switch (redirect.response_code()) {
      case RedirectAction::FOUND:
        info.status = 302;
        break;
      case RedirectAction::SEE_OTHER:
        info.status = 303;
        break;
      case RedirectAction::TEMPORARY_REDIRECT:
        info.status = 307;
        break;
      case RedirectAction::PERMANENT_REDIRECT:
        info.status = 308;
        break;
      default:
        info.status = 301;
        break;
    }
    info.scheme = request_.scheme;
    if (redirect.https_redirect()) info.scheme = "https";
    if (!redirect.scheme_redirect().empty()) info.scheme = redirect.scheme_redirect();
    auto [host, port] = SplitHostPort(view.authority);
    if (!redirect.host_redirect().empty()) host = redirect.host_redirect();
    if (redirect.port_redirect() != 0) port = static_cast<int>(redirect.port_redirect());
    // A scheme change drops the old scheme's default port, as Envoy does.
    if (redirect.https_redirect() && port == 80 && redirect.port_redirect() == 0) port = -1;
    info.host = port >= 0 ? absl::StrCat(host, ":", port) : host;
    std::string path = view.path;
    if (!redirect.path_redirect().empty()) {
      path = redirect.path_redirect();
      if (path.find('?') == std::string::npos && !redirect.strip_query()) {
        path += view.path.substr(view.path_only.size());
      }
    } else {
      path = RewritePath(redirect.prefix_rewrite(),
                         redirect.has_regex_rewrite() ? &redirect.regex_rewrite() : nullptr, view,
                         matched_len);
      if (redirect.strip_query()) path = path.substr(0, path.find('?'));
    }
    info.path = path;
    info.location = absl::StrCat(info.scheme, "://", info.host, info.path);
    result_.decision = Decision::kRedirect;
    result_.http_status = info.status;
    Trace(absl::StrCat("redirect ", info.status, " to ", info.location));
  }

  const Mesh& mesh_;
  const Request& request_;
  Result result_;
  bool failed_ = false;
  bool jwt_validated_ = false;
  // Dynamic metadata set by filters (RBAC shadow rules): filter name -> key -> value.
  std::map<std::string, std::map<std::string, std::string>> metadata_;
};

Result Mesh::Simulate(const Request& request) const { return Walker(*this, request).Run(); }

}  // namespace meshd::xds::sim
