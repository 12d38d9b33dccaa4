#include "xds/gen/authz.h"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/common/metrics.h"
#include "envoy/extensions/filters/http/ext_authz/v3/ext_authz.pb.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/ext_authz/v3/ext_authz.pb.h"
#include "envoy/extensions/filters/network/rbac/v3/rbac.pb.h"
#include "re2/re2.h"
#include "spdlog/spdlog.h"
#include "xds/gen/jwt_authn.h"

namespace meshd::xds {
namespace {

namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
namespace rbac = envoy::config::rbac::v3;
using envoy::type::matcher::v3::StringMatcher;
using model::AuthorizationPolicy;

bool Selects(const std::optional<std::map<std::string, std::string>>& selector,
             const std::map<std::string, std::string>& labels) {
  if (!selector) return true;
  for (const auto& [k, v] : *selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

// Istio's value forms: "*" presence, "a*" prefix, "*a" suffix, else exact.
StringMatcher Match(const std::string& v, const std::string& exact_prefix = "") {
  StringMatcher m;
  if (v == "*") {
    m.mutable_safe_regex()->set_regex(".+");
  } else if (absl::EndsWith(v, "*")) {
    m.set_prefix(exact_prefix + v.substr(0, v.size() - 1));
  } else if (absl::StartsWith(v, "*")) {
    m.set_suffix(v.substr(1));
  } else {
    m.set_exact(exact_prefix + v);
  }
  return m;
}

// A path with `{*}` / `{**}` → an anchored regex; other paths → Match().
StringMatcher PathMatch(const std::string& v) {
  if (v.find('{') == std::string::npos) return Match(v);
  std::string regex;
  std::vector<std::string> segments = absl::StrSplit(v, '/');
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) regex += "/";
    if (segments[i] == "{*}") {
      regex += "[^/]+";
    } else if (segments[i] == "{**}") {
      regex += ".+";
    } else {
      regex += RE2::QuoteMeta(segments[i]);
    }
  }
  StringMatcher m;
  m.mutable_safe_regex()->set_regex(regex);
  return m;
}

rbac::Principal Authenticated(const StringMatcher& m) {
  rbac::Principal p;
  *p.mutable_authenticated()->mutable_principal_name() = m;
  return p;
}

// The namespace part of a SPIFFE ID, as istiod: ".*/ns/<ns>/.*".
rbac::Principal NamespacePrincipal(const std::string& ns) {
  std::string part;
  if (ns == "*") {
    part = "[^/]+";
  } else if (absl::EndsWith(ns, "*")) {
    part = RE2::QuoteMeta(ns.substr(0, ns.size() - 1)) + "[^/]*";
  } else if (absl::StartsWith(ns, "*")) {
    part = "[^/]*" + RE2::QuoteMeta(ns.substr(1));
  } else {
    part = RE2::QuoteMeta(ns);
  }
  StringMatcher m;
  m.mutable_safe_regex()->set_regex(".*/ns/" + part + "/.*");
  return Authenticated(m);
}

bool ParseCidr(const std::string& s, envoy::config::core::v3::CidrRange* out) {
  std::pair<std::string, std::string> parts = absl::StrSplit(s, absl::MaxSplits('/', 1));
  out->set_address_prefix(parts.first);
  uint32_t len = absl::StrContains(parts.first, ':') ? 128 : 32;
  if (!parts.second.empty() && !absl::SimpleAtoi(parts.second, &len)) return false;
  out->mutable_prefix_len()->set_value(len);
  return true;
}

// Validated port strings; 0 (never a destination) if not a number.
void SetPort(const std::string& v, rbac::Permission* p) {
  uint32_t port = 0;
  if (!absl::SimpleAtoi(v, &port)) port = 0;
  p->set_destination_port(port);
}

// Sets a header matcher. Envoy reads string_match; gRPC 1.51's xDS client only knows the older
// per-kind fields (it NACKs string_match as "invalid route header matcher"), which Envoy still
// accepts, so proxyless gRPC gets those (`legacy`), ignore_case as an RE2 (?i) regex.
void SetHeaderMatch(const StringMatcher& m, bool legacy,
                    envoy::config::route::v3::HeaderMatcher* h) {
  if (!legacy) {
    *h->mutable_string_match() = m;
    return;
  }
  auto regex = [h](const std::string& re) { h->mutable_safe_regex_match()->set_regex(re); };
  const std::string ci = m.ignore_case() ? "(?i)" : "";
  switch (m.match_pattern_case()) {
    case StringMatcher::kExact:
      if (ci.empty())
        h->set_exact_match(m.exact());
      else
        regex(ci + RE2::QuoteMeta(m.exact()));
      break;
    case StringMatcher::kPrefix:
      if (ci.empty())
        h->set_prefix_match(m.prefix());
      else
        regex(ci + RE2::QuoteMeta(m.prefix()) + ".*");
      break;
    case StringMatcher::kSuffix:
      if (ci.empty())
        h->set_suffix_match(m.suffix());
      else
        regex(ci + ".*" + RE2::QuoteMeta(m.suffix()));
      break;
    case StringMatcher::kContains:
      if (ci.empty())
        h->set_contains_match(m.contains());
      else
        regex(ci + ".*" + RE2::QuoteMeta(m.contains()) + ".*");
      break;
    default:
      regex(ci + m.safe_regex().regex());
      break;
  }
}

rbac::Principal Header(const std::string& name, const std::string& v, bool legacy) {
  rbac::Principal p;
  auto* h = p.mutable_header();
  h->set_name(name);
  SetHeaderMatch(Match(v), legacy, h);
  return p;
}

rbac::Permission HeaderPermission(const std::string& name, const StringMatcher& m, bool legacy) {
  rbac::Permission p;
  auto* h = p.mutable_header();
  h->set_name(name);
  SetHeaderMatch(m, legacy, h);
  return p;
}

// A metadata principal on the jwt_authn payload at `path`: the claim as a string, or a list
// holding the value.
rbac::Principal ClaimPrincipal(const std::vector<std::string>& path, const std::string& v) {
  rbac::Principal out;
  auto* ids = out.mutable_or_ids();
  for (bool list : {false, true}) {
    auto* m = ids->add_ids()->mutable_metadata();
    m->set_filter(kJwtAuthnFilter);
    m->add_path()->set_key(kJwtPayloadKey);
    for (const auto& k : path) m->add_path()->set_key(k);
    StringMatcher sm = Match(v);
    if (list) {
      *m->mutable_value()->mutable_list_match()->mutable_one_of()->mutable_string_match() = sm;
    } else {
      *m->mutable_value()->mutable_string_match() = sm;
    }
  }
  return out;
}

// "iss/sub" → iss and sub claims; "*" → any validated token.
bool RequestPrincipal(const std::string& v, rbac::Principal* out) {
  if (v == "*") {
    *out = ClaimPrincipal({"iss"}, "*");
    return true;
  }
  size_t slash = v.rfind('/');
  if (slash == std::string::npos) return false;
  std::string iss = v.substr(0, slash), sub = v.substr(slash + 1);
  if (absl::StrContains(iss, '*') || (absl::StrContains(sub, '*') && sub != "*")) return false;
  auto* ids = out->mutable_and_ids();
  *ids->add_ids() = ClaimPrincipal({"iss"}, iss);
  *ids->add_ids() = ClaimPrincipal({"sub"}, sub);
  return true;
}

rbac::Principal* NotOf(rbac::Principal* p) { return p->mutable_not_id(); }
rbac::Permission* NotOf(rbac::Permission* p) { return p->mutable_not_rule(); }
google::protobuf::RepeatedPtrField<rbac::Principal>* OrSet(rbac::Principal* p) {
  return p->mutable_or_ids()->mutable_ids();
}
google::protobuf::RepeatedPtrField<rbac::Permission>* OrSet(rbac::Permission* p) {
  return p->mutable_or_rules()->mutable_rules();
}

// Appends "any of `values`" (or "none of" when `negate`), each built by `make`.
template <typename T, typename F>
void AddOr(const std::vector<std::string>& values, bool negate, F make,
           google::protobuf::RepeatedPtrField<T>* into) {
  if (values.empty()) return;
  T* target = into->Add();
  if (negate) target = NotOf(target);
  auto* set = OrSet(target);
  for (const auto& v : values) make(v, set->Add());
}

class RuleTranslator {
 public:
  RuleTranslator(const model::Config& config, const model::Snapshot& snapshot, AuthzTarget target,
                 const std::vector<std::string>& aliases)
      : config_(config),
        policy_(*config.AsAuthorizationPolicy()),
        target_(target),
        snapshot_(snapshot) {
    domains_.push_back(snapshot.trust_domain());
    for (const auto& a : aliases) {
      if (std::find(domains_.begin(), domains_.end(), a) == domains_.end()) domains_.push_back(a);
    }
  }

  // The RBAC policy of rule `i`; false when the rule never matches here (dropped).
  bool Translate(size_t i, rbac::Policy* out) {
    rule_ = i;
    const model::AuthzRule& rule = policy_.rules[i];
    auto* perms = out->add_permissions()->mutable_and_rules()->mutable_rules();
    auto* ids = out->add_principals()->mutable_and_ids()->mutable_ids();
    if (!rule.from.empty()) {
      auto* any = ids->Add()->mutable_or_ids()->mutable_ids();
      for (const auto& src : rule.from) {
        if (!Source(src, any->Add()->mutable_and_ids()->mutable_ids())) return false;
      }
    }
    if (!rule.to.empty()) {
      auto* any = perms->Add()->mutable_or_rules()->mutable_rules();
      for (const auto& op : rule.to) {
        if (!Operation(op, any->Add()->mutable_and_rules()->mutable_rules())) return false;
      }
    }
    for (const auto& c : rule.when) {
      if (!Condition(c, perms, ids)) return false;
    }
    if (perms->empty()) perms->Add()->set_any(true);
    if (ids->empty()) ids->Add()->set_any(true);
    // An empty and-set inside (a source or operation left with only HTTP fields dropped)
    // means "anything".
    FillEmpty(out);
    return !failed_;
  }

  std::vector<std::string> warnings, errors;

 private:
  std::string Name() const {
    return absl::StrCat("AuthorizationPolicy ", config_.key.ns, "/", config_.key.name, " rules[",
                        rule_, "]");
  }

  // An HTTP-only field on a TCP chain: an ALLOW rule never matches (false); a DENY/AUDIT rule
  // ignores the field (true, skip it).
  bool HttpOnly(const std::string& field) {
    if (target_ != AuthzTarget::kEnvoyTcp) return true;
    if (policy_.action == AuthorizationPolicy::Action::kAllow) {
      warnings.push_back(
          absl::StrCat(Name(), ": ", field, " is HTTP-only; the rule never matches on TCP chains"));
      return false;
    }
    warnings.push_back(absl::StrCat(
        Name(), ": ", field, " is HTTP-only; ignored on TCP chains (the rule matches more)"));
    return true;
  }
  bool Tcp() const { return target_ == AuthzTarget::kEnvoyTcp; }
  bool Legacy() const { return target_ == AuthzTarget::kGrpc; }

  bool Unsupported(const std::string& field) {
    if (target_ != AuthzTarget::kGrpc) return false;
    errors.push_back(absl::StrCat(Name(), ": ", field, " is not supported by proxyless gRPC"));
    failed_ = true;
    return true;
  }

  void AddPrincipals(const std::vector<std::string>& values, bool negate,
                     google::protobuf::RepeatedPtrField<rbac::Principal>* ids) {
    AddOr<rbac::Principal>(
        values, negate,
        [this](const std::string& v, rbac::Principal* p) {
          auto* set = p->mutable_or_ids()->mutable_ids();
          for (const auto& value : ExpandAliases(v)) {
            if (value == "*") {
              *set->Add() = Authenticated(Match("*"));
            } else if (absl::StartsWith(value, "*")) {
              *set->Add() = Authenticated(Match(value));
            } else {
              *set->Add() = Authenticated(Match(value, "spiffe://"));
            }
          }
        },
        ids);
  }

  // "cluster.local/ns/x/sa/y" in the trust domain (or an alias) → one value per domain.
  std::vector<std::string> ExpandAliases(const std::string& v) const {
    if (domains_.size() < 2) return {v};
    size_t slash = v.find('/');
    if (slash == std::string::npos) return {v};
    std::string td = v.substr(0, slash);
    if (std::find(domains_.begin(), domains_.end(), td) == domains_.end()) return {v};
    std::vector<std::string> out;
    for (const auto& d : domains_) out.push_back(d + v.substr(slash));
    return out;
  }

  bool Source(const model::AuthzSource& s,
              google::protobuf::RepeatedPtrField<rbac::Principal>* ids) {
    AddPrincipals(s.principals, false, ids);
    AddPrincipals(s.not_principals, true, ids);
    for (bool negate : {false, true}) {
      const auto& rp = negate ? s.not_request_principals : s.request_principals;
      if (rp.empty()) continue;
      const char* field = negate ? "notRequestPrincipals" : "requestPrincipals";
      if (Unsupported(field)) return false;
      if (Tcp()) {
        if (!HttpOnly(field)) return false;
        continue;
      }
      bool ok = true;
      AddOr<rbac::Principal>(
          rp, negate,
          [&](const std::string& v, rbac::Principal* p) {
            if (!RequestPrincipal(v, p)) ok = false;
          },
          ids);
      if (!ok) {
        errors.push_back(absl::StrCat(Name(), ": ", field,
                                      ": only \"iss/sub\", \"iss/*\" and \"*\" are supported"));
        failed_ = true;
        return false;
      }
    }
    AddOr<rbac::Principal>(
        s.namespaces, false,
        [](const std::string& v, rbac::Principal* p) { *p = NamespacePrincipal(v); }, ids);
    AddOr<rbac::Principal>(
        s.not_namespaces, true,
        [](const std::string& v, rbac::Principal* p) { *p = NamespacePrincipal(v); }, ids);
    auto cidr = [](bool remote) {
      return [remote](const std::string& v, rbac::Principal* p) {
        ParseCidr(v, remote ? p->mutable_remote_ip() : p->mutable_direct_remote_ip());
      };
    };
    AddOr<rbac::Principal>(s.ip_blocks, false, cidr(false), ids);
    AddOr<rbac::Principal>(s.not_ip_blocks, true, cidr(false), ids);
    AddOr<rbac::Principal>(s.remote_ip_blocks, false, cidr(true), ids);
    AddOr<rbac::Principal>(s.not_remote_ip_blocks, true, cidr(true), ids);
    return true;
  }

  bool Operation(const model::AuthzOperation& o,
                 google::protobuf::RepeatedPtrField<rbac::Permission>* perms) {
    struct Field {
      const char* name;
      const std::vector<std::string>* values;
      bool negate;
      int kind;  // 0 host, 1 method, 2 path
    };
    const Field fields[] = {
        {"hosts", &o.hosts, false, 0},     {"notHosts", &o.not_hosts, true, 0},
        {"methods", &o.methods, false, 1}, {"notMethods", &o.not_methods, true, 1},
        {"paths", &o.paths, false, 2},     {"notPaths", &o.not_paths, true, 2}};
    for (const Field& f : fields) {
      if (f.values->empty()) continue;
      if (Tcp()) {
        if (!HttpOnly(f.name)) return false;
        continue;
      }
      AddOr<rbac::Permission>(
          *f.values, f.negate,
          [&f, this](const std::string& v, rbac::Permission* p) {
            switch (f.kind) {
              case 0: {
                StringMatcher m = Match(v);
                m.set_ignore_case(true);
                *p = HeaderPermission(":authority", m, Legacy());
                break;
              }
              case 1:
                *p = HeaderPermission(":method", Match(v), Legacy());
                break;
              default:
                *p->mutable_url_path()->mutable_path() = PathMatch(v);
                break;
            }
          },
          perms);
    }
    for (bool negate : {false, true}) {
      const auto& ports = negate ? o.not_ports : o.ports;
      if (ports.empty()) continue;
      std::vector<std::string> s;
      for (uint32_t p : ports) s.push_back(std::to_string(p));
      AddOr<rbac::Permission>(
          s, negate, [](const std::string& v, rbac::Permission* p) { SetPort(v, p); }, perms);
    }
    return true;
  }

  bool Condition(const model::AuthzCondition& c,
                 google::protobuf::RepeatedPtrField<rbac::Permission>* perms,
                 google::protobuf::RepeatedPtrField<rbac::Principal>* ids) {
    const std::string field = absl::StrCat("when ", c.key);
    for (bool negate : {false, true}) {
      const auto& values = negate ? c.not_values : c.values;
      if (values.empty()) continue;
      absl::string_view key = c.key;
      if (absl::ConsumePrefix(&key, "request.headers[")) {
        if (Tcp()) {
          if (!HttpOnly(field)) return false;
          continue;
        }
        std::string name(absl::StripSuffix(key, "]"));
        AddOr<rbac::Principal>(
            values, negate,
            [&name, this](const std::string& v, rbac::Principal* p) {
              *p = Header(name, v, Legacy());
            },
            ids);
      } else if (absl::StartsWith(key, "request.auth.")) {
        if (Unsupported(field)) return false;
        if (Tcp()) {
          if (!HttpOnly(field)) return false;
          continue;
        }
        std::vector<std::string> path;
        if (key == "request.auth.principal") {
          bool ok = true;
          AddOr<rbac::Principal>(
              values, negate,
              [&](const std::string& v, rbac::Principal* p) {
                if (!RequestPrincipal(v, p)) ok = false;
              },
              ids);
          if (!ok) {
            errors.push_back(absl::StrCat(Name(), ": ", field, ": unsupported value"));
            failed_ = true;
            return false;
          }
          continue;
        }
        if (key == "request.auth.audiences") {
          path = {"aud"};
        } else if (key == "request.auth.presenter") {
          path = {"azp"};
        } else {
          // request.auth.claims[a][b] → a, b (nested claims).
          absl::string_view rest = key;
          absl::ConsumePrefix(&rest, "request.auth.claims");
          for (absl::string_view part : absl::StrSplit(rest, '[', absl::SkipEmpty())) {
            path.emplace_back(absl::StripSuffix(part, "]"));
          }
        }
        AddOr<rbac::Principal>(
            values, negate,
            [&path](const std::string& v, rbac::Principal* p) { *p = ClaimPrincipal(path, v); },
            ids);
      } else if (key == "source.ip" || key == "remote.ip") {
        const bool remote = key == "remote.ip";
        AddOr<rbac::Principal>(
            values, negate,
            [remote](const std::string& v, rbac::Principal* p) {
              ParseCidr(v, remote ? p->mutable_remote_ip() : p->mutable_direct_remote_ip());
            },
            ids);
      } else if (key == "source.namespace") {
        AddOr<rbac::Principal>(
            values, negate,
            [](const std::string& v, rbac::Principal* p) { *p = NamespacePrincipal(v); }, ids);
      } else if (key == "source.principal") {
        AddPrincipals(values, negate, ids);
      } else if (key == "source.serviceAccount") {
        std::vector<std::string> principals;
        for (const auto& v : values) {
          std::pair<std::string, std::string> nsa = absl::StrSplit(v, absl::MaxSplits('/', 1));
          principals.push_back(nsa.second.empty() ? absl::StrCat(snapshot_.trust_domain(), "/ns/",
                                                                 config_.key.ns, "/sa/", nsa.first)
                                                  : absl::StrCat(snapshot_.trust_domain(), "/ns/",
                                                                 nsa.first, "/sa/", nsa.second));
        }
        AddPrincipals(principals, negate, ids);
      } else if (key == "destination.ip") {
        AddOr<rbac::Permission>(
            values, negate,
            [](const std::string& v, rbac::Permission* p) {
              ParseCidr(v, p->mutable_destination_ip());
            },
            perms);
      } else if (key == "destination.port") {
        AddOr<rbac::Permission>(
            values, negate, [](const std::string& v, rbac::Permission* p) { SetPort(v, p); },
            perms);
      } else if (key == "connection.sni") {
        if (Unsupported(field)) return false;
        AddOr<rbac::Permission>(
            values, negate,
            [](const std::string& v, rbac::Permission* p) {
              *p->mutable_requested_server_name() = Match(v);
            },
            perms);
      } else if (absl::ConsumePrefix(&key, "experimental.")) {
        if (Unsupported(field)) return false;
        // experimental.envoy.filters.network.mysql_proxy[db.table] → filter, path [db.table].
        size_t open = key.find('[');
        if (open == absl::string_view::npos || !absl::EndsWith(key, "]")) {
          errors.push_back(absl::StrCat(Name(), ": ", field, ": expected <filter>[<key>]"));
          failed_ = true;
          return false;
        }
        std::string filter(key.substr(0, open));
        std::string mkey(key.substr(open + 1, key.size() - open - 2));
        AddOr<rbac::Permission>(
            values, negate,
            [&](const std::string& v, rbac::Permission* p) {
              auto* m = p->mutable_metadata();
              m->set_filter(filter);
              m->add_path()->set_key(mkey);
              *m->mutable_value()->mutable_string_match() = Match(v);
            },
            perms);
      }
    }
    return true;
  }

  // and_ids / and_rules left empty (a section whose fields were all dropped) → any.
  static void FillEmpty(rbac::Policy* p) {
    std::function<void(rbac::Principal*)> fix_id = [&](rbac::Principal* id) {
      if (id->has_and_ids()) {
        if (id->and_ids().ids().empty())
          id->set_any(true);
        else
          for (auto& c : *id->mutable_and_ids()->mutable_ids()) fix_id(&c);
      } else if (id->has_or_ids()) {
        for (auto& c : *id->mutable_or_ids()->mutable_ids()) fix_id(&c);
      }
    };
    std::function<void(rbac::Permission*)> fix_rule = [&](rbac::Permission* r) {
      if (r->has_and_rules()) {
        if (r->and_rules().rules().empty())
          r->set_any(true);
        else
          for (auto& c : *r->mutable_and_rules()->mutable_rules()) fix_rule(&c);
      } else if (r->has_or_rules()) {
        for (auto& c : *r->mutable_or_rules()->mutable_rules()) fix_rule(&c);
      }
    };
    for (auto& id : *p->mutable_principals()) fix_id(&id);
    for (auto& r : *p->mutable_permissions()) fix_rule(&r);
  }

  const model::Config& config_;
  const AuthorizationPolicy& policy_;
  AuthzTarget target_;
  const model::Snapshot& snapshot_;
  std::vector<std::string> domains_;
  size_t rule_ = 0;
  bool failed_ = false;
};

hcm::HttpFilter HttpRbac(const std::string& name, const rbac::RBAC& rules) {
  envoy::extensions::filters::http::rbac::v3::RBAC config;
  *config.mutable_rules() = rules;
  hcm::HttpFilter f;
  f.set_name(name);
  f.mutable_typed_config()->PackFrom(config);
  return f;
}

envoy::config::listener::v3::Filter NetworkRbac(const rbac::RBAC& rules) {
  envoy::extensions::filters::network::rbac::v3::RBAC config;
  *config.mutable_rules() = rules;
  config.set_stat_prefix("tcp.");
  envoy::config::listener::v3::Filter f;
  f.set_name(kNetworkRbacFilter);
  f.mutable_typed_config()->PackFrom(config);
  return f;
}

// ---- CUSTOM → ext_authz ----

// The provider's service in the registry: "ns/host" or "host" (istiod's forms).
struct ResolvedProvider {
  const model::ExtAuthzProvider* provider = nullptr;
  std::string host;
  std::string cluster;  // outbound|<port>||<host>
};

absl::Status Resolve(const model::ExtAuthzProvider& p, const model::Snapshot& snapshot,
                     ResolvedProvider* out) {
  std::string ns, host = p.service;
  if (size_t slash = p.service.find('/'); slash != std::string::npos) {
    ns = p.service.substr(0, slash);
    host = p.service.substr(slash + 1);
  }
  const model::Service* svc = snapshot.FindService(host);
  if (svc == nullptr || (!ns.empty() && svc->ns != ns)) {
    return absl::NotFoundError(absl::StrCat("service \"", p.service, "\" of extension provider \"",
                                            p.name, "\" is not in the service registry"));
  }
  if (svc->FindPort(p.port) == nullptr) {
    return absl::NotFoundError(absl::StrCat("service \"", p.service, "\" of extension provider \"",
                                            p.name, "\" has no port ", p.port));
  }
  out->provider = &p;
  out->host = host;
  out->cluster = absl::StrCat("outbound|", p.port, "||", host);
  return absl::OkStatus();
}

// Runs ext_authz only for requests whose CUSTOM shadow rules matched (istiod's matcher).
envoy::type::matcher::v3::MetadataMatcher ExtAuthzEnabled(const std::string& rbac_filter) {
  envoy::type::matcher::v3::MetadataMatcher m;
  m.set_filter(rbac_filter);
  m.add_path()->set_key(kExtAuthzShadowPolicyKey);
  m.mutable_value()->mutable_string_match()->set_prefix(kExtAuthzPolicyPrefix);
  return m;
}

// MeshConfig's default provider timeout (istiod: 600s).
absl::Duration ProviderTimeout(const model::ExtAuthzProvider& p) {
  return p.timeout.value_or(absl::Seconds(600));
}

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  out->set_seconds(absl::ToInt64Seconds(d));
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d % absl::Seconds(1))));
}

envoy::config::core::v3::GrpcService GrpcService(const ResolvedProvider& r) {
  envoy::config::core::v3::GrpcService g;
  g.mutable_envoy_grpc()->set_cluster_name(r.cluster);
  g.mutable_envoy_grpc()->set_authority(r.host);
  SetDuration(ProviderTimeout(*r.provider), g.mutable_timeout());
  return g;
}

void AddPatterns(const std::vector<std::string>& headers,
                 envoy::type::matcher::v3::ListStringMatcher* out) {
  for (const auto& h : headers) {
    StringMatcher m = Match(h);
    m.set_ignore_case(true);
    *out->add_patterns() = m;
  }
}

hcm::HttpFilter HttpExtAuthz(const ResolvedProvider& r) {
  namespace ea = envoy::extensions::filters::http::ext_authz::v3;
  const model::ExtAuthzProvider& p = *r.provider;
  ea::ExtAuthz config;
  if (p.kind == model::ExtAuthzProvider::Kind::kGrpc) {
    *config.mutable_grpc_service() = GrpcService(r);
  } else {
    auto* http = config.mutable_http_service();
    auto* uri = http->mutable_server_uri();
    uri->set_uri(absl::StrCat("http://", r.host, ":", p.port));
    uri->set_cluster(r.cluster);
    SetDuration(ProviderTimeout(p), uri->mutable_timeout());
    http->set_path_prefix(p.path_prefix);
    if (!p.include_request_headers_in_check.empty()) {
      AddPatterns(p.include_request_headers_in_check,
                  http->mutable_authorization_request()->mutable_allowed_headers());
    }
    if (!p.headers_to_upstream_on_allow.empty()) {
      AddPatterns(p.headers_to_upstream_on_allow,
                  http->mutable_authorization_response()->mutable_allowed_upstream_headers());
    }
    if (!p.headers_to_downstream_on_deny.empty()) {
      AddPatterns(p.headers_to_downstream_on_deny,
                  http->mutable_authorization_response()->mutable_allowed_client_headers());
    }
  }
  config.set_transport_api_version(envoy::config::core::v3::V3);
  config.set_failure_mode_allow(p.fail_open);
  config.set_clear_route_cache(p.clear_route_cache);
  if (p.status_on_error) {
    config.mutable_status_on_error()->set_code(
        static_cast<envoy::type::v3::StatusCode>(*p.status_on_error));
  }
  if (p.include_request_body_max_bytes) {
    config.mutable_with_request_body()->set_max_request_bytes(*p.include_request_body_max_bytes);
    config.mutable_with_request_body()->set_allow_partial_message(true);
  }
  *config.mutable_filter_enabled_metadata() = ExtAuthzEnabled(kHttpRbacFilter);
  hcm::HttpFilter f;
  f.set_name(kHttpExtAuthzFilter);
  f.mutable_typed_config()->PackFrom(config);
  return f;
}

envoy::config::listener::v3::Filter NetworkExtAuthz(const ResolvedProvider& r) {
  envoy::extensions::filters::network::ext_authz::v3::ExtAuthz config;
  config.set_stat_prefix("tcp.");
  *config.mutable_grpc_service() = GrpcService(r);
  config.set_failure_mode_allow(r.provider->fail_open);
  config.set_transport_api_version(envoy::config::core::v3::V3);
  *config.mutable_filter_enabled_metadata() = ExtAuthzEnabled(kNetworkRbacFilter);
  envoy::config::listener::v3::Filter f;
  f.set_name(kNetworkExtAuthzFilter);
  f.mutable_typed_config()->PackFrom(config);
  return f;
}

// The RBAC filter that only tags requests the CUSTOM rules select (shadow rules).
hcm::HttpFilter HttpShadowRbac(const rbac::RBAC& rules) {
  envoy::extensions::filters::http::rbac::v3::RBAC config;
  *config.mutable_shadow_rules() = rules;
  config.set_shadow_rules_stat_prefix(kExtAuthzShadowStatPrefix);
  hcm::HttpFilter f;
  f.set_name(kHttpRbacFilter);
  f.mutable_typed_config()->PackFrom(config);
  return f;
}

envoy::config::listener::v3::Filter NetworkShadowRbac(const rbac::RBAC& rules) {
  envoy::extensions::filters::network::rbac::v3::RBAC config;
  *config.mutable_shadow_rules() = rules;
  config.set_shadow_rules_stat_prefix(kExtAuthzShadowStatPrefix);
  config.set_stat_prefix("tcp.");
  envoy::config::listener::v3::Filter f;
  f.set_name(kNetworkRbacFilter);
  f.mutable_typed_config()->PackFrom(config);
  return f;
}

AuthzFilters BuildFor(const std::vector<model::ConfigPtr>& policies,
                      const model::Snapshot& snapshot, AuthzTarget target,
                      const std::vector<std::string>& trust_domain_aliases);

}  // namespace

std::vector<model::ConfigPtr> AuthorizationPoliciesFor(const model::Proxy& proxy,
                                                       const model::Snapshot& snapshot) {
  std::vector<model::ConfigPtr> out;
  for (const auto& c : snapshot.Configs(model::Kind::kAuthorizationPolicy)) {
    const AuthorizationPolicy* ap = c->AsAuthorizationPolicy();
    if (ap == nullptr) continue;
    const bool root = c->key.ns == snapshot.root_namespace();
    if (!root && c->key.ns != proxy.ns) continue;
    if (!ap->target_refs.empty()) continue;  // waypoints/gateways only (istiod)
    if (!Selects(ap->selector, proxy.labels)) continue;
    out.push_back(c);
  }
  return out;
}

AuthzFilters BuildAuthzFilters(const model::Proxy& proxy, const model::Snapshot& snapshot,
                               AuthzTarget target,
                               const std::vector<std::string>& trust_domain_aliases) {
  return BuildFor(AuthorizationPoliciesFor(proxy, snapshot), snapshot, target,
                  trust_domain_aliases);
}

namespace {

AuthzFilters BuildFor(const std::vector<model::ConfigPtr>& policies,
                      const model::Snapshot& snapshot, AuthzTarget target,
                      const std::vector<std::string>& trust_domain_aliases) {
  AuthzFilters out;
  using Action = AuthorizationPolicy::Action;
  // AUDIT, CUSTOM, DENY, ALLOW (istiod's order).
  const Action order[] = {Action::kAudit, Action::kCustom, Action::kDeny, Action::kAllow};
  std::map<Action, rbac::RBAC> by_action;
  ResolvedProvider custom;  // the one ext_authz provider of the workload's CUSTOM policies
  auto fail = [&out](const model::Config& c, const std::string& reason) {
    out.errors.push_back(
        absl::StrCat("AuthorizationPolicy ", c.key.ns, "/", c.key.name, ": ", reason));
    out.failed_policies.push_back(absl::StrCat(c.key.ns, "/", c.key.name));
  };
  for (const auto& c : policies) {
    const AuthorizationPolicy& ap = *c->AsAuthorizationPolicy();
    const std::string name = absl::StrCat("AuthorizationPolicy ", c->key.ns, "/", c->key.name);
    std::string policy_prefix;  // CUSTOM rules are named for the ext_authz matcher
    if (ap.action == Action::kCustom) {
      if (target == AuthzTarget::kGrpc) {
        fail(*c, absl::StrCat("CUSTOM provider \"", ap.provider,
                              "\": ext_authz is not supported by proxyless gRPC"));
        continue;
      }
      const model::ExtAuthzProvider* p = snapshot.mesh().FindExtAuthz(ap.provider);
      if (p == nullptr) {
        fail(*c, absl::StrCat("CUSTOM provider \"", ap.provider,
                              "\" is not a known extension provider"));
        continue;
      }
      if (target == AuthzTarget::kEnvoyTcp && p->kind == model::ExtAuthzProvider::Kind::kHttp) {
        fail(*c, absl::StrCat("CUSTOM provider \"", ap.provider,
                              "\" is an HTTP ext_authz service (envoyExtAuthzHttp); TCP traffic "
                              "needs a gRPC provider (envoyExtAuthzGrpc)"));
        continue;
      }
      if (custom.provider != nullptr && custom.provider != p) {
        fail(*c, absl::StrCat("CUSTOM provider \"", ap.provider,
                              "\": only one provider per workload is supported, and \"",
                              custom.provider->name, "\" is already in use"));
        continue;
      }
      ResolvedProvider resolved;
      if (absl::Status s = Resolve(*p, snapshot, &resolved); !s.ok()) {
        fail(*c, absl::StrCat("CUSTOM provider \"", ap.provider, "\": ", s.message()));
        continue;
      }
      custom = resolved;
      policy_prefix = absl::StrCat(kExtAuthzPolicyPrefix, "-");
    }
    if (ap.action == Action::kAudit && target == AuthzTarget::kGrpc) {
      out.warnings.push_back(name + ": AUDIT is not supported by proxyless gRPC; ignored");
      continue;
    }
    rbac::RBAC& rules = by_action[ap.action];
    switch (ap.action) {
      case Action::kAllow:
      case Action::kCustom:  // shadow rules: a match only tags the request
        rules.set_action(rbac::RBAC::ALLOW);
        break;
      case Action::kDeny:
        rules.set_action(rbac::RBAC::DENY);
        break;
      default:
        rules.set_action(rbac::RBAC::LOG);
        break;
    }
    RuleTranslator translator(*c, snapshot, target, trust_domain_aliases);
    for (size_t i = 0; i < ap.rules.size(); ++i) {
      rbac::Policy policy;
      if (translator.Translate(i, &policy)) {
        (*rules.mutable_policies())[absl::StrCat(policy_prefix, "ns[", c->key.ns, "]-policy[",
                                                 c->key.name, "]-rule[", i, "]")] =
            std::move(policy);
      }
    }
    out.warnings.insert(out.warnings.end(), translator.warnings.begin(), translator.warnings.end());
    for (const auto& e : translator.errors) {
      out.errors.push_back(e);
      out.failed_policies.push_back(absl::StrCat(c->key.ns, "/", c->key.name));
    }
  }
  auto emit = [&](const std::string& suffix, const rbac::RBAC& rules) {
    if (target == AuthzTarget::kEnvoyTcp) {
      out.network.push_back(NetworkRbac(rules));
    } else {
      // gRPC refuses duplicate HTTP filter names; Envoy accepts either.
      out.http.push_back(HttpRbac(
          target == AuthzTarget::kGrpc ? absl::StrCat(kHttpRbacFilter, suffix) : kHttpRbacFilter,
          rules));
    }
  };
  if (!out.errors.empty()) {
    rbac::RBAC deny_all;
    deny_all.set_action(rbac::RBAC::ALLOW);  // no policy matches: everything is refused
    emit(".fail-closed", deny_all);
  }
  for (Action a : order) {
    auto it = by_action.find(a);
    if (it == by_action.end()) continue;
    // DENY / AUDIT / CUSTOM policies without rules match nothing: no filter.
    if (a != Action::kAllow && it->second.policies().empty()) continue;
    if (a == Action::kCustom) {
      if (target == AuthzTarget::kEnvoyTcp) {
        out.network.push_back(NetworkShadowRbac(it->second));
        out.network.push_back(NetworkExtAuthz(custom));
      } else {
        out.http.push_back(HttpShadowRbac(it->second));
        out.http.push_back(HttpExtAuthz(custom));
      }
      continue;
    }
    emit(a == Action::kAllow ? ".allow" : a == Action::kDeny ? ".deny" : ".audit", it->second);
  }
  return out;
}

void InsertBeforeRouter(std::vector<hcm::HttpFilter> filters, hcm::HttpConnectionManager* m) {
  if (filters.empty()) return;
  google::protobuf::RepeatedPtrField<hcm::HttpFilter> merged;
  bool inserted = false;
  for (const auto& f : m->http_filters()) {
    if (!inserted && f.name() == "envoy.filters.http.router") {
      for (auto& n : filters) *merged.Add() = std::move(n);
      inserted = true;
    }
    *merged.Add() = f;
  }
  if (!inserted) {
    for (auto& n : filters) *merged.Add() = std::move(n);
  }
  m->mutable_http_filters()->Swap(&merged);
}

// The (policy, proxy type, reason) triples already reported. Generation runs per proxy (and
// again on every push), so the set keeps a fail-closed reason to one warning and one count; it
// is bounded (cleared when full: a reason may then be reported again).
class FailClosedLog {
 public:
  static FailClosedLog& Get() {
    static auto* log = new FailClosedLog();
    return *log;
  }
  // True the first time the triple is seen.
  bool FirstTime(const std::string& key) {
    absl::MutexLock lock(&mu_);
    if (seen_.size() >= kMaxEntries) seen_.clear();
    return seen_.insert(key).second;
  }

 private:
  static constexpr size_t kMaxEntries = 10000;
  absl::Mutex mu_;
  std::set<std::string> seen_ ABSL_GUARDED_BY(mu_);
};

// Fail-closed reasons are warnings (the workload refuses traffic until the policy is fixed),
// logged and counted once per (policy, proxy type, reason); per-target rule changes are debug
// lines.
void Log(const model::Proxy& proxy, const AuthzFilters& f, const char* proxy_type) {
  for (size_t i = 0; i < f.errors.size(); ++i) {
    const std::string& policy = i < f.failed_policies.size() ? f.failed_policies[i] : "";
    if (!FailClosedLog::Get().FirstTime(absl::StrCat(policy, "|", proxy_type, "|", f.errors[i]))) {
      continue;
    }
    spdlog::warn(
        "authz: AuthorizationPolicy {} is not applied to {} (first seen for {}); the "
        "workloads it selects deny all requests: {}",
        policy, proxy_type, proxy.id, f.errors[i]);
    Metrics::Get()
        .authz_fail_closed.Add({{"policy", policy}, {"proxy_type", proxy_type}})
        .Increment();
  }
  for (const auto& w : f.warnings) spdlog::debug("authz: {}: {}", proxy.id, w);
}

}  // namespace

std::vector<std::string> AuthzFailClosedReasons(const model::Config& policy,
                                                const model::Snapshot& snapshot) {
  std::vector<std::string> out;
  if (policy.AsAuthorizationPolicy() == nullptr) return out;
  auto config = std::make_shared<model::Config>(policy);
  const std::pair<AuthzTarget, const char*> targets[] = {
      {AuthzTarget::kEnvoyHttp, "Envoy sidecars (HTTP)"},
      {AuthzTarget::kEnvoyTcp, "Envoy sidecars (TCP)"},
      {AuthzTarget::kGrpc, "proxyless gRPC"}};
  for (const auto& [target, label] : targets) {
    AuthzFilters f = BuildFor({config}, snapshot, target, snapshot.mesh().trust_domain_aliases);
    for (const auto& e : f.errors) out.push_back(absl::StrCat("not applied to ", label, ": ", e));
  }
  return out;
}

void AppendInboundAuthzFilters(const model::Proxy& proxy, const model::Snapshot& snapshot,
                               envoy::config::listener::v3::Listener* listener) {
  AuthzFilters http = BuildAuthzFilters(proxy, snapshot, AuthzTarget::kEnvoyHttp,
                                        snapshot.mesh().trust_domain_aliases);
  AuthzFilters tcp = BuildAuthzFilters(proxy, snapshot, AuthzTarget::kEnvoyTcp,
                                       snapshot.mesh().trust_domain_aliases);
  std::vector<std::string> jwt_warnings;
  std::vector<hcm::HttpFilter> jwt = JwtAuthnFilters(proxy, snapshot, &jwt_warnings);
  Log(proxy, http, "sidecar");
  Log(proxy, tcp, "sidecar");
  for (const auto& w : jwt_warnings) spdlog::warn("authz: {}: {}", proxy.id, w);
  if (http.empty() && tcp.empty() && jwt.empty()) return;
  for (auto& chain : *listener->mutable_filter_chains()) {
    auto* filters = chain.mutable_filters();
    for (int i = 0; i < filters->size(); ++i) {
      auto* f = filters->Mutable(i);
      if (f->name() == "envoy.filters.network.http_connection_manager") {
        hcm::HttpConnectionManager m;
        if (!f->typed_config().UnpackTo(&m)) continue;
        std::vector<hcm::HttpFilter> add = jwt;
        add.insert(add.end(), http.http.begin(), http.http.end());
        InsertBeforeRouter(std::move(add), &m);
        f->mutable_typed_config()->PackFrom(m);
        break;
      }
      if (f->name() == "envoy.filters.network.tcp_proxy") {
        google::protobuf::RepeatedPtrField<envoy::config::listener::v3::Filter> merged;
        for (const auto& n : tcp.network) *merged.Add() = n;
        for (const auto& old : *filters) *merged.Add() = old;
        filters->Swap(&merged);
        break;
      }
    }
  }
}

void AppendGrpcServerAuthzFilters(const model::Proxy& proxy, const model::Snapshot& snapshot,
                                  hcm::HttpConnectionManager* m) {
  AuthzFilters authz =
      BuildAuthzFilters(proxy, snapshot, AuthzTarget::kGrpc, snapshot.mesh().trust_domain_aliases);
  Log(proxy, authz, "proxyless-grpc");
  InsertBeforeRouter(std::move(authz.http), m);
}

}  // namespace meshd::xds
