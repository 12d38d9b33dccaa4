#include "controller/config/json_to_proto.h"

#include <cmath>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/struct.pb.h"

namespace meshd::config {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using nlohmann::json;

std::string Quoted(const json& j) {
  std::string s = j.dump();
  if (s.size() > 64) s = s.substr(0, 61) + "...";
  return s;
}

std::string GotWhat(const json& j) {
  if (j.is_string() || j.is_number() || j.is_boolean()) {
    return absl::StrCat(JsonTypeName(j), " ", Quoted(j));
  }
  return JsonTypeName(j);
}

// Integers arrive as JSON numbers or, as protobuf's JSON allows (and 64-bit values need), as
// decimal strings.
bool ToInteger(const json& j, long double* out) {
  if (j.is_number_integer()) {
    *out = j.is_number_unsigned() ? static_cast<long double>(j.get<uint64_t>())
                                  : static_cast<long double>(j.get<int64_t>());
    return true;
  }
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (std::floor(d) != d) return false;
    *out = d;
    return true;
  }
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    int64_t i;
    uint64_t u;
    if (absl::SimpleAtoi(s, &i)) {
      *out = i;
      return true;
    }
    if (absl::SimpleAtoi(s, &u)) {
      *out = u;
      return true;
    }
  }
  return false;
}

bool ToDouble(const json& j, double* out) {
  if (j.is_number()) {
    *out = j.get<double>();
    return true;
  }
  if (j.is_string()) return absl::SimpleAtod(j.get_ref<const std::string&>(), out);
  return false;
}

// Where decoding reports: `errors` always; `warnings` (may be null) for ignored fields.
struct Sink {
  FieldErrors* errors;
  FieldErrors* warnings;
  const std::set<std::string>* strict_messages;
};

void DecodeMessage(const json& j, const std::string& path, Message* m, const Sink& sink);

void DecodeDuration(const json& j, const std::string& path, Message* m, FieldErrors* errors) {
  if (!j.is_string()) {
    errors->Add(path, absl::StrCat("expected a duration string such as \"1.5s\" or \"100ms\", got ",
                                   GotWhat(j)));
    return;
  }
  auto d = ParseGoDuration(j.get_ref<const std::string&>());
  if (!d.ok()) {
    errors->Add(path,
                absl::StrCat("invalid duration ", Quoted(j),
                             ": expected a number with a unit such as \"1.5s\" or \"100ms\""));
    return;
  }
  auto* duration = static_cast<google::protobuf::Duration*>(m);
  int64_t nanos = absl::ToInt64Nanoseconds(*d);
  duration->set_seconds(nanos / 1000000000);
  duration->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

void DecodeValue(const json& j, google::protobuf::Value* v);

void DecodeStruct(const json& j, google::protobuf::Struct* s) {
  for (const auto& [k, item] : j.items()) DecodeValue(item, &(*s->mutable_fields())[k]);
}

void DecodeValue(const json& j, google::protobuf::Value* v) {
  if (j.is_null()) {
    v->set_null_value(google::protobuf::NULL_VALUE);
  } else if (j.is_boolean()) {
    v->set_bool_value(j.get<bool>());
  } else if (j.is_number()) {
    v->set_number_value(j.get<double>());
  } else if (j.is_string()) {
    v->set_string_value(j.get<std::string>());
  } else if (j.is_array()) {
    auto* list = v->mutable_list_value();
    for (const auto& item : j) DecodeValue(item, list->add_values());
  } else {
    DecodeStruct(j, v->mutable_struct_value());
  }
}

// Sets a singular or appends a repeated scalar/enum field. Returns false on a type error,
// which it has reported.
bool SetScalar(const json& j, const std::string& path, const FieldDescriptor* f, Message* m,
               FieldErrors* errors) {
  const Reflection* r = m->GetReflection();
  const bool rep = f->is_repeated();
  auto int_in = [&](long double lo, long double hi, long double* v) {
    if (!ToInteger(j, v)) {
      errors->Add(path, absl::StrCat("expected an integer, got ", GotWhat(j)));
      return false;
    }
    if (*v < lo || *v > hi) {
      errors->Add(path, absl::StrCat("value ", Quoted(j), " is out of range for ", f->type_name()));
      return false;
    }
    return true;
  };
  long double v;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      if (!int_in(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), &v))
        return false;
      rep ? r->AddInt32(m, f, static_cast<int32_t>(v)) : r->SetInt32(m, f, static_cast<int32_t>(v));
      return true;
    case FieldDescriptor::CPPTYPE_INT64:
      if (!int_in(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), &v))
        return false;
      rep ? r->AddInt64(m, f, static_cast<int64_t>(v)) : r->SetInt64(m, f, static_cast<int64_t>(v));
      return true;
    case FieldDescriptor::CPPTYPE_UINT32:
      if (!int_in(0, std::numeric_limits<uint32_t>::max(), &v)) return false;
      rep ? r->AddUInt32(m, f, static_cast<uint32_t>(v))
          : r->SetUInt32(m, f, static_cast<uint32_t>(v));
      return true;
    case FieldDescriptor::CPPTYPE_UINT64:
      if (!int_in(0, std::numeric_limits<uint64_t>::max(), &v)) return false;
      rep ? r->AddUInt64(m, f, static_cast<uint64_t>(v))
          : r->SetUInt64(m, f, static_cast<uint64_t>(v));
      return true;
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double d;
      if (!ToDouble(j, &d)) {
        errors->Add(path, absl::StrCat("expected a number, got ", GotWhat(j)));
        return false;
      }
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        rep ? r->AddDouble(m, f, d) : r->SetDouble(m, f, d);
      } else {
        rep ? r->AddFloat(m, f, static_cast<float>(d)) : r->SetFloat(m, f, static_cast<float>(d));
      }
      return true;
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      if (!j.is_boolean()) {
        errors->Add(path, absl::StrCat("expected a boolean, got ", GotWhat(j)));
        return false;
      }
      rep ? r->AddBool(m, f, j.get<bool>()) : r->SetBool(m, f, j.get<bool>());
      return true;
    case FieldDescriptor::CPPTYPE_STRING: {
      if (!j.is_string()) {
        errors->Add(path, absl::StrCat("expected a string, got ", GotWhat(j)));
        return false;
      }
      std::string s = j.get<std::string>();
      if (f->type() == FieldDescriptor::TYPE_BYTES) {
        std::string decoded;
        if (!absl::Base64Unescape(s, &decoded)) {
          errors->Add(path, "expected base64-encoded bytes");
          return false;
        }
        s = std::move(decoded);
      }
      rep ? r->AddString(m, f, std::move(s)) : r->SetString(m, f, std::move(s));
      return true;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const EnumDescriptor* e = f->enum_type();
      const google::protobuf::EnumValueDescriptor* value = nullptr;
      if (j.is_string()) {
        value = e->FindValueByName(j.get<std::string>());
      } else if (j.is_number_integer()) {
        value = e->FindValueByNumber(j.get<int>());
      }
      if (value == nullptr) {
        std::vector<std::string> names;
        for (int i = 0; i < e->value_count(); ++i) names.push_back(e->value(i)->name());
        errors->Add(path, absl::StrCat("unknown value ", Quoted(j), ", must be one of ",
                                       absl::StrJoin(names, ", ")));
        return false;
      }
      rep ? r->AddEnum(m, f, value) : r->SetEnum(m, f, value);
      return true;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return false;
}

// Decodes `j` into message field `f` of `m` (one element if repeated).
void DecodeMessageField(const json& j, const std::string& path, const FieldDescriptor* f,
                        Message* m, const Sink& sink) {
  const Reflection* r = m->GetReflection();
  Message* sub = f->is_repeated() ? r->AddMessage(m, f) : r->MutableMessage(m, f);
  DecodeMessage(j, path, sub, sink);
}

void DecodeMapField(const json& j, const std::string& path, const FieldDescriptor* f, Message* m,
                    const Sink& sink) {
  FieldErrors* errors = sink.errors;
  if (!j.is_object()) {
    errors->Add(path, absl::StrCat("expected a map (object), got ", GotWhat(j)));
    return;
  }
  const FieldDescriptor* key_field = f->message_type()->map_key();
  const FieldDescriptor* value_field = f->message_type()->map_value();
  for (const auto& [k, item] : j.items()) {
    std::string item_path = KeyPath(path, k);
    Message* entry = m->GetReflection()->AddMessage(m, f);
    json key_json = k;
    if (key_field->cpp_type() == FieldDescriptor::CPPTYPE_BOOL) {
      if (k == "true" || k == "false") key_json = (k == "true");
    }
    bool key_ok = true;
    if (key_field->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
      FieldErrors key_errors;
      key_ok = SetScalar(key_json, item_path, key_field, entry, &key_errors);
      if (!key_ok) errors->Add(item_path, absl::StrCat("invalid map key ", Quoted(key_json)));
    } else {
      entry->GetReflection()->SetString(entry, key_field, k);
    }
    if (!key_ok) continue;
    if (value_field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      DecodeMessage(item, item_path, entry->GetReflection()->MutableMessage(entry, value_field),
                    sink);
    } else {
      SetScalar(item, item_path, value_field, entry, errors);
    }
  }
}

void DecodeField(const json& j, const std::string& path, const FieldDescriptor* f, Message* m,
                 const Sink& sink) {
  FieldErrors* errors = sink.errors;
  if (f->is_map()) {
    DecodeMapField(j, path, f, m, sink);
    return;
  }
  if (f->is_repeated()) {
    if (!j.is_array()) {
      errors->Add(path, absl::StrCat("expected a list, got ", GotWhat(j)));
      return;
    }
    for (size_t i = 0; i < j.size(); ++i) {
      if (j[i].is_null()) {
        errors->Add(IndexPath(path, i), "null is not allowed in a list");
        continue;
      }
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        DecodeMessageField(j[i], IndexPath(path, i), f, m, sink);
      } else {
        SetScalar(j[i], IndexPath(path, i), f, m, errors);
      }
    }
    return;
  }
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    DecodeMessageField(j, path, f, m, sink);
  } else {
    SetScalar(j, path, f, m, errors);
  }
}

bool IsWrapper(const Descriptor* d) {
  return d->file()->name() == "google/protobuf/wrappers.proto";
}

// "appendHeaders" -> "append_headers": the proto name of a JSON key, to look it up among the
// names a schema reserves.
std::string SnakeCase(absl::string_view key) {
  std::string out;
  for (char c : key) {
    if (absl::ascii_isupper(c)) {
      out.push_back('_');
      out.push_back(absl::ascii_tolower(c));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void DecodeMessage(const json& j, const std::string& path, Message* m, const Sink& sink) {
  FieldErrors* errors = sink.errors;
  const Descriptor* d = m->GetDescriptor();
  const std::string& type = d->full_name();
  if (type == "google.protobuf.Duration") {
    DecodeDuration(j, path, m, errors);
    return;
  }
  if (type == "google.protobuf.Struct") {
    if (!j.is_object()) {
      errors->Add(path, absl::StrCat("expected an object, got ", GotWhat(j)));
      return;
    }
    DecodeStruct(j, static_cast<google::protobuf::Struct*>(m));
    return;
  }
  if (type == "google.protobuf.Value") {
    DecodeValue(j, static_cast<google::protobuf::Value*>(m));
    return;
  }
  if (IsWrapper(d)) {
    SetScalar(j, path, d->FindFieldByName("value"), m, errors);
    return;
  }
  if (!j.is_object()) {
    errors->Add(path, absl::StrCat("expected an object, got ", GotWhat(j)));
    return;
  }
  std::map<int, std::string> oneof_set;  // oneof index -> JSON name of the member set
  for (const auto& [key, value] : j.items()) {
    const FieldDescriptor* f = d->FindFieldByCamelcaseName(key);
    if (f == nullptr || f->json_name() != key) {
      const FieldDescriptor* by_name = d->FindFieldByName(key);
      if (by_name != nullptr) f = by_name;
    }
    // Both the JSON name and the proto name are accepted.
    if (f == nullptr) {
      for (int i = 0; i < d->field_count() && f == nullptr; ++i) {
        if (d->field(i)->json_name() == key) f = d->field(i);
      }
    }
    std::string field_path = JoinPath(path, key);
    if (f == nullptr) {
      const bool removed = d->IsReservedName(SnakeCase(key)) || d->IsReservedName(key);
      if (sink.warnings == nullptr) {
        errors->Add(field_path, "unknown field");
      } else if (sink.strict_messages->count(d->full_name()) > 0) {
        errors->Add(field_path,
                    absl::StrCat(removed ? "field removed from Istio's API" : "unknown field",
                                 " in a match: ignoring it would make the match wider than "
                                 "written"));
      } else if (removed) {
        sink.warnings->Add(field_path, "unknown field, ignored (removed from Istio's API)");
      } else {
        sink.warnings->Add(field_path, "unknown field, ignored");
      }
      continue;
    }
    if (value.is_null()) continue;  // null means unset, as in Kubernetes
    if (const auto* oneof = f->real_containing_oneof()) {
      auto [it, inserted] = oneof_set.emplace(oneof->index(), key);
      if (!inserted) {
        std::vector<std::string> names;
        for (int i = 0; i < oneof->field_count(); ++i)
          names.push_back(oneof->field(i)->json_name());
        errors->Add(path.empty() ? key : path,
                    absl::StrCat("only one of ", absl::StrJoin(names, ", "), " may be set (got ",
                                 it->second, " and ", key, ")"));
        continue;
      }
    }
    DecodeField(value, field_path, f, m, sink);
  }
}

}  // namespace

std::string JsonTypeName(const json& j) {
  switch (j.type()) {
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::null:
      return "null";
    default:
      return "number";
  }
}

void JsonToProto(const json& j, const std::string& path, Message* message, FieldErrors* errors,
                 FieldErrors* warnings, const std::set<std::string>& strict_messages) {
  DecodeMessage(j, path, message, Sink{errors, warnings, &strict_messages});
}

absl::StatusOr<absl::Duration> ParseGoDuration(absl::string_view text) {
  absl::Duration d;
  // absl's parser accepts Go's syntax: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+ with ns, us, ms, s, m, h.
  if (!text.empty() && absl::ParseDuration(text, &d) && text != "inf" && text != "-inf") return d;
  return absl::InvalidArgumentError(absl::StrCat("invalid duration \"", text, "\""));
}

}  // namespace meshd::config
