// SecretAccessChecker: whether a gateway may be sent the Kubernetes secrets of a namespace over
// SDS (Gateway `credentialName`). istiod serves `kubernetes://<name>` only to a gateway whose
// service account the API server allows to read secrets there (a SubjectAccessReview, cached);
// meshd does the same through this interface. Implementations: `kube::KubeSecretAccessReviewer`
// (SubjectAccessReview on the API server, cached with a TTL) and `SameNamespaceSecretAccess`
// (file mode: a gateway reads the secrets of its own namespace only). Thread-safe.
#pragma once

#include <string>

namespace meshd::model {

class SecretAccessChecker {
 public:
  virtual ~SecretAccessChecker() = default;

  // Whether service account `service_account` of namespace `sa_namespace` may read the
  // secrets of `secret_namespace`. An unanswerable question (API server down) is a "no".
  virtual bool MayReadSecrets(const std::string& sa_namespace, const std::string& service_account,
                              const std::string& secret_namespace) = 0;
};

// File mode (no API server to ask): the gateway's own namespace only.
class SameNamespaceSecretAccess : public SecretAccessChecker {
 public:
  bool MayReadSecrets(const std::string& sa_namespace, const std::string& service_account,
                      const std::string& secret_namespace) override {
    return !sa_namespace.empty() && sa_namespace == secret_namespace;
  }
};

}  // namespace meshd::model
