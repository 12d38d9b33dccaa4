// xds_load: the xDS load benchmark of issue 5. It writes a generated mesh (S ServiceEntries
// with E static endpoints, DestinationRules and V weighted VirtualServices) into a temporary
// config dir, starts meshd on it, connects N proxyless-gRPC proxies (or Envoy sidecars, --mode
// envoy) over ADS — State of the World, or Delta with --delta — with the gRPC callback client
// API (no thread per stream), each watching K services and following LDS → RDS → CDS → EDS
// like gRPC's xDS client, ACKing every response. It measures the connect storm, a
// VirtualService weight change and an endpoint change, and meshd's RSS/CPU; then it runs the
// same load against a replay server (this binary with --serve-replay, both protocols) that
// answers from the resources captured from meshd — the transport floor. It prints one table
// and the command line that reproduces it.
//
// Threads: main drives the phases; gRPC's callback threads run the reactors. Per-stream
// read state is touched only by that stream's read callbacks (reads are serialized); the
// write queue has its own mutex; cross-thread results go through atomics.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"

namespace meshd::bench {
namespace {

using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using Clock = std::chrono::steady_clock;

constexpr int kLds = 0, kRds = 1, kCds = 2, kEds = 3, kTypes = 4;
const char* const kTypeUrls[kTypes] = {
    "type.googleapis.com/envoy.config.listener.v3.Listener",
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
    "type.googleapis.com/envoy.config.cluster.v3.Cluster",
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
};

int TypeIndex(const std::string& url) {
  for (int t = 0; t < kTypes; ++t) {
    if (url == kTypeUrls[t]) return t;
  }
  return -1;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// ---------------------------------------------------------------------------------------
// Options

struct Options {
  std::string meshd;
  // "sotw": proxyless gRPC proxies (GENERATOR=grpc) watching K services; "envoy": Istio
  // sidecars (no GENERATOR) subscribing LDS/CDS wildcard, then RDS/EDS as Envoy does.
  std::string mode = "sotw";
  bool envoy = false;
  bool sidecar_scope = false;  // a Sidecar (egress ./* and istio-system/*) per namespace
  bool delta = false;          // Incremental (Delta) ADS instead of State of the World
  int proxies = 10000;
  int services = 1000;
  int endpoints = 10;
  int watch = 20;
  int virtual_services = 100;
  int namespaces = 10;
  int port = 9080;
  // 0: the mode's default — 200 proxyless streams share a connection; every sidecar has its
  // own (each pilot-agent dials meshd), so Envoy mode defaults to 1.
  int streams_per_channel = 0;
  int changes = 5;
  double settle_s = 2.0;
  double storm_timeout_s = 600;
  double change_timeout_s = 30;
  std::string meshd_log_level = "warn";
  std::string meshd_args;  // extra flags, space separated
  bool floor = true;
  bool keep = false;
  // --serve-replay FILE (internal: the replay server child)
  std::string serve_replay;
};

std::string Usage() {
  return "usage: xds_load --meshd PATH [--mode sotw|envoy] [--delta] [--sidecar-scope]\n"
         "  [--proxies 10000] [--services 1000]\n"
         "  [--endpoints 10] [--watch 20] [--virtual-services 100] [--namespaces 10]\n"
         "  [--streams-per-channel 200 (envoy: 1)] [--changes 5] [--settle 2] [--storm-timeout "
         "600]\n"
         "  [--change-timeout 30] [--meshd-log-level warn] [--meshd-args \"...\"]\n"
         "  [--no-floor] [--keep]\n";
}

bool ParseFlags(int argc, char** argv, Options* o, std::string* err) {
  std::map<std::string, std::function<bool(const std::string&)>> flags;
  auto str = [](std::string* f) {
    return [f](const std::string& v) {
      *f = v;
      return true;
    };
  };
  auto num = [](int* f, int min) {
    return [f, min](const std::string& v) {
      char* end = nullptr;
      long x = std::strtol(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || x < min) return false;
      *f = static_cast<int>(x);
      return true;
    };
  };
  auto dbl = [](double* f) {
    return [f](const std::string& v) {
      char* end = nullptr;
      double x = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0' || x < 0) return false;
      *f = x;
      return true;
    };
  };
  flags["meshd"] = str(&o->meshd);
  flags["mode"] = str(&o->mode);
  flags["proxies"] = num(&o->proxies, 1);
  flags["services"] = num(&o->services, 2);
  flags["endpoints"] = num(&o->endpoints, 1);
  flags["watch"] = num(&o->watch, 1);
  flags["virtual-services"] = num(&o->virtual_services, 1);
  flags["namespaces"] = num(&o->namespaces, 1);
  flags["streams-per-channel"] = num(&o->streams_per_channel, 1);
  flags["changes"] = num(&o->changes, 0);
  flags["settle"] = dbl(&o->settle_s);
  flags["storm-timeout"] = dbl(&o->storm_timeout_s);
  flags["change-timeout"] = dbl(&o->change_timeout_s);
  flags["meshd-log-level"] = str(&o->meshd_log_level);
  flags["meshd-args"] = str(&o->meshd_args);
  flags["serve-replay"] = str(&o->serve_replay);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--no-floor") {
      o->floor = false;
      continue;
    }
    if (a == "--keep") {
      o->keep = true;
      continue;
    }
    if (a == "--sidecar-scope") {
      o->sidecar_scope = true;
      continue;
    }
    if (a == "--delta") {
      o->delta = true;
      continue;
    }
    if (a == "--help" || a == "-h") {
      *err = Usage();
      return false;
    }
    if (a.rfind("--", 0) != 0) {
      *err = "unexpected argument " + a + "\n" + Usage();
      return false;
    }
    a = a.substr(2);
    std::string v;
    if (auto eq = a.find('='); eq != std::string::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < argc) {
      v = argv[++i];
    } else {
      *err = "flag --" + a + " needs a value";
      return false;
    }
    auto it = flags.find(a);
    if (it == flags.end()) {
      *err = "unknown flag --" + a + "\n" + Usage();
      return false;
    }
    if (!it->second(v)) {
      *err = "bad value for --" + a + ": " + v;
      return false;
    }
  }
  if (o->mode != "sotw" && o->mode != "envoy") {
    *err = "--mode " + o->mode + ": sotw (proxyless gRPC) or envoy (sidecars)";
    return false;
  }
  o->envoy = o->mode == "envoy";
  if (o->streams_per_channel == 0) o->streams_per_channel = o->envoy ? 1 : 200;
  if (!o->serve_replay.empty()) return true;
  if (o->meshd.empty()) {
    *err = "--meshd PATH is required\n" + Usage();
    return false;
  }
  if (o->watch > o->services) o->watch = o->services;
  if (o->virtual_services > o->services) o->virtual_services = o->services;
  return true;
}

// ---------------------------------------------------------------------------------------
// The generated mesh

std::string Ns(int j, const Options& o) { return "ns-" + std::to_string(j % o.namespaces); }
std::string Host(int j, const Options& o) {
  return "svc-" + std::to_string(j) + "." + Ns(j, o) + ".svc.cluster.local";
}
std::string ListenerName(int j, const Options& o) {
  return Host(j, o) + ":" + std::to_string(o.port);
}
std::string DefaultCluster(int j, const Options& o) {
  return "outbound|" + std::to_string(o.port) + "||" + Host(j, o);
}
std::string EndpointAddress(int j, int e, const Options& o) {
  int idx = j * o.endpoints + e + 1;
  return "10." + std::to_string((idx >> 16) & 127) + "." + std::to_string((idx >> 8) & 255) + "." +
         std::to_string(idx & 255);
}
// The endpoint change swaps endpoint 0 of the target service between its address and this.
std::string ChangedAddress() { return "10.254.254.254"; }

constexpr int kBaseWeight = 80, kChangedWeight = 60;
// The VS change targets service 0, the endpoint change service 1 (both have a DR when V > 1).
constexpr int kVsTarget = 0;
constexpr int kEdsTarget = 1;

bool WriteFileAtomic(const std::string& dir, const std::string& name, const std::string& text) {
  std::string tmp = dir + "/." + name + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    if (!f) return false;
    f << text;
    if (!f.good()) return false;
  }
  return std::rename(tmp.c_str(), (dir + "/" + name).c_str()) == 0;
}

std::string ServiceEntryYaml(int j, const Options& o, bool changed) {
  std::ostringstream y;
  y << "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: svc-" << j
    << "\n  namespace: " << Ns(j, o) << "\nspec:\n  hosts:\n  - " << Host(j, o)
    << "\n  location: MESH_INTERNAL\n  resolution: STATIC\n  ports:\n  - number: " << o.port
    << (o.envoy ? "\n    name: http\n    protocol: HTTP" : "\n    name: grpc\n    protocol: GRPC")
    << "\n  endpoints:\n";
  for (int e = 0; e < o.endpoints; ++e) {
    y << "  - address: " << (changed && e == 0 ? ChangedAddress() : EndpointAddress(j, e, o))
      << "\n    labels:\n      app: svc-" << j << "\n      version: " << (e % 2 == 0 ? "v1" : "v2")
      << "\n";
    // Sidecar-injected workloads carry this label; Envoy's auto mTLS keys on it.
    if (o.envoy) y << "      security.istio.io/tlsMode: istio\n";
  }
  return y.str();
}

std::string DestinationRuleYaml(int j, const Options& o) {
  std::ostringstream y;
  y << "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: svc-" << j
    << "\n  namespace: " << Ns(j, o) << "\nspec:\n  host: " << Host(j, o)
    << "\n  subsets:\n  - name: v1\n    labels:\n      version: v1\n"
    << "  - name: v2\n    labels:\n      version: v2\n";
  return y.str();
}

std::string VirtualServiceYaml(int j, const Options& o, int w1) {
  std::ostringstream y;
  y << "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: svc-" << j
    << "\n  namespace: " << Ns(j, o) << "\nspec:\n  hosts:\n  - " << Host(j, o)
    << "\n  http:\n  - route:\n    - destination:\n        host: " << Host(j, o)
    << "\n        subset: v1\n      weight: " << w1
    << "\n    - destination:\n        host: " << Host(j, o)
    << "\n        subset: v2\n      weight: " << (100 - w1) << "\n";
  return y.str();
}

// The namespace-scoped Sidecar of the "scoped" variant: only the namespace's own services
// and istio-system's are visible (istio's recommended default for large meshes).
std::string SidecarYaml(int ns, const Options& o) {
  std::ostringstream y;
  y << "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: default\n"
    << "  namespace: " << Ns(ns, o) << "\nspec:\n  egress:\n  - hosts:\n    - \"./*\"\n"
    << "    - \"istio-system/*\"\n";
  return y.str();
}

bool WriteMesh(const std::string& dir, const Options& o) {
  if (o.sidecar_scope) {
    for (int n = 0; n < o.namespaces; ++n) {
      if (!WriteFileAtomic(dir, "sidecar-" + std::to_string(n) + ".yaml", SidecarYaml(n, o)))
        return false;
    }
  }
  for (int j = 0; j < o.services; ++j) {
    if (!WriteFileAtomic(dir, "se-" + std::to_string(j) + ".yaml", ServiceEntryYaml(j, o, false)))
      return false;
    if (j < o.virtual_services) {
      if (!WriteFileAtomic(dir, "dr-" + std::to_string(j) + ".yaml", DestinationRuleYaml(j, o)) ||
          !WriteFileAtomic(dir, "vs-" + std::to_string(j) + ".yaml",
                           VirtualServiceYaml(j, o, kBaseWeight)))
        return false;
    }
  }
  return true;
}

// Proxy i watches K distinct services, chosen pseudo-randomly (fixed seed per proxy), so
// views differ the way real workloads' dependencies do.
std::vector<int> WatchSet(int i, const Options& o) {
  if (o.envoy) return {};  // sidecars take everything visible (wildcard LDS/CDS)
  std::mt19937 rng(static_cast<uint32_t>(i) * 2654435761u + 12345u);
  std::set<int> picked;
  std::uniform_int_distribution<int> pick(0, o.services - 1);
  while (static_cast<int>(picked.size()) < o.watch) picked.insert(pick(rng));
  return {picked.begin(), picked.end()};
}

// Envoy mode: sidecar i is the workload behind endpoint (i / S) % E of service i % S, so it
// has that endpoint's IP, namespace and labels, and meshd generates its inbound side.
int SidecarService(int i, const Options& o) { return i % o.services; }
int SidecarEndpoint(int i, const Options& o) { return (i / o.services) % o.endpoints; }

// Whether sidecar i sees service j: always, unless the Sidecar scope limits it to its namespace.
bool SidecarSees(int i, int j, const Options& o) {
  return !o.sidecar_scope || Ns(SidecarService(i, o), o) == Ns(j, o);
}

// ---------------------------------------------------------------------------------------
// Processes

struct ProcStats {
  long rss_kb = 0;
  long hwm_kb = 0;
  double cpu_s = 0;
};

ProcStats ReadProc(pid_t pid) {
  ProcStats s;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::atol(line.c_str() + 6);
    if (line.rfind("VmHWM:", 0) == 0) s.hwm_kb = std::atol(line.c_str() + 6);
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto rp = all.rfind(')');
  if (rp != std::string::npos) {
    std::istringstream in(all.substr(rp + 2));
    std::string f;
    std::vector<std::string> fields;
    while (in >> f) fields.push_back(f);
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    if (fields.size() > 13) {
      double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      s.cpu_s = (std::atof(fields[11].c_str()) + std::atof(fields[12].c_str())) / ticks;
    }
  }
  return s;
}

double SelfCpu() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// A port nothing listens on, for a server started later. Chosen below the kernel's ephemeral
// range (ip_local_port_range), as tests/e2e/harness.py's free_port: a port from bind(0) is an
// ephemeral one, which an outgoing connection (this generator's own streams, or another
// test's) can take as its source port before meshd binds it. Never hands a port out twice.
int FreePort() {
  static std::set<int> handed_out;
  static std::mt19937 rng(std::random_device{}());
  int low = 32768;
  {
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    int first = 0;
    if (range >> first && first > 1024) low = first;
  }
  std::uniform_int_distribution<int> pick(std::max(1024, low - 12000), low - 1);
  auto bindable = [](int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    int bound = -1;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
      socklen_t len = sizeof(a);
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
      bound = ntohs(a.sin_port);
    }
    close(fd);
    return bound;
  };
  for (int i = 0; i < 200; ++i) {
    int port = pick(rng);
    if (handed_out.count(port) || bindable(port) != port) continue;
    handed_out.insert(port);
    return port;
  }
  return bindable(0);  // the whole range below is taken: an ephemeral port, as before
}

// Whether something accepts TCP connections on 127.0.0.1:port.
bool Accepting(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  close(fd);
  return ok;
}

int HttpStatus(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  int status = -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
    std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[64] = {0};
      ssize_t n = read(fd, buf, sizeof(buf) - 1);
      if (n > 12) status = std::atoi(buf + 9);
    }
  }
  close(fd);
  return status;
}

// Starts `args` with stdout to `stdout_fd` (or the log) and stderr to `log_path`. The child
// dies with us (PR_SET_PDEATHSIG), so nothing is left behind even if we are killed.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log_path, int stdout_fd) {
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (log >= 0) {
      dup2(stdout_fd >= 0 ? stdout_fd : log, 1);
      dup2(log, 2);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (log >= 0) close(log);
  return pid;
}

void Stop(pid_t pid) {
  if (pid <= 0) return;
  int st = 0;
  if (waitpid(pid, &st, WNOHANG) != 0) return;  // already exited (and reaped)
  kill(pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    pid_t w = waitpid(pid, &st, WNOHANG);
    if (w == pid || w < 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

bool Alive(pid_t pid) {
  int st = 0;
  return waitpid(pid, &st, WNOHANG) == 0;
}

// ---------------------------------------------------------------------------------------
// Captured resources (from meshd, for the replay server)

// Per type: key → Any, where the key is the resource name, prefixed in Envoy mode with the
// proxy's view ("<namespace>/"; sidecars of one namespace get the same config here).
// Sections: the base config, then the VS and EDS changes.
using Table = std::array<std::unordered_map<std::string, google::protobuf::Any>, kTypes>;

struct Capture {
  std::mutex mu;
  Table base, vs, eds;
  std::atomic<bool> base_on{false};
};

// Records: section, type, key, Any (length-prefixed strings).
void WriteString(std::ofstream& f, const std::string& v) {
  uint64_t n = v.size();
  f.write(reinterpret_cast<const char*>(&n), sizeof(n));
  f.write(v.data(), static_cast<std::streamsize>(v.size()));
}

bool ReadString(std::ifstream& f, std::string* v) {
  uint64_t n = 0;
  if (!f.read(reinterpret_cast<char*>(&n), sizeof(n))) return false;
  v->assign(n, '\0');
  return static_cast<bool>(f.read(v->data(), static_cast<std::streamsize>(n)));
}

bool SaveCapture(Capture& c, const std::string& path) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  std::lock_guard<std::mutex> lock(c.mu);
  const std::pair<const char*, Table*> sections[] = {
      {"base", &c.base}, {"vs", &c.vs}, {"eds", &c.eds}};
  for (const auto& [label, table] : sections) {
    for (int t = 0; t < kTypes; ++t) {
      for (const auto& [key, any] : (*table)[t]) {
        WriteString(f, label);
        WriteString(f, std::to_string(t));
        WriteString(f, key);
        WriteString(f, any.SerializeAsString());
      }
    }
  }
  return f.good();
}

bool LoadCapture(const std::string& path, Table* base, Table* vs, Table* eds) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::string label, type, key, bytes;
  while (ReadString(f, &label)) {
    if (!ReadString(f, &type) || !ReadString(f, &key) || !ReadString(f, &bytes)) return false;
    int t = std::atoi(type.c_str());
    if (t < 0 || t >= kTypes) return false;
    google::protobuf::Any any;
    if (!any.ParseFromString(bytes)) return false;
    Table* table = label == "base" ? base : label == "vs" ? vs : eds;
    (*table)[t][key] = std::move(any);
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// The replay server: the transport floor. Answers each SotW request from the captured
// resources (no generation); SIGUSR1 toggles the VS change, SIGUSR2 the endpoint change and
// pushes the changed type to the streams that subscribe to a changed name.

class ReplayServer;

// A replay stream of either protocol, as the server's change fan-out sees it.
class ReplayTarget {
 public:
  virtual ~ReplayTarget() = default;
  // Pushes type `t` if the stream subscribes to any of `names` (capture keys).
  virtual void Push(int t, const std::unordered_map<std::string, google::protobuf::Any>& names) = 0;
};

class ReplayStream : public grpc::ServerBidiReactor<DiscoveryRequest, DiscoveryResponse>,
                     public ReplayTarget {
 public:
  explicit ReplayStream(ReplayServer* server) : server_(server) {}
  void Begin() { StartRead(&request_); }
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;
  void Push(int t, const std::unordered_map<std::string, google::protobuf::Any>& names) override;

 private:
  void QueueLocked(int t);  // composes the type's response into the write queue
  void Flush(std::unique_lock<std::mutex>& lock);

  ReplayServer* const server_;
  DiscoveryRequest request_;
  std::mutex mu_;
  std::array<std::vector<std::string>, kTypes> names_;
  std::array<std::string, kTypes> nonce_;
  std::string view_;  // Envoy mode: "<namespace>/", from the first request's node
  uint64_t nonces_ = 0;
  std::deque<DiscoveryResponse> writes_;
  DiscoveryResponse current_;
  bool writing_ = false;
  bool finishing_ = false;  // the client is gone: no more writes
  bool finished_ = false;   // Finish called
};

// The floor for Delta: the same captured resources, with Delta's bookkeeping — a subscribed
// name is answered once, a change sends only the changed resources a stream subscribes.
class ReplayDeltaStream
    : public grpc::ServerBidiReactor<DeltaDiscoveryRequest, DeltaDiscoveryResponse>,
      public ReplayTarget {
 public:
  explicit ReplayDeltaStream(ReplayServer* server) : server_(server) {}
  void Begin() { StartRead(&request_); }
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;
  void Push(int t, const std::unordered_map<std::string, google::protobuf::Any>& names) override;

 private:
  // Queues a response of type `t` with the resources of `names` (first: even if empty).
  void QueueLocked(int t, const std::vector<std::string>& names);
  void Flush(std::unique_lock<std::mutex>& lock);

  ReplayServer* const server_;
  DeltaDiscoveryRequest request_;
  std::mutex mu_;
  std::array<std::set<std::string>, kTypes> subscribed_;
  std::array<bool, kTypes> answered_{};  // a first response of the type was sent
  std::string view_;                     // Envoy mode: "<namespace>/", from the first node
  uint64_t nonces_ = 0;
  std::deque<DeltaDiscoveryResponse> writes_;
  DeltaDiscoveryResponse current_;
  bool writing_ = false;
  bool finishing_ = false;  // the client is gone: no more writes
  bool finished_ = false;   // Finish called
};

class ReplayServer final : public AggregatedDiscoveryService::CallbackService {
 public:
  Table base, vs, eds;
  bool envoy = false;
  // Envoy mode: view → per type the names a wildcard (LDS/CDS) subscription gets, sorted.
  std::map<std::string, std::array<std::vector<std::string>, kTypes>> wildcard;

  void IndexViews() {
    for (int t = 0; t < kTypes; ++t) {
      for (const auto& [key, any] : base[t]) {
        auto slash = key.find('/');
        if (slash == std::string::npos) continue;
        wildcard[key.substr(0, slash + 1)][t].push_back(key.substr(slash + 1));
      }
    }
    for (auto& [view, types] : wildcard) {
      for (auto& names : types) std::sort(names.begin(), names.end());
    }
  }
  std::atomic<bool> vs_on{false}, eds_on{false};
  std::atomic<uint64_t> version{1};

  grpc::ServerBidiReactor<DiscoveryRequest, DiscoveryResponse>* StreamAggregatedResources(
      grpc::CallbackServerContext*) override {
    auto* s = new ReplayStream(this);
    {
      std::lock_guard<std::mutex> lock(mu_);
      streams_.insert(s);
    }
    s->Begin();
    return s;
  }

  grpc::ServerBidiReactor<DeltaDiscoveryRequest, DeltaDiscoveryResponse>* DeltaAggregatedResources(
      grpc::CallbackServerContext*) override {
    auto* s = new ReplayDeltaStream(this);
    {
      std::lock_guard<std::mutex> lock(mu_);
      streams_.insert(s);
    }
    s->Begin();
    return s;
  }

  const google::protobuf::Any* Find(int t, const std::string& name) const {
    if (vs_on.load(std::memory_order_acquire)) {
      if (auto it = vs[t].find(name); it != vs[t].end()) return &it->second;
    }
    if (eds_on.load(std::memory_order_acquire)) {
      if (auto it = eds[t].find(name); it != eds[t].end()) return &it->second;
    }
    auto it = base[t].find(name);
    return it == base[t].end() ? nullptr : &it->second;
  }

  void Toggle(bool is_vs) {
    std::atomic<bool>& flag = is_vs ? vs_on : eds_on;
    flag.store(!flag.load());
    version++;
    const Table& changed = is_vs ? vs : eds;
    std::lock_guard<std::mutex> lock(mu_);  // streams stay alive while listed
    for (auto* s : streams_) {
      for (int t = 0; t < kTypes; ++t) {
        if (!changed[t].empty()) s->Push(t, changed[t]);
      }
    }
  }

  void Remove(ReplayTarget* s) {
    std::lock_guard<std::mutex> lock(mu_);
    streams_.erase(s);
  }

 private:
  std::mutex mu_;
  std::unordered_set<ReplayTarget*> streams_;
};

void ReplayStream::OnReadDone(bool ok) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!ok) {
    finishing_ = true;
    if (!writing_ && !finished_) {
      finished_ = true;
      lock.unlock();
      Finish(grpc::Status::OK);
    }
    return;
  }
  if (request_.has_node() && server_->envoy) {
    const auto& md = request_.node().metadata().fields();
    if (auto it = md.find("NAMESPACE"); it != md.end()) view_ = it->second.string_value() + "/";
  }
  int t = TypeIndex(request_.type_url());
  if (t >= 0) {
    const std::string& nonce = request_.response_nonce();
    bool stale = !nonce.empty() && nonce != nonce_[t];
    std::vector<std::string> names(request_.resource_names().begin(),
                                   request_.resource_names().end());
    if (names.empty() && server_->envoy && (t == kLds || t == kCds)) {
      auto it = server_->wildcard.find(view_);
      if (it != server_->wildcard.end()) names = it->second[t];
    }
    std::sort(names.begin(), names.end());
    if (!stale && !request_.has_error_detail() && (nonce.empty() || names != names_[t])) {
      names_[t] = std::move(names);
      QueueLocked(t);
    }
  }
  Flush(lock);
  StartRead(&request_);
}

void ReplayStream::Push(int t,
                        const std::unordered_map<std::string, google::protobuf::Any>& names) {
  std::unique_lock<std::mutex> lock(mu_);
  if (finishing_) return;
  bool hit = false;
  for (const auto& n : names_[t]) {
    if (names.count(view_ + n)) {
      hit = true;
      break;
    }
  }
  if (!hit) return;
  QueueLocked(t);
  Flush(lock);
}

void ReplayStream::QueueLocked(int t) {
  DiscoveryResponse r;
  r.set_type_url(kTypeUrls[t]);
  r.set_version_info(std::to_string(server_->version.load()));
  r.set_nonce(std::to_string(++nonces_));
  nonce_[t] = r.nonce();
  for (const auto& n : names_[t]) {
    if (const auto* any = server_->Find(t, view_ + n)) *r.add_resources() = *any;
  }
  for (auto& w : writes_) {
    if (w.type_url() == r.type_url()) {
      w = std::move(r);
      return;
    }
  }
  writes_.push_back(std::move(r));
}

void ReplayStream::Flush(std::unique_lock<std::mutex>& lock) {
  if (writing_ || writes_.empty() || finishing_) return;
  current_ = std::move(writes_.front());
  writes_.pop_front();
  writing_ = true;
  lock.unlock();
  StartWrite(&current_);
  lock.lock();
}

void ReplayStream::OnWriteDone(bool ok) {
  std::unique_lock<std::mutex> lock(mu_);
  writing_ = false;
  if (!ok) writes_.clear();  // the stream is broken; the failing read finishes it
  if (finishing_) {
    if (!finished_) {
      finished_ = true;
      lock.unlock();
      Finish(grpc::Status::OK);
    }
    return;
  }
  Flush(lock);
}

void ReplayStream::OnDone() {
  server_->Remove(this);
  delete this;
}

void ReplayDeltaStream::OnReadDone(bool ok) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!ok) {
    finishing_ = true;
    if (!writing_ && !finished_) {
      finished_ = true;
      lock.unlock();
      Finish(grpc::Status::OK);
    }
    return;
  }
  if (request_.has_node() && server_->envoy) {
    const auto& md = request_.node().metadata().fields();
    if (auto it = md.find("NAMESPACE"); it != md.end()) view_ = it->second.string_value() + "/";
  }
  int t = TypeIndex(request_.type_url());
  if (t >= 0) {
    // An ACK or NACK (a nonce) needs no answer; only new names do.
    std::vector<std::string> fresh;
    const bool first = !answered_[t] && request_.response_nonce().empty();
    if (first && request_.resource_names_subscribe().empty() && server_->envoy &&
        (t == kLds || t == kCds)) {
      auto it = server_->wildcard.find(view_);
      if (it != server_->wildcard.end()) fresh = it->second[t];
    }
    for (const auto& n : request_.resource_names_subscribe()) fresh.push_back(n);
    for (const auto& n : request_.resource_names_unsubscribe()) subscribed_[t].erase(n);
    std::vector<std::string> added;
    for (auto& n : fresh) {
      if (subscribed_[t].insert(n).second) added.push_back(std::move(n));
    }
    if (first || !added.empty()) QueueLocked(t, added);
  }
  Flush(lock);
  StartRead(&request_);
}

void ReplayDeltaStream::Push(int t,
                             const std::unordered_map<std::string, google::protobuf::Any>& names) {
  std::unique_lock<std::mutex> lock(mu_);
  if (finishing_) return;
  std::vector<std::string> hit;
  for (const auto& [key, any] : names) {
    if (key.compare(0, view_.size(), view_) != 0) continue;
    std::string n = key.substr(view_.size());
    if (subscribed_[t].count(n)) hit.push_back(std::move(n));
  }
  if (hit.empty()) return;
  std::sort(hit.begin(), hit.end());
  QueueLocked(t, hit);
  Flush(lock);
}

void ReplayDeltaStream::QueueLocked(int t, const std::vector<std::string>& names) {
  DeltaDiscoveryResponse r;
  r.set_type_url(kTypeUrls[t]);
  std::string version = std::to_string(server_->version.load());
  r.set_system_version_info(version);
  r.set_nonce(std::to_string(++nonces_));
  for (const auto& n : names) {
    if (const auto* any = server_->Find(t, view_ + n)) {
      auto* res = r.add_resources();
      res->set_name(n);
      res->set_version(version);
      *res->mutable_resource() = *any;
    }
  }
  answered_[t] = true;
  writes_.push_back(std::move(r));  // in order: each one is a difference to the one before
}

void ReplayDeltaStream::Flush(std::unique_lock<std::mutex>& lock) {
  if (writing_ || writes_.empty() || finishing_) return;
  current_ = std::move(writes_.front());
  writes_.pop_front();
  writing_ = true;
  lock.unlock();
  StartWrite(&current_);
  lock.lock();
}

void ReplayDeltaStream::OnWriteDone(bool ok) {
  std::unique_lock<std::mutex> lock(mu_);
  writing_ = false;
  if (!ok) writes_.clear();  // the stream is broken; the failing read finishes it
  if (finishing_) {
    if (!finished_) {
      finished_ = true;
      lock.unlock();
      Finish(grpc::Status::OK);
    }
    return;
  }
  Flush(lock);
}

void ReplayDeltaStream::OnDone() {
  server_->Remove(this);
  delete this;
}

int ServeReplay(const Options& o) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGUSR1, SIGUSR2, SIGTERM, SIGINT}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before gRPC starts threads
  auto service = std::make_unique<ReplayServer>();
  if (!LoadCapture(o.serve_replay, &service->base, &service->vs, &service->eds)) {
    std::fprintf(stderr, "replay: cannot read %s\n", o.serve_replay.c_str());
    return 1;
  }
  service->envoy = o.envoy;
  if (o.envoy) service->IndexViews();
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service.get());
  builder.SetMaxReceiveMessageSize(-1);
  builder.SetMaxSendMessageSize(-1);
  auto server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "replay: cannot listen\n");
    return 1;
  }
  std::printf("READY %d\n", port);
  std::fflush(stdout);
  while (true) {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig == SIGUSR1) service->Toggle(true);
    if (sig == SIGUSR2) service->Toggle(false);
    if (sig == SIGTERM || sig == SIGINT) break;
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}

// ---------------------------------------------------------------------------------------
// The load generator

struct Load;

// A change being measured: which kind, its sequence number and expected content.
struct ChangeState {
  std::atomic<int> seq{0};   // 0: none armed
  std::atomic<int> kind{0};  // 1 VS, 2 EDS
  std::atomic<int> expected_weight{kBaseWeight};
  std::atomic<bool> expect_changed_address{false};
  std::atomic<bool> capture{false};  // keep the changed resources for the replay server
  std::atomic<int> seen{0};
  Clock::time_point t0;
};

struct Load {
  Options opts;
  std::string vs_route;     // the RDS name the VS change alters
  std::string vs_vhost;     // Envoy mode: the prefix of the virtual host it alters
  std::string eds_cluster;  // the EDS name the endpoint change alters
  std::string eds_host_suffix;
  std::atomic<uint64_t> bytes{0};
  std::array<std::atomic<uint64_t>, kTypes> type_bytes{};  // serialized resources per type
  std::atomic<int> inbound{0};  // Envoy mode: proxies that got virtualInbound + inbound|port||
  std::atomic<uint64_t> responses{0};
  std::atomic<int> ready{0};
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  std::atomic<int> nacks{0};  // Delta: responses refused (a resource not of the response's type)
  Clock::time_point start;
  ChangeState change;
  Capture* capture = nullptr;
};

// A simulated proxy: what both protocols share — the node it presents, the names it
// subscribes per type, and what a resource tells it (its name, the names of the next type it
// depends on, whether it carries the measured change). The stream itself is SotwProxy's or
// DeltaProxy's. Per-proxy read state is touched only by the stream's read callbacks.
class Proxy {
 public:
  Proxy(Load* load, int index) : load_(load), index_(index) {
    const Options& o = load->opts;
    watch_ = WatchSet(index, o);
    for (int j : watch_) {
      if (j == kVsTarget) watches_vs_ = true;
      if (j == kEdsTarget) watches_eds_ = true;
    }
    if (o.envoy) {
      watches_vs_ = SidecarSees(index, kVsTarget, o);
      watches_eds_ = SidecarSees(index, kEdsTarget, o);
      view_ = Ns(SidecarService(index, o), o) + "/";
      // The first sidecar of each namespace feeds the replay server's capture.
      capture_view_ = index < std::min(o.namespaces, o.services);
    }
  }
  virtual ~Proxy() = default;

  bool watches_vs() const { return watches_vs_; }
  bool watches_eds() const { return watches_eds_; }
  double ready_s() const { return ready_s_; }
  // The latest measured change this proxy received, and how long it took.
  int seen_seq() const { return seen_seq_.load(std::memory_order_acquire); }
  double latency_ms() const { return latency_ms_.load(std::memory_order_acquire); }

  virtual void Start(AggregatedDiscoveryService::Stub* stub) = 0;
  virtual void Cancel() = 0;

 protected:
  // What one resource of a response says.
  struct Inspected {
    std::string name;
    std::vector<std::string> deps;  // names of the next type it refers to
    bool parsed = true;             // false: not a valid resource of the response's type
  };

  // The first request's node. Proxyless: GENERATOR=grpc, watching K services. Envoy: an Istio
  // sidecar as pilot-agent presents it — the pod's IP, namespace and labels, no GENERATOR.
  void FillNode(envoy::config::core::v3::Node* node) const {
    const Options& o = load_->opts;
    if (!o.envoy) {
      std::string ns = "ns-" + std::to_string(index_ % o.namespaces);
      std::string addr = ProxylessAddress();
      node->set_id("sidecar~" + addr + "~p" + std::to_string(index_) + "." + ns + "~" + ns +
                   ".svc.cluster.local");
      node->set_user_agent_name("meshd xds_load");
      auto& md = *node->mutable_metadata()->mutable_fields();
      md["NAMESPACE"].set_string_value(ns);
      md["GENERATOR"].set_string_value("grpc");
      md["INSTANCE_IPS"].set_string_value(addr);
      return;
    }
    int j = SidecarService(index_, o);
    int e = SidecarEndpoint(index_, o);
    std::string ns = Ns(j, o);
    std::string addr = EndpointAddress(j, e, o);
    std::string pod = "svc-" + std::to_string(j) + "-" + std::to_string(index_);
    node->set_id("sidecar~" + addr + "~" + pod + "." + ns + "~" + ns + ".svc.cluster.local");
    node->set_cluster("svc-" + std::to_string(j) + "." + ns);
    node->set_user_agent_name("envoy");
    auto& md = *node->mutable_metadata()->mutable_fields();
    md["NAMESPACE"].set_string_value(ns);
    md["INSTANCE_IPS"].set_string_value(addr);
    md["ISTIO_VERSION"].set_string_value("1.24.0");
    md["WORKLOAD_NAME"].set_string_value("svc-" + std::to_string(j));
    auto& labels = *md["LABELS"].mutable_struct_value()->mutable_fields();
    labels["app"].set_string_value("svc-" + std::to_string(j));
    labels["version"].set_string_value(e % 2 == 0 ? "v1" : "v2");
    labels["security.istio.io/tlsMode"].set_string_value("istio");
  }

  std::string ProxylessAddress() const {
    int ip = index_ + 1;
    return "10." + std::to_string(128 + ((ip >> 16) & 127)) + "." +
           std::to_string((ip >> 8) & 255) + "." + std::to_string(ip & 255);
  }

  // Proxyless: the listeners of the watched services, the first subscription.
  void InitListenerNames() {
    for (int j : watch_) names_[kLds].push_back(ListenerName(j, load_->opts));
    std::sort(names_[kLds].begin(), names_[kLds].end());
  }

  // Reads the resources of a response of type `t` (`size` bytes on the wire): counts it,
  // returns each resource's name and dependencies, records a measured change it carries (the
  // latency from the change to now) and feeds the replay server's capture.
  std::vector<Inspected> Observe(int t, size_t size,
                                 const std::vector<const google::protobuf::Any*>& resources) {
    const bool envoy = load_->opts.envoy;
    load_->bytes.fetch_add(size, std::memory_order_relaxed);
    load_->type_bytes[t].fetch_add(size, std::memory_order_relaxed);
    load_->responses.fetch_add(1, std::memory_order_relaxed);
    ChangeState& ch = load_->change;
    int seq = ch.seq.load(std::memory_order_acquire);
    bool armed = seq > seen_seq_.load(std::memory_order_relaxed) &&
                 ((ch.kind.load() == 1 && t == kRds && watches_vs_) ||
                  (ch.kind.load() == 2 && t == kEds && watches_eds_));
    bool matched = false;
    bool capture_base = load_->capture && load_->capture->base_on.load(std::memory_order_relaxed) &&
                        (!envoy || capture_view_);
    std::vector<Inspected> out;
    out.reserve(resources.size());
    std::vector<std::pair<std::string, const google::protobuf::Any*>> captured;
    for (const google::protobuf::Any* any : resources) {
      Inspected& r = out.emplace_back();
      r.parsed = any->type_url() == kTypeUrls[t];
      std::set<std::string> deps;
      switch (t) {
        case kLds: {
          envoy::config::listener::v3::Listener l;
          r.parsed = l.ParseFromString(any->value()) && r.parsed;
          r.name = l.name();
          envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager
              hcm;
          if (!envoy) {
            if (l.api_listener().api_listener().UnpackTo(&hcm) && hcm.has_rds()) {
              deps.insert(hcm.rds().route_config_name());
            }
            break;
          }
          // A sidecar listener: the RDS names of its HCMs (inline route configs need none).
          for (const auto& fc : l.filter_chains()) {
            for (const auto& f : fc.filters()) {
              if (f.typed_config().Is<decltype(hcm)>() && f.typed_config().UnpackTo(&hcm) &&
                  hcm.has_rds()) {
                deps.insert(hcm.rds().route_config_name());
              }
            }
            if (r.name == "virtualInbound" && fc.filter_chain_match().destination_port().value() ==
                                                  static_cast<uint32_t>(load_->opts.port)) {
              inbound_lds_ = true;
            }
          }
          break;
        }
        case kRds: {
          envoy::config::route::v3::RouteConfiguration rc;
          r.parsed = rc.ParseFromString(any->value()) && r.parsed;
          r.name = rc.name();
          for (const auto& vh : rc.virtual_hosts()) {
            if (envoy) break;  // Envoy gets clusters from CDS, not from the routes
            for (const auto& route : vh.routes()) {
              if (!route.has_route()) continue;
              if (!route.route().cluster().empty()) deps.insert(route.route().cluster());
              for (const auto& wc : route.route().weighted_clusters().clusters()) {
                deps.insert(wc.name());
              }
            }
          }
          if (armed && r.name == load_->vs_route) {
            for (const auto& vh : rc.virtual_hosts()) {
              if (vh.name().rfind(load_->vs_vhost, 0) != 0) continue;
              for (const auto& route : vh.routes()) {
                const auto& wcs = route.route().weighted_clusters().clusters();
                if (wcs.size() > 0 &&
                    static_cast<int>(wcs[0].weight().value()) == ch.expected_weight.load()) {
                  matched = true;
                }
              }
            }
          }
          break;
        }
        case kCds: {
          envoy::config::cluster::v3::Cluster c;
          r.parsed = c.ParseFromString(any->value()) && r.parsed;
          r.name = c.name();
          if (envoy) {
            if (r.name == inbound_cluster_) inbound_cds_ = true;
            if (c.type() != envoy::config::cluster::v3::Cluster::EDS) break;
          }
          const std::string& sn = c.eds_cluster_config().service_name();
          deps.insert(sn.empty() ? c.name() : sn);
          break;
        }
        default: {
          envoy::config::endpoint::v3::ClusterLoadAssignment cla;
          r.parsed = cla.ParseFromString(any->value()) && r.parsed;
          r.name = cla.cluster_name();
          if (armed && r.name == load_->eds_cluster) {
            bool has_changed = false;
            for (const auto& le : cla.endpoints()) {
              for (const auto& ep : le.lb_endpoints()) {
                if (ep.endpoint().address().socket_address().address() == ChangedAddress()) {
                  has_changed = true;
                }
              }
            }
            matched = has_changed == ch.expect_changed_address.load();
          }
          break;
        }
      }
      r.deps.assign(deps.begin(), deps.end());
      if (capture_base || (armed && (!envoy || capture_view_))) captured.emplace_back(r.name, any);
    }
    if (capture_base) {
      std::lock_guard<std::mutex> lock(load_->capture->mu);
      for (const auto& [n, any] : captured) load_->capture->base[t].emplace(Key(n), *any);
    }
    if (armed && matched) {
      latency_ms_.store(Seconds(Clock::now() - ch.t0) * 1e3, std::memory_order_relaxed);
      seen_seq_.store(seq, std::memory_order_release);
      if (ch.capture.load() && load_->capture) {
        std::lock_guard<std::mutex> lock(load_->capture->mu);
        for (const auto& [n, any] : captured) {
          if (t == kRds && n == load_->vs_route) load_->capture->vs[t].emplace(Key(n), *any);
          if (t == kEds && n.size() > load_->eds_host_suffix.size() &&
              n.compare(n.size() - load_->eds_host_suffix.size(), std::string::npos,
                        load_->eds_host_suffix) == 0) {
            load_->capture->eds[t].emplace(Key(n), *any);
          }
        }
      }
      ch.seen.fetch_add(1, std::memory_order_release);
    }
    return out;
  }

  // After a response: counts the sidecar's inbound side and the proxy's convergence (it holds
  // all four types for all the names it subscribes).
  void NoteProgress() {
    if (load_->opts.envoy && inbound_lds_ && inbound_cds_ && !inbound_counted_) {
      inbound_counted_ = true;
      load_->inbound.fetch_add(1, std::memory_order_relaxed);
    }
    if (!ready_ && !names_[kEds].empty() && complete_[kLds] && complete_[kRds] && complete_[kCds] &&
        complete_[kEds]) {
      ready_ = true;
      ready_s_ = Seconds(Clock::now() - load_->start);
      load_->ready.fetch_add(1, std::memory_order_release);
    }
  }

  // The capture key of a resource: its name, in Envoy mode within the proxy's view.
  std::string Key(const std::string& name) const { return view_ + name; }

  Load* const load_;
  const int index_;
  // Read side (serialized by gRPC: one read at a time).
  std::array<std::vector<std::string>, kTypes> names_;  // subscribed, sorted; empty: wildcard
  std::array<bool, kTypes> complete_{};

 private:
  std::string view_;           // Envoy mode: "<namespace>/"
  bool capture_view_ = false;  // Envoy mode: this proxy's resources go to the capture
  const std::string inbound_cluster_ = "inbound|" + std::to_string(load_->opts.port) + "||";
  bool inbound_lds_ = false, inbound_cds_ = false, inbound_counted_ = false;
  std::vector<int> watch_;
  bool watches_vs_ = false;
  bool watches_eds_ = false;
  bool ready_ = false;
  double ready_s_ = 0;
  std::atomic<int> seen_seq_{0};
  std::atomic<double> latency_ms_{0};
};

// The stream of a proxy over one ADS protocol: reads one response at a time, writes requests
// from a queue (one write in flight), counts the stream's end.
template <typename Request, typename Response>
class ProxyStream : public Proxy, public grpc::ClientBidiReactor<Request, Response> {
 public:
  using Proxy::Proxy;

  void Cancel() override { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    Handle(response_);
    this->StartRead(&response_);
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock<std::mutex> lock(wmu_);
    if (!ok || queue_.empty()) {
      writing_ = false;
      return;
    }
    current_ = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    this->StartWrite(&current_);
  }

  void OnDone(const grpc::Status& status) override {
    if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
      if (load_->failed.fetch_add(1) < 3) {
        std::fprintf(stderr, "proxy %d: stream ended: %d %s\n", index_, status.error_code(),
                     status.error_message().c_str());
      }
    }
    load_->done.fetch_add(1, std::memory_order_release);
  }

 protected:
  virtual void Handle(const Response& response) = 0;
  // Whether `next` may replace the queued, unsent `queued` (it says all `queued` said).
  virtual bool Supersedes(const Request& queued, const Request& next) const = 0;

  void Send(Request req) {
    std::unique_lock<std::mutex> lock(wmu_);
    if (writing_) {
      for (auto& q : queue_) {
        if (Supersedes(q, req)) {
          q = std::move(req);
          return;
        }
      }
      queue_.push_back(std::move(req));
      return;
    }
    writing_ = true;
    current_ = std::move(req);
    lock.unlock();
    this->StartWrite(&current_);
  }

  // Sends the queued first requests and starts the stream.
  void Begin() {
    this->StartRead(&response_);
    this->StartCall();
  }

  grpc::ClientContext context_;

 private:
  Response response_;
  // Write side.
  std::mutex wmu_;
  std::deque<Request> queue_;
  Request current_;
  bool writing_ = false;
};

// State of the World, as gRPC's xDS client: each response holds every subscribed name (EDS
// may hold only the changed ones); the ACK repeats version, nonce and names; a new set of
// names for the next type is a new request of that type.
class SotwProxy final : public ProxyStream<DiscoveryRequest, DiscoveryResponse> {
 public:
  using ProxyStream::ProxyStream;

  void Start(AggregatedDiscoveryService::Stub* stub) override {
    const Options& o = load_->opts;
    stub->async()->StreamAggregatedResources(&context_, this);
    DiscoveryRequest req;
    FillNode(req.mutable_node());
    if (o.envoy) {
      // CDS then LDS, both wildcard (no names), as Envoy subscribes.
      req.set_type_url(kTypeUrls[kCds]);
      Send(std::move(req));
      DiscoveryRequest lds;
      lds.set_type_url(kTypeUrls[kLds]);
      Send(std::move(lds));
    } else {
      req.set_type_url(kTypeUrls[kLds]);
      InitListenerNames();
      for (const auto& n : names_[kLds]) req.add_resource_names(n);
      Send(std::move(req));
    }
    Begin();
  }

 private:
  bool Supersedes(const DiscoveryRequest& queued, const DiscoveryRequest& next) const override {
    // A newer request of a type says all a queued one did (names are the full set).
    return queued.type_url() == next.type_url() && !queued.has_node();
  }

  void Request(int t) {
    DiscoveryRequest req;
    req.set_type_url(kTypeUrls[t]);
    req.set_version_info(version_[t]);
    req.set_response_nonce(nonce_[t]);
    for (const auto& n : names_[t]) req.add_resource_names(n);
    Send(std::move(req));
  }

  void Handle(const DiscoveryResponse& resp) override {
    int t = TypeIndex(resp.type_url());
    if (t < 0) return;
    size_t size = resp.ByteSizeLong();
    version_[t] = resp.version_info();
    nonce_[t] = resp.nonce();
    std::vector<const google::protobuf::Any*> resources;
    resources.reserve(static_cast<size_t>(resp.resources_size()));
    for (const auto& any : resp.resources()) resources.push_back(&any);
    std::set<std::string> got, deps;
    for (auto& r : Observe(t, size, resources)) {
      deps.insert(r.deps.begin(), r.deps.end());
      got.insert(std::move(r.name));
    }
    complete_[t] = std::includes(got.begin(), got.end(), names_[t].begin(), names_[t].end());
    Request(t);  // ACK
    if (t < kEds) {
      std::vector<std::string> next(deps.begin(), deps.end());
      if (!next.empty() && next != names_[t + 1]) {
        names_[t + 1] = std::move(next);
        complete_[t + 1] = false;
        Request(t + 1);
      }
    }
    NoteProgress();
  }

  std::array<std::string, kTypes> version_, nonce_;
};

// Incremental (Delta) xDS, as Envoy and istio-agent speak it by default: the first request
// of a type subscribes its names (none: wildcard, Envoy's LDS/CDS); responses carry only
// added or changed resources and name removed ones; the client keeps what it holds and
// (un)subscribes the difference when the names it needs change. Every response is ACKed with
// its nonce, or NACKed with error_detail when a resource is not what the type says.
class DeltaProxy final : public ProxyStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
 public:
  using ProxyStream::ProxyStream;

  void Start(AggregatedDiscoveryService::Stub* stub) override {
    const Options& o = load_->opts;
    stub->async()->DeltaAggregatedResources(&context_, this);
    DeltaDiscoveryRequest req;
    FillNode(req.mutable_node());
    if (o.envoy) {
      req.set_type_url(kTypeUrls[kCds]);  // wildcard: no names
      Send(std::move(req));
      DeltaDiscoveryRequest lds;
      lds.set_type_url(kTypeUrls[kLds]);
      Send(std::move(lds));
    } else {
      req.set_type_url(kTypeUrls[kLds]);
      InitListenerNames();
      for (const auto& n : names_[kLds]) req.add_resource_names_subscribe(n);
      Send(std::move(req));
    }
    Begin();
  }

 private:
  // Every Delta request is a difference (or an ACK): none replaces another.
  bool Supersedes(const DeltaDiscoveryRequest&, const DeltaDiscoveryRequest&) const override {
    return false;
  }

  void Handle(const DeltaDiscoveryResponse& resp) override {
    int t = TypeIndex(resp.type_url());
    if (t < 0) return;
    std::vector<const google::protobuf::Any*> resources;
    resources.reserve(static_cast<size_t>(resp.resources_size()));
    for (const auto& r : resp.resources()) resources.push_back(&r.resource());
    std::vector<Inspected> seen = Observe(t, resp.ByteSizeLong(), resources);
    DeltaDiscoveryRequest reply;
    reply.set_type_url(kTypeUrls[t]);
    reply.set_response_nonce(resp.nonce());
    for (size_t i = 0; i < seen.size(); ++i) {
      if (seen[i].parsed && seen[i].name == resp.resources(static_cast<int>(i)).name()) continue;
      // A NACK refuses the whole response, as Envoy does; the client keeps what it held.
      reply.mutable_error_detail()->set_code(grpc::StatusCode::INVALID_ARGUMENT);
      reply.mutable_error_detail()->set_message("resource " + std::to_string(i) + " (\"" +
                                                resp.resources(static_cast<int>(i)).name() +
                                                "\") is not a valid " + kTypeUrls[t]);
      load_->nacks.fetch_add(1, std::memory_order_relaxed);
      Send(std::move(reply));
      return;
    }
    for (const auto& name : resp.removed_resources()) held_[t].erase(name);
    for (auto& r : seen) held_[t][r.name] = std::move(r.deps);
    complete_[t] = Holds(t);
    Send(std::move(reply));  // ACK
    Resubscribe(t);
    NoteProgress();
  }

  // Whether every subscribed name of type `t` is held (for a wildcard, once answered).
  bool Holds(int t) const {
    for (const auto& n : names_[t]) {
      if (!held_[t].count(n)) return false;
    }
    return true;
  }

  // After type `t` changed: the names the next types need, (un)subscribed as differences.
  // Envoy's CDS is a wildcard, not derived from the routes.
  void Resubscribe(int t) {
    for (int u = t; u < kEds; ++u) {
      if (load_->opts.envoy && u == kRds) return;
      std::set<std::string> want;
      for (const auto& [name, deps] : held_[u]) want.insert(deps.begin(), deps.end());
      std::vector<std::string> next(want.begin(), want.end());
      std::vector<std::string>& have = names_[u + 1];
      if (next == have) return;
      DeltaDiscoveryRequest req;
      req.set_type_url(kTypeUrls[u + 1]);
      std::vector<std::string> added, gone;
      std::set_difference(next.begin(), next.end(), have.begin(), have.end(),
                          std::back_inserter(added));
      for (auto& n : added) req.add_resource_names_subscribe(std::move(n));
      std::set_difference(have.begin(), have.end(), next.begin(), next.end(),
                          std::back_inserter(gone));
      for (const auto& n : gone) {
        req.add_resource_names_unsubscribe(n);
        held_[u + 1].erase(n);  // the server names no removal for an unsubscribed name
      }
      have = std::move(next);
      complete_[u + 1] = Holds(u + 1);
      Send(std::move(req));
      if (gone.empty()) return;  // what the type holds is unchanged: so are the types after it
    }
  }

  // Per type, the resources held: name → the names of the next type it refers to.
  std::array<std::map<std::string, std::vector<std::string>>, kTypes> held_;
};

struct Percentiles {
  int n = 0;
  double p50 = 0, p99 = 0, max = 0;
};

Percentiles Stats(std::vector<double> v) {
  Percentiles p;
  p.n = static_cast<int>(v.size());
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
    return v[std::min(i, v.size() - 1)];
  };
  p.p50 = at(0.50);
  p.p99 = at(0.99);
  p.max = v.back();
  return p;
}

struct Result {
  bool ran = false;
  bool converged = false;
  int ready = 0;
  double storm_s = 0;
  double ready_p50_s = 0;
  Percentiles vs, eds;
  int vs_expected = 0, eds_expected = 0, vs_missed = 0, eds_missed = 0;
  double vs_responses = 0, eds_responses = 0;  // all responses per change, all proxies
  uint64_t storm_bytes = 0, storm_responses = 0;
  double cpu_start = 0;  // server CPU before the load (start-up)
  double cpu_storm = 0;
  double cpu_changes = 0;
  double cpu_idle = 0;  // over a quiet window at the end
  long hwm_kb = 0, rss_kb = 0, rss_before_kb = 0;
  long rss_storm_kb = 0, rss_after_vs_kb = 0;  // right after the storm / the VS changes
  std::array<uint64_t, kTypes> storm_type_bytes{};
  int inbound = 0;  // Envoy mode: proxies that received their inbound listener and cluster
  double gen_cpu_storm = 0;
  int failed = 0;
  int nacks = 0;
};

// The server under test, as the phases see it.
struct Target {
  std::string name;
  pid_t pid = -1;
  std::string addr;
  std::function<bool(int r)> vs_change;  // change number r = 1, 2, ...
  std::function<bool(int r)> eds_change;
};

Result RunLoad(const Options& o, const Target& target, Capture* capture) {
  Result res;
  res.ran = true;
  auto load = std::make_unique<Load>();
  load->opts = o;
  load->vs_route = DefaultCluster(kVsTarget, o);
  if (o.envoy) {  // RDS "<port>", virtual host "<host>:<port>"
    load->vs_route = std::to_string(o.port);
    load->vs_vhost = Host(kVsTarget, o) + ":";
  }
  // With a VirtualService the target's routes name only its subset clusters (istiod invents no
  // catch-all route to the service itself), so a proxyless client watches subset v1, which
  // holds the changed endpoint 0; without one, the service's own cluster.
  load->eds_cluster = kEdsTarget < o.virtual_services
                          ? "outbound|" + std::to_string(o.port) + "|v1|" + Host(kEdsTarget, o)
                          : DefaultCluster(kEdsTarget, o);
  load->eds_host_suffix = "|" + Host(kEdsTarget, o);
  load->capture = capture;
  if (capture) capture->base_on = true;

  int nch = (o.proxies + o.streams_per_channel - 1) / o.streams_per_channel;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<AggregatedDiscoveryService::Stub>> stubs;
  for (int c = 0; c < nch; ++c) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("meshd.bench.channel", c);  // distinct args: never a shared subchannel
    args.SetMaxReceiveMessageSize(-1);
    // Thousands of sidecars share this one machine's kernel here, where in a mesh each has
    // its own: with gRPC's BDP probing every connection's window, and so its socket receive
    // queue, grows to MiBs, and the sum passes net.ipv4.tcp_mem — the kernel then drops
    // segments (TCPRcvQDrop) until connections abort (TCPAbortOnTimeout) and the storm
    // stalls. Fixed 64 KiB windows (gRPC's own default without BDP) keep the sum bounded
    // (125 MiB at N=2000; 256 KiB still stalled the replay floor, which has no write budget).
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 64 << 10);
    channels.push_back(
        grpc::CreateCustomChannel(target.addr, grpc::InsecureChannelCredentials(), args));
    stubs.push_back(AggregatedDiscoveryService::NewStub(channels.back()));
  }
  std::vector<std::unique_ptr<Proxy>> proxies;
  int vs_affected = 0, eds_affected = 0;
  for (int i = 0; i < o.proxies; ++i) {
    if (o.delta) {
      proxies.push_back(std::make_unique<DeltaProxy>(load.get(), i));
    } else {
      proxies.push_back(std::make_unique<SotwProxy>(load.get(), i));
    }
    vs_affected += proxies.back()->watches_vs();
    eds_affected += proxies.back()->watches_eds();
  }
  res.rss_before_kb = ReadProc(target.pid).rss_kb;
  double cpu0 = ReadProc(target.pid).cpu_s;
  res.cpu_start = cpu0;
  double gen0 = SelfCpu();
  load->start = Clock::now();
  for (int i = 0; i < o.proxies; ++i) proxies[i]->Start(stubs[i / o.streams_per_channel].get());

  // (1) Connect storm.
  auto deadline = load->start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(o.storm_timeout_s));
  int last_report = 0;
  while (load->ready.load(std::memory_order_acquire) < o.proxies && Clock::now() < deadline &&
         Alive(target.pid)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    int secs = static_cast<int>(Seconds(Clock::now() - load->start));
    if (secs >= last_report + 10) {
      last_report = secs;
      std::fprintf(stderr, "  %s: %d s, %d/%d proxies hold full config\n", target.name.c_str(),
                   secs, load->ready.load(), o.proxies);
    }
  }
  res.storm_s = Seconds(Clock::now() - load->start);
  res.ready = load->ready.load(std::memory_order_acquire);
  res.converged = res.ready == o.proxies;
  res.storm_bytes = load->bytes.load();
  res.storm_responses = load->responses.load();
  for (int t = 0; t < kTypes; ++t) res.storm_type_bytes[t] = load->type_bytes[t].load();
  res.inbound = load->inbound.load();
  res.rss_storm_kb = ReadProc(target.pid).rss_kb;
  res.gen_cpu_storm = SelfCpu() - gen0;
  double cpu1 = ReadProc(target.pid).cpu_s;
  res.cpu_storm = cpu1 - cpu0;
  {
    std::vector<double> r;
    for (const auto& p : proxies) r.push_back(p->ready_s());
    res.ready_p50_s = Stats(r).p50;
  }
  if (capture) capture->base_on = false;
  std::fprintf(stderr, "  %s: connect storm %.2f s, %d/%d converged, %.1f MiB received\n",
               target.name.c_str(), res.storm_s, res.ready, o.proxies,
               static_cast<double>(res.storm_bytes) / 1048576.0);

  // (2) and (3): VirtualService and endpoint changes.
  auto measure = [&](int kind, int r, int affected, std::vector<double>* lat, int* missed,
                     double* responses) {
    ChangeState& ch = load->change;
    std::this_thread::sleep_for(std::chrono::duration<double>(o.settle_s));
    ch.kind = kind;
    ch.expected_weight = r % 2 == 1 ? kChangedWeight : kBaseWeight;
    ch.expect_changed_address = r % 2 == 1;
    ch.capture = capture != nullptr && r == 1;
    ch.seen = 0;
    uint64_t resp0 = load->responses.load();
    ch.t0 = Clock::now();
    ch.seq.fetch_add(1, std::memory_order_release);
    bool ok = kind == 1 ? target.vs_change(r) : target.eds_change(r);
    if (!ok) {
      std::fprintf(stderr, "  %s: could not apply change\n", target.name.c_str());
      return;
    }
    auto end = ch.t0 + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(o.change_timeout_s));
    while (ch.seen.load(std::memory_order_acquire) < affected && Clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ch.kind = 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // late responses counted
    *responses += static_cast<double>(load->responses.load() - resp0);
    // One sample per affected proxy that received this change.
    int seq = ch.seq.load();
    int got = 0;
    for (const auto& p : proxies) {
      if ((kind == 1 ? p->watches_vs() : p->watches_eds()) && p->seen_seq() == seq) {
        lat->push_back(p->latency_ms());
        got++;
      }
    }
    *missed += affected - got;
  };
  std::vector<double> vs_lat, eds_lat;
  double cpu2 = ReadProc(target.pid).cpu_s;
  if (res.converged) {
    for (int r = 1; r <= o.changes; ++r) {
      measure(1, r, vs_affected, &vs_lat, &res.vs_missed, &res.vs_responses);
      res.vs_expected += vs_affected;
    }
    res.rss_after_vs_kb = ReadProc(target.pid).rss_kb;
    for (int r = 1; r <= o.changes; ++r) {
      measure(2, r, eds_affected, &eds_lat, &res.eds_missed, &res.eds_responses);
      res.eds_expected += eds_affected;
    }
  }
  double cpu3 = ReadProc(target.pid).cpu_s;
  res.cpu_changes = cpu3 - cpu2;
  if (o.changes > 0) {
    res.vs_responses /= o.changes;
    res.eds_responses /= o.changes;
  }
  res.vs = Stats(vs_lat);
  res.eds = Stats(eds_lat);
  // (4) Steady state: a quiet window.
  std::this_thread::sleep_for(std::chrono::duration<double>(std::max(1.0, o.settle_s)));
  ProcStats s0 = ReadProc(target.pid);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ProcStats s1 = ReadProc(target.pid);
  res.cpu_idle = s1.cpu_s - s0.cpu_s;
  res.hwm_kb = s1.hwm_kb;
  res.rss_kb = s1.rss_kb;

  for (auto& p : proxies) p->Cancel();
  auto end = Clock::now() + std::chrono::seconds(30);
  while (load->done.load(std::memory_order_acquire) < o.proxies && Clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  res.failed = load->failed.load();
  res.nacks = load->nacks.load();
  if (load->done.load() < o.proxies) {
    std::fprintf(stderr, "  %s: %d streams did not end; leaking them\n", target.name.c_str(),
                 o.proxies - load->done.load());
    for (auto& p : proxies) p.release();
    load.release();
  }
  return res;
}

// ---------------------------------------------------------------------------------------
// The table

std::string Fmt(double v, int prec = 2) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", prec, v);
  return buf;
}

std::string Ratio(double a, double b) {
  if (b <= 0) return "-";
  return Fmt(a / b, 1) + "×";
}

std::string ShellQuote(const std::string& s) {
  if (!s.empty() && s.find_first_of(" \t\"'$\\|&;<>()*?") == std::string::npos) return s;
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

void PrintTable(const Options& o, const Result& m, const Result& f, int argc, char** argv) {
  struct Row {
    std::string metric, meshd, floor, ratio, target;
  };
  std::vector<Row> rows;
  auto both = [&](const std::string& name, double a, double b, int prec, const std::string& tgt) {
    rows.push_back(
        {name, Fmt(a, prec), f.ran ? Fmt(b, prec) : "-", f.ran ? Ratio(a, b) : "-", tgt});
  };
  both("connect storm: all proxies full config (s)", m.storm_s, f.storm_s, 2, "≤ 30");
  both("  proxies converged", m.ready, f.ready, 0, std::to_string(o.proxies));
  both("  median proxy full config (s)", m.ready_p50_s, f.ready_p50_s, 2, "");
  both("  bytes received (MiB)", static_cast<double>(m.storm_bytes) / 1048576.0,
       static_cast<double>(f.storm_bytes) / 1048576.0, 1, "");
  both("  responses received", static_cast<double>(m.storm_responses),
       static_cast<double>(f.storm_responses), 0, "");
  both("  server CPU (s)", m.cpu_storm, f.cpu_storm, 2, "≤ 2× floor");
  both("  server CPU per MiB sent (ms)",
       m.storm_bytes ? m.cpu_storm * 1e3 / (static_cast<double>(m.storm_bytes) / 1048576.0) : 0,
       f.storm_bytes ? f.cpu_storm * 1e3 / (static_cast<double>(f.storm_bytes) / 1048576.0) : 0, 1,
       "≤ 2× floor");
  both("  load generator CPU (s)", m.gen_cpu_storm, f.gen_cpu_storm, 2, "");
  if (o.envoy) {
    both("  proxies with inbound listener + cluster", m.inbound, f.inbound, 0,
         std::to_string(o.proxies));
    const char* const type_names[kTypes] = {"LDS", "RDS", "CDS", "EDS"};
    for (int t = 0; t < kTypes; ++t) {
      both(std::string("  KiB per proxy, ") + type_names[t],
           static_cast<double>(m.storm_type_bytes[t]) / 1024.0 / o.proxies,
           static_cast<double>(f.storm_type_bytes[t]) / 1024.0 / o.proxies, 1, "");
    }
  }
  std::string vsn =
      " (" + std::to_string(m.vs.n) + " receipts, " + std::to_string(m.vs_missed) + " missed)";
  both("VS weight change → new RDS p50 (ms)", m.vs.p50, f.vs.p50, 1, "");
  both("VS weight change → new RDS p99 (ms)", m.vs.p99, f.vs.p99, 1, "≤ 1000");
  both("VS weight change → new RDS max (ms)" + vsn, m.vs.max, f.vs.max, 1, "");
  both("  responses per VS change (all proxies, all types)", m.vs_responses, f.vs_responses, 0, "");
  std::string edn =
      " (" + std::to_string(m.eds.n) + " receipts, " + std::to_string(m.eds_missed) + " missed)";
  both("endpoint change → new EDS p50 (ms)", m.eds.p50, f.eds.p50, 1, "");
  both("endpoint change → new EDS p99 (ms)", m.eds.p99, f.eds.p99, 1, "≤ 200");
  both("endpoint change → new EDS max (ms)" + edn, m.eds.max, f.eds.max, 1, "");
  both("  responses per endpoint change", m.eds_responses, f.eds_responses, 0, "");
  both("  server CPU over all changes (s)", m.cpu_changes, f.cpu_changes, 2, "");
  both("server RSS before load (MiB)", m.rss_before_kb / 1024.0, f.rss_before_kb / 1024.0, 0, "");
  both("server RSS after the connect storm (MiB)", m.rss_storm_kb / 1024.0, f.rss_storm_kb / 1024.0,
       0, o.envoy ? "≤ 512" : "");
  both("server RSS after the VS changes (MiB)", m.rss_after_vs_kb / 1024.0,
       f.rss_after_vs_kb / 1024.0, 0, o.envoy ? "≤ 512" : "");
  both("server RSS peak, VmHWM (MiB)", m.hwm_kb / 1024.0, f.hwm_kb / 1024.0, 0, "");
  both("server RSS steady (MiB)", m.rss_kb / 1024.0, f.rss_kb / 1024.0, 0,
       o.envoy ? "≤ 512" : "≤ 1024");
  both("server CPU idle, 2 s window (s)", m.cpu_idle, f.cpu_idle, 2, "");
  both("server CPU start-up (s)", m.cpu_start, f.cpu_start, 2, "");

  size_t w[5] = {6, 5, 5, 5, 6};
  auto width = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // UTF-8 code points
    return n;
  };
  for (const auto& r : rows) {
    w[0] = std::max(w[0], width(r.metric));
    w[1] = std::max(w[1], width(r.meshd));
    w[2] = std::max(w[2], width(r.floor));
    w[3] = std::max(w[3], width(r.ratio));
    w[4] = std::max(w[4], width(r.target));
  }
  auto cell = [&](const std::string& s, size_t n) { return s + std::string(n - width(s), ' '); };
  auto line = [&](const Row& r) {
    std::printf("| %s | %s | %s | %s | %s |\n", cell(r.metric, w[0]).c_str(),
                cell(r.meshd, w[1]).c_str(), cell(r.floor, w[2]).c_str(),
                cell(r.ratio, w[3]).c_str(), cell(r.target, w[4]).c_str());
  };
  std::printf(
      "\nxDS load: N=%d proxies, S=%d services × E=%d endpoints, K=%d watched, V=%d VS, "
      "%d namespaces, %d streams/channel, %d changes each, mode %s (%s)%s\n\n",
      o.proxies, o.services, o.endpoints, o.watch, o.virtual_services, o.namespaces,
      o.streams_per_channel, o.changes, o.mode.c_str(), o.delta ? "Delta" : "State of the World",
      o.sidecar_scope ? ", Sidecar per namespace (./*, istio-system/*)" : "");
  line({"metric", "meshd", "floor", "ratio", "target"});
  std::printf("|%s|%s|%s|%s|%s|\n", std::string(w[0] + 2, '-').c_str(),
              std::string(w[1] + 2, '-').c_str(), std::string(w[2] + 2, '-').c_str(),
              std::string(w[3] + 2, '-').c_str(), std::string(w[4] + 2, '-').c_str());
  for (const auto& r : rows) line(r);
  std::string cmd;
  for (int i = 0; i < argc; ++i) cmd += (i ? " " : "") + ShellQuote(argv[i]);
  std::printf("\nreproduce: %s\n", cmd.c_str());
  std::printf(
      "effective: --mode %s%s%s --proxies %d --services %d --endpoints %d --watch %d "
      "--virtual-services %d --namespaces %d --streams-per-channel %d --changes %d "
      "--settle %g --meshd-log-level %s%s\n",
      o.mode.c_str(), o.delta ? " --delta" : "", o.sidecar_scope ? " --sidecar-scope" : "",
      o.proxies, o.services, o.endpoints, o.watch, o.virtual_services, o.namespaces,
      o.streams_per_channel, o.changes, o.settle_s, o.meshd_log_level.c_str(),
      o.floor ? "" : " --no-floor");
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  Options o;
  std::string err;
  if (!ParseFlags(argc, argv, &o, &err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (!o.serve_replay.empty()) return ServeReplay(o);
  signal(SIGPIPE, SIG_IGN);

  char tmpl[] = "/tmp/meshd-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  std::string work = tmpl;
  std::string cfg = work + "/mesh";
  mkdir(cfg.c_str(), 0755);
  if (!WriteMesh(cfg, o)) {
    std::fprintf(stderr, "cannot write the mesh to %s\n", cfg.c_str());
    return 1;
  }
  std::fprintf(stderr, "xds_load: mesh in %s (%d services, %d VS)\n", cfg.c_str(), o.services,
               o.virtual_services);

  // meshd
  // Every port meshd opens is a free one, so a run never collides with tests or another meshd.
  int grpc_port = FreePort(), http_port = FreePort(), mon_port = FreePort();
  int secure_port = FreePort(), webhook_port = FreePort();
  std::vector<std::string> margs = {o.meshd,
                                    "--configDir",
                                    cfg,
                                    "--grpcAddr",
                                    "127.0.0.1:" + std::to_string(grpc_port),
                                    "--httpAddr",
                                    "127.0.0.1:" + std::to_string(http_port),
                                    "--monitoringAddr",
                                    "127.0.0.1:" + std::to_string(mon_port),
                                    "--secureGRPCAddr",
                                    "127.0.0.1:" + std::to_string(secure_port),
                                    "--webhookAddr",
                                    "127.0.0.1:" + std::to_string(webhook_port),
                                    "--log_output_level",
                                    o.meshd_log_level};
  {
    std::istringstream extra(o.meshd_args);
    std::string a;
    while (extra >> a) margs.push_back(a);
  }
  pid_t meshd = Spawn(margs, work + "/meshd.log", -1);
  auto t_spawn = Clock::now();
  bool ready = false;
  while (Clock::now() - t_spawn < std::chrono::seconds(120)) {
    if (!Alive(meshd)) break;
    // meshd answers /ready once its config is synced, which can be before its gRPC port is
    // bound (the CA starts in between); a stream started then fails at once (no
    // wait_for_ready), so the gRPC port must accept connections too.
    if (HttpStatus(http_port, "/ready") == 200 && Accepting(grpc_port)) {
      ready = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!ready) {
    std::fprintf(stderr, "meshd did not become ready; see %s/meshd.log\n", work.c_str());
    Stop(meshd);
    return 1;
  }
  std::fprintf(stderr, "xds_load: meshd ready in %.2f s (pid %d)\n",
               Seconds(Clock::now() - t_spawn), meshd);

  Capture capture;
  Target mt;
  mt.name = "meshd";
  mt.pid = meshd;
  mt.addr = "127.0.0.1:" + std::to_string(grpc_port);
  mt.vs_change = [&](int r) {
    return WriteFileAtomic(cfg, "vs-" + std::to_string(kVsTarget) + ".yaml",
                           VirtualServiceYaml(kVsTarget, o, r % 2 ? kChangedWeight : kBaseWeight));
  };
  mt.eds_change = [&](int r) {
    return WriteFileAtomic(cfg, "se-" + std::to_string(kEdsTarget) + ".yaml",
                           ServiceEntryYaml(kEdsTarget, o, r % 2 == 1));
  };
  Result m = RunLoad(o, mt, o.floor ? &capture : nullptr);
  bool meshd_alive = Alive(meshd);
  Stop(meshd);
  if (!meshd_alive) std::fprintf(stderr, "meshd died; see %s/meshd.log\n", work.c_str());

  Result f;
  bool floor_ok = true;
  if (o.floor && m.converged) {
    std::string cap = work + "/capture.bin";
    SaveCapture(capture, cap);
    int pipefd[2];
    if (pipe(pipefd) != 0) return 1;
    pid_t replay = Spawn({"/proc/self/exe", "--serve-replay", cap, "--mode", o.mode},
                         work + "/replay.log", pipefd[1]);
    close(pipefd[1]);
    std::string line;
    char c;
    while (read(pipefd[0], &c, 1) == 1 && c != '\n') line += c;
    close(pipefd[0]);
    if (line.rfind("READY ", 0) != 0) {
      std::fprintf(stderr, "replay server did not start; see %s/replay.log\n", work.c_str());
      Stop(replay);
      floor_ok = false;
    } else {
      Target ft;
      ft.name = "floor";
      ft.pid = replay;
      ft.addr = "127.0.0.1:" + line.substr(6);
      ft.vs_change = [replay](int) { return kill(replay, SIGUSR1) == 0; };
      ft.eds_change = [replay](int) { return kill(replay, SIGUSR2) == 0; };
      f = RunLoad(o, ft, nullptr);
      Stop(replay);
      floor_ok = f.converged;
    }
  }
  PrintTable(o, m, f, argc, argv);
  bool ok = m.converged && meshd_alive && floor_ok && m.vs_missed == 0 && m.eds_missed == 0 &&
            m.nacks == 0 && f.nacks == 0;
  std::string nacks =
      o.delta ? ", " + std::to_string(m.nacks) + "+" + std::to_string(f.nacks) + " NACKs" : "";
  std::printf("result: %s (meshd %d/%d converged, %d+%d change receipts missed%s%s)\n",
              ok ? "PASS" : "FAIL", m.ready, o.proxies, m.vs_missed, m.eds_missed, nacks.c_str(),
              o.floor ? (floor_ok ? "; floor ok" : "; floor FAILED") : "");
  if (!o.keep && ok) {
    std::string rm = "rm -rf " + ShellQuote(work);
    if (std::system(rm.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", work.c_str());
  } else {
    std::fprintf(stderr, "xds_load: kept %s (meshd.log, mesh/)\n", work.c_str());
  }
  std::fflush(stdout);
  // Streams that never ended are deliberately leaked; exit without running gRPC teardown.
  std::_Exit(ok ? 0 : 1);
}

}  // namespace
}  // namespace meshd::bench

int main(int argc, char** argv) { return meshd::bench::Main(argc, argv); }
