// meshd-agent's core (pilot-agent's role for proxyless gRPC): a workload key and CSR, the
// certificate from meshd's CA, the files gRPC's file_watcher certificate provider reads, renewal
// at half the lifetime with jitter, and the gRPC xDS bootstrap file.
//
// Files in `cert_dir`: cert-chain.pem (leaf first), key.pem (0600), root-cert.pem (trust bundle).
// They are symlinks into a `..data` directory that is swapped in one rename, the way the kubelet
// updates projected volumes, so a reader never sees a key from one issuance with the certificate
// of another.
//
// Thread-safety: Agent is used from one thread (main); the pure functions are thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ca/openssl.h"
#include "controller/common/backoff.h"
#include "controller/common/clock.h"

namespace meshd::ca {

struct AgentOptions {
  // Workload identity and node metadata (as the Istio agent sets them).
  std::string ip = "127.0.0.1";
  std::string pod_name;
  std::string ns = "default";
  std::string service_account = "default";
  std::string domain = "cluster.local";
  std::string cluster_id = "Kubernetes";
  std::map<std::string, std::string> labels;
  // Where the certificate files and the bootstrap go.
  std::string cert_dir = "./var/run/secrets/workload-spiffe-credentials";
  std::string bootstrap_path = "./etc/istio/proxy/grpc-bootstrap.json";
  // The xDS server for the bootstrap (gRPC 1.51's bootstrap knows only insecure channels).
  std::string xds_address = "127.0.0.1:15010";
  absl::Duration file_watcher_refresh = absl::Seconds(5);
  // Certificates.
  absl::Duration requested_ttl = absl::ZeroDuration();  // zero: the CA's default
  double renew_fraction = 0.5;   // renew when this fraction of the lifetime has passed
  double jitter_fraction = 0.1;  // up to this fraction of the lifetime earlier, at random
  KeyType key_type = KeyType::kEcdsaP256;
};

// "sidecar~<ip>~<pod>.<ns>~<ns>.svc.<domain>"
std::string NodeId(const AgentOptions& options);

// The gRPC xDS bootstrap (JSON) for `options`.
std::string BuildGrpcBootstrap(const AgentOptions& options);

// When to renew a certificate obtained at `obtained` and valid until `not_after`:
// obtained + renew_fraction * lifetime - jitter, where jitter = jitter_unit * jitter_fraction *
// lifetime and `jitter_unit` is in [0, 1). Never before `obtained`.
absl::Time RenewalTime(absl::Time obtained, absl::Time not_after, double renew_fraction,
                       double jitter_fraction, double jitter_unit);

// The retry policy after a failed issuance: 1 s doubling to 30 s, with up to 20% jitter so that
// agents restarted together do not retry in step; reset after every issuance.
Backoff::Options AgentRetryBackoff();

// Gets a certificate chain (PEM per element, leaf first, root last) for a CSR.
class CertificateClient {
 public:
  virtual ~CertificateClient() = default;
  virtual absl::StatusOr<std::vector<std::string>> CreateCertificate(const std::string& csr_pem,
                                                                     absl::Duration ttl) = 0;
};

struct IssuedFiles {
  absl::Time not_after;
  absl::Time renew_at;
  std::string serial_hex;
};

class Agent {
 public:
  // `client` and `clock` must outlive the agent; `random` returns values in [0, 1).
  Agent(AgentOptions options, CertificateClient* client, const Clock* clock,
        std::function<double()> random);

  // Writes the bootstrap file.
  absl::Status WriteBootstrap() const;
  // One issuance: key, CSR, CreateCertificate, files. Returns when to renew.
  absl::StatusOr<IssuedFiles> Refresh();

 private:
  const AgentOptions options_;
  CertificateClient* const client_;
  const Clock* const clock_;
  std::function<double()> random_;
};

// Publishes `files` (name → contents) in `dir` by swapping a `..data` symlink (see above).
absl::Status WriteFilesAtomically(const std::string& dir,
                                  const std::map<std::string, std::string>& files);

}  // namespace meshd::ca
