// meshd's command-line options, named as istiod names its flags where an istiod user would
// look for them, with environment fallbacks. Parsed once in main.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/kube/rest_kube_client.h"

namespace meshd::bootstrap {

struct Options {
  std::string config_dir;                  // --configDir: the file config source
  std::string grpc_addr = ":15010";        // --grpcAddr: plaintext xDS
  std::string http_addr = ":8080";         // --httpAddr: /ready
  std::string monitoring_addr = ":15014";  // --monitoringAddr: /metrics, /debug/*
  // The admission webhooks over TLS (needs the CA); "" or "off": none. Revision: env REVISION.
  std::string webhook_addr = ":15017";  // --webhookAddr
  bool webhook() const { return !webhook_addr.empty() && webhook_addr != "off"; }
  std::string revision;  // env REVISION (istiod's): webhook configuration names, injection
  std::string domain = "cluster.local";   // --domain
  std::string ns = "istio-system";        // --namespace (env POD_NAMESPACE)
  std::string log_level = "info";         // --log_output_level (default:info or info)
  std::string cluster_id = "Kubernetes";  // --clusterID (istiod's default; env CLUSTER_ID)
  int push_workers = 2;                   // --pushWorkers
  absl::Duration debounce_after = absl::Milliseconds(100);  // env PILOT_DEBOUNCE_AFTER
  absl::Duration debounce_max = absl::Seconds(10);          // env PILOT_DEBOUNCE_MAX
  // Endpoint-only bursts: env MESHD_EDS_DEBOUNCE_AFTER (20ms); PILOT_ENABLE_EDS_DEBOUNCE=false
  // (istiod's switch) makes it 0.
  absl::Duration debounce_endpoints = absl::Milliseconds(20);
  // The first change after a quiet spell is pushed at once, not after the debounce period:
  // env MESHD_DEBOUNCE_LEADING_EDGE (true; false: istiod's trailing-only debounce).
  bool debounce_leading_edge = true;
  // Kubernetes source: `kubeconfig` below (after parsing: --kubeconfig, else $KUBECONFIG,
  // else ~/.kube/config, the last two only without --configDir), or in-cluster
  // (KUBERNETES_SERVICE_HOST/PORT, when no kubeconfig is found).
  bool in_cluster = false;
  bool kube() const { return in_cluster || !kubeconfig.empty(); }
  // Leader election (Kubernetes only): --leaderElection, --leaseDuration 30s,
  // --renewDeadline 15s, --retryPeriod 7.5s, --leaseName; identity from env POD_NAME.
  bool leader_election = true;
  std::string lease_name = "meshd-leader";
  absl::Duration lease_duration = absl::Seconds(30);
  absl::Duration renew_deadline = absl::Seconds(15);
  absl::Duration retry_period = absl::Milliseconds(7500);
  // The kubeconfig (client-go lookup). The CA uses it for TokenReview.
  std::string kubeconfig;  // --kubeconfig
  // The CA and the TLS xDS port (istiod's 15012: CreateCertificate + ADS over TLS).
  std::string secure_grpc_addr = ":15012";  // --secureGRPCAddr ("" or "off": none)
  bool secure() const { return !secure_grpc_addr.empty() && secure_grpc_addr != "off"; }
  std::string trust_domain = "cluster.local";  // --trustDomain (env TRUST_DOMAIN)
  bool trust_domain_set = false;  // given by flag or env (else MeshConfig's trustDomain applies)
  // MeshConfig file, as istiod's --meshConfig (in a cluster: ConfigMap `istio` key `mesh`
  // mounted there). A missing file means the defaults; it is re-read when it changes.
  std::string mesh_config = "./etc/istio/config/mesh";  // --meshConfig
  std::string cacerts_dir = "./etc/cacerts";  // --cacertsDir: plug-in CA, as istiod reads it
  std::string ca_state_dir;  // --caStateDir: self-signed root, serving cert ($HOME/.meshd/ca)
  std::vector<std::string> tls_dns_names;              // --tlsDnsNames a,b: besides istiod.<ns>.svc
  absl::Duration workload_cert_ttl = absl::Hours(24);  // env DEFAULT_WORKLOAD_CERT_TTL
  absl::Duration max_workload_cert_ttl = absl::Hours(24 * 90);  // env MAX_WORKLOAD_CERT_TTL
  // istiod's flags meshd accepts but does not use yet (`pilot-discovery discovery` arguments
  // of the istiod chart), in the order given, without values: main logs each once.
  std::vector<std::string> ignored_flags;
};

// Parses argv (`--flag value` or `--flag=value`; boolean flags also bare `--flag`), after an
// optional leading `discovery` subcommand (istiod's container arguments). InvalidArgument
// names the bad flag.
absl::StatusOr<Options> ParseOptions(const std::vector<std::string>& args);
std::string Usage();

// Where the process's one Kubernetes API client connects, resolved once: the Kubernetes
// source's kubeconfig (or in-cluster config); without a Kubernetes source but with the CA, a
// kubeconfig found as client-go finds it ($KUBECONFIG, ~/.kube/config), used for TokenReview
// only; nothing when neither needs an API server. Errors name the kubeconfig that failed.
absl::StatusOr<std::optional<kube::KubeConfig>> ResolveKubeConfig(const Options& options);

}  // namespace meshd::bootstrap
