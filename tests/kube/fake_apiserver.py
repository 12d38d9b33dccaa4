#!/usr/bin/env python3
"""A test Kubernetes API server: a stand-in for kube-apiserver in meshd's end-to-end tests.

Standard library only (Python >= 3.11). Spec: /work/shared/notes/kube-api.md section 1;
usage, flags and fault-injection hooks: README.md next to this file.
"""

import argparse
import base64
import copy
import hashlib
import json
import os
import random
import re
import select
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admission import Admission  # noqa: E402  (webhooks: see admission.py)

# --------------------------------------------------------------------------------------
# Resource table
# --------------------------------------------------------------------------------------

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
STATUS_VERBS = ["get", "patch", "update"]

# Version order per group: the first one is the preferred version.
GROUP_VERSIONS = {
    "": ["v1"],
    "networking.istio.io": ["v1", "v1beta1", "v1alpha3"],
    "security.istio.io": ["v1", "v1beta1"],
    "telemetry.istio.io": ["v1", "v1alpha1"],
    "extensions.istio.io": ["v1alpha1"],
    "discovery.k8s.io": ["v1"],
    "coordination.k8s.io": ["v1"],
    "authentication.k8s.io": ["v1"],
    "admissionregistration.k8s.io": ["v1"],
    "apiextensions.k8s.io": ["v1"],
}


class ResourceType:
    def __init__(self, group, versions, plural, kind, namespaced, short_names, has_status, *,
                 custom=False, generation=None, verbs=None, categories=(), singular=None):
        self.group = group
        self.versions = list(versions)
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
        self.short_names = list(short_names)
        self.has_status = has_status
        self.custom = custom  # a CustomResource (CRD-backed) on a real cluster
        self.generation = custom if generation is None else generation
        self.verbs = list(verbs or ALL_VERBS)
        self.categories = list(categories)
        self.singular = singular or kind.lower()
        self.key = (group, plural)
        # "virtualservices.networking.istio.io"; core types have no group suffix.
        self.qualified = plural + "." + group if group else plural
        self.storage_version = self.versions[0]

    def api_version(self, version):
        return self.group + "/" + version if self.group else version


def _istio(group, plural, kind, short, cats, versions=None):
    return ResourceType(group, versions or GROUP_VERSIONS[group], plural, kind, True, short, True,
                        custom=True, categories=cats)


_NET = ["istio-io", "networking-istio-io"]
_SEC = ["istio-io", "security-istio-io"]
_TEL = ["istio-io", "telemetry-istio-io"]
_EXT = ["istio-io", "extensions-istio-io"]

RESOURCES = [
    # group, versions, plural, kind, namespaced, shortNames, hasStatus
    _istio("networking.istio.io", "virtualservices", "VirtualService", ["vs"], _NET),
    _istio("networking.istio.io", "destinationrules", "DestinationRule", ["dr"], _NET),
    _istio("networking.istio.io", "gateways", "Gateway", ["gw"], _NET),
    _istio("networking.istio.io", "serviceentries", "ServiceEntry", ["se"], _NET),
    _istio("networking.istio.io", "sidecars", "Sidecar", [], _NET),
    _istio("networking.istio.io", "workloadentries", "WorkloadEntry", ["we"], _NET),
    _istio("networking.istio.io", "workloadgroups", "WorkloadGroup", ["wg"], _NET),
    # Served in fewer versions than their group, as in Istio's CRDs.
    _istio("networking.istio.io", "envoyfilters", "EnvoyFilter", [], _NET, ["v1alpha3"]),
    _istio("networking.istio.io", "proxyconfigs", "ProxyConfig", [], _NET, ["v1beta1"]),
    _istio("security.istio.io", "peerauthentications", "PeerAuthentication", ["pa"], _SEC),
    _istio("security.istio.io", "authorizationpolicies", "AuthorizationPolicy", ["ap"], _SEC),
    _istio("security.istio.io", "requestauthentications", "RequestAuthentication", ["ra"], _SEC),
    _istio("telemetry.istio.io", "telemetries", "Telemetry", ["telemetry"], _TEL),
    _istio("extensions.istio.io", "wasmplugins", "WasmPlugin", [], _EXT),
    ResourceType("", ["v1"], "services", "Service", True, ["svc"], True, categories=["all"]),
    ResourceType("", ["v1"], "pods", "Pod", True, ["po"], True, categories=["all"]),
    ResourceType("", ["v1"], "namespaces", "Namespace", False, ["ns"], True),
    ResourceType("", ["v1"], "configmaps", "ConfigMap", True, ["cm"], False),
    ResourceType("", ["v1"], "secrets", "Secret", True, [], False),
    ResourceType("", ["v1"], "serviceaccounts", "ServiceAccount", True, ["sa"], False),
    ResourceType("", ["v1"], "nodes", "Node", False, ["no"], True),
    ResourceType("discovery.k8s.io", ["v1"], "endpointslices", "EndpointSlice", True, [], False,
                 generation=True),
    ResourceType("coordination.k8s.io", ["v1"], "leases", "Lease", True, [], False),
    ResourceType("authentication.k8s.io", ["v1"], "tokenreviews", "TokenReview", False, [], False,
                 verbs=["create"]),
    # RBAC objects (stored, not enforced on requests) and SubjectAccessReview, which answers from
    # them (or the --sar-allow list): what istiod's gateway secret check asks.
    ResourceType("rbac.authorization.k8s.io", ["v1"], "roles", "Role", True, [], False),
    ResourceType("rbac.authorization.k8s.io", ["v1"], "rolebindings", "RoleBinding", True, [],
                 False),
    ResourceType("rbac.authorization.k8s.io", ["v1"], "clusterroles", "ClusterRole", False, [],
                 False),
    ResourceType("rbac.authorization.k8s.io", ["v1"], "clusterrolebindings",
                 "ClusterRoleBinding", False, [], False),
    ResourceType("authorization.k8s.io", ["v1"], "subjectaccessreviews", "SubjectAccessReview",
                 False, [], False, verbs=["create"]),
    ResourceType("admissionregistration.k8s.io", ["v1"], "mutatingwebhookconfigurations",
                 "MutatingWebhookConfiguration", False, [], False, generation=True,
                 categories=["api-extensions"]),
    ResourceType("admissionregistration.k8s.io", ["v1"], "validatingwebhookconfigurations",
                 "ValidatingWebhookConfiguration", False, [], False, generation=True,
                 categories=["api-extensions"]),
    ResourceType("apiextensions.k8s.io", ["v1"], "customresourcedefinitions",
                 "CustomResourceDefinition", False, ["crd", "crds"], True, generation=True,
                 categories=["api-extensions"]),
]

# The kinds a Helm chart of meshd installs (deploy/helm/meshd): stored and served like the
# others, so `kubectl apply` of the rendered chart works. Nothing runs them.
GROUP_VERSIONS.update({
    "apps": ["v1"],
    "policy": ["v1"],
    "autoscaling": ["v2"],
    "rbac.authorization.k8s.io": ["v1"],
})
RESOURCES += [
    ResourceType("apps", ["v1"], "deployments", "Deployment", True, ["deploy"], True,
                 generation=True, categories=["all"]),
    ResourceType("policy", ["v1"], "poddisruptionbudgets", "PodDisruptionBudget", True, ["pdb"],
                 True, generation=True),
    ResourceType("autoscaling", ["v2"], "horizontalpodautoscalers", "HorizontalPodAutoscaler",
                 True, ["hpa"], True, categories=["all"]),
    ResourceType("rbac.authorization.k8s.io", ["v1"], "clusterroles", "ClusterRole", False, [],
                 False),
    ResourceType("rbac.authorization.k8s.io", ["v1"], "clusterrolebindings",
                 "ClusterRoleBinding", False, [], False),
    ResourceType("rbac.authorization.k8s.io", ["v1"], "roles", "Role", True, [], False),
    ResourceType("rbac.authorization.k8s.io", ["v1"], "rolebindings", "RoleBinding", True, [],
                 False),
]

DEFAULT_API_AUDIENCES = ["https://kubernetes.default.svc.cluster.local"]
DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"]
HISTORY_SIZE = 1000
TOO_LARGE_RV_WAIT_SECS = 3.0

# --------------------------------------------------------------------------------------
# Errors (metav1.Status)
# --------------------------------------------------------------------------------------


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self):
        st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
              "message": self.message, "reason": self.reason}
        if self.details is not None:
            st["details"] = self.details
        st["code"] = self.code
        return st


def _details(rt, name, **extra):
    d = {}
    if name:
        d["name"] = name
    if rt is not None:
        if rt.group:
            d["group"] = rt.group
        d["kind"] = rt.plural
    d.update(extra)
    return d


def not_found(rt, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (rt.qualified, name), _details(rt, name))


def path_not_found():
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(rt, name):
    return ApiError(409, "AlreadyExists", '%s "%s" already exists' % (rt.qualified, name),
                    _details(rt, name))


def conflict(rt, name, why=None):
    msg = 'Operation cannot be fulfilled on %s "%s": %s' % (
        rt.qualified, name, why or "the object has been modified; please apply your changes to "
        "the latest version and try again")
    return ApiError(409, "Conflict", msg, _details(rt, name))


def invalid(rt, name, field, detail, reason="FieldValueInvalid"):
    kind = rt.kind + ("." + rt.group if rt.group else "")
    msg = '%s "%s" is invalid: %s: %s' % (kind, name, field, detail)
    details = {"name": name}
    if rt.group:
        details["group"] = rt.group
    details["kind"] = rt.kind
    details["causes"] = [{"reason": reason, "message": detail, "field": field}]
    return ApiError(422, "Invalid", msg, details)


def bad_request(msg):
    return ApiError(400, "BadRequest", msg)


def method_not_allowed():
    return ApiError(405, "MethodNotAllowed",
                    "the server does not allow this method on the requested resource", {})


def expired(msg):
    return ApiError(410, "Expired", msg)


def too_large_rv():
    return ApiError(504, "Timeout", "Too large resource version",
                    {"causes": [{"reason": "ResourceVersionTooLarge",
                                 "message": "Too large resource version"}],
                     "retryAfterSeconds": 1})


FAULT_REASONS = {
    400: ("BadRequest", "injected fault"),
    401: ("Unauthorized", "Unauthorized"),
    403: ("Forbidden", "forbidden: injected fault"),
    404: ("NotFound", "the server could not find the requested resource"),
    409: ("Conflict", None),
    410: ("Expired", "injected fault: resource version too old"),
    422: ("Invalid", "injected fault"),
    429: ("TooManyRequests", "Too many requests, please try again later."),
    500: ("InternalError", "Internal error occurred: injected fault"),
    503: ("ServiceUnavailable", "The server is currently unable to handle the request"),
    504: ("Timeout", "The request did not complete in time (injected fault)"),
}

# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def now_rfc3339():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


def truthy(v):
    return v is not None and v.lower() in ("true", "1", "yes")


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_GEN_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def validate_name(rt, name):
    if rt.kind == "Namespace":
        if len(name) > 63 or not _DNS_LABEL.match(name):
            raise invalid(rt, name, "metadata.name", 'Invalid value: "%s": a lowercase RFC 1123 '
                          "label must consist of lower case alphanumeric characters or '-', and "
                          "must start and end with an alphanumeric character" % name)
    elif len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        raise invalid(rt, name, "metadata.name", 'Invalid value: "%s": a lowercase RFC 1123 '
                      "subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                      "and must start and end with an alphanumeric character" % name)


def out_obj(rt, obj, version):
    """The stored object as served at `version` (only apiVersion/kind are rewritten)."""
    res = {"apiVersion": rt.api_version(version), "kind": rt.kind}
    for k, v in obj.items():
        if k not in ("apiVersion", "kind"):
            res[k] = v
    return res


def with_rv(obj, rv):
    o = dict(obj)
    o["metadata"] = dict(obj.get("metadata") or {}, resourceVersion=str(rv))
    return o


def obj_key(obj):
    md = obj["metadata"]
    return (md.get("namespace") or "", md["name"])

# --------------------------------------------------------------------------------------
# Selectors
# --------------------------------------------------------------------------------------


_SEL_KEY = re.compile(r"[A-Za-z0-9._/-]+")
_SEL_VAL = re.compile(r"[A-Za-z0-9._-]*")


def parse_label_selector(s):
    """Returns a list of (key, op, values). Raises ApiError(400) on a syntax error."""
    reqs = []
    if s is None:
        return reqs
    i, n = 0, len(s)

    def err(msg):
        return bad_request("unable to parse requirement: %s (labelSelector %r)" % (msg, s))

    def skip_ws(i):
        while i < n and s[i] == " ":
            i += 1
        return i

    while True:
        i = skip_ws(i)
        if i >= n:
            break
        neg = False
        if s[i] == "!":
            neg = True
            i = skip_ws(i + 1)
        m = _SEL_KEY.match(s, i)
        if not m:
            raise err("invalid label key at offset %d" % i)
        key = m.group(0)
        i = skip_ws(m.end())
        if neg:
            reqs.append((key, "!", None))
        elif i >= n or s[i] == ",":
            reqs.append((key, "exists", None))
        elif s.startswith("==", i) or s.startswith("!=", i) or s[i] == "=":
            op = "!=" if s[i] == "!" else "="
            i += 2 if s.startswith("==", i) or s.startswith("!=", i) else 1
            i = skip_ws(i)
            m = _SEL_VAL.match(s, i)
            reqs.append((key, op, [m.group(0)]))
            i = m.end()
        elif s[i] in "<>":
            op = s[i]
            i = skip_ws(i + 1)
            m = re.compile(r"-?[0-9]+").match(s, i)
            if not m:
                raise err("for 'gt', 'lt' operators, exactly one integer value is required")
            reqs.append((key, op, [int(m.group(0))]))
            i = m.end()
        else:
            m = re.compile(r"(notin|in)\s*\(").match(s, i)
            if not m:
                raise err("found '%s', expected: '=', '!=', '==', 'in', notin'" % s[i])
            op = m.group(1)
            j = s.find(")", m.end())
            if j < 0:
                raise err("missing ')'")
            vals = [v.strip() for v in s[m.end():j].split(",")]
            for v in vals:
                if not _SEL_VAL.fullmatch(v):
                    raise err("invalid label value %r" % v)
            reqs.append((key, op, vals))
            i = j + 1
        i = skip_ws(i)
        if i < n:
            if s[i] != ",":
                raise err("expected ',' at offset %d" % i)
            i += 1
    return reqs


def labels_match(reqs, labels):
    labels = labels or {}
    for key, op, vals in reqs:
        has = key in labels
        v = labels.get(key)
        if op == "exists":
            ok = has
        elif op == "!":
            ok = not has
        elif op == "=":
            ok = has and v == vals[0]
        elif op == "!=":
            ok = not has or v != vals[0]
        elif op == "in":
            ok = has and v in vals
        elif op == "notin":
            ok = not has or v not in vals
        else:  # > <
            try:
                iv = int(v)
            except (TypeError, ValueError):
                return False
            ok = iv > vals[0] if op == ">" else iv < vals[0]
        if not ok:
            return False
    return True


# Extra field selectors of built-in types (metadata.name / metadata.namespace work everywhere).
EXTRA_FIELDS = {
    "Pod": {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
            "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"},
    "Secret": {"type"},
    "Node": {"spec.unschedulable"},
    "Namespace": {"status.phase"},
}


def _split_unescaped(s, sep):
    parts, cur, i = [], "", 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            cur += s[i:i + 2]
            i += 2
            continue
        if c == sep:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    return parts


def _unescape_field(v):
    return re.sub(r"\\(.)", r"\1", v)


def parse_field_selector(s, rt):
    reqs = []
    if not s:
        return reqs
    for part in _split_unescaped(s, ","):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"^([^=!]+?)\s*(==|!=|=)\s*(.*)$", part)
        if not m:
            raise bad_request("invalid selector: '%s'; can't understand '%s'" % (s, part))
        field, op, val = m.group(1).strip(), m.group(2), _unescape_field(m.group(3))
        if field not in ("metadata.name", "metadata.namespace") and \
                field not in EXTRA_FIELDS.get(rt.kind, ()):
            raise bad_request('"%s" is not a known field selector: only "metadata.name", '
                              '"metadata.namespace"' % field)
        reqs.append((field, "!=" if op == "!=" else "=", val))
    return reqs


def _field_value(obj, field):
    cur = obj
    for p in field.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(p)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def fields_match(reqs, obj):
    for field, op, val in reqs:
        v = _field_value(obj, field)
        if (v == val) != (op == "="):
            return False
    return True

# --------------------------------------------------------------------------------------
# Patches
# --------------------------------------------------------------------------------------


class PatchError(Exception):
    pass


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    res = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            res.pop(k, None)
        else:
            res[k] = merge_patch(res.get(k), v)
    return res


def _ptr_parts(path):
    if path == "":
        return []
    if not isinstance(path, str) or not path.startswith("/"):
        raise PatchError("invalid JSON pointer %r" % (path,))
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _list_index(lst, p, allow_end):
    if p == "-" and allow_end:
        return len(lst)
    if not re.fullmatch(r"0|[1-9][0-9]*", p or ""):
        raise PatchError("invalid array index %r" % p)
    i = int(p)
    if i > len(lst) or (i == len(lst) and not allow_end):
        raise PatchError("array index %d out of bounds" % i)
    return i


def _container(doc, parts, path):
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, dict):
            if p not in cur:
                raise PatchError("doc is missing path: %s" % path)
            cur = cur[p]
        elif isinstance(cur, list):
            cur = cur[_list_index(cur, p, False)]
        else:
            raise PatchError("doc is missing path: %s" % path)
    return cur


def _jp_get(doc, path):
    parts = _ptr_parts(path)
    if not parts:
        return doc
    c = _container(doc, parts, path)
    last = parts[-1]
    if isinstance(c, dict):
        if last not in c:
            raise PatchError("doc is missing path: %s" % path)
        return c[last]
    if isinstance(c, list):
        return c[_list_index(c, last, False)]
    raise PatchError("doc is missing path: %s" % path)


def _jp_add(doc, path, value):
    parts = _ptr_parts(path)
    if not parts:
        return value
    c = _container(doc, parts, path)
    last = parts[-1]
    if isinstance(c, dict):
        c[last] = value
    elif isinstance(c, list):
        c.insert(_list_index(c, last, True), value)
    else:
        raise PatchError("doc is missing path: %s" % path)
    return doc


def _jp_remove(doc, path):
    parts = _ptr_parts(path)
    if not parts:
        raise PatchError("cannot remove the root")
    c = _container(doc, parts, path)
    last = parts[-1]
    if isinstance(c, dict):
        if last not in c:
            raise PatchError("unable to remove nonexistent key: %s" % last)
        return c.pop(last)
    if isinstance(c, list):
        return c.pop(_list_index(c, last, False))
    raise PatchError("doc is missing path: %s" % path)


def json_patch(doc, ops):
    """RFC 6902 JSON patch."""
    if not isinstance(ops, list):
        raise PatchError("a JSON patch must be an array of operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict):
            raise PatchError("invalid operation %r" % (op,))
        kind, path = op.get("op"), op.get("path")
        if kind == "add":
            doc = _jp_add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _jp_remove(doc, path)
        elif kind == "replace":
            _jp_get(doc, path)
            if _ptr_parts(path):
                _jp_remove(doc, path)
            doc = _jp_add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "move":
            v = _jp_remove(doc, op.get("from"))
            doc = _jp_add(doc, path, v)
        elif kind == "copy":
            v = copy.deepcopy(_jp_get(doc, op.get("from")))
            doc = _jp_add(doc, path, v)
        elif kind == "test":
            if _jp_get(doc, path) != op.get("value"):
                raise PatchError("testing value %s failed" % path)
        else:
            raise PatchError("unexpected operation %r" % (kind,))
    return doc


# Strategic merge patch: merge keys of the built-in lists that kubectl patches. Everything
# else is replaced atomically, like lists without a patch strategy.
_PRIMITIVE_MERGE = object()
_POD_SPEC_KEYS = {
    "spec.containers": "name", "spec.initContainers": "name", "spec.ephemeralContainers": "name",
    "spec.containers.ports": "containerPort", "spec.initContainers.ports": "containerPort",
    "spec.containers.env": "name", "spec.initContainers.env": "name",
    "spec.containers.volumeMounts": "mountPath", "spec.initContainers.volumeMounts": "mountPath",
    "spec.volumes": "name", "spec.imagePullSecrets": "name", "status.conditions": "type",
}
SMP_MERGE_KEYS = {
    "Service": {"spec.ports": "port"},
    "Pod": _POD_SPEC_KEYS,
    "Node": {"status.conditions": "type", "status.addresses": "type", "spec.taints": "key"},
    "*": {"metadata.ownerReferences": "uid", "metadata.finalizers": _PRIMITIVE_MERGE},
}


def _smp_key(kind, path):
    k = SMP_MERGE_KEYS.get(kind, {}).get(path)
    return k if k is not None else SMP_MERGE_KEYS["*"].get(path)


def _strip_directives(v):
    if isinstance(v, dict):
        return {k: _strip_directives(x) for k, x in v.items() if not k.startswith("$")}
    if isinstance(v, list):
        return [_strip_directives(x) for x in v
                if not (isinstance(x, dict) and x.get("$patch") == "replace" and len(x) == 1)]
    return v


def strategic_merge_patch(doc, patch, kind, path=""):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip_directives(patch)
    if directive == "delete":
        return None
    out = dict(doc) if isinstance(doc, dict) else {}
    orders = {}
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys"):
            continue
        if k.startswith("$setElementOrder/"):
            orders[k.split("/", 1)[1]] = v
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            f = k.split("/", 1)[1]
            if isinstance(out.get(f), list):
                out[f] = [x for x in out[f] if x not in (v or [])]
            continue
        sub = path + "." + k if path else k
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict):
            r = strategic_merge_patch(out.get(k), v, kind, sub)
            if r is None:
                out.pop(k, None)
            else:
                out[k] = r
        elif isinstance(v, list):
            out[k] = _smp_list(out.get(k), v, kind, sub)
        else:
            out[k] = v
    for f, order in orders.items():
        key = _smp_key(kind, path + "." + f if path else f)
        cur = out.get(f)
        if not isinstance(cur, list) or not isinstance(order, list):
            continue
        if key is _PRIMITIVE_MERGE or key is None:
            ids = order
            ident = (lambda x: x)
        else:
            ids = [o.get(key) if isinstance(o, dict) else o for o in order]
            ident = (lambda x, key=key: x.get(key) if isinstance(x, dict) else x)
        ranked = sorted(range(len(cur)), key=lambda i: (ids.index(ident(cur[i])) if ident(cur[i])
                                                        in ids else len(ids) + i))
        out[f] = [cur[i] for i in ranked]
    if isinstance(patch.get("$retainKeys"), list):
        keep = set(patch["$retainKeys"])
        out = {k: v for k, v in out.items() if k in keep}
    return out


def _smp_list(cur, plist, kind, path):
    key = _smp_key(kind, path)
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in plist):
        return _strip_directives(plist)
    cur = list(cur) if isinstance(cur, list) else []
    if key is _PRIMITIVE_MERGE:
        return cur + [x for x in plist if x not in cur]
    if key is None:
        return _strip_directives(plist)
    for item in plist:
        if not isinstance(item, dict):
            cur.append(item)
            continue
        kv = item.get(key)
        idx = next((i for i, x in enumerate(cur) if isinstance(x, dict) and x.get(key) == kv), -1)
        if item.get("$patch") == "delete":
            cur = [x for x in cur if not (isinstance(x, dict) and x.get(key) == kv)]
        elif idx >= 0:
            cur[idx] = strategic_merge_patch(cur[idx], item, kind, path)
        else:
            cur.append(strategic_merge_patch({}, item, kind, path))
    return cur

# --------------------------------------------------------------------------------------
# Store: objects, global resourceVersion, event history, watchers
# --------------------------------------------------------------------------------------


class Event:
    __slots__ = ("rv", "key", "type", "obj", "prev")

    def __init__(self, rv, key, type_, obj, prev):
        self.rv, self.key, self.type, self.obj, self.prev = rv, key, type_, obj, prev


class Watcher:
    _ids = 0

    def __init__(self, store, rt, version, ns, lsel, fsel, info):
        Watcher._ids += 1
        self.id = Watcher._ids
        self.rt, self.version, self.ns = rt, version, ns
        self.lsel, self.fsel = lsel, fsel
        self.cond = threading.Condition(store.lock)
        self.queue = deque()
        self.stop = None  # None | "abrupt" | "clean"
        self.min_rv = 0  # a watch from a future RV delivers only events after it
        self.info = info

    def matches(self, obj):
        if obj is None:
            return False
        if self.ns is not None and (obj["metadata"].get("namespace") or "") != self.ns:
            return False
        return labels_match(self.lsel, obj["metadata"].get("labels")) and \
            fields_match(self.fsel, obj)

    def translate(self, ev):
        if ev.rv <= self.min_rv:
            return None
        if ev.type == "ADDED":
            return ("ADDED", ev.obj) if self.matches(ev.obj) else None
        if ev.type == "DELETED":
            return ("DELETED", ev.obj) if self.matches(ev.prev) else None
        new_ok, old_ok = self.matches(ev.obj), self.matches(ev.prev)
        if new_ok and old_ok:
            return ("MODIFIED", ev.obj)
        if new_ok:
            return ("ADDED", ev.obj)
        if old_ok:  # moved out of the selector: DELETED with the old content and the new RV
            return ("DELETED", with_rv(ev.prev, ev.rv))
        return None


class Store:
    def __init__(self, types, history_size, state_file):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.types = types
        self.rv = 100
        self.objects = {rt.key: {} for rt in types}
        self.history = deque()
        self.history_size = history_size
        self.compacted_rv = self.rv
        self.epoch = 0  # bumped by /_fake/compact: continue tokens of older epochs expire
        self.watchers = {rt.key: set() for rt in types}
        self.tokens = {}
        self.state_file = state_file
        self.cluster_ip_next = 10
        if state_file and os.path.exists(state_file):
            self._load()
        else:
            ns_rt = next(rt for rt in types if rt.plural == "namespaces")
            for ns in DEFAULT_NAMESPACES:
                self.create(ns_rt, None, {"metadata": {"name": ns}})
            self.history.clear()
            self.compacted_rv = self.rv

    # ---- persistence -------------------------------------------------------------

    def _load(self):
        with open(self.state_file) as f:
            st = json.load(f)
        self.rv = int(st.get("resourceVersion", 100))
        for entry in st.get("objects", []):
            key = (entry["group"], entry["plural"])
            if key in self.objects:
                obj = entry["object"]
                self.objects[key][obj_key(obj)] = obj
        self.tokens = st.get("tokens", {})
        self.cluster_ip_next = int(st.get("clusterIPNext", 10))
        self.compacted_rv = self.rv  # history starts empty: older RVs get 410, like a compaction

    def _persist(self):
        if not self.state_file:
            return
        objs = []
        for (group, plural), items in self.objects.items():
            for k in sorted(items):
                objs.append({"group": group, "plural": plural, "object": items[k]})
        st = {"resourceVersion": self.rv, "objects": objs, "tokens": self.tokens,
              "clusterIPNext": self.cluster_ip_next}
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(st, f, separators=(",", ":"))
        os.replace(tmp, self.state_file)

    # ---- events ------------------------------------------------------------------

    def _commit(self, rt, type_, new, prev):
        """Bumps the RV, stores `new` (or removes `prev` for DELETED), records and fans out."""
        self.rv += 1
        items = self.objects[rt.key]
        if type_ == "DELETED":
            obj = with_rv(prev, self.rv)
            items.pop(obj_key(prev), None)
        else:
            new["metadata"]["resourceVersion"] = str(self.rv)
            obj = new
            items[obj_key(new)] = new
        ev = Event(self.rv, rt.key, type_, obj, prev)
        self.history.append(ev)
        while len(self.history) > self.history_size:
            self.compacted_rv = self.history.popleft().rv
        for w in self.watchers[rt.key]:
            t = w.translate(ev)
            if t is not None:
                w.queue.append(t)
                w.cond.notify()
        self.changed.notify_all()
        self._persist()
        return obj

    def compact(self, upto=None):
        with self.lock:
            upto = self.rv if upto is None else min(int(upto), self.rv)
            while self.history and self.history[0].rv <= upto:
                self.history.popleft()
            self.compacted_rv = max(self.compacted_rv, upto)
            self.epoch += 1
            return self.compacted_rv

    def state_at(self, rt, rv):
        """Objects of `rt` as they were at `rv` (compacted_rv <= rv <= self.rv), rebuilt by
        undoing retained history."""
        items = dict(self.objects[rt.key])
        for ev in reversed(self.history):
            if ev.rv <= rv:
                break
            if ev.key != rt.key:
                continue
            if ev.type == "ADDED":
                items.pop(obj_key(ev.obj), None)
            else:
                items[obj_key(ev.prev)] = ev.prev
        return items

    def wait_for_rv(self, rv, timeout):
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.rv < rv:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
            return True

    # ---- object defaults ---------------------------------------------------------

    def _defaults(self, rt, obj, old):
        kind = rt.kind
        if kind == "Service":
            spec = obj.setdefault("spec", {})
            if isinstance(spec, dict):
                spec.setdefault("type", "ClusterIP")
                ospec = (old or {}).get("spec") or {}
                if spec.get("type") != "ExternalName":
                    if not spec.get("clusterIP") and ospec.get("clusterIP"):
                        spec["clusterIP"] = ospec["clusterIP"]
                        if ospec.get("clusterIPs"):
                            spec.setdefault("clusterIPs", ospec["clusterIPs"])
                    if not spec.get("clusterIP"):
                        n = self.cluster_ip_next
                        self.cluster_ip_next += 1
                        spec["clusterIP"] = "10.96.%d.%d" % (n // 250, n % 250 + 1)
                    spec.setdefault("clusterIPs", [spec["clusterIP"]])
                spec.setdefault("sessionAffinity", "None")
                for p in spec.get("ports") or []:
                    if isinstance(p, dict):
                        p.setdefault("protocol", "TCP")
                        if "port" in p:
                            p.setdefault("targetPort", p["port"])
        elif kind == "EndpointSlice":
            for p in obj.get("ports") or []:
                if isinstance(p, dict):
                    p.setdefault("protocol", "TCP")
        elif kind == "Secret":
            sd = obj.pop("stringData", None)
            if isinstance(sd, dict):
                data = obj.setdefault("data", {}) or {}
                for k, v in sd.items():
                    data[k] = base64.b64encode(str(v).encode()).decode()
                obj["data"] = data
            obj.setdefault("type", "Opaque")
        elif kind == "Namespace":
            obj["metadata"].setdefault("labels", {})
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})

    @staticmethod
    def _spec_view(rt, obj):
        skip = ("metadata", "apiVersion", "kind") + (("status",) if rt.has_status else ())
        return {k: v for k, v in obj.items() if k not in skip}

    # ---- verbs -------------------------------------------------------------------

    def _check_type(self, rt, body):
        if not isinstance(body, dict):
            raise bad_request("the body of the request must be a JSON object")
        av, kind = body.get("apiVersion"), body.get("kind")
        if av:
            g = av.rsplit("/", 1)[0] if "/" in av else ""
            v = av.rsplit("/", 1)[-1]
            if g != rt.group or v not in rt.versions:
                raise bad_request("the API version in the data (%s) does not match the expected "
                                  "API version (%s)" % (av, rt.api_version(rt.storage_version)))
        if kind and kind != rt.kind:
            raise bad_request("the kind in the data (%s) does not match the expected kind (%s)"
                              % (kind, rt.kind))
        validate_custom_resource(self, rt, body)
        md = body.get("metadata", {})
        if md is None:
            md = body["metadata"] = {}
        if not isinstance(md, dict):
            raise bad_request("metadata must be an object")

    def create(self, rt, ns, body, dry_run=False, keep_status=False):
        self._check_type(rt, body)
        new = copy.deepcopy(body)
        new["apiVersion"] = rt.api_version(rt.storage_version)
        new["kind"] = rt.kind
        md = new.setdefault("metadata", {})
        if rt.namespaced:
            bns = md.get("namespace")
            if bns and bns != ns:
                raise bad_request("the namespace of the provided object does not match the "
                                  "namespace sent on the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        for f in ("resourceVersion", "uid", "creationTimestamp", "deletionTimestamp",
                  "deletionGracePeriodSeconds", "generation", "managedFields", "selfLink"):
            md.pop(f, None)
        with self.lock:
            name = md.get("name") or ""
            if not name:
                gen = md.get("generateName")
                if not gen:
                    raise invalid(rt, "", "metadata.name",
                                  "Required value: name or generateName is required",
                                  "FieldValueRequired")
                for _ in range(100):
                    name = gen + "".join(random.choice(_GEN_ALPHABET) for _ in range(5))
                    if (md.get("namespace") or "", name) not in self.objects[rt.key]:
                        break
                md["name"] = name
            validate_name(rt, name)
            if (md.get("namespace") or "", name) in self.objects[rt.key]:
                raise already_exists(rt, name)
            md["uid"] = str(uuid.uuid4())
            md["creationTimestamp"] = now_rfc3339()
            if rt.generation:
                md["generation"] = 1
            if rt.has_status and not keep_status:
                new.pop("status", None)
                if rt.kind == "Namespace":
                    new["status"] = {"phase": "Active"}
                elif rt.kind == "Pod":
                    new["status"] = {"phase": "Pending"}
                elif rt.kind == "Service":
                    new["status"] = {"loadBalancer": {}}
            self._defaults(rt, new, None)
            if dry_run:
                return new
            return self._commit(rt, "ADDED", new, None)

    def get(self, rt, ns, name):
        with self.lock:
            obj = self.objects[rt.key].get((ns or "", name))
        if obj is None:
            raise not_found(rt, name)
        return obj

    def update(self, rt, ns, name, body, sub=None, dry_run=False, require_rv=True,
               keep_status=False):
        self._check_type(rt, body)
        bm = body.get("metadata") or {}
        if bm.get("name") not in (None, "", name):
            raise bad_request("the name of the object (%s) does not match the name on the URL "
                              "(%s)" % (bm.get("name"), name))
        if rt.namespaced and bm.get("namespace") not in (None, "", ns):
            raise bad_request("the namespace of the provided object does not match the "
                              "namespace sent on the request")
        with self.lock:
            old = self.objects[rt.key].get((ns or "", name))
            if old is None:
                raise not_found(rt, name)
            om = old["metadata"]
            rv = bm.get("resourceVersion")
            if rv in (None, ""):
                if require_rv and rt.custom:
                    raise invalid(rt, name, "metadata.resourceVersion",
                                  "Invalid value: 0x0: must be specified for an update")
            elif str(rv) != om["resourceVersion"]:
                raise conflict(rt, name)
            if bm.get("uid") and bm["uid"] != om.get("uid"):
                raise conflict(rt, name, "Precondition failed: UID in precondition: %s, UID in "
                               "object meta: %s" % (bm["uid"], om.get("uid")))
            if sub == "status":
                new = copy.deepcopy(old)
                if "status" in body:
                    new["status"] = copy.deepcopy(body["status"])
                else:
                    new.pop("status", None)
            else:
                new = copy.deepcopy(body)
                new["apiVersion"] = rt.api_version(rt.storage_version)
                new["kind"] = rt.kind
                md = new.setdefault("metadata", {})
                for f in ("uid", "creationTimestamp", "name", "namespace", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "generation"):
                    if f in om:
                        md[f] = om[f]
                    else:
                        md.pop(f, None)
                md.pop("managedFields", None)
                md.pop("selfLink", None)
                if rt.has_status and not keep_status:
                    if "status" in old:
                        new["status"] = old["status"]
                    else:
                        new.pop("status", None)
                self._defaults(rt, new, old)
                if rt.generation and self._spec_view(rt, new) != self._spec_view(rt, old):
                    md["generation"] = int(om.get("generation") or 0) + 1
            new["metadata"]["resourceVersion"] = om["resourceVersion"]
            if new == old:
                return old, False  # no-op: same RV, no event
            if dry_run:
                return new, False
            if om.get("deletionTimestamp") and not new["metadata"].get("finalizers"):
                return self._commit(rt, "DELETED", None, new), True
            return self._commit(rt, "MODIFIED", new, old), True

    def delete(self, rt, ns, name, opts, dry_run=False):
        with self.lock:
            old = self.objects[rt.key].get((ns or "", name))
            if old is None:
                raise not_found(rt, name)
            om = old["metadata"]
            pre = (opts or {}).get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != om.get("uid"):
                raise conflict(rt, name, "Precondition failed: UID in precondition: %s, UID in "
                               "object meta: %s" % (pre["uid"], om.get("uid")))
            if pre.get("resourceVersion") and str(pre["resourceVersion"]) != om["resourceVersion"]:
                raise conflict(rt, name, "the ResourceVersion in the precondition (%s) does not "
                               "match the ResourceVersion in record (%s). The object might have "
                               "been modified" % (pre["resourceVersion"], om["resourceVersion"]))
            if dry_run:
                return old, 200
            if rt.kind == "Namespace":  # cascade (a real cluster does this asynchronously)
                for t in self.types:
                    if t.namespaced:
                        for (ons, oname) in sorted(self.objects[t.key]):
                            if ons == name:
                                self.delete(t, ons, oname, None)
            if om.get("finalizers"):
                if om.get("deletionTimestamp"):
                    return old, 202
                new = copy.deepcopy(old)
                new["metadata"]["deletionTimestamp"] = now_rfc3339()
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                return self._commit(rt, "MODIFIED", new, old), 202
            self._commit(rt, "DELETED", None, old)
            return old, 200

    def list(self, rt, ns, lsel, fsel, rv=None):
        with self.lock:
            items = self.objects[rt.key] if rv is None else self.state_at(rt, rv)
            keys = sorted(k for k in items if ns is None or k[0] == ns)
            res = []
            for k in keys:
                o = items[k]
                if labels_match(lsel, o["metadata"].get("labels")) and fields_match(fsel, o):
                    res.append((k, o))
            return res

    def register(self, w):
        self.watchers[w.rt.key].add(w)

    def unregister(self, w):
        with self.lock:
            self.watchers[w.rt.key].discard(w)

    def all_watchers(self):
        with self.lock:
            return [w for ws in self.watchers.values() for w in ws]

# --------------------------------------------------------------------------------------
# The application: routing, discovery, OpenAPI, hooks
# --------------------------------------------------------------------------------------


class Fault:
    def __init__(self, spec):
        self.code = int(spec.get("code", 500))
        self.count = int(spec.get("count", 1))
        verbs = spec.get("verbs")
        self.verbs = set(v.lower() for v in verbs) if verbs else None
        self.path_prefix = spec.get("path_prefix") or spec.get("pathPrefix")
        self.message = spec.get("message")

    def matches(self, verb, method, path):
        if self.count == 0:
            return False
        if self.verbs is not None and verb not in self.verbs and method.lower() not in self.verbs:
            return False
        return not self.path_prefix or path.startswith(self.path_prefix)


class Route:
    def __init__(self, rt, version, ns, name, sub, verb):
        self.rt, self.version, self.ns, self.name, self.sub, self.verb = \
            rt, version, ns, name, sub, verb


class App:
    def __init__(self, args):
        self.args = args
        self.types = RESOURCES
        self.by_gv = {}
        self.by_gk = {}
        for rt in self.types:
            for v in rt.versions:
                self.by_gv.setdefault((rt.group, v), {})[rt.plural] = rt
            self.by_gk[(rt.group, rt.kind)] = rt
        self.store = Store(self.types, args.history, args.state_file)
        self.lock = threading.Lock()
        self.faults = []
        self.latency_ms = 0
        self.requests = deque(maxlen=5000)
        self.request_count = 0
        self.port = 0
        self.bookmark_secs = args.bookmark_secs
        self.split_chunks = args.split_chunks
        self.stopping = False
        self._openapi = None
        self.admission = Admission(self, ApiError, json_patch)

    # ---- discovery ---------------------------------------------------------------

    def groups(self):
        return [g for g in GROUP_VERSIONS if g]

    def group_versions(self, g):
        return [v for v in GROUP_VERSIONS[g] if (g, v) in self.by_gv]

    def api_group(self, g):
        vs = self.group_versions(g)
        return {"name": g,
                "versions": [{"groupVersion": g + "/" + v, "version": v} for v in vs],
                "preferredVersion": {"groupVersion": g + "/" + vs[0], "version": vs[0]}}

    def resource_list(self, g, v):
        gv = g + "/" + v if g else v
        res = []
        for rt in self.by_gv[(g, v)].values():
            r = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
                 "kind": rt.kind, "verbs": rt.verbs}
            if rt.short_names:
                r["shortNames"] = rt.short_names
            if rt.categories:
                r["categories"] = rt.categories
            res.append(r)
            if rt.has_status:
                res.append({"name": rt.plural + "/status", "singularName": "",
                            "namespaced": rt.namespaced, "kind": rt.kind, "verbs": STATUS_VERBS})
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                "resources": res}

    def aggregated(self, core):
        items = []
        for g in ([""] if core else self.groups()):
            versions = []
            for v in self.group_versions(g):
                rs = []
                for rt in self.by_gv[(g, v)].values():
                    gvk = {"group": g, "version": v, "kind": rt.kind}
                    r = {"resource": rt.plural, "responseKind": gvk,
                         "scope": "Namespaced" if rt.namespaced else "Cluster",
                         "singularResource": rt.singular, "verbs": rt.verbs}
                    if rt.short_names:
                        r["shortNames"] = rt.short_names
                    if rt.categories:
                        r["categories"] = rt.categories
                    if rt.has_status:
                        r["subresources"] = [{"subresource": "status", "responseKind": gvk,
                                              "verbs": STATUS_VERBS}]
                    rs.append(r)
                versions.append({"version": v, "resources": rs, "freshness": "Current"})
            items.append({"metadata": {"name": g, "creationTimestamp": None},
                          "versions": versions})
        return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
                "metadata": {}, "items": items}

    # ---- OpenAPI v3 --------------------------------------------------------------

    @staticmethod
    def _schema_name(rt, v):
        g = rt.group or "core"
        return ".".join(reversed(g.split("."))) + "." + v + "." + rt.kind

    def _gv_doc(self, g, v):
        paths, schemas = {}, {}
        prefix = "/apis/%s/%s" % (g, v) if g else "/api/v1"

        def p(name, where="query"):
            return {"name": name, "in": where, "schema": {"type": "string", "uniqueItems": True}}

        for rt in self.by_gv[(g, v)].values():
            sname = self._schema_name(rt, v)
            gvk = {"group": g, "version": v, "kind": rt.kind}
            schemas[sname] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                              "x-kubernetes-group-version-kind": [gvk],
                              "properties": {"apiVersion": {"type": "string"},
                                             "kind": {"type": "string"},
                                             "metadata": {"type": "object"}}}
            resp = {"200": {"description": "OK", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/" + sname}}}}}
            base = prefix + ("/namespaces/{namespace}/" if rt.namespaced else "/") + rt.plural
            write_params = [p("dryRun"), p("fieldManager"), p("fieldValidation")]

            def op(action, params=(), rt=rt, gvk=gvk, resp=resp):
                return {"operationId": action + rt.kind, "x-kubernetes-action": action,
                        "x-kubernetes-group-version-kind": gvk, "parameters": list(params),
                        "responses": resp}
            coll = {"post": op("post", write_params)}
            if "list" in rt.verbs:
                coll["get"] = op("list", [p("labelSelector"), p("fieldSelector"), p("limit"),
                                          p("continue"), p("resourceVersion"), p("watch")])
            paths[base] = coll
            if "get" in rt.verbs:
                item = {"get": op("get"), "put": op("put", write_params),
                        "patch": op("patch", write_params + [p("force")]),
                        "delete": op("delete", [p("dryRun")])}
                paths[base + "/{name}"] = item
                if rt.has_status:
                    paths[base + "/{name}/status"] = {
                        "get": op("get"), "put": op("put", write_params),
                        "patch": op("patch", write_params + [p("force")])}
        return {"openapi": "3.0.0",
                "info": {"title": "Kubernetes", "version": "v1.32.0-fake"},
                "paths": paths, "components": {"schemas": schemas}}

    def openapi(self):
        if self._openapi is None:
            docs, root = {}, {"paths": {}}
            for (g, v) in self.by_gv:
                key = "apis/%s/%s" % (g, v) if g else "api/v1"
                body = dumps(self._gv_doc(g, v)).encode()
                h = hashlib.sha512(body).hexdigest().upper()
                docs[key] = body
                root["paths"][key] = {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (key, h)}
            self._openapi = (dumps(root).encode(), docs)
        return self._openapi

    # ---- routing -----------------------------------------------------------------

    def route(self, method, path, query):
        parts = [unquote(x) for x in path.split("/") if x]
        if len(parts) >= 2 and parts[0] == "api" and parts[1] == "v1":
            g, v, rest = "", "v1", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            g, v, rest = parts[1], parts[2], parts[3:]
        else:
            raise path_not_found()
        types = self.by_gv.get((g, v))
        if types is None or not rest:
            raise path_not_found()
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] in types and \
                types[rest[2]].namespaced:
            ns, rest = rest[1], rest[2:]
        rt = types.get(rest[0])
        if rt is None or len(rest) > 3:
            raise path_not_found()
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and (sub != "status" or not rt.has_status):
            raise path_not_found()
        if rt.namespaced and ns is None and name is not None:
            raise path_not_found()
        watch = truthy(query.get("watch"))
        if method == "GET":
            verb = "watch" if watch else ("get" if name else "list")
        elif method == "POST":
            verb = "create" if name is None and (ns is not None or not rt.namespaced) else None
        elif method == "PUT":
            verb = "update" if name else None
        elif method == "PATCH":
            verb = "patch" if name else None
        elif method == "DELETE":
            verb = "delete" if name else ("deletecollection"
                                          if ns is not None or not rt.namespaced else None)
        else:
            verb = None
        if verb is None or verb not in rt.verbs:
            raise method_not_allowed()
        return Route(rt, v, ns, name, sub, verb)

    # ---- faults ------------------------------------------------------------------

    def take_fault(self, verb, method, path, route):
        with self.lock:
            for f in self.faults:
                if f.matches(verb, method, path):
                    if f.count > 0:
                        f.count -= 1
                    fault = f
                    break
            else:
                return None
            self.faults = [f for f in self.faults if f.count != 0]
        reason, msg = FAULT_REASONS.get(fault.code, ("InternalError", "injected fault"))
        rt = route.rt if route else None
        name = route.name if route else None
        if fault.code == 409 and rt is not None:
            err = conflict(rt, name or "")
        else:
            err = ApiError(fault.code, reason, fault.message or msg or "injected fault",
                           _details(rt, name) if rt else None)
        if fault.message:
            err.message = fault.message
        if fault.code == 429:
            err.headers["Retry-After"] = "1"
            err.details = dict(err.details or {}, retryAfterSeconds=1)
        return err

    def state(self):
        st = self.store
        with st.lock:
            objs = {rt.qualified: len(st.objects[rt.key]) for rt in self.types
                    if st.objects[rt.key]}
            watches = [dict(w.info, id=w.id) for ws in st.watchers.values() for w in ws]
            res = {"resourceVersion": str(st.rv), "compactedResourceVersion": str(st.compacted_rv),
                   "historyLength": len(st.history), "objects": objs,
                   "totalObjects": sum(objs.values()), "openWatches": len(watches),
                   "watches": watches, "tokens": len(st.tokens)}
        with self.lock:
            res["faults"] = [{"code": f.code, "count": f.count, "verbs": sorted(f.verbs or []),
                              "path_prefix": f.path_prefix} for f in self.faults]
            res["latencyMs"] = self.latency_ms
            res["requestCount"] = self.request_count
        return res

    def close_watches(self, mode):
        ws = self.store.all_watchers()
        with self.store.lock:
            for w in ws:
                w.stop = mode
                w.cond.notify()
        return len(ws)

# --------------------------------------------------------------------------------------
# CRD schemas: a custom resource is checked against the openAPIV3Schema of its stored
# CustomResourceDefinition (when one was applied), as kube-apiserver does: types, formats of
# integers, enums, required, minimum/maximum, additionalProperties, nullable,
# x-kubernetes-int-or-string, x-kubernetes-preserve-unknown-fields, oneOf/anyOf/allOf/not.
# Unknown fields are pruned (the server's default, non-strict field validation).
# --------------------------------------------------------------------------------------

_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
               (list, "array"), (dict, "object"))


def _json_type(v):
    if v is None:
        return "null"
    for t, name in _JSON_TYPES:
        if isinstance(v, t):
            return name
    return "unknown"


def _quote(v):
    return json.dumps(v) if isinstance(v, (str, int, float, bool)) or v is None else \
        json.dumps(_json_type(v))


def _schema_errors(schema, v, path, prune):
    """[(field, detail, reason)] for value v at path; prunes unknown fields when asked."""
    errs = []
    if not isinstance(schema, dict):
        return errs
    typ = schema.get("type")
    if v is None:
        if schema.get("nullable") or (not typ and schema.get("x-kubernetes-preserve-unknown-"
                                                            "fields")):
            return errs
        if typ or schema.get("x-kubernetes-int-or-string"):
            errs.append((path, 'Invalid value: "null": %s in body must be of type %s: "null"'
                         % (path, typ or "integer,string"), "FieldValueTypeInvalid"))
            return errs
    got = _json_type(v)
    if schema.get("x-kubernetes-int-or-string"):
        if got not in ("integer", "string"):
            errs.append((path, 'Invalid value: "%s": %s in body must be of type integer,string: '
                         '"%s"' % (got, path, got), "FieldValueTypeInvalid"))
            return errs
    elif typ:
        ok = got == typ or (typ == "number" and got == "integer")
        if not ok:
            errs.append((path, 'Invalid value: "%s": %s in body must be of type %s: "%s"'
                         % (got, path, typ, got), "FieldValueTypeInvalid"))
            return errs
    if "enum" in schema and v not in schema["enum"]:
        errs.append((path, "Unsupported value: %s: supported values: %s" % (
            _quote(v), ", ".join(_quote(e) for e in schema["enum"])), "FieldValueNotSupported"))
    if got in ("integer", "number"):
        if "minimum" in schema and v < schema["minimum"]:
            errs.append((path, "Invalid value: %s: %s in body should be greater than or equal "
                         "to %s" % (v, path, schema["minimum"]), "FieldValueInvalid"))
        if "maximum" in schema and v > schema["maximum"]:
            errs.append((path, "Invalid value: %s: %s in body should be less than or equal "
                         "to %s" % (v, path, schema["maximum"]), "FieldValueInvalid"))
    if got == "object":
        props = schema.get("properties") or {}
        for req in schema.get("required") or []:
            if req not in v:
                errs.append((path + "." + req if path else req, "Required value",
                             "FieldValueRequired"))
        addl = schema.get("additionalProperties")
        for k in list(v):
            sub = path + "." + k if path else k
            if k in props:
                errs += _schema_errors(props[k], v[k], sub, prune)
            elif isinstance(addl, dict):
                errs += _schema_errors(addl, v[k], sub, prune)
            elif not schema.get("x-kubernetes-preserve-unknown-fields") and addl is not True \
                    and prune:
                del v[k]
    if got == "array" and isinstance(schema.get("items"), dict):
        for i, item in enumerate(v):
            errs += _schema_errors(schema["items"], item, "%s[%d]" % (path, i), prune)
    # Logical junctors validate without pruning.
    for sub in schema.get("allOf") or []:
        errs += _schema_errors(sub, v, path, False)
    if "anyOf" in schema and not any(not _schema_errors(s, v, path, False)
                                     for s in schema["anyOf"]):
        errs.append((path, "Invalid value: %s: %s in body must validate at least one schema "
                     "(anyOf)" % (_quote(v), path), "FieldValueInvalid"))
    if "oneOf" in schema:
        n = sum(1 for s in schema["oneOf"] if not _schema_errors(s, v, path, False))
        if n != 1:
            errs.append((path, "Invalid value: %s: %s in body must validate one and only one "
                         "schema (oneOf)%s" % (_quote(v), path, "" if n == 0 else
                                               ". Found %d valid alternatives" % n),
                         "FieldValueInvalid"))
    if "not" in schema and not _schema_errors(schema["not"], v, path, False):
        errs.append((path, "Invalid value: %s: %s in body should not be valid against the "
                     "schema (not)" % (_quote(v), path), "FieldValueInvalid"))
    return errs


def validate_custom_resource(store, rt, body):
    """422 Invalid (every cause, as kube-apiserver lists them) when a custom resource does not
    match its CRD's schema for the version in the body."""
    if not rt.custom:
        return
    with store.lock:
        crd = store.objects.get(("apiextensions.k8s.io", "customresourcedefinitions"),
                                {}).get(("", rt.qualified))
    if crd is None:
        return
    av = body.get("apiVersion") or ""
    version = av.rsplit("/", 1)[-1] if "/" in av else rt.storage_version
    versions = (crd.get("spec") or {}).get("versions") or []
    entry = next((x for x in versions if x.get("name") == version), None) or \
        next((x for x in versions if x.get("storage")), None)
    schema = ((entry or {}).get("schema") or {}).get("openAPIV3Schema")
    if not isinstance(schema, dict):
        return
    top = {k: v for k, v in body.items() if k not in ("apiVersion", "kind", "metadata")}
    errs = _schema_errors(schema, top, "", True)
    for k in [k for k in body if k not in ("apiVersion", "kind", "metadata") and k not in top]:
        del body[k]
    if not errs:
        return
    name = (body.get("metadata") or {}).get("name") or ""
    kind = rt.kind + "." + rt.group
    texts = ["%s: %s" % (f, d) for f, d, _ in errs]
    msg = '%s "%s" is invalid: %s' % (kind, name, texts[0] if len(texts) == 1 else
                                      "[" + ", ".join(texts) + "]")
    details = {"name": name, "group": rt.group, "kind": rt.kind,
               "causes": [{"reason": r, "message": d, "field": f} for f, d, r in errs]}
    raise ApiError(422, "Invalid", msg, details)


def request_attributes(app, entry):
    """The RBAC attributes of a recorded request, as the API server's authorizer sees them:
    a resource request gives {verb, apiGroup, resource, subresource, namespace, name}, any
    other path {verb (the HTTP method, lower case), nonResourceURL}."""
    url = urlsplit(entry["path"])
    query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
    try:
        r = app.route(entry["method"], url.path, query)
    except ApiError:
        return {"verb": entry["method"].lower(), "nonResourceURL": url.path}
    return {"verb": r.verb, "apiGroup": r.rt.group, "resource": r.rt.plural,
            "subresource": r.sub or "", "namespace": r.ns or "", "name": r.name or ""}


# --------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------


class _Abort(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-apiserver/1.0"
    sys_version = ""
    timeout = 600  # socket timeout (idle keep-alive connections, stuck writes)

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
        super().setup()

    @property
    def app(self):
        return self.server.app

    def log_message(self, fmt, *args):
        if self.app.args.verbose:
            sys.stderr.write("fake-apiserver: %s\n" % (fmt % args))

    def send_response(self, code, message=None):
        self._code = code
        super().send_response(code, message)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_HEAD(self):
        self._handle("HEAD")

    # ---- I/O ---------------------------------------------------------------------

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            data = b""
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline(65537)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, code, body, ctype="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_error(self, err):
        self._send(err.code, err.status(), headers=err.headers)

    # ---- request handling --------------------------------------------------------

    def _handle(self, method):
        t0 = time.monotonic()
        self._code = 0
        self._streaming = False
        url = urlsplit(self.path)
        try:
            body = self._read_body()
            query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            if url.path.startswith("/_fake/"):
                self._hook(method, url.path, query, body)
                return
            lat = self.app.latency_ms
            if lat > 0:
                time.sleep(lat / 1000.0)
            self._authenticate(url.path)
            route = None
            verb = method.lower()
            if url.path.startswith("/api/") or url.path.startswith("/apis/"):
                try:
                    route = self.app.route(method, url.path, query)
                    verb = route.verb
                except ApiError:
                    route = None
            err = self.app.take_fault(verb, method, url.path, route)
            if err is not None:
                raise err
            self._dispatch(method, url.path, query, body)
        except ApiError as e:
            self._send_error(e)
        except _Abort:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True
        except Exception:  # pragma: no cover - a bug in the fake; keep serving
            traceback.print_exc()
            if self._streaming:
                self.close_connection = True
                return
            try:
                self._send_error(ApiError(500, "InternalError",
                                          "Internal error occurred: %s" % sys.exc_info()[1]))
            except OSError:
                self.close_connection = True
        finally:
            entry = {"time": round(time.time(), 3), "method": method, "path": self.path,
                     "status": self._code, "ms": round((time.monotonic() - t0) * 1000, 1),
                     "userAgent": self.headers.get("User-Agent", ""),
                     "accept": self.headers.get("Accept", ""),
                     "contentType": self.headers.get("Content-Type", "")}
            with self.app.lock:
                self.app.request_count += 1
                self.app.requests.append(entry)

    def _authenticate(self, path):
        args = self.app.args
        if not args.token and not args.client_ca:
            return
        if path in ("/version", "/healthz", "/livez", "/readyz"):
            return
        auth = self.headers.get("Authorization") or ""
        if auth.startswith("Bearer "):
            tok = auth[7:].strip()
            if tok and (tok == args.token or tok in self.app.store.tokens):
                return
        if args.client_ca and isinstance(self.connection, ssl.SSLSocket):
            if self.connection.getpeercert():
                return
        raise ApiError(401, "Unauthorized", "Unauthorized")

    def _dispatch(self, method, path, query, body):
        app = self.app
        p = path.rstrip("/") or "/"
        if method in ("GET", "HEAD") and not p.startswith("/api"):
            if p == "/version":
                return self._send(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0-fake",
                                        "gitCommit": "0" * 40, "gitTreeState": "clean",
                                        "buildDate": "2024-12-11T00:00:00Z",
                                        "goVersion": "go1.23.0", "compiler": "gc",
                                        "platform": "linux/amd64"})
            if p in ("/healthz", "/livez", "/readyz"):
                return self._send(200, "ok", "text/plain; charset=utf-8")
            if p == "/openapi/v3":
                return self._send(200, app.openapi()[0])
            if p.startswith("/openapi/v3/"):
                doc = app.openapi()[1].get(p[len("/openapi/v3/"):])
                if doc is None:
                    raise path_not_found()
                return self._send(200, doc)
            if p == "/openapi/v2":
                # kubectl 1.20-compatible: empty protobuf document with the dotted media type.
                return self._send(200, b"",
                                  "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
            raise path_not_found()
        if method in ("GET", "HEAD"):
            accept = self.headers.get("Accept") or ""
            aggregated = app.args.aggregated_discovery and \
                "as=APIGroupDiscoveryList" in accept and re.search(r"v=v2(?![a-z0-9])", accept)
            if p in ("/api", "/apis"):
                if aggregated:
                    return self._send(200, app.aggregated(p == "/api"),
                                      "application/json;g=apidiscovery.k8s.io;v=v2;"
                                      "as=APIGroupDiscoveryList")
                if p == "/api":
                    return self._send(200, {"kind": "APIVersions", "versions": ["v1"],
                                            "serverAddressByClientCIDRs": [{
                                                "clientCIDR": "0.0.0.0/0",
                                                "serverAddress": "127.0.0.1:%d" % app.port}]})
                return self._send(200, {"kind": "APIGroupList", "apiVersion": "v1",
                                        "groups": [app.api_group(g) for g in app.groups()]})
            parts = [x for x in p.split("/") if x]
            if parts == ["api", "v1"]:
                return self._send(200, app.resource_list("", "v1"))
            if len(parts) == 2 and parts[0] == "apis":
                if parts[1] not in GROUP_VERSIONS or not parts[1]:
                    raise path_not_found()
                return self._send(200, dict(app.api_group(parts[1]), kind="APIGroup",
                                            apiVersion="v1"))
            if len(parts) == 3 and parts[0] == "apis":
                if (parts[1], parts[2]) not in app.by_gv:
                    raise path_not_found()
                return self._send(200, app.resource_list(parts[1], parts[2]))
        r = app.route(method, path, query)
        dry_run = bool(query.get("dryRun"))
        handler = getattr(self, "_verb_" + r.verb)
        return handler(r, query, body, dry_run)

    # ---- verbs -------------------------------------------------------------------

    def _json_body(self, body):
        try:
            return json.loads(body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError) as e:
            raise bad_request("the body of the request could not be decoded as JSON: %s" % e)

    def _out(self, r, obj):
        return out_obj(r.rt, obj, r.version)

    def _verb_get(self, r, q, body, dry_run):
        obj = self.app.store.get(r.rt, r.ns, r.name)
        if r.sub == "status":
            pass  # the whole object, like the real apiserver
        self._send(200, self._out(r, obj))

    def _verb_list(self, r, q, body, dry_run):
        st = self.app.store
        lsel = parse_label_selector(q.get("labelSelector"))
        fsel = parse_field_selector(q.get("fieldSelector"), r.rt)
        cont = q.get("continue") or ""
        rv_param = q.get("resourceVersion") or ""
        match = q.get("resourceVersionMatch") or ""
        limit = q.get("limit") or ""
        try:
            limit = int(limit) if limit else 0
        except ValueError:
            raise bad_request("limit: Invalid value: %r" % limit)
        start = None
        with st.lock:
            if cont:
                if rv_param not in ("", "0"):
                    raise bad_request("specifying resource version is not allowed when using "
                                      "continue")
                try:
                    tok = json.loads(base64.urlsafe_b64decode(cont + "=" * (-len(cont) % 4)))
                    list_rv = int(tok["rv"])
                    start = tuple(tok["start"])
                    epoch = int(tok.get("e", -1))
                except (ValueError, KeyError, TypeError):
                    raise bad_request("continue key is not valid: incorrect encoded start "
                                      "resourceVersion (version meta.k8s.io/v1)")
                if epoch != st.epoch or list_rv < st.compacted_rv:
                    raise expired("The provided continue parameter is too old to display a "
                                  "consistent list result. You can start a new list without the "
                                  "continue parameter.")
                at = list_rv if list_rv != st.rv else None
            else:
                if match and not rv_param:
                    raise bad_request("resourceVersionMatch: Forbidden: resourceVersionMatch is "
                                      "forbidden unless resourceVersion is provided")
                at, list_rv = None, st.rv
                if rv_param not in ("", "0"):
                    try:
                        want = int(rv_param)
                    except ValueError:
                        raise bad_request("resourceVersion: Invalid value: %r" % rv_param)
                    if want > st.rv:
                        if not st.wait_for_rv(want, TOO_LARGE_RV_WAIT_SECS):
                            raise too_large_rv()
                    if match == "Exact" or (limit and match != "NotOlderThan"):
                        if want < st.compacted_rv:
                            raise expired("too old resource version: %d (%d)"
                                          % (want, st.compacted_rv))
                        at, list_rv = (want if want != st.rv else None), want
                    else:
                        list_rv = st.rv
            items = st.list(r.rt, r.ns, lsel, fsel, at)
            if start is not None:
                items = [(k, o) for k, o in items if k > start]
            md = {"resourceVersion": str(list_rv)}
            if limit and len(items) > limit:
                last = items[limit - 1][0]
                rest = len(items) - limit
                items = items[:limit]
                tok = {"v": "meta.k8s.io/v1", "rv": list_rv, "start": list(last), "e": st.epoch}
                md["continue"] = base64.urlsafe_b64encode(dumps(tok).encode()).decode().rstrip(
                    "=")
                if not lsel and not fsel:
                    md["remainingItemCount"] = rest
        self._send(200, {"kind": r.rt.kind + "List", "apiVersion": r.rt.api_version(r.version),
                         "metadata": md, "items": [self._out(r, o) for _, o in items]})

    def _verb_create(self, r, q, body, dry_run):
        obj = self._json_body(body)
        if r.rt.kind == "TokenReview":
            return self._token_review(r, obj)
        if r.rt.kind == "SubjectAccessReview":
            return self._subject_access_review(r, obj)
        if isinstance(obj, dict):
            obj = self.app.admission.admit("CREATE", r.rt, r.version, r.ns,
                                           (obj.get("metadata") or {}).get("name"), obj, None,
                                           dry_run=dry_run)
        created = self.app.store.create(r.rt, r.ns, obj, dry_run)
        self._send(201, self._out(r, created))

    def _verb_update(self, r, q, body, dry_run):
        obj = self._json_body(body)
        if isinstance(obj, dict):
            old = out_obj(r.rt, self.app.store.get(r.rt, r.ns, r.name), r.version)
            obj = self.app.admission.admit("UPDATE", r.rt, r.version, r.ns, r.name, obj, old,
                                           r.sub, dry_run)
        res, _ = self.app.store.update(r.rt, r.ns, r.name, obj, r.sub, dry_run)
        self._send(200, self._out(r, res))

    def _verb_patch(self, r, q, body, dry_run):
        st, rt = self.app.store, r.rt
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        kinds = ("application/merge-patch+json", "application/json-patch+json",
                 "application/apply-patch+yaml", "application/strategic-merge-patch+json")
        if ctype not in kinds or (ctype == kinds[3] and rt.custom):
            raise ApiError(415, "UnsupportedMediaType",
                           "the body of the request was in an unknown format - accepted media "
                           "types include: application/json-patch+json, application/merge-patch"
                           "+json, application/apply-patch+yaml"
                           + ("" if rt.custom else ", application/strategic-merge-patch+json"),
                           {})
        patch = self._json_body(body)
        for _ in range(10):
            try:
                old = st.get(rt, r.ns, r.name)
            except ApiError as e:
                if ctype == kinds[2] and e.code == 404 and r.sub is None:
                    # server-side apply creates when absent
                    if not isinstance(patch, dict):
                        raise bad_request("apply patch must be a JSON object")
                    md = patch.get("metadata") or {}
                    if md.get("name") not in (None, r.name):
                        raise bad_request("the name of the object (%s) does not match the name "
                                          "on the URL (%s)" % (md.get("name"), r.name))
                    body2 = dict(patch, metadata=dict(md, name=r.name))
                    try:
                        created = st.create(rt, r.ns, body2, dry_run)
                    except ApiError as e2:
                        if e2.reason == "AlreadyExists":
                            continue  # raced with a create: patch it instead
                        raise
                    return self._send(201, self._out(r, created))
                raise
            cur = out_obj(rt, old, r.version)
            try:
                if ctype == kinds[1]:
                    patched = json_patch(cur, patch)
                elif ctype == kinds[3]:
                    if not isinstance(patch, dict):
                        raise PatchError("a strategic merge patch must be a JSON object")
                    patched = strategic_merge_patch(cur, patch, rt.kind)
                else:
                    if ctype == kinds[2] and not isinstance(patch, dict):
                        raise PatchError("apply patch must be a JSON object")
                    patched = merge_patch(cur, patch)
            except PatchError as e:
                raise ApiError(422, "Invalid", str(e), _details(rt, r.name))
            if not isinstance(patched, dict):
                raise ApiError(422, "Invalid", "the patch result is not an object",
                               _details(rt, r.name))
            patched["apiVersion"], patched["kind"] = cur["apiVersion"], cur["kind"]
            pm = patched.get("metadata")
            if not isinstance(pm, dict):
                pm = patched["metadata"] = {}
            explicit_rv = pm.get("resourceVersion") not in (None, "", old["metadata"][
                "resourceVersion"])
            if not explicit_rv:
                pm["resourceVersion"] = old["metadata"]["resourceVersion"]
            patched = self.app.admission.admit("UPDATE", rt, r.version, r.ns, r.name, patched,
                                               cur, r.sub, dry_run)
            try:
                res, _ = st.update(rt, r.ns, r.name, patched, r.sub, dry_run, require_rv=False)
            except ApiError as e:
                # Someone wrote between our read and our write: retry unless the patch itself
                # carried the precondition.
                if e.reason == "Conflict" and not explicit_rv:
                    continue
                raise
            return self._send(200, self._out(r, res))
        raise conflict(rt, r.name)

    def _verb_delete(self, r, q, body, dry_run):
        opts = self._json_body(body) if body.strip() else {}
        if not isinstance(opts, dict):
            raise bad_request("DeleteOptions must be an object")
        dry_run = dry_run or bool(opts.get("dryRun"))
        obj, code = self.app.store.delete(r.rt, r.ns, r.name, opts, dry_run)
        self._send(code, self._out(r, obj))

    def _verb_deletecollection(self, r, q, body, dry_run):
        st = self.app.store
        lsel = parse_label_selector(q.get("labelSelector"))
        fsel = parse_field_selector(q.get("fieldSelector"), r.rt)
        out = []
        with st.lock:
            for (ns, name), _ in st.list(r.rt, r.ns, lsel, fsel):
                try:
                    obj, _ = st.delete(r.rt, ns, name, None, dry_run)
                    out.append(self._out(r, obj))
                except ApiError:
                    pass
            rv = st.rv
        self._send(200, {"kind": r.rt.kind + "List", "apiVersion": r.rt.api_version(r.version),
                         "metadata": {"resourceVersion": str(rv)}, "items": out})

    def _token_review(self, r, obj):
        if not isinstance(obj, dict):
            raise bad_request("the body of the request must be a JSON object")
        spec = obj.get("spec") or {}
        token = spec.get("token") or ""
        if not token:
            raise bad_request("token is required for TokenReview in authentication")
        want = spec.get("audiences") or []
        with self.app.store.lock:
            entry = self.app.store.tokens.get(token)
        status = {"user": {}}
        if entry is None:
            status = {"authenticated": False, "user": {},
                      "error": "[invalid bearer token, token lookup failed: unknown token]"}
        elif entry.get("expired"):
            status = {"authenticated": False, "user": {},
                      "error": "[invalid bearer token, service account token has expired]"}
        else:
            have = entry.get("audiences") or DEFAULT_API_AUDIENCES
            target = want or DEFAULT_API_AUDIENCES
            inter = [a for a in target if a in have]
            if not inter:
                status = {"authenticated": False, "user": {},
                          "error": "[invalid bearer token, token audiences %s is invalid for the "
                                   "target audiences %s]" % (dumps(have), dumps(target))}
            else:
                user = {"username": entry["username"]}
                if entry.get("uid"):
                    user["uid"] = entry["uid"]
                user["groups"] = entry["groups"]
                if entry.get("extra"):
                    user["extra"] = entry["extra"]
                status = {"authenticated": True, "user": user, "audiences": inter}
        res = {"kind": "TokenReview", "apiVersion": r.rt.api_version(r.version),
               "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}
        self._send(201, res)

    def _subject_access_review(self, r, obj):
        if not isinstance(obj, dict):
            raise bad_request("the body of the request must be a JSON object")
        spec = obj.get("spec") or {}
        user = spec.get("user") or ""
        attrs = spec.get("resourceAttributes") or {}
        if not user or not attrs:
            raise bad_request("spec.user and spec.resourceAttributes are required")
        allow_list = getattr(self.app.args, "sar_allow", None) or []
        allowed = user in allow_list or self._rbac_allows(user, attrs)
        status = {"allowed": allowed}
        if not allowed:
            status["reason"] = "no RBAC policy matched"
        self._send(201, {"kind": "SubjectAccessReview", "apiVersion": r.rt.api_version(r.version),
                         "metadata": {"creationTimestamp": None}, "spec": spec,
                         "status": status})

    def _rbac_allows(self, user, attrs):
        """A RoleBinding in the namespace or a ClusterRoleBinding grants `user` the verb on the
        resource through a (Cluster)Role rule (no resourceNames, no aggregation)."""
        ns, verb, resource = attrs.get("namespace") or "", attrs.get("verb"), attrs.get("resource")
        group = attrs.get("group") or ""
        parts = user.split(":")  # system:serviceaccount:<ns>:<name>
        store = self.app.store
        with store.lock:
            objs = {k[1]: dict(v) for k, v in store.objects.items()
                    if k[0] == "rbac.authorization.k8s.io"}

        def subject_matches(sub):
            if sub.get("kind") == "User":
                return sub.get("name") == user
            return (sub.get("kind") == "ServiceAccount" and len(parts) == 4 and
                    parts[:2] == ["system", "serviceaccount"] and
                    sub.get("namespace") == parts[2] and sub.get("name") == parts[3])

        def rules_allow(rules):
            return any((verb in rule.get("verbs", []) or "*" in rule.get("verbs", [])) and
                       (resource in rule.get("resources", []) or "*" in rule.get("resources", []))
                       and (group in rule.get("apiGroups", [""]) or "*" in rule.get("apiGroups", []))
                       and not rule.get("resourceNames") for rule in rules or [])

        def role_rules(ref, binding_ns):
            kind, name = ref.get("kind"), ref.get("name")
            key = ("", name) if kind == "ClusterRole" else (binding_ns, name)
            role = objs.get("clusterroles" if kind == "ClusterRole" else "roles", {}).get(key)
            return (role or {}).get("rules")

        for (bns, _), b in objs.get("rolebindings", {}).items():
            if bns == ns and any(subject_matches(x) for x in b.get("subjects") or []) and \
                    rules_allow(role_rules(b.get("roleRef") or {}, bns)):
                return True
        for _, b in objs.get("clusterrolebindings", {}).items():
            if any(subject_matches(x) for x in b.get("subjects") or []) and \
                    rules_allow(role_rules(b.get("roleRef") or {}, "")):
                return True
        return False

    # ---- watch -------------------------------------------------------------------

    def _verb_watch(self, r, q, body, dry_run):
        app, st = self.app, self.app.store
        lsel = parse_label_selector(q.get("labelSelector"))
        fsel = parse_field_selector(q.get("fieldSelector"), r.rt)
        if r.name:  # watch on an object path == collection + metadata.name
            fsel = fsel + [("metadata.name", "=", r.name)]
        rv_param = q.get("resourceVersion") or ""
        bookmarks = truthy(q.get("allowWatchBookmarks"))
        send_initial = q.get("sendInitialEvents")
        try:
            timeout = float(q.get("timeoutSeconds") or app.args.default_watch_timeout)
        except ValueError:
            raise bad_request("timeoutSeconds: Invalid value")
        if send_initial is not None:
            send_initial = truthy(send_initial)
            if send_initial and (q.get("resourceVersionMatch") != "NotOlderThan" or
                                 not bookmarks):
                raise invalid(r.rt, "", "sendInitialEvents", "Forbidden: sendInitialEvents "
                              "requires resourceVersionMatch=NotOlderThan and "
                              "allowWatchBookmarks=true", "FieldValueForbidden")
        if rv_param not in ("", "0"):
            try:
                want = int(rv_param)
            except ValueError:
                raise bad_request("resourceVersion: Invalid value: %r" % rv_param)
        else:
            want = None
        info = {"resource": r.rt.qualified, "version": r.version, "namespace": r.ns,
                "resourceVersion": rv_param, "labelSelector": q.get("labelSelector") or "",
                "fieldSelector": q.get("fieldSelector") or "", "timeoutSeconds": timeout,
                "bookmarks": bookmarks}
        w = Watcher(st, r.rt, r.version, r.ns, lsel, fsel, info)
        if want is not None and not send_initial:
            w.min_rv = want
        initial, too_old, start_rv = [], None, None
        with st.lock:
            start_rv = st.rv
            if send_initial or (send_initial is None and want is None):
                for k, o in st.list(r.rt, r.ns, lsel, fsel):
                    initial.append(("ADDED", o))
            elif want is not None and want < st.compacted_rv:
                too_old = "too old resource version: %d (%d)" % (want, st.compacted_rv)
            elif want is not None:
                for ev in st.history:
                    if ev.rv > want and ev.key == r.rt.key:
                        t = w.translate(ev)
                        if t is not None:
                            initial.append(t)
            if too_old is None:
                st.register(w)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-cache, private")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._streaming = True
            if too_old is not None:
                self._write_event("ERROR", expired(too_old).status())
                self._end_chunks()
                return
            for t, o in initial:
                self._write_event(t, self._out(r, o))
            if send_initial and bookmarks:
                self._write_bookmark(r, start_rv, initial_end=True)
            self._watch_loop(r, w, timeout, bookmarks)
        finally:
            st.unregister(w)

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _end_chunks(self):
        self.wfile.write(b"0\r\n\r\n")

    def _write_event(self, type_, obj):
        line = (dumps({"type": type_, "object": obj}) + "\n").encode()
        if self.app.split_chunks and len(line) > 1:
            half = len(line) // 2
            self._chunk(line[:half])
            time.sleep(0.3)
            self._chunk(line[half:])
        else:
            self._chunk(line)

    def _write_bookmark(self, r, rv, initial_end=False):
        md = {"resourceVersion": str(rv)}
        if initial_end:
            md["annotations"] = {"k8s.io/initial-events-end": "true"}
        self._write_event("BOOKMARK", {"kind": r.rt.kind, "apiVersion": r.rt.api_version(
            r.version), "metadata": md})

    def _peer_closed(self):
        sock = self.connection
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (ValueError, OSError):
            return True
        if not readable:
            return False
        try:
            if isinstance(sock, ssl.SSLSocket):
                sock.settimeout(0.0)
                try:
                    return sock.recv(1) == b""
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    return False
                finally:
                    sock.settimeout(self.timeout)
            return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def _watch_loop(self, r, w, timeout, bookmarks):
        st = self.app.store
        now = time.monotonic()
        deadline = now + timeout
        period = max(0.05, float(self.app.bookmark_secs))
        next_bm = now + period if bookmarks else None
        pre_deadline = deadline - min(2.0, timeout / 2.0) if bookmarks else None
        while True:
            batch, stop, bm_rv = [], None, None
            with st.lock:
                while True:
                    now = time.monotonic()
                    if w.queue or w.stop:
                        break
                    wake = deadline
                    if next_bm is not None:
                        wake = min(wake, next_bm)
                    if pre_deadline is not None:
                        wake = min(wake, pre_deadline)
                    if now >= wake:
                        break
                    w.cond.wait(min(wake - now, 0.25))
                    if not w.queue and not w.stop:
                        break  # leave the lock to check the socket
                batch = list(w.queue)
                w.queue.clear()
                stop = w.stop
                now = time.monotonic()
                due = (next_bm is not None and now >= next_bm) or \
                    (pre_deadline is not None and now >= pre_deadline)
                if due and not batch and not stop:
                    if st.rv >= w.min_rv:
                        bm_rv = st.rv  # queue is empty: every event up to st.rv was delivered
                    else:  # watching from a future RV: nothing to report yet
                        next_bm = now + period if next_bm is not None else None
                        pre_deadline = None
            if stop == "abrupt":
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                raise _Abort()
            for t, o in batch:
                self._write_event(t, self._out(r, o))
            if stop == "clean":
                self._end_chunks()
                self.close_connection = True
                return
            if bm_rv is not None:
                self._write_bookmark(r, bm_rv)
                if pre_deadline is not None and now >= pre_deadline:
                    pre_deadline = None
                next_bm = time.monotonic() + period
            if time.monotonic() >= deadline:
                self._end_chunks()
                return
            if not batch and bm_rv is None and self._peer_closed():
                raise _Abort()

    # ---- fake hooks --------------------------------------------------------------

    def _hook(self, method, path, query, body):
        app, st = self.app, self.app.store
        name = path[len("/_fake/"):].strip("/")
        data = self._json_body(body) if body.strip() else {}
        if data is None:
            data = {}
        if method == "GET" and name == "state":
            return self._send(200, app.state())
        if method == "GET" and name == "requests":
            with app.lock:
                reqs = list(app.requests)
                if truthy(query.get("clear")):
                    app.requests.clear()
            return self._send(200, {"requests": [dict(r, attributes=request_attributes(app, r))
                                                 for r in reqs]})
        if method != "POST":
            raise method_not_allowed()
        if name == "compact":
            upto = data.get("rv") if isinstance(data, dict) else None
            return self._send(200, {"compactedResourceVersion": str(st.compact(upto))})
        if name == "close-watches":
            return self._send(200, {"closed": app.close_watches("abrupt")})
        if name == "fail":
            specs = data if isinstance(data, list) else [data]
            with app.lock:
                for s in specs:
                    app.faults.append(Fault(s))
            return self._send(200, {"faults": len(app.faults)})
        if name == "latency":
            with app.lock:
                app.latency_ms = int(data.get("ms", 0))
            return self._send(200, {"latencyMs": app.latency_ms})
        if name == "reset":
            with app.lock:
                app.faults = []
                app.latency_ms = 0
            return self._send(200, {"reset": True})
        if name == "tokens":
            entries = data if isinstance(data, list) else [data]
            with st.lock:
                for e in entries:
                    tok = e.get("token")
                    if not tok:
                        raise bad_request("token is required")
                    if e.get("remove"):
                        st.tokens.pop(tok, None)
                        continue
                    user = e.get("username") or "system:anonymous"
                    groups = e.get("groups")
                    if groups is None:
                        groups = []
                        p = user.split(":")
                        if len(p) == 4 and p[:2] == ["system", "serviceaccount"]:
                            groups = ["system:serviceaccounts", "system:serviceaccounts:" + p[2]]
                        groups.append("system:authenticated")
                    extra = dict(e.get("extra") or {})
                    if e.get("pod_name"):
                        extra["authentication.kubernetes.io/pod-name"] = [e["pod_name"]]
                    if e.get("pod_uid"):
                        extra["authentication.kubernetes.io/pod-uid"] = [e["pod_uid"]]
                    st.tokens[tok] = {"username": user, "uid": e.get("uid") or "",
                                      "groups": groups, "audiences": e.get("audiences") or [],
                                      "extra": extra, "expired": bool(e.get("expired"))}
                st._persist()
                n = len(st.tokens)
            return self._send(200, {"tokens": n})
        if name == "objects":
            items = data.get("items") if isinstance(data, dict) and "items" in data else data
            items = items if isinstance(items, list) else [items]
            out = []
            for o in items:
                av = o.get("apiVersion") or ""
                g = av.rsplit("/", 1)[0] if "/" in av else ""
                rt = app.by_gk.get((g, o.get("kind")))
                if rt is None:
                    raise bad_request("unknown apiVersion/kind %s %s" % (av, o.get("kind")))
                md = o.get("metadata") or {}
                ns = (md.get("namespace") or "default") if rt.namespaced else None
                with st.lock:
                    cur = st.objects[rt.key].get((ns or "", md.get("name")))
                    if cur is None:
                        res = st.create(rt, ns, o, keep_status=True)
                    else:
                        o2 = copy.deepcopy(o)
                        o2.setdefault("metadata", {}).pop("resourceVersion", None)
                        res, _ = st.update(rt, ns, md.get("name"), o2, require_rv=False,
                                           keep_status=True)
                out.append(out_obj(rt, res, rt.storage_version))
            return self._send(200, {"items": out})
        raise path_not_found()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # server_close() must not wait for keep-alive connections
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, app, ssl_ctx):
        self.app = app
        self.ssl_ctx = ssl_ctx
        super().__init__(addr, handler)

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self):
        sock, addr = super().get_request()
        if self.ssl_ctx is not None:
            sock = self.ssl_ctx.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        if self.app.args.verbose:
            traceback.print_exc()


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Test Kubernetes API server (see README.md).")
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: pick one)")
    ap.add_argument("--port-file", help="write the chosen port to this file")
    ap.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (chain)")
    ap.add_argument("--tls-key", help="PEM private key for --tls-cert")
    ap.add_argument("--client-ca", help="verify client certificates against this CA (TLS only)")
    ap.add_argument("--token", help="require 'Authorization: Bearer TOKEN' (or a client cert)")
    ap.add_argument("--bookmark-secs", type=float,
                    default=float(os.environ.get("FAKE_BOOKMARK_SECS", "60")),
                    help="BOOKMARK period for watches (env FAKE_BOOKMARK_SECS, default 60)")
    ap.add_argument("--default-watch-timeout", type=float, default=1800.0,
                    help="watch duration when the client sends no timeoutSeconds")
    ap.add_argument("--history", type=int, default=HISTORY_SIZE,
                    help="events kept for watch replay (default %d)" % HISTORY_SIZE)
    ap.add_argument("--state-file", help="persist objects+RV here and load them at start")
    ap.add_argument("--max-lifetime", type=float, default=3600.0,
                    help="exit after this many seconds (0: never)")
    ap.add_argument("--exit-with-parent", action="store_true",
                    help="exit when the parent process goes away")
    ap.add_argument("--aggregated-discovery", action="store_true",
                    help="answer /api and /apis with APIGroupDiscoveryList when asked")
    ap.add_argument("--split-chunks", action="store_true",
                    default=os.environ.get("FAKE_SPLIT_CHUNKS") == "1",
                    help="write every watch event as 2 chunks 300 ms apart "
                    "(env FAKE_SPLIT_CHUNKS=1)")
    ap.add_argument("--sar-allow", action="append", metavar="USER",
                    help="SubjectAccessReview allows everything for USER (repeatable)")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if args.client_ca and not args.tls_cert:
        ap.error("--client-ca needs --tls-cert/--tls-key")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    app = App(args)
    ctx = None
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        ctx.set_alpn_protocols(["http/1.1"])
        if args.client_ca:
            ctx.load_verify_locations(args.client_ca)
            ctx.verify_mode = ssl.CERT_OPTIONAL
    server = Server(("127.0.0.1", args.port), Handler, app, ctx)
    app.port = server.server_address[1]

    def stop(*_):
        if not app.stopping:
            app.stopping = True
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.max_lifetime > 0:
        t = threading.Timer(args.max_lifetime, stop)
        t.daemon = True
        t.start()
    if args.exit_with_parent:
        ppid = os.getppid()

        def watch_parent():
            while not app.stopping:
                if os.getppid() != ppid:
                    stop()
                    return
                time.sleep(0.5)
        threading.Thread(target=watch_parent, daemon=True).start()
    # Announce the port only once signal handlers are installed.
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % app.port)
        os.replace(tmp, args.port_file)
    sys.stdout.write("PORT %d\n" % app.port)
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        if app.close_watches("clean"):
            time.sleep(0.3)  # let watch threads write their terminating chunk
        try:
            server.server_close()
        except OSError:
            pass
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
