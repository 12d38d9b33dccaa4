#include "ca/server/client_cert_authenticator.h"

#include <grpc/grpc_security_constants.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ca/openssl.h"

namespace meshd::ca {

absl::StatusOr<Identity> ClientCertAuthenticator::Authenticate(
    const grpc::CallbackServerContext& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return absl::UnauthenticatedError("no client certificate");
  std::vector<grpc::string_ref> certs = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (certs.empty()) return absl::UnauthenticatedError("no client certificate");
  return AuthenticatePem(absl::string_view(certs.front().data(), certs.front().size()));
}

absl::StatusOr<Identity> ClientCertAuthenticator::AuthenticatePem(absl::string_view pem) const {
  auto fail = [](absl::string_view why) {
    return absl::UnauthenticatedError(absl::StrCat("client certificate: ", why));
  };
  std::shared_ptr<const KeyCertBundle> bundle = bundles_ ? bundles_() : nullptr;
  if (bundle == nullptr) return fail("no CA loaded");
  absl::StatusOr<Certificate> leaf = Certificate::FromPem(pem);
  if (!leaf.ok()) return fail(leaf.status().message());

  std::vector<Certificate> untrusted = bundle->IssuerChain();
  absl::StatusOr<std::vector<Certificate>> path =
      VerifyChain(*leaf, untrusted, bundle->roots(), clock_->Now());
  if (!path.ok()) return fail(path.status().message());

  CertificateInfo info = leaf->Info();
  if (info.is_ca) return fail("is a CA certificate");
  if (info.ext_key_usage != 0 && !(info.ext_key_usage & kClientAuth)) {
    return fail("not valid for client authentication");
  }
  if (info.uri_sans.size() != 1) {
    return fail(absl::StrCat("want one URI SAN, got ", info.uri_sans.size()));
  }
  absl::StatusOr<Identity> identity = ParseSpiffeUri(info.uri_sans.front());
  if (!identity.ok()) return fail(identity.status().message());
  return identity;
}

}  // namespace meshd::ca
