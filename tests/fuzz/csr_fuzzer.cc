// libFuzzer target: a CSR from a caller (CreateCertificate's `csr` field) through the CA's
// parser and the Signer's checks, with a fixed CA so an accepted CSR is also signed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "ca/identity.h"
#include "ca/key_cert_bundle.h"
#include "ca/openssl.h"
#include "ca/signer.h"
#include "controller/common/clock.h"
#include "tests/fuzz/fuzz_util.h"

namespace meshd::fuzz {
namespace {

constexpr absl::Duration kYear = absl::Hours(24 * 365);

struct Fixture {
  FakeClock clock{absl::FromUnixSeconds(1700000000)};
  std::shared_ptr<const ca::KeyCertBundle> bundle;
  std::unique_ptr<ca::Signer> signer;

  Fixture() {
    auto key = ca::PrivateKey::Generate(ca::KeyType::kEcdsaP256);
    if (!key.ok()) std::abort();
    ca::CertificateTemplate tmpl;
    tmpl.organization = "fuzz-root";
    tmpl.not_before = clock.Now() - absl::Hours(1);
    tmpl.not_after = clock.Now() + kYear;
    tmpl.is_ca = true;
    tmpl.key_usage = ca::kKeyCertSign | ca::kCrlSign;
    auto cert = ca::IssueCertificate(tmpl, key->public_key(), nullptr, *key);
    if (!cert.ok()) std::abort();
    auto b = ca::KeyCertBundle::Create(*cert, *key, {}, {*cert}, clock.Now());
    if (!b.ok()) std::abort();
    bundle = std::make_shared<const ca::KeyCertBundle>(*std::move(b));
    std::shared_ptr<const ca::KeyCertBundle> fixed = bundle;
    signer = std::make_unique<ca::Signer>(
        ca::SignerOptions{}, [fixed] { return fixed; }, &clock);
  }
};

}  // namespace
}  // namespace meshd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshd;
  static fuzz::Fixture* fixture = new fuzz::Fixture();
  std::string pem = fuzz::PemOrDer("CERTIFICATE REQUEST", data, size);
  auto fast = ca::ParseCsr(pem);
  auto general = ca::ParseCsrGeneral(pem);
  // The fast path and the general parser agree on what is a valid CSR.
  if (fast.ok() != general.ok()) std::abort();
  if (fast.ok() && (fast->uri_sans != general->uri_sans || fast->dns_sans != general->dns_sans)) {
    std::abort();
  }
  ca::Identity caller{"", "default", "sleep"};
  (void)fixture->signer->Sign(pem, caller, absl::Hours(1));
  return 0;
}
