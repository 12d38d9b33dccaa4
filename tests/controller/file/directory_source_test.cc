#include "controller/file/directory_source.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

namespace meshd::file {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    path = fs::temp_directory_path() /
           ("meshd-dirsrc-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(path / name) << text;
  }
  fs::path path;
  static inline int counter = 0;
};

std::string Dr(const std::string& name, const std::string& host) {
  return "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: " + name +
         "}\nspec: {host: " + host + "}\n";
}

struct Collector {
  std::vector<model::ConfigPtr> last;
  int calls = 0;
  DirectorySource::ChangeHandler Handler() {
    return [this](const std::vector<model::ConfigPtr>& c) {
      last = c;
      calls++;
    };
  }
  std::string Host(const std::string& name) {
    for (const auto& c : last) {
      if (c->key.name == name) return c->origin;
    }
    return "";
  }
};

TEST_CASE("reads yaml, yml and json; skips other files and hidden dirs", "[file]") {
  TempDir dir;
  dir.Write("a.yaml", Dr("a", "x") + "---\n" + Dr("b", "y"));
  dir.Write("c.json", R"({"apiVersion":"networking.istio.io/v1","kind":"DestinationRule",
                         "metadata":{"name":"c"},"spec":{"host":"z"}})");
  dir.Write("notes.txt", "not config");
  fs::create_directories(dir.path / "..data");
  dir.Write("..data/d.yaml", Dr("d", "w"));
  Collector out;
  DirectorySource src({dir.path.string()}, out.Handler());
  REQUIRE(src.Rescan());
  CHECK(out.last.size() == 3);
  CHECK(src.Rejections().empty());
  CHECK_FALSE(src.Rescan());  // nothing changed
}

TEST_CASE("an invalid object is rejected by name; the others are kept", "[file]") {
  TempDir dir;
  dir.Write("a.yaml", Dr("good", "x") + "---\n" + Dr("bad", ""));
  Collector out;
  DirectorySource src({dir.path.string()}, out.Handler());
  src.Rescan();
  REQUIRE(out.last.size() == 1);
  CHECK(out.last[0]->key.name == "good");
  auto rejected = src.Rejections();
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].message ==
        "document 2 (line 6): DestinationRule default/bad: spec.host: required field is missing");
}

TEST_CASE("the later of two objects with one key wins", "[file]") {
  TempDir dir;
  dir.Write("a.yaml", Dr("same", "first"));
  dir.Write("b.yaml", Dr("same", "second"));
  Collector out;
  DirectorySource src({dir.path.string()}, out.Handler());
  src.Rescan();
  REQUIRE(out.last.size() == 1);
  CHECK(out.Host("same").find("b.yaml") != std::string::npos);
}

TEST_CASE("an accepted object edited into an invalid one keeps its last version", "[file]") {
  TempDir dir;
  dir.Write("a.yaml", Dr("keep", "x"));
  Collector out;
  DirectorySource src({dir.path.string()}, out.Handler());
  src.Rescan();
  dir.Write("a.yaml", Dr("keep", ""));
  src.Rescan();
  REQUIRE(out.last.size() == 1);
  CHECK(out.last[0]->key.name == "keep");
  CHECK(src.Rejections().size() == 1);
  fs::remove(dir.path / "a.yaml");
  src.Rescan();
  CHECK(out.last.empty());  // removing the file removes the object
}

TEST_CASE("a YAML syntax error rejects the file, naming it", "[file]") {
  TempDir dir;
  dir.Write("broken.yaml", "kind: [\n");
  Collector out;
  DirectorySource src({dir.path.string()}, out.Handler());
  src.Rescan();
  REQUIRE(src.Rejections().size() == 1);
  CHECK(src.Rejections()[0].file.find("broken.yaml") != std::string::npos);
}

}  // namespace
}  // namespace meshd::file

#include <thread>

#include "absl/synchronization/mutex.h"

namespace meshd::file {
namespace {

// Records what the watcher thread delivers.
struct SyncCollector {
  absl::Mutex mu;
  std::vector<model::ConfigPtr> last ABSL_GUARDED_BY(mu);
  int calls ABSL_GUARDED_BY(mu) = 0;
  DirectorySource::ChangeHandler Handler() {
    return [this](const std::vector<model::ConfigPtr>& c) {
      absl::MutexLock lock(&mu);
      last = c;
      calls++;
    };
  }
  // Waits until the delivered set has `n` objects; false after `timeout`.
  bool AwaitSize(size_t n, absl::Duration timeout) {
    absl::MutexLock lock(&mu);
    auto done = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return last.size() == n; };
    return mu.AwaitWithTimeout(absl::Condition(&done), timeout);
  }
};

TEST_CASE(
    "the watcher reads a file when its writer closes it: never half-written, and without "
    "waiting out the settle period",
    "[file]") {
  TempDir dir;
  SyncCollector out;
  DirectorySource::Options opts{dir.path.string()};
  opts.settle = absl::Seconds(60);  // far longer than the waits below
  opts.rescan_interval = absl::Hours(1);
  DirectorySource src(opts, out.Handler());
  REQUIRE(src.Start().ok());

  const std::string a = Dr("a", "x");
  std::ofstream partial(dir.path / "a.yaml");
  partial << a.substr(0, a.size() / 2) << std::flush;  // half an object, still open
  // A second file renamed into place while the first is open.
  dir.Write(".b.yaml.tmp", Dr("b", "y"));
  fs::rename(dir.path / ".b.yaml.tmp", dir.path / "b.yaml");
  // The window in which a rescan would read the half-written file (it must not happen).
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  partial << a.substr(a.size() / 2);
  partial.close();

  REQUIRE(out.AwaitSize(2, absl::Seconds(20)));
  src.Stop();
  CHECK(src.Rejections().empty());
  absl::MutexLock lock(&out.mu);
  CHECK(out.calls == 1);  // one delivery with both files (the empty initial scan changed nothing)
}

}  // namespace
}  // namespace meshd::file
