"""The mesh page in a real browser: meshd on a config directory (a ServiceEntry with one echo
backend, a VirtualService, and a broken VirtualService that is rejected), a real gRPC client on
the xds:/// resolver connected as a proxy, and Debian's headless chromium driven by
playwright-core (mesh_page_test.js). The script checks the graph (proxy and service), the push
table, the rejected object and a screenshot; then meshd is stopped here and the script checks the
"unreachable" banner."""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Failure, Meshd, check, cpp_client, log, main, spawn,  # noqa: E402
                     start_backend, write_atomic, write_bootstrap)

MESH = """\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: reviews, namespace: default}}
spec:
  hosts: [reviews.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{{number: 9080, name: grpc, protocol: GRPC}}]
  endpoints: [{{address: 127.0.0.1, ports: {{grpc: {port}}}, labels: {{version: v1}}}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: reviews, namespace: default}}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {{host: reviews}}
"""

BROKEN = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: broken, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
      weight: -5
"""


def test(workdir, args):
    port = start_backend(args.echo_server, "v1")
    config = os.path.join(workdir, "config")
    os.makedirs(config)
    write_atomic(os.path.join(config, "mesh.yaml"), MESH.format(port=port))
    write_atomic(os.path.join(config, "broken.yaml"), BROKEN)
    meshd = Meshd(args.meshd, config, workdir)
    meshd.wait_ready()
    check(True, "meshd is ready on the config directory")
    bootstrap = os.path.join(workdir, "bootstrap.json")
    write_bootstrap(bootstrap, meshd.grpc,
                    node_id="sidecar~127.0.0.1~productpage.default~default.svc.cluster.local")
    client = cpp_client(args.xds_client, "xds:///reviews:9080", bootstrap, seed=1)
    r = client.run(10)
    check(r.get("ok") == 10, f"the gRPC client routed 10 RPCs through meshd's config ({r})")
    # A live edit pushed to the connected client: a push row with its ACK latency.
    write_atomic(os.path.join(config, "mesh.yaml"),
                 MESH.format(port=port) + "    timeout: 5s\n")
    deadline = time.time() + 20
    while time.time() < deadline:
        pushes = meshd.get_json("/debug/pushz")["pushes"]
        if any(p["latency_ms"] for p in pushes):
            break
        time.sleep(0.1)
    check(any(p["latency_ms"] for p in pushes),
          f"/debug/pushz has a push ACKed by the client: {pushes[0] if pushes else None}")

    screenshot = os.path.join(args.out_dir, "mesh_page.png")
    if os.path.exists(screenshot):
        os.remove(screenshot)
    env = dict(os.environ, NODE_PATH=args.node_modules)
    here = os.path.dirname(os.path.abspath(__file__))
    browser = spawn(["node", os.path.join(here, "mesh_page_test.js"),
                     "--url", f"http://127.0.0.1:{meshd.mon}/",
                     "--chromium", args.chromium, "--screenshot", screenshot,
                     "--profile", os.path.join(workdir, "chromium-profile")],
                    env=env, stdout=subprocess.PIPE, stdin=subprocess.PIPE)
    deadline = time.time() + 120
    stopped = False
    for line in browser.stdout:
        line = line.rstrip("\n")
        log("page " + line)
        if line == "STOP-MESHD" and not stopped:
            meshd.proc.terminate()
            meshd.proc.wait(10)
            stopped = True
            browser.stdin.write("stopped\n")
            browser.stdin.flush()
        if time.time() > deadline:
            break
    try:
        rc = browser.wait(max(1, deadline - time.time()))
    except subprocess.TimeoutExpired:
        browser.kill()
        raise Failure("the browser test did not finish in time")
    check(rc == 0, "the browser checks passed (graph, pushes, rejected object, banner)")
    check(stopped, "meshd was stopped while the page was open")
    with open(screenshot, "rb") as f:
        png = f.read()
    check(len(png) > 1000 and png[:8] == b"\x89PNG\r\n\x1a\n",
          f"the screenshot is a non-empty PNG ({len(png)} bytes, {screenshot})")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--meshd", required=True)
    ap.add_argument("--echo-server", required=True)
    ap.add_argument("--xds-client", required=True)
    ap.add_argument("--node-modules", required=True)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--out-dir", required=True)
    a = ap.parse_args()
    if not os.path.exists(a.chromium) or not os.path.isdir(os.path.join(a.node_modules, "playwright-core")):
        log(f"SKIP: needs {a.chromium} and playwright-core in {a.node_modules} (.ci/setup installs both)")
        sys.exit(77)
    sys.exit(main(lambda w: test(w, a)))
