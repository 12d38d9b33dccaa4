// RootStore: where the CA's KeyCertBundle comes from, and keeping it current.
//
// Two modes, chosen once at Create, as istiod chooses:
// - plug-in: `plugin_dir` holds ca-cert.pem and ca-key.pem (plus root-cert.pem and optionally
//   cert-chain.pem), as mounted from secret `cacerts`, or the kubernetes.io/tls form (tls.crt
//   = signing certificate and any intermediates, tls.key, ca.crt = root). Without those files,
//   `plugin_secret` (Kubernetes: secret `cacerts` read through the API, same keys) is used, as
//   istiod reads the secret when nothing is mounted; mounted files win when both exist. The
//   material is re-read every poll and installed when its contents change; a bad or
//   half-written set is logged with the file/key at fault, counted
//   (meshd_ca_plugin_load_errors_total{source}), and the previous bundle stays in use. When a
//   new set drops roots of the previous one, those stay in the trust bundle for
//   `plugin_root_overlap` (certificates issued by the old CA keep verifying while workloads
//   renew), then leave it.
// - self-signed: a root is generated on first start and persisted in `self_signed_dir`
//   (ca-cert.pem, ca-key.pem 0600, root-cert.pem = trust bundle), so restarts keep the same
//   root. When less than `root_grace_fraction` of its lifetime is left, the root is re-issued
//   with the same key and subject (certificates already issued keep verifying) and the old root
//   stays in the trust bundle until it expires.
//
// With `persistence` set (Kubernetes: secret istio-ca-secret, supplied by the composition
// root), the self-signed root is loaded from and stored there instead of `self_signed_dir`; a
// root another replica stored first wins, and a changed stored root is picked up by Poll();
// `self_signed_dir`, if set, then only gets a copy of the trust bundle (root-cert.pem).
//
// Thread-safety: every public function is thread-safe, except that Start and Stop belong to
// the owner (one thread). The change callback runs on whichever thread installed the new
// bundle, with no lock held.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ca/key_cert_bundle.h"
#include "ca/openssl.h"
#include "controller/common/clock.h"

namespace meshd::ca {

// The self-signed root's persisted form, with istiod's key names (secret istio-ca-secret).
struct RootMaterial {
  std::string ca_cert;     // ca-cert.pem
  std::string ca_key;      // ca-key.pem
  std::string cert_chain;  // cert-chain.pem (empty for a self-signed root)
  std::string root_cert;   // root-cert.pem: the trust bundle
};

// Where a self-signed root persists when not in a directory. Implementations are thread-safe.
class RootPersistence {
 public:
  virtual ~RootPersistence() = default;
  // NotFound when nothing is stored yet.
  virtual absl::StatusOr<RootMaterial> Load() = 0;
  // Stores `material` unless something is stored already; returns what is stored afterwards
  // (`material`, or what another writer stored first).
  virtual absl::StatusOr<RootMaterial> Create(const RootMaterial& material) = 0;
  // Replaces what is stored (root rotation).
  virtual absl::Status Update(const RootMaterial& material) = 0;
  // For logs: "secret istio-system/istio-ca-secret".
  virtual std::string Describe() const = 0;
};

// Plug-in CA material by file/key name, e.g. the data of secret `cacerts`.
using PluginData = std::map<std::string, std::string>;

// Where plug-in CA material comes from when it is not mounted (Kubernetes: secret `cacerts`).
// Implementations are thread-safe.
class PluginSecretSource {
 public:
  virtual ~PluginSecretSource() = default;
  // The secret's (decoded) data; NotFound when it does not exist.
  virtual absl::StatusOr<PluginData> Load() = 0;
  // For logs: "secret istio-system/cacerts".
  virtual std::string Describe() const = 0;
};

struct RootStoreOptions {
  // Plug-in CA directory (istiod: /etc/cacerts); used when it holds ca-cert.pem and ca-key.pem.
  std::string plugin_dir = "./etc/cacerts";
  // Plug-in CA from a secret, used when plugin_dir holds no plug-in files; may be null.
  std::shared_ptr<PluginSecretSource> plugin_secret;
  // How long roots dropped by a new plug-in set stay trusted (the default workload TTL: every
  // workload renews within it).
  absl::Duration plugin_root_overlap = absl::Hours(24);
  // Self-signed mode: where the root and its key persist (istiod: secret istio-ca-secret).
  std::string self_signed_dir;
  // Self-signed mode: persist the root here instead of self_signed_dir, if set.
  std::shared_ptr<RootPersistence> persistence;
  // The self-signed root's organization (istiod uses the trust domain).
  std::string trust_domain = "cluster.local";
  KeyType root_key_type = KeyType::kEcdsaP256;
  absl::Duration root_ttl = absl::Hours(24 * 365 * 10);
  // Rotate the self-signed root when this fraction of its lifetime is left (istiod: 20%).
  double root_grace_fraction = 0.2;
  absl::Duration poll_interval = absl::Seconds(10);
};

class RootStore {
 public:
  enum class Mode { kSelfSigned, kPlugin };

  // Picks the mode, loads (or creates) the bundle. `clock` must outlive the store.
  static absl::StatusOr<std::unique_ptr<RootStore>> Create(RootStoreOptions options,
                                                           const Clock* clock);
  ~RootStore();  // Stop()s

  RootStore(const RootStore&) = delete;
  RootStore& operator=(const RootStore&) = delete;

  Mode mode() const { return mode_; }
  // The bundle in use; never null after Create succeeded.
  std::shared_ptr<const KeyCertBundle> Current() const;
  // Current() as a BundleSource; the store must outlive its users.
  BundleSource Source() const;

  // Plug-in: whether the files differ from those the current bundle came from.
  // Self-signed: whether the root is due for rotation.
  absl::StatusOr<bool> Changed() const;
  // Plug-in: re-reads the files and installs them if they form a valid bundle (on error the
  // current bundle stays). Self-signed: re-reads the persisted root, rotating it if due.
  absl::Status Reload();
  // One watch step: Reload if Changed (plug-in: a given set of file contents is tried once, so
  // a broken set is logged once, not every poll). Returns whether a new bundle was installed.
  absl::StatusOr<bool> Poll();

  // Runs after every new bundle (call Current() for it). Set before Start().
  void SetOnChange(std::function<void()> callback);

  // Polls every poll_interval on a member thread until Stop().
  void Start();
  void Stop();

 private:
  RootStore(RootStoreOptions options, const Clock* clock, Mode mode)
      : options_(std::move(options)), clock_(clock), mode_(mode) {}

  // Both return the new bundle, or null when nothing changed.
  absl::StatusOr<std::shared_ptr<const KeyCertBundle>> ReloadLocked(bool only_if_changed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  absl::StatusOr<std::shared_ptr<const KeyCertBundle>> LoadSelfSignedLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  absl::StatusOr<std::shared_ptr<const KeyCertBundle>> LoadPersistedLocked(bool only_if_changed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  absl::StatusOr<std::shared_ptr<const KeyCertBundle>> LoadPluginLocked(bool only_if_changed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  bool RotationDue(const KeyCertBundle& bundle) const;
  // Installs `bundle` (if not null) and runs the callback, outside every lock.
  void Install(std::shared_ptr<const KeyCertBundle> bundle) ABSL_LOCKS_EXCLUDED(mu_);
  void Run();

  const RootStoreOptions options_;
  const Clock* const clock_;
  const Mode mode_;

  // Serialises loading, rotation and file writes.
  mutable absl::Mutex reload_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // Plug-in files (or persisted root material) in use.
  std::string loaded_fingerprint_ ABSL_GUARDED_BY(reload_mu_);
  std::string tried_fingerprint_ ABSL_GUARDED_BY(reload_mu_);  // last plug-in files tried
  // Plug-in: roots dropped by a newer set, trusted until the paired time.
  std::vector<std::pair<Certificate, absl::Time>> retired_roots_ ABSL_GUARDED_BY(reload_mu_);

  mutable absl::Mutex mu_;
  std::shared_ptr<const KeyCertBundle> current_ ABSL_GUARDED_BY(mu_);
  std::function<void()> on_change_ ABSL_GUARDED_BY(mu_);

  absl::Mutex thread_mu_;
  bool stopping_ ABSL_GUARDED_BY(thread_mu_) = false;
  std::thread thread_;  // owner thread only (Start/Stop)
};

}  // namespace meshd::ca
