#include "xds/validate/envoy_validator.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "re2/re2.h"
#include "validate/validate.pb.h"

namespace meshd::xds {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr int kMaxDepth = 100;
// google.protobuf.Duration's documented range.
constexpr int64_t kMaxDurationSeconds = 315576000000;

std::string JoinPath(const std::string& path, absl::string_view name) {
  return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
}

std::string Quote(absl::string_view s) { return absl::StrCat("\"", absl::CEscape(s), "\""); }

template <typename T>
std::string FormatNumber(const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else {
    return absl::StrCat(v);
  }
}

// "1.5s", "0s", "-0.000000001s": the way protobuf's JSON mapping prints a Duration.
std::string ProtoDurationString(absl::Duration d) {
  std::string sign = d < absl::ZeroDuration() ? "-" : "";
  absl::Duration abs = absl::AbsDuration(d);
  int64_t seconds = absl::IDivDuration(abs, absl::Seconds(1), &abs);
  int64_t nanos = absl::ToInt64Nanoseconds(abs);
  if (nanos == 0) return absl::StrCat(sign, seconds, "s");
  std::string frac = absl::StrCat(nanos + 1000000000).substr(1);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return absl::StrCat(sign, seconds, ".", frac, "s");
}

std::string TimestampString(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

absl::Duration ToAbsl(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

absl::Time ToAbsl(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

// Reads a message's (int64 seconds = 1, int32 nanos = 2) pair by reflection, so that
// Duration/Timestamp values from any pool are handled alike.
std::pair<int64_t, int32_t> SecondsNanos(const Message& m) {
  const Descriptor* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  const FieldDescriptor* s = d->FindFieldByNumber(1);
  const FieldDescriptor* n = d->FindFieldByNumber(2);
  return {s ? r->GetInt64(m, s) : 0, n ? r->GetInt32(m, n) : 0};
}

// ---- well-known string formats ----------------------------------------------------------------

size_t Utf8Length(absl::string_view s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; });
}

bool IsHostname(absl::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty() || s.size() > 253) return false;
  for (absl::string_view label : absl::StrSplit(s, '.')) {
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
  }
  return true;
}

bool IsIpv4(const std::string& s) {
  in_addr a;
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool IsIpv6(const std::string& s) {
  in6_addr a;
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

bool IsEmail(const std::string& s) {
  absl::string_view v = s;
  // "Name <local@host>" is accepted, as by Go's net/mail.
  if (size_t lt = v.rfind('<'); lt != absl::string_view::npos && absl::EndsWith(v, ">")) {
    v = v.substr(lt + 1, v.size() - lt - 2);
  }
  size_t at = v.rfind('@');
  if (at == absl::string_view::npos || at == 0 || at > 64) return false;
  absl::string_view local = v.substr(0, at);
  for (char c : local) {
    if (c <= ' ' || c == '<' || c == '>' || c == '@' || c == 0x7f) return false;
  }
  return IsHostname(v.substr(at + 1));
}

bool IsUriReference(absl::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  }
  return true;
}

bool IsUri(absl::string_view s) {
  size_t colon = s.find(':');
  if (colon == absl::string_view::npos || colon == 0) return false;
  if (!absl::ascii_isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s.substr(0, colon)) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  return IsUriReference(s);
}

bool IsUuid(absl::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !absl::ascii_isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// RFC 7230 token, optionally with a leading ':' (HTTP/2 pseudo-headers).
bool IsStrictHeaderName(absl::string_view s) {
  if (absl::StartsWith(s, ":")) s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) continue;
    if (!absl::StrContains("!#$%&'*+-.^_|~`", c)) return false;
  }
  return true;
}

bool IsStrictHeaderValue(absl::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u <= 0x08) || (u >= 0x0A && u <= 0x1F) || u == 0x7F) return false;
  }
  return true;
}

// The loose form of both header regexes: anything but NUL, LF and CR.
bool IsLooseHeader(absl::string_view s) {
  return s.find_first_of(absl::string_view("\0\n\r", 3)) == absl::string_view::npos;
}

// Compiled patterns, shared by all callers.
class PatternCache {
 public:
  static PatternCache& Get() {
    static PatternCache* cache = new PatternCache();
    return *cache;
  }
  // nullptr when the pattern does not compile.
  const RE2* Find(const std::string& pattern) {
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = patterns_.try_emplace(pattern);
    if (inserted) {
      RE2::Options options;
      options.set_log_errors(false);
      auto re = std::make_unique<RE2>(pattern, options);
      if (re->ok()) it->second = std::move(re);
    }
    return it->second.get();
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<RE2>> patterns_ ABSL_GUARDED_BY(mu_);
};

// ---- numeric ranges, PGV semantics ----------------------------------------------------------

template <typename T>
struct Bounds {
  std::optional<T> lt, lte, gt, gte;
};

// With both an upper (lt/lte) and a lower (gt/gte) bound, the range is inclusive of the values
// between them when upper > lower, and exclusive (the values between are forbidden) otherwise.
template <typename T, typename Format>
std::optional<std::string> RangeViolation(const T& v, const Bounds<T>& b, Format format) {
  bool has_upper = b.lt.has_value() || b.lte.has_value();
  bool has_lower = b.gt.has_value() || b.gte.has_value();
  bool meets_upper = b.lt ? v < *b.lt : (b.lte ? v <= *b.lte : true);
  bool meets_lower = b.gt ? *b.gt < v : (b.gte ? *b.gte <= v : true);
  if (has_upper && has_lower) {
    const T& upper = b.lt ? *b.lt : *b.lte;
    const T& lower = b.gt ? *b.gt : *b.gte;
    if (lower < upper) {
      if (meets_upper && meets_lower) return std::nullopt;
      return absl::StrCat("value must be inside range ", b.gt ? "(" : "[", format(lower), ", ",
                          format(upper), b.lt ? ")" : "]");
    }
    if (meets_upper || meets_lower) return std::nullopt;
    return absl::StrCat("value must be outside range ", b.lt ? "[" : "(", format(upper), ", ",
                        format(lower), b.gt ? "]" : ")");
  }
  if (!meets_upper) {
    return b.lt ? absl::StrCat("value must be less than ", format(*b.lt))
                : absl::StrCat("value must be less than or equal to ", format(*b.lte));
  }
  if (!meets_lower) {
    return b.gt ? absl::StrCat("value must be greater than ", format(*b.gt))
                : absl::StrCat("value must be greater than or equal to ", format(*b.gte));
  }
  return std::nullopt;
}

// ---- the walker -------------------------------------------------------------------------------

// One value of a field: the singular value (index < 0) or one element of a repeated field.
struct Slot {
  const Message* message;
  const FieldDescriptor* field;
  int index;

  const Reflection* refl() const { return message->GetReflection(); }
  std::string String() const {
    return index < 0 ? refl()->GetString(*message, field)
                     : refl()->GetRepeatedString(*message, field, index);
  }
#define MESHD_SLOT_GETTER(Type, Name)                                     \
  Type Name() const {                                                     \
    return index < 0 ? refl()->Get##Name(*message, field)                 \
                     : refl()->GetRepeated##Name(*message, field, index); \
  }
  MESHD_SLOT_GETTER(int32_t, Int32)
  MESHD_SLOT_GETTER(int64_t, Int64)
  MESHD_SLOT_GETTER(uint32_t, UInt32)
  MESHD_SLOT_GETTER(uint64_t, UInt64)
  MESHD_SLOT_GETTER(float, Float)
  MESHD_SLOT_GETTER(double, Double)
  MESHD_SLOT_GETTER(bool, Bool)
  MESHD_SLOT_GETTER(int, EnumValue)
#undef MESHD_SLOT_GETTER
  // A stable representation for uniqueness checks and map keys.
  std::string Repr() const {
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        return Quote(String());
      case FieldDescriptor::CPPTYPE_INT32:
        return absl::StrCat(Int32());
      case FieldDescriptor::CPPTYPE_INT64:
        return absl::StrCat(Int64());
      case FieldDescriptor::CPPTYPE_UINT32:
        return absl::StrCat(UInt32());
      case FieldDescriptor::CPPTYPE_UINT64:
        return absl::StrCat(UInt64());
      case FieldDescriptor::CPPTYPE_FLOAT:
        return absl::StrCat(Float());
      case FieldDescriptor::CPPTYPE_DOUBLE:
        return absl::StrCat(Double());
      case FieldDescriptor::CPPTYPE_BOOL:
        return Bool() ? "true" : "false";
      case FieldDescriptor::CPPTYPE_ENUM:
        return absl::StrCat(EnumValue());
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return index < 0 ? refl()->GetMessage(*message, field).SerializeAsString()
                         : refl()->GetRepeatedMessage(*message, field, index).SerializeAsString();
    }
    return "";
  }
};

bool MessageDisabled(const Descriptor* d) {
  const auto& options = d->options();
  if (options.GetExtension(validate::disabled)) return true;
  // `(validate.ignored)` is newer than some validate.proto copies; honour it when compiled in.
  static const FieldDescriptor* ignored =
      google::protobuf::DescriptorPool::generated_pool()->FindExtensionByName("validate.ignored");
  return ignored != nullptr && ignored->cpp_type() == FieldDescriptor::CPPTYPE_BOOL &&
         options.GetReflection()->GetBool(options, ignored);
}

bool IsWrapper(const Descriptor* d) {
  static const auto* kWrappers = new absl::flat_hash_set<std::string>{
      "google.protobuf.DoubleValue", "google.protobuf.FloatValue",  "google.protobuf.Int64Value",
      "google.protobuf.UInt64Value", "google.protobuf.Int32Value",  "google.protobuf.UInt32Value",
      "google.protobuf.BoolValue",   "google.protobuf.StringValue", "google.protobuf.BytesValue"};
  return kWrappers->contains(d->full_name());
}

// Unpacks an Any (read by reflection) into a new message of the generated pool.
std::unique_ptr<Message> Unpack(const Message& any, std::string* type_name, std::string* error) {
  const Descriptor* d = any.GetDescriptor();
  const Reflection* r = any.GetReflection();
  std::string type_url = r->GetString(any, d->FindFieldByNumber(1));
  size_t slash = type_url.rfind('/');
  *type_name = slash == std::string::npos ? "" : type_url.substr(slash + 1);
  const Descriptor* type =
      type_name->empty()
          ? nullptr
          : google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(*type_name);
  if (type == nullptr) {
    *error = absl::StrCat("unknown type URL ", Quote(type_url));
    return nullptr;
  }
  const Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type);
  if (prototype == nullptr) {
    *error = absl::StrCat("unknown type URL ", Quote(type_url));
    return nullptr;
  }
  std::unique_ptr<Message> inner(prototype->New());
  if (!inner->ParseFromString(r->GetString(any, d->FindFieldByNumber(2)))) {
    *error = absl::StrCat("value does not parse as ", *type_name);
    return nullptr;
  }
  return inner;
}

class Walker {
 public:
  explicit Walker(std::vector<std::string>* errors) : errors_(errors) {}

  void WalkMessage(const Message& m, const std::string& path, int depth);
  void WalkAny(const Message& any, const std::string& path, int depth);

 private:
  void Error(const std::string& path, std::string reason) {
    errors_->push_back(path.empty() ? std::move(reason) : absl::StrCat(path, ": ", reason));
  }

  void WalkField(const Message& m, const FieldDescriptor* f, const std::string& path, int depth);
  void WalkMap(const Message& m, const FieldDescriptor* f, const validate::FieldRules& rules,
               const std::string& path, int depth);
  // A scalar value, or a (set) message value, under `rules`.
  void CheckValue(const Slot& slot, const validate::FieldRules& rules, const std::string& path,
                  int depth);
  void CheckMessage(const Message& v, const validate::FieldRules& rules, const std::string& path,
                    int depth);
  void CheckString(const std::string& v, const validate::StringRules& r, const std::string& path);
  void CheckBytes(const std::string& v, const validate::BytesRules& r, const std::string& path);
  void CheckEnum(int v, const FieldDescriptor* f, const validate::EnumRules& r,
                 const std::string& path);
  // Returns whether an error was reported.
  bool CheckDuration(const Message& v, const validate::DurationRules& r, const std::string& path);
  void CheckTimestamp(const Message& v, const validate::TimestampRules& r, const std::string& path);
  void CheckEnvoyDuration(const Message& v, const std::string& path);

  template <typename T, typename R>
  void CheckNumber(T v, const R& r, const std::string& path) {
    if (r.has_const_() && v != r.const_()) {
      Error(path, absl::StrCat("value must equal ", FormatNumber(r.const_())));
    }
    Bounds<T> b;
    if (r.has_lt()) b.lt = r.lt();
    if (r.has_lte()) b.lte = r.lte();
    if (r.has_gt()) b.gt = r.gt();
    if (r.has_gte()) b.gte = r.gte();
    if (auto e = RangeViolation(v, b, [](const T& x) { return FormatNumber(x); })) Error(path, *e);
    if (r.in_size() > 0 && std::find(r.in().begin(), r.in().end(), v) == r.in().end()) {
      Error(path, absl::StrCat("value must be in list [", absl::StrJoin(r.in(), ", "), "]"));
    }
    if (std::find(r.not_in().begin(), r.not_in().end(), v) != r.not_in().end()) {
      Error(path,
            absl::StrCat("value must not be in list [", absl::StrJoin(r.not_in(), ", "), "]"));
    }
  }

  std::vector<std::string>* errors_;
};

void Walker::WalkMessage(const Message& m, const std::string& path, int depth) {
  if (depth > kMaxDepth) {
    Error(path, absl::StrCat("message nesting exceeds ", kMaxDepth, " levels"));
    return;
  }
  const Descriptor* d = m.GetDescriptor();
  if (MessageDisabled(d)) return;
  if (d->full_name() == "google.protobuf.Any") {
    WalkAny(m, path, depth);
    return;
  }
  if (d->full_name() == "google.protobuf.Duration") {
    CheckEnvoyDuration(m, path);
    return;
  }
  const Reflection* r = m.GetReflection();
  for (int i = 0; i < d->oneof_decl_count(); ++i) {
    const auto* oneof = d->oneof_decl(i);
    if (oneof->is_synthetic() || !oneof->options().GetExtension(validate::required)) continue;
    if (r->HasOneof(m, oneof)) continue;
    std::vector<std::string> names;
    for (int j = 0; j < oneof->field_count(); ++j) names.push_back(oneof->field(j)->name());
    Error(JoinPath(path, oneof->name()),
          absl::StrCat("value is required (set one of ", absl::StrJoin(names, ", "), ")"));
  }
  for (int i = 0; i < d->field_count(); ++i) WalkField(m, d->field(i), path, depth);
}

void Walker::WalkAny(const Message& any, const std::string& path, int depth) {
  std::string type_name, error;
  std::unique_ptr<Message> inner = Unpack(any, &type_name, &error);
  if (inner == nullptr) {
    Error(path, error);
    return;
  }
  WalkMessage(*inner, absl::StrCat(path, "(", type_name, ")"), depth + 1);
}

void Walker::WalkField(const Message& m, const FieldDescriptor* f, const std::string& path,
                       int depth) {
  const validate::FieldRules& rules = f->options().GetExtension(validate::rules);
  const Reflection* r = m.GetReflection();
  std::string fpath = JoinPath(path, f->name());
  if (f->is_map()) {
    WalkMap(m, f, rules, fpath, depth);
    return;
  }
  if (f->is_repeated()) {
    int n = r->FieldSize(m, f);
    const validate::RepeatedRules& rep = rules.repeated();
    if (rep.has_min_items() && static_cast<uint64_t>(n) < rep.min_items()) {
      Error(fpath, absl::StrCat("value must contain at least ", rep.min_items(), " item(s)"));
    }
    if (rep.has_max_items() && static_cast<uint64_t>(n) > rep.max_items()) {
      Error(fpath, absl::StrCat("value must contain no more than ", rep.max_items(), " item(s)"));
    }
    if (rep.unique()) {
      absl::flat_hash_map<std::string, int> seen;
      for (int i = 0; i < n; ++i) {
        auto [it, inserted] = seen.try_emplace(Slot{&m, f, i}.Repr(), i);
        if (!inserted) {
          Error(absl::StrCat(fpath, "[", i, "]"),
                absl::StrCat("repeated value must contain unique items (same as item ", it->second,
                             ")"));
        }
      }
    }
    for (int i = 0; i < n; ++i) {
      CheckValue(Slot{&m, f, i}, rep.items(), absl::StrCat(fpath, "[", i, "]"), depth);
    }
    return;
  }
  if (f->real_containing_oneof() != nullptr && !r->HasField(m, f)) {
    return;  // rules of a oneof member, `required` included, apply only when it is the one set
  }
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    if (!r->HasField(m, f)) {
      bool required = rules.message().required() ||
                      (rules.has_duration() && rules.duration().required()) ||
                      (rules.has_any() && rules.any().required()) ||
                      (rules.has_timestamp() && rules.timestamp().required());
      if (required) Error(fpath, "value is required");
      return;
    }
  } else if (f->has_presence() && !r->HasField(m, f)) {
    return;  // an unset oneof member or optional scalar: its rules do not apply
  }
  CheckValue(Slot{&m, f, -1}, rules, fpath, depth);
}

void Walker::WalkMap(const Message& m, const FieldDescriptor* f, const validate::FieldRules& rules,
                     const std::string& path, int depth) {
  const Reflection* r = m.GetReflection();
  int n = r->FieldSize(m, f);
  const validate::MapRules& map = rules.map();
  if (map.has_min_pairs() && static_cast<uint64_t>(n) < map.min_pairs()) {
    Error(path, absl::StrCat("value must contain at least ", map.min_pairs(), " pair(s)"));
  }
  if (map.has_max_pairs() && static_cast<uint64_t>(n) > map.max_pairs()) {
    Error(path, absl::StrCat("value must contain no more than ", map.max_pairs(), " pair(s)"));
  }
  // Map order is unspecified: visit entries by key so that errors come out in a stable order.
  std::vector<std::pair<std::string, const Message*>> entries;
  for (int i = 0; i < n; ++i) {
    const Message& entry = r->GetRepeatedMessage(m, f, i);
    entries.emplace_back(Slot{&entry, f->message_type()->map_key(), -1}.Repr(), &entry);
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [key, entry] : entries) {
    std::string epath = absl::StrCat(path, "[", key, "]");
    CheckValue(Slot{entry, f->message_type()->map_key(), -1}, map.keys(),
               absl::StrCat(epath, " (key)"), depth);
    // Envoy hands typed metadata to whoever reads it and never unpacks it itself.
    if (f->full_name() == "envoy.config.core.v3.Metadata.typed_filter_metadata") continue;
    CheckValue(Slot{entry, f->message_type()->map_value(), -1}, map.values(), epath, depth);
  }
}

void Walker::CheckValue(const Slot& slot, const validate::FieldRules& rules,
                        const std::string& path, int depth) {
  using R = validate::FieldRules;
  switch (slot.field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      if (slot.field->type() == FieldDescriptor::TYPE_BYTES) {
        if (rules.has_bytes()) CheckBytes(slot.String(), rules.bytes(), path);
      } else if (rules.has_string()) {
        CheckString(slot.String(), rules.string(), path);
      }
      return;
    case FieldDescriptor::CPPTYPE_INT32:
      if (rules.type_case() == R::kInt32) CheckNumber(slot.Int32(), rules.int32(), path);
      if (rules.type_case() == R::kSint32) CheckNumber(slot.Int32(), rules.sint32(), path);
      if (rules.type_case() == R::kSfixed32) CheckNumber(slot.Int32(), rules.sfixed32(), path);
      return;
    case FieldDescriptor::CPPTYPE_INT64:
      if (rules.type_case() == R::kInt64) CheckNumber(slot.Int64(), rules.int64(), path);
      if (rules.type_case() == R::kSint64) CheckNumber(slot.Int64(), rules.sint64(), path);
      if (rules.type_case() == R::kSfixed64) CheckNumber(slot.Int64(), rules.sfixed64(), path);
      return;
    case FieldDescriptor::CPPTYPE_UINT32:
      if (rules.type_case() == R::kUint32) CheckNumber(slot.UInt32(), rules.uint32(), path);
      if (rules.type_case() == R::kFixed32) CheckNumber(slot.UInt32(), rules.fixed32(), path);
      return;
    case FieldDescriptor::CPPTYPE_UINT64:
      if (rules.type_case() == R::kUint64) CheckNumber(slot.UInt64(), rules.uint64(), path);
      if (rules.type_case() == R::kFixed64) CheckNumber(slot.UInt64(), rules.fixed64(), path);
      return;
    case FieldDescriptor::CPPTYPE_FLOAT:
      if (rules.type_case() == R::kFloat) CheckNumber(slot.Float(), rules.float_(), path);
      return;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      if (rules.type_case() == R::kDouble) CheckNumber(slot.Double(), rules.double_(), path);
      return;
    case FieldDescriptor::CPPTYPE_BOOL:
      if (rules.has_bool_() && rules.bool_().has_const_() &&
          slot.Bool() != rules.bool_().const_()) {
        Error(path, absl::StrCat("value must equal ", FormatNumber(rules.bool_().const_())));
      }
      return;
    case FieldDescriptor::CPPTYPE_ENUM:
      if (rules.has_enum_()) CheckEnum(slot.EnumValue(), slot.field, rules.enum_(), path);
      return;
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Reflection* r = slot.refl();
      const Message& v = slot.index < 0
                             ? r->GetMessage(*slot.message, slot.field)
                             : r->GetRepeatedMessage(*slot.message, slot.field, slot.index);
      CheckMessage(v, rules, path, depth);
      return;
    }
  }
}

void Walker::CheckMessage(const Message& v, const validate::FieldRules& rules,
                          const std::string& path, int depth) {
  if (rules.message().skip()) return;
  const Descriptor* d = v.GetDescriptor();
  if (IsWrapper(d)) {
    // A set wrapper gets the rule of the scalar it wraps.
    CheckValue(Slot{&v, d->FindFieldByNumber(1), -1}, rules, path, depth);
    return;
  }
  if (d->full_name() == "google.protobuf.Duration" && rules.has_duration()) {
    if (CheckDuration(v, rules.duration(), path)) return;
  }
  if (d->full_name() == "google.protobuf.Timestamp" && rules.has_timestamp()) {
    CheckTimestamp(v, rules.timestamp(), path);
  }
  if (d->full_name() == "google.protobuf.Any" && rules.has_any()) {
    std::string type_url = v.GetReflection()->GetString(v, d->FindFieldByNumber(1));
    const auto& in = rules.any().in();
    if (!in.empty() && std::find(in.begin(), in.end(), type_url) == in.end()) {
      std::vector<std::string> quoted;
      for (const auto& s : in) quoted.push_back(Quote(s));
      Error(path, absl::StrCat("type URL must be in list [", absl::StrJoin(quoted, ", "), "]"));
    }
    const auto& not_in = rules.any().not_in();
    if (std::find(not_in.begin(), not_in.end(), type_url) != not_in.end()) {
      std::vector<std::string> quoted;
      for (const auto& s : not_in) quoted.push_back(Quote(s));
      Error(path, absl::StrCat("type URL must not be in list [", absl::StrJoin(quoted, ", "), "]"));
    }
  }
  WalkMessage(v, path, depth + 1);
}

void Walker::CheckString(const std::string& v, const validate::StringRules& r,
                         const std::string& path) {
  if (r.ignore_empty() && v.empty()) return;
  auto quoted_list = [](const auto& list) {
    std::vector<std::string> quoted;
    for (const auto& s : list) quoted.push_back(Quote(s));
    return absl::StrCat("[", absl::StrJoin(quoted, ", "), "]");
  };
  if (r.has_const_() && v != r.const_()) {
    Error(path, absl::StrCat("value must equal ", Quote(r.const_())));
  }
  size_t runes = Utf8Length(v);
  if (r.has_len() && runes != r.len()) {
    Error(path, absl::StrCat("value length must be ", r.len(), " characters"));
  }
  if (r.has_min_len() && runes < r.min_len()) {
    Error(path, absl::StrCat("value length must be at least ", r.min_len(), " characters"));
  }
  if (r.has_max_len() && runes > r.max_len()) {
    Error(path, absl::StrCat("value length must be at most ", r.max_len(), " characters"));
  }
  if (r.has_len_bytes() && v.size() != r.len_bytes()) {
    Error(path, absl::StrCat("value length must be ", r.len_bytes(), " bytes"));
  }
  if (r.has_min_bytes() && v.size() < r.min_bytes()) {
    Error(path, absl::StrCat("value length must be at least ", r.min_bytes(), " bytes"));
  }
  if (r.has_max_bytes() && v.size() > r.max_bytes()) {
    Error(path, absl::StrCat("value length must be at most ", r.max_bytes(), " bytes"));
  }
  if (r.has_pattern()) {
    const RE2* re = PatternCache::Get().Find(r.pattern());
    if (re == nullptr) {
      Error(path, absl::StrCat("rule pattern ", Quote(r.pattern()), " does not compile"));
    } else if (!RE2::PartialMatch(v, *re)) {
      Error(path, absl::StrCat("value does not match regex pattern ", Quote(r.pattern())));
    }
  }
  if (r.has_prefix() && !absl::StartsWith(v, r.prefix())) {
    Error(path, absl::StrCat("value does not have prefix ", Quote(r.prefix())));
  }
  if (r.has_suffix() && !absl::EndsWith(v, r.suffix())) {
    Error(path, absl::StrCat("value does not have suffix ", Quote(r.suffix())));
  }
  if (r.has_contains() && !absl::StrContains(v, r.contains())) {
    Error(path, absl::StrCat("value does not contain substring ", Quote(r.contains())));
  }
  if (r.has_not_contains() && absl::StrContains(v, r.not_contains())) {
    Error(path, absl::StrCat("value contains substring ", Quote(r.not_contains())));
  }
  if (r.in_size() > 0 && std::find(r.in().begin(), r.in().end(), v) == r.in().end()) {
    Error(path, absl::StrCat("value must be in list ", quoted_list(r.in())));
  }
  if (std::find(r.not_in().begin(), r.not_in().end(), v) != r.not_in().end()) {
    Error(path, absl::StrCat("value must not be in list ", quoted_list(r.not_in())));
  }
  using S = validate::StringRules;
  switch (r.well_known_case()) {
    case S::kEmail:
      if (r.email() && !IsEmail(v)) Error(path, "value must be a valid email address");
      break;
    case S::kHostname:
      if (r.hostname() && !IsHostname(v)) Error(path, "value must be a valid hostname");
      break;
    case S::kIp:
      if (r.ip() && !IsIpv4(v) && !IsIpv6(v)) Error(path, "value must be a valid IP address");
      break;
    case S::kIpv4:
      if (r.ipv4() && !IsIpv4(v)) Error(path, "value must be a valid IPv4 address");
      break;
    case S::kIpv6:
      if (r.ipv6() && !IsIpv6(v)) Error(path, "value must be a valid IPv6 address");
      break;
    case S::kUri:
      if (r.uri() && !IsUri(v)) Error(path, "value must be a valid URI");
      break;
    case S::kUriRef:
      if (r.uri_ref() && !IsUriReference(v)) Error(path, "value must be a valid URI reference");
      break;
    case S::kAddress:
      if (r.address() && !IsHostname(v) && !IsIpv4(v) && !IsIpv6(v)) {
        Error(path, "value must be a valid hostname or IP address");
      }
      break;
    case S::kUuid:
      if (r.uuid() && !IsUuid(v)) Error(path, "value must be a valid UUID");
      break;
    case S::kWellKnownRegex:
      if (r.well_known_regex() == validate::HTTP_HEADER_NAME) {
        if (r.strict() ? !IsStrictHeaderName(v) : !IsLooseHeader(v)) {
          Error(path, r.strict() ? "value must be a valid HTTP header name"
                                 : "value must be a valid HTTP header name (no NUL, CR or LF)");
        }
      } else if (r.well_known_regex() == validate::HTTP_HEADER_VALUE) {
        if (r.strict() ? !IsStrictHeaderValue(v) : !IsLooseHeader(v)) {
          Error(path, r.strict() ? "value must be a valid HTTP header value"
                                 : "value must be a valid HTTP header value (no NUL, CR or LF)");
        }
      }
      break;
    case S::WELL_KNOWN_NOT_SET:
      break;
  }
}

void Walker::CheckBytes(const std::string& v, const validate::BytesRules& r,
                        const std::string& path) {
  auto quoted_list = [](const auto& list) {
    std::vector<std::string> quoted;
    for (const auto& s : list) quoted.push_back(Quote(s));
    return absl::StrCat("[", absl::StrJoin(quoted, ", "), "]");
  };
  if (r.has_const_() && v != r.const_()) {
    Error(path, absl::StrCat("value must equal ", Quote(r.const_())));
  }
  if (r.has_len() && v.size() != r.len()) {
    Error(path, absl::StrCat("value length must be ", r.len(), " bytes"));
  }
  if (r.has_min_len() && v.size() < r.min_len()) {
    Error(path, absl::StrCat("value length must be at least ", r.min_len(), " bytes"));
  }
  if (r.has_max_len() && v.size() > r.max_len()) {
    Error(path, absl::StrCat("value length must be at most ", r.max_len(), " bytes"));
  }
  if (r.has_pattern()) {
    const RE2* re = PatternCache::Get().Find(r.pattern());
    if (re == nullptr) {
      Error(path, absl::StrCat("rule pattern ", Quote(r.pattern()), " does not compile"));
    } else if (!RE2::PartialMatch(v, *re)) {
      Error(path, absl::StrCat("value does not match regex pattern ", Quote(r.pattern())));
    }
  }
  if (r.has_prefix() && !absl::StartsWith(v, r.prefix())) {
    Error(path, absl::StrCat("value does not have prefix ", Quote(r.prefix())));
  }
  if (r.has_suffix() && !absl::EndsWith(v, r.suffix())) {
    Error(path, absl::StrCat("value does not have suffix ", Quote(r.suffix())));
  }
  if (r.has_contains() && !absl::StrContains(v, r.contains())) {
    Error(path, absl::StrCat("value does not contain ", Quote(r.contains())));
  }
  if (r.in_size() > 0 && std::find(r.in().begin(), r.in().end(), v) == r.in().end()) {
    Error(path, absl::StrCat("value must be in list ", quoted_list(r.in())));
  }
  if (std::find(r.not_in().begin(), r.not_in().end(), v) != r.not_in().end()) {
    Error(path, absl::StrCat("value must not be in list ", quoted_list(r.not_in())));
  }
  if (r.ip() && v.size() != 4 && v.size() != 16) {
    Error(path, "value must be a valid IP address in byte format");
  }
  if (r.ipv4() && v.size() != 4) Error(path, "value must be a valid IPv4 address in byte format");
  if (r.ipv6() && v.size() != 16) Error(path, "value must be a valid IPv6 address in byte format");
}

void Walker::CheckEnum(int v, const FieldDescriptor* f, const validate::EnumRules& r,
                       const std::string& path) {
  if (r.has_const_() && v != r.const_()) {
    Error(path, absl::StrCat("value must equal ", r.const_()));
  }
  if (r.defined_only() && f->enum_type()->FindValueByNumber(v) == nullptr) {
    Error(path, absl::StrCat("value must be one of the defined enum values (got ", v, ")"));
  }
  if (r.in_size() > 0 && std::find(r.in().begin(), r.in().end(), v) == r.in().end()) {
    Error(path, absl::StrCat("value must be in list [", absl::StrJoin(r.in(), ", "), "]"));
  }
  if (std::find(r.not_in().begin(), r.not_in().end(), v) != r.not_in().end()) {
    Error(path, absl::StrCat("value must not be in list [", absl::StrJoin(r.not_in(), ", "), "]"));
  }
}

bool Walker::CheckDuration(const Message& v, const validate::DurationRules& r,
                           const std::string& path) {
  auto [seconds, nanos] = SecondsNanos(v);
  if (seconds < -kMaxDurationSeconds || seconds > kMaxDurationSeconds || nanos <= -1000000000 ||
      nanos >= 1000000000 || (seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0)) {
    Error(path, "value is not a valid duration");
    return true;
  }
  absl::Duration d = absl::Seconds(seconds) + absl::Nanoseconds(nanos);
  size_t before = errors_->size();
  if (r.has_const_() && d != ToAbsl(r.const_())) {
    Error(path, absl::StrCat("value must equal ", ProtoDurationString(ToAbsl(r.const_()))));
  }
  Bounds<absl::Duration> b;
  if (r.has_lt()) b.lt = ToAbsl(r.lt());
  if (r.has_lte()) b.lte = ToAbsl(r.lte());
  if (r.has_gt()) b.gt = ToAbsl(r.gt());
  if (r.has_gte()) b.gte = ToAbsl(r.gte());
  if (auto e = RangeViolation(d, b, ProtoDurationString)) Error(path, *e);
  std::vector<std::string> in, not_in;
  bool found_in = false, found_not_in = false;
  for (const auto& x : r.in()) {
    in.push_back(ProtoDurationString(ToAbsl(x)));
    found_in = found_in || ToAbsl(x) == d;
  }
  for (const auto& x : r.not_in()) {
    not_in.push_back(ProtoDurationString(ToAbsl(x)));
    found_not_in = found_not_in || ToAbsl(x) == d;
  }
  if (!in.empty() && !found_in) {
    Error(path, absl::StrCat("value must be in list [", absl::StrJoin(in, ", "), "]"));
  }
  if (found_not_in) {
    Error(path, absl::StrCat("value must not be in list [", absl::StrJoin(not_in, ", "), "]"));
  }
  return errors_->size() != before;
}

void Walker::CheckTimestamp(const Message& v, const validate::TimestampRules& r,
                            const std::string& path) {
  auto [seconds, nanos] = SecondsNanos(v);
  absl::Time t = absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
  if (r.has_const_() && t != ToAbsl(r.const_())) {
    Error(path, absl::StrCat("value must equal ", TimestampString(ToAbsl(r.const_()))));
  }
  Bounds<absl::Time> b;
  if (r.has_lt()) b.lt = ToAbsl(r.lt());
  if (r.has_lte()) b.lte = ToAbsl(r.lte());
  if (r.has_gt()) b.gt = ToAbsl(r.gt());
  if (r.has_gte()) b.gte = ToAbsl(r.gte());
  if (auto e = RangeViolation(t, b, TimestampString)) Error(path, *e);
  // lt_now, gt_now and within depend on the clock; no Envoy proto in our closure uses them.
}

// Envoy rejects any negative or out-of-range Duration, annotated or not
// (MessageUtil::validateDurationFields).
void Walker::CheckEnvoyDuration(const Message& v, const std::string& path) {
  auto [seconds, nanos] = SecondsNanos(v);
  if (seconds < 0 || nanos < 0) {
    Error(path, "value must be a non-negative duration");
  } else if (seconds > kMaxDurationSeconds || nanos >= 1000000000) {
    Error(path, "value is not a valid duration");
  }
}

}  // namespace

std::vector<std::string> ValidateResource(const google::protobuf::Message& message) {
  std::vector<std::string> errors;
  Walker(&errors).WalkMessage(message, "", 0);
  return errors;
}

std::vector<std::string> ValidateAny(const google::protobuf::Any& any) {
  std::vector<std::string> errors;
  std::string type_name, error;
  std::unique_ptr<Message> inner = Unpack(any, &type_name, &error);
  if (inner == nullptr) return {error};
  Walker(&errors).WalkMessage(*inner, "", 0);
  return errors;
}

}  // namespace meshd::xds
