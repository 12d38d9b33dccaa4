#!/usr/bin/env python3
"""The include rules of meshd's layers, enforced by ctest (test `layering`).

Scans every `#include "..."` in the C++ sources and fails, naming file, line and rule, when a
file includes a layer it may not. A project include is one whose first path component is a
project folder (controller/<sub>, ca, xds); generated protobuf headers are classified by their
path (envoy/... is Envoy's API; istio/... and meshd/... are meshd's own schemas, usable by every
layer). Run: python3 tests/layering_test.py [repo root]
"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), ".."))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCE_DIRS = ["controller", "ca", "xds", "bench", "tests"]


def layer_of_include(inc):
    """The layer an include belongs to, or None for third-party and generated schema headers."""
    parts = inc.split("/")
    if parts[0] == "envoy":
        return "envoy"
    if parts[0] == "controller":
        if len(parts) == 2:  # controller/store.h, controller/registry.h, ...
            return "controller"
        return "controller/" + parts[1]
    if parts[0] in ("ca", "xds") and os.path.exists(os.path.join(ROOT, inc)):
        return parts[0]
    return None


# Each rule: (files whose path starts with `prefix`, the project layers they may include).
# The first matching prefix applies. "envoy" (Envoy's generated API) is a layer too.
CONTROLLER_LOW = {"controller/common"}
RULES = [
    ("controller/common/", CONTROLLER_LOW),
    ("controller/model/", CONTROLLER_LOW | {"controller/model"}),
    ("controller/config/", CONTROLLER_LOW | {"controller/model", "controller/config"}),
    ("controller/file/", CONTROLLER_LOW | {"controller/model", "controller/config",
                                           "controller/file"}),
    ("controller/kube/", CONTROLLER_LOW | {"controller/model", "controller/config",
                                           "controller/kube"}),
    # The admission webhooks: no CA, no xDS, no Kubernetes client (bootstrap wires them).
    ("controller/webhook/", CONTROLLER_LOW | {"controller/model", "controller/config",
                                              "controller/webhook"}),
    # The composition root includes every layer (but not Envoy's API).
    ("controller/bootstrap/", {"controller", "controller/common", "controller/model",
                               "controller/config", "controller/file", "controller/kube",
                               "controller/webhook",
                               "controller/bootstrap", "ca", "xds"}),
    # meshctl: the CLI links the config layer for offline analysis; no server code.
    ("controller/meshctl/", CONTROLLER_LOW | {"controller/model", "controller/config",
                                              "controller/meshctl"}),
    ("controller/", {"controller", "controller/common", "controller/model", "controller/config",
                     "controller/file", "controller/kube"}),
    ("ca/", {"controller/common", "ca"}),
    ("xds/", {"controller/common", "controller/model", "xds", "envoy"}),
    ("bench/", None),  # benchmarks may include anything
    ("tests/xds/", None),
    ("tests/", {"controller", "controller/common", "controller/model", "controller/config",
                "controller/file", "controller/kube", "controller/webhook",
                "controller/bootstrap", "controller/meshctl", "ca", "xds"}),
]

# Known exceptions, each with its reason. Keep this list short and honest.
EXCEPTIONS = {
    # KubeTokenReviewer implements the CA's TokenReviewer interface, which lives in ca/server.
    ("controller/kube/token_reviewer.h", "ca/server/token_reviewer.h"),
}


def rule_for(path):
    for prefix, allowed in RULES:
        if path.startswith(prefix):
            return prefix, allowed
    return None, None


def scan():
    violations = []
    files = 0
    for top in SOURCE_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
            dirnames[:] = [d for d in dirnames if d not in ("node_modules", "testdata")]
            for name in filenames:
                if not name.endswith((".h", ".cc")):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), ROOT)
                prefix, allowed = rule_for(path)
                if prefix is None or allowed is None:
                    continue
                files += 1
                with open(os.path.join(ROOT, path), encoding="utf-8") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        inc = m.group(1)
                        layer = layer_of_include(inc)
                        if layer is None or layer in allowed or (path, inc) in EXCEPTIONS:
                            continue
                        violations.append("%s:%d: includes \"%s\" (%s), but files under %s may "
                                          "include only %s" % (path, lineno, inc, layer, prefix,
                                                               ", ".join(sorted(allowed))))
    return files, violations


def main():
    files, violations = scan()
    for v in violations:
        print(v)
    if files == 0:
        print("no source files found under %s" % ROOT)
        return 1
    print("layering: %d files checked, %d violations" % (files, len(violations)))
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
