// Watches the MeshConfig file (--meshConfig; in a cluster the `mesh` key of ConfigMap `istio`
// mounted at /etc/istio/config/mesh, which the kubelet replaces by a symlink swap) and hands
// every accepted new version to a callback. A version that does not parse is logged with its
// field errors, counted (meshd_config_rejections_total{kind="MeshConfig"}), and the previous
// one stays in force. Start()/Stop() own one polling thread; CheckNow() is for tests and start.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/config/mesh_config.h"

namespace meshd::file {

class MeshConfigWatcher {
 public:
  using Callback = std::function<void(model::MeshConfigPtr)>;

  MeshConfigWatcher(std::string path, absl::Duration interval, Callback on_change);
  ~MeshConfigWatcher();

  // Reads the file once: the defaults when it does not exist (as istiod), an error when it
  // does not parse. Does not call the callback.
  absl::StatusOr<model::MeshConfigPtr> LoadInitial();
  void Start();
  void Stop();
  // Re-reads the file; calls the callback (on this thread) when an accepted version differs
  // from the last one. Returns whether it did.
  bool CheckNow();

 private:
  void Run();

  const std::string path_;
  const absl::Duration interval_;
  const Callback on_change_;
  std::optional<std::string> last_text_;  // only the polling thread (or the caller before Start)
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace meshd::file
