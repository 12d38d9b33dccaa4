#include "ca/root_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "ca/rotation.h"
#include "controller/common/metrics.h"
#include "controller/common/status_macros.h"
#include "spdlog/spdlog.h"

namespace meshd::ca {
namespace {

namespace fs = std::filesystem;

constexpr char kCaCert[] = "ca-cert.pem";
constexpr char kCaKey[] = "ca-key.pem";
constexpr char kCertChain[] = "cert-chain.pem";
constexpr char kRootCert[] = "root-cert.pem";
// The kubernetes.io/tls form of a plug-in CA (istiod accepts it too).
constexpr char kTlsCert[] = "tls.crt";
constexpr char kTlsKey[] = "tls.key";
constexpr char kTlsRoot[] = "ca.crt";
constexpr absl::Duration kRootBackdate = absl::Minutes(2);

std::string PathIn(const std::string& dir, const char* name) { return (fs::path(dir) / name); }

bool FileExists(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

// NotFound when the file is missing.
absl::StatusOr<std::string> ReadFile(const std::string& path) {
  if (!FileExists(path)) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  if (!in.good() && !in.eof()) return absl::UnavailableError(absl::StrCat(path, ": read failed"));
  return contents.str();
}

// Writes `path` through a temporary file and rename, so readers see the old or the new file.
absl::Status WriteFileAtomic(const std::string& path, absl::string_view data, mode_t mode) {
  std::string tmp = absl::StrCat(path, ".tmp");
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return absl::InternalError(absl::StrCat(tmp, ": ", std::strerror(errno)));
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    written += static_cast<size_t>(n);
  }
  bool ok = written == data.size() && fchmod(fd, mode) == 0 && fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    std::string error = std::strerror(errno);
    unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat(path, ": write failed: ", error));
  }
  return absl::OkStatus();
}

std::string Serial(const KeyCertBundle& bundle) { return bundle.signing_cert().Info().serial_hex; }

struct PluginFiles {
  std::string ca_cert, ca_key, cert_chain, root_cert;
  PemFileNames names;  // where each came from, for errors
  std::string source;  // "dir" or "secret" (metric label)
  std::string where;   // "/etc/cacerts", "secret istio-system/cacerts"

  // Identifies one set of contents (lengths first, so boundaries cannot shift) without
  // keeping a copy of the key.
  std::string Fingerprint() const {
    return Sha256Hex(absl::StrCat(source, ":", ca_cert.size(), ":", ca_key.size(), ":",
                                  cert_chain.size(), ":", root_cert.size(), "|", ca_cert, ca_key,
                                  cert_chain, root_cert));
  }
};

// Which form `has(name)` describes: istiod's names, else kubernetes.io/tls, else none.
enum class PluginForm { kNone, kIstio, kTls };
template <typename Has>
PluginForm FormOf(const Has& has) {
  if (has(kCaCert) && has(kCaKey)) return PluginForm::kIstio;
  if (has(kTlsCert) && has(kTlsKey)) return PluginForm::kTls;
  return PluginForm::kNone;
}

PluginForm DirForm(const std::string& dir) {
  if (dir.empty()) return PluginForm::kNone;
  return FormOf([&](const char* name) { return FileExists(PathIn(dir, name)); });
}

// Plug-in material from named parts; `get(name)` is NotFound when a part is missing.
template <typename Get>
absl::StatusOr<PluginFiles> PluginFilesFrom(PluginForm form, const Get& get) {
  PluginFiles files;
  auto optional = [&](const char* name) -> absl::StatusOr<std::string> {
    absl::StatusOr<std::string> v = get(name);
    if (v.ok() || !absl::IsNotFound(v.status())) return v;
    return std::string();
  };
  if (form == PluginForm::kTls) {
    // tls.crt holds the signing certificate, possibly followed by intermediates; istiod's chain
    // is tls.crt + ca.crt (KeyCertBundle keeps only the intermediates on the verified path).
    ASSIGN_OR_RETURN(std::string tls_crt, get(kTlsCert));
    ASSIGN_OR_RETURN(files.ca_key, get(kTlsKey));
    ASSIGN_OR_RETURN(files.root_cert, get(kTlsRoot));
    absl::StatusOr<std::vector<Certificate>> certs = Certificate::ChainFromPem(tls_crt);
    files.ca_cert = certs.ok() && !certs->empty() ? certs->front().ToPem() : tls_crt;
    files.cert_chain = absl::StrCat(tls_crt, files.root_cert);
    files.names = {kTlsCert, kTlsKey, kTlsCert, kTlsRoot};
    return files;
  }
  ASSIGN_OR_RETURN(files.ca_cert, get(kCaCert));
  ASSIGN_OR_RETURN(files.ca_key, get(kCaKey));
  ASSIGN_OR_RETURN(files.root_cert, get(kRootCert));
  ASSIGN_OR_RETURN(files.cert_chain, optional(kCertChain));
  return files;
}

absl::StatusOr<PluginFiles> ReadPluginFiles(const std::string& dir) {
  PluginForm form = DirForm(dir);
  if (form == PluginForm::kNone) {
    return absl::NotFoundError(absl::StrCat("no plug-in CA files in ", dir));
  }
  ASSIGN_OR_RETURN(PluginFiles files, PluginFilesFrom(form, [&](const char* name) {
                     return ReadFile(PathIn(dir, name));
                   }));
  files.source = "dir";
  files.where = dir;
  return files;
}

absl::StatusOr<PluginFiles> PluginFilesFromSecret(PluginSecretSource& secret) {
  ASSIGN_OR_RETURN(PluginData data, secret.Load());
  const std::string where = secret.Describe();
  PluginForm form = FormOf([&](const char* name) { return data.count(name) > 0; });
  if (form == PluginForm::kNone) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": neither ", kCaCert, " + ", kCaKey,
                                                   " nor ", kTlsCert, " + ", kTlsKey));
  }
  ASSIGN_OR_RETURN(PluginFiles files,
                   PluginFilesFrom(form, [&](const char* name) -> absl::StatusOr<std::string> {
                     auto it = data.find(name);
                     if (it == data.end()) {
                       return absl::NotFoundError(absl::StrCat(where, ": no ", name));
                     }
                     return it->second;
                   }));
  files.source = "secret";
  files.where = where;
  return files;
}

std::string Fingerprint(const RootMaterial& m) {
  return Sha256Hex(absl::StrCat(m.ca_cert.size(), ":", m.ca_key.size(), ":", m.cert_chain.size(),
                                ":", m.root_cert.size(), "|", m.ca_cert, m.ca_key, m.cert_chain,
                                m.root_cert));
}

absl::StatusOr<Certificate> IssueRoot(const RootStoreOptions& options, const PrivateKey& key,
                                      absl::Time now) {
  CertificateTemplate tmpl;
  tmpl.organization = options.trust_domain;
  tmpl.not_before = now - kRootBackdate;
  tmpl.not_after = now + options.root_ttl;
  tmpl.is_ca = true;
  tmpl.key_usage = kKeyCertSign | kCrlSign;
  return IssueCertificate(tmpl, key.public_key(), /*issuer=*/nullptr, key);
}

// Plug-in: the mounted files if any, else the secret (istiod reads the secret only when
// nothing is mounted).
absl::StatusOr<PluginFiles> ReadPlugin(const RootStoreOptions& options) {
  if (DirForm(options.plugin_dir) != PluginForm::kNone || options.plugin_secret == nullptr) {
    return ReadPluginFiles(options.plugin_dir);
  }
  return PluginFilesFromSecret(*options.plugin_secret);
}

}  // namespace

absl::StatusOr<std::unique_ptr<RootStore>> RootStore::Create(RootStoreOptions options,
                                                             const Clock* clock) {
  bool plugin = DirForm(options.plugin_dir) != PluginForm::kNone;
  if (!plugin && options.plugin_secret != nullptr) {
    // istiod reads secret cacerts when nothing is mounted; an unreachable API server is an
    // error (Unavailable: the caller retries), not a reason to fall back to self-signed.
    absl::StatusOr<PluginData> data = options.plugin_secret->Load();
    if (data.ok()) {
      plugin = true;
    } else if (!absl::IsNotFound(data.status())) {
      return data.status();
    }
  }
  if (!plugin && options.self_signed_dir.empty() && options.persistence == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("no plug-in CA in \"", options.plugin_dir,
                                                   "\" and no self-signed CA directory"));
  }
  std::unique_ptr<RootStore> store(
      new RootStore(std::move(options), clock, plugin ? Mode::kPlugin : Mode::kSelfSigned));
  RETURN_IF_ERROR(store->Reload());
  return store;
}

RootStore::~RootStore() { Stop(); }

std::shared_ptr<const KeyCertBundle> RootStore::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

BundleSource RootStore::Source() const {
  return [this] { return Current(); };
}

void RootStore::SetOnChange(std::function<void()> callback) {
  absl::MutexLock lock(&mu_);
  on_change_ = std::move(callback);
}

bool RootStore::RotationDue(const KeyCertBundle& bundle) const {
  CertificateInfo info = bundle.signing_cert().Info();
  return clock_->Now() >=
         RotationTime(info.not_before, info.not_after, options_.root_grace_fraction);
}

absl::StatusOr<bool> RootStore::Changed() const {
  if (mode_ == Mode::kSelfSigned) {
    std::shared_ptr<const KeyCertBundle> bundle = Current();
    return bundle == nullptr || RotationDue(*bundle);
  }
  ASSIGN_OR_RETURN(PluginFiles files, ReadPlugin(options_));
  absl::MutexLock lock(&reload_mu_);
  return files.Fingerprint() != loaded_fingerprint_;
}

absl::Status RootStore::Reload() {
  std::shared_ptr<const KeyCertBundle> bundle;
  {
    absl::MutexLock lock(&reload_mu_);
    ASSIGN_OR_RETURN(bundle, ReloadLocked(/*only_if_changed=*/false));
  }
  Install(std::move(bundle));
  return absl::OkStatus();
}

absl::StatusOr<bool> RootStore::Poll() {
  std::shared_ptr<const KeyCertBundle> bundle;
  {
    absl::MutexLock lock(&reload_mu_);
    ASSIGN_OR_RETURN(bundle, ReloadLocked(/*only_if_changed=*/true));
  }
  bool changed = bundle != nullptr;
  Install(std::move(bundle));
  return changed;
}

absl::StatusOr<std::shared_ptr<const KeyCertBundle>> RootStore::ReloadLocked(bool only_if_changed) {
  if (mode_ == Mode::kPlugin) return LoadPluginLocked(only_if_changed);
  if (options_.persistence != nullptr) return LoadPersistedLocked(only_if_changed);
  if (only_if_changed) {
    std::shared_ptr<const KeyCertBundle> current = Current();
    if (current != nullptr && !RotationDue(*current)) return nullptr;
  }
  return LoadSelfSignedLocked();
}

absl::StatusOr<std::shared_ptr<const KeyCertBundle>> RootStore::LoadPluginLocked(
    bool only_if_changed) {
  absl::Time now = clock_->Now();
  absl::StatusOr<PluginFiles> files = ReadPlugin(options_);
  std::string fingerprint = files.ok() ? files->Fingerprint() : files.status().ToString();
  bool retire_due = std::any_of(retired_roots_.begin(), retired_roots_.end(),
                                [&](const auto& r) { return r.second <= now; });
  if (only_if_changed && fingerprint == tried_fingerprint_ && fingerprint != loaded_fingerprint_) {
    return nullptr;  // a broken set is reported once
  }
  if (only_if_changed && fingerprint == loaded_fingerprint_ && !retire_due) return nullptr;
  tried_fingerprint_ = fingerprint;
  std::string source =
      files.ok() ? files->source
      : (DirForm(options_.plugin_dir) != PluginForm::kNone || options_.plugin_secret == nullptr)
          ? "dir"
          : "secret";
  absl::StatusOr<KeyCertBundle> bundle =
      files.ok() ? KeyCertBundle::FromPem(files->ca_cert, files->ca_key, files->cert_chain,
                                          files->root_cert, now, files->names)
                 : absl::StatusOr<KeyCertBundle>(files.status());
  if (bundle.ok() && bundle->signing_not_after() <= now) {
    bundle = absl::InvalidArgumentError(
        absl::StrCat(files->names.ca_cert, ": the CA certificate has expired"));
  }
  if (!bundle.ok()) {
    Metrics::Get().ca_plugin_load_errors.Add({{"source", source}}).Increment();
    std::string where = files.ok() ? files->where : options_.plugin_dir;
    return absl::Status(bundle.status().code(),
                        absl::StrCat("plug-in CA in ", where, ": ", bundle.status().message()));
  }

  // Roots the previous set trusted and this one drops stay trusted for the overlap.
  std::shared_ptr<const KeyCertBundle> previous = Current();
  const std::vector<Certificate>& new_roots = bundle->roots();
  auto in_new = [&](const Certificate& c) {
    return std::find(new_roots.begin(), new_roots.end(), c) != new_roots.end();
  };
  if (previous != nullptr && fingerprint != loaded_fingerprint_) {
    for (const Certificate& old : previous->roots()) {
      bool known = std::any_of(retired_roots_.begin(), retired_roots_.end(),
                               [&](const auto& r) { return r.first == old; });
      if (!in_new(old) && !known) {
        retired_roots_.emplace_back(old, now + options_.plugin_root_overlap);
      }
    }
  }
  retired_roots_.erase(std::remove_if(retired_roots_.begin(), retired_roots_.end(),
                                      [&](const auto& r) {
                                        return r.second <= now || in_new(r.first) ||
                                               r.first.Info().not_after <= now;
                                      }),
                       retired_roots_.end());
  if (!retired_roots_.empty()) {
    std::vector<Certificate> roots = new_roots;
    for (const auto& r : retired_roots_) roots.push_back(r.first);
    std::vector<Certificate> intermediates = bundle->intermediates();
    bundle = KeyCertBundle::Create(bundle->signing_cert(), bundle->signing_key(),
                                   std::move(intermediates), std::move(roots), now);
    if (!bundle.ok()) return bundle.status();
  }
  loaded_fingerprint_ = fingerprint;
  spdlog::info(
      "ca: loaded plug-in CA from {}: signing cert serial {}, {} intermediate(s), {} root(s) "
      "({} kept from the previous CA)",
      files->where, Serial(*bundle), bundle->intermediates().size(), bundle->roots().size(),
      retired_roots_.size());
  return std::make_shared<const KeyCertBundle>(*std::move(bundle));
}

absl::StatusOr<std::shared_ptr<const KeyCertBundle>> RootStore::LoadSelfSignedLocked() {
  const std::string& dir = options_.self_signed_dir;
  const std::string cert_path = PathIn(dir, kCaCert);
  const std::string key_path = PathIn(dir, kCaKey);
  const std::string roots_path = PathIn(dir, kRootCert);
  absl::Time now = clock_->Now();

  bool have_cert = FileExists(cert_path);
  bool have_key = FileExists(key_path);
  if (have_cert && !have_key) {
    // A published root lost its key; a new root would silently break every workload.
    return absl::FailedPreconditionError(
        absl::StrCat("self-signed CA in ", dir, " has ", kCaCert, " but no ", kCaKey));
  }

  std::optional<PrivateKey> key;
  std::optional<Certificate> root;
  std::vector<Certificate> roots;
  bool write_key = false;
  bool write_certs = false;
  if (have_key) {
    ASSIGN_OR_RETURN(std::string key_pem, ReadFile(key_path));
    ASSIGN_OR_RETURN(key, PrivateKey::FromPem(key_pem));
  } else {
    std::error_code ec;
    if (fs::create_directories(dir, ec)) fs::permissions(dir, fs::perms::owner_all, ec);
    if (ec) return absl::InternalError(absl::StrCat(dir, ": ", ec.message()));
    ASSIGN_OR_RETURN(key, PrivateKey::Generate(options_.root_key_type));
    write_key = true;
  }
  // A key without a certificate means a first start stopped half way: no certificate was
  // ever handed out, so the root is simply issued now.
  if (have_cert) {
    ASSIGN_OR_RETURN(std::string cert_pem, ReadFile(cert_path));
    ASSIGN_OR_RETURN(root, Certificate::FromPem(cert_pem));
    if (FileExists(roots_path)) {
      ASSIGN_OR_RETURN(std::string roots_pem, ReadFile(roots_path));
      ASSIGN_OR_RETURN(roots, Certificate::ChainFromPem(roots_pem));
    }
  }

  // A new root, or a re-issue of the current one with the same key and subject.
  CertificateInfo info;
  if (root.has_value()) info = root->Info();
  if (!root.has_value() ||
      now >= RotationTime(info.not_before, info.not_after, options_.root_grace_fraction)) {
    CertificateTemplate tmpl;
    tmpl.organization = options_.trust_domain;
    tmpl.not_before = now - kRootBackdate;
    tmpl.not_after = now + options_.root_ttl;
    tmpl.is_ca = true;
    tmpl.key_usage = kKeyCertSign | kCrlSign;
    ASSIGN_OR_RETURN(Certificate fresh,
                     IssueCertificate(tmpl, key->public_key(), /*issuer=*/nullptr, *key));
    if (root.has_value()) {
      spdlog::warn("ca: rotating self-signed root {} (expires {}) in {}", info.serial_hex,
                   absl::FormatTime(info.not_after), dir);
    }
    root = std::move(fresh);
    write_certs = true;
  }

  // Trust bundle: the current root first, then older roots until they expire.
  std::vector<Certificate> bundle_roots = {*root};
  for (const Certificate& r : roots) {
    if (r != *root && r.Info().not_after > now) bundle_roots.push_back(r);
  }
  write_certs = write_certs || bundle_roots != roots;

  ASSIGN_OR_RETURN(KeyCertBundle bundle, KeyCertBundle::Create(*root, *key, {}, bundle_roots, now));
  // Key first, the certificate last: whatever prefix of these writes lands still loads.
  if (write_key) RETURN_IF_ERROR(WriteFileAtomic(key_path, key->ToPem(), 0600));
  if (write_certs) {
    RETURN_IF_ERROR(WriteFileAtomic(roots_path, ToPem(bundle_roots), 0644));
    RETURN_IF_ERROR(WriteFileAtomic(cert_path, root->ToPem(), 0644));
  }
  spdlog::info("ca: {} self-signed root {} in {} ({} root(s) trusted)",
               write_key ? "created" : (write_certs ? "re-issued" : "loaded"), Serial(bundle), dir,
               bundle.roots().size());
  return std::make_shared<const KeyCertBundle>(std::move(bundle));
}

absl::StatusOr<std::shared_ptr<const KeyCertBundle>> RootStore::LoadPersistedLocked(
    bool only_if_changed) {
  RootPersistence& store = *options_.persistence;
  const std::string where = store.Describe();
  const absl::Time now = clock_->Now();
  absl::StatusOr<RootMaterial> stored = store.Load();
  if (!stored.ok() && !absl::IsNotFound(stored.status())) {
    return absl::Status(stored.status().code(),
                        absl::StrCat("self-signed CA in ", where, ": ", stored.status().message()));
  }
  bool created = false;
  if (!stored.ok()) {
    ASSIGN_OR_RETURN(PrivateKey new_key, PrivateKey::Generate(options_.root_key_type));
    ASSIGN_OR_RETURN(Certificate new_root, IssueRoot(options_, new_key, now));
    RootMaterial fresh{new_root.ToPem(), new_key.ToPem(), "",
                       ToPem(std::vector<Certificate>{new_root})};
    ASSIGN_OR_RETURN(RootMaterial winner, store.Create(fresh));
    created = winner.ca_cert == fresh.ca_cert;
    if (!created) {
      spdlog::info("ca: another replica stored the self-signed root in {} first; using it", where);
    }
    stored = std::move(winner);
  }
  if (stored->ca_key.empty()) {
    // A published root lost its key; a new root would silently break every workload.
    return absl::FailedPreconditionError(
        absl::StrCat("self-signed CA in ", where, " has ", kCaCert, " but no ", kCaKey));
  }
  ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::FromPem(stored->ca_key));
  ASSIGN_OR_RETURN(Certificate root, Certificate::FromPem(stored->ca_cert));
  std::vector<Certificate> roots;
  if (!stored->root_cert.empty()) {
    ASSIGN_OR_RETURN(roots, Certificate::ChainFromPem(stored->root_cert));
  }
  CertificateInfo info = root.Info();
  const bool due =
      now >= RotationTime(info.not_before, info.not_after, options_.root_grace_fraction);
  std::string fingerprint = Fingerprint(*stored);
  if (only_if_changed && !due && fingerprint == loaded_fingerprint_) return nullptr;

  if (due) {
    spdlog::warn("ca: rotating self-signed root {} (expires {}) in {}", info.serial_hex,
                 absl::FormatTime(info.not_after), where);
    ASSIGN_OR_RETURN(root, IssueRoot(options_, key, now));
  }
  // Trust bundle: the current root first, then older roots until they expire.
  std::vector<Certificate> bundle_roots = {root};
  for (const Certificate& r : roots) {
    if (r != root && r.Info().not_after > now) bundle_roots.push_back(r);
  }
  ASSIGN_OR_RETURN(KeyCertBundle bundle, KeyCertBundle::Create(root, key, {}, bundle_roots, now));
  bool updated = false;
  if (due || bundle_roots != roots) {
    RootMaterial next{root.ToPem(), stored->ca_key, "", ToPem(bundle_roots)};
    RETURN_IF_ERROR(store.Update(next));
    fingerprint = Fingerprint(next);
    updated = true;
  }
  if (const std::string& dir = options_.self_signed_dir; !dir.empty()) {
    // A local copy of the trust bundle (never the key), for tools and agents on this host.
    const std::string roots_path = PathIn(dir, kRootCert);
    const std::string roots_pem = ToPem(bundle_roots);
    absl::StatusOr<std::string> on_disk = ReadFile(roots_path);
    if (!on_disk.ok() || *on_disk != roots_pem) {
      std::error_code ec;
      if (fs::create_directories(dir, ec)) fs::permissions(dir, fs::perms::owner_all, ec);
      if (absl::Status s = WriteFileAtomic(roots_path, roots_pem, 0644); !s.ok()) {
        spdlog::warn("ca: trust bundle not copied to {}: {}", roots_path, s.ToString());
      }
    }
  }
  loaded_fingerprint_ = fingerprint;
  spdlog::info("ca: {} self-signed root {} in {} ({} root(s) trusted)",
               created ? "created" : (updated ? "re-issued" : "loaded"), Serial(bundle), where,
               bundle.roots().size());
  return std::make_shared<const KeyCertBundle>(std::move(bundle));
}

void RootStore::Install(std::shared_ptr<const KeyCertBundle> bundle) {
  if (bundle == nullptr) return;
  std::function<void()> callback;
  {
    absl::MutexLock lock(&mu_);
    current_ = std::move(bundle);
    callback = on_change_;
  }
  if (callback) callback();
}

void RootStore::Start() {
  absl::MutexLock lock(&thread_mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void RootStore::Stop() {
  {
    absl::MutexLock lock(&thread_mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  thread_.join();
  thread_ = std::thread();
}

void RootStore::Run() {
  while (true) {
    {
      absl::MutexLock lock(&thread_mu_);
      if (thread_mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.poll_interval)) {
        return;
      }
    }
    if (absl::StatusOr<bool> changed = Poll(); !changed.ok()) {
      spdlog::error("ca: CA not reloaded, keeping the current one: {}",
                    changed.status().ToString());
    }
  }
}

}  // namespace meshd::ca
