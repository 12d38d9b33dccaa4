// Test helper: a Snapshot from Istio YAML, as the controller would build it.
#pragma once

#include <catch2/catch.hpp>

#include "controller/config/decoder.h"
#include "controller/config/yaml.h"
#include "controller/model/snapshot.h"
#include "controller/registry.h"

namespace meshd::testing {

inline model::SnapshotPtr SnapshotFromYaml(
    const std::string& yaml, uint64_t version = 1,
    const std::string& trust_domain = "cluster.local",
    std::map<std::string, model::Credential> credentials = {},
    model::MeshConfigPtr mesh = nullptr) {
  auto docs = config::ParseYamlDocuments(yaml);
  REQUIRE(docs.ok());
  model::Snapshot::Data data;
  std::vector<model::ConfigPtr> ses, wes;
  for (const auto& d : *docs) {
    auto c = config::DecodeObject(d.value, {"test"});
    REQUIRE(c.ok());
    data.configs[(*c)->key] = *c;
    if ((*c)->key.kind == model::Kind::kServiceEntry) ses.push_back(*c);
    if ((*c)->key.kind == model::Kind::kWorkloadEntry) wes.push_back(*c);
  }
  Registry reg = BuildServiceEntryRegistry(ses, wes, "cluster.local");
  data.services = reg.services;
  data.endpoints = reg.endpoints;
  data.version = version;
  data.trust_domain = trust_domain;
  data.credentials = std::move(credentials);
  data.mesh = std::move(mesh);
  return std::make_shared<const model::Snapshot>(std::move(data));
}

}  // namespace meshd::testing
