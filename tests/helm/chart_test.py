"""The Helm chart deploy/helm/meshd, end to end: rendered by tests/helm/render (Go's
text/template + sprig, what Helm gives templates), its shape checked for the default install,
a revision and custom values; then applied with the real kubectl to the test API server
(tests/kube/fake_apiserver.py), and meshd started with the rendered Deployment's args and
environment (container paths mapped to temporary directories, volumes filled from what the API
server holds). meshd must become ready, take the lease, keep its CA root in the API, publish the
root certificate and review a workload's token; every request it made must be allowed by the
rendered ClusterRole/Role (least rights: each rule names the call it is for)."""
import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from harness import Failure, check, free_port, log, main, spawn, write_atomic  # noqa: E402

ROOT = os.path.join(HERE, "..", "..")
CHART = os.path.join(ROOT, "deploy", "helm", "meshd")
FAKE = os.path.join(HERE, "..", "kube", "fake_apiserver.py")
KUBECTL = os.environ.get("KUBECTL", "/usr/bin/kubectl")
NS = "istio-system"
# Discovery and OpenAPI: every authenticated user may read them (system:discovery).
DISCOVERY_PREFIXES = ("/api", "/apis", "/version", "/openapi")


def render(render_bin, *args, fmt_json=True):
    out = subprocess.run([render_bin, *(["--json"] if fmt_json else []), *args, CHART],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise Failure(f"render {' '.join(args)}: {out.stderr}")
    return json.loads(out.stdout) if fmt_json else out.stdout


def by_kind(docs):
    out = {}
    for d in docs:
        out.setdefault(d["kind"], []).append(d)
    return out


def one(docs, kind):
    items = by_kind(docs).get(kind, [])
    if len(items) != 1:
        raise Failure(f"expected one {kind}, got {len(items)}")
    return items[0]


def named(docs, kind, name):
    items = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    if len(items) != 1:
        raise Failure(f"expected one {kind} {name}, got {len(items)}")
    return items[0]


CLUSTER_SCOPED = ("ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration",
                  "ValidatingWebhookConfiguration")
# The Istio kinds meshd serves, by group: what /validate must see.
ISTIO_KINDS = {
    "networking.istio.io": {"virtualservices", "destinationrules", "gateways", "serviceentries",
                            "workloadentries", "sidecars", "envoyfilters", "workloadgroups",
                            "proxyconfigs"},
    "security.istio.io": {"peerauthentications", "authorizationpolicies",
                          "requestauthentications"},
    "telemetry.istio.io": {"telemetries"},
    "extensions.istio.io": {"wasmplugins"},
}


def check_webhooks(docs, rev=""):
    """The two webhook configurations and the injector's ConfigMap, in istiod's shape."""
    sfx = f"-{rev}" if rev else ""
    svc = {"name": f"istiod{sfx}", "namespace": NS, "port": 443}
    v = named(docs, "ValidatingWebhookConfiguration", f"istio-validator{sfx}-{NS}")
    groups, ops = {}, set()
    for hook in v["webhooks"]:
        for rule in hook["rules"]:
            ops.add(tuple(rule["operations"]))
            for g in rule["apiGroups"]:
                groups.setdefault(g, set()).update(rule["resources"])
    hook = v["webhooks"][0]
    want_sel = {"key": "istio.io/rev", "operator": "In", "values": [rev]} if rev else \
        {"key": "istio.io/rev", "operator": "DoesNotExist"}
    check(len(v["webhooks"]) == 1 and groups == ISTIO_KINDS and ops == {("CREATE", "UPDATE")} and
          hook["clientConfig"]["service"] == {**svc, "path": "/validate"} and
          "caBundle" not in hook["clientConfig"] and hook["failurePolicy"] == "Ignore" and
          hook["sideEffects"] == "None" and hook["admissionReviewVersions"] == ["v1"] and
          hook["objectSelector"]["matchExpressions"] == [want_sel],
          f"ValidatingWebhookConfiguration {v['metadata']['name']}: CREATE/UPDATE of every "
          f"Istio kind meshd serves -> {svc['name']}:443/validate, failurePolicy Ignore, "
          f"objectSelector {want_sel}")
    m = named(docs, "MutatingWebhookConfiguration", f"istio-sidecar-injector{sfx}")
    hooks = {h["name"]: h for h in m["webhooks"]}
    want = {"rev.namespace.sidecar-injector.istio.io", "rev.object.sidecar-injector.istio.io"}
    if not rev:
        want |= {"namespace.sidecar-injector.istio.io", "object.sidecar-injector.istio.io"}
    check(set(hooks) == want, f"MutatingWebhookConfiguration {m['metadata']['name']}: "
          f"webhooks {', '.join(sorted(hooks))}")
    for h in hooks.values():
        check(h["clientConfig"]["service"] == {**svc, "path": "/inject"} and
              h["failurePolicy"] == "Fail" and h["reinvocationPolicy"] == "Never" and
              h["sideEffects"] == "None" and h["rules"] == [
                  {"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                   "resources": ["pods"]}], f"{h['name']}: pod CREATE -> /inject, Fail, Never")
    r = rev or "default"
    ns_sel = hooks["rev.namespace.sidecar-injector.istio.io"]["namespaceSelector"]
    obj_sel = hooks["rev.object.sidecar-injector.istio.io"]["objectSelector"]
    opt_out = {"key": "sidecar.istio.io/inject", "operator": "NotIn", "values": ["false"]}
    check({"key": "istio.io/rev", "operator": "In", "values": [r]} in
          ns_sel["matchExpressions"] and
          {"key": "istio.io/rev", "operator": "In", "values": [r]} in
          obj_sel["matchExpressions"] and opt_out in obj_sel["matchExpressions"],
          f"injection selects namespace or pod label istio.io/rev={r}; "
          "sidecar.istio.io/inject=false opts out")
    if not rev:
        check(hooks["namespace.sidecar-injector.istio.io"]["namespaceSelector"] ==
              {"matchExpressions": [{"key": "istio-injection", "operator": "In",
                                     "values": ["enabled"]}]} and
              {"key": "sidecar.istio.io/inject", "operator": "In", "values": ["true"]} in
              hooks["object.sidecar-injector.istio.io"]["objectSelector"]["matchExpressions"],
              "default revision: namespace istio-injection=enabled, or pod "
              "sidecar.istio.io/inject=true")
    cm = named(docs, "ConfigMap", f"istio-sidecar-injector{sfx}")
    values = json.loads(cm["data"]["values"])
    check(cm["metadata"]["namespace"] == NS and "policy: \"enabled\"" in cm["data"]["config"]
          and values["global"]["hub"] == "docker.io/istio" and
          values["global"]["proxy"]["image"] == "proxyv2" and
          values["global"]["istioNamespace"] == NS and values["revision"] == rev and
          values["meshConfig"]["trustDomain"] == "cluster.local",
          f"ConfigMap istio-sidecar-injector{sfx}: config (policy) and values (JSON) "
          "as meshd's injector reads them")


def check_disabled(docs):
    kinds = set(by_kind(docs))
    check(not kinds & {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} and
          not any(d["metadata"]["name"].startswith("istio-sidecar-injector") for d in docs),
          "validation.enabled=false, sidecarInjectorWebhook.enabled=false: no webhook "
          "configurations, no injector ConfigMap")


def container(deploy):
    return deploy["spec"]["template"]["spec"]["containers"][0]


def check_default(docs):
    kinds = sorted(by_kind(docs))
    check(kinds == sorted(["ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment",
                           "HorizontalPodAutoscaler", "MutatingWebhookConfiguration",
                           "PodDisruptionBudget", "Role", "RoleBinding", "Service",
                           "ServiceAccount", "ValidatingWebhookConfiguration"]),
          f"default install renders {len(docs)} objects: {', '.join(kinds)}")
    misplaced = [d["kind"] for d in docs if d["kind"] not in CLUSTER_SCOPED
                 and d["metadata"].get("namespace") != NS]
    check(not misplaced, f"every namespaced object is in the release namespace {NS}")
    svc = one(docs, "Service")
    ports = {(p["name"], p["port"], p.get("targetPort", p["port"])) for p in svc["spec"]["ports"]}
    check(svc["metadata"]["name"] == "istiod" and ports == {
        ("grpc-xds", 15010, 15010), ("https-dns", 15012, 15012),
        ("https-webhook", 443, 15017), ("http-monitoring", 15014, 15014)},
        "Service istiod: 15010 grpc-xds, 15012 https-dns, 443->15017 https-webhook, "
        "15014 http-monitoring")
    dep = one(docs, "Deployment")
    c = container(dep)
    args = c["args"]
    check(args[0] == "discovery" and "--monitoringAddr=:15014" in args and
          args[args.index("--keepaliveMaxServerConnectionAge") + 1] == "30m" and
          args[args.index("--meshConfig") + 1] == "/etc/istio/config/mesh" and
          args[args.index("--domain") + 1] == "cluster.local",
          "Deployment istiod runs istiod's args: " + " ".join(args))
    probe = c["readinessProbe"]["httpGet"]
    check(probe == {"path": "/ready", "port": 8080}, "readiness is GET /ready on 8080")
    env = {e["name"]: e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") for e in c["env"]}
    check(env.get("POD_NAME") == "metadata.name" and env.get("POD_NAMESPACE") ==
          "metadata.namespace", "POD_NAME and POD_NAMESPACE come from the downward API")
    check(c["resources"]["requests"] == {"cpu": "500m", "memory": "2048Mi"},
          "resources request 500m / 2048Mi")
    vols = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    token = vols["istio-token"]["projected"]["sources"][0]["serviceAccountToken"]
    check(token["audience"] == "istio-ca", "projected token with audience istio-ca")
    check(vols["cacerts"]["secret"] == {"secretName": "cacerts", "optional": True} and
          mounts["cacerts"] == "/etc/cacerts" and
          args[args.index("--cacertsDir") + 1] == "/etc/cacerts",
          "optional plug-in CA secret cacerts at /etc/cacerts, read with --cacertsDir")
    check(vols["config-volume"]["configMap"]["name"] == "istio" and
          mounts["config-volume"] == "/etc/istio/config",
          "ConfigMap istio mounted at /etc/istio/config")
    cm = named(docs, "ConfigMap", "istio")
    check( "rootNamespace: istio-system" in cm["data"]["mesh"],
          "ConfigMap istio carries MeshConfig under key mesh")
    check("replicas" not in dep["spec"] and
          one(docs, "HorizontalPodAutoscaler")["spec"]["maxReplicas"] == 5 and
          one(docs, "PodDisruptionBudget")["spec"]["minAvailable"] == 1,
          "autoscaled (HPA 1..5), PodDisruptionBudget minAvailable 1")
    crb = one(docs, "ClusterRoleBinding")
    check(crb["subjects"] == [{"kind": "ServiceAccount", "name": "istiod", "namespace": NS}] and
          one(docs, "ServiceAccount")["metadata"]["name"] == "istiod",
          "ClusterRoleBinding binds ServiceAccount istiod")
    check_webhooks(docs)


def check_revision(docs):
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    want = {("Deployment", "istiod-canary"), ("Service", "istiod-canary"),
            ("ServiceAccount", "istiod-canary"), ("ConfigMap", "istio-canary"),
            ("Role", "istiod-canary"), ("ClusterRole", f"istiod-clusterrole-canary-{NS}"),
            ("ConfigMap", "istio-sidecar-injector-canary"),
            ("MutatingWebhookConfiguration", "istio-sidecar-injector-canary"),
            ("ValidatingWebhookConfiguration", f"istio-validator-canary-{NS}")}
    check(want <= names, "revision canary: every name carries -canary")
    dep = one(docs, "Deployment")
    args = container(dep)["args"]
    check(dep["spec"]["selector"]["matchLabels"]["istio.io/rev"] == "canary" and
          args[args.index("--leaseName") + 1] == "meshd-leader-canary",
          "revision canary: pods labelled istio.io/rev=canary, own lease")
    check_webhooks(docs, "canary")


def check_custom(render_bin, workdir):
    values = os.path.join(workdir, "custom-values.yaml")
    write_atomic(values, """\
autoscaleEnabled: false
replicaCount: 3
hub: registry.example/mesh
tag: "1.2"
env:
  PILOT_DEBOUNCE_AFTER: 250ms
nodeSelector:
  kubernetes.io/os: linux
tolerations:
- {key: dedicated, operator: Equal, value: mesh, effect: NoSchedule}
podAnnotations:
  example.com/team: mesh
pdb:
  enabled: false
meshConfig:
  accessLogFile: /dev/stdout
""")
    docs = render(render_bin, "--name", "meshd", "--namespace", NS, "-f", values,
                  "--set", "logLevel=default:debug,trustDomain=example.org")
    kinds = by_kind(docs)
    dep = one(docs, "Deployment")
    spec = dep["spec"]["template"]["spec"]
    c = container(dep)
    env = {e["name"]: e.get("value") for e in c["env"]}
    check("PodDisruptionBudget" not in kinds and "HorizontalPodAutoscaler" not in kinds and
          dep["spec"]["replicas"] == 3, "custom values: 3 replicas, no HPA, no PDB")
    check(c["image"] == "registry.example/mesh/meshd:1.2" and
          env.get("PILOT_DEBOUNCE_AFTER") == "250ms" and
          spec["nodeSelector"] == {"kubernetes.io/os": "linux"} and
          spec["tolerations"][0]["key"] == "dedicated" and
          dep["spec"]["template"]["metadata"]["annotations"]["example.com/team"] == "mesh",
          "custom values: image, env, nodeSelector, tolerations, podAnnotations")
    check("--log_output_level=default:debug" in c["args"] and
          c["args"][c["args"].index("--trustDomain") + 1] == "example.org" and
          "accessLogFile: /dev/stdout" in named(docs, "ConfigMap", "istio")["data"]["mesh"],
          "--set and meshConfig reach the args and ConfigMap istio")


class Api:
    def __init__(self, workdir, webhook_port):
        # Admission calls to Service istiod:443 go to the port meshd's webhooks listen on.
        env = dict(os.environ, FAKE_APISERVER_WEBHOOK_HOSTS=f"istiod.{NS}.svc:443="
                   f"127.0.0.1:{webhook_port}")
        self.proc = spawn([sys.executable, FAKE, "--port", "0", "--exit-with-parent"], env=env,
                          stderr=open(os.path.join(workdir, "api.log"), "w"),
                          stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "PORT":
            raise Failure("fake API server did not start")
        self.port = int(line[1])

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                     method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read().decode() or "null")


# Rights a fresh start does not exercise: PATCH of istio-ca-root-cert when a namespace's copy
# differs from the root (root_cert_publisher.cc), PATCH of istio-ca-secret when the stored root
# is replaced (ca_secret_store.cc).
ONLY_WHEN_STALE = {("patch", "", "configmaps"), ("patch", "", "secrets")}
# Rights used only when a proxy asks for something: a gateway's credentialName secret is
# served over SDS only after a SubjectAccessReview for the gateway's service account
# (controller/kube/secret_access_reviewer.cc). Exercising it needs a gateway proxy (an ADS
# client with router metadata and a workload certificate) asking for kubernetes://<secret>,
# which this test does not run; tests/e2e covers the SDS path and the reviewer's own unit test
# its request and response.
ON_DEMAND = {("create", "authorization.k8s.io", "subjectaccessreviews")}
# The status writer reads and writes the status of the objects that exist; this run holds
# one Istio object, VirtualService default/reviews, so only its kind's rights are exercised.
PER_OBJECT = {(verb, g, res) for g, plurals in ISTIO_KINDS.items() for p in plurals
              if p != "virtualservices"
              for verb, res in (("get", p), ("update", p + "/status"))}


def rule_allows(rule, a):
    def has(field, value):
        vals = rule.get(field) or []
        return "*" in vals or value in vals
    resource = a["resource"] + ("/" + a["subresource"] if a["subresource"] else "")
    names = rule.get("resourceNames") or []
    return has("apiGroups", a["apiGroup"]) and has("resources", resource) and \
        has("verbs", a["verb"]) and (not names or a["name"] in names)


def allowed(a, cluster_rules, ns_rules):
    if "nonResourceURL" in a:
        return a["verb"] == "get" and a["nonResourceURL"].startswith(DISCOVERY_PREFIXES)
    if any(rule_allows(r, a) for r in cluster_rules):
        return True
    return a["namespace"] == NS and any(rule_allows(r, a) for r in ns_rules)


def start_meshd(args, docs, api, workdir, kubeconfig, webhook_port):
    """meshd as the rendered Deployment's pod would run it, with container paths mapped."""
    dep = one(docs, "Deployment")
    pod = dep["spec"]["template"]["spec"]
    c = container(dep)
    root = os.path.join(workdir, "pod")
    mapped = {}
    for v in pod["volumes"]:
        d = os.path.join(root, v["name"])
        os.makedirs(d, exist_ok=True)
        if "configMap" in v:
            cm = api.call("GET", f"/api/v1/namespaces/{NS}/configmaps/{v['configMap']['name']}")
            for k, text in cm["data"].items():
                write_atomic(os.path.join(d, k), text)
        elif "projected" in v:
            for src in v["projected"]["sources"]:
                write_atomic(os.path.join(d, src["serviceAccountToken"]["path"]), "tok-istiod")
        mapped[v["name"]] = d
    mounts = sorted(((m["mountPath"], mapped[m["name"]]) for m in c["volumeMounts"]),
                    key=lambda m: -len(m[0]))

    def to_host(a):
        for path, host in mounts:
            if a == path or a.startswith(path + "/"):
                return host + a[len(path):]
        return a
    cargs = [to_host(a) for a in c["args"]]
    ports = {"--grpcAddr": free_port(), "--httpAddr": free_port(),
             "--monitoringAddr": free_port(), "--secureGRPCAddr": free_port(),
             "--webhookAddr": webhook_port}
    # The rendered args first; the test's own ports after them (a later flag wins).
    extra = [x for k, p in ports.items() for x in (k, f"127.0.0.1:{p}")]
    extra += ["--leaseDuration", "3s", "--renewDeadline", "2s", "--retryPeriod", "500ms"]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KUBERNETES_") and k != "KUBECONFIG"}
    for e in c["env"]:
        field = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        env[e["name"]] = {"metadata.name": "istiod-test-0", "metadata.namespace": NS}.get(
            field, e.get("value", ""))
    env["KUBECONFIG"] = kubeconfig
    binary = os.path.join(workdir, "meshd")
    shutil.copyfile(args.meshd, binary)
    os.chmod(binary, 0o755)
    log_path = os.path.join(workdir, "meshd.log")
    log("     meshd " + " ".join(cargs + extra))
    proc = spawn([binary, *cargs, *extra], env=env, stdout=open(log_path, "w"),
                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return proc, ports, log_path, c["readinessProbe"]["httpGet"]["path"]


def wait_until(cond, what, timeout=20, proc=None, log_path=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise Failure(f"meshd exited with {proc.returncode} while waiting for {what}:\n" +
                          open(log_path).read()[-3000:])
        try:
            if cond():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise Failure(f"timed out waiting for {what}" +
                  (":\n" + open(log_path).read()[-3000:] if log_path else ""))


BAD_VS = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - timeout: 5
    route:
    - destination: {host: reviews}
"""

GOOD_VS = BAD_VS.replace("timeout: 5", "timeout: 5s")

BAD_DR = """\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: {simple: FASTEST}
    connectionPool: {tcp: {maxConnections: "many"}}
"""


def check_crd_schema(workdir, kubeconfig):
    """The API server enforces the generated schemas: wrong types and enum values are refused
    at apply time, with kubectl's field-path message."""
    def apply(text, name):
        path = os.path.join(workdir, name)
        write_atomic(path, text)
        return subprocess.run([KUBECTL, "--kubeconfig", kubeconfig, "--cache-dir",
                               os.path.join(workdir, "kcache"), "apply", "-f", path],
                              capture_output=True, text=True, timeout=30)
    bad = apply(BAD_VS, "bad-vs.yaml")
    want = ('The VirtualService "reviews" is invalid: spec.http[0].timeout: Invalid value: '
            '"integer": spec.http[0].timeout in body must be of type string: "integer"')
    check(bad.returncode != 0 and want in bad.stderr,
          "kubectl apply of a VirtualService with timeout: 5 is refused: " + bad.stderr.strip())
    dr = apply(BAD_DR, "bad-dr.yaml")
    check(dr.returncode != 0 and "spec.trafficPolicy.loadBalancer.simple: Unsupported value: "
          '"FASTEST"' in dr.stderr and "spec.trafficPolicy.connectionPool.tcp.maxConnections"
          in dr.stderr, "a DestinationRule with an unknown enum and a string count is refused: " +
          dr.stderr.strip().replace("\n", " "))
    good = apply(GOOD_VS, "good-vs.yaml")
    check(good.returncode == 0, "the same VirtualService with timeout: 5s is accepted" +
          ("" if good.returncode == 0 else ": " + good.stderr))


BAD_REGEX_VS = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bad-regex, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match:
    - uri: {regex: "a(b"}
    route:
    - destination: {host: reviews}
"""

INJECTED_POD = """\
apiVersion: v1
kind: Namespace
metadata: {name: injected, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Pod
metadata: {name: app-0, namespace: injected, labels: {app: app}}
spec:
  containers:
  - {name: app, image: registry.example/app:1}
"""


def check_webhooks_live(api, root_pem, log_path, workdir, kubeconfig):
    """The chart's webhook configurations and injector ConfigMap, as meshd uses them: the
    leader patched its CA bundle in and flipped validation to Fail; the API server then calls
    meshd's /validate and /inject through them."""
    coll = "/apis/admissionregistration.k8s.io/v1/"
    got = {}

    def patched():
        got["v"] = api.call("GET", coll + f"validatingwebhookconfigurations/istio-validator-{NS}")
        got["m"] = api.call("GET", coll + "mutatingwebhookconfigurations/istio-sidecar-injector")
        hooks = got["v"]["webhooks"] + got["m"]["webhooks"]
        return all(h["clientConfig"].get("caBundle") for h in hooks) and \
            all(h["failurePolicy"] == "Fail" for h in got["v"]["webhooks"])
    wait_until(patched, "caBundle in the chart's webhook configurations", log_path=log_path)
    bundles = {base64.b64decode(h["clientConfig"]["caBundle"]).decode()
               for h in got["v"]["webhooks"] + got["m"]["webhooks"]}
    check(bundles == {root_pem}, "the leader patched its root into the caBundle of every "
          "webhook the chart installed")
    check([h["failurePolicy"] for h in got["v"]["webhooks"]] == ["Fail"],
          "... and switched the chart's validator from failurePolicy Ignore to Fail")
    check(f"injection values from ConfigMap {NS}/istio-sidecar-injector" in open(log_path).read(),
          "meshd's injector took the chart's ConfigMap istio-sidecar-injector")

    def apply(text, name):
        path = os.path.join(workdir, name)
        write_atomic(path, text)
        return subprocess.run([KUBECTL, "--kubeconfig", kubeconfig, "--cache-dir",
                               os.path.join(workdir, "kcache"), "apply", "-f", path],
                              capture_output=True, text=True, timeout=30)
    out = apply(BAD_REGEX_VS, "bad-regex-vs.yaml")
    check(out.returncode != 0 and 'admission webhook "rev.validation.istio.io" denied the '
          'request: VirtualService default/bad-regex: spec.http[0].match[0].uri.regex'
          in out.stderr, "through the chart's validator, meshd refuses a bad regex: " +
          out.stderr.strip())
    out = apply(INJECTED_POD, "pod.yaml")
    check(out.returncode == 0, "a pod in a namespace labelled istio-injection=enabled is "
          "admitted" + ("" if out.returncode == 0 else ": " + out.stderr))
    pod = api.call("GET", "/api/v1/namespaces/injected/pods/app-0")
    proxy = [c for c in pod["spec"]["containers"] if c["name"] == "istio-proxy"]
    env = {e["name"]: e.get("value") for e in (proxy[0]["env"] if proxy else [])}
    check(proxy and proxy[0]["image"] == "docker.io/istio/proxyv2:1.24.2" and
          env.get("CA_ADDR") == f"istiod.{NS}.svc:15012" and
          "sidecar.istio.io/status" in pod["metadata"].get("annotations", {}),
          "... and comes back injected with the chart's values: istio-proxy "
          f"{proxy[0]['image'] if proxy else '(none)'}, CA_ADDR {env.get('CA_ADDR')}")


def test(workdir, args):
    docs = render(args.render, "--name", "meshd", "--namespace", NS)
    check_default(docs)
    check_revision(render(args.render, "--name", "meshd", "--namespace", NS,
                          "--set", "revision=canary"))
    check_custom(args.render, workdir)
    check_disabled(render(args.render, "--name", "meshd", "--namespace", NS, "--set",
                          "validation.enabled=false,sidecarInjectorWebhook.enabled=false"))

    webhook_port = free_port()
    api = Api(workdir, webhook_port)
    kubeconfig = os.path.join(workdir, "kubeconfig")
    write_atomic(kubeconfig, f"""apiVersion: v1
kind: Config
clusters: [{{name: fake, cluster: {{server: "http://127.0.0.1:{api.port}"}}}}]
contexts: [{{name: fake, context: {{cluster: fake, user: fake, namespace: default}}}}]
current-context: fake
users: [{{name: fake, user: {{token: fake-token}}}}]
""")
    manifest = os.path.join(workdir, "meshd.yaml")
    write_atomic(manifest, f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {NS}}}\n" +
                 render(args.render, "--name", "meshd", "--namespace", NS, fmt_json=False))
    out = subprocess.run([KUBECTL, "--kubeconfig", kubeconfig, "--cache-dir",
                          os.path.join(workdir, "kcache"), "apply", "-f", manifest],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise Failure(f"kubectl apply of the rendered chart: {out.stderr}")
    created = [line for line in out.stdout.splitlines() if line.endswith(" created")]
    check(len(created) == len(docs) + 1,
          f"kubectl apply of the rendered chart: {len(created)} objects created")
    crds = os.path.join(CHART, "crds", "crds.yaml")
    out = subprocess.run([KUBECTL, "--kubeconfig", kubeconfig, "--cache-dir",
                          os.path.join(workdir, "kcache"), "apply", "-f", crds],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise Failure(f"kubectl apply of the generated CRDs: {out.stderr}")
    check(out.stdout.count("customresourcedefinition") == 14,
          "kubectl apply of the 14 generated CRDs (crds/crds.yaml)")
    check_crd_schema(workdir, kubeconfig)
    stored = api.call("GET", f"/apis/apps/v1/namespaces/{NS}/deployments/istiod")
    check(container(stored)["args"] == container(one(docs, "Deployment"))["args"],
          "the API server holds the Deployment with its args")

    # A workload token for TokenReview, and a namespace for the root-cert publisher.
    api.call("POST", "/_fake/tokens", [{"token": "tok-app", "audiences": ["istio-ca"],
                                        "username": "system:serviceaccount:default:app"}])
    api.call("GET", "/_fake/requests?clear=1")  # from here on, only meshd's requests

    proc, ports, log_path, ready_path = start_meshd(args, docs, api, workdir, kubeconfig,
                                                       webhook_port)

    def ready():
        url = f"http://127.0.0.1:{ports['--httpAddr']}{ready_path}"
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    wait_until(ready, "readiness", timeout=30, proc=proc, log_path=log_path)
    check(True, f"meshd started from the rendered args became ready on {ready_path}")
    text = open(log_path).read()
    check("flag --keepaliveMaxServerConnectionAge accepted for istiod compatibility, not used"
          in text, "istiod-only flags are logged as accepted, not used")

    lease = {}

    def leader():
        lease.update(api.call("GET", f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases/"
                                     "meshd-leader"))
        return lease["spec"].get("holderIdentity") == "istiod-test-0"
    wait_until(leader, "the lease", proc=proc, log_path=log_path)
    check(True, "meshd holds Lease meshd-leader as POD_NAME istiod-test-0")
    secret = api.call("GET", f"/api/v1/namespaces/{NS}/secrets/istio-ca-secret")
    check("ca-cert.pem" in secret.get("data", {}), "the CA root lives in secret istio-ca-secret")
    root = {}

    def published():
        root.update(api.call("GET", "/api/v1/namespaces/default/configmaps/istio-ca-root-cert"))
        return "root-cert.pem" in root.get("data", {})
    wait_until(published, "istio-ca-root-cert in default", proc=proc, log_path=log_path)
    check(True, "the leader published ConfigMap istio-ca-root-cert")

    # TokenReview: a workload asks the CA for a certificate with its token.
    if args.agent:
        ca_root = os.path.join(workdir, "root-cert.pem")
        write_atomic(ca_root, root["data"]["root-cert.pem"])
        write_atomic(os.path.join(workdir, "app-token"), "tok-app")
        agent = spawn([args.agent, "--caAddr", f"127.0.0.1:{ports['--secureGRPCAddr']}",
                       "--caRootCert", ca_root, "--tokenFile", os.path.join(workdir, "app-token"),
                       "--namespace", "default", "--serviceAccount", "app", "--pod", "app-0",
                       "--ip", "127.0.0.1", "--labels", "app=app",
                       "--certDir", os.path.join(workdir, "app-certs"),
                       "--bootstrap", os.path.join(workdir, "app-bootstrap.json"),
                       "--xdsAddress", f"127.0.0.1:{ports['--grpcAddr']}"],
                      stdin=subprocess.DEVNULL)
        issued = agent.stdout.readline().split()
        agent.terminate()
        check(issued[:1] == ["ISSUED"], "a workload's certificate was issued after TokenReview")

    check_webhooks_live(api, root["data"]["root-cert.pem"], log_path, workdir, kubeconfig)

    # The leader's status writer: the VirtualService applied above gets Accepted.
    vs = {}

    def status_written():
        vs.update(api.call("GET", "/apis/networking.istio.io/v1/namespaces/default/"
                                  "virtualservices/reviews"))
        conds = (vs.get("status") or {}).get("conditions") or []
        return any(c.get("type") == "Accepted" and c.get("status") == "True" for c in conds)
    wait_until(status_written, "status on VirtualService default/reviews", proc=proc,
               log_path=log_path)
    check(True, "the leader wrote status Accepted=True on VirtualService default/reviews")

    # Stop meshd first: a watch is recorded when it ends.
    proc.terminate()
    proc.wait(15)
    wait_until(lambda: api.call("GET", "/_fake/state")["openWatches"] == 0,
               "meshd's watches to end")
    # meshd's own requests (its User-Agent), not the test's or kubectl's.
    reqs = [r for r in api.call("GET", "/_fake/requests")["requests"]
            if not r["path"].startswith("/_fake/") and r.get("userAgent") == "meshd"]
    cluster_rules = one(docs, "ClusterRole")["rules"]
    ns_rules = one(docs, "Role")["rules"]
    denied = sorted({json.dumps(r["attributes"], sort_keys=True) for r in reqs
                     if not allowed(r["attributes"], cluster_rules, ns_rules)})
    seen = {(a["verb"], a.get("apiGroup"),
             a["resource"] + ("/" + a["subresource"] if a.get("subresource") else ""))
            for a in (r["attributes"] for r in reqs) if "resource" in a}
    log(f"     meshd made {len(reqs)} requests; distinct (verb, group, resource): {len(seen)}")
    for s in sorted(seen, key=str):
        log(f"       {s}")
    check(not denied, "every request meshd made is allowed by the rendered ClusterRole/Role" +
          ("" if not denied else ":\n  denied: " + "\n  denied: ".join(denied)))
    # Least rights: every rule of the chart is exercised by some request, except the writes
    # that only happen when something is stale (not in a fresh start).
    unused = []
    for kind, rules in (("ClusterRole", cluster_rules), ("Role", ns_rules)):
        for rule in rules:
            for g in rule["apiGroups"]:
                for res in rule["resources"]:
                    for verb in rule["verbs"]:
                        if (verb, g, res) not in seen and (verb, g, res) not in ONLY_WHEN_STALE | ON_DEMAND | PER_OBJECT:
                            unused.append(f"{kind} {verb} {g or 'core'}/{res}")
    check(not unused, "every right in the chart is used by meshd" +
          ("" if not unused else f" (unused: {', '.join(unused)})"))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--meshd", required=True)
    ap.add_argument("--render", required=True)
    ap.add_argument("--agent", default="")
    a = ap.parse_args()
    sys.exit(main(lambda workdir: test(workdir, a)))
