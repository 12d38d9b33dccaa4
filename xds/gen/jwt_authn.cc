#include "xds/gen/jwt_authn.h"

#include <map>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "envoy/extensions/filters/http/jwt_authn/v3/config.pb.h"
#include "xds/gen/authz.h"

namespace meshd::xds {
namespace {

namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
namespace jwt = envoy::extensions::filters::http::jwt_authn::v3;

bool Selects(const std::optional<std::map<std::string, std::string>>& selector,
             const std::map<std::string, std::string>& labels) {
  if (!selector) return true;
  for (const auto& [k, v] : *selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

// "https://host:port/path" → host, port (scheme default); false when malformed.
bool SplitUri(const std::string& uri, std::string* host, uint32_t* port) {
  absl::string_view rest = uri;
  *port = 80;
  if (absl::ConsumePrefix(&rest, "https://")) {
    *port = 443;
  } else if (!absl::ConsumePrefix(&rest, "http://")) {
    return false;
  }
  rest = rest.substr(0, rest.find('/'));
  size_t colon = rest.rfind(':');
  if (colon != absl::string_view::npos && rest.find(']') == absl::string_view::npos) {
    if (!absl::SimpleAtoi(rest.substr(colon + 1), port)) return false;
    rest = rest.substr(0, colon);
  }
  *host = std::string(rest);
  return !host->empty();
}

}  // namespace

std::vector<model::ConfigPtr> RequestAuthenticationsFor(const model::Proxy& proxy,
                                                        const model::Snapshot& snapshot) {
  std::vector<model::ConfigPtr> out;
  for (const auto& c : snapshot.Configs(model::Kind::kRequestAuthentication)) {
    const model::RequestAuthentication* ra = c->AsRequestAuthentication();
    if (ra == nullptr) continue;
    if (c->key.ns != snapshot.root_namespace() && c->key.ns != proxy.ns) continue;
    if (!ra->target_refs.empty()) continue;
    if (!Selects(ra->selector, proxy.labels)) continue;
    out.push_back(c);
  }
  return out;
}

std::vector<hcm::HttpFilter> JwtAuthnFilters(const model::Proxy& proxy,
                                             const model::Snapshot& snapshot,
                                             std::vector<std::string>* warnings) {
  jwt::JwtAuthentication config;
  auto* any = config.add_rules();
  any->mutable_match()->set_prefix("/");
  auto* requires_any = any->mutable_requires()->mutable_requires_any();
  int index = 0;
  for (const auto& c : RequestAuthenticationsFor(proxy, snapshot)) {
    const model::RequestAuthentication& ra = *c->AsRequestAuthentication();
    for (const model::JwtRule& rule : ra.jwt_rules) {
      const std::string name = absl::StrCat("origins-", index++);
      jwt::JwtProvider& p = (*config.mutable_providers())[name];
      p.set_issuer(rule.issuer);
      for (const auto& a : rule.audiences) p.add_audiences(a);
      p.set_forward(rule.forward_original_token);
      for (const auto& h : rule.from_headers) {
        auto* fh = p.add_from_headers();
        fh->set_name(h.name);
        fh->set_value_prefix(h.prefix);
      }
      for (const auto& q : rule.from_params) p.add_from_params(q);
      for (const auto& k : rule.from_cookies) p.add_from_cookies(k);
      p.set_forward_payload_header(rule.output_payload_to_header);
      for (const auto& [header, claim] : rule.output_claim_to_headers) {
        auto* ch = p.add_claim_to_headers();
        ch->set_header_name(header);
        ch->set_claim_name(claim);
      }
      p.set_payload_in_metadata(kJwtPayloadKey);
      std::string host;
      uint32_t port = 0;
      const model::Service* svc = nullptr;
      if (rule.jwks.empty() && !rule.jwks_uri.empty() && SplitUri(rule.jwks_uri, &host, &port)) {
        svc = snapshot.FindService(host);
        if (svc != nullptr && svc->FindPort(port) == nullptr) svc = nullptr;
      }
      if (!rule.jwks.empty()) {
        p.mutable_local_jwks()->set_inline_string(rule.jwks);
      } else if (svc != nullptr) {
        auto* uri = p.mutable_remote_jwks()->mutable_http_uri();
        uri->set_uri(rule.jwks_uri);
        uri->set_cluster(absl::StrCat("outbound|", port, "||", host));
        absl::Duration timeout = rule.timeout.value_or(absl::Seconds(5));
        uri->mutable_timeout()->set_seconds(absl::ToInt64Seconds(timeout));
        uri->mutable_timeout()->set_nanos(
            static_cast<int32_t>(absl::ToInt64Nanoseconds(timeout % absl::Seconds(1))));
      } else {
        p.mutable_local_jwks()->set_inline_string("{\"keys\":[]}");
        if (warnings != nullptr) {
          warnings->push_back(
              absl::StrCat("RequestAuthentication ", c->key.ns, "/", c->key.name, ": jwksUri \"",
                           rule.jwks_uri, "\" is not a registry service; tokens of issuer \"",
                           rule.issuer, "\" are refused (meshd does not fetch JWKS)"));
        }
      }
      requires_any->add_requirements()->set_provider_name(name);
    }
  }
  if (index == 0) return {};
  requires_any->add_requirements()->mutable_allow_missing();
  hcm::HttpFilter f;
  f.set_name(kJwtAuthnFilter);
  f.mutable_typed_config()->PackFrom(config);
  return {f};
}

}  // namespace meshd::xds
