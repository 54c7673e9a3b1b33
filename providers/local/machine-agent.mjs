// One local "machine": a detached Node process that plays the part of an EC2 instance plus its kubelet.
//
// Started by LocalProvider (providers/local/local-provider.ts) as
//   node machine-agent.mjs capstan-machine cluster=<name> machine=<name> uid=<clusterUid> dir=<stateDir> bootMs=<n> …
// so that `ps` shows which cluster and machine it is. It is plain JavaScript with node:* imports only, so it runs
// without a TypeScript loader and outlives the control plane that started it (the machines are the "cloud").
//
// Life of an agent:
//   start ── listen on 127.0.0.1:0, write pid+port into machine.json
//     ├─ bootMs later: node registers, 5 pods scheduled, Ready (unless neverBoot)
//     │    └─ POST bootstrap.callbackUrl with `Authorization: Bearer <token>` until 2xx/4xx (backoff), then forget the token
//     ├─ GET /healthz · POST /cordon · POST /drain {force} · POST /fault {…}
//     └─ exits on SIGTERM/SIGINT, or within ~300 ms of its state directory disappearing.
//
// Note: the callback token arrives in `<dir>/bootstrap.json` (mode 0600), never on the command line (`ps` shows it).
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .filter((a) => a.includes('='))
    .map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
);
const dir = args.dir;
if (!dir) {
  process.stderr.write('machine-agent: dir=<state dir> is required\n');
  process.exit(2);
}
const cluster = args.cluster ?? '?';
const machine = args.machine ?? '?';
const bootMs = Number(args.bootMs ?? 2000);
const drainMsPerPod = Number(args.drainMsPerPod ?? 200);
const podCount = Number(args.pods ?? 5);
const DIR_CHECK_MS = 300;

// Setting the title rewrites /proc/<pid>/cmdline on Linux: keep the identity in it.
process.title = `capstan-machine cluster=${cluster} machine=${machine} uid=${args.uid ?? '?'}`;

const state = {
  registered: false,
  ready: false,
  cordoned: false,
  /** @type {string[]} */
  pods: [],
  draining: false,
  force: false,
  faults: {
    neverBoot: args.neverBoot === '1',
    dieDuringDrain: args.dieDuringDrain === '1',
    pdbBlocksDrain: args.pdbBlocksDrain === '1',
    notReady: false,
  },
};

/** The pod a simulated PodDisruptionBudget protects (allows 0 disruptions while pdbBlocksDrain is on). */
const PDB_POD = 'web-0';
const PDB_REASON = 'PodDisruptionBudget "web" allows 0 disruptions (minAvailable: 1)';

function exit(code) {
  try {
    server.close();
  } catch {
    /* already closed */
  }
  process.exit(code);
}

/** Inode of our state dir at start: a directory deleted and re-created under the same name is not ours any more. */
let dirInode;
try {
  dirInode = fs.statSync(dir).ino;
} catch {
  process.exit(0); // removed before we even started
}

function dirGone() {
  try {
    return fs.statSync(dir).ino !== dirInode;
  } catch {
    return true;
  }
}

/** Rewrites machine.json atomically (tmp + rename), merging our pid and port into what the provider wrote. */
function writeIdentity(port) {
  const file = path.join(dir, 'machine.json');
  let identity = {};
  try {
    identity = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    /* a startOrphan agent may have no identity file yet: the provider writes it first in every other case */
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ ...identity, pid: process.pid, port }, null, 2));
  fs.renameSync(tmp, file);
}

function readBootstrap() {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'bootstrap.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

function forgetBootstrap() {
  try {
    fs.rmSync(path.join(dir, 'bootstrap.json'), { force: true });
  } catch {
    /* the dir may be going away */
  }
}

/** POSTs the Ready callback; resolves with the HTTP status, or 0 when the control plane is unreachable. */
function postCallback(url, token, body) {
  return new Promise((resolve) => {
    let target;
    try {
      target = new URL(url);
    } catch {
      resolve(400);
      return;
    }
    const payload = JSON.stringify(body);
    const client = target.protocol === 'https:' ? https : http;
    const req = client.request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: 'POST',
        agent: false,
        timeout: 5000,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          authorization: `Bearer ${token}`,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end(payload);
  });
}

/**
 * Calls back until the control plane answers 2xx (accepted) or a 4xx other than 429 (it will never accept: stop),
 * with backoff; 429 (throttled) and 5xx are retried like an unreachable control plane.
 */
async function callBack(providerId) {
  const bootstrap = readBootstrap();
  if (!bootstrap || !bootstrap.callbackUrl || !bootstrap.callbackToken) return;
  let delayMs = 100;
  for (;;) {
    if (dirGone()) return;
    const status = await postCallback(bootstrap.callbackUrl, bootstrap.callbackToken, { machine, providerId });
    if (status >= 200 && status < 500 && status !== 429) {
      forgetBootstrap(); // one-time secret: nothing on disk needs it any more
      return;
    }
    await new Promise((r) => setTimeout(r, delayMs * (0.75 + Math.random() * 0.5)));
    delayMs = Math.min(delayMs * 2, 5000);
  }
}

function boot() {
  if (state.faults.neverBoot) return; // the kubelet never comes up: no node, no callback
  state.registered = true;
  state.ready = true;
  state.pods = Array.from({ length: podCount }, (_, i) => (i === 0 ? PDB_POD : `app-${i}`));
  void callBack(`local:///${process.pid}`);
}

function blockedPods() {
  if (state.force || !state.faults.pdbBlocksDrain) return [];
  return state.pods.filter((p) => p === PDB_POD);
}

/** Evicts one evictable pod per drainMsPerPod; force deletes everything at once. */
function drainTick() {
  if (!state.draining) return;
  if (state.force) {
    state.pods = [];
  } else {
    const blocked = new Set(blockedPods());
    const next = state.pods.find((p) => !blocked.has(p));
    if (next !== undefined) state.pods = state.pods.filter((p) => p !== next);
  }
  if (state.pods.length > 0) setTimeout(drainTick, drainMsPerPod);
  else state.draining = false;
}

function nodeView() {
  const blocked = blockedPods();
  return {
    registered: state.registered,
    ready: state.ready && !state.faults.notReady,
    cordoned: state.cordoned,
    pods: state.pods.length,
    draining: state.draining,
    blockedBy: blocked.map((pod) => ({ pod, reason: PDB_REASON })),
  };
}

function readBody(req) {
  return new Promise((resolve) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      raw += c;
      if (raw.length > 65536) req.destroy();
    });
    req.on('end', () => {
      try {
        resolve(raw ? JSON.parse(raw) : {});
      } catch {
        resolve(undefined);
      }
    });
    req.on('error', () => resolve(undefined));
  });
}

function send(res, status, body) {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

const server = http.createServer(async (req, res) => {
  const route = `${req.method} ${(req.url ?? '').split('?')[0]}`;
  const body = req.method === 'POST' ? await readBody(req) : {};
  if (body === undefined) return send(res, 400, { error: 'body must be JSON' });
  switch (route) {
    case 'GET /healthz':
      return send(res, 200, nodeView());
    case 'POST /cordon':
      if (state.registered) state.cordoned = true;
      return send(res, 200, nodeView());
    case 'POST /drain': {
      if (!state.registered) return send(res, 200, nodeView());
      state.cordoned = true; // kubectl drain cordons first
      if (state.faults.dieDuringDrain) {
        res.on('finish', () => setImmediate(() => exit(137)));
        return send(res, 200, { ...nodeView(), dying: true });
      }
      if (body.force === true) state.force = true;
      if (!state.draining && state.pods.length > 0) {
        state.draining = true;
        setTimeout(drainTick, state.force ? 0 : drainMsPerPod);
      }
      return send(res, 200, nodeView());
    }
    case 'POST /fault':
      for (const key of Object.keys(state.faults)) {
        if (typeof body[key] === 'boolean') state.faults[key] = body[key];
      }
      if (body.exit === true) {
        res.on('finish', () => setImmediate(() => exit(137)));
      }
      return send(res, 200, { ...nodeView(), faults: state.faults });
    default:
      return send(res, 404, { error: `no route ${route}` });
  }
});

process.on('SIGTERM', () => exit(0));
process.on('SIGINT', () => exit(0));
process.on('SIGHUP', () => exit(0));

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  try {
    writeIdentity(port);
  } catch {
    exit(1); // the state dir vanished before we started: nobody wants this machine
  }
  setTimeout(boot, Math.max(0, bootMs));
});

setInterval(() => {
  if (dirGone()) exit(0);
}, DIR_CHECK_MS);
