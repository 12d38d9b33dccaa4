// CaSecretStore: the self-signed CA root in secret `istio-ca-secret` in meshd's namespace, with
// istiod's keys (ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem), so restarts and other
// replicas use the same root. Create is race-safe: on 409 AlreadyExists (another replica won)
// the stored secret is read back and returned. The composition root adapts this to the CA's
// RootPersistence, so that ca/ stays free of Kubernetes. The same class reads the plug-in CA
// secret `cacerts` (LoadData: every key, decoded; ca/'s RootStore picks the form). Thread-safe.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "controller/kube/kube_client.h"

namespace meshd::kube {

class CaSecretStore {
 public:
  struct Material {
    std::string ca_cert, ca_key, cert_chain, root_cert;
  };

  CaSecretStore(KubeClient* client, std::string ns, std::string name = "istio-ca-secret")
      : client_(client), ns_(std::move(ns)), name_(std::move(name)) {}

  // NotFound when the secret does not exist.
  absl::StatusOr<Material> Load() const;
  // Every data key, base64-decoded (secret cacerts: ca-cert.pem, ... or tls.crt, tls.key,
  // ca.crt). NotFound when the secret does not exist; a key that is not base64 is DataLoss
  // naming the key.
  absl::StatusOr<std::map<std::string, std::string>> LoadData() const;
  // Creates the secret; returns what is stored afterwards (ours, or the winner's on 409).
  absl::StatusOr<Material> Create(const Material& m) const;
  // Replaces the data (JSON merge patch).
  absl::Status Update(const Material& m) const;
  // "secret istio-system/istio-ca-secret"
  std::string Describe() const { return "secret " + ns_ + "/" + name_; }

 private:
  KubeClient* const client_;
  const std::string ns_;
  const std::string name_;
};

}  // namespace meshd::kube
