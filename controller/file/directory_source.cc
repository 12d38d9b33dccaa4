#include "controller/file/directory_source.h"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/common/metrics.h"
#include "controller/config/decoder.h"
#include "controller/config/yaml.h"
#include "spdlog/spdlog.h"

namespace meshd::file {
namespace {

namespace fs = std::filesystem;

bool IsConfigFile(const fs::path& p) {
  std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

// Every config file under `dir`, sorted, skipping hidden entries (e.g. the `..data`
// directories of a mounted ConfigMap, whose files are reached through their symlinks).
std::vector<std::string> ListFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& p = it->path();
    if (absl::StartsWith(p.filename().string(), ".")) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && IsConfigFile(p)) out.push_back(p.string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

void CountRejection(const std::string& kind) {
  Metrics::Get().config_rejections.Add({{"kind", kind}, {"source", "file"}}).Increment();
}

}  // namespace

DirectorySource::DirectorySource(Options options, ChangeHandler on_change)
    : options_(std::move(options)), on_change_(std::move(on_change)) {}

DirectorySource::~DirectorySource() { Stop(); }

DirectorySource::FileState DirectorySource::ParseFile(const std::string& path,
                                                      const std::string& content) const {
  FileState state;
  state.content = content;
  auto docs = config::ParseYamlDocuments(content);
  if (!docs.ok()) {
    state.rejected.push_back({path, "", std::string(docs.status().message())});
    CountRejection("unknown");
    return state;
  }
  config::DecodeOptions opts;
  opts.origin = absl::StrCat("file:", path);
  opts.default_namespace = options_.default_namespace;
  for (const auto& doc : *docs) {
    auto config = config::DecodeObject(doc.value, opts);
    if (config.ok()) {
      // Parsed once per content change, so each accepted version is logged once.
      const model::Config& c = **config;
      std::vector<std::string> not_applied = config::ProxyTypesNotApplying(c.key.kind);
      if (!not_applied.empty()) {
        spdlog::info("file: {}: {} accepted, not applied to {}", path, c.key.ToString(),
                     absl::StrJoin(not_applied, ", "));
      }
      for (const auto& w : c.warnings) {
        spdlog::warn("file: {}: {} accepted with a warning: {}", path, c.key.ToString(), w);
      }
      state.accepted.push_back(*config);
      continue;
    }
    std::string kind =
        doc.value.is_object() && doc.value.contains("kind") && doc.value["kind"].is_string()
            ? doc.value["kind"].get<std::string>()
            : "unknown";
    if (absl::IsNotFound(config.status())) {
      // Not an Istio kind meshd serves (e.g. a Deployment in the same directory).
      spdlog::warn("file: {} (document {}, line {}): skipped: {}", path, doc.index + 1, doc.line,
                   std::string(config.status().message()));
      continue;
    }
    state.rejected.push_back({path, kind,
                              absl::StrCat("document ", doc.index + 1, " (line ", doc.line,
                                           "): ", config.status().message())});
    CountRejection(kind);
  }
  return state;
}

bool DirectorySource::Rescan() {
  std::vector<std::string> paths = ListFiles(options_.dir);
  std::map<std::string, FileState> next;
  std::vector<model::ConfigPtr> result;
  bool changed = false;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& path : paths) {
      struct stat st;
      if (stat(path.c_str(), &st) != 0) continue;  // removed while listing
      const int64_t mtime_ns =
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      auto old = files_.find(path);
      // File times are coarse (a few ms): a file modified in the last seconds is always
      // read, so two same-size writes within one tick are never mistaken for one.
      const bool recent = absl::ToUnixNanos(absl::Now()) - mtime_ns < 5000000000LL;
      // files_ is replaced by `next` below (also when nothing changed): states are moved
      // across, not copied with their content.
      if (!recent && old != files_.end() && old->second.mtime_ns == mtime_ns &&
          old->second.size == st.st_size && old->second.inode == st.st_ino) {
        next.emplace(path, std::move(old->second));
        continue;
      }
      std::string content;
      if (!ReadFile(path, &content)) continue;
      if (old != files_.end() && old->second.content == content) {
        FileState same = std::move(old->second);
        same.mtime_ns = mtime_ns;
        same.size = st.st_size;
        same.inode = st.st_ino;
        next.emplace(path, std::move(same));
        continue;
      }
      changed = true;
      FileState state = ParseFile(path, content);
      state.mtime_ns = mtime_ns;
      state.size = st.st_size;
      state.inode = st.st_ino;
      for (const auto& r : state.rejected) {
        spdlog::error("file: {}: rejected {}", r.file, r.message);
      }
      next.emplace(path, std::move(state));
    }
    if (next.size() != files_.size()) changed = true;
    if (!changed) {
      files_ = std::move(next);  // the same states, with their new file times
      return false;
    }

    // Merge in path order; later wins. A rejected object keeps its last accepted version.
    std::map<model::ConfigKey, model::ConfigPtr> merged;
    std::map<model::ConfigKey, std::string> where;
    std::vector<Rejection> rejections;
    for (const auto& [path, state] : next) {
      for (const auto& c : state.accepted) {
        auto [it, inserted] = merged.emplace(c->key, c);
        if (!inserted) {
          spdlog::warn("file: {} is defined in {} and again in {}; the later one wins",
                       c->key.ToString(), where[c->key], path);
          it->second = c;
        }
        where[c->key] = path;
      }
      rejections.insert(rejections.end(), state.rejected.begin(), state.rejected.end());
    }
    // Keep serving the last accepted version of an object whose file still names it but
    // whose new content is invalid.
    for (const auto& [path, state] : next) {
      for (const auto& r : state.rejected) {
        for (const auto& [key, prev] : last_accepted_) {
          if (merged.count(key)) continue;
          if (prev->origin != absl::StrCat("file:", path)) continue;
          std::string object = absl::StrCat(model::KindName(key.kind), " ", key.ns, "/", key.name);
          if (absl::StrContains(r.message, object + ":")) {
            spdlog::warn("file: {}: keeping the last accepted version of {}", path, object);
            merged[key] = prev;
          }
        }
      }
    }
    files_ = std::move(next);
    rejections_ = std::move(rejections);
    last_accepted_ = merged;
    for (const auto& [k, c] : merged) result.push_back(c);
  }
  on_change_(result);
  return true;
}

absl::Status DirectorySource::Start() {
  std::error_code ec;
  if (!fs::is_directory(options_.dir, ec)) {
    return absl::NotFoundError(absl::StrCat("config directory ", options_.dir, " does not exist"));
  }
  Rescan();
  {
    absl::MutexLock lock(&mu_);
    spdlog::info("file: watching {} ({} files, {} objects, {} rejected)", options_.dir,
                 files_.size(), last_accepted_.size(), rejections_.size());
  }
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) {
    spdlog::warn("file: inotify unavailable; rescanning every {}",
                 absl::FormatDuration(options_.rescan_interval));
  } else {
    // Watch the directory and its subdirectories.
    std::vector<std::string> dirs = {options_.dir};
    for (fs::recursive_directory_iterator it(options_.dir, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (it->is_directory(ec)) dirs.push_back(it->path().string());
    }
    for (const auto& d : dirs) {
      inotify_add_watch(inotify_fd_, d.c_str(),
                        IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE |
                            IN_MODIFY | IN_ATTRIB);
    }
  }
  if (pipe(stop_pipe_) != 0) return absl::InternalError("pipe() failed");
  thread_ = std::thread([this] { Watch(); });
  return absl::OkStatus();
}

void DirectorySource::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (stop_pipe_[1] >= 0) {
    char c = 0;
    (void)!write(stop_pipe_[1], &c, 1);
  }
  if (thread_.joinable()) thread_.join();
  for (int* fd : {&inotify_fd_, &stop_pipe_[0], &stop_pipe_[1]}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

bool DirectorySource::AwaitWritesClosed() {
  // Files being written: created or modified and not yet closed. A writer that renames a
  // finished file into place (kubectl, editors, config management) leaves none, so the rescan
  // starts at once; a file still open for writing is waited for up to `settle`.
  std::set<std::pair<int, std::string>> open_writes;
  const absl::Time give_up = absl::Now() + options_.settle;
  alignas(struct inotify_event) char buf[16384];
  while (true) {
    ssize_t len;
    while ((len = read(inotify_fd_, buf, sizeof(buf))) > 0) {
      for (char* p = buf; p < buf + len;) {
        const auto* ev = reinterpret_cast<const struct inotify_event*>(p);
        p += sizeof(struct inotify_event) + ev->len;
        if (ev->mask & IN_ISDIR) continue;
        std::pair<int, std::string> key(ev->wd, ev->len > 0 ? std::string(ev->name) : "");
        if (ev->mask & (IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM)) {
          open_writes.erase(key);
        } else if (ev->mask & (IN_CREATE | IN_MODIFY)) {
          open_writes.insert(std::move(key));
        }
      }
    }
    const absl::Duration left = give_up - absl::Now();
    if (open_writes.empty() || left <= absl::ZeroDuration()) return true;
    struct pollfd fds[2] = {{stop_pipe_[0], POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
    const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
    if (poll(fds, 2, timeout_ms) > 0 && (fds[0].revents & POLLIN)) return false;
  }
}

void DirectorySource::Watch() {
  absl::Time next_rescan = absl::Now() + options_.rescan_interval;
  while (true) {
    struct pollfd fds[2] = {{stop_pipe_[0], POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
    int timeout_ms = static_cast<int>(
        std::max<int64_t>(0, absl::ToInt64Milliseconds(next_rescan - absl::Now())));
    int n = poll(fds, inotify_fd_ >= 0 ? 2 : 1, timeout_ms);
    if (n > 0 && (fds[0].revents & POLLIN)) return;
    bool event = false;
    if (n > 0 && inotify_fd_ >= 0 && (fds[1].revents & POLLIN)) {
      event = true;
      if (!AwaitWritesClosed()) return;
    }
    if (event || absl::Now() >= next_rescan) {
      if (Rescan() && !event) spdlog::info("file: periodic rescan found changes");
      next_rescan = absl::Now() + options_.rescan_interval;
    }
  }
}

std::vector<Rejection> DirectorySource::Rejections() const {
  absl::MutexLock lock(&mu_);
  return rejections_;
}

}  // namespace meshd::file
