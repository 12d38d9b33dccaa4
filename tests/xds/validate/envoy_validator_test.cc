#include "xds/validate/envoy_validator.h"

#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "envoy/config/core/v3/health_check.pb.h"
#include "envoy/extensions/filters/http/ext_authz/v3/ext_authz.pb.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/text_format.h"
#include "tests/xds/validate/test_resources.h"
#include "validate/validate.pb.h"

namespace meshd::xds {
namespace {

using Errors = std::vector<std::string>;
using testing::IstioMtls;
using testing::Pack;
using testing::RdsHcm;
using testing::SidecarCluster;
using testing::SidecarEndpoints;
using testing::SidecarListener;
using testing::SidecarRoutes;

constexpr char kHcmPath[] =
    "filter_chains[0].filters[0].typed_config(envoy.extensions.filters.network."
    "http_connection_manager.v3.HttpConnectionManager)";

TEST_CASE("realistic sidecar resources are valid", "[validate]") {
  CHECK(ValidateResource(SidecarListener()) == Errors{});
  CHECK(ValidateResource(SidecarRoutes()) == Errors{});
  CHECK(ValidateResource(SidecarCluster()) == Errors{});
  CHECK(ValidateResource(SidecarEndpoints()) == Errors{});
  CHECK(ValidateAny(Pack(SidecarListener())) == Errors{});
  CHECK(ValidateAny(Pack(SidecarCluster())) == Errors{});
}

TEST_CASE("string min_len: cluster with an empty name", "[validate]") {
  auto c = SidecarCluster();
  c.clear_name();
  CHECK(ValidateResource(c) == Errors{"name: value length must be at least 1 characters"});
}

TEST_CASE("string min_len inside repeated messages: filter with an empty name", "[validate]") {
  auto l = SidecarListener();
  l.mutable_filter_chains(0)->mutable_filters(0)->clear_name();
  CHECK(ValidateResource(l) ==
        Errors{"filter_chains[0].filters[0].name: value length must be at least 1 characters"});
}

TEST_CASE("repeated min_items: virtual host without domains", "[validate]") {
  auto r = SidecarRoutes();
  r.mutable_virtual_hosts(0)->clear_domains();
  CHECK(ValidateResource(r) ==
        Errors{"virtual_hosts[0].domains: value must contain at least 1 item(s)"});
}

TEST_CASE("errors inside a packed Any carry the type in the path", "[validate]") {
  auto hcm = RdsHcm("8080");
  hcm.clear_rds();
  *hcm.mutable_route_config() = SidecarRoutes();
  hcm.mutable_route_config()->mutable_virtual_hosts(0)->clear_domains();
  auto l = SidecarListener();
  l.mutable_filter_chains(0)->mutable_filters(0)->mutable_typed_config()->PackFrom(hcm);
  CHECK(ValidateResource(l) ==
        Errors{std::string(kHcmPath) +
               ".route_config.virtual_hosts[0].domains: value must contain at least 1 item(s)"});
}

TEST_CASE("all errors are collected, not only the first", "[validate]") {
  auto r = SidecarRoutes();
  r.mutable_virtual_hosts(0)->clear_name();
  r.mutable_virtual_hosts(0)->clear_domains();
  r.mutable_virtual_hosts(0)->mutable_routes(0)->clear_match();
  CHECK(ValidateResource(r) ==
        Errors{"virtual_hosts[0].name: value length must be at least 1 characters",
               "virtual_hosts[0].domains: value must contain at least 1 item(s)",
               "virtual_hosts[0].routes[0].match: value is required"});
}

TEST_CASE("well_known_regex HTTP_HEADER_NAME (loose): header matcher name with CR LF",
          "[validate]") {
  auto r = SidecarRoutes();
  auto* h = r.mutable_virtual_hosts(0)->mutable_routes(0)->mutable_match()->add_headers();
  h->set_name("x-bad\r\nname");
  h->mutable_string_match()->set_exact("v");
  CHECK(ValidateResource(r) ==
        Errors{"virtual_hosts[0].routes[0].match.headers[0].name: value must be a valid HTTP "
               "header name (no NUL, CR or LF)"});
  h->set_name("x-fine name");  // the loose form only forbids NUL, CR and LF
  CHECK(ValidateResource(r) == Errors{});
}

TEST_CASE("well_known_regex HTTP_HEADER_VALUE (strict): health check host", "[validate]") {
  envoy::config::core::v3::HealthCheck hc;
  hc.mutable_timeout()->set_seconds(1);
  hc.mutable_interval()->set_seconds(5);
  hc.mutable_unhealthy_threshold()->set_value(3);
  hc.mutable_healthy_threshold()->set_value(1);
  hc.mutable_http_health_check()->set_path("/healthz");
  hc.mutable_http_health_check()->set_host(std::string("a\x01z"));
  CHECK(ValidateResource(hc) ==
        Errors{"http_health_check.host: value must be a valid HTTP header value"});
  hc.mutable_http_health_check()->set_host("reviews\tok");  // HTAB is allowed
  CHECK(ValidateResource(hc) == Errors{});
}

TEST_CASE("string max_bytes: upstream TLS SNI longer than 255 bytes", "[validate]") {
  auto tls = IstioMtls();
  tls.set_sni(std::string(256, 'a'));
  CHECK(ValidateResource(tls) == Errors{"sni: value length must be at most 255 bytes"});
}

TEST_CASE("duration gt: negative cluster connect_timeout", "[validate]") {
  auto c = SidecarCluster();
  c.mutable_connect_timeout()->set_seconds(-1);
  CHECK(ValidateResource(c) == Errors{"connect_timeout: value must be greater than 0s"});
  c.mutable_connect_timeout()->set_seconds(0);
  CHECK(ValidateResource(c) == Errors{"connect_timeout: value must be greater than 0s"});
  c.mutable_connect_timeout()->set_nanos(1000000);
  CHECK(ValidateResource(c) == Errors{});
}

TEST_CASE("duration: negative per_try_timeout (no annotation; Envoy rejects any negative)",
          "[validate]") {
  auto r = SidecarRoutes();
  auto* retry =
      r.mutable_virtual_hosts(0)->mutable_routes(0)->mutable_route()->mutable_retry_policy();
  retry->mutable_per_try_timeout()->set_seconds(-2);
  CHECK(ValidateResource(r) ==
        Errors{"virtual_hosts[0].routes[0].route.retry_policy.per_try_timeout: value must be a "
               "non-negative duration"});
  retry->mutable_per_try_timeout()->set_seconds(315576000001);
  CHECK(ValidateResource(r) ==
        Errors{"virtual_hosts[0].routes[0].route.retry_policy.per_try_timeout: value is not a "
               "valid duration"});
}

TEST_CASE("enum defined_only: lb_policy out of range", "[validate]") {
  auto c = SidecarCluster();
  c.GetReflection()->SetEnumValue(&c, c.GetDescriptor()->FindFieldByName("lb_policy"), 99);
  CHECK(ValidateResource(c) ==
        Errors{"lb_policy: value must be one of the defined enum values (got 99)"});
}

TEST_CASE("Any with an unknown type URL", "[validate]") {
  auto l = SidecarListener();
  auto* any = l.mutable_filter_chains(0)->mutable_filters(0)->mutable_typed_config();
  any->set_type_url("type.googleapis.com/envoy.extensions.filters.network.nope.v3.Nope");
  CHECK(ValidateResource(l) ==
        Errors{"filter_chains[0].filters[0].typed_config: unknown type URL "
               "\"type.googleapis.com/envoy.extensions.filters.network.nope.v3.Nope\""});
  CHECK(ValidateAny(*any) ==
        Errors{"unknown type URL "
               "\"type.googleapis.com/envoy.extensions.filters.network.nope.v3.Nope\""});
}

TEST_CASE("Any whose bytes do not parse", "[validate]") {
  auto l = SidecarListener();
  l.mutable_filter_chains(0)->mutable_filters(0)->mutable_typed_config()->set_value("\xff\xff\xff");
  CHECK(
      ValidateResource(l) ==
      Errors{"filter_chains[0].filters[0].typed_config: value does not parse as "
             "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"});
}

TEST_CASE("message required: route without match", "[validate]") {
  auto r = SidecarRoutes();
  r.mutable_virtual_hosts(0)->mutable_routes(0)->clear_match();
  CHECK(ValidateResource(r) == Errors{"virtual_hosts[0].routes[0].match: value is required"});
}

TEST_CASE("oneof required: route without an action", "[validate]") {
  auto r = SidecarRoutes();
  r.mutable_virtual_hosts(0)->mutable_routes(0)->clear_route();
  CHECK(ValidateResource(r) ==
        Errors{"virtual_hosts[0].routes[0].action: value is required (set one of route, "
               "redirect, direct_response, filter_action, non_forwarding_action)"});
}

TEST_CASE("any required: typed extension config without typed_config", "[validate]") {
  auto c = SidecarCluster();
  c.clear_lb_policy();
  auto* policy = c.mutable_load_balancing_policy()->add_policies();
  policy->mutable_typed_extension_config()->set_name("envoy.load_balancing_policies.least_request");
  CHECK(ValidateResource(c) ==
        Errors{"load_balancing_policy.policies[0].typed_extension_config.typed_config: value is "
               "required"});
  policy->mutable_typed_extension_config()->mutable_typed_config()->PackFrom(
      envoy::extensions::load_balancing_policies::least_request::v3::LeastRequest());
  CHECK(ValidateResource(c) == Errors{});
}

TEST_CASE("map keys: metadata with an empty filter name", "[validate]") {
  auto c = SidecarCluster();
  (*c.mutable_metadata()->mutable_filter_metadata())[""].mutable_fields();
  (*c.mutable_metadata()->mutable_filter_metadata())["istio"].mutable_fields();
  CHECK(ValidateResource(c) ==
        Errors{"metadata.filter_metadata[\"\"] (key): value length must be at least 1 characters"});
}

TEST_CASE("map values: typed_per_filter_config is unpacked; bool const", "[validate]") {
  auto r = SidecarRoutes();
  envoy::extensions::filters::http::ext_authz::v3::ExtAuthzPerRoute per_route;
  per_route.set_disabled(false);
  (*r.mutable_virtual_hosts(0)->mutable_typed_per_filter_config())["envoy.filters.http.ext_authz"]
      .PackFrom(per_route);
  CHECK(ValidateResource(r) ==
        Errors{"virtual_hosts[0].typed_per_filter_config[\"envoy.filters.http.ext_authz\"]"
               "(envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute).disabled: value "
               "must equal true"});
}

TEST_CASE("uint32 range [gte, lt): direct response status", "[validate]") {
  auto r = SidecarRoutes();
  r.mutable_virtual_hosts(0)->mutable_routes(0)->mutable_direct_response()->set_status(99);
  CHECK(ValidateResource(r) ==
        Errors{"virtual_hosts[0].routes[0].direct_response.status: value must be inside range "
               "[200, 600)"});
}

TEST_CASE("wrapper types get the wrapped scalar's rule: tls_inspector buffer size", "[validate]") {
  auto l = SidecarListener();
  envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector ti;
  ti.mutable_initial_read_buffer_size()->set_value(100);
  auto* f = l.add_listener_filters();
  f->set_name("envoy.filters.listener.tls_inspector");
  f->mutable_typed_config()->PackFrom(ti);
  CHECK(ValidateResource(l) ==
        Errors{"listener_filters[2].typed_config(envoy.extensions.filters.listener.tls_inspector."
               "v3.TlsInspector).initial_read_buffer_size: value must be inside range (255, "
               "65537)"});
}

TEST_CASE("double range: healthy panic threshold above 100 percent", "[validate]") {
  auto c = SidecarCluster();
  c.mutable_common_lb_config()->mutable_healthy_panic_threshold()->set_value(150);
  CHECK(ValidateResource(c) ==
        Errors{"common_lb_config.healthy_panic_threshold.value: value must be inside range [0, "
               "100]"});
}

// Rule kinds that the Envoy protos in our closure do not use (or use only where a test could
// not reach them) are checked on a message built at run time with the same annotations.
class RuleSchema {
 public:
  RuleSchema() : pool_(google::protobuf::DescriptorPool::generated_pool()), factory_(&pool_) {
    factory_.SetDelegateToGeneratedFactory(true);
    file_.set_name("meshd/test/rules.proto");
    file_.set_package("meshd.test");
    file_.set_syntax("proto2");
    file_.add_dependency("validate/validate.proto");
    file_.add_dependency("google/protobuf/any.proto");
    file_.add_dependency("google/protobuf/duration.proto");
    auto* e = file_.add_enum_type();
    e->set_name("Color");
    for (int i = 0; i < 3; ++i) {
      auto* v = e->add_value();
      v->set_name(std::string("COLOR_") + static_cast<char>('A' + i));
      v->set_number(i);
    }
    message_ = file_.add_message_type();
    message_->set_name("Rules");
  }

  using FieldType = google::protobuf::FieldDescriptorProto::Type;
  // Adds an optional (or repeated) field with the given rules.
  void Add(const std::string& name, FieldType type, const std::string& rules_text,
           bool repeated = false, const std::string& type_name = "") {
    auto* f = message_->add_field();
    f->set_name(name);
    f->set_number(message_->field_size());
    f->set_type(type);
    f->set_label(repeated ? google::protobuf::FieldDescriptorProto::LABEL_REPEATED
                          : google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
    if (!type_name.empty()) f->set_type_name(type_name);
    if (!rules_text.empty()) {
      REQUIRE(google::protobuf::TextFormat::ParseFromString(
          rules_text, f->mutable_options()->MutableExtension(validate::rules)));
    }
  }
  google::protobuf::DescriptorProto* message() { return message_; }
  google::protobuf::FileDescriptorProto& file() { return file_; }

  std::unique_ptr<google::protobuf::Message> New() {
    if (descriptor_ == nullptr) {
      REQUIRE(pool_.BuildFile(file_) != nullptr);
      descriptor_ = pool_.FindMessageTypeByName("meshd.test.Rules");
    }
    return std::unique_ptr<google::protobuf::Message>(factory_.GetPrototype(descriptor_)->New());
  }

 private:
  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_;
  google::protobuf::FileDescriptorProto file_;
  google::protobuf::DescriptorProto* message_;
  const google::protobuf::Descriptor* descriptor_ = nullptr;
};

using FDP = google::protobuf::FieldDescriptorProto;

Errors ValidateText(RuleSchema& schema, const std::string& text) {
  auto m = schema.New();
  google::protobuf::TextFormat::Parser parser;
  REQUIRE(parser.ParseFromString(text, m.get()));
  return ValidateResource(*m);
}

TEST_CASE("numeric rules: const, in, not_in, single bounds, exclusive ranges", "[validate]") {
  RuleSchema s;
  s.Add("excl", FDP::TYPE_UINT32, "uint32 { lt: 10 gt: 20 }");
  s.Add("excl_inclusive", FDP::TYPE_INT32, "int32 { lte: 10 gte: 20 }");
  s.Add("konst", FDP::TYPE_INT64, "int64 { const: 5 }");
  s.Add("in", FDP::TYPE_SINT32, "sint32 { in: [1, 2] }");
  s.Add("not_in", FDP::TYPE_FIXED64, "fixed64 { not_in: [3] }");
  s.Add("lt", FDP::TYPE_DOUBLE, "double { lt: 1.5 }");
  s.Add("gte", FDP::TYPE_FLOAT, "float { gte: 0.5 }");
  CHECK(ValidateText(s, "excl: 9 excl_inclusive: 10 konst: 5 in: 2 not_in: 4 lt: 1 gte: 0.5") ==
        Errors{});
  CHECK(ValidateText(s, "excl: 21 excl_inclusive: 20") == Errors{});
  CHECK(ValidateText(s, "excl: 10 excl_inclusive: 11 konst: 6 in: 3 not_in: 3 lt: 1.5 gte: 0.25") ==
        Errors{"excl: value must be outside range [10, 20]",
               "excl_inclusive: value must be outside range (10, 20)", "konst: value must equal 5",
               "in: value must be in list [1, 2]", "not_in: value must not be in list [3]",
               "lt: value must be less than 1.5",
               "gte: value must be greater than or equal to 0.5"});
  CHECK(ValidateText(s, "excl: 20") == Errors{"excl: value must be outside range [10, 20]"});
}

TEST_CASE("string rules: lengths, affixes, pattern, lists, ignore_empty", "[validate]") {
  RuleSchema s;
  s.Add("len", FDP::TYPE_STRING, "string { len: 3 }");
  s.Add("runes", FDP::TYPE_STRING, "string { max_len: 2 min_bytes: 3 }");
  s.Add("affix", FDP::TYPE_STRING,
        "string { prefix: 'ab' suffix: 'yz' contains: 'm' not_contains: 'x' }");
  s.Add("pattern", FDP::TYPE_STRING, "string { pattern: '^[a-z]+$' }");
  s.Add("in", FDP::TYPE_STRING, "string { in: ['http', 'https'] }");
  s.Add("not_in", FDP::TYPE_STRING, "string { not_in: ['bad'] }");
  s.Add("konst", FDP::TYPE_STRING, "string { const: 'k' }");
  s.Add("ignore_empty", FDP::TYPE_STRING, "string { min_len: 3 ignore_empty: true }");
  CHECK(ValidateText(s,
                     "len: 'abc' runes: '\\303\\251\\303\\251' affix: 'abmyz' pattern: 'ok' "
                     "in: 'https' not_in: 'good' konst: 'k' ignore_empty: ''") == Errors{});
  CHECK(ValidateText(s,
                     "len: 'ab' runes: 'abc' affix: 'x' pattern: 'NO' in: 'ftp' "
                     "not_in: 'bad' konst: 'j' ignore_empty: 'ab'") ==
        Errors{"len: value length must be 3 characters",
               "runes: value length must be at most 2 characters",
               "affix: value does not have prefix \"ab\"",
               "affix: value does not have suffix \"yz\"",
               "affix: value does not contain substring \"m\"",
               "affix: value contains substring \"x\"",
               "pattern: value does not match regex pattern \"^[a-z]+$\"",
               "in: value must be in list [\"http\", \"https\"]",
               "not_in: value must not be in list [\"bad\"]", "konst: value must equal \"k\"",
               "ignore_empty: value length must be at least 3 characters"});
  CHECK(ValidateText(s, "runes: 'ab'") == Errors{"runes: value length must be at least 3 bytes"});
}

TEST_CASE("string well-known formats", "[validate]") {
  RuleSchema s;
  s.Add("hostname", FDP::TYPE_STRING, "string { hostname: true }");
  s.Add("ip", FDP::TYPE_STRING, "string { ip: true }");
  s.Add("ipv4", FDP::TYPE_STRING, "string { ipv4: true }");
  s.Add("ipv6", FDP::TYPE_STRING, "string { ipv6: true }");
  s.Add("address", FDP::TYPE_STRING, "string { address: true }");
  s.Add("email", FDP::TYPE_STRING, "string { email: true }");
  s.Add("uri", FDP::TYPE_STRING, "string { uri: true }");
  s.Add("uuid", FDP::TYPE_STRING, "string { uuid: true }");
  s.Add("header", FDP::TYPE_STRING, "string { well_known_regex: HTTP_HEADER_NAME }");
  CHECK(ValidateText(s,
                     "hostname: 'reviews.default.svc' ip: '::1' ipv4: '10.0.0.1' "
                     "ipv6: 'fe80::1' address: '10.1.2.3' email: 'ops@example.com' "
                     "uri: 'https://example.com/x' "
                     "uuid: '123e4567-e89b-12d3-a456-426614174000' header: ':authority'") ==
        Errors{});
  CHECK(
      ValidateText(s,
                   "hostname: '-bad-.com' ip: 'x' ipv4: '::1' ipv6: '1.2.3.4' "
                   "address: 'a_b' email: 'nobody' uri: '/relative' uuid: '1234' "
                   "header: 'x y'") ==
      Errors{"hostname: value must be a valid hostname", "ip: value must be a valid IP address",
             "ipv4: value must be a valid IPv4 address", "ipv6: value must be a valid IPv6 address",
             "address: value must be a valid hostname or IP address",
             "email: value must be a valid email address", "uri: value must be a valid URI",
             "uuid: value must be a valid UUID", "header: value must be a valid HTTP header name"});
}

TEST_CASE("bytes, bool and enum rules", "[validate]") {
  RuleSchema s;
  s.Add("bytes", FDP::TYPE_BYTES, "bytes { min_len: 2 prefix: '\\001' }");
  s.Add("flag", FDP::TYPE_BOOL, "bool { const: false }");
  s.Add("color", FDP::TYPE_ENUM, "enum { defined_only: true not_in: [2] }", false,
        ".meshd.test.Color");
  s.Add("only_a", FDP::TYPE_ENUM, "enum { in: [0] const: 0 }", false, ".meshd.test.Color");
  CHECK(ValidateText(s, "bytes: '\\001\\002' flag: false color: COLOR_B only_a: COLOR_A") ==
        Errors{});
  CHECK(ValidateText(s, "bytes: '\\002' flag: true color: COLOR_C only_a: COLOR_B") ==
        Errors{"bytes: value length must be at least 2 bytes",
               "bytes: value does not have prefix \"\\001\"", "flag: value must equal false",
               "color: value must not be in list [2]", "only_a: value must equal 0",
               "only_a: value must be in list [0]"});
}

TEST_CASE("repeated rules: max_items, unique, items", "[validate]") {
  RuleSchema s;
  s.Add("names", FDP::TYPE_STRING,
        "repeated { max_items: 2 unique: true items { string { min_len: 1 } } }", true);
  CHECK(ValidateText(s, "names: 'a' names: 'b'") == Errors{});
  CHECK(ValidateText(s, "names: 'a' names: '' names: 'a'") ==
        Errors{"names: value must contain no more than 2 item(s)",
               "names[2]: repeated value must contain unique items (same as item 0)",
               "names[1]: value length must be at least 1 characters"});
}

TEST_CASE("map rules: pairs, keys, values", "[validate]") {
  RuleSchema s;
  auto* entry = s.message()->add_nested_type();
  entry->set_name("WeightsEntry");
  entry->mutable_options()->set_map_entry(true);
  auto* k = entry->add_field();
  k->set_name("key");
  k->set_number(1);
  k->set_type(FDP::TYPE_STRING);
  k->set_label(FDP::LABEL_OPTIONAL);
  auto* v = entry->add_field();
  v->set_name("value");
  v->set_number(2);
  v->set_type(FDP::TYPE_INT32);
  v->set_label(FDP::LABEL_OPTIONAL);
  s.Add("weights", FDP::TYPE_MESSAGE,
        "map { min_pairs: 1 max_pairs: 2 keys { string { prefix: 'w' } } "
        "values { int32 { gt: 0 } } }",
        true, ".meshd.test.Rules.WeightsEntry");
  CHECK(ValidateText(s, "weights { key: 'wa' value: 1 }") == Errors{});
  CHECK(ValidateText(s, "") == Errors{"weights: value must contain at least 1 pair(s)"});
  CHECK(ValidateText(s,
                     "weights { key: 'wa' value: 0 } weights { key: 'b' value: 1 } "
                     "weights { key: 'wc' value: 2 }") ==
        Errors{"weights: value must contain no more than 2 pair(s)",
               "weights[\"b\"] (key): value does not have prefix \"w\"",
               "weights[\"wa\"]: value must be greater than 0"});
}

TEST_CASE("any in/not_in and duration const/lt/in", "[validate]") {
  RuleSchema s;
  s.Add("any", FDP::TYPE_MESSAGE, "any { in: ['type.googleapis.com/google.protobuf.Duration'] }",
        false, ".google.protobuf.Any");
  s.Add("not_any", FDP::TYPE_MESSAGE,
        "any { not_in: ['type.googleapis.com/google.protobuf.Duration'] }", false,
        ".google.protobuf.Any");
  s.Add("konst", FDP::TYPE_MESSAGE, "duration { const { seconds: 1 } }", false,
        ".google.protobuf.Duration");
  s.Add("lt", FDP::TYPE_MESSAGE, "duration { required: true lt { nanos: 500000000 } }", false,
        ".google.protobuf.Duration");
  s.Add("in", FDP::TYPE_MESSAGE, "duration { in { seconds: 5 } in { seconds: 10 } }", false,
        ".google.protobuf.Duration");
  const std::string duration_any = "[type.googleapis.com/google.protobuf.Duration] { seconds: 1 }";
  CHECK(ValidateText(s, "any { " + duration_any +
                            " } konst { seconds: 1 } lt { nanos: 1 } "
                            "in { seconds: 10 }") == Errors{});
  CHECK(ValidateText(s, "not_any { " + duration_any +
                            " } konst { nanos: 1 } lt { seconds: 1 } "
                            "in { seconds: 7 }") ==
        Errors{"not_any: type URL must not be in list "
               "[\"type.googleapis.com/google.protobuf.Duration\"]",
               "konst: value must equal 1s", "lt: value must be less than 0.5s",
               "in: value must be in list [5s, 10s]"});
  CHECK(ValidateText(s, "any { [type.googleapis.com/google.protobuf.Timestamp] { seconds: 1 } }") ==
        Errors{"any: type URL must be in list [\"type.googleapis.com/google.protobuf.Duration\"]",
               "lt: value is required"});
}

TEST_CASE("message skip and disabled messages are not descended into", "[validate]") {
  RuleSchema s;
  auto* inner = s.file().add_message_type();
  inner->set_name("Inner");
  auto* f = inner->add_field();
  f->set_name("name");
  f->set_number(1);
  f->set_type(FDP::TYPE_STRING);
  f->set_label(FDP::LABEL_OPTIONAL);
  google::protobuf::TextFormat::ParseFromString(
      "string { min_len: 1 }", f->mutable_options()->MutableExtension(validate::rules));
  auto* off = s.file().add_message_type();
  *off = *inner;
  off->set_name("Off");
  off->mutable_options()->SetExtension(validate::disabled, true);
  s.Add("checked", FDP::TYPE_MESSAGE, "", false, ".meshd.test.Inner");
  s.Add("skipped", FDP::TYPE_MESSAGE, "message { skip: true }", false, ".meshd.test.Inner");
  s.Add("disabled", FDP::TYPE_MESSAGE, "", false, ".meshd.test.Off");
  CHECK(ValidateText(s, "checked { name: '' } skipped { name: '' } disabled { name: '' }") ==
        Errors{"checked.name: value length must be at least 1 characters"});
}

}  // namespace
}  // namespace meshd::xds
