"""Admission webhooks, end to end: the test API server (tests/kube/fake_apiserver.py with
tests/kube/admission.py) calls meshd's /validate and /inject over HTTPS, verifying meshd's
certificate against the caBundle meshd itself patched into the webhook configurations, with the
real kubectl. Shows: meshd patches caBundle into both configurations and flips the validator to
failurePolicy Fail; `kubectl apply` of a bad VirtualService is refused with meshd's field-path
message; a good one is accepted; a pod applied in a namespace labelled istio-injection=enabled
comes back injected (istio-init, istio-proxy, volumes, status annotation) with the values of
ConfigMap istio-sidecar-injector; opted-out pods and pods elsewhere are untouched; the
webhook's requests are counted."""
import argparse
import base64
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Failure, Meshd, check, free_port, log, main, private_copy  # noqa: E402
from kube_test import Api, KUBECTL  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

SETUP = """\
apiVersion: v1
kind: Namespace
metadata: {name: istio-system}
---
apiVersion: v1
kind: Namespace
metadata: {name: injected, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-sidecar-injector, namespace: istio-system}
data:
  config: |
    policy: enabled
    neverInjectSelector: []
  values: |
    {"global": {"hub": "registry.example/istio", "tag": "1.24.2", "meshID": "mesh-e2e",
                "multiCluster": {"clusterName": "cluster-e2e"}}}
"""

BAD_VS = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bad, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match:
    - uri: {regex: "a(b"}
    route:
    - destination: {host: reviews}
"""

GOOD_VS = BAD_VS.replace("name: bad", "name: good").replace('"a(b"', '"a(b)"')

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: {ns}
  labels: {{app: reviews, version: v1}}
  annotations: {annotations}
spec:
  containers:
  - name: app
    image: reviews:1
    ports: [{{containerPort: 9080}}]
"""


def test(workdir, args):
    binary = private_copy(args.meshd, workdir)
    webhook_port = free_port()
    # The API server reaches istiod.istio-system.svc:443 at meshd's webhook port.
    os.environ["FAKE_APISERVER_WEBHOOK_HOSTS"] = \
        f"istiod.istio-system.svc:443=127.0.0.1:{webhook_port}"
    api = Api(workdir)
    kubeconfig = api.write_kubeconfig(os.path.join(workdir, "kubeconfig"), namespace="default",
                                      token="fake-token")

    def kubectl(*argv, stdin=None):
        return subprocess.run([KUBECTL, "--kubeconfig", kubeconfig, "--cache-dir",
                               os.path.join(workdir, "kcache"), *argv],
                              capture_output=True, text=True, timeout=30, input=stdin)

    def apply(text, name):
        path = os.path.join(workdir, name)
        with open(path, "w") as f:
            f.write(text)
        return kubectl("apply", "-f", path)

    out = apply(SETUP, "setup.yaml")
    check(out.returncode == 0, f"namespaces and ConfigMap istio-sidecar-injector applied {out.stderr}")
    out = kubectl("apply", "-f", os.path.join(HERE, "testdata", "webhooks.yaml"))
    check(out.returncode == 0, f"webhook configurations applied (no caBundle, validator Ignore) "
          f"{out.stderr}")

    meshd = Meshd(binary, None, workdir,
                  extra=["--kubeconfig", kubeconfig, "--leaderElection", "false",
                         "--webhookAddr", f"127.0.0.1:{webhook_port}"])
    meshd.wait_ready(timeout=60)

    root_path = os.path.join(workdir, "ca", "serving", "root-cert.pem")
    vwc = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/" \
          "istio-validator-istio-system"
    mwc = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/" \
          "istio-sidecar-injector"
    deadline = time.time() + 30
    v = m = None
    while time.time() < deadline:
        v, m = api.call("GET", vwc), api.call("GET", mwc)
        if (all(h["clientConfig"].get("caBundle") for h in v["webhooks"] + m["webhooks"]) and
                all(h.get("failurePolicy") == "Fail" for h in v["webhooks"])):
            break
        time.sleep(0.2)
    with open(root_path) as f:
        root = f.read()
    bundles = {base64.b64decode(h["clientConfig"].get("caBundle", "")).decode()
               for h in v["webhooks"] + m["webhooks"]}
    check(bundles == {root}, "meshd patched its root certificate into every webhook's caBundle")
    check([h["failurePolicy"] for h in v["webhooks"]] == ["Fail"],
          "... and switched the validator's failurePolicy from Ignore to Fail")

    out = apply(BAD_VS, "bad-vs.yaml")
    want = ('admission webhook "validation.istio.io" denied the request: VirtualService '
            'default/bad: spec.http[0].match[0].uri.regex: "a(b" is not a valid RE2 regex')
    check(out.returncode != 0 and want in out.stderr,
          f"kubectl apply -f bad-vs.yaml is refused with meshd's message: {out.stderr.strip()!r}")
    status, _ = api.get("/apis/networking.istio.io/v1/namespaces/default/virtualservices/bad")
    check(status == 404, "... and the bad VirtualService is not stored")
    out = apply(GOOD_VS, "good-vs.yaml")
    check(out.returncode == 0, f"kubectl apply -f good-vs.yaml is accepted {out.stderr}")

    out = apply(POD.format(name="reviews-v1", ns="injected", annotations="{}"), "pod.yaml")
    check(out.returncode == 0, f"kubectl apply -f pod.yaml in namespace injected {out.stderr}")
    pod = json.loads(kubectl("get", "pod", "-n", "injected", "reviews-v1", "-o", "json").stdout)
    containers = [c["name"] for c in pod["spec"]["containers"]]
    inits = [c["name"] for c in pod["spec"].get("initContainers", [])]
    check(containers == ["app", "istio-proxy"] and inits == ["istio-init"],
          f"kubectl get pod -o json: containers {containers}, initContainers {inits}")
    proxy = pod["spec"]["containers"][1]
    env = {e["name"]: e.get("value") for e in proxy["env"]}
    check(proxy["image"] == "registry.example/istio/proxyv2:1.24.2" and
          env["CA_ADDR"] == "istiod.istio-system.svc:15012" and
          env["ISTIO_META_CLUSTER_ID"] == "cluster-e2e" and env["ISTIO_META_MESH_ID"] == "mesh-e2e",
          "istio-proxy uses the ConfigMap's values (image, cluster, mesh) and CA_ADDR "
          "istiod.istio-system.svc:15012")
    status = json.loads(pod["metadata"]["annotations"]["sidecar.istio.io/status"])
    vols = {v["name"] for v in pod["spec"]["volumes"]}
    check(status["containers"] == ["istio-proxy"] and set(status["volumes"]) <= vols and
          "istio-token" in vols and pod["metadata"]["labels"].get(
              "security.istio.io/tlsMode") == "istio",
          "sidecar.istio.io/status, volumes (istio-token, istiod-ca-cert, ...) and labels set")

    out = apply(POD.format(name="opted-out", ns="injected",
                           annotations='{"sidecar.istio.io/inject": "false"}') +
                "---\n" + POD.format(name="elsewhere", ns="default", annotations="{}"),
                "untouched.yaml")
    check(out.returncode == 0, f"opted-out and default-namespace pods applied {out.stderr}")
    for ns, name in (("injected", "opted-out"), ("default", "elsewhere")):
        p = json.loads(kubectl("get", "pod", "-n", ns, name, "-o", "json").stdout)
        check([c["name"] for c in p["spec"]["containers"]] == ["app"] and
              "initContainers" not in p["spec"] and
              "sidecar.istio.io/status" not in p["metadata"].get("annotations", {}),
              f"pod {ns}/{name} is untouched")

    metrics = meshd.metrics()
    for line in ('meshd_webhook_requests_total{result="denied",webhook="validate"} 1',
                 'meshd_webhook_requests_total{result="injected",webhook="inject"} 1',
                 'meshd_webhook_requests_total{result="skipped",webhook="inject"} 1'):
        check(line in metrics, f"/metrics: {line}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--meshd", required=True)
    a = ap.parse_args()
    sys.exit(main(lambda workdir: test(workdir, a)))
