// libFuzzer target: certificate chains from outside: a client certificate presented on the
// secure port (the path of ClientCertAuthenticator::AuthenticatePem: parse, verify against the
// CA's bundle, read SANs, parse the SPIFFE URI), and plug-in CA material (cacerts: ca-cert.pem,
// ca-key.pem, cert-chain.pem, root-cert.pem), given as four parts separated by "\n====\n".
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "ca/identity.h"
#include "ca/key_cert_bundle.h"
#include "ca/openssl.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

struct Root {
  meshd::ca::PrivateKey key;
  meshd::ca::Certificate cert;
};

Root* MakeRoot() {
  using namespace meshd::ca;
  auto key = PrivateKey::Generate(KeyType::kEcdsaP256);
  if (!key.ok()) std::abort();
  CertificateTemplate tmpl;
  tmpl.organization = "fuzz-root";
  tmpl.not_before = kNow - absl::Hours(1);
  tmpl.not_after = kNow + absl::Hours(24 * 365);
  tmpl.is_ca = true;
  tmpl.key_usage = kKeyCertSign | kCrlSign;
  auto cert = IssueCertificate(tmpl, key->public_key(), nullptr, *key);
  if (!cert.ok()) std::abort();
  return new Root{*key, *cert};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshd;
  static Root* root = MakeRoot();
  if (size == 0) return 0;
  if (data[0] & 2) {  // plug-in CA material
    std::vector<std::string> parts = absl::StrSplit(fuzz::Bytes(data + 1, size - 1), "\n====\n");
    parts.resize(4);
    (void)ca::KeyCertBundle::FromPem(parts[0], parts[1], parts[2], parts[3], kNow);
    (void)ca::Certificate::ChainFromPem(parts[2]);
    return 0;
  }
  // A client certificate.
  std::string pem = fuzz::PemOrDer("CERTIFICATE", data, size);
  auto leaf = ca::Certificate::FromPem(pem);
  if (!leaf.ok()) return 0;
  (void)leaf->ToDer();
  (void)leaf->public_key();
  ca::CertificateInfo info = leaf->Info();
  (void)ca::VerifyChain(*leaf, {}, {root->cert}, kNow);
  for (const std::string& uri : info.uri_sans) (void)ca::ParseSpiffeUri(uri);
  return 0;
}
