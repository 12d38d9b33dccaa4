"""A sidecar's view of meshd, end to end: the test API server holds Bookinfo-like Services,
EndpointSlices and Pods (labelled security.istio.io/tlsMode=istio, with service accounts) and
Istio config (VirtualService reviews with a header match and weights, DestinationRule subsets,
PeerAuthentication STRICT in one namespace); meshd runs on --kubeconfig with its TLS xDS port.
A simulated pilot-agent (pilot_agent.js) connects over TLS with a service-account token that
the API server's TokenReview accepts, in Delta and in SotW mode, and must receive a complete
sidecar config: the listeners and clusters istiod would send, every RDS and EDS name it
references answered, HealthInfo unanswered, and `envoy-validate --cross-check` clean on all
of it (whether NDS was answered is printed, not required: meshd has no NDS generator yet). A token of another namespace than the node's is refused, a missing or
garbage token is refused, the plaintext port still serves without a token, and a live edit of
the VirtualService weights reaches a connected agent as a new RDS version."""
import argparse
import json
import os
import queue
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (FakeApi, Failure, Meshd, check, log, main, private_copy, spawn,  # noqa: E402
                     write_atomic)

HERE = os.path.dirname(os.path.abspath(__file__))
AGENT = os.path.join(HERE, "pilot_agent.js")
NODE_IP = "10.1.0.1"  # productpage-v1-0, the simulated sidecar's pod
PRODUCTPAGE = {"namespace": "default", "pod": "productpage-v1-0", "ip": NODE_IP,
               "sa": "bookinfo-productpage", "labels": "app=productpage,version=v1"}
MYSQLDB = {"namespace": "db", "pod": "mysqldb-v1-0", "ip": "10.1.1.1", "sa": "mysqldb",
           "labels": "app=mysqldb,version=v1"}  # its namespace is STRICT

# (service, namespace, port, protocol port name, [(pod, ip, version)], service account)
SERVICES = [
    ("productpage", "default", 9080, "http", [("productpage-v1-0", NODE_IP, "v1")], "bookinfo-productpage"),
    ("details", "default", 9080, "http", [("details-v1-0", "10.1.0.2", "v1")], "bookinfo-details"),
    ("reviews", "default", 9080, "http", [("reviews-v1-0", "10.1.0.3", "v1"),
                                          ("reviews-v2-0", "10.1.0.4", "v2"),
                                          ("reviews-v3-0", "10.1.0.5", "v3")], "bookinfo-reviews"),
    ("ratings", "default", 9080, "http", [("ratings-v1-0", "10.1.0.6", "v1")], "bookinfo-ratings"),
    ("mysqldb", "db", 3306, "tcp", [("mysqldb-v1-0", "10.1.1.1", "v1")], "mysqldb"),
]


def k8s_objects():
    items = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}
             for n in ("default", "db", "istio-system")]
    for name, ns, port, pname, pods, sa in SERVICES:
        items.append({"apiVersion": "v1", "kind": "ServiceAccount",
                      "metadata": {"name": sa, "namespace": ns}})
        items.append({"apiVersion": "v1", "kind": "Service",
                      "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
                      "spec": {"selector": {"app": name}, "clusterIP": f"10.96.0.{len(items)}",
                               "ports": [{"name": pname, "port": port, "targetPort": port,
                                          "protocol": "TCP"}]}})
        endpoints = []
        for pod, ip, version in pods:
            items.append({"apiVersion": "v1", "kind": "Pod",
                          "metadata": {"name": pod, "namespace": ns,
                                       "labels": {"app": name, "version": version,
                                                  "security.istio.io/tlsMode": "istio"}},
                          "spec": {"serviceAccountName": sa, "nodeName": "node-1",
                                   "containers": [{"name": name, "image": name},
                                                  {"name": "istio-proxy", "image": "proxyv2"}]},
                          "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}})
            endpoints.append({"addresses": [ip], "targetRef": {"kind": "Pod", "namespace": ns, "name": pod},
                              "conditions": {"ready": True, "serving": True, "terminating": False}})
        items.append({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                      "metadata": {"name": f"{name}-abc", "namespace": ns,
                                   "labels": {"kubernetes.io/service-name": name}},
                      "addressType": "IPv4",
                      "ports": [{"name": pname, "port": port, "protocol": "TCP"}],
                      "endpoints": endpoints})
    return items


def virtual_service(w1, w2):
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "reviews", "namespace": "default"},
            "spec": {"hosts": ["reviews"],
                     "http": [{"name": "jason",
                               "match": [{"headers": {"end-user": {"exact": "jason"}}}],
                               "route": [{"destination": {"host": "reviews", "subset": "v2"}}]},
                              {"name": "split",
                               "route": [{"destination": {"host": "reviews", "subset": "v1"}, "weight": w1},
                                         {"destination": {"host": "reviews", "subset": "v3"}, "weight": w2}]}]}}


def istio_objects():
    return [
        virtual_service(80, 20),
        {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
         "metadata": {"name": "reviews", "namespace": "default"},
         "spec": {"host": "reviews",
                  "subsets": [{"name": v, "labels": {"version": v}} for v in ("v1", "v2", "v3")]}},
        {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
         "metadata": {"name": "default", "namespace": "db"},
         "spec": {"mtls": {"mode": "STRICT"}}},
    ]


def configz(meshd):
    return meshd.get_json("/debug/configz")


class Agent:
    """pilot_agent.js runs; their stdout lines are JSON."""

    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.env = dict(os.environ, NODE_PATH=args.node_modules)

    def command(self, port, token=None, extra=(), out=None, plaintext=False, node=PRODUCTPAGE):
        cmd = ["node", AGENT, "--addr", f"127.0.0.1:{port}", "--namespace", node["namespace"],
               "--pod", node["pod"], "--ip", node["ip"], "--sa", node["sa"],
               "--labels", node["labels"], "--timeout", "30000", *extra]
        if plaintext:
            cmd.append("--plaintext")
        else:
            cmd += ["--ca", os.path.join(self.workdir, "ca", "root", "root-cert.pem")]
        if token is not None:
            path = os.path.join(self.workdir, f"token-{abs(hash(token))}")
            write_atomic(path, token)
            cmd += ["--token-file", path]
        if out:
            cmd += ["--out", out]
        return cmd

    def run(self, port, **kw):
        p = subprocess.run(self.command(port, **kw), capture_output=True, text=True, timeout=60,
                           env=self.env)
        lines = p.stdout.strip().splitlines()
        if not lines:
            raise Failure(f"pilot_agent.js printed nothing (exit {p.returncode}): {p.stderr}")
        return p.returncode, json.loads(lines[-1])


def expect_complete(name, code, s, validate, out):
    log(f"     {name}: {s['counts']} in {s['ms']} ms, responses {s['responses']}")
    check(code == 0 and s["status"] == "complete",
          f"{name}: every subscribed name arrived (status {s['status']}, missing {s.get('missing')})")
    lds, cds = set(s["names"]["LDS"]), set(s["names"]["CDS"])
    want_lds = {"virtualOutbound", "virtualInbound", "0.0.0.0_9080"}
    check(want_lds <= lds, f"{name}: LDS has {sorted(want_lds)} ({len(lds)} listeners)")
    want_cds = {"outbound|9080|v1|reviews.default.svc.cluster.local",
                "outbound|9080|v2|reviews.default.svc.cluster.local",
                "outbound|9080||reviews.default.svc.cluster.local",
                "outbound|9080||details.default.svc.cluster.local",
                "outbound|3306||mysqldb.db.svc.cluster.local",
                "PassthroughCluster", "BlackHoleCluster", "InboundPassthroughCluster",
                "inbound|9080||"}
    check(want_cds <= cds, f"{name}: CDS has {sorted(want_cds)} ({len(cds)} clusters)")
    check(s["counts"]["RDS"] > 0 and not s["missing"]["RDS"],
          f"{name}: every RDS name a listener references answered ({s['names']['RDS']})")
    check(s["counts"]["EDS"] > 0 and not s["missing"]["EDS"],
          f"{name}: every EDS cluster answered ({s['counts']['EDS']} assignments)")
    check(s["nacks"] == 0, f"{name}: nothing NACKed")
    check(not s["health_info_answered"], f"{name}: HealthInfo left unanswered, as by istiod")
    # istiod answers NDS only with a name table (DNS capture); meshd has no NDS generator yet.
    log(f"     {name}: NDS {'answered' if s['nds_answered'] else 'not answered'}")
    v = subprocess.run([validate, "--cross-check", "--binary", out], capture_output=True,
                       text=True, timeout=60)
    if v.returncode != 0:
        log(v.stdout[-4000:] + v.stderr[-2000:])
    check(v.returncode == 0, f"{name}: envoy-validate --cross-check --binary is clean on all "
                             f"{sum(s['counts'][t] for t in ('LDS', 'CDS', 'RDS', 'EDS'))} resources")


def test(workdir, args):
    t_start = time.time()
    # A private copy: other builds may relink the binary while the test runs.
    binary = private_copy(args.meshd, workdir)

    api = FakeApi(workdir)
    api.call("POST", "/_fake/objects", {"items": k8s_objects() + istio_objects()})
    api.add_tokens([
        {"token": "tok-productpage", "username": "system:serviceaccount:default:bookinfo-productpage",
         "audiences": ["istio-ca"], "pod_name": "productpage-v1-0"},
        {"token": "tok-mysqldb", "username": "system:serviceaccount:db:mysqldb",
         "audiences": ["istio-ca"], "pod_name": "mysqldb-v1-0"}])
    kubeconfig = api.write_kubeconfig(os.path.join(workdir, "kubeconfig"))

    meshd = Meshd(binary, None, workdir,
                  extra=["--kubeconfig", kubeconfig,
                         "--cacertsDir", os.path.join(workdir, "no-cacerts")])
    meshd.wait_ready(timeout=30)

    def synced():
        z = configz(meshd)
        services = {s["hostname"]: s["endpoints"] for s in z.get("services", [])}
        kinds = {c["kind"] for c in z["configs"]}
        return (services.get("reviews.default.svc.cluster.local") == 3 and
                services.get("mysqldb.db.svc.cluster.local") == 1 and
                {"VirtualService", "DestinationRule", "PeerAuthentication"} <= kinds)
    meshd.wait(synced, "meshd holds the Bookinfo services and the Istio config")
    root = os.path.join(workdir, "ca", "root", "root-cert.pem")
    check(os.path.exists(root), f"meshd is ready on :{meshd.secure} (TLS) with its root in {root}")

    agent = Agent(args, workdir)
    for mode, extra in (("Delta", ()), ("SotW", ("--sotw",))):
        out = os.path.join(workdir, f"{mode.lower()}.bin")
        code, s = agent.run(meshd.secure, token="tok-productpage", extra=extra, out=out)
        expect_complete(f"{mode} over TLS with a token", code, s, args.envoy_validate, out)

    # A sidecar in the STRICT namespace, with its own namespace's token.
    out = os.path.join(workdir, "db.bin")
    code, s = agent.run(meshd.secure, token="tok-mysqldb", node=MYSQLDB, out=out)
    check(code == 0 and s["status"] == "complete" and "inbound|3306||" in s["names"]["CDS"] and
          "virtualInbound" in s["names"]["LDS"],
          f"the mysqldb sidecar (namespace db, STRICT) gets its config ({s['counts']})")
    v = subprocess.run([args.envoy_validate, "--cross-check", "--binary", out],
                       capture_output=True, text=True, timeout=60)
    check(v.returncode == 0, f"the mysqldb sidecar's config is validator-clean {v.stdout[-2000:]}")

    # Refusals on the TLS port.
    code, s = agent.run(meshd.secure, token="tok-mysqldb")
    check(code == 1 and s.get("code") == "PERMISSION_DENIED",
          f"a token of namespace db for a node in default is refused ({s.get('code')}: {s.get('details')})")
    code, s = agent.run(meshd.secure, token="garbage")
    check(code == 1 and s.get("code") == "UNAUTHENTICATED",
          f"a garbage token is refused ({s.get('code')}: {s.get('details')})")
    code, s = agent.run(meshd.secure, token=None)
    check(code == 1 and s.get("code") == "UNAUTHENTICATED",
          f"no token at all is refused ({s.get('code')}: {s.get('details')})")
    code, s = agent.run(meshd.secure, token="tok-productpage", extra=("--sotw",))
    check(code == 0, "SotW with the right token still works after the refusals")

    # The plaintext port, as istiod's 15010: no token, no TLS.
    out = os.path.join(workdir, "plaintext.bin")
    code, s = agent.run(meshd.grpc, plaintext=True, out=out)
    check(code == 0 and s["status"] == "complete" and "virtualInbound" in s["names"]["LDS"],
          f"the plaintext port serves the same sidecar without a token ({s['counts']})")

    # A live edit reaches a connected agent as a new RDS version.
    p = spawn(agent.command(meshd.secure, token="tok-productpage", extra=("--follow",)),
              env=agent.env, stderr=subprocess.DEVNULL)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in p.stdout], daemon=True).start()
    try:
        first = json.loads(lines.get(timeout=40))
    except queue.Empty:
        first = {}
    check(first.get("status") == "complete", "a following agent got its full config")
    vs = api.call("GET", "/apis/networking.istio.io/v1/namespaces/default/virtualservices/reviews")
    vs["spec"]["http"][1]["route"][0]["weight"] = 30
    vs["spec"]["http"][1]["route"][1]["weight"] = 70
    t0 = time.time()
    api.call("PUT", "/apis/networking.istio.io/v1/namespaces/default/virtualservices/reviews", vs)
    got = None
    deadline = time.time() + 20
    while got is None and time.time() < deadline:
        try:  # the agent prints one line per later response
            ev = json.loads(lines.get(timeout=max(0.01, deadline - time.time())))
        except queue.Empty:
            break
        want = {"outbound|9080|v1|reviews.default.svc.cluster.local": 30,
                "outbound|9080|v3|reviews.default.svc.cluster.local": 70}
        if ev.get("event") == "update" and ev.get("type") == "RDS" and want in ev.get("splits", []):
            got = ev
    check(got is not None, f"the 30/70 edit reached the connected agent as RDS {got and got['names']} "
                           f"(version {got and got['version']}) in {time.time() - t0:.2f} s")
    p.stdin.close()
    p.wait(10)
    log(f"     total {time.time() - t_start:.1f} s")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--meshd", required=True)
    ap.add_argument("--envoy-validate", required=True)
    ap.add_argument("--node-modules", required=True)
    a = ap.parse_args()
    sys.exit(main(lambda workdir: test(workdir, a)))
