// RDS for Envoy sidecars: route configuration "<port>" with one virtual host per visible HTTP
// service on that port ("<host>:<port>"), whose routes come from the VirtualService for the
// host (delegates merged in) or, without one, a default route to the service.
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/http/cors/v3/cors.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "spdlog/spdlog.h"
#include "xds/gen/envoy_gateway.h"
#include "xds/gen/envoy_generator.h"
#include "xds/gen/envoy_util.h"
#include "xds/gen/grpc_generator.h"
#include "xds/gen/traffic_policy.h"

namespace meshd::xds {
namespace {

using envoy::config::route::v3::HeaderMatcher;
using envoy::config::route::v3::Route;
using envoy::config::route::v3::RouteAction;
using envoy::config::route::v3::RouteConfiguration;
using envoy::config::route::v3::VirtualHost;

constexpr char kFaultFilter[] = "envoy.filters.http.fault";
constexpr char kCorsFilter[] = "envoy.filters.http.cors";
// istiod's default retry policy (meshConfig.defaultHttpRetryPolicy unset).
constexpr char kDefaultRetryOn[] =
    "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";
constexpr uint32_t kDefaultRetryAttempts = 2;

void SetStringMatcher(const model::StringMatch& m, bool ignore_case,
                      envoy::type::matcher::v3::StringMatcher* out) {
  switch (m.type) {
    case model::StringMatch::Type::kExact:
      out->set_exact(m.value);
      break;
    case model::StringMatch::Type::kPrefix:
      out->set_prefix(m.value);
      break;
    case model::StringMatch::Type::kRegex:
      out->mutable_safe_regex()->set_regex(m.value);
      break;
    case model::StringMatch::Type::kAny:
      out->mutable_safe_regex()->set_regex(".*");
      break;
  }
  if (ignore_case) out->set_ignore_case(true);
}

void SetHeader(const std::string& name, const model::StringMatch& m, bool invert,
               HeaderMatcher* out) {
  out->set_name(name);
  out->set_invert_match(invert);
  if (m.type == model::StringMatch::Type::kAny ||
      (m.type == model::StringMatch::Type::kPrefix && m.value.empty())) {
    out->set_present_match(true);  // `{}` and `prefix: ""` mean "present" in Istio
    return;
  }
  SetStringMatcher(m, false, out->mutable_string_match());
}

// Whether a match's `gateways` names the gateway a request came through (null: the mesh).
bool NamesGateway(const std::vector<std::string>& gateways, const std::string& vs_ns,
                  const model::Config* gateway) {
  for (const auto& g : gateways) {
    if (gateway == nullptr) {
      if (g == "mesh") return true;
      continue;
    }
    auto slash = g.find('/');
    std::string ns = slash == std::string::npos ? vs_ns : g.substr(0, slash);
    std::string name = slash == std::string::npos ? g : g.substr(slash + 1);
    if (ns == gateway->key.ns && name == gateway->key.name) return true;
  }
  return false;
}

// Whether `m` can apply to this proxy on `port` (the facts known when generating).
bool Applies(const model::HttpMatch& m, const model::Proxy& proxy, uint32_t port,
             const std::string& vs_ns, const model::Config* gateway) {
  if (m.port != 0 && m.port != port) return false;
  if (!m.source_namespace.empty() && m.source_namespace != proxy.ns) return false;
  if (!model::LabelsMatch(m.source_labels, proxy.labels)) return false;
  if (!m.gateways.empty() && !NamesGateway(m.gateways, vs_ns, gateway)) return false;
  return true;
}

void BuildRouteMatch(const model::HttpMatch& m, envoy::config::route::v3::RouteMatch* out) {
  if (m.uri) {
    switch (m.uri->type) {
      case model::StringMatch::Type::kExact:
        out->set_path(m.uri->value);
        break;
      case model::StringMatch::Type::kPrefix:
        out->set_prefix(m.uri->value.empty() ? "/" : m.uri->value);
        break;
      case model::StringMatch::Type::kRegex:
        out->mutable_safe_regex()->set_regex(m.uri->value);
        break;
      case model::StringMatch::Type::kAny:
        out->set_prefix("/");
    }
  } else {
    out->set_prefix("/");
  }
  if (m.ignore_uri_case) out->mutable_case_sensitive()->set_value(false);
  if (m.scheme) SetHeader(":scheme", *m.scheme, false, out->add_headers());
  if (m.method) SetHeader(":method", *m.method, false, out->add_headers());
  if (m.authority) SetHeader(":authority", *m.authority, false, out->add_headers());
  for (const auto& h : m.headers) SetHeader(h.name, h.match, false, out->add_headers());
  for (const auto& h : m.without_headers) SetHeader(h.name, h.match, true, out->add_headers());
  for (const auto& q : m.query_params) {
    auto* qm = out->add_query_parameters();
    qm->set_name(q.name);
    if (q.match.type == model::StringMatch::Type::kAny) {
      qm->set_present_match(true);
    } else {
      SetStringMatcher(q.match, false, qm->mutable_string_match());
    }
  }
}

// A delegate's match narrowed by the root route's match (istiod merges the two; the
// delegate's own conditions win where both set one).
model::HttpMatch MergeMatch(const model::HttpMatch& root, const model::HttpMatch& delegate) {
  model::HttpMatch out = delegate;
  if (!out.uri) out.uri = root.uri;
  if (!out.scheme) out.scheme = root.scheme;
  if (!out.method) out.method = root.method;
  if (!out.authority) out.authority = root.authority;
  std::set<std::string> names;
  for (const auto& h : out.headers) names.insert(h.name);
  for (const auto& h : root.headers) {
    if (!names.count(h.name)) out.headers.push_back(h);
  }
  out.without_headers.insert(out.without_headers.end(), root.without_headers.begin(),
                             root.without_headers.end());
  out.query_params.insert(out.query_params.end(), root.query_params.begin(),
                          root.query_params.end());
  if (out.port == 0) out.port = root.port;
  if (out.source_labels.empty()) out.source_labels = root.source_labels;
  if (out.source_namespace.empty()) out.source_namespace = root.source_namespace;
  if (out.gateways.empty()) out.gateways = root.gateways;
  out.ignore_uri_case = out.ignore_uri_case || root.ignore_uri_case;
  return out;
}

void AddHeaderOps(
    const model::HeaderOperations& ops,
    google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>* add,
    google::protobuf::RepeatedPtrField<std::string>* remove) {
  using envoy::config::core::v3::HeaderValueOption;
  for (const auto& [k, v] : ops.set) {
    auto* o = add->Add();
    o->mutable_header()->set_key(k);
    o->mutable_header()->set_value(v);
    o->set_append_action(HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD);
  }
  for (const auto& [k, v] : ops.add) {
    auto* o = add->Add();
    o->mutable_header()->set_key(k);
    o->mutable_header()->set_value(v);
    o->set_append_action(HeaderValueOption::APPEND_IF_EXISTS_OR_ADD);
  }
  for (const auto& r : ops.remove) *remove->Add() = r;
}

void AddHashPolicy(const model::LoadBalancer* lb, RouteAction* a) {
  if (lb == nullptr || !lb->consistent_hash) return;
  const model::ConsistentHash& ch = *lb->consistent_hash;
  auto* hp = a->add_hash_policy();
  switch (ch.key) {
    case model::ConsistentHash::Key::kHeader:
      hp->mutable_header()->set_header_name(ch.name);
      break;
    case model::ConsistentHash::Key::kCookie:
      hp->mutable_cookie()->set_name(ch.name);
      if (!ch.cookie_path.empty()) hp->mutable_cookie()->set_path(ch.cookie_path);
      if (ch.cookie_ttl) *hp->mutable_cookie()->mutable_ttl() = DurationProto(*ch.cookie_ttl);
      break;
    case model::ConsistentHash::Key::kSourceIp:
      hp->mutable_connection_properties()->set_source_ip(true);
      break;
    case model::ConsistentHash::Key::kQueryParameter:
      hp->mutable_query_parameter()->set_name(ch.name);
      break;
    case model::ConsistentHash::Key::kNone:
      a->mutable_hash_policy()->RemoveLast();
      break;
  }
}

void DefaultRetry(RouteAction* action) {
  auto* rp = action->mutable_retry_policy();
  rp->set_retry_on(kDefaultRetryOn);
  rp->mutable_num_retries()->set_value(kDefaultRetryAttempts);
  rp->set_host_selection_retry_max_attempts(5);
  rp->add_retriable_status_codes(503);
}

struct RouteContext {
  const model::Proxy& proxy;
  const model::Snapshot& snapshot;
  uint32_t port;
  const model::Config* gateway;  // null: sidecar
  OriginSet* origins = nullptr;  // collects the VirtualServices whose routes are added
};

// The Envoy route for one Istio HTTP route (`config_ns` resolves its short names). False when
// nothing routable remains (every destination unknown): the caller answers 503 as Envoy would
// for a missing cluster, without naming a cluster that does not exist.
void BuildAction(const model::HttpRoute& r, const std::string& config_ns,
                 const std::string& config_name, const RouteContext& ctx, Route* out) {
  if (r.redirect) {
    auto* rd = out->mutable_redirect();
    if (!r.redirect->uri.empty()) rd->set_path_redirect(r.redirect->uri);
    if (!r.redirect->authority.empty()) rd->set_host_redirect(r.redirect->authority);
    if (!r.redirect->scheme.empty()) rd->set_scheme_redirect(r.redirect->scheme);
    if (r.redirect->port != 0) rd->set_port_redirect(r.redirect->port);
    using envoy::config::route::v3::RedirectAction;
    switch (r.redirect->code) {
      case 302:
        rd->set_response_code(RedirectAction::FOUND);
        break;
      case 303:
        rd->set_response_code(RedirectAction::SEE_OTHER);
        break;
      case 307:
        rd->set_response_code(RedirectAction::TEMPORARY_REDIRECT);
        break;
      case 308:
        rd->set_response_code(RedirectAction::PERMANENT_REDIRECT);
        break;
      default:
        rd->set_response_code(RedirectAction::MOVED_PERMANENTLY);
    }
  } else if (r.direct_response) {
    out->mutable_direct_response()->set_status(r.direct_response->status);
    if (!r.direct_response->body.empty()) {
      out->mutable_direct_response()->mutable_body()->set_inline_string(r.direct_response->body);
    }
  } else {
    struct Target {
      std::string cluster;
      uint32_t weight;
      const model::HeaderRules* headers;
    };
    std::vector<Target> targets;
    const model::LoadBalancer* lb = nullptr;
    for (const auto& d : r.destinations) {
      if (d.weight == 0) continue;
      std::string host = ctx.snapshot.ResolveShortName(d.destination.host, config_ns);
      const model::Service* svc = ctx.snapshot.FindService(host);
      uint32_t dport = DestinationPort(d.destination, svc, ctx.port);
      if (svc == nullptr || svc->FindPort(dport) == nullptr) {
        spdlog::debug("envoy generator: {}: destination {}:{} is not a known service port",
                      config_name, host, dport);
        continue;
      }
      targets.push_back(
          {BuildClusterName(dport, d.destination.subset, host), d.weight, &d.headers});
      if (targets.size() == 1) {
        lb = EffectivePolicy(ctx.snapshot, ctx.proxy, host, dport, d.destination.subset)
                 .load_balancer;
        // The DestinationRule whose consistent hash becomes the route's hash policy.
        if (lb != nullptr && ctx.origins != nullptr) {
          ctx.origins->Add(ctx.snapshot.DestinationRuleFor(host, ctx.proxy.ns, &ctx.proxy.labels));
        }
      }
    }
    if (targets.empty()) {
      // Envoy answers 503 for a route whose cluster does not exist; say so explicitly.
      out->mutable_direct_response()->set_status(503);
      return;
    }
    auto* action = out->mutable_route();
    if (targets.size() == 1) {
      action->set_cluster(targets[0].cluster);
      if (!targets[0].headers->empty()) {
        AddHeaderOps(targets[0].headers->request, out->mutable_request_headers_to_add(),
                     out->mutable_request_headers_to_remove());
        AddHeaderOps(targets[0].headers->response, out->mutable_response_headers_to_add(),
                     out->mutable_response_headers_to_remove());
      }
    } else {
      auto* wc = action->mutable_weighted_clusters();
      for (const auto& t : targets) {
        auto* c = wc->add_clusters();
        c->set_name(t.cluster);
        c->mutable_weight()->set_value(t.weight);
        AddHeaderOps(t.headers->request, c->mutable_request_headers_to_add(),
                     c->mutable_request_headers_to_remove());
        AddHeaderOps(t.headers->response, c->mutable_response_headers_to_add(),
                     c->mutable_response_headers_to_remove());
      }
    }
    AddHashPolicy(lb, action);
    // istiod disables Envoy's 15 s default: no timeout unless the VirtualService sets one.
    *action->mutable_timeout() = DurationProto(r.timeout.value_or(absl::ZeroDuration()));
    if (r.retries) {
      if (r.retries->attempts > 0) {
        auto* rp = action->mutable_retry_policy();
        rp->set_retry_on(r.retries->retry_on.empty() ? kDefaultRetryOn : r.retries->retry_on);
        rp->mutable_num_retries()->set_value(r.retries->attempts);
        rp->set_host_selection_retry_max_attempts(5);
        if (r.retries->per_try_timeout) {
          *rp->mutable_per_try_timeout() = DurationProto(*r.retries->per_try_timeout);
        }
      }
    } else {
      DefaultRetry(action);
    }
    if (r.rewrite) {
      if (!r.rewrite->uri.empty()) action->set_prefix_rewrite(r.rewrite->uri);
      if (!r.rewrite->regex_match.empty()) {
        action->mutable_regex_rewrite()->mutable_pattern()->set_regex(r.rewrite->regex_match);
        action->mutable_regex_rewrite()->set_substitution(r.rewrite->regex_rewrite);
      }
      if (!r.rewrite->authority.empty()) action->set_host_rewrite_literal(r.rewrite->authority);
    }
    for (const auto& m : r.mirrors) {
      std::string host = ctx.snapshot.ResolveShortName(m.destination.host, config_ns);
      const model::Service* svc = ctx.snapshot.FindService(host);
      uint32_t dport = DestinationPort(m.destination, svc, ctx.port);
      if (svc == nullptr || svc->FindPort(dport) == nullptr) continue;
      auto* mp = action->add_request_mirror_policies();
      mp->set_cluster(BuildClusterName(dport, m.destination.subset, host));
      *mp->mutable_runtime_fraction()->mutable_default_value() = PerMillion(m.percent);
    }
  }
  AddHeaderOps(r.headers.request, out->mutable_request_headers_to_add(),
               out->mutable_request_headers_to_remove());
  AddHeaderOps(r.headers.response, out->mutable_response_headers_to_add(),
               out->mutable_response_headers_to_remove());
  if (r.fault)
    (*out->mutable_typed_per_filter_config())[kFaultFilter].PackFrom(BuildFault(*r.fault));
  if (r.cors) {
    envoy::extensions::filters::http::cors::v3::CorsPolicy cors;
    for (const auto& o : r.cors->allow_origins) {
      SetStringMatcher(o, false, cors.add_allow_origin_string_match());
    }
    cors.set_allow_methods(absl::StrJoin(r.cors->allow_methods, ","));
    cors.set_allow_headers(absl::StrJoin(r.cors->allow_headers, ","));
    cors.set_expose_headers(absl::StrJoin(r.cors->expose_headers, ","));
    if (r.cors->max_age) {
      cors.set_max_age(absl::StrCat(absl::ToInt64Seconds(*r.cors->max_age)));
    }
    if (r.cors->allow_credentials) {
      cors.mutable_allow_credentials()->set_value(*r.cors->allow_credentials);
    }
    (*out->mutable_typed_per_filter_config())[kCorsFilter].PackFrom(cors);
  }
}

// Appends the routes of `routes` (from `vs`) to `vh`; `root_match` narrows delegates.
void AppendRoutes(const model::Config& vs, const std::vector<model::HttpRoute>& routes,
                  const model::HttpMatch* root_match, const RouteContext& ctx, int depth,
                  VirtualHost* vh) {
  if (ctx.origins != nullptr) ctx.origins->Add(vs.key);
  for (const auto& r : routes) {
    std::vector<model::HttpMatch> matches = r.matches;
    if (matches.empty()) matches.emplace_back();
    if (root_match != nullptr) {
      for (auto& m : matches) m = MergeMatch(*root_match, m);
    }
    if (r.delegate) {
      if (depth > 0) continue;  // istiod allows one level of delegation
      std::string ns = r.delegate->ns.empty() ? vs.key.ns : r.delegate->ns;
      model::ConfigPtr delegate =
          ctx.snapshot.FindConfig({model::Kind::kVirtualService, ns, r.delegate->name});
      const model::VirtualService* spec =
          delegate == nullptr ? nullptr : delegate->AsVirtualService();
      if (spec == nullptr) {
        spdlog::debug("envoy generator: {}: delegate {}/{} not found", vs.key.ToString(), ns,
                      r.delegate->name);
        continue;
      }
      for (const auto& m : matches) {
        AppendRoutes(*delegate, spec->http, &m, ctx, depth + 1, vh);
      }
      continue;
    }
    for (const auto& m : matches) {
      if (!Applies(m, ctx.proxy, ctx.port, vs.key.ns, ctx.gateway)) continue;
      Route route;
      route.set_name(!r.name.empty() ? r.name : m.name);
      BuildRouteMatch(m, route.mutable_match());
      BuildAction(r, vs.key.ns, vs.key.ToString(), ctx, &route);
      *vh->add_routes() = std::move(route);
    }
  }
}

// Every name a client of `svc` may use for it on `port`: the FQDN, the short forms Kubernetes
// DNS resolves (the bare name only from the service's own namespace), and the VIP.
std::vector<std::string> Domains(const model::Service& svc, uint32_t port,
                                 const model::Proxy& proxy, const std::string& domain) {
  std::vector<std::string> names = {svc.hostname};
  std::string suffix = absl::StrCat(".", svc.ns, ".svc.", domain);
  if (absl::EndsWith(svc.hostname, suffix)) {
    std::string name = svc.hostname.substr(0, svc.hostname.size() - suffix.size());
    names.push_back(absl::StrCat(name, ".", svc.ns, ".svc"));
    names.push_back(absl::StrCat(name, ".", svc.ns));
    if (svc.ns == proxy.ns) names.push_back(name);
  }
  for (const auto& a : svc.addresses) {
    if (!a.empty() && a != "0.0.0.0" && a.find('/') == std::string::npos) names.push_back(a);
  }
  std::vector<std::string> out;
  for (const auto& n : names) {
    out.push_back(n);
    out.push_back(absl::StrCat(n, ":", port));
  }
  return out;
}

// Virtual hosts for the hosts of mesh VirtualServices that are not services themselves (e.g.
// `foo.example.com` routed to a real service), as istiod adds them: on the HTTP ports of the
// registry services the host matches (a wildcard host), else on port 80 only.
void AddVirtualServiceOnlyHosts(uint32_t port, const EgressListener* egress,
                                const RouteContext& ctx, std::set<std::string>* taken,
                                RouteConfiguration* rc) {
  if (port == 0 || egress == nullptr) return;
  const model::Snapshot& snapshot = ctx.snapshot;
  const model::Proxy& proxy = ctx.proxy;
  for (const auto& c : snapshot.Configs(model::Kind::kVirtualService)) {
    const model::VirtualService* spec = c->AsVirtualService();
    if (spec == nullptr || !spec->AppliesToMesh() || spec->http.empty()) continue;
    if (!model::ExportedTo(spec->export_to, c->key.ns, proxy.ns)) continue;
    for (const auto& written : spec->hosts) {
      std::string host = snapshot.ResolveShortName(written, c->key.ns);
      if (snapshot.FindService(host) != nullptr) continue;  // a service's vhost has its routes
      // The Sidecar's egress hosts apply to VirtualService hosts as to services.
      model::Service as_service;
      as_service.hostname = host;
      as_service.ns = c->key.ns;
      if (!egress->Includes(as_service)) continue;
      // The VirtualService that wins this host for the proxy (one per host, as services').
      model::ConfigPtr winner = snapshot.VirtualServiceFor(host, proxy.ns);
      if (winner == nullptr || winner->key != c->key) continue;
      std::set<uint32_t> ports;
      for (const auto& [h, svc] : snapshot.Services()) {
        if (!model::HostMatches(host, h)) continue;
        for (const auto& p : svc.ports) {
          if (IsHttpProtocol(p.protocol)) ports.insert(p.number);
        }
      }
      if (ports.empty()) ports.insert(80);
      if (!ports.count(port)) continue;
      VirtualHost vh;
      vh.set_name(absl::StrCat(host, ":", port));
      for (const auto& d : {host, absl::StrCat(host, ":", port)}) {
        if (taken->insert(d).second) vh.add_domains(d);
      }
      if (vh.domains().empty()) continue;
      AppendRoutes(*c, spec->http, nullptr, ctx, 0, &vh);
      *rc->add_virtual_hosts() = std::move(vh);
    }
  }
}

// `origins` gets the VirtualServices whose virtual hosts or routes the configuration carries
// (those only), the DestinationRules whose load balancer shapes a default route, and the Sidecar.
RouteConfiguration BuildPortRoutes(const std::string& name, uint32_t port, const std::string& bind,
                                   const model::Proxy& proxy, const model::Snapshot& snapshot,
                                   OriginSet* origins) {
  RouteConfiguration rc;
  rc.set_name(name);
  rc.mutable_validate_clusters()->set_value(false);
  SidecarScope scope = ScopeFor(proxy, snapshot);
  origins->Add(scope.sidecar);
  RouteContext ctx{proxy, snapshot, port, nullptr, origins};
  std::set<std::string> taken;
  // The Sidecar egress listener this route configuration serves decides the hosts (and, for a
  // port-specific listener, its protocol decides that the port is HTTP).
  const EgressListener* egress = port == 0 ? nullptr : scope.EgressFor(port, bind);
  bool port_specific = egress != nullptr && egress->port != 0;
  for (const model::Service* svc : VisibleServices(proxy, snapshot, scope)) {
    if (egress == nullptr || !egress->Includes(*svc)) continue;
    const model::ServicePort* sp = EgressServicePort(*svc, port, port_specific);
    if (sp == nullptr ||
        !(port_specific ? IsHttpProtocol(egress->protocol) : IsHttpProtocol(sp->protocol))) {
      continue;
    }
    VirtualHost vh;
    vh.set_name(absl::StrCat(svc->hostname, ":", port));
    for (auto& d : Domains(*svc, port, proxy, snapshot.domain())) {
      if (taken.insert(d).second) vh.add_domains(d);
    }
    if (vh.domains().empty()) continue;
    model::ConfigPtr vs = snapshot.VirtualServiceFor(svc->hostname, proxy.ns);
    const model::VirtualService* spec = vs == nullptr ? nullptr : vs->AsVirtualService();
    if (spec != nullptr &&
        !model::ExportedTo(model::EffectiveExportTo(
                               spec->export_to, snapshot.mesh().default_virtual_service_export_to),
                           vs->key.ns, proxy.ns)) {
      spec = nullptr;
    }
    if (spec != nullptr) {
      // The VirtualService's routes only: a request none matches gets 404, as on istiod.
      AppendRoutes(*vs, spec->http, nullptr, ctx, 0, &vh);
    } else {
      auto* route = vh.add_routes();
      route->set_name("default");
      route->mutable_match()->set_prefix("/");
      auto* action = route->mutable_route();
      action->set_cluster(BuildClusterName(sp->number, "", svc->hostname));
      *action->mutable_timeout() = Seconds(0);
      DefaultRetry(action);
      const model::LoadBalancer* lb =
          EffectivePolicy(snapshot, proxy, svc->hostname, sp->number, "").load_balancer;
      if (lb != nullptr) {
        origins->Add(snapshot.DestinationRuleFor(svc->hostname, proxy.ns, &proxy.labels));
      }
      AddHashPolicy(lb, action);
    }
    *rc.add_virtual_hosts() = std::move(vh);
  }
  AddVirtualServiceOnlyHosts(port, egress, ctx, &taken, &rc);
  // Hosts outside the registry: passed through (ALLOW_ANY) or refused (REGISTRY_ONLY).
  auto* fallback = rc.add_virtual_hosts();
  auto* route = fallback->add_routes();
  route->mutable_match()->set_prefix("/");
  fallback->add_domains("*");
  if (scope.registry_only) {
    fallback->set_name("block_all");
    route->set_name("block_all");
    route->mutable_direct_response()->set_status(502);
  } else {
    fallback->set_name("allow_any");
    route->set_name("allow_any");
    route->mutable_route()->set_cluster(kPassthroughCluster);
    *route->mutable_route()->mutable_timeout() = Seconds(0);
  }
  return rc;
}

}  // namespace

void AppendVirtualServiceRoutes(const model::Config& vs, const model::Proxy& proxy,
                                const model::Snapshot& snapshot, uint32_t port,
                                const model::Config* gateway,
                                envoy::config::route::v3::VirtualHost* vh) {
  const model::VirtualService* spec = vs.AsVirtualService();
  if (spec == nullptr) return;
  RouteContext ctx{proxy, snapshot, port, gateway};
  AppendRoutes(vs, spec->http, nullptr, ctx, 0, vh);
}

Resources EnvoyGenerator::Routes(const model::Proxy& proxy, const model::Snapshot& snapshot,
                                 const std::vector<std::string>& names) const {
  Resources out;
  for (const auto& name : names) {
    // "<port>", or "<bind>:<port>" for a Sidecar egress listener with its own bind.
    uint32_t port = 0;
    std::string bind;
    absl::string_view port_text = name;
    if (size_t colon = name.rfind(':'); colon != std::string::npos) {
      bind = name.substr(0, colon);
      port_text = absl::string_view(name).substr(colon + 1);
    }
    if (!absl::SimpleAtoi(port_text, &port) || port == 0 || port > 65535) {
      // A name of another shape still gets an answer, so Envoy's listener does not stay
      // warming; it routes nothing but the fallback.
      port = 0;
    }
    OriginSet origins;
    RouteConfiguration rc = BuildPortRoutes(name, port, bind, proxy, snapshot, &origins);
    out.push_back(PackResource(name, rc, origins.Build()));
  }
  return out;
}

}  // namespace meshd::xds
