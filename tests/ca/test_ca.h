// Helpers shared by the CA tests: throwaway CAs, temporary directories, CSR tampering and a few
// fixed keys the CA must refuse. Not thread-safe (tests only).
#pragma once

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "ca/key_cert_bundle.h"
#include "ca/openssl.h"

namespace meshd::ca::testing {

// The value of `v`, failing the test (with the status) when there is none.
template <typename T>
T Unwrap(absl::StatusOr<T> v) {
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  return *std::move(v);
}

struct TestCa {
  PrivateKey key;
  Certificate cert;
};

inline TestCa MakeRoot(absl::Time now, const std::string& org = "test-root",
                       absl::Duration ttl = absl::Hours(24 * 365)) {
  PrivateKey key = Unwrap(PrivateKey::Generate(KeyType::kEcdsaP256));
  CertificateTemplate tmpl;
  tmpl.organization = org;
  tmpl.not_before = now - absl::Hours(1);
  tmpl.not_after = now + ttl;
  tmpl.is_ca = true;
  tmpl.key_usage = kKeyCertSign | kCrlSign;
  Certificate cert = Unwrap(IssueCertificate(tmpl, key.public_key(), nullptr, key));
  return TestCa{key, cert};
}

inline TestCa MakeIntermediate(const TestCa& parent, absl::Time now, const std::string& org,
                               absl::Duration ttl = absl::Hours(24 * 300)) {
  PrivateKey key = Unwrap(PrivateKey::Generate(KeyType::kEcdsaP256));
  CertificateTemplate tmpl;
  tmpl.organization = org;
  tmpl.not_before = now - absl::Hours(1);
  tmpl.not_after = now + ttl;
  tmpl.is_ca = true;
  tmpl.key_usage = kKeyCertSign | kCrlSign;
  Certificate cert = Unwrap(IssueCertificate(tmpl, key.public_key(), &parent.cert, parent.key));
  return TestCa{key, cert};
}

inline std::shared_ptr<const KeyCertBundle> SelfSignedBundle(const TestCa& root, absl::Time now) {
  return std::make_shared<const KeyCertBundle>(
      Unwrap(KeyCertBundle::Create(root.cert, root.key, {}, {root.cert}, now)));
}

inline BundleSource Fixed(std::shared_ptr<const KeyCertBundle> bundle) {
  return [bundle] { return bundle; };
}

struct Csr {
  PrivateKey key;
  std::string pem;
};

inline Csr MakeCsr(KeyType type = KeyType::kEcdsaP256, const CsrTemplate& tmpl = {}) {
  PrivateKey key = Unwrap(PrivateKey::Generate(type));
  std::string pem = Unwrap(CreateCsr(key, tmpl));
  return Csr{key, pem};
}

// `pem` with the last byte of its DER flipped: for a CSR or certificate that is inside the
// signature, so the object still parses but its signature no longer verifies.
inline std::string CorruptSignature(const std::string& pem) {
  std::vector<std::string> lines = absl::StrSplit(pem, '\n', absl::SkipEmpty());
  REQUIRE(lines.size() >= 3);
  std::string body;
  for (size_t i = 1; i + 1 < lines.size(); ++i) body += lines[i];
  std::string der;
  REQUIRE(absl::Base64Unescape(body, &der));
  der.back() ^= 0x01;
  std::string encoded = absl::Base64Escape(der);
  std::string out = lines.front() + "\n";
  for (size_t i = 0; i < encoded.size(); i += 64) out += encoded.substr(i, 64) + "\n";
  return out + lines.back() + "\n";
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "meshd-ca-test-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  REQUIRE(out.good());
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// CSRs for keys the CA refuses (made with the openssl CLI; subject O=test, no SANs).
inline constexpr char kRsa1024Csr[] = R"(-----BEGIN CERTIFICATE REQUEST-----
MIIBTjCBuAIBADAPMQ0wCwYDVQQKDAR0ZXN0MIGfMA0GCSqGSIb3DQEBAQUAA4GN
ADCBiQKBgQDHmA2/QNpaK/9mQJM5o5fQTlI6e3y9x3tfaYQ+1bAXUpeKUkPJzXh/
+KcTexV/431XbeWzZniNf+vYfNAJjX1VeIHBZEmeZRgDcHLPf2kiIbVFaevOeAzX
uti1VJ4Re41TSynIfm+FqRVUAKMwS4c/cLB9b13CjtBiZeG35yTxVwIDAQABoAAw
DQYJKoZIhvcNAQELBQADgYEAD+cg+pRAeEpZdLgUPdyATDNuZxjdoNkob1R3Hq3Z
v+fJx9fOgTQcHgMYEv0y/VKJh/6lspEsd264k6tUYsZDmxGKP6I+qOuItrEr5nhd
DiWAnh6m/nZeXvkVMvCQtNrcnpCfAdpUhKc9fhtnKD7lxezp8y8fw+Eb/ctn/Yrt
9Ok=
-----END CERTIFICATE REQUEST-----
)";

inline constexpr char kEd25519Csr[] = R"(-----BEGIN CERTIFICATE REQUEST-----
MIGOMEICAQAwDzENMAsGA1UECgwEdGVzdDAqMAUGAytlcAMhAPpKnedi+z/z9J8C
90oTz3dMEENlAqAv3YZwTA0UxFUooAAwBQYDK2VwA0EADG6VVbuW44Wa7ncDshST
ux5Nj/WQ1OOUQW9MKJHwWZDFUlGb1l5S6kPnKdAwi0DgOU2a5uf1gsBG4CLukA/U
DQ==
-----END CERTIFICATE REQUEST-----
)";

inline constexpr char kP521Csr[] = R"(-----BEGIN CERTIFICATE REQUEST-----
MIIBUTCBtAIBADAPMQ0wCwYDVQQKDAR0ZXN0MIGbMBAGByqGSM49AgEGBSuBBAAj
A4GGAAQAd+xakuieJaAwq/ERLq9LHaGa1EIiXfoSEnXubKmV/VyRMoq2f0zzjRTz
fxpqxXeoVa+Mt2yhoaA+V9Vt6hEKy14AuUR6byIJ4aCNTo9qjOLlv3ZgDPdXpcQ3
19JJDf66rQJ+qR07xZk6YMTgpj2TBgczxBs87rmZftsKUpbhTE+O3/WgADAKBggq
hkjOPQQDAgOBiwAwgYcCQX2PKV+5AWGiwB3syYKPrH+uM55sLaALZq1ubE4YnTZg
+vKlXoGTrN3kTF5T33cJkA9maNQIRMoYQghj0wZCF1ECAkIAq6Dwt9oLsdIWr0pd
fjU1u6m3LgK8XKcHWmYnFYpVqEu8Xn3H4RZyiFMsg83iBVzjpM8oFxSh3NZWEU2f
AmA2zqQ=
-----END CERTIFICATE REQUEST-----
)";

}  // namespace meshd::ca::testing
