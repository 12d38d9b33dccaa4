#include "controller/file/mesh_config_watcher.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "controller/common/metrics.h"
#include "spdlog/spdlog.h"

namespace meshd::file {
namespace {

// The file's text, or nullopt when it does not exist / cannot be read.
std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void LogWarnings(const std::string& path, const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) spdlog::warn("mesh config {}: {}", path, w);
}

}  // namespace

MeshConfigWatcher::MeshConfigWatcher(std::string path, absl::Duration interval, Callback on_change)
    : path_(std::move(path)), interval_(interval), on_change_(std::move(on_change)) {}

MeshConfigWatcher::~MeshConfigWatcher() { Stop(); }

absl::StatusOr<model::MeshConfigPtr> MeshConfigWatcher::LoadInitial() {
  std::optional<std::string> text = ReadText(path_);
  last_text_ = text.value_or("");
  if (!text) {
    spdlog::info("mesh config {} not found; using the defaults", path_);
    return std::make_shared<const model::MeshConfig>();
  }
  absl::StatusOr<config::ParsedMeshConfig> parsed = config::ParseMeshConfig(*text);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": ", parsed.status().message()));
  }
  LogWarnings(path_, parsed->warnings);
  spdlog::info("mesh config {} loaded (rootNamespace {}, trustDomain {})", path_,
               parsed->mesh.root_namespace, parsed->mesh.trust_domain);
  return std::make_shared<const model::MeshConfig>(std::move(parsed->mesh));
}

bool MeshConfigWatcher::CheckNow() {
  std::string text = ReadText(path_).value_or("");
  if (last_text_ && *last_text_ == text) return false;
  last_text_ = text;
  absl::StatusOr<config::ParsedMeshConfig> parsed = config::ParseMeshConfig(text);
  if (!parsed.ok()) {
    spdlog::error("mesh config {} rejected, the previous one stays in force: {}", path_,
                  parsed.status().ToString());
    Metrics::Get().config_rejections.Add({{"kind", "MeshConfig"}, {"source", "file"}}).Increment();
    return false;
  }
  LogWarnings(path_, parsed->warnings);
  spdlog::info("mesh config {} changed", path_);
  on_change_(std::make_shared<const model::MeshConfig>(std::move(parsed->mesh)));
  return true;
}

void MeshConfigWatcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

void MeshConfigWatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void MeshConfigWatcher::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto stop = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
      mu_.AwaitWithTimeout(absl::Condition(&stop), interval_);
      if (stopping_) return;
    }
    CheckNow();
  }
}

}  // namespace meshd::file
