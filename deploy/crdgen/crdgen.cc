// crdgen: the CustomResourceDefinitions of every Istio kind meshd serves, with a structural
// openAPIV3Schema generated from the same proto messages meshd decodes them into
// (config::NewSpec), by walking their descriptors. Output: one YAML stream.
//
//   crdgen --out FILE     write the CRDs (deploy/helm/meshd/crds/crds.yaml)
//   crdgen --check FILE   exit 1 if FILE differs from what would be written
//
// Mapping (proto3 JSON, as Kubernetes validates it): field names are JSON names; int64/uint64
// (and their wrappers) are x-kubernetes-int-or-string; wrappers are their scalar, nullable;
// Duration is a string, Timestamp a date-time string; Struct, Value, Any are
// x-kubernetes-preserve-unknown-fields; enums are string enums; maps are additionalProperties;
// a oneof allows at most one of its fields (oneOf of `required`, structural); a message that
// contains itself is preserve-unknown-fields below the first level.
#include <cctype>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "controller/config/decoder.h"
#include "controller/model/config.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "yaml-cpp/yaml.h"

namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::OneofDescriptor;

YAML::Node Type(const char* type) {
  YAML::Node n;
  n["type"] = type;
  return n;
}

YAML::Node PreserveUnknown(bool object) {
  YAML::Node n;
  if (object) n["type"] = "object";
  n["x-kubernetes-preserve-unknown-fields"] = true;
  return n;
}

YAML::Node IntOrString() {
  YAML::Node n;
  n["x-kubernetes-int-or-string"] = true;
  return n;
}

YAML::Node Integer(const char* format, bool unsigned_) {
  YAML::Node n = Type("integer");
  n["format"] = format;
  if (unsigned_) {
    n["minimum"] = 0;
    n["maximum"] = 4294967295;
  }
  return n;
}

class SchemaGen {
 public:
  YAML::Node Message(const Descriptor* d) {
    if (auto w = WellKnown(d); w.has_value()) return *w;
    if (stack_.count(d->full_name())) return PreserveUnknown(true);  // recursive
    stack_.insert(d->full_name());
    YAML::Node n = Type("object");
    YAML::Node props(YAML::NodeType::Map);
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      props[f->json_name()] = Field(f);
    }
    if (d->field_count() > 0) n["properties"] = props;
    // At most one field of each real oneof: not(anyOf required) | required a | required b...
    YAML::Node one_of(YAML::NodeType::Sequence);
    for (int i = 0; i < d->oneof_decl_count(); ++i) {
      const OneofDescriptor* o = d->oneof_decl(i);
      if (o->is_synthetic() || o->field_count() < 2) continue;
      YAML::Node any(YAML::NodeType::Sequence);
      YAML::Node choices(YAML::NodeType::Sequence);
      for (int j = 0; j < o->field_count(); ++j) {
        YAML::Node req;
        req["required"].push_back(o->field(j)->json_name());
        any.push_back(req);
        choices.push_back(YAML::Clone(req));
      }
      YAML::Node none;
      none["not"]["anyOf"] = any;
      YAML::Node alt(YAML::NodeType::Sequence);
      alt.push_back(none);
      for (auto c : choices) alt.push_back(c);
      YAML::Node entry;
      entry["oneOf"] = alt;
      one_of.push_back(entry);
    }
    if (one_of.size() == 1) {
      n["oneOf"] = one_of[0]["oneOf"];
    } else if (one_of.size() > 1) {
      n["allOf"] = one_of;
    }
    stack_.erase(d->full_name());
    return n;
  }

 private:
  std::optional<YAML::Node> WellKnown(const Descriptor* d) {
    const std::string& name = d->full_name();
    auto nullable = [](YAML::Node n) {
      n["nullable"] = true;
      return n;
    };
    if (name == "google.protobuf.Duration") return Type("string");
    if (name == "google.protobuf.Timestamp") {
      YAML::Node n = Type("string");
      n["format"] = "date-time";
      return n;
    }
    if (name == "google.protobuf.Struct" || name == "google.protobuf.Any") {
      return PreserveUnknown(true);
    }
    if (name == "google.protobuf.Value") return PreserveUnknown(false);
    if (name == "google.protobuf.ListValue") {
      YAML::Node n = Type("array");
      n["items"] = PreserveUnknown(false);
      return n;
    }
    if (name == "google.protobuf.Empty") return Type("object");
    if (name == "google.protobuf.BoolValue") return nullable(Type("boolean"));
    if (name == "google.protobuf.StringValue") return nullable(Type("string"));
    if (name == "google.protobuf.BytesValue") {
      YAML::Node n = Type("string");
      n["format"] = "byte";
      return nullable(n);
    }
    if (name == "google.protobuf.Int32Value") return nullable(Integer("int32", false));
    if (name == "google.protobuf.UInt32Value") return nullable(Integer("int32", true));
    if (name == "google.protobuf.Int64Value" || name == "google.protobuf.UInt64Value") {
      return nullable(IntOrString());
    }
    if (name == "google.protobuf.DoubleValue" || name == "google.protobuf.FloatValue") {
      YAML::Node n = Type("number");
      n["format"] = name == "google.protobuf.DoubleValue" ? "double" : "float";
      return nullable(n);
    }
    return std::nullopt;
  }

  YAML::Node Enum(const EnumDescriptor* e) {
    YAML::Node n = Type("string");
    for (int i = 0; i < e->value_count(); ++i) n["enum"].push_back(e->value(i)->name());
    return n;
  }

  YAML::Node Single(const FieldDescriptor* f) {
    switch (f->type()) {
      case FieldDescriptor::TYPE_STRING:
        return Type("string");
      case FieldDescriptor::TYPE_BYTES: {
        YAML::Node n = Type("string");
        n["format"] = "byte";
        return n;
      }
      case FieldDescriptor::TYPE_BOOL:
        return Type("boolean");
      case FieldDescriptor::TYPE_INT32:
      case FieldDescriptor::TYPE_SINT32:
      case FieldDescriptor::TYPE_SFIXED32:
        return Integer("int32", false);
      case FieldDescriptor::TYPE_UINT32:
      case FieldDescriptor::TYPE_FIXED32:
        return Integer("int32", true);
      case FieldDescriptor::TYPE_INT64:
      case FieldDescriptor::TYPE_SINT64:
      case FieldDescriptor::TYPE_SFIXED64:
      case FieldDescriptor::TYPE_UINT64:
      case FieldDescriptor::TYPE_FIXED64:
        return IntOrString();
      case FieldDescriptor::TYPE_DOUBLE: {
        YAML::Node n = Type("number");
        n["format"] = "double";
        return n;
      }
      case FieldDescriptor::TYPE_FLOAT: {
        YAML::Node n = Type("number");
        n["format"] = "float";
        return n;
      }
      case FieldDescriptor::TYPE_ENUM:
        return Enum(f->enum_type());
      case FieldDescriptor::TYPE_MESSAGE:
      case FieldDescriptor::TYPE_GROUP:
        return Message(f->message_type());
    }
    return PreserveUnknown(false);
  }

  YAML::Node Field(const FieldDescriptor* f) {
    if (f->is_map()) {
      YAML::Node n = Type("object");
      n["additionalProperties"] = Single(f->message_type()->map_value());
      return n;
    }
    if (f->is_repeated()) {
      YAML::Node n = Type("array");
      n["items"] = Single(f);
      return n;
    }
    return Single(f);
  }

  std::set<std::string> stack_;
};

std::vector<std::string> ShortNames(absl::string_view kind) {
  if (kind == "VirtualService") return {"vs"};
  if (kind == "DestinationRule") return {"dr"};
  if (kind == "Gateway") return {"gw"};
  if (kind == "ServiceEntry") return {"se"};
  if (kind == "WorkloadEntry") return {"we"};
  if (kind == "WorkloadGroup") return {"wg"};
  if (kind == "PeerAuthentication") return {"pa"};
  if (kind == "AuthorizationPolicy") return {"ap"};
  if (kind == "RequestAuthentication") return {"ra"};
  return {};
}

std::string Lower(absl::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Generate() {
  std::ostringstream out;
  out << "# Generated by deploy/crdgen from meshd's Istio protos; do not edit.\n"
      << "# Regenerate: cmake --build build --target crds\n";
  for (const auto& info : meshd::model::AllKinds()) {
    std::unique_ptr<google::protobuf::Message> spec = meshd::config::NewSpec(info.kind);
    SchemaGen gen;
    YAML::Node spec_schema = gen.Message(spec->GetDescriptor());
    std::string group(info.group);
    std::string dashed = group;
    for (char& c : dashed) c = c == '.' ? '-' : c;

    YAML::Node crd;
    crd["apiVersion"] = "apiextensions.k8s.io/v1";
    crd["kind"] = "CustomResourceDefinition";
    crd["metadata"]["name"] = std::string(info.plural) + "." + group;
    crd["metadata"]["labels"]["app.kubernetes.io/part-of"] = "meshd";
    crd["spec"]["group"] = group;
    YAML::Node names;
    names["kind"] = std::string(info.name);
    names["listKind"] = std::string(info.name) + "List";
    names["plural"] = std::string(info.plural);
    names["singular"] = Lower(info.name);
    names["categories"].push_back("istio-io");
    names["categories"].push_back(dashed);
    for (const auto& s : ShortNames(info.name)) names["shortNames"].push_back(s);
    crd["spec"]["names"] = names;
    crd["spec"]["scope"] = "Namespaced";
    bool first = true;
    for (absl::string_view v : info.versions) {
      YAML::Node version;
      version["name"] = std::string(v);
      version["served"] = true;
      version["storage"] = first;  // the preferred version is stored
      first = false;
      YAML::Node schema = Type("object");
      schema["properties"]["spec"] = YAML::Clone(spec_schema);
      schema["properties"]["status"] = PreserveUnknown(true);
      version["schema"]["openAPIV3Schema"] = schema;
      version["subresources"]["status"] = YAML::Node(YAML::NodeType::Map);
      crd["spec"]["versions"].push_back(version);
    }
    YAML::Emitter e;
    e.SetIndent(2);
    e << crd;
    out << "---\n" << e.c_str() << "\n";
  }
  return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "--out" && std::string(argv[1]) != "--check")) {
    std::cerr << "usage: crdgen --out FILE | --check FILE\n";
    return 2;
  }
  const std::string path = argv[2];
  const std::string text = Generate();
  if (std::string(argv[1]) == "--check") {
    std::ifstream in(path);
    std::stringstream have;
    have << in.rdbuf();
    if (!in || have.str() != text) {
      std::cerr << "crdgen: " << path << " is stale (or missing): regenerate it with "
                << "`cmake --build build --target crds` and commit it\n";
      return 1;
    }
    std::cout << "crdgen: " << path << " is up to date\n";
    return 0;
  }
  std::ofstream o(path, std::ios::trunc);
  o << text;
  if (!o.flush()) {
    std::cerr << "crdgen: cannot write " << path << "\n";
    return 1;
  }
  return 0;
}
