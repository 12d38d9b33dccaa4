"""Shared pieces of the end-to-end tests: free ports, processes that stop with the test,
waiting on a condition (wait_until), meshd (Meshd: its ports, start-up, restart on the same
ports), the test API server (FakeApi: tokens, kubeconfig), echo backends, and the two real xDS
clients (C++ and Node) driven over stdin."""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PROCS = []


def log(msg):
    print(msg, flush=True)


_HANDED_OUT = set()


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A port nothing listens on, for a server started later. Chosen below the kernel's
    ephemeral range: a port from bind(0) is an ephemeral one, which the outgoing connections of
    the processes under test (informers, clients) may take as their source port before the
    server binds it — a flake seen as "cannot serve gRPC on 127.0.0.1:<port>"."""
    low = _ephemeral_low()
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(max(1024, low - 12000), low)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(args, env=None, stdout=subprocess.PIPE, stderr=None, stdin=subprocess.PIPE):
    p = subprocess.Popen(args, env=env, stdout=stdout, stderr=stderr, stdin=stdin, text=True)
    PROCS.append(p)
    return p


def stop_all():
    for p in reversed(PROCS):
        if p.poll() is None:
            p.terminate()
    deadline = time.time() + 5
    for p in PROCS:
        try:
            p.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)
    log("ok   " + msg)


def wait_until(cond, what, timeout=20, interval=0.1, proc=None, tail=None):
    """Polls cond() (an exception counts as not yet) until it holds, at most `timeout` seconds;
    returns its last value or raises Failure naming `what`. A `proc` that exits meanwhile fails
    at once; `tail()` (a log tail) is added to the failure."""
    deadline = time.time() + timeout
    last = None
    while True:
        if proc is not None and proc.poll() is not None:
            raise Failure(f"{what}: process exited with {proc.returncode}"
                          + (f"\n{tail()}" if tail else ""))
        try:
            last = cond()
            if last:
                return last
        except Exception:  # a server that is not up yet, a file not written yet
            last = None
        if time.time() >= deadline:
            raise Failure(f"{what}: not within {timeout} s" + (f"\n{tail()}" if tail else ""))
        time.sleep(interval)


def http_get(url, timeout=2):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


class Meshd:
    """One meshd process on ports of its own: plaintext xDS (`grpc`), TLS xDS and CA
    (`secure`), HTTP (`http`, /ready), monitoring and debug (`mon`), admission webhooks
    (`webhook`). Its output goes to <workdir>/<name>.log (appended: a restart keeps the first
    run's lines)."""

    def __init__(self, binary, config_dir, workdir, extra=(), name="meshd", env=None,
                 ports=None):
        """config_dir=None runs without --configDir (e.g. on --kubeconfig alone). `ports`
        (another Meshd's ports()) restarts on the same ports."""
        self.grpc, self.secure, self.http, self.mon, self.webhook = (
            ports or [free_port() for _ in range(5)])
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.log_file = open(self.log_path, "a")
        source = ["--configDir", config_dir] if config_dir is not None else []
        # The admission webhooks (TLS) on a port of their own, unless the test chose one.
        if "--webhookAddr" not in extra:
            source += ["--webhookAddr", f"127.0.0.1:{self.webhook}"]
        self.proc = spawn([binary, *source,
                           "--grpcAddr", f"127.0.0.1:{self.grpc}",
                           "--httpAddr", f"127.0.0.1:{self.http}",
                           "--monitoringAddr", f"127.0.0.1:{self.mon}",
                           "--secureGRPCAddr", f"127.0.0.1:{self.secure}",
                           "--caStateDir", os.path.join(workdir, "ca"), *extra],
                          stdout=self.log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                          env=env)

    def ports(self):
        return [self.grpc, self.secure, self.http, self.mon, self.webhook]

    def wait(self, cond, what, timeout=30):
        """wait_until(cond) while this meshd runs; its log tail on failure."""
        return wait_until(cond, what, timeout=timeout, proc=self.proc, tail=self.log_tail)

    def wait_ready(self, timeout=20):
        self.wait(lambda: http_get(f"http://127.0.0.1:{self.http}/ready")[0] == 200,
                  "meshd ready", timeout=timeout)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)

    def get_json(self, path):
        _, body = http_get(f"http://127.0.0.1:{self.mon}{path}")
        return json.loads(body)

    def metrics(self):
        _, body = http_get(f"http://127.0.0.1:{self.mon}/metrics")
        return body

    def log_text(self):
        self.log_file.flush()
        with open(self.log_path) as f:
            return f.read()

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])


class FakeApi:
    """The test API server (tests/kube/fake_apiserver.py) on a port it picks; kill() and
    start() restart it on the same port (from `state_file`, when given)."""

    SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kube",
                          "fake_apiserver.py")

    def __init__(self, workdir, state_file=None, bookmark_secs=None):
        self.workdir = workdir
        self.state = state_file
        self.bookmark_secs = bookmark_secs
        self.port = 0
        self.proc = None
        self.start()

    def start(self):
        args = [sys.executable, self.SCRIPT, "--port", str(self.port), "--exit-with-parent"]
        if self.bookmark_secs is not None:
            args += ["--bookmark-secs", str(self.bookmark_secs)]
        if self.state is not None:
            args += ["--state-file", self.state]
        self.log = open(os.path.join(self.workdir, "api.log"), "a")
        self.proc = spawn(args, stderr=self.log, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "PORT":
            raise Failure("fake API server did not start")
        self.port = int(line[1])

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                     method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read().decode() or "null")

    def get(self, path):
        """(HTTP status, JSON body) without raising on 4xx."""
        try:
            return 200, self.call("GET", path)
        except urllib.error.HTTPError as e:
            return e.code, None

    def add_tokens(self, tokens):
        """Tokens the TokenReview endpoint accepts: [{token, username, audiences}]."""
        self.call("POST", "/_fake/tokens", tokens)

    def write_kubeconfig(self, path, namespace="istio-system", token=None):
        """A kubeconfig for this server (meshd's --kubeconfig, kubectl's); returns `path`."""
        user = f"{{token: {token}}}" if token else "{}"
        write_atomic(path, f"""apiVersion: v1
kind: Config
clusters: [{{name: fake, cluster: {{server: "http://127.0.0.1:{self.port}"}}}}]
contexts: [{{name: fake, context: {{cluster: fake, user: fake, namespace: {namespace}}}}}]
current-context: fake
users: [{{name: fake, user: {user}}}]
""")
        return path


def private_copy(binary, workdir):
    """A copy of `binary` in workdir, for tests that run long: other builds may relink it."""
    copy = os.path.join(workdir, os.path.basename(binary))
    shutil.copyfile(binary, copy)
    os.chmod(copy, 0o755)
    return copy


def start_backend(binary, backend_id):
    p = spawn([binary, "--id", backend_id, "--port", "0"])
    line = p.stdout.readline().split()
    if len(line) != 2 or line[0] != "READY":
        raise Failure(f"echo_server {backend_id} did not start")
    return int(line[1])


def write_bootstrap(path, xds_port, node_id="sidecar~127.0.0.1~client.default~default.svc.cluster.local",
                    namespace="default"):
    bootstrap = {
        "xds_servers": [{"server_uri": f"127.0.0.1:{xds_port}",
                         "channel_creds": [{"type": "insecure"}],
                         "server_features": ["xds_v3"]}],
        "node": {"id": node_id, "cluster": "client", "locality": {},
                 "metadata": {"NAMESPACE": namespace, "GENERATOR": "grpc",
                              "LABELS": {"app": "client"}}},
        "server_listener_resource_name_template": "xds.istio.io/grpc/lds/inbound/%s",
    }
    with open(path, "w") as f:
        json.dump(bootstrap, f)


class Client:
    """One long-lived client process: one xDS stream, many batches of RPCs."""

    def __init__(self, name, args, env):
        self.name = name
        self.proc = spawn(args, env=env, stderr=subprocess.DEVNULL)

    def run(self, count, headers=None):
        cmd = f"run {count}" + "".join(f" {k}={v}" for k, v in (headers or {}).items())
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise Failure(f"{self.name} client exited ({self.proc.poll()})")
        return json.loads(line)


def cpp_client(binary, target, bootstrap, seed):
    env = dict(os.environ, GRPC_XDS_BOOTSTRAP=bootstrap)
    return Client("C++", [binary, "--target", target, "--seed", str(seed)], env)


def node_client(node_modules, target, bootstrap):
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, GRPC_XDS_BOOTSTRAP=bootstrap, NODE_PATH=node_modules)
    return Client("Node", ["node", os.path.join(here, "xds_client.js"), "--target", target,
                           "--proto", os.path.join(here, "../../proto/meshd/test/echo.proto")], env)


def write_atomic(path, text):
    tmp = path + ".tmp~"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def main(test):
    """Runs `test(workdir)` and reports; every process it started is stopped."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    workdir = tempfile.mkdtemp(prefix="meshd-e2e-")
    try:
        test(workdir)
        log("PASS")
        return 0
    except Failure as e:
        log(f"FAIL {e}")
        return 1
    finally:
        stop_all()
