#include "ca/agent/agent.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ca/files.h"
#include "nlohmann/json.hpp"

namespace meshd::ca {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr char kCertFile[] = "cert-chain.pem";
constexpr char kKeyFile[] = "key.pem";
constexpr char kRootFile[] = "root-cert.pem";

std::string Seconds(absl::Duration d) { return absl::StrCat(absl::ToInt64Seconds(d), "s"); }

}  // namespace

std::string NodeId(const AgentOptions& o) {
  return absl::StrCat("sidecar~", o.ip, "~", o.pod_name, ".", o.ns, "~", o.ns, ".svc.", o.domain);
}

std::string BuildGrpcBootstrap(const AgentOptions& o) {
  std::string dir = fs::absolute(o.cert_dir).lexically_normal().string();
  json labels = json::object();
  for (const auto& [k, v] : o.labels) labels[k] = v;
  json metadata = {
      {"NAMESPACE", o.ns},          {"GENERATOR", "grpc"},
      {"INSTANCE_IPS", o.ip},       {"SERVICE_ACCOUNT", o.service_account},
      {"CLUSTER_ID", o.cluster_id}, {"LABELS", labels},
      {"NAME", o.pod_name},
  };
  json bootstrap = {
      {"xds_servers", json::array({{{"server_uri", o.xds_address},
                                    {"channel_creds", json::array({{{"type", "insecure"}}})},
                                    {"server_features", json::array({"xds_v3"})}}})},
      {"node",
       {{"id", NodeId(o)},
        {"cluster", o.cluster_id},
        {"locality", json::object()},
        {"metadata", metadata}}},
      {"certificate_providers",
       {{"default",
         {{"plugin_name", "file_watcher"},
          {"config",
           {{"certificate_file", dir + "/" + kCertFile},
            {"private_key_file", dir + "/" + kKeyFile},
            {"ca_certificate_file", dir + "/" + kRootFile},
            {"refresh_interval", Seconds(o.file_watcher_refresh)}}}}}}},
      {"server_listener_resource_name_template", "xds.istio.io/grpc/lds/inbound/%s"},
  };
  return bootstrap.dump(2) + "\n";
}

Backoff::Options AgentRetryBackoff() {
  Backoff::Options o;
  o.initial = absl::Seconds(1);
  o.max = absl::Seconds(30);
  o.multiplier = 2.0;
  o.jitter = 0.2;
  return o;
}

absl::Time RenewalTime(absl::Time obtained, absl::Time not_after, double renew_fraction,
                       double jitter_fraction, double jitter_unit) {
  absl::Duration life = not_after - obtained;
  if (life <= absl::ZeroDuration()) return obtained;
  absl::Time t = obtained + life * std::clamp(renew_fraction, 0.0, 1.0) -
                 life * std::clamp(jitter_fraction, 0.0, 1.0) * std::clamp(jitter_unit, 0.0, 1.0);
  return std::max(t, obtained);
}

Agent::Agent(AgentOptions options, CertificateClient* client, const Clock* clock,
             std::function<double()> random)
    : options_(std::move(options)), client_(client), clock_(clock), random_(std::move(random)) {}

absl::Status Agent::WriteBootstrap() const {
  return WriteFileAtomic(options_.bootstrap_path, BuildGrpcBootstrap(options_));
}

absl::StatusOr<IssuedFiles> Agent::Refresh() {
  auto key = PrivateKey::Generate(options_.key_type);
  if (!key.ok()) return key.status();
  CsrTemplate tmpl;
  tmpl.uri_sans.push_back(absl::StrCat("spiffe://", options_.domain, "/ns/", options_.ns, "/sa/",
                                       options_.service_account));
  auto csr = CreateCsr(*key, tmpl);
  if (!csr.ok()) return csr.status();
  absl::Time obtained = clock_->Now();
  auto chain = client_->CreateCertificate(*csr, options_.requested_ttl);
  if (!chain.ok()) return chain.status();
  if (chain->empty()) return absl::InternalError("CreateCertificate: empty cert_chain");
  auto leaf = Certificate::FromPem(chain->front());
  if (!leaf.ok()) return leaf.status();
  if (!KeyMatches(*key, *leaf)) {
    return absl::InternalError("CreateCertificate: the leaf is not for our key");
  }
  // cert-chain.pem: the leaf and intermediates; root-cert.pem: the root the chain ends in.
  std::vector<std::string> certs(chain->begin(), chain->end());
  std::string root = certs.size() > 1 ? certs.back() : "";
  if (certs.size() > 1) certs.pop_back();
  if (root.empty()) return absl::InternalError("CreateCertificate: no root in cert_chain");
  std::string leaf_chain;
  for (const auto& c : certs) {
    leaf_chain += c;
    if (!c.empty() && c.back() != '\n') leaf_chain += "\n";
  }
  if (auto s = WriteFilesAtomically(
          options_.cert_dir,
          {{kCertFile, leaf_chain}, {kKeyFile, key->ToPem()}, {kRootFile, root}});
      !s.ok()) {
    return s;
  }
  CertificateInfo info = leaf->Info();
  IssuedFiles out;
  out.not_after = info.not_after;
  out.serial_hex = info.serial_hex;
  out.renew_at = RenewalTime(std::max(obtained, info.not_before), info.not_after,
                             options_.renew_fraction, options_.jitter_fraction, random_());
  return out;
}

absl::Status WriteFilesAtomically(const std::string& dir,
                                  const std::map<std::string, std::string>& files) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  // A fresh versioned directory with every file.
  std::string version;
  for (int i = 0;; ++i) {
    version = absl::StrCat("..", absl::ToUnixMicros(absl::Now()), "_", i);
    if (!fs::exists(fs::path(dir) / version)) break;
  }
  fs::path vdir = fs::path(dir) / version;
  fs::create_directory(vdir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", vdir.string()));
  for (const auto& [name, contents] : files) {
    int mode = name == kKeyFile ? 0600 : 0644;
    if (auto s = WriteFileAtomic((vdir / name).string(), contents, mode); !s.ok()) return s;
  }
  // Swap ..data to it in one rename.
  fs::path data = fs::path(dir) / "..data";
  fs::path old_target;
  if (fs::is_symlink(data)) old_target = fs::read_symlink(data, ec);
  fs::path tmp_link = fs::path(dir) / "..data_tmp";
  fs::remove(tmp_link, ec);
  if (symlink(version.c_str(), tmp_link.c_str()) != 0 ||
      rename(tmp_link.c_str(), data.c_str()) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot swap ", data.string(), ": ", strerror(errno)));
  }
  // The user-visible names point through ..data once and for all.
  for (const auto& [name, contents] : files) {
    fs::path link = fs::path(dir) / name;
    if (fs::is_symlink(link)) continue;
    fs::remove(link, ec);
    if (symlink((std::string("..data/") + name).c_str(), link.c_str()) != 0) {
      return absl::UnavailableError(absl::StrCat("cannot link ", link.string()));
    }
  }
  if (!old_target.empty() && old_target.string() != version) {
    fs::remove_all(fs::path(dir) / old_target, ec);
  }
  return absl::OkStatus();
}

}  // namespace meshd::ca
