// One local "machine": a detached Node process that plays the part of an EC2 instance plus its kubelet.
//
// Started by LocalProvider (providers/local/machine-launch.ts) as
//   node machine-agent.mjs capstan-machine cluster=<name> machine=<name> uid=<clusterUid> dir=<stateDir> bootMs=<n> …
// so that `ps` shows which cluster and machine it is. It is plain JavaScript with node:* imports only, so it runs
// without a TypeScript loader and outlives the control plane that started it (the machines are the "cloud").
//
// Life of an agent:
//   start ── listen on 127.0.0.1:0, write pid+port into machine.json
//     ├─ bootMs later (drawn per machine by the provider): node registers, 5 pods scheduled, Ready (unless neverBoot)
//     │    └─ POST bootstrap.callbackUrl with `Authorization: Bearer <token>` until 2xx/4xx (backoff), then forget the token
//     ├─ GET /healthz · POST /cordon · POST /drain {force} · POST /fault {…}
//     └─ exits on SIGTERM/SIGINT, or within ~300 ms of its state directory disappearing.
//   control-plane machines (etcd=new|join) also run a REAL etcd member (its child, in the agent's process group):
//     ├─ new:  the first control-plane machine starts a one-member cluster (`--initial-cluster-state new`)
//     ├─ join: `member add --learner` through a live sibling's v3 JSON gateway, start with
//     │        `--initial-cluster-state existing`, then `member promote` once in sync (kubeadm's EtcdLearnerMode)
//     └─ the node boots only once the member is started and voting; etcd dies with the agent (SIGKILL on exit).
//
// Note: the callback token arrives in `<dir>/bootstrap.json` (mode 0600), never on the command line (`ps` shows it).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
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
/** The k-th eviction's time (ms), drawn per machine by the provider (`evictMs=a,b,…`); drainMsPerPod when absent. */
const evictMs = (args.evictMs ?? '').split(',').filter(Boolean).map(Number);
/** How long our evicted `web` pod takes to be back elsewhere; above 0 a PodDisruptionBudget covers it. */
const pdbRestartMs = Number(args.pdbRestartMs ?? 0);
let evictions = 0;
const nextEvictionMs = () => evictMs[evictions] ?? drainMsPerPod;
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
  stopEtcd();
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

// ---- etcd member (control-plane machines only) ------------------------------------------------------------------

const etcdMode = args.etcd ?? 'off';
const etcdBin = args.etcdBin ?? '/usr/bin/etcd';
const etcdHeartbeatMs = Number(args.etcdHeartbeatMs ?? 50);
const etcdElectionMs = Number(args.etcdElectionMs ?? 1000);
/** How long a joining member looks for a live sibling to `member add` through before it gives up (never boots). */
const ETCD_JOIN_TIMEOUT_MS = 60_000;
/** @type {import('node:child_process').ChildProcess | undefined} */
let etcdChild;
/** What etcd.json says; the provider reads it to reach the member and to attribute an unnamed member to us. */
let etcdInfo;

function stopEtcd() {
  if (etcdChild?.pid && etcdChild.exitCode === null) {
    try {
      process.kill(etcdChild.pid, 'SIGKILL'); // a machine that stops loses its processes, as an instance would
    } catch {
      /* already gone */
    }
  }
}

function writeEtcdInfo(patch) {
  etcdInfo = { ...etcdInfo, ...patch };
  const file = path.join(dir, 'etcd.json');
  try {
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(etcdInfo, null, 2));
    fs.renameSync(`${file}.tmp`, file);
  } catch {
    /* the dir is going away */
  }
}

/** A loopback port nothing listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** POSTs to etcd's v3 JSON gateway (https://etcd.io/docs/v3.4/dev-guide/api_grpc_gateway/); rejects with etcd's message. */
function etcdCall(clientUrl, route, body, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const url = new URL(route, clientUrl);
    const payload = JSON.stringify(body ?? {});
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false, timeout: timeoutMs, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        let raw = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (raw += c));
        res.on('end', () => {
          let parsed;
          try {
            parsed = JSON.parse(raw);
          } catch {
            return reject(new Error(`etcd ${route}: non-JSON answer`));
          }
          if (res.statusCode !== 200 || parsed.error) return reject(new Error(`etcd ${route}: ${parsed.error ?? parsed.message ?? res.statusCode}`));
          resolve(parsed);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`etcd ${route}: timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Client URLs of the started members of our cluster's other control-plane machines (their etcd.json). */
function siblingClientUrls() {
  const parent = path.dirname(dir);
  const urls = [];
  let names = [];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return urls;
  }
  for (const name of names) {
    if (name.startsWith('.') || name === path.basename(dir)) continue;
    try {
      const info = JSON.parse(fs.readFileSync(path.join(parent, name, 'etcd.json'), 'utf8'));
      if (info.state === 'started' && info.clientUrl) urls.push(info.clientUrl);
    } catch {
      /* not a control-plane machine, or not started */
    }
  }
  return urls;
}

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/** `member add --learner` through the first live sibling that answers; retries until ETCD_JOIN_TIMEOUT_MS. */
async function addSelfAsLearner(peerUrl) {
  const deadline = Date.now() + ETCD_JOIN_TIMEOUT_MS;
  while (Date.now() < deadline && !dirGone()) {
    for (const url of siblingClientUrls()) {
      try {
        return { via: url, ...(await etcdCall(url, '/v3/cluster/member/add', { peerURLs: [peerUrl], isLearner: true })) };
      } catch {
        /* try the next sibling */
      }
    }
    await pause(200);
  }
  throw new Error(`no live etcd member to join within ${ETCD_JOIN_TIMEOUT_MS} ms`);
}

/** Starts our etcd member; resolves once it serves and votes. Rejects (the node never boots) when it cannot. */
async function startEtcd() {
  const clientUrl = `http://127.0.0.1:${await freePort()}`;
  const peerUrl = `http://127.0.0.1:${await freePort()}`;
  // Written BEFORE member add: an added member that never starts has no name, the provider finds it by this peer URL.
  writeEtcdInfo({ name: machine, clientUrl, peerUrl, state: 'adding' });
  let initialCluster = `${machine}=${peerUrl}`;
  let clusterState = 'new';
  let memberId;
  let via;
  if (etcdMode === 'join') {
    const added = await addSelfAsLearner(peerUrl);
    via = added.via;
    memberId = added.member.ID;
    // As `etcdctl member add` prints ETCD_INITIAL_CLUSTER: every member's peer URLs, ours under our name.
    initialCluster = added.members
      .flatMap((m) => (m.peerURLs ?? []).map((u) => `${m.ID === memberId ? machine : m.name || `unstarted-${m.ID}`}=${u}`))
      .join(',');
    clusterState = 'existing';
  }
  writeEtcdInfo({ state: 'starting', ...(memberId ? { id: memberId } : {}) });
  const log = fs.openSync(path.join(dir, 'etcd.log'), 'a');
  etcdChild = spawn(
    etcdBin,
    [
      `--name=${machine}`,
      `--data-dir=${path.join(dir, 'etcd-data')}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=${initialCluster}`,
      `--initial-cluster-state=${clusterState}`,
      `--initial-cluster-token=${args.uid ?? 'capstan'}`,
      `--heartbeat-interval=${etcdHeartbeatMs}`,
      `--election-timeout=${etcdElectionMs}`,
      '--log-outputs=stderr',
    ],
    { stdio: ['ignore', log, log], cwd: dir },
  );
  fs.closeSync(log);
  etcdChild.on('error', (error) => writeEtcdInfo({ state: 'failed', error: error.message }));
  etcdChild.on('exit', (code, signal) => {
    // A removed member stops by itself ("the member has been permanently removed from the cluster").
    writeEtcdInfo({ state: 'stopped', exit: signal ?? code });
  });
  writeEtcdInfo({ pid: etcdChild.pid });
  const deadline = Date.now() + ETCD_JOIN_TIMEOUT_MS;
  for (;;) {
    if (etcdChild.exitCode !== null || dirGone()) throw new Error('etcd exited before it served');
    if (Date.now() > deadline) throw new Error('etcd did not become healthy');
    try {
      const status = await etcdCall(clientUrl, '/v3/maintenance/status', {}, 1000);
      if (status.leader && status.leader !== '0') {
        if (!memberId) break;
        // "can only promote a learner member which is in sync with leader": retry until it is. A learner serves no
        // cluster RPCs itself: promote through the member we were added by (or any started sibling).
        await etcdCall(siblingClientUrls().includes(via) ? via : (siblingClientUrls()[0] ?? via), '/v3/cluster/member/promote', { ID: memberId }, 2000);
        break;
      }
    } catch (error) {
      if (/is not a learner/.test(String(error?.message))) break; // promoted by an earlier attempt
    }
    await pause(50);
  }
  writeEtcdInfo({ state: 'started' });
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

/**
 * The PodDisruptionBudget of the cluster's `web` pods (maxUnavailable 1; only with pdbRestartMs): one may be
 * disrupted at a time, until it is back. Claims are files `.pdb-web.<n>` in the cluster's machine directory (the
 * API server's view): the highest n is the latest eviction and says when its pod is back; `link` creates claim n+1
 * atomically, so two agents never both evict.
 */
function budgetAllowsEviction() {
  if (!(pdbRestartMs > 0)) return true;
  const parent = path.dirname(dir);
  const tmp = path.join(dir, '.pdb-claim.tmp');
  try {
    const latest = Math.max(0, ...fs.readdirSync(parent).map((n) => Number(/^\.pdb-web\.(\d+)$/.exec(n)?.[1] ?? 0)));
    if (latest > 0 && JSON.parse(fs.readFileSync(path.join(parent, `.pdb-web.${latest}`), 'utf8')).backAt > Date.now()) return false;
    fs.writeFileSync(tmp, JSON.stringify({ machine, backAt: Date.now() + pdbRestartMs }));
    fs.linkSync(tmp, path.join(parent, `.pdb-web.${latest + 1}`));
    return true;
  } catch {
    return false; // another agent took claim n+1 (or the directory is going away): try again later
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Evicts one evictable pod per eviction time (drawn, or drainMsPerPod); force deletes everything at once. */
function drainTick() {
  if (!state.draining) return;
  if (state.force) {
    state.pods = [];
  } else {
    const blocked = new Set(blockedPods());
    const next = state.pods.find((p) => !blocked.has(p) && (p !== PDB_POD || budgetAllowsEviction()));
    if (next !== undefined) {
      state.pods = state.pods.filter((p) => p !== next);
      evictions++;
    }
  }
  if (state.pods.length > 0) setTimeout(drainTick, nextEvictionMs());
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
        setTimeout(drainTick, state.force ? 0 : nextEvictionMs());
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

process.on('exit', stopEtcd);
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
  const booted = pause(Math.max(0, bootMs));
  if (etcdMode === 'new' || etcdMode === 'join') {
    if (state.faults.neverBoot) return; // kubeadm never ran: no etcd member either
    // The node registers once its etcd member serves (kubeadm join: the control plane is up before the kubelet reports Ready).
    Promise.all([booted, startEtcd()]).then(boot, (error) => writeEtcdInfo({ state: 'failed', error: error.message }));
  } else {
    void booted.then(boot);
  }
});

setInterval(() => {
  if (dirGone()) exit(0);
}, DIR_CHECK_MS);
