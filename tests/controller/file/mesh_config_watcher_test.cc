// MeshConfigWatcher: defaults without a file, a changed file handed on, a bad version kept
// out (the previous one stays in force) without calling back.
#include "controller/file/mesh_config_watcher.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace meshd::file {
namespace {

struct TempFile {
  std::string path;
  TempFile() {
    char tmpl[] = "/tmp/meshd-mesh-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    path = tmpl;
    std::filesystem::remove(path);
  }
  ~TempFile() { std::filesystem::remove(path); }
  void Write(const std::string& text) const { std::ofstream(path) << text; }
};

TEST_CASE("MeshConfigWatcher: no file means the defaults, as istiod", "[mesh_config]") {
  TempFile f;
  MeshConfigWatcher w(f.path, absl::Seconds(1), [](model::MeshConfigPtr) { FAIL("no change"); });
  auto mesh = w.LoadInitial();
  REQUIRE(mesh.ok());
  CHECK((*mesh)->root_namespace == "istio-system");
  CHECK_FALSE(w.CheckNow());
}

TEST_CASE("MeshConfigWatcher: a bad file at start is an error naming file and field",
          "[mesh_config]") {
  TempFile f;
  f.Write("outboundTrafficPolicy: {mode: NOPE}\n");
  MeshConfigWatcher w(f.path, absl::Seconds(1), [](model::MeshConfigPtr) {});
  auto mesh = w.LoadInitial();
  REQUIRE_FALSE(mesh.ok());
  CHECK_THAT(std::string(mesh.status().message()), Catch::Contains(f.path));
  CHECK_THAT(std::string(mesh.status().message()), Catch::Contains("outboundTrafficPolicy.mode"));
}

TEST_CASE("MeshConfigWatcher: changes are handed on; a bad version keeps the previous",
          "[mesh_config]") {
  TempFile f;
  f.Write("rootNamespace: one\n");
  std::vector<model::MeshConfigPtr> seen;
  MeshConfigWatcher w(f.path, absl::Seconds(1),
                      [&](model::MeshConfigPtr m) { seen.push_back(std::move(m)); });
  auto initial = w.LoadInitial();
  REQUIRE(initial.ok());
  CHECK((*initial)->root_namespace == "one");
  CHECK_FALSE(w.CheckNow());  // unchanged
  f.Write("rootNamespace: two\n");
  CHECK(w.CheckNow());
  REQUIRE(seen.size() == 1);
  CHECK(seen[0]->root_namespace == "two");
  f.Write("rootNamespace: [\n");
  CHECK_FALSE(w.CheckNow());
  CHECK(seen.size() == 1);
  std::filesystem::remove(f.path);  // the ConfigMap removed: back to the defaults
  CHECK(w.CheckNow());
  REQUIRE(seen.size() == 2);
  CHECK(seen[1]->root_namespace == "istio-system");
}

}  // namespace
}  // namespace meshd::file
