#include "controller/kube/kube_registry.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace meshd::kube {
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

const json& Obj(const json& j, const char* key) {
  static const json kEmpty = json::object();
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

std::optional<bool> Bool(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

uint32_t Port(const json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return 0;
  int64_t v = it->get<int64_t>();
  return v > 0 && v < 65536 ? static_cast<uint32_t>(v) : 0;
}

std::map<std::string, std::string> Labels(const json& obj) {
  std::map<std::string, std::string> out;
  const json& l = Obj(Obj(obj, "metadata"), "labels");
  for (auto it = l.begin(); it != l.end(); ++it) {
    if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

}  // namespace

std::string PortProtocol(const std::string& app_protocol, const std::string& port_name,
                         const std::string& l4_protocol) {
  if (l4_protocol == "UDP") return "UDP";
  auto known = [](std::string p) -> std::string {
    p = absl::AsciiStrToLower(p);
    if (p == "kubernetes.io/h2c") return "HTTP2";
    if (p == "kubernetes.io/ws" || p == "kubernetes.io/wss") return "HTTP";
    static const std::set<std::string> kNames = {"grpc", "grpc-web", "http",  "http2", "https",
                                                 "tcp",  "tls",      "mongo", "mysql", "redis"};
    if (kNames.count(p)) return absl::AsciiStrToUpper(p);
    return "";
  };
  if (!app_protocol.empty()) {
    if (std::string p = known(app_protocol); !p.empty()) return p;
  }
  std::string name = port_name;
  if (std::string p = known(name); !p.empty()) return p;
  if (auto dash = name.find('-'); dash != std::string::npos) {
    if (std::string p = known(name.substr(0, dash)); !p.empty()) return p;
  }
  return "TCP";
}

std::string ServiceHost(const std::string& name, const std::string& ns, const std::string& domain) {
  return absl::StrCat(name, ".", ns, ".svc.", domain);
}

std::optional<model::Service> ServiceFromKube(const json& service, const std::string& domain) {
  const json& meta = Obj(service, "metadata");
  std::string name = Str(meta, "name"), ns = Str(meta, "namespace");
  if (name.empty() || ns.empty()) return std::nullopt;
  const json& spec = Obj(service, "spec");
  model::Service svc;
  svc.hostname = ServiceHost(name, ns, domain);
  svc.ns = ns;
  svc.origin = absl::StrCat("Service/", ns, "/", name);
  if (auto annotations = meta.find("annotations");
      annotations != meta.end() && annotations->is_object()) {
    std::string export_to = Str(*annotations, "networking.istio.io/exportTo");
    for (absl::string_view ns_name : absl::StrSplit(export_to, ',', absl::SkipWhitespace())) {
      svc.export_to.emplace_back(absl::StripAsciiWhitespace(ns_name));
    }
  }
  svc.resolution =
      Str(spec, "type") == "ExternalName" ? model::Resolution::kDns : model::Resolution::kStatic;
  if (std::string ip = Str(spec, "clusterIP"); !ip.empty() && ip != "None") {
    svc.addresses.push_back(ip);
  }
  auto ports = spec.find("ports");
  if (ports != spec.end() && ports->is_array()) {
    for (const auto& p : *ports) {
      model::ServicePort sp;
      sp.name = Str(p, "name");
      sp.number = Port(p, "port");
      if (sp.number == 0) continue;
      sp.protocol = PortProtocol(Str(p, "appProtocol"), sp.name, Str(p, "protocol"));
      sp.target_port = Port(p, "targetPort");
      svc.ports.push_back(std::move(sp));
    }
  }
  return svc;
}

std::vector<model::Endpoint> EndpointsFromSlices(const model::Service& service,
                                                 const EndpointInputs& inputs) {
  std::vector<model::Endpoint> out;
  std::set<std::tuple<std::string, uint32_t, uint32_t>> seen;
  for (const auto& slice : inputs.slices) {
    std::string type = Str(slice, "addressType");
    if (type == "FQDN") continue;
    std::string slice_ns = Str(Obj(slice, "metadata"), "namespace");
    // Slice ports by name ("" for the unnamed single port).
    std::map<std::string, uint32_t> slice_ports;
    if (auto ps = slice.find("ports"); ps != slice.end() && ps->is_array()) {
      for (const auto& p : *ps) {
        if (uint32_t n = Port(p, "port"); n != 0) slice_ports[Str(p, "name")] = n;
      }
    }
    auto eps = slice.find("endpoints");
    if (eps == slice.end() || !eps->is_array()) continue;
    for (const auto& e : *eps) {
      auto addrs = e.is_object() ? e.find("addresses") : e.end();
      if (!e.is_object() || addrs == e.end() || !addrs->is_array() || addrs->empty() ||
          !(*addrs)[0].is_string()) {
        continue;
      }
      const json& cond = Obj(e, "conditions");
      bool ready = Bool(cond, "ready").value_or(true);  // unset means ready
      bool serving = Bool(cond, "serving").value_or(ready);
      bool terminating = Bool(cond, "terminating").value_or(false);
      model::Endpoint base;
      base.address = (*addrs)[0].get<std::string>();
      base.healthy = ready || (serving && !terminating);
      base.hostname = Str(e, "hostname");
      const json& ref = Obj(e, "targetRef");
      if (Str(ref, "kind") == "Pod" && inputs.pod) {
        std::string pns = Str(ref, "namespace");
        if (pns.empty()) pns = slice_ns;
        if (auto pod = inputs.pod(absl::StrCat(pns, "/", Str(ref, "name")))) {
          base.labels = Labels(*pod);
          base.service_account = Str(Obj(*pod, "spec"), "serviceAccountName");
        }
      }
      if (base.service_account.empty()) base.service_account = "default";
      std::string zone = Str(e, "zone");
      std::string region;
      if (std::string node = Str(e, "nodeName"); !node.empty() && inputs.node) {
        if (auto n = inputs.node(node)) {
          auto labels = Labels(*n);
          region = labels["topology.kubernetes.io/region"];
          if (zone.empty()) zone = labels["topology.kubernetes.io/zone"];
        }
      }
      base.locality = region.empty() ? zone : absl::StrCat(region, "/", zone);
      for (const auto& sp : service.ports) {
        auto it = slice_ports.find(sp.name);
        if (it == slice_ports.end() && service.ports.size() == 1 && slice_ports.size() == 1) {
          it = slice_ports.begin();
        }
        if (it == slice_ports.end()) continue;
        if (!seen.insert({base.address, it->second, sp.number}).second) continue;
        model::Endpoint ep = base;
        ep.port = it->second;
        ep.service_port = sp.number;
        out.push_back(std::move(ep));
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const model::Endpoint& a, const model::Endpoint& b) {
    return std::tie(a.service_port, a.address, a.port) <
           std::tie(b.service_port, b.address, b.port);
  });
  return out;
}

std::optional<model::Credential> CredentialFromSecret(const json& secret) {
  if (!secret.is_object()) return std::nullopt;
  auto data = secret.find("data");
  if (data == secret.end() || !data->is_object()) return std::nullopt;
  auto field = [&](const char* key, std::string* out) {
    auto it = data->find(key);
    if (it == data->end() || !it->is_string()) return false;
    return absl::Base64Unescape(it->get<std::string>(), out) && !out->empty();
  };
  model::Credential c;
  bool cert = (field("tls.crt", &c.cert_chain) && field("tls.key", &c.private_key)) ||
              (field("cert", &c.cert_chain) && field("key", &c.private_key));
  if (!cert) {
    c.cert_chain.clear();
    c.private_key.clear();
  }
  bool ca = field("ca.crt", &c.ca_cert) || field("cacert", &c.ca_cert);
  if (!cert && !ca) return std::nullopt;
  return c;
}

}  // namespace meshd::kube
