// CaServer: meshd's CA as one piece for the composition root: the root material (RootStore,
// self-signed and persisted, or plug-in and watched), the Signer, the authenticator chain
// (client certificate from this CA, then bearer token by TokenReview), the CreateCertificate
// service, and the TLS credentials of the secure gRPC port (15012) with meshd's own serving
// certificate issued by this CA.
//
// The serving key, certificate chain and trust bundle are written under
// `<serving_dir>` and handed to gRPC through a file-watcher certificate provider, so a
// re-issued serving certificate (at half its lifetime) or a new trust bundle (plug-in reload,
// root rotation) is picked up without restarting the server. Clients are asked for a
// certificate but not required to send one (token-only callers use the same port).
//
// Thread-safety: Create/Start/Stop belong to the owner; service() and ServerCredentials() are
// thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/security/server_credentials.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ca/root_store.h"
#include "ca/server/ca_service.h"
#include "ca/server/token_reviewer.h"
#include "ca/signer.h"

namespace meshd::ca {

// Sets the citadel_server_*_expiry_{timestamp,seconds} gauges from `bundle` as of `now`
// (CaServer does so at start, on every new bundle and every second).
void UpdateExpiryMetrics(const KeyCertBundle& bundle, absl::Time now);

struct CaServerOptions {
  RootStoreOptions roots;
  SignerOptions signer;
  CaServiceOptions service;
  // The serving certificate's DNS SANs (istiod.<ns>.svc and any configured names).
  std::vector<std::string> serving_dns_names;
  absl::Duration serving_ttl = absl::Hours(24);
  // Where the serving key/cert/roots are written for gRPC's file watcher.
  std::string serving_dir;
  // TokenReview audiences.
  std::vector<std::string> audiences = {"istio-ca"};
};

class CaServer {
 public:
  // `reviewer` may be null: then only client certificates authenticate. `clock` must outlive
  // the server.
  static absl::StatusOr<std::unique_ptr<CaServer>> Create(CaServerOptions options,
                                                          std::shared_ptr<TokenReviewer> reviewer,
                                                          const Clock* clock);
  ~CaServer();

  // Runs after every new CA bundle (root rotation, plug-in reload, another replica's root), on
  // the root watch's thread with no lock held. Before Start() only.
  void AddRootListener(std::function<void()> listener);

  // Starts the CA workers, the root watch and the serving-certificate renewal thread.
  void Start();
  void Stop();

  CaService* service() { return service_.get(); }
  // Who a caller is (client certificate, else bearer token by TokenReview); also used to
  // authenticate xDS streams on the secure port. Thread-safe; may block.
  Authenticator* authenticator() { return authenticator_.get(); }
  RootStore* roots() { return roots_.get(); }
  const Signer* signer() const { return signer_.get(); }
  // TLS for the secure port, reading the files in serving_dir.
  std::shared_ptr<grpc::ServerCredentials> ServerCredentials() const;

 private:
  CaServer(CaServerOptions options, const Clock* clock)
      : options_(std::move(options)), clock_(clock) {}
  // Issues a serving certificate and writes key, chain and roots; returns when to renew.
  absl::StatusOr<absl::Time> WriteServingFiles();
  void RenewLoop();

  const CaServerOptions options_;
  const Clock* const clock_;
  std::unique_ptr<RootStore> roots_;
  std::unique_ptr<Signer> signer_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<CaService> service_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool roots_changed_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::function<void()>> root_listeners_;  // owner thread, before Start()
  std::thread renew_thread_;
};

}  // namespace meshd::ca
