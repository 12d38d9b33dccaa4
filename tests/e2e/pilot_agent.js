// A simulated pilot-agent (istio-agent): talks to meshd's secure xDS port the way istio-agent
// talks to istiod, and proves what a sidecar would get. TLS with the mesh root and the server
// name istiod.<ns>.svc, per-RPC `authorization: Bearer <token>` and `ClusterID`, one ADS
// stream (Delta by default, `--sotw` for StreamAggregatedResources) with the node on the first
// message only. It subscribes CDS and LDS (wildcard), sends a HealthInfo report (which istiod
// never answers) and an NDS request, ACKs every response with its nonce, follows Listeners
// (their HttpConnectionManagers) to every RDS route_config_name and Clusters to every EDS
// name, and stops when every subscribed name of the four types has arrived.
//
//   node pilot_agent.js --addr 127.0.0.1:PORT --ca root-cert.pem --token-file TOKEN
//       [--namespace default] [--pod productpage-v1-0] [--ip 10.0.0.1] [--sa bookinfo-productpage]
//       [--labels app=productpage,version=v1] [--istiod-namespace istio-system] [--sotw]
//       [--plaintext] [--out resources.bin] [--timeout 20000] [--linger 300] [--follow]
//       [--deps DIR]   (Envoy protos; default: @grpc/grpc-js-xds/deps found through NODE_PATH)
//       [--nack TYPE=MESSAGE]  (NACK every response of TYPE — LDS, CDS, RDS, EDS — with
//                               error_detail MESSAGE instead of ACKing it, as Envoy does
//                               with config it refuses)
//
// Output: one JSON summary line on stdout. `--out` writes a binary
// envoy.service.discovery.v3.DiscoveryResponse holding every resource received (as Any).
// `--follow` keeps the stream open after the summary and prints one JSON line per later
// response ({"event":"update","type":"RDS","names":[...],"splits":[{cluster: weight}]}) until
// stdin closes.
// Exit codes: 0 complete; 1 the stream was refused or failed (its gRPC status is printed);
// 2 usage; 3 timed out before every subscribed name arrived.
'use strict';
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protobuf = require('protobufjs');

const argv = process.argv.slice(2);
function arg(name, fallback) {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}
function flag(name) { return argv.includes(name); }

const addr = arg('--addr');
if (!addr) {
  console.error('usage: node pilot_agent.js --addr HOST:PORT --ca ROOT.pem --token-file FILE ...');
  process.exit(2);
}
const ns = arg('--namespace', 'default');
const pod = arg('--pod', 'productpage-v1-0');
const ip = arg('--ip', '10.0.0.1');
const sa = arg('--sa', 'bookinfo-productpage');
const istiodNs = arg('--istiod-namespace', 'istio-system');
const sotw = flag('--sotw');
const plaintext = flag('--plaintext');
const follow = flag('--follow');
const outFile = arg('--out');
const timeoutMs = Number(arg('--timeout', '20000'));
const lingerMs = Number(arg('--linger', '300'));
const [nackType, ...nackRest] = (arg('--nack', '') || '').split('=');
const nackMessage = nackRest.join('=');
const labels = {};
for (const kv of arg('--labels', 'app=productpage,version=v1').split(',')) {
  const [k, v] = kv.split('=');
  if (k) labels[k] = v || '';
}

// --- Protos -------------------------------------------------------------------------------
function defaultDeps() {
  const main = require.resolve('@grpc/grpc-js-xds');  // .../grpc-js-xds/build/src/index.js
  return path.join(path.dirname(main), '..', '..', 'deps');
}
const deps = arg('--deps', defaultDeps());
const includes = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(deps, d));
// google/protobuf/descriptor.proto (for the option extensions) ships with protobufjs itself.
includes.push(path.join(path.dirname(require.resolve('protobufjs/package.json'))));
const root = new protobuf.Root();
root.resolvePath = (origin, target) => {
  if (path.isAbsolute(target)) return target;
  for (const dir of includes) {
    const p = path.join(dir, target);
    if (fs.existsSync(p)) return p;
  }
  return target;  // protobufjs' bundled google/protobuf/*.proto
};
root.loadSync([
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
], {keepCase: true});
root.resolveAll();
const T = (n) => root.lookupType(n);
const DiscoveryRequest = T('envoy.service.discovery.v3.DiscoveryRequest');
const DiscoveryResponse = T('envoy.service.discovery.v3.DiscoveryResponse');
const DeltaRequest = T('envoy.service.discovery.v3.DeltaDiscoveryRequest');
const DeltaResponse = T('envoy.service.discovery.v3.DeltaDiscoveryResponse');
const Listener = T('envoy.config.listener.v3.Listener');
const Cluster = T('envoy.config.cluster.v3.Cluster');
const Hcm = T('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager');
const EDS_TYPE = root.lookupEnum('envoy.config.cluster.v3.Cluster.DiscoveryType').values.EDS;

const TYPES = {
  LDS: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  CDS: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  RDS: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  EDS: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  NDS: 'type.googleapis.com/istio.networking.nds.v1.NameTable',
  HealthInfo: 'type.googleapis.com/istio.v1.HealthInformation',
};
const SHORT = Object.fromEntries(Object.entries(TYPES).map(([k, v]) => [v, k]));

// --- The node, as istio-agent builds it (pkg/istio-agent, pilot/pkg/model/proxy.go) ---------
function value(v) {
  if (typeof v === 'string') return {string_value: v};
  if (typeof v === 'boolean') return {bool_value: v};
  if (typeof v === 'number') return {number_value: v};
  return {struct_value: struct(v)};
}
function struct(obj) {
  return {fields: Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, value(v)]))};
}
const workload = labels.app ? `${labels.app}-${labels.version || 'v1'}` : pod;
const node = {
  id: `sidecar~${ip}~${pod}.${ns}~${ns}.svc.cluster.local`,
  cluster: `${labels.app || pod}.${ns}`,
  user_agent_name: 'envoy',
  metadata: struct({
    ISTIO_VERSION: '1.31.0',
    ISTIO_REVISION: 'default',
    LABELS: labels,
    ANNOTATIONS: {'sidecar.istio.io/status': '{"containers":["istio-proxy"]}'},
    NAMESPACE: ns,
    SERVICE_ACCOUNT: sa,
    INSTANCE_IPS: ip,
    INTERCEPTION_MODE: 'REDIRECT',
    CLUSTER_ID: 'Kubernetes',
    NETWORK: '',
    MESH_ID: 'cluster.local',
    WORKLOAD_NAME: workload,
    OWNER: `kubernetes://apis/apps/v1/namespaces/${ns}/deployments/${workload}`,
    NODE_NAME: 'node-1',
    POD_PORTS: '[{"name":"http","containerPort":9080,"protocol":"TCP"}]',
    APP_CONTAINERS: labels.app || pod,
    PROXY_CONFIG: {discoveryAddress: `istiod.${istiodNs}.svc:15012`, concurrency: 2},
    DNS_CAPTURE: 'true',
    PILOT_SAN: [`istiod.${istiodNs}.svc`].join(','),
  }),
};

// --- The stream ----------------------------------------------------------------------------
const service = {
  DeltaAggregatedResources: {
    path: '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources',
    requestStream: true, responseStream: true,
    requestSerialize: (m) => Buffer.from(DeltaRequest.encode(DeltaRequest.fromObject(m)).finish()),
    requestDeserialize: (b) => DeltaRequest.decode(b),
    responseSerialize: (m) => Buffer.from(DeltaResponse.encode(m).finish()),
    responseDeserialize: (b) => DeltaResponse.decode(b),
  },
  StreamAggregatedResources: {
    path: '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
    requestStream: true, responseStream: true,
    requestSerialize: (m) => Buffer.from(DiscoveryRequest.encode(DiscoveryRequest.fromObject(m)).finish()),
    requestDeserialize: (b) => DiscoveryRequest.decode(b),
    responseSerialize: (m) => Buffer.from(DiscoveryResponse.encode(m).finish()),
    responseDeserialize: (b) => DiscoveryResponse.decode(b),
  },
};
const Ads = grpc.makeGenericClientConstructor(service, 'AggregatedDiscoveryService');
let creds;
const options = {};
if (plaintext) {
  creds = grpc.credentials.createInsecure();
} else {
  creds = grpc.credentials.createSsl(fs.readFileSync(arg('--ca')));
  options['grpc.ssl_target_name_override'] = `istiod.${istiodNs}.svc`;
  options['grpc.default_authority'] = `istiod.${istiodNs}.svc`;
}
const client = new Ads(addr, creds, options);
const md = new grpc.Metadata();
const tokenFile = arg('--token-file');
if (tokenFile) md.set('authorization', `Bearer ${fs.readFileSync(tokenFile, 'utf8').trim()}`);
md.set('ClusterID', 'Kubernetes');
const call = sotw ? client.StreamAggregatedResources(md) : client.DeltaAggregatedResources(md);

const start = Date.now();
const held = {LDS: new Map(), CDS: new Map(), RDS: new Map(), EDS: new Map(), NDS: new Map()};
const answered = {LDS: 0, CDS: 0, RDS: 0, EDS: 0, NDS: 0, HealthInfo: 0};
const wanted = {RDS: new Set(), EDS: new Set()};
const sotwState = {};  // type → {version, nonce}
let nacks = 0;
let sentNode = false;
let done = false;

function send(req) {
  if (!sentNode) {
    req.node = node;
    sentNode = true;
  }
  call.write(req);
}

function subscribe(short, names) {
  const type = TYPES[short];
  if (sotw) {
    const st = sotwState[type] || {};
    send({type_url: type, resource_names: names, version_info: st.version || '',
          response_nonce: st.nonce || ''});
  } else {
    send({type_url: type, resource_names_subscribe: names});
  }
}

function ack(type, version, nonce) {
  if (nackType && SHORT[type] === nackType) {
    nacks++;
    const error_detail = {code: 3, message: nackMessage};
    if (sotw) {
      const st = sotwState[type] || {};
      sotwState[type] = {version: st.version || '', nonce};
      const names = wanted[nackType] ? [...wanted[nackType]] : [];
      send({type_url: type, version_info: st.version || '', response_nonce: nonce,
            resource_names: names, error_detail});
    } else {
      send({type_url: type, response_nonce: nonce, error_detail});
    }
    return;
  }
  if (sotw) {
    sotwState[type] = {version, nonce};
    const short = SHORT[type];
    const names = wanted[short] ? [...wanted[short]] : [];
    send({type_url: type, version_info: version, response_nonce: nonce, resource_names: names});
  } else {
    send({type_url: type, response_nonce: nonce});
  }
}

// RDS names in a listener's HttpConnectionManagers, EDS names of a cluster.
function routeNames(any) {
  const l = Listener.decode(any.value);
  const chains = [...(l.filter_chains || [])];
  if (l.default_filter_chain) chains.push(l.default_filter_chain);
  const names = [];
  for (const c of chains) {
    for (const f of c.filters || []) {
      if (f.typed_config && f.typed_config.type_url.endsWith('.HttpConnectionManager')) {
        const h = Hcm.decode(f.typed_config.value);
        if (h.rds && h.rds.route_config_name) names.push(h.rds.route_config_name);
      }
    }
  }
  return names;
}
function edsName(any) {
  const c = Cluster.decode(any.value);
  if (c.type !== EDS_TYPE) return null;
  return (c.eds_cluster_config && c.eds_cluster_config.service_name) || c.name;
}

// After LDS/CDS change: subscribe to names not yet wanted.
function followReferences(short) {
  const [target, find] = short === 'LDS' ? ['RDS', routeNames] : ['EDS', (a) => [edsName(a)]];
  const fresh = [];
  for (const any of held[short].values()) {
    for (const n of find(any)) {
      if (n && !wanted[target].has(n)) {
        wanted[target].add(n);
        fresh.push(n);
      }
    }
  }
  if (fresh.length === 0) return;
  subscribe(target, sotw ? [...wanted[target]] : fresh);
}

function complete() {
  if (!answered.LDS || !answered.CDS) return false;
  for (const t of ['RDS', 'EDS']) {
    for (const n of wanted[t]) if (!held[t].has(n)) return false;
  }
  return true;
}

function summary(status) {
  const names = {};
  const counts = {};
  for (const t of ['LDS', 'CDS', 'RDS', 'EDS', 'NDS']) {
    names[t] = [...held[t].keys()].sort();
    counts[t] = held[t].size;
  }
  const missing = {};
  for (const t of ['RDS', 'EDS']) missing[t] = [...wanted[t]].filter((n) => !held[t].has(n));
  return {mode: sotw ? 'sotw' : 'delta', status, ms: Date.now() - start, counts, names,
          missing, responses: answered, health_info_answered: answered.HealthInfo > 0,
          nds_answered: answered.NDS > 0, nacks};
}

function writeOut() {
  if (!outFile) return;
  const resources = [];
  for (const t of ['LDS', 'CDS', 'RDS', 'EDS']) resources.push(...held[t].values());
  const msg = DiscoveryResponse.fromObject({version_info: 'pilot-agent', resources,
                                            type_url: ''});
  fs.writeFileSync(outFile, DiscoveryResponse.encode(msg).finish());
}

function finish(status, code) {
  if (done) return;
  done = true;
  writeOut();
  process.stdout.write(JSON.stringify(summary(status)) + '\n');
  if (follow && code === 0) {
    process.stdin.on('end', () => { call.cancel(); process.exit(0); });
    process.stdin.resume();
    return;
  }
  call.cancel();
  // Flush stdout before leaving.
  process.stdout.write('', () => process.exit(code));
}

let lingerTimer = null;
function maybeComplete() {
  if (done || lingerTimer || !complete()) return;
  // HealthInfo must stay unanswered: give a late answer a short window to show up.
  lingerTimer = setTimeout(() => finish('complete', 0), lingerMs);
}

function onResources(type, items, removed, version, nonce) {
  const short = SHORT[type];
  if (short === 'HealthInfo') {
    answered.HealthInfo++;
    return;
  }
  if (!held[short]) return;
  answered[short]++;
  if (sotw && (short === 'LDS' || short === 'CDS' || short === 'NDS')) held[short].clear();
  for (const [name, any] of items) held[short].set(name, any);
  for (const name of removed) held[short].delete(name);
  ack(type, version, nonce);
  if (short === 'LDS' || short === 'CDS') followReferences(short);
  if (done && follow) {
    const ev = {event: 'update', type: short, version, names: items.map(([n]) => n)};
    if (short === 'RDS') ev.splits = items.flatMap(([, any]) => weightedSplits(any));
    process.stdout.write(JSON.stringify(ev) + '\n');
  }
  maybeComplete();
}

// Every weighted route of a RouteConfiguration: {"<cluster>": weight, ...} per route.
function weightedSplits(any) {
  const rc = T('envoy.config.route.v3.RouteConfiguration').decode(any.value);
  const out = [];
  for (const vh of rc.virtual_hosts || []) {
    for (const r of vh.routes || []) {
      const wc = r.route && r.route.weighted_clusters;
      if (!wc) continue;
      const split = {};
      for (const c of wc.clusters || []) split[c.name] = c.weight ? c.weight.value : 0;
      out.push(split);
    }
  }
  return out;
}

function nameOf(short, any) {
  if (short === 'LDS') return Listener.decode(any.value).name;
  if (short === 'CDS') return Cluster.decode(any.value).name;
  if (short === 'RDS') return T('envoy.config.route.v3.RouteConfiguration').decode(any.value).name;
  if (short === 'EDS') return T('envoy.config.endpoint.v3.ClusterLoadAssignment').decode(any.value).cluster_name;
  return '';
}

call.on('data', (resp) => {
  if (sotw) {
    const short = SHORT[resp.type_url];
    const items = (resp.resources || []).map((a) => [nameOf(short, a), a]);
    onResources(resp.type_url, items, [], resp.version_info, resp.nonce);
  } else {
    const items = (resp.resources || []).map((r) => [r.name, r.resource]);
    onResources(resp.type_url, items, resp.removed_resources || [], resp.system_version_info,
                resp.nonce);
  }
});
call.on('error', (err) => {
  if (done) return;
  const name = Object.keys(grpc.status).find((k) => grpc.status[k] === err.code) || String(err.code);
  process.stdout.write(JSON.stringify({mode: sotw ? 'sotw' : 'delta', status: 'refused',
                                       code: name, details: err.details}) + '\n');
  done = true;
  process.stdout.write('', () => process.exit(1));
});
call.on('end', () => {
  if (!done) finish('stream ended', 1);
});
setTimeout(() => finish('timeout', 3), timeoutMs).unref();

// istio-agent's order: CDS first (with the node), then LDS, its HealthInfo report and NDS.
subscribe('CDS', []);
subscribe('LDS', []);
send({type_url: TYPES.HealthInfo});
subscribe('NDS', []);
