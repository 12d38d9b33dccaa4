"""Status on the object, end to end: the test API server (tests/kube/fake_apiserver.py), the real
kubectl, meshd on --kubeconfig (leader election on) and a real proxyless gRPC client. Shows:
`kubectl get virtualservice reviews -o yaml` carries Accepted True and the distribution
condition (Reconciled: "applied by N of M ...") written through the status subresource by the
leader, updated once a proxy ACKs; a simulated sidecar (pilot_agent.js) that NACKs its
clusters is named, with its error text, on the objects whose resources it refused; a VirtualService meshd rejects shows Accepted False with the
field path; /debug/configz shows the same status (file mode's view)."""
import argparse
import os
import subprocess
import sys
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Failure, Meshd, check, cpp_client, log, main, private_copy,  # noqa: E402
                     start_backend, write_bootstrap)
from kube_test import HERE, KUBECTL, LEASE, MESH, VS, Api, pod, slice_yaml  # noqa: E402

AGENT = os.path.join(HERE, "pilot_agent.js")

BAD_VS = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bad, namespace: default}
spec:
  hosts: [bad]
  http:
  - match:
    - uri: {regex: "(unclosed"}
    route:
    - destination: {host: reviews}
"""


def condition(obj, ctype):
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def test(workdir, args):
    binary = private_copy(args.meshd, workdir)
    api = Api(workdir)
    kubeconfig = api.write_kubeconfig(os.path.join(workdir, "kubeconfig"), namespace="default",
                                      token="fake-token")

    def kubectl(*argv):
        out = subprocess.run([KUBECTL, "--kubeconfig", kubeconfig, "--cache-dir",
                              os.path.join(workdir, "kcache"), *argv],
                             capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise Failure(f"kubectl {' '.join(argv)}: {out.stderr}")
        return out.stdout

    def apply(text, name):
        path = os.path.join(workdir, name)
        with open(path, "w") as f:
            f.write(text)
        log(f"     kubectl apply -f {name}: {kubectl('apply', '-f', path).strip()!r}")

    def wait_status(name, pred, timeout=15):
        """`kubectl get virtualservice <name> -o yaml` until pred(object) holds."""
        deadline = time.time() + timeout
        obj = None
        while time.time() < deadline:
            obj = yaml.safe_load(kubectl("get", "virtualservice", name, "-o", "yaml"))
            if pred(obj):
                return obj, True
            time.sleep(0.2)
        return obj, False

    ports = {b: start_backend(args.echo_server, b) for b in ("v1", "v2")}
    api.call("POST", "/_fake/objects", {"items": [pod("reviews-v1", "v1"), pod("reviews-v2", "v2")]})
    apply(MESH + "---\n" + VS.format(w1=80, w2=20) + "---\n" +
          slice_yaml("reviews-v1", ports["v1"], "reviews-v1") + "---\n" +
          slice_yaml("reviews-v2", ports["v2"], "reviews-v2"), "mesh.yaml")

    flags = [a for kv in LEASE.items() for a in kv]
    meshd = Meshd(binary, None, workdir, extra=["--kubeconfig", kubeconfig, *flags],
                  env=dict(os.environ, POD_NAME="meshd-a"))
    meshd.wait_ready()

    # No proxy yet: accepted, and reconciled trivially (0 of 0).
    obj, ok = wait_status("reviews", lambda o: (condition(o, "Accepted") or {}).get("status") == "True"
                          and condition(o, "Reconciled") is not None)
    check(ok, f"kubectl get virtualservice reviews -o yaml: Accepted True ({(obj or {}).get('status')})")
    check(obj["status"].get("observedGeneration") == obj["metadata"].get("generation"),
          f"observedGeneration is the object's generation ({obj['status'].get('observedGeneration')})")
    log(f"     status before any proxy: {condition(obj, 'Reconciled')['message']!r}")

    # A proxy connects, is served the VirtualService and ACKs: the leader writes the new count.
    bootstrap = os.path.join(workdir, "bootstrap.json")
    write_bootstrap(bootstrap, meshd.grpc)
    client = cpp_client(args.xds_client, "xds:///reviews:9080", bootstrap, seed=int(time.time()))
    r = client.run(20)
    check(r["ok"] == 20, f"the proxyless client is served through the VirtualService ({r})")
    want = "applied by 1 of 1 proxy that selects it"
    obj, ok = wait_status("reviews", lambda o: (condition(o, "Reconciled") or {}).get("message") == want
                          and condition(o, "Reconciled").get("status") == "True")
    check(ok, f"after the proxy ACKs: Reconciled True, {want!r} ({condition(obj, 'Reconciled')})")
    text = kubectl("get", "virtualservice", "reviews", "-o", "yaml")
    check("type: Accepted" in text and want in text, "... as kubectl -o yaml prints it")

    # A rejected object: Accepted False with the field path, and no distribution claim.
    apply(BAD_VS, "bad.yaml")
    obj, ok = wait_status("bad", lambda o: (condition(o, "Accepted") or {}).get("status") == "False")
    msg = (condition(obj, "Accepted") or {}).get("message", "")
    check(ok and "spec.http[0].match[0].uri.regex" in msg,
          f"a rejected VirtualService: Accepted False with the field path ({msg!r})")
    check(condition(obj, "Reconciled") is None, "... and no Reconciled condition")

    # Coalesced: a steady state writes nothing more.
    rv = yaml.safe_load(kubectl("get", "virtualservice", "reviews", "-o", "yaml"))["metadata"]["resourceVersion"]
    time.sleep(2.5)
    rv2 = yaml.safe_load(kubectl("get", "virtualservice", "reviews", "-o", "yaml"))["metadata"]["resourceVersion"]
    check(rv == rv2, f"no status write while nothing changes (resourceVersion {rv} -> {rv2})")

    # /debug/configz carries the same computed status.
    entry = [c for c in meshd.get_json("/debug/configz")["configs"]
             if c["kind"] == "VirtualService" and c["name"] == "reviews"]
    check(entry and (condition({"status": entry[0].get("istioStatus")}, "Reconciled") or {}).get("message") == want,
          "/debug/configz shows the same istioStatus")
    written = [line for line in meshd.metrics().splitlines()
               if line.startswith("meshd_config_status_writes_total") and 'result="written"' in line]
    check(written, f"status writes are counted ({written})")

    # A sidecar NACKs its clusters: the NACK is attributed to the objects whose resources the
    # refused response carried (DestinationRule reviews: its subsets' clusters), with the
    # proxy's error text; an object the response did not carry is not blamed.
    agent_id = "sidecar~10.0.0.7~productpage-v1-0.default~default.svc.cluster.local"
    error = "cluster outbound|9080|v1|reviews.default.svc.cluster.local: refused by test"
    agent = subprocess.Popen(
        ["node", AGENT, "--addr", f"127.0.0.1:{meshd.grpc}", "--plaintext", "--sotw", "--follow",
         "--namespace", "default", "--pod", "productpage-v1-0", "--ip", "10.0.0.7",
         "--nack", f"CDS={error}"],
        env=dict(os.environ, NODE_PATH=args.node_modules), stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        summary = agent.stdout.readline()
        check(summary and '"nacks"' in summary, f"the simulated sidecar NACKed CDS ({summary.strip()[:200]})")

        def dr_reconciled():
            o = yaml.safe_load(kubectl("get", "destinationrule", "reviews", "-o", "yaml"))
            return condition(o, "Reconciled") or {}
        deadline = time.time() + 15
        while time.time() < deadline and "NACKed by 1" not in dr_reconciled().get("message", ""):
            time.sleep(0.2)
        dr = dr_reconciled()
        check(dr.get("status") == "False" and
              f"NACKed by 1: {agent_id}: {error}" in dr.get("message", ""),
              f"kubectl get destinationrule reviews: Reconciled False, NACKed by the sidecar with its error ({dr})")
        check("applied by 1 of 2 proxies that select it" in dr.get("message", ""),
              "... and still applied by the proxy that ACKed")
        pa = yaml.safe_load(kubectl("get", "peerauthentication", "default", "-n", "istio-system",
                                    "-o", "yaml"))
        check("NACKed" not in (condition(pa, "Reconciled") or {}).get("message", "x NACKed"),
              f"an object the NACKed response did not carry is not blamed ({condition(pa, 'Reconciled')})")
        # The refused clusters name reviews, but were built from the DestinationRule (their
        # origins), not from the VirtualService that routes to them: it is not blamed.
        vs = yaml.safe_load(kubectl("get", "virtualservice", "reviews", "-o", "yaml"))
        check("NACKed" not in (condition(vs, "Reconciled") or {}).get("message", "x NACKed"),
              f"the VirtualService routing to the refused clusters is not blamed ({condition(vs, 'Reconciled')})")
    finally:
        agent.stdin.close()
        agent.wait(10)

    # Leader only: a second replica computes the same status but never writes it.
    meshd_b = Meshd(binary, None, workdir, extra=["--kubeconfig", kubeconfig, *flags,
                                                  "--caStateDir", os.path.join(workdir, "ca-b")],
                    name="meshd-b", env=dict(os.environ, POD_NAME="meshd-b"))
    meshd_b.wait_ready()
    apply(VS.format(w1=60, w2=40), "vs-60.yaml")
    obj, ok = wait_status("reviews", lambda o: o["status"].get("observedGeneration") ==
                          o["metadata"].get("generation"))
    check(ok and obj["metadata"]["generation"] > 1,
          f"a changed spec: observedGeneration follows ({obj['metadata']['generation']})")
    leader_b = meshd_b.get_json("/debug/leaderz").get("leader")
    written_b = [line for line in meshd_b.metrics().splitlines()
                 if line.startswith("meshd_config_status_writes_total")]
    check(leader_b is False and not written_b,
          f"the replica that is not leader writes no status (leader={leader_b}, {written_b})")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--meshd", required=True)
    ap.add_argument("--echo-server", required=True)
    ap.add_argument("--xds-client", required=True)
    ap.add_argument("--node-modules", required=True)
    a = ap.parse_args()
    sys.exit(main(lambda workdir: test(workdir, a)))
