#include "tests/xds/sim/rbac_eval.h"

#include <arpa/inet.h>

#include <array>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "re2/re2.h"

namespace meshd::xds::sim {
namespace {

namespace rbac = envoy::config::rbac::v3;
using envoy::type::matcher::v3::StringMatcher;

class Evaluator {
 public:
  explicit Evaluator(const RbacInput& in) : in_(in) {}

  bool Match(const StringMatcher& m, const std::string& raw) {
    std::string v = m.ignore_case() ? absl::AsciiStrToLower(raw) : raw;
    auto norm = [&m](const std::string& s) {
      return m.ignore_case() ? absl::AsciiStrToLower(s) : s;
    };
    switch (m.match_pattern_case()) {
      case StringMatcher::kExact:
        return v == norm(m.exact());
      case StringMatcher::kPrefix:
        return absl::StartsWith(v, norm(m.prefix()));
      case StringMatcher::kSuffix:
        return absl::EndsWith(v, norm(m.suffix()));
      case StringMatcher::kContains:
        return absl::StrContains(v, norm(m.contains()));
      case StringMatcher::kSafeRegex: {
        RE2 re(m.safe_regex().regex());
        if (!re.ok()) {
          Error("invalid regex " + m.safe_regex().regex());
          return false;
        }
        return RE2::FullMatch(raw, re);
      }
      default:
        Error("string matcher not modeled");
        return false;
    }
  }

  std::optional<std::string> Header(const std::string& name) const {
    std::vector<std::string> values;
    for (const auto& [k, v] : in_.headers) {
      if (absl::EqualsIgnoreCase(k, name)) values.push_back(v);
    }
    if (values.empty()) return std::nullopt;
    return absl::StrJoin(values, ",");
  }

  bool HeaderMatch(const envoy::config::route::v3::HeaderMatcher& h) {
    std::optional<std::string> v = Header(h.name());
    bool result;
    switch (h.header_match_specifier_case()) {
      case envoy::config::route::v3::HeaderMatcher::kStringMatch:
        result = v.has_value() && Match(h.string_match(), *v);
        break;
      // The per-kind fields proxyless gRPC gets (Envoy reads them as the string_match forms).
      case envoy::config::route::v3::HeaderMatcher::kExactMatch:
      case envoy::config::route::v3::HeaderMatcher::kPrefixMatch:
      case envoy::config::route::v3::HeaderMatcher::kSuffixMatch:
      case envoy::config::route::v3::HeaderMatcher::kContainsMatch:
      case envoy::config::route::v3::HeaderMatcher::kSafeRegexMatch: {
        envoy::type::matcher::v3::StringMatcher m;
        if (h.has_safe_regex_match()) *m.mutable_safe_regex() = h.safe_regex_match();
        if (!h.exact_match().empty()) m.set_exact(h.exact_match());
        if (!h.prefix_match().empty()) m.set_prefix(h.prefix_match());
        if (!h.suffix_match().empty()) m.set_suffix(h.suffix_match());
        if (!h.contains_match().empty()) m.set_contains(h.contains_match());
        result = v.has_value() && Match(m, *v);
        break;
      }
      case envoy::config::route::v3::HeaderMatcher::kPresentMatch:
        result = v.has_value() == h.present_match();
        break;
      default:
        result = v.has_value();
        break;
    }
    return h.invert_match() ? !result : result;
  }

  static bool InCidr(const envoy::config::core::v3::CidrRange& range, const std::string& ip) {
    std::array<unsigned char, 16> a{}, b{};
    const bool v6 = absl::StrContains(range.address_prefix(), ':');
    if (v6 != absl::StrContains(ip, ':')) return false;
    const int family = v6 ? AF_INET6 : AF_INET;
    if (inet_pton(family, range.address_prefix().c_str(), a.data()) != 1) return false;
    if (inet_pton(family, ip.c_str(), b.data()) != 1) return false;
    uint32_t bits = range.has_prefix_len() ? range.prefix_len().value() : (v6 ? 128 : 32);
    for (uint32_t i = 0; i < bits; ++i) {
      const int mask = 0x80 >> (i % 8);
      if ((a[i / 8] & mask) != (b[i / 8] & mask)) return false;
    }
    return true;
  }

  bool Metadata(const envoy::type::matcher::v3::MetadataMatcher& m) {
    if (m.filter() != "envoy.filters.http.jwt_authn") {
      if (absl::StartsWith(m.filter(), "envoy.filters.")) return m.invert();  // no metadata
      Error("metadata filter " + m.filter() + " not modeled");
      return false;
    }
    bool result = false;
    if (in_.jwt_payload != nullptr && m.path_size() >= 2) {
      std::vector<std::string> keys;
      for (int i = 1; i < m.path_size(); ++i) keys.push_back(m.path(i).key());
      auto it = in_.jwt_payload->find(absl::StrJoin(keys, "."));
      if (it != in_.jwt_payload->end()) {
        const auto& value = m.value();
        if (value.has_string_match()) {
          result = it->second.size() == 1 && Match(value.string_match(), it->second[0]);
        } else if (value.has_list_match() && value.list_match().one_of().has_string_match()) {
          for (const auto& v : it->second) {
            if (Match(value.list_match().one_of().string_match(), v)) result = true;
          }
        } else if (value.has_present_match()) {
          result = true;
        } else {
          Error("metadata value matcher not modeled");
        }
      }
    }
    return m.invert() ? !result : result;
  }

  bool Principal(const rbac::Principal& p) {
    switch (p.identifier_case()) {
      case rbac::Principal::kAny:
        return p.any();
      case rbac::Principal::kAndIds:
        for (const auto& c : p.and_ids().ids()) {
          if (!Principal(c)) return false;
        }
        return true;
      case rbac::Principal::kOrIds:
        for (const auto& c : p.or_ids().ids()) {
          if (Principal(c)) return true;
        }
        return false;
      case rbac::Principal::kNotId:
        return !Principal(p.not_id());
      case rbac::Principal::kAuthenticated:
        if (in_.principal.empty()) return false;
        return !p.authenticated().has_principal_name() ||
               Match(p.authenticated().principal_name(), in_.principal);
      case rbac::Principal::kDirectRemoteIp:
        return InCidr(p.direct_remote_ip(), in_.direct_remote_ip);
      case rbac::Principal::kRemoteIp:
        return InCidr(p.remote_ip(), in_.remote_ip.empty() ? in_.direct_remote_ip : in_.remote_ip);
      case rbac::Principal::kHeader:
        return in_.http && HeaderMatch(p.header());
      case rbac::Principal::kUrlPath:
        return in_.http && Match(p.url_path().path(), in_.path);
      case rbac::Principal::kMetadata:
        return Metadata(p.metadata());
      default:
        Error("principal not modeled");
        return false;
    }
  }

  bool Permission(const rbac::Permission& p) {
    switch (p.rule_case()) {
      case rbac::Permission::kAny:
        return p.any();
      case rbac::Permission::kAndRules:
        for (const auto& c : p.and_rules().rules()) {
          if (!Permission(c)) return false;
        }
        return true;
      case rbac::Permission::kOrRules:
        for (const auto& c : p.or_rules().rules()) {
          if (Permission(c)) return true;
        }
        return false;
      case rbac::Permission::kNotRule:
        return !Permission(p.not_rule());
      case rbac::Permission::kHeader:
        return in_.http && HeaderMatch(p.header());
      case rbac::Permission::kUrlPath:
        return in_.http && Match(p.url_path().path(), in_.path);
      case rbac::Permission::kDestinationIp:
        return InCidr(p.destination_ip(), in_.destination_ip);
      case rbac::Permission::kDestinationPort:
        return p.destination_port() == in_.destination_port;
      case rbac::Permission::kDestinationPortRange:
        return static_cast<int64_t>(in_.destination_port) >= p.destination_port_range().start() &&
               static_cast<int64_t>(in_.destination_port) < p.destination_port_range().end();
      case rbac::Permission::kRequestedServerName:
        return Match(p.requested_server_name(), in_.sni);
      case rbac::Permission::kMetadata:
        return Metadata(p.metadata());
      default:
        Error("permission not modeled");
        return false;
    }
  }

  bool PolicyMatches(const rbac::Policy& policy) {
    bool perm = false;
    for (const auto& p : policy.permissions()) {
      if (Permission(p)) perm = true;
    }
    if (!perm) return false;
    for (const auto& id : policy.principals()) {
      if (Principal(id)) return true;
    }
    return false;
  }

  std::string error;

 private:
  void Error(const std::string& e) {
    if (error.empty()) error = e;
  }
  const RbacInput& in_;
};

}  // namespace

RbacVerdict EvaluateRbac(const envoy::config::rbac::v3::RBAC& rbac, const RbacInput& input) {
  Evaluator eval(input);
  RbacVerdict out;
  // Envoy walks policies in map order; with a std::map-like deterministic order here.
  std::map<std::string, const rbac::Policy*> sorted;
  for (const auto& [name, p] : rbac.policies()) sorted.emplace(name, &p);
  for (const auto& [name, p] : sorted) {
    if (eval.PolicyMatches(*p)) {
      out.policy = name;
      break;
    }
  }
  out.error = eval.error;
  switch (rbac.action()) {
    case envoy::config::rbac::v3::RBAC::ALLOW:
      out.allowed = !out.policy.empty();
      break;
    case envoy::config::rbac::v3::RBAC::DENY:
      out.allowed = out.policy.empty();
      break;
    default:
      out.allowed = true;  // LOG
      break;
  }
  if (!out.error.empty()) out.allowed = false;
  return out;
}

}  // namespace meshd::xds::sim
