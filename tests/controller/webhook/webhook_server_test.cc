// The webhook server over real TLS on 127.0.0.1: AdmissionReview in, AdmissionReview out;
// bad bodies get 400/413; a new certificate is served to the next connection.
#include "controller/webhook/webhook_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

#include <catch2/catch.hpp>
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "controller/common/metrics.h"

namespace meshd::webhook {
namespace {

using json = nlohmann::json;

struct KeyCert {
  std::string key_pem, cert_pem;
};

// A self-signed certificate for "istiod.istio-system.svc" with a given serial.
KeyCert SelfSigned(long serial) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("istiod.istio-system.svc"), -1,
                             -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  auto pem = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string out(data, n);
    BIO_free(bio);
    return out;
  };
  KeyCert kc;
  kc.key_pem = pem(
      [key](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
  kc.cert_pem = pem([cert](BIO* b) { PEM_write_bio_X509(b, cert); });
  X509_free(cert);
  EVP_PKEY_free(key);
  return kc;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

struct Reply {
  int status = 0;
  std::string body;
  long serial = -1;  // of the server's certificate
};

// One HTTPS request over a new connection (no certificate verification: the test checks the
// served certificate's serial instead).
Reply Post(int port, const std::string& path, const std::string& body) {
  Reply reply;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return reply;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) == 1) {
    X509* peer = SSL_get1_peer_certificate(ssl);
    if (peer) {
      reply.serial = ASN1_INTEGER_get(X509_get_serialNumber(peer));
      X509_free(peer);
    }
    std::string req = absl::StrCat("POST ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                                   "Content-Type: application/json\r\nConnection: close\r\n",
                                   "Content-Length: ", body.size(), "\r\n\r\n", body);
    SSL_write(ssl, req.data(), static_cast<int>(req.size()));
    std::string resp;
    char buf[4096];
    int n;
    while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) resp.append(buf, n);
    if (resp.size() > 12) reply.status = std::stoi(resp.substr(9, 3));
    if (auto p = resp.find("\r\n\r\n"); p != std::string::npos) reply.body = resp.substr(p + 4);
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);
  return reply;
}

json GoodSpec() {
  return {{"hosts", {"r"}}, {"http", {{{"route", {{{"destination", {{"host", "r"}}}}}}}}}};
}

json VsReview(const json& spec) {
  return {
      {"apiVersion", "admission.k8s.io/v1"},
      {"kind", "AdmissionReview"},
      {"request",
       {{"uid", "abc"},
        {"kind", {{"group", "networking.istio.io"}, {"version", "v1"}, {"kind", "VirtualService"}}},
        {"namespace", "default"},
        {"name", "r"},
        {"operation", "CREATE"},
        {"object",
         {{"apiVersion", "networking.istio.io/v1"},
          {"kind", "VirtualService"},
          {"metadata", {{"name", "r"}, {"namespace", "default"}}},
          {"spec", spec}}}}}};
}

double Counter(const std::string& webhook, const std::string& result) {
  std::string text = Metrics::Get().Serialize();
  std::string needle = absl::StrCat("meshd_webhook_requests_total{result=\"", result,
                                    "\",webhook=\"", webhook, "\"} ");
  auto p = text.find(needle);
  return p == std::string::npos ? 0 : std::stod(text.substr(p + needle.size()));
}

TEST_CASE("WebhookServer serves /validate and /inject over TLS", "[webhook][tls]") {
  absl::Mutex mu;
  KeyCert current = SelfSigned(1);
  int port = FreePort();
  WebhookServer::Options options;
  options.address = absl::StrCat("127.0.0.1:", port);
  options.max_body_bytes = 64 * 1024;
  WebhookServer server(options, [&](std::string* chain, std::string* key) {
    absl::MutexLock lock(&mu);
    *chain = current.cert_pem;
    *key = current.key_pem;
    return true;
  });
  REQUIRE(server.Start().ok());
  CHECK(server.Serving());

  Reply good = Post(port, "/validate", VsReview(GoodSpec()).dump());
  CHECK(good.serial == 1);
  REQUIRE(good.status == 200);
  json doc = json::parse(good.body);
  CHECK(doc["response"]["uid"] == "abc");
  CHECK(doc["response"]["allowed"] == true);

  double denied_before = Counter("validate", "denied");
  Reply bad = Post(port, "/validate", VsReview({{"hosts", json::array({1})}}).dump());
  REQUIRE(bad.status == 200);
  doc = json::parse(bad.body);
  CHECK(doc["response"]["allowed"] == false);
  CHECK(doc["response"]["status"]["message"].get<std::string>().rfind(
            "VirtualService default/r: spec.hosts[0]: ", 0) == 0);
  CHECK(Counter("validate", "denied") == denied_before + 1);

  double bad_before = Counter("validate", "bad_request");
  Reply garbage = Post(port, "/validate", "\x01\x02 not json");
  CHECK(garbage.status == 400);
  CHECK(garbage.body == "bad AdmissionReview: body: not valid JSON\n");
  CHECK(Counter("validate", "bad_request") == bad_before + 1);

  Reply big = Post(port, "/validate", std::string(65 * 1024, 'x'));
  CHECK(big.status == 413);

  // /inject/<anything> (istiod's /inject/cluster/X/net/Y) is the injector too.
  json pod_review = {{"apiVersion", "admission.k8s.io/v1"},
                     {"kind", "AdmissionReview"},
                     {"request",
                      {{"uid", "p1"},
                       {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                       {"namespace", "default"},
                       {"operation", "CREATE"},
                       {"object",
                        {{"apiVersion", "v1"},
                         {"kind", "Pod"},
                         {"metadata", {{"name", "p"}}},
                         {"spec", {{"containers", {{{"name", "app"}, {"image", "x"}}}}}}}}}}};
  Reply inject = Post(port, "/inject/cluster/Kubernetes/net/n1", pod_review.dump());
  REQUIRE(inject.status == 200);
  doc = json::parse(inject.body);
  CHECK(doc["response"]["allowed"] == true);
  CHECK(doc["response"]["patchType"] == "JSONPatch");
  std::string patch;
  REQUIRE(absl::Base64Unescape(doc["response"]["patch"].get<std::string>(), &patch));
  json patched = pod_review["request"]["object"].patch(json::parse(patch));
  CHECK(patched["spec"]["containers"][1]["name"] == "istio-proxy");

  CHECK(Post(port, "/other", "{}").status == 404);

  // A re-issued certificate is served to the next connection, without a restart.
  {
    absl::MutexLock lock(&mu);
    current = SelfSigned(2);
  }
  CHECK(Post(port, "/validate", VsReview(GoodSpec()).dump()).serial == 2);
  server.Stop();
  CHECK_FALSE(server.Serving());
}

}  // namespace
}  // namespace meshd::webhook
