#!/usr/bin/env python3
"""End-to-end test of tests/kube/fake_apiserver.py: the real kubectl plus raw HTTP.

Run: python3 tests/kube/fake_apiserver_test.py   (exit status 0 = pass; about 15 s)
Env: KUBECTL (default /usr/bin/kubectl).
"""

import base64
import http.client
import json
import os
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "fake_apiserver.py")
KUBECTL = os.environ.get("KUBECTL", "/usr/bin/kubectl")
PYTHON = shutil.which("python3") or sys.executable

VS = "/apis/networking.istio.io/%s/namespaces/default/virtualservices"
CM = "/api/v1/namespaces/default/configmaps"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/istio-system/leases"

MANIFEST = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: WEIGHT1
    - destination: {host: reviews, subset: v2}
      weight: WEIGHT2
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
---
apiVersion: v1
kind: Service
metadata:
  name: reviews
  labels: {app: reviews}
spec:
  selector: {app: reviews}
  ports:
  - name: http
    port: 9080
  - name: grpc
    port: 9090
    targetPort: TARGETPORT
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: reviews-abc12
  labels: {kubernetes.io/service-name: reviews}
addressType: IPv4
ports:
- name: http
  port: 9080
  protocol: TCP
endpoints:
- addresses: ["10.1.0.7"]
  conditions: {ready: true}
"""


class Failure(Exception):
    pass


def check(cond, what, detail=""):
    if not cond:
        raise Failure("%s%s" % (what, (": " + str(detail)) if detail != "" else ""))
    print("  ok   %s" % what, flush=True)


# ------------------------------------------------------------------------------------------
# Server process
# ------------------------------------------------------------------------------------------


class FakeServer:
    def __init__(self, tmp, *args, name="server"):
        self.log_path = os.path.join(tmp, name + ".log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([PYTHON, SERVER, "--port", "0", "--max-lifetime", "120",
                                      *args], stdout=subprocess.PIPE, stderr=self.log)
        deadline = time.monotonic() + 15
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise Failure("server did not print its port: %r; log: %s"
                              % (line, open(self.log_path).read()))
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if r:
                b = os.read(self.proc.stdout.fileno(), 1)
                if not b:
                    continue
                line += b
        check(line.startswith(b"PORT "), "server prints 'PORT <n>' first", line)
        self.port = int(line.split()[1])

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def call(port, method, path, body=None, ctype="application/json", headers=None):
    """One request on a fresh keep-alive connection: (status, headers, decoded JSON or text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
        h = {"Accept": "application/json"}
        if data is not None:
            h["Content-Type"] = ctype
        h.update(headers or {})
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, parsed
    finally:
        conn.close()


class RawWatch:
    """A raw-socket watch client that sees the chunk framing."""

    def __init__(self, port, path, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: application/json"
                           "\r\nUser-Agent: raw-watch\r\n\r\n" % (path, port)).encode())
        self.f = self.sock.makefile("rb")
        status = self.f.readline().decode()
        self.status = int(status.split()[1])
        self.headers = {}
        while True:
            line = self.f.readline().decode().strip()
            if not line:
                break
            k, v = line.split(":", 1)
            self.headers[k.strip().lower()] = v.strip()
        self.ended = False  # saw the terminating zero-length chunk

    def chunk(self, timeout=10):
        """Next chunk payload; None after the terminating chunk; raises EOFError if the server
        closed without one; socket.timeout on timeout."""
        self.sock.settimeout(timeout)
        line = self.f.readline()
        if not line:
            raise EOFError("connection closed without a terminating chunk")
        size = int(line.strip(), 16)
        if size == 0:
            self.f.readline()
            self.ended = True
            return None
        data = self.f.read(size)
        self.f.readline()
        return data

    def event(self, timeout=10):
        data = self.chunk(timeout)
        if data is None:
            return None
        if not data.endswith(b"\n") or data.count(b"\n") != 1:
            raise Failure("watch chunk is not exactly one line: %r" % data[:200])
        return json.loads(data)

    def rest(self, timeout=10):
        evs = []
        while True:
            e = self.event(timeout)
            if e is None:
                return evs
            evs.append(e)

    def close(self):
        for c in (self.f, self.sock):  # the socket stays open while its makefile() is open
            try:
                c.close()
            except OSError:
                pass


def rv_of(obj):
    return obj["metadata"]["resourceVersion"]


def current_rv(port):
    return call(port, "GET", "/_fake/state")[2]["resourceVersion"]

# ------------------------------------------------------------------------------------------
# kubectl
# ------------------------------------------------------------------------------------------


def write_kubeconfig(path, server, token="fake-token", ca_data=None):
    cluster = {"server": server}
    if ca_data:
        cluster["certificate-authority-data"] = ca_data
    # JSON is valid YAML.
    cfg = {"apiVersion": "v1", "kind": "Config",
           "clusters": [{"name": "fake", "cluster": cluster}],
           "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake",
                                                     "namespace": "default"}}],
           "current-context": "fake",
           "users": [{"name": "fake", "user": {"token": token}}]}
    with open(path, "w") as f:
        json.dump(cfg, f)


def kubectl(tmp, kubeconfig, *args, ok=True):
    cmd = [KUBECTL, "--kubeconfig", kubeconfig, "--cache-dir", os.path.join(tmp, "kcache"),
           *args]
    env = dict(os.environ, HOME=tmp)
    env.pop("KUBECONFIG", None)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    if ok and p.returncode != 0:
        raise Failure("kubectl %s failed (%d): %s %s" % (" ".join(args), p.returncode, p.stdout,
                                                         p.stderr))
    return p


def test_kubectl(tmp, port):
    print("kubectl %s against http://127.0.0.1:%d" % (KUBECTL, port), flush=True)
    kc = os.path.join(tmp, "kubeconfig")
    write_kubeconfig(kc, "http://127.0.0.1:%d" % port)
    manifest = os.path.join(tmp, "bookinfo.yaml")

    def write(w1, w2, tport):
        with open(manifest, "w") as f:
            f.write(MANIFEST.replace("WEIGHT1", str(w1)).replace("WEIGHT2", str(w2))
                    .replace("TARGETPORT", str(tport)))

    write(80, 20, 19090)
    out = kubectl(tmp, kc, "apply", "-f", manifest).stdout
    check(out.count(" created") == 4, "kubectl apply -f creates VS(v1beta1), DR(v1), Service, "
          "EndpointSlice", out)
    out = kubectl(tmp, kc, "get", "virtualservices", "-A").stdout
    check("reviews" in out and "default" in out, "kubectl get virtualservices -A", out)
    vs = json.loads(kubectl(tmp, kc, "get", "vs", "reviews", "-o", "json").stdout)
    check(vs["apiVersion"] == "networking.istio.io/v1",
          "kubectl get vs reviews -o json uses the preferred version v1", vs["apiVersion"])
    check(vs["metadata"].get("generation") == 1 and vs["metadata"].get("uid"),
          "server set generation 1 and uid")
    rv1 = rv_of(vs)
    for v in ("v1beta1", "v1alpha3"):
        st, _, o = call(port, "GET", VS % v + "/reviews")
        check(st == 200 and o["apiVersion"] == "networking.istio.io/" + v and rv_of(o) == rv1,
              "the same stored object is served at %s" % v)
    st, _, svc = call(port, "GET", "/api/v1/namespaces/default/services/reviews")
    check(st == 200 and svc["spec"].get("clusterIP"), "Service got a clusterIP",
          svc["spec"])

    out = kubectl(tmp, kc, "apply", "-f", manifest).stdout
    check(out.count(" unchanged") == 4, "re-apply of the same file is unchanged", out)
    check(rv_of(call(port, "GET", VS % "v1" + "/reviews")[2]) == rv1,
          "unchanged apply keeps the resourceVersion")

    write(70, 30, 29090)
    out = kubectl(tmp, kc, "apply", "-f", manifest).stdout
    check("virtualservice.networking.istio.io/reviews configured" in out and
          "service/reviews configured" in out, "apply with a changed weight configures", out)
    vs2 = json.loads(kubectl(tmp, kc, "get", "vs", "reviews", "-o", "json").stdout)
    check(rv_of(vs2) != rv1, "resourceVersion changed (%s -> %s)" % (rv1, rv_of(vs2)))
    check(vs2["metadata"]["generation"] == 2, "generation bumped to 2",
          vs2["metadata"]["generation"])
    check([r["weight"] for r in vs2["spec"]["http"][0]["route"]] == [70, 30],
          "weights updated to 70/30")
    st, _, svc = call(port, "GET", "/api/v1/namespaces/default/services/reviews")
    ports = {p["name"]: p for p in svc["spec"]["ports"]}
    check(len(ports) == 2 and ports["grpc"]["targetPort"] == 29090 and
          ports["http"]["targetPort"] == 9080,
          "strategic-merge-patch of the Service kept both ports", svc["spec"]["ports"])

    out = kubectl(tmp, kc, "delete", "-f", manifest).stdout
    check(out.count(" deleted") == 4, "kubectl delete -f", out)
    st, _, o = call(port, "GET", VS % "v1" + "/reviews")
    check(st == 404 and o["reason"] == "NotFound" and o["details"]["name"] == "reviews" and
          o["message"] == 'virtualservices.networking.istio.io "reviews" not found',
          "GET after delete: 404 Status with details", o)
    p = kubectl(tmp, kc, "get", "vs", "reviews", ok=False)
    check(p.returncode != 0 and "not found" in p.stderr, "kubectl get of a missing object "
          "reports NotFound", p.stderr.strip())

    # Finalizers: kubectl delete waits (LIST + WATCH on metadata.name) until they are removed.
    st, _, _ = call(port, "POST", CM, {"metadata": {"name": "held",
                                                    "finalizers": ["example.com/hold"]}})
    proc = subprocess.Popen([KUBECTL, "--kubeconfig", kc, "--cache-dir",
                             os.path.join(tmp, "kcache"), "delete", "configmap", "held",
                             "--timeout=20s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, HOME=tmp))
    try:
        deadline = time.monotonic() + 10
        held = None
        while time.monotonic() < deadline:
            held = call(port, "GET", CM + "/held")[2]
            state = call(port, "GET", "/_fake/state")[2]
            if held["metadata"].get("deletionTimestamp") and state["openWatches"] >= 1:
                break
            time.sleep(0.1)
        check(held["metadata"].get("deletionTimestamp"), "DELETE with a finalizer sets "
              "deletionTimestamp and kubectl watches for the deletion")
        check(proc.poll() is None, "kubectl delete is still waiting")
        st, _, _ = call(port, "PATCH", CM + "/held", {"metadata": {"finalizers": None}},
                        "application/merge-patch+json")
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    check(proc.returncode == 0 and "deleted" in out and
          call(port, "GET", CM + "/held")[0] == 404,
          "removing the finalizer deletes the object and kubectl returns", out + err)

# ------------------------------------------------------------------------------------------
# Raw HTTP
# ------------------------------------------------------------------------------------------


def vs_body(name, hosts=None, labels=None, **meta):
    md = dict(meta, name=name)
    if labels:
        md["labels"] = labels
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": md,
            "spec": {"hosts": hosts or [name]}}


def test_discovery_and_errors(port):
    print("discovery, OpenAPI, verbs and errors", flush=True)
    st, _, d = call(port, "GET", "/api/v1")
    names = {r["name"] for r in d["resources"]}
    check({"services", "services/status", "pods", "namespaces", "configmaps", "secrets",
           "nodes"} <= names, "/api/v1 lists core resources with status subresources")
    st, _, d = call(port, "GET", "/apis/networking.istio.io/v1beta1")
    vsr = next(r for r in d["resources"] if r["name"] == "virtualservices")
    check(vsr["shortNames"] == ["vs"] and vsr["namespaced"] and vsr["kind"] == "VirtualService",
          "/apis/networking.istio.io/v1beta1 describes virtualservices")
    st, _, d = call(port, "GET", "/apis")
    g = {x["name"]: x for x in d["groups"]}
    check(g["networking.istio.io"]["preferredVersion"]["version"] == "v1" and
          {"security.istio.io", "discovery.k8s.io", "coordination.k8s.io",
           "authentication.k8s.io", "admissionregistration.k8s.io"} <= set(g),
          "/apis lists the groups, networking.istio.io prefers v1")
    st, _, root = call(port, "GET", "/openapi/v3")
    url = root["paths"]["apis/networking.istio.io/v1beta1"]["serverRelativeURL"]
    st, _, doc = call(port, "GET", url)
    patch = doc["paths"]["/apis/networking.istio.io/v1beta1/namespaces/{namespace}/"
                         "virtualservices/{name}"]["patch"]
    check(patch["x-kubernetes-group-version-kind"]["kind"] == "VirtualService" and
          any(p["name"] == "fieldValidation" for p in patch["parameters"]),
          "OpenAPI v3 GV doc has PATCH with x-kubernetes-group-version-kind + fieldValidation")

    base = VS % "v1"
    st, _, o = call(port, "POST", base, vs_body("e1"))
    check(st == 201 and o["metadata"]["generation"] == 1, "POST creates (201)")
    st, _, o = call(port, "POST", base, vs_body("e1"))
    check(st == 409 and o["reason"] == "AlreadyExists", "POST of an existing name: 409 "
          "AlreadyExists")
    st, _, o = call(port, "POST", base, {"metadata": {"generateName": "gen-"},
                                         "spec": {"hosts": ["x"]}})
    check(st == 201 and o["metadata"]["name"].startswith("gen-") and
          len(o["metadata"]["name"]) == 9, "generateName", o["metadata"]["name"])
    st, _, o = call(port, "POST", "/apis/networking.istio.io/v1/namespaces/other/"
                    "virtualservices", vs_body("e2", namespace="default"))
    check(st == 400 and o["reason"] == "BadRequest", "namespace in body != URL: 400")
    st, _, o = call(port, "PUT", base + "/e1", vs_body("e1", hosts=["y"]))
    check(st == 422 and o["reason"] == "Invalid" and "must be specified for an update" in
          o["message"], "CR PUT without resourceVersion: 422", o.get("message"))
    st, _, o = call(port, "PATCH", base + "/e1", {"spec": {"hosts": ["z"]}},
                    "application/strategic-merge-patch+json")
    check(st == 415 and o["reason"] == "UnsupportedMediaType", "strategic merge patch on a CR: "
          "415")
    st, _, o = call(port, "PATCH", base + "/e1", [{"op": "replace", "path": "/spec/hosts/0",
                                                   "value": "jp"}],
                    "application/json-patch+json")
    check(st == 200 and o["spec"]["hosts"] == ["jp"] and o["metadata"]["generation"] == 2,
          "JSON patch")
    st, _, o = call(port, "PATCH", base + "/applied", vs_body("applied"),
                    "application/apply-patch+yaml")
    check(st == 201, "apply-patch creates when absent (201)")
    st, _, o = call(port, "PATCH", base + "/applied?fieldManager=t&force=true",
                    {"metadata": {"name": "applied", "labels": {"a": "b"}}},
                    "application/apply-patch+yaml")
    check(st == 200 and o["metadata"]["labels"] == {"a": "b"} and
          o["metadata"]["generation"] == 1, "apply-patch on an existing object; a metadata-only "
          "change keeps generation")
    st, _, o = call(port, "PATCH", base + "/e1", {"metadata": {"resourceVersion": "1"}},
                    "application/merge-patch+json")
    check(st == 409 and o["reason"] == "Conflict", "patch with a stale RV precondition: 409")
    st, _, o = call(port, "GET", "/apis/networking.istio.io/v9/virtualservices")
    check(st == 404 and o["kind"] == "Status", "unknown version: 404 Status")
    st, _, o = call(port, "GET", base + "?labelSelector=" + quote("a in (b"))
    check(st == 400 and o["reason"] == "BadRequest", "bad label selector: 400")


def test_status_subresource(port):
    print("status subresource", flush=True)
    base = VS % "v1"
    st, _, o = call(port, "POST", base, dict(vs_body("st"), status={"ignored": True}))
    check(st == 201 and "status" not in o, "status is dropped on create")
    o["status"] = {"validationMessages": [{"type": {"code": "IST0101"}}]}
    o["spec"]["hosts"] = ["changed-by-status-put"]
    st, _, s = call(port, "PUT", base + "/st/status", o)
    check(st == 200 and s["status"] == o["status"] and s["spec"]["hosts"] == ["st"] and
          s["metadata"]["generation"] == 1, "PUT /status changes only status, no generation bump")
    s["status"] = {"other": 1}
    s["spec"]["hosts"] = ["new"]
    st, _, m = call(port, "PUT", base + "/st", s)
    check(st == 200 and m["status"] == o["status"] and m["spec"]["hosts"] == ["new"] and
          m["metadata"]["generation"] == 2, "main PUT ignores status and bumps generation")
    st, _, same = call(port, "PUT", base + "/st", m)
    check(st == 200 and rv_of(same) == rv_of(m), "no-op PUT keeps the resourceVersion")
    st, _, o = call(port, "PUT", base + "/st", s)
    check(st == 409 and o["reason"] == "Conflict" and "the object has been modified" in
          o["message"], "PUT with a stale RV: 409 Conflict")


def test_list(port):
    print("list: selectors and pagination", flush=True)
    for i in range(5):
        labels = {"app": "pg", "idx": str(i)}
        if i % 2 == 0:
            labels["even"] = "true"
        st, _, _ = call(port, "POST", CM, {"metadata": {"name": "pg-%d" % i, "labels": labels},
                                           "data": {"i": str(i)}})
    q = lambda s: CM + "?labelSelector=" + quote(s)
    names = lambda o: [x["metadata"]["name"] for x in o["items"]]
    check(names(call(port, "GET", q("app=pg,even"))[2]) == ["pg-0", "pg-2", "pg-4"],
          "labelSelector: equality + exists")
    check(names(call(port, "GET", q("app==pg,!even"))[2]) == ["pg-1", "pg-3"],
          "labelSelector: == and !key")
    check(names(call(port, "GET", q("idx in (1,3, 4)"))[2]) == ["pg-1", "pg-3", "pg-4"],
          "labelSelector: in")
    check(names(call(port, "GET", q("app=pg,idx notin (0,1),idx!=4"))[2]) == ["pg-2", "pg-3"],
          "labelSelector: notin and !=")
    check(names(call(port, "GET", CM + "?fieldSelector=" + quote("metadata.name=pg-3"))[2]) ==
          ["pg-3"], "fieldSelector metadata.name")
    st, _, o = call(port, "GET", "/api/v1/configmaps?fieldSelector=" +
                    quote("metadata.namespace=default,metadata.name!=pg-0") + "&labelSelector=app")
    check(names(o) == ["pg-1", "pg-2", "pg-3", "pg-4"], "all-namespaces list with field selector")
    st, _, o = call(port, "GET", CM + "?fieldSelector=" + quote("spec.foo=bar"))
    check(st == 400, "unsupported field selector: 400")

    got, cont, rvs = [], "", set()
    while True:
        st, _, o = call(port, "GET", q("app=pg") + "&limit=2" +
                        ("&continue=" + quote(cont) if cont else ""))
        check(st == 200 and len(o["items"]) <= 2, "page of at most 2 items")
        got += names(o)
        rvs.add(o["metadata"]["resourceVersion"])
        cont = o["metadata"].get("continue")
        if not cont:
            break
        if len(got) == 2:  # a write between pages must not show up (snapshot semantics)
            call(port, "POST", CM, {"metadata": {"name": "pg-2a", "labels": {"app": "pg"}}})
    check(got == ["pg-%d" % i for i in range(5)] and len(rvs) == 1,
          "limit/continue returns every item once from one snapshot RV", got)
    st, _, o = call(port, "GET", q("app=pg") + "&limit=2")
    cont = o["metadata"]["continue"]
    call(port, "POST", "/_fake/compact")
    st, _, o = call(port, "GET", q("app=pg") + "&limit=2&continue=" + quote(cont))
    check(st == 410 and o["reason"] == "Expired", "continue token after compaction: 410 Expired",
          o)


def test_watch(port):
    print("watch", flush=True)
    ns_path = VS % "v1"
    r0 = current_rv(port)
    call(port, "POST", ns_path, vs_body("w-a", labels={"team": "x"}))
    call(port, "POST", ns_path, vs_body("w-b", labels={"team": "y"}))
    st, _, a = call(port, "PATCH", ns_path + "/w-a", {"spec": {"hosts": ["w-a2"]}},
                    "application/merge-patch+json")
    call(port, "PUT", ns_path + "/w-a", a)  # no-op: no event
    st, _, _ = call(port, "DELETE", ns_path + "/w-b", {"propagationPolicy": "Background"})
    check(st == 200, "DELETE without finalizers: 200 + object")

    t0 = time.monotonic()
    w = RawWatch(port, ns_path + "?watch=true&resourceVersion=%s&timeoutSeconds=1" % r0)
    check(w.status == 200 and w.headers.get("transfer-encoding") == "chunked",
          "watch answers 200 chunked")
    evs = w.rest()
    w.close()
    kinds = [(e["type"], e["object"]["metadata"]["name"]) for e in evs]
    check(kinds == [("ADDED", "w-a"), ("ADDED", "w-b"), ("MODIFIED", "w-a"), ("DELETED", "w-b")],
          "watch from RV=N replays later events in order (no-op update emitted nothing)", kinds)
    rvs = [int(rv_of(e["object"])) for e in evs]
    check(rvs == sorted(rvs) and rvs[0] > int(r0) and
          evs[0]["object"]["apiVersion"] == "networking.istio.io/v1",
          "replayed events carry increasing RVs and the requested apiVersion")
    check(w.ended and 0.8 < time.monotonic() - t0 < 3, "timeoutSeconds ends the stream "
          "cleanly with a terminating chunk")

    w = RawWatch(port, "/apis/networking.istio.io/v1beta1/virtualservices?watch=1&"
                 "labelSelector=team&timeoutSeconds=5")
    e = w.event()
    check(e["type"] == "ADDED" and e["object"]["metadata"]["name"] == "w-a" and
          e["object"]["apiVersion"] == "networking.istio.io/v1beta1",
          "all-namespaces watch without RV starts with synthetic ADDED")
    t1 = time.monotonic()
    call(port, "POST", ns_path, vs_body("w-c", labels={"team": "z"}))
    call(port, "POST", ns_path, vs_body("w-nolabel"))
    e = w.event()
    check(e["type"] == "ADDED" and e["object"]["metadata"]["name"] == "w-c" and
          time.monotonic() - t1 < 1, "live event arrives immediately, flushed per event")
    call(port, "PATCH", ns_path + "/w-c", {"metadata": {"labels": None}},
         "application/merge-patch+json")
    e = w.event()
    check(e["type"] == "DELETED" and e["object"]["metadata"]["name"] == "w-c",
          "an object leaving the label selector arrives as DELETED")
    w.close()

    # Bookmarks (server started with --bookmark-secs 1).
    w = RawWatch(port, ns_path + "?watch=true&resourceVersion=%s&allowWatchBookmarks=true&"
                 "timeoutSeconds=30" % current_rv(port))
    t1 = time.monotonic()
    e = w.event(timeout=5)
    check(e["type"] == "BOOKMARK" and time.monotonic() - t1 < 2.5 and
          rv_of(e["object"]) == current_rv(port) and e["object"]["kind"] == "VirtualService",
          "BOOKMARK with the current RV arrives after ~1 s")
    w.close()
    deadline = time.monotonic() + 3
    while call(port, "GET", "/_fake/state")[2]["openWatches"] and time.monotonic() < deadline:
        time.sleep(0.05)
    check(call(port, "GET", "/_fake/state")[2]["openWatches"] == 0,
          "server notices disconnected watchers and cleans up")

    # Compaction -> 410 inside a 200 stream.
    st, _, c = call(port, "POST", "/_fake/compact")
    w = RawWatch(port, ns_path + "?watch=true&resourceVersion=%s" % r0)
    e = w.event()
    check(w.status == 200 and e["type"] == "ERROR" and e["object"]["code"] == 410 and
          e["object"]["reason"] == "Expired" and e["object"]["message"] ==
          "too old resource version: %s (%s)" % (r0, c["compactedResourceVersion"]),
          "watch from a compacted RV: 200 + ERROR 410 Expired", e)
    check(w.event() is None, "then the stream ends")
    w.close()
    w = RawWatch(port, ns_path + "?watch=true&resourceVersion=%s&timeoutSeconds=1"
                 % c["compactedResourceVersion"])
    check(w.rest() == [], "watch from the compaction point itself is fine")
    w.close()

    # close-watches ends streams abruptly.
    w = RawWatch(port, ns_path + "?watch=true&resourceVersion=%s" % current_rv(port))
    deadline = time.monotonic() + 3
    while call(port, "GET", "/_fake/state")[2]["openWatches"] < 1 and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    st, _, o = call(port, "POST", "/_fake/close-watches")
    check(o["closed"] >= 1, "close-watches closed the open watch")
    try:
        w.event(timeout=5)
        closed = False
    except (EOFError, ConnectionError):
        closed = True
    check(closed and not w.ended, "the client sees the connection drop without a terminating "
          "chunk")
    w.close()


def test_leases(port):
    print("leases (leader election)", flush=True)
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "istio-leader"},
             "spec": {"holderIdentity": "a", "leaseDurationSeconds": 30,
                      "acquireTime": "2026-01-01T00:00:00.000000Z",
                      "renewTime": "2026-01-01T00:00:00.000000Z", "leaseTransitions": 0}}
    st, _, o = call(port, "GET", LEASES + "/istio-leader")
    check(st == 404, "GET missing lease: 404")
    st, _, o = call(port, "POST", LEASES, lease)
    check(st == 201, "POST lease: 201")
    st, _, o2 = call(port, "POST", LEASES, lease)
    check(st == 409 and o2["reason"] == "AlreadyExists", "second POST: 409 AlreadyExists")
    stale = json.loads(json.dumps(o))
    o["spec"]["renewTime"] = "2026-01-01T00:00:02.000000Z"
    st, _, renewed = call(port, "PUT", LEASES + "/istio-leader", o)
    check(st == 200 and rv_of(renewed) != rv_of(o), "renew (PUT with current RV): 200, new RV")
    stale["spec"]["holderIdentity"] = "b"
    st, _, c = call(port, "PUT", LEASES + "/istio-leader", stale)
    check(st == 409 and c["reason"] == "Conflict" and c["message"] ==
          'Operation cannot be fulfilled on leases.coordination.k8s.io "istio-leader": the '
          "object has been modified; please apply your changes to the latest version and try "
          "again", "takeover with a stale RV: 409 Conflict", c)
    st, _, d = call(port, "DELETE", LEASES + "/istio-leader",
                    {"preconditions": {"resourceVersion": rv_of(o)}})
    check(st == 409, "DELETE with a stale RV precondition: 409")


def test_tokenreview(port):
    print("TokenReview", flush=True)
    call(port, "POST", "/_fake/tokens", {"token": "tok-1", "uid": "u-1",
                                         "username": "system:serviceaccount:bookinfo:reviews",
                                         "audiences": ["istio-ca"], "pod_name": "reviews-1"})
    path = "/apis/authentication.k8s.io/v1/tokenreviews"
    tr = lambda tok, aud: {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                           "spec": {"token": tok, "audiences": aud}}
    st, _, o = call(port, "POST", path, tr("tok-1", ["istio-ca"]))
    s = o["status"]
    check(st == 201 and s["authenticated"] is True and
          s["user"]["username"] == "system:serviceaccount:bookinfo:reviews" and
          "system:serviceaccounts" in s["user"]["groups"] and s["audiences"] == ["istio-ca"] and
          s["user"]["extra"]["authentication.kubernetes.io/pod-name"] == ["reviews-1"],
          "known token: authenticated with user, groups, audiences, extra", s)
    st, _, o = call(port, "POST", path, tr("nope", ["istio-ca"]))
    check(st == 201 and o["status"]["authenticated"] is False and o["status"]["error"],
          "unknown token: 201, authenticated false + error")
    st, _, o = call(port, "POST", path, tr("tok-1", ["other"]))
    check(st == 201 and o["status"]["authenticated"] is False and "audience" in
          o["status"]["error"], "audience mismatch: authenticated false", o["status"])
    st, _, o = call(port, "GET", path)
    check(st == 405, "tokenreviews are create-only")


def test_subject_access_review(port):
    print("SubjectAccessReview", flush=True)
    path = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
    sar = lambda user, ns: {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                            "spec": {"user": user, "resourceAttributes": {
                                "namespace": ns, "verb": "list", "resource": "secrets"}}}
    gw = "system:serviceaccount:gw:ingress"
    st, _, o = call(port, "POST", path, sar(gw, "gw"))
    check(st == 201 and o["status"]["allowed"] is False, "no binding: not allowed", o)
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    call(port, "POST", rbac + "/namespaces/gw/roles", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "secret-reader", "namespace": "gw"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]})
    call(port, "POST", rbac + "/namespaces/gw/rolebindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "ingress-secrets", "namespace": "gw"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                    "name": "secret-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "ingress", "namespace": "gw"}]})
    st, _, o = call(port, "POST", path, sar(gw, "gw"))
    check(st == 201 and o["status"]["allowed"] is True, "RoleBinding grants list secrets", o)
    st, _, o = call(port, "POST", path, sar(gw, "default"))
    check(o["status"]["allowed"] is False, "only in the RoleBinding's namespace", o)
    st, _, o = call(port, "POST", path, sar("system:serviceaccount:ops:admin", "default"))
    check(o["status"]["allowed"] is True, "--sar-allow user: allowed", o)
    check(call(port, "GET", path)[0] == 405, "subjectaccessreviews are create-only")


def test_faults(port):
    print("fault injection", flush=True)
    call(port, "POST", "/_fake/fail", {"code": 429, "count": 1, "verbs": ["list"]})
    st, h, o = call(port, "GET", CM + "/pg-1")
    check(st == 200, "a non-matching verb is not affected")
    st, h, o = call(port, "GET", CM)
    check(st == 429 and h.get("retry-after") == "1" and o["reason"] == "TooManyRequests",
          "injected 429 with Retry-After: 1", (st, h.get("retry-after")))
    check(call(port, "GET", CM)[0] == 200, "only the next N requests fail")
    call(port, "POST", "/_fake/fail", {"code": 500, "count": 2, "path_prefix": LEASES})
    check([call(port, "GET", LEASES)[0] for _ in range(3)] == [500, 500, 200],
          "injected 500 on a path prefix, count 2")
    call(port, "POST", "/_fake/fail", {"code": 409, "count": 5, "verbs": ["update"]})
    call(port, "POST", "/_fake/latency", {"ms": 200})
    t0 = time.monotonic()
    call(port, "GET", CM)
    check(time.monotonic() - t0 >= 0.2, "latency is added to requests")
    call(port, "POST", "/_fake/reset")
    st, _, s = call(port, "GET", "/_fake/state")
    check(s["faults"] == [] and s["latencyMs"] == 0, "reset clears faults and latency")
    check(s["objects"].get("configmaps", 0) >= 5 and int(s["resourceVersion"]) > 100,
          "state reports objects and the current RV")


def test_restart_with_state(tmp):
    print("restart with --state-file", flush=True)
    path = os.path.join(tmp, "state.json")
    srv = FakeServer(tmp, "--state-file", path, name="state1")
    try:
        st, _, o = call(srv.port, "POST", VS % "v1", vs_body("persisted"))
        old_rv = rv_of(o)
        call(srv.port, "POST", VS % "v1", vs_body("later"))
    finally:
        check(srv.stop() == 0, "SIGTERM stops the server (exit 0)")
    srv = FakeServer(tmp, "--state-file", path, name="state2")
    try:
        st, _, o = call(srv.port, "GET", VS % "v1" + "/persisted")
        check(st == 200 and rv_of(o) == old_rv, "objects and RVs survive a restart")
        w = RawWatch(srv.port, VS % "v1" + "?watch=true&resourceVersion=%s" % old_rv)
        e = w.event()
        check(e["type"] == "ERROR" and e["object"]["code"] == 410,
              "after a restart, watch from an older RV gets 410")
        w.close()
        st, _, o = call(srv.port, "POST", VS % "v1", vs_body("after"))
        check(int(rv_of(o)) > int(old_rv) + 1, "the RV counter continues after a restart")
    finally:
        srv.stop()


def test_tls(tmp):
    print("TLS + bearer token + aggregated discovery", flush=True)
    if not shutil.which("openssl"):
        print("  skip (no openssl)")
        return
    run = lambda *a: subprocess.run(["openssl", *a], cwd=tmp, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
        "-days", "1", "-subj", "/CN=fake-ca")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
        "-subj", "/CN=127.0.0.1")
    with open(os.path.join(tmp, "ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "srv.crt", "-days", "1", "-extfile", "ext")
    j = lambda n: os.path.join(tmp, n)
    srv = FakeServer(tmp, "--tls-cert", j("srv.crt"), "--tls-key", j("srv.key"), "--token",
                     "s3cret", "--aggregated-discovery", name="tls")
    try:
        ctx = ssl.create_default_context(cafile=j("ca.crt"))

        def get(path, token=None):
            c = http.client.HTTPSConnection("127.0.0.1", srv.port, context=ctx, timeout=10)
            c.request("GET", path, headers={"Authorization": "Bearer " + token} if token else {})
            r = c.getresponse()
            body = json.loads(r.read())
            c.close()
            return r.status, body
        st, o = get("/api/v1/namespaces")
        check(st == 401 and o["reason"] == "Unauthorized", "https without a token: 401 Status")
        check(get("/api/v1/namespaces", "s3cret")[0] == 200, "https with the token: 200")
        ca = base64.b64encode(open(j("ca.crt"), "rb").read()).decode()
        kc = j("kubeconfig-tls")
        write_kubeconfig(kc, "https://127.0.0.1:%d" % srv.port, "s3cret", ca)
        tmp2 = j("k2")
        os.makedirs(tmp2, exist_ok=True)
        out = kubectl(tmp2, kc, "get", "namespaces").stdout
        check("kube-system" in out, "kubectl over TLS with token and aggregated discovery")
        write_kubeconfig(kc, "https://127.0.0.1:%d" % srv.port, "wrong", ca)
        p = kubectl(tmp2, kc, "get", "namespaces", ok=False)
        check(p.returncode != 0 and "Unauthorized" in p.stderr, "kubectl with a wrong token: "
              "Unauthorized")
    finally:
        srv.stop()


def main():
    t0 = time.monotonic()
    if not os.path.exists(KUBECTL):
        print("FAIL: kubectl not found at %s" % KUBECTL)
        return 1
    tmp = tempfile.mkdtemp(prefix="fake-apiserver-test-")
    srv = None
    failed = False
    try:
        srv = FakeServer(tmp, "--bookmark-secs", "1", "--sar-allow",
                         "system:serviceaccount:ops:admin")
        test_kubectl(tmp, srv.port)
        test_discovery_and_errors(srv.port)
        test_status_subresource(srv.port)
        test_list(srv.port)
        test_watch(srv.port)
        test_leases(srv.port)
        test_tokenreview(srv.port)
        test_subject_access_review(srv.port)
        test_faults(srv.port)
        test_restart_with_state(tmp)
        test_tls(tmp)
    except Exception as e:
        failed = True
        print("FAIL: %s" % e, flush=True)
        if not isinstance(e, Failure):
            traceback.print_exc()
    finally:
        if srv is not None:
            srv.stop()
            if failed:
                print("---- server log ----\n" + open(srv.log_path).read())
        shutil.rmtree(tmp, ignore_errors=True)
    print("%s in %.1f s" % ("FAILED" if failed else "PASSED", time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
