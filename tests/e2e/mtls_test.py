"""mTLS end to end: meshd's CA on its TLS port (TokenReview against the test API server), two
meshd-agents (server and client workloads) writing certificates and gRPC xDS bootstraps, a real
xDS-managed gRPC C++ server (XdsServerCredentials) and a real C++ client (XdsCredentials).
With a mesh-wide PeerAuthentication STRICT: RPCs succeed over mTLS and the server sees the
client's SPIFFE identity; a plaintext client is refused; 60 s certificates rotate while RPCs flow
with no failures, across a restart of meshd that keeps the same root."""
import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Client, FakeApi, Failure, Meshd, check, free_port, log, main,  # noqa: E402
                     spawn, write_atomic)

HERE = os.path.dirname(os.path.abspath(__file__))
TD = "cluster.local"

MESH = """\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: echo, namespace: default}}
spec:
  hosts: [echo.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {{number: {port}, name: grpc, protocol: GRPC}}
  workloadSelector:
    labels: {{app: echo}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {{name: echo-0, namespace: default}}
spec:
  address: 127.0.0.1
  serviceAccount: echo-server
  labels: {{app: echo}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {{name: default, namespace: istio-system}}
spec:
  mtls: {{mode: STRICT}}
"""


def start_meshd(binary, workdir, config, kubeconfig, ports=None):
    """meshd on the config directory, with --kubeconfig for TokenReview; no cacerts (its
    self-signed root). `ports` restarts it on the same ports."""
    return Meshd(binary, config, workdir, ports=ports,
                 extra=["--cacertsDir", os.path.join(workdir, "no-cacerts"),
                        "--kubeconfig", kubeconfig])


class AgentProc:
    """A meshd-agent; a thread collects its ISSUED lines."""

    def __init__(self, binary, workdir, name, sa, labels, token, meshd):
        self.name = name
        self.cert_dir = os.path.join(workdir, name, "certs")
        self.bootstrap = os.path.join(workdir, name, "bootstrap.json")
        token_file = os.path.join(workdir, name, "token")
        os.makedirs(os.path.dirname(token_file), exist_ok=True)
        write_atomic(token_file, token)
        self.issued = []
        self.proc = spawn([binary, "--caAddr", f"127.0.0.1:{meshd.secure}",
                           "--caRootCert", os.path.join(workdir, "ca", "root", "root-cert.pem"),
                           "--tokenFile", token_file, "--namespace", "default",
                           "--serviceAccount", sa, "--pod", f"{name}-0", "--ip", "127.0.0.1",
                           "--labels", labels, "--certDir", self.cert_dir,
                           "--bootstrap", self.bootstrap,
                           "--xdsAddress", f"127.0.0.1:{meshd.grpc}", "--certTTL", "60s",
                           "--fileWatcherRefresh", "1s"])
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            parts = line.split()
            if parts and parts[0] == "ISSUED":
                self.issued.append(parts[1])

    def wait_issued(self, n, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline and len(self.issued) < n:
            if self.proc.poll() is not None:
                raise Failure(f"agent {self.name} exited with {self.proc.returncode}")
            time.sleep(0.1)
        return len(self.issued) >= n


def read(path):
    with open(path) as f:
        return f.read()


def test(workdir, args):
    # The test API server, for TokenReview.
    api = FakeApi(workdir)
    api.add_tokens([{"token": "tok-server", "username": "system:serviceaccount:default:echo-server",
                     "audiences": ["istio-ca"]},
                    {"token": "tok-client", "username": "system:serviceaccount:default:client",
                     "audiences": ["istio-ca"]}])
    kubeconfig = api.write_kubeconfig(os.path.join(workdir, "kubeconfig"))

    port = free_port()
    config = os.path.join(workdir, "config")
    os.makedirs(config)
    write_atomic(os.path.join(config, "mesh.yaml"), MESH.format(port=port))
    meshd = start_meshd(args.meshd, workdir, config, kubeconfig)
    meshd.wait_ready()
    root_path = os.path.join(workdir, "ca", "root", "root-cert.pem")
    check(os.path.exists(root_path), "meshd created and persisted a self-signed root")
    root = read(root_path)

    server_agent = AgentProc(args.agent, workdir, "server", "echo-server", "app=echo",
                             "tok-server", meshd)
    client_agent = AgentProc(args.agent, workdir, "client", "client", "app=client",
                             "tok-client", meshd)
    check(server_agent.wait_issued(1) and client_agent.wait_issued(1),
          "both agents got certificates over TLS with their service-account tokens")
    boot = json.load(open(server_agent.bootstrap))
    check(boot["node"]["id"] == "sidecar~127.0.0.1~server-0.default~default.svc.cluster.local" and
          boot["certificate_providers"]["default"]["plugin_name"] == "file_watcher",
          "the agent wrote the gRPC xDS bootstrap (node id, file_watcher provider)")

    env = dict(os.environ, GRPC_XDS_EXPERIMENTAL_SECURITY_SUPPORT="true")
    server = spawn([args.echo_server, "--id", "echo", "--port", str(port), "--xds", "1"],
                   env=dict(env, GRPC_XDS_BOOTSTRAP=server_agent.bootstrap))
    line = server.stdout.readline().split()
    if not line or line[0] != "READY":
        raise Failure("xDS echo server did not start")
    client = Client("C++ mTLS", [args.xds_client, "--target",
                                 f"xds:///echo.default.svc.cluster.local:{port}",
                                 "--xds_creds", "1", "--deadline_ms", "20000"],
                    dict(env, GRPC_XDS_BOOTSTRAP=client_agent.bootstrap))
    r = client.run(20)
    want_peer = f"spiffe://{TD}/ns/default/sa/client"
    log(f"     {r}")
    check(r["ok"] == 20, f"20/20 RPCs over mTLS ({r['codes']})")
    check(r["peers"] == {want_peer: 20}, f"the server saw the client's identity {want_peer}")

    plain = Client("plaintext", [args.xds_client, "--target", f"127.0.0.1:{port}",
                                 "--deadline_ms", "1500"], env)
    r = plain.run(3)
    check(r["ok"] == 0, f"a plaintext client is refused ({r['codes']})")

    # Rotation: 60 s certificates, renewed at about half; meshd restarts at the start.
    ok = failed = 0
    codes = {}
    start = time.time()
    restarted = False
    while time.time() - start < 68:
        if not restarted and time.time() - start > 5:
            ports = meshd.ports()
            meshd.stop()
            meshd = start_meshd(args.meshd, workdir, config, kubeconfig, ports)
            meshd.wait_ready()
            restarted = True
            log("     meshd restarted")
        r = client.run(20)
        ok += r["ok"]
        failed += 20 - r["ok"]
        for k, v in r["codes"].items():
            codes[k] = codes.get(k, 0) + v
        time.sleep(0.5)
    log(f"     during rotation: {ok} ok, {failed} failed {codes}; issued server "
        f"{len(server_agent.issued)}, client {len(client_agent.issued)}")
    check(read(root_path) == root, "meshd kept the same root across the restart")
    check(read(os.path.join(client_agent.cert_dir, "root-cert.pem")).strip() == root.strip(),
          "certificates issued after the restart chain to the same root")
    check(len(server_agent.issued) >= 2 and len(client_agent.issued) >= 2 and
          len(set(server_agent.issued)) == len(server_agent.issued),
          "both workloads' certificates rotated")
    check(failed == 0, f"no RPC failed while certificates rotated ({ok} RPCs)")
    fresh = Client("C++ mTLS (new)", [args.xds_client, "--target",
                                      f"xds:///echo.default.svc.cluster.local:{port}",
                                      "--xds_creds", "1", "--deadline_ms", "20000"],
                   dict(env, GRPC_XDS_BOOTSTRAP=client_agent.bootstrap))
    r = fresh.run(20)
    check(r["ok"] == 20 and r["peers"] == {want_peer: 20},
          "a new client handshakes with the rotated certificates after the first ones expired")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--meshd", required=True)
    ap.add_argument("--agent", required=True)
    ap.add_argument("--echo-server", required=True)
    ap.add_argument("--xds-client", required=True)
    a = ap.parse_args()
    sys.exit(main(lambda workdir: test(workdir, a)))
