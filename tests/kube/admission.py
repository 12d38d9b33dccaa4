"""Admission for the test API server: calls the registered Validating/Mutating webhooks as the
real kube-apiserver does, so `kubectl apply` goes through meshd's /validate and /inject.

For CREATE/UPDATE/DELETE of a resource, every webhook of every MutatingWebhookConfiguration
(then every ValidatingWebhookConfiguration) whose rules (operations, apiGroups, apiVersions,
resources incl. "*" and "x/*"), namespaceSelector (the namespace's labels) and objectSelector
(the object's labels, or the old object's) match is called over HTTPS with an AdmissionReview
v1 body; its certificate is verified against the webhook's caBundle for the service's DNS name
(`<svc>.<ns>.svc`). Mutating webhooks' JSONPatch is applied in order. A denial becomes
`admission webhook "<name>" denied the request: <message>` with the webhook's code (>= 400,
default 400); a call that fails becomes `failed calling webhook "<name>": <error>` (500) under
failurePolicy Fail and is skipped under Ignore.

Tests map a service address to where the webhook really listens with the environment
variable FAKE_APISERVER_WEBHOOK_HOSTS="istiod.istio-system.svc:443=127.0.0.1:15017,...".
"""
import base64
import http.client
import json
import os
import socket
import ssl
import uuid

ADMISSION_GROUP = "admissionregistration.k8s.io"


def parse_host_map(text):
    out = {}
    for item in (text or "").split(","):
        item = item.strip()
        if not item or "=" not in item:
            continue
        src, dst = item.split("=", 1)
        host, _, port = dst.strip().rpartition(":")
        if host and port.isdigit():
            out[src.strip()] = (host, int(port))
    return out


def selector_matches(sel, labels):
    """A LabelSelector (matchLabels, matchExpressions); an empty or absent selector matches."""
    if not sel:
        return True
    labels = labels or {}
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False
    return True


def _resource_matches(pattern, plural, sub):
    if pattern == "*/*":
        return True
    if sub:
        return pattern in (plural + "/" + sub, plural + "/*", "*/" + sub)
    return pattern in ("*", plural)


def rule_matches(rule, op, rt, version, sub):
    def has(field, value):
        vals = rule.get(field) or []
        return "*" in vals or value in vals
    return (has("operations", op) and has("apiGroups", rt.group) and
            has("apiVersions", version) and
            any(_resource_matches(p, rt.plural, sub) for p in rule.get("resources") or []))


class _Conn(http.client.HTTPSConnection):
    """HTTPS to `addr`, verifying the certificate for `host` (the service's DNS name)."""

    def __init__(self, host, port, addr, context, timeout):
        super().__init__(host, port, context=context, timeout=timeout)
        self._addr = addr

    def connect(self):
        sock = socket.create_connection(self._addr, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class Admission:
    def __init__(self, app, api_error, json_patch, host_map=None):
        self.app = app
        self.ApiError = api_error
        self.json_patch = json_patch
        env = os.environ.get("FAKE_APISERVER_WEBHOOK_HOSTS", "")
        self.host_map = host_map if host_map is not None else parse_host_map(env)
        self.calls = []  # (configuration kind, webhook name, uid, allowed or error)

    def _type(self, plural):
        for rt in self.app.types:
            if rt.group == ADMISSION_GROUP and rt.plural == plural:
                return rt
        return None

    def _configs(self, plural):
        rt = self._type(plural)
        if rt is None:
            return []
        with self.app.store.lock:
            objs = list(self.app.store.objects[rt.key].values())
        return sorted(objs, key=lambda o: o["metadata"]["name"])

    def _namespace_labels(self, ns):
        for rt in self.app.types:
            if rt.group == "" and rt.plural == "namespaces":
                with self.app.store.lock:
                    obj = self.app.store.objects[rt.key].get(("", ns))
                return (obj or {}).get("metadata", {}).get("labels") or {}
        return {}

    def _call(self, hook, review):
        cc = hook.get("clientConfig") or {}
        timeout = float(hook.get("timeoutSeconds") or 10)
        if cc.get("url"):
            u = http.client.urlsplit(cc["url"])
            host, port, path = u.hostname, u.port or 443, u.path or "/"
        elif cc.get("service"):
            s = cc["service"]
            host = "%s.%s.svc" % (s.get("name"), s.get("namespace"))
            port = int(s.get("port") or 443)
            path = s.get("path") or "/"
        else:
            raise RuntimeError("clientConfig has neither url nor service")
        addr = self.host_map.get("%s:%d" % (host, port), (host, port))
        ctx = ssl.create_default_context()
        bundle = cc.get("caBundle")
        if bundle:
            ctx = ssl.create_default_context(cadata=base64.b64decode(bundle).decode())
        conn = _Conn(host, port, addr, ctx, timeout)
        try:
            conn.request("POST", path, body=json.dumps(review),
                         headers={"Content-Type": "application/json",
                                  "Accept": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        if resp.status != 200:
            raise RuntimeError("the server responded with HTTP %d: %s" %
                               (resp.status, data.decode(errors="replace").strip()))
        doc = json.loads(data)
        out = doc.get("response") if isinstance(doc, dict) else None
        if not isinstance(out, dict):
            raise RuntimeError("the response has no AdmissionReview response")
        if out.get("uid") != review["request"]["uid"]:
            raise RuntimeError("expected response.uid %r, got %r" %
                               (review["request"]["uid"], out.get("uid")))
        return out

    def admit(self, op, rt, version, ns, name, obj, old, sub=None, dry_run=False):
        """Returns the (possibly mutated) object, or raises ApiError when a webhook refuses."""
        if rt.group == ADMISSION_GROUP or rt.kind in ("TokenReview", "SubjectAccessReview"):
            return obj
        ns_labels = self._namespace_labels(ns) if rt.namespaced and ns else None
        for plural, mutating in (("mutatingwebhookconfigurations", True),
                                 ("validatingwebhookconfigurations", False)):
            for cfg in self._configs(plural):
                for hook in cfg.get("webhooks") or []:
                    if not any(rule_matches(r, op, rt, version, sub)
                               for r in hook.get("rules") or []):
                        continue
                    if ns_labels is not None and not selector_matches(
                            hook.get("namespaceSelector"), ns_labels):
                        continue
                    osel = hook.get("objectSelector")
                    labels = [((o or {}).get("metadata") or {}).get("labels") or {}
                              for o in (obj, old) if o is not None]
                    if osel and not any(selector_matches(osel, lab) for lab in labels):
                        continue
                    obj = self._admit_one(hook, mutating, op, rt, version, ns, name, obj, old,
                                          sub, dry_run)
        return obj

    def _admit_one(self, hook, mutating, op, rt, version, ns, name, obj, old, sub, dry_run):
        hname = hook.get("name", "")
        sent = obj
        if sent is not None and rt.namespaced and ns:
            sent = dict(sent, metadata=dict(sent.get("metadata") or {}, namespace=ns))
        gvk = {"group": rt.group, "version": version, "kind": rt.kind}
        review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                  "request": {"uid": str(uuid.uuid4()), "kind": gvk, "requestKind": gvk,
                              "resource": {"group": rt.group, "version": version,
                                           "resource": rt.plural},
                              "subResource": sub or "", "name": name or "",
                              "namespace": ns or "", "operation": op,
                              "userInfo": {"username": "test"}, "object": sent,
                              "oldObject": old, "dryRun": bool(dry_run), "options": None}}
        try:
            resp = self._call(hook, review)
        except Exception as e:  # noqa: BLE001 - every call failure goes through failurePolicy
            self.calls.append((mutating, hname, review["request"]["uid"], "error: %s" % e))
            if (hook.get("failurePolicy") or "Fail") == "Ignore":
                return obj
            raise self.ApiError(500, "InternalError",
                                'Internal error occurred: failed calling webhook "%s": %s' %
                                (hname, e), {})
        allowed = bool(resp.get("allowed"))
        self.calls.append((mutating, hname, review["request"]["uid"], allowed))
        if not allowed:
            st = resp.get("status") or {}
            code = st.get("code") or 400
            if code < 400:
                code = 400
            msg = 'admission webhook "%s" denied the request' % hname
            if st.get("message"):
                msg += ": " + st["message"]
            raise self.ApiError(code, st.get("reason") or "BadRequest", msg, {})
        if mutating and resp.get("patch") and obj is not None:
            if resp.get("patchType") != "JSONPatch":
                raise self.ApiError(500, "InternalError",
                                    'webhook "%s": unsupported patchType %r' %
                                    (hname, resp.get("patchType")), {})
            try:
                obj = self.json_patch(obj, json.loads(base64.b64decode(resp["patch"])))
            except Exception as e:  # noqa: BLE001
                raise self.ApiError(500, "InternalError",
                                    'webhook "%s": bad JSONPatch: %s' % (hname, e), {})
        return obj
