// The Node test client: @grpc/grpc-js with @grpc/grpc-js-xds's xds:/// resolver
// (GRPC_XDS_BOOTSTRAP names the bootstrap). Same stdin/stdout protocol as xds_client.cc:
//   run <count> [header=value ...]  → one JSON line {"ok","backends","codes","ms"}
//   quit
'use strict';
const path = require('path');
const readline = require('readline');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const grpcXds = require('@grpc/grpc-js-xds');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const target = arg('--target');
const protoFile = arg('--proto', path.join(__dirname, '../../proto/meshd/test/echo.proto'));
const deadlineMs = Number(arg('--deadline_ms', '10000'));
if (!target) {
  console.error('usage: node xds_client.js --target xds:///host:port [--proto echo.proto]');
  process.exit(2);
}
grpcXds.register();
const def = protoLoader.loadSync(protoFile, {keepCase: true});
const Echo = grpc.loadPackageDefinition(def).meshd.test.Echo;
const client = new Echo(target, grpc.credentials.createInsecure());
const codeNames = Object.fromEntries(Object.entries(grpc.status).map(([k, v]) => [v, k]));

function call(headers) {
  return new Promise((resolve) => {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(headers)) md.set(k, v);
    const deadline = new Date(Date.now() + deadlineMs);
    client.echo({message: 'hello'}, md, {deadline, waitForReady: true}, (err, resp) => {
      resolve(err ? {code: codeNames[err.code] || String(err.code)} : {id: resp.server_id});
    });
  });
}

async function run(count, headers) {
  const backends = {}, codes = {};
  let ok = 0;
  const start = Date.now();
  for (let i = 0; i < count; i++) {
    const r = await call(headers);
    if (r.id !== undefined) {
      ok++;
      backends[r.id] = (backends[r.id] || 0) + 1;
    } else {
      codes[r.code] = (codes[r.code] || 0) + 1;
    }
  }
  return {ok, backends, codes, ms: Date.now() - start};
}

const rl = readline.createInterface({input: process.stdin});
const queue = [];
let busy = false;
async function drain() {
  if (busy) return;
  busy = true;
  while (queue.length) {
    const parts = queue.shift().trim().split(/\s+/);
    if (parts[0] === 'quit') { client.close(); process.exit(0); }
    if (parts[0] !== 'run') { console.log(JSON.stringify({error: 'unknown command'})); continue; }
    const headers = {};
    for (const kv of parts.slice(2)) {
      const eq = kv.indexOf('=');
      if (eq > 0) headers[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    console.log(JSON.stringify(await run(Number(parts[1]), headers)));
  }
  busy = false;
}
rl.on('line', (line) => { queue.push(line); drain(); });
rl.on('close', () => { const wait = () => busy || queue.length ? setTimeout(wait, 50) : process.exit(0); wait(); });
