"""meshctl against a live meshd: meshd on a config directory, the C++ gRPC xDS client connected
(proxy client.default), then `meshctl proxy-status`, `proxy-config clusters|listeners|routes
client.default` (table and -o json), `describe`, `analyze` on a clean and on a broken
directory (exit 1 with the named finding), /debug/registryz and /debug/endpointz, and with meshd
stopped (exit 2 and a clear message)."""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Meshd, check, cpp_client, free_port, log, main,  # noqa: E402
                     start_backend, write_atomic, write_bootstrap)

MESH = """\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: reviews, namespace: default}}
spec:
  hosts: [reviews.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {{number: 9080, name: grpc, protocol: GRPC}}
  workloadSelector:
    labels: {{app: reviews}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {{name: reviews-v1, namespace: default}}
spec:
  address: 127.0.0.1
  ports: {{grpc: {v1}}}
  labels: {{app: reviews, version: v1}}
  locality: us-east1/b
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: reviews, namespace: default}}
spec:
  host: reviews
  subsets:
  - name: v1
    labels: {{version: v1}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: reviews, namespace: default}}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {{host: reviews, subset: v1}}
"""

MISSING_SUBSET = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: canary, namespace: default}
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {host: reviews, subset: v3}
"""


def meshctl(binary, *args, addr=None):
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    if addr:
        env["MESHD_ADDR"] = addr
    p = subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=30)
    log(f"     $ meshctl {' '.join(args)} -> {p.returncode}\n" +
        "\n".join("       " + line for line in (p.stdout + p.stderr).splitlines()[:12]))
    return p


def test(workdir, args):
    v1 = start_backend(args.echo_server, "v1")
    config = os.path.join(workdir, "config")
    os.makedirs(config)
    write_atomic(os.path.join(config, "mesh.yaml"), MESH.format(v1=v1))
    meshd = Meshd(args.meshd, config, workdir)
    meshd.wait_ready()
    addr = f"http://127.0.0.1:{meshd.mon}"

    # analyze offline needs no meshd: clean directory → 0; a missing subset → 1, named.
    p = meshctl(args.meshctl, "analyze", "-f", config)
    check(p.returncode == 0 and "No validation issues" in p.stdout, "analyze: clean directory, exit 0")
    bad = os.path.join(workdir, "bad")
    os.makedirs(bad)
    write_atomic(os.path.join(bad, "mesh.yaml"), MESH.format(v1=v1))
    write_atomic(os.path.join(bad, "canary.yaml"), MISSING_SUBSET)
    p = meshctl(args.meshctl, "analyze", "-f", bad)
    check(p.returncode == 1 and "[MissingSubset] VirtualService default/canary: "
          "spec.http[0].route[0].destination.subset" in p.stdout,
          "analyze: missing subset is an error naming object and field, exit 1")
    check("\033[" not in p.stdout, "no colours when stdout is not a terminal")

    bootstrap = os.path.join(workdir, "bootstrap.json")
    write_bootstrap(bootstrap, meshd.grpc)
    client = cpp_client(args.xds_client, "xds:///reviews:9080", bootstrap, seed=1)
    r = client.run(10)
    check(r["ok"] == 10, "the C++ xDS client routes through meshd")

    def synced():
        sync = meshd.get_json("/debug/syncz")
        return len(sync) == 1 and all(t.get("version_acked") == t.get("version_sent")
                                      for t in sync[0]["types"].values())
    meshd.wait(synced, "the client to ACK everything", timeout=15)

    p = meshctl(args.meshctl, "proxy-status", addr=addr)
    lines = p.stdout.splitlines()
    check(p.returncode == 0 and lines[0].split()[:6] == ["NAME", "CDS", "LDS", "EDS", "RDS", "ECDS"],
          "proxy-status: header with the type columns")
    row = [line for line in lines if "client.default" in line]
    check(len(row) == 1 and row[0].split()[1:5] == ["SYNCED"] * 4 and addr in row[0],
          "proxy-status: the client is SYNCED on CDS/LDS/EDS/RDS, meshd named")

    p = meshctl(args.meshctl, "--meshd", addr, "proxy-config", "clusters", "client.default")
    check(p.returncode == 0 and p.stdout.startswith("SERVICE FQDN") and
          any(line.split()[:4] == ["reviews.default.svc.cluster.local", "9080", "v1", "outbound"]
              for line in p.stdout.splitlines()),
          "proxy-config clusters: the v1 subset cluster of reviews:9080")
    p = meshctl(args.meshctl, "--meshd", addr, "proxy-config", "clusters", "client.default", "-o", "json")
    clusters = json.loads(p.stdout)
    check(p.returncode == 0 and any(c.get("name") == "outbound|9080|v1|reviews.default.svc.cluster.local"
                                    for c in clusters), "proxy-config clusters -o json: Envoy cluster JSON")
    p = meshctl(args.meshctl, "--meshd", addr, "proxy-config", "endpoints", "client.default")
    check(p.returncode == 0 and f"127.0.0.1:{v1}" in p.stdout, "proxy-config endpoints: the backend's address")
    p = meshctl(args.meshctl, "--meshd", addr, "proxy-config", "clusters", "nobody.default")
    check(p.returncode == 2 and "not connected" in p.stderr, "proxy-config for an unknown proxy: 404 message, exit 2")

    p = meshctl(args.meshctl, "--meshd", addr, "describe", "VirtualService/default/reviews")
    check(p.returncode == 0 and "reaches 1 connected proxy" in p.stdout and "client.default" in p.stdout,
          "describe: the VirtualService reaches the connected client")
    p = meshctl(args.meshctl, "--meshd", addr, "describe", "VirtualService/default/nothere")
    check(p.returncode == 1 and "not found" in p.stdout, "describe: an unknown object, exit 1")
    p = meshctl(args.meshctl, "--meshd", addr, "analyze", "--live")
    check(p.returncode == 0, "analyze --live: the served config is clean")

    reg = meshd.get_json("/debug/registryz")
    check(any(s["hostname"] == "reviews.default.svc.cluster.local" and s["ports"][0]["port"] == 9080
              for s in reg), "/debug/registryz lists reviews with its port")
    eps = meshd.get_json("/debug/endpointz")
    check(any(e["service"] == "reviews.default.svc.cluster.local" and
              any(x["port"] == v1 and x["locality"] == "us-east1/b" for x in e["endpoints"])
              for e in eps), "/debug/endpointz lists the endpoint with its locality")

    # The istiod dashboard metrics meshd now exports.
    metrics = {line.rsplit(" ", 1)[0]: line.rsplit(" ", 1)[1]
               for line in meshd.metrics().splitlines() if line and not line.startswith("#")}
    check(float(metrics.get("pilot_services", "0")) == 1 and
          float(metrics.get("pilot_virt_services", "0")) == 1,
          "metrics: pilot_services 1, pilot_virt_services 1")
    check(any(k.startswith("istio_build{") and 'component="pilot"' in k for k in metrics),
          "metrics: istio_build{component=\"pilot\",tag=...}")
    check(float(metrics.get('pilot_push_triggers{type="config"}', "0")) >= 1,
          "metrics: pilot_push_triggers{type=\"config\"} counted")
    check(float(metrics.get("pilot_xds_send_time_count", "0")) >= 1,
          "metrics: pilot_xds_send_time observes the writes to the client")

    # meshd down: exit 2 and a message naming the address.
    meshd.proc.terminate()
    meshd.proc.wait(10)
    p = meshctl(args.meshctl, "proxy-status", addr=addr)
    check(p.returncode == 2 and "cannot connect to meshd at" in p.stderr and "Is meshd running?" in p.stderr,
          "meshd stopped: proxy-status exits 2 with a clear message")
    p = meshctl(args.meshctl, "--meshd", f"127.0.0.1:{free_port()}", "proxy-config", "clusters", "x.y")
    check(p.returncode == 2 and "cannot connect" in p.stderr, "meshd unreachable: proxy-config exits 2")
    p = meshctl(args.meshctl, "bogus")
    check(p.returncode == 2 and "unknown command" in p.stderr, "usage error: exit 2")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--meshd", required=True)
    ap.add_argument("--meshctl", required=True)
    ap.add_argument("--echo-server", required=True)
    ap.add_argument("--xds-client", required=True)
    a = ap.parse_args()
    sys.exit(main(lambda workdir: test(workdir, a)))
