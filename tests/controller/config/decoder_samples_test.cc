// Istio's own sample YAML (testdata/istio_samples, written in the shape of Istio's bookinfo,
// httpbin, egress, security and extension examples) loads in meshd as in istiod: every document
// decodes and validates with no error, and with no warning except where a sample uses fields
// istio/api has removed on purpose.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "controller/config/decoder.h"
#include "controller/config/yaml.h"

namespace meshd::config {
namespace {

namespace fs = std::filesystem;

const fs::path kSamples = fs::path(MESHD_TESTDATA_DIR) / "istio_samples";

std::string Read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Loaded {
  std::vector<model::ConfigPtr> configs;
  std::vector<std::string> errors;  // "file: message"
};

Loaded LoadDir(const fs::path& dir) {
  Loaded out;
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto docs = ParseYamlDocuments(Read(f));
    if (!docs.ok()) {
      out.errors.push_back(f.string() + ": " + std::string(docs.status().message()));
      continue;
    }
    for (const auto& doc : *docs) {
      auto c = DecodeObject(doc.value, DecodeOptions{"file:" + f.string()});
      if (c.ok()) {
        out.configs.push_back(*c);
      } else {
        out.errors.push_back(f.string() + ": " + std::string(c.status().message()));
      }
    }
  }
  return out;
}

TEST_CASE("istiod loads Istio's samples: every document decodes with no error and no warning",
          "[config][samples]") {
  for (const char* dir : {"bookinfo", "httpbin", "egress", "security", "extensions"}) {
    INFO(dir);
    Loaded l = LoadDir(kSamples / dir);
    CHECK(l.errors == std::vector<std::string>{});
    CHECK_FALSE(l.configs.empty());
    for (const auto& c : l.configs) {
      INFO(c->key.ToString());
      CHECK(c->warnings == std::vector<std::string>{});
    }
  }
}

TEST_CASE("istiod loads Istio's samples: every kind, including the ones no generator applies",
          "[config][samples]") {
  std::set<std::string> kinds;
  for (const char* dir : {"bookinfo", "httpbin", "egress", "security", "extensions"}) {
    for (const auto& c : LoadDir(kSamples / dir).configs) {
      kinds.insert(std::string(model::KindName(c->key.kind)));
    }
  }
  CHECK(kinds == std::set<std::string>{"AuthorizationPolicy", "DestinationRule", "EnvoyFilter",
                                       "Gateway", "PeerAuthentication", "ProxyConfig",
                                       "RequestAuthentication", "ServiceEntry", "Sidecar",
                                       "Telemetry", "VirtualService", "WasmPlugin", "WorkloadEntry",
                                       "WorkloadGroup"});
}

TEST_CASE("istiod ignores fields removed from istio/api: accepted, each named in a warning",
          "[config][samples]") {
  Loaded l = LoadDir(kSamples / "removed_fields");
  REQUIRE(l.errors == std::vector<std::string>{});
  REQUIRE(l.configs.size() == 1);
  CHECK(l.configs[0]->warnings ==
        std::vector<std::string>{
            "spec.http[0].appendHeaders: unknown field, ignored (removed from Istio's API)",
            "spec.http[0].route[0].appendResponseHeaders: unknown field, ignored (removed from "
            "Istio's API)",
            "spec.http[0].websocketUpgrade: unknown field, ignored (removed from Istio's API)"});
  // What is known still means what it says.
  CHECK(l.configs[0]->key.ToString() == "VirtualService/default/reviews-legacy");
}

TEST_CASE("the kinds no generator honours are named, so they are never silently ignored",
          "[config]") {
  for (model::Kind k :
       {model::Kind::kEnvoyFilter, model::Kind::kTelemetry, model::Kind::kWorkloadGroup,
        model::Kind::kProxyConfig, model::Kind::kWasmPlugin}) {
    CHECK(ProxyTypesNotApplying(k) == std::vector<std::string>{"proxyless gRPC"});
  }
  CHECK(ProxyTypesNotApplying(model::Kind::kVirtualService).empty());
}

}  // namespace
}  // namespace meshd::config
