// envoy-validate: checks Envoy resources offline, by the PGV rules of Envoy's protos.
//
//   envoy-validate [--cross-check] [--binary] FILE...
//
// Each FILE holds a DiscoveryResponse in proto JSON, or a JSON array of Any objects ("@type"
// plus the fields); with --binary, a serialized (binary) DiscoveryResponse instead. Every
// resource goes through ValidateAny; with --cross-check, the listeners, routes, clusters and
// endpoints of all files together also go through CheckConfigSet. Prints one error per line;
// exit 0 valid, 1 errors found, 2 unreadable input.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "google/protobuf/util/json_util.h"
#include "xds/validate/config_set.h"
#include "xds/validate/envoy_validator.h"

namespace {

using envoy::service::discovery::v3::DiscoveryResponse;

constexpr char kUsage[] = "usage: envoy-validate [--cross-check] [--binary] FILE...\n";

bool ReadResponse(const std::string& file, bool binary, DiscoveryResponse* response) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << file << ": cannot read\n";
    return false;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (binary) {
    if (!response->ParseFromString(buffer.str())) {
      std::cerr << file << ": not a serialized DiscoveryResponse\n";
      return false;
    }
    return true;
  }
  std::string json = buffer.str();
  // A bare array of Any is the `resources` of a DiscoveryResponse.
  if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(json), "[")) {
    json = absl::StrCat("{\"resources\": ", json, "}");
  }
  auto status = google::protobuf::util::JsonStringToMessage(json, response);
  if (!status.ok()) {
    std::cerr << file << ": " << status.ToString() << "\n";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool cross_check = false;
  bool binary = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--cross-check") {
      cross_check = true;
    } else if (arg == "--binary") {
      binary = true;
    } else if (absl::StartsWith(arg, "-")) {
      std::cerr << kUsage;
      return 2;
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) {
    std::cerr << kUsage;
    return 2;
  }

  int errors = 0;
  meshd::xds::EnvoyConfigSet set;
  for (const std::string& file : files) {
    DiscoveryResponse response;
    if (!ReadResponse(file, binary, &response)) return 2;
    for (int i = 0; i < response.resources_size(); ++i) {
      const auto& any = response.resources(i);
      for (const std::string& e : meshd::xds::ValidateAny(any)) {
        std::cout << file << ": resources[" << i << "]: " << e << "\n";
        ++errors;
      }
      if (cross_check) {
        if (auto status = meshd::xds::AddResource(any, set); !status.ok()) {
          std::cout << file << ": resources[" << i << "]: " << status.message() << "\n";
          ++errors;
        }
      }
    }
  }
  if (cross_check) {
    for (const std::string& e : meshd::xds::CheckConfigSet(set)) {
      std::cout << e << "\n";
      ++errors;
    }
  }
  if (errors > 0) {
    std::cerr << errors << " error(s)\n";
    return 1;
  }
  return 0;
}
