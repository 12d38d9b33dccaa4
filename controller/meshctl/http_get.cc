#include "controller/meshctl/http_get.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace meshd::meshctl {
namespace {

// Waits for `events` on fd until `deadline`; false on timeout or error.
bool WaitFor(int fd, short events, absl::Time deadline) {
  int ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
  if (ms <= 0) return false;
  pollfd p{fd, events, 0};
  return poll(&p, 1, ms) == 1;
}

}  // namespace

std::string UrlEncode(const std::string& value) {
  std::string out;
  for (unsigned char c : value) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += absl::StrCat("%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

absl::StatusOr<HttpResult> HttpGet(const std::string& base, const std::string& path,
                                   absl::Duration timeout) {
  std::string hostport = base;
  if (absl::StartsWith(hostport, "http://")) hostport = hostport.substr(7);
  if (absl::StartsWith(hostport, "https://")) {
    return absl::InvalidArgumentError("https is not supported; use meshd's plain monitoring port");
  }
  while (absl::EndsWith(hostport, "/")) hostport.pop_back();
  size_t colon = hostport.rfind(':');
  if (colon == std::string::npos) return absl::InvalidArgumentError("address needs host:port");
  std::string host = hostport.substr(0, colon);
  std::string port = hostport.substr(colon + 1);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]"))
    host = host.substr(1, host.size() - 2);
  const absl::Time deadline = absl::Now() + timeout;

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", hostport, ": ", gai_strerror(rc)));
  }
  std::string last_error = "no address";
  int fd = -1;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int rc = connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS && WaitFor(fd, POLLOUT, deadline)) {
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err == 0 ? 0 : err;
    } else if (rc != 0 && errno == EINPROGRESS) {
      errno = ETIMEDOUT;
    }
    if (rc == 0) break;
    last_error = strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to meshd at ", hostport, ": ", last_error));
  }
  std::string request = absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: ", hostport,
                                     "\r\nAccept: */*\r\nConnection: close\r\n\r\n");
  size_t off = 0;
  while (off < request.size()) {
    if (!WaitFor(fd, POLLOUT, deadline)) break;
    ssize_t n = send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[65536];
  bool timed_out = off < request.size();
  while (!timed_out) {
    if (!WaitFor(fd, POLLIN, deadline)) {
      timed_out = true;
      break;
    }
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  size_t head_end = raw.find("\r\n\r\n");
  if (timed_out || head_end == std::string::npos) {
    return absl::UnavailableError(absl::StrCat(
        "meshd at ", hostport, timed_out ? " did not answer in time" : " closed the connection",
        " (restarting?)"));
  }
  HttpResult result;
  std::vector<std::string> status_line = absl::StrSplit(raw.substr(0, raw.find("\r\n")), ' ');
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &result.status)) {
    return absl::UnavailableError(absl::StrCat("meshd at ", hostport, ": malformed response"));
  }
  std::string head = raw.substr(0, head_end);
  std::string body = raw.substr(head_end + 4);
  if (absl::StrContains(absl::AsciiStrToLower(head), "transfer-encoding: chunked")) {
    std::string decoded;
    size_t pos = 0;
    while (pos < body.size()) {
      size_t eol = body.find("\r\n", pos);
      if (eol == std::string::npos) break;
      size_t len = std::strtoul(body.substr(pos, eol - pos).c_str(), nullptr, 16);
      if (len == 0) break;
      decoded += body.substr(eol + 2, len);
      pos = eol + 2 + len + 2;
    }
    body = std::move(decoded);
  }
  result.body = std::move(body);
  return result;
}

}  // namespace meshd::meshctl
