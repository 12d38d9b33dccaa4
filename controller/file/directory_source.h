// DirectorySource: the embedded default config source, like `istiod --configDir`. Reads every
// *.yaml, *.yml and *.json file under a directory (recursively, multi-document YAML), decodes
// and validates each object, and watches the directory with inotify (plus a periodic rescan
// as a safety net) so that edits, new files and removed files apply without a restart.
//
// An invalid object is rejected with an error naming the file, the object and the field
// path; it is logged and counted, and never affects other objects. If an object that was
// accepted before becomes invalid, its last accepted version keeps serving. Two objects with
// the same key: the later one (by path, then position in the file) wins, with a warning.
//
// Start()/Stop() own one watcher thread; Rejections() is thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/model/config.h"

namespace meshd::file {

struct Rejection {
  std::string file;
  std::string object;   // "VirtualService default/reviews", or "" if unknown
  std::string message;  // with field paths
};

class DirectorySource {
 public:
  using ChangeHandler = std::function<void(const std::vector<model::ConfigPtr>&)>;

  struct Options {
    std::string dir;
    std::string default_namespace = "default";
    absl::Duration rescan_interval = absl::Seconds(5);
    // After an event, the rescan waits until no file is open for writing (created or modified
    // and not yet closed), at most this long: a file renamed into place is read at once, one
    // written in steps is read when its writer closes it.
    absl::Duration settle = absl::Milliseconds(20);
  };

  // `on_change` receives the full set of accepted objects after the initial scan and after
  // every change; it runs on the watcher thread (or the caller's, for the initial scan).
  DirectorySource(Options options, ChangeHandler on_change);
  ~DirectorySource();

  // Scans once synchronously (so the first state is known when Start returns), then watches.
  absl::Status Start();
  void Stop();

  // Rescans now; returns true if the accepted set changed. Used by Start and the watcher.
  bool Rescan();

  std::vector<Rejection> Rejections() const;

 private:
  // Drains inotify events until no file is left open for writing or `settle` passed; false
  // when Stop was called meanwhile.
  bool AwaitWritesClosed();
  struct FileState {
    // stat() identity: an unchanged file is not read again (a rescan of thousands of files
    // costs a stat each).
    int64_t mtime_ns = 0;
    int64_t size = -1;
    uint64_t inode = 0;
    std::string content;
    std::vector<model::ConfigPtr> accepted;  // in document order
    std::vector<Rejection> rejected;
  };

  FileState ParseFile(const std::string& path, const std::string& content) const;
  void Watch();

  const Options options_;
  const ChangeHandler on_change_;

  mutable absl::Mutex mu_;
  std::map<std::string, FileState> files_ ABSL_GUARDED_BY(mu_);
  std::map<model::ConfigKey, model::ConfigPtr> last_accepted_ ABSL_GUARDED_BY(mu_);
  std::vector<Rejection> rejections_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  int inotify_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace meshd::file
