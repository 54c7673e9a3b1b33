/**
 * The contract harness of the local provider: a temp CAPSTAN_HOME, a loopback callback server that checks each
 * machine's bearer token, fault injection through `setFaults`, and a cleanup that kills every agent and proves it.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { ClusterSpec } from '../../functions/domain/cluster.js';
import type { BootstrapConfig, ClusterRef, ProviderScope } from '../../functions/domain/provider.js';
import type { LocalFaults } from '../../providers/local/faults.js';
import { LocalProvider, type LocalProviderOptions } from '../../providers/local/local-provider.js';
import { isAgentAlive, listSubdirs, readMachineFile, waitForExit } from '../../providers/local/machine-dir.js';
import type { ProviderFaultKind, ProviderHarness } from './contract.js';

/** One callback the server received. */
export interface ReceivedCallback {
  readonly machine: string;
  readonly providerId: string;
  readonly authorized: boolean;
}

/** A loopback HTTP server standing in for the control plane's `/callbacks/ready` route. */
export interface CallbackServer {
  readonly url: string;
  /** Issues the one-time token of `machine` (stable: the same machine gets the same token). */
  bootstrapFor(machine: string): BootstrapConfig;
  /** Resolves once `machine` called back with its own token. */
  waitForReady(machine: string): Promise<void>;
  readonly received: ReceivedCallback[];
  /** Status to answer authorized callbacks with (e.g. 503 to play a control plane that is down). @default 204 */
  respondWith: number;
  close(): Promise<void>;
}

/** Starts the callback server on 127.0.0.1 (ephemeral port). */
export async function startCallbackServer(): Promise<CallbackServer> {
  const tokens = new Map<string, string>();
  const ready = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  const waiter = (machine: string) => {
    let entry = ready.get(machine);
    if (!entry) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      entry = { promise, resolve };
      ready.set(machine, entry);
    }
    return entry;
  };
  const received: ReceivedCallback[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      let body: { machine?: string; providerId?: string } = {};
      try {
        body = JSON.parse(raw) as typeof body;
      } catch {
        res.writeHead(400).end();
        return;
      }
      const machine = body.machine ?? '';
      const expected = tokens.get(machine);
      const authorized = expected !== undefined && req.headers.authorization === `Bearer ${expected}`;
      received.push({ machine, providerId: body.providerId ?? '', authorized });
      if (!authorized) {
        res.writeHead(401).end();
        return;
      }
      if (api.respondWith >= 200 && api.respondWith < 300) waiter(machine).resolve();
      res.writeHead(api.respondWith).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}/callbacks/ready`;
  const api: CallbackServer = {
    url,
    received,
    respondWith: 204,
    bootstrapFor(machine) {
      let token = tokens.get(machine);
      if (!token) {
        token = randomBytes(24).toString('base64url');
        tokens.set(machine, token);
      }
      return { callbackUrl: url, callbackToken: token };
    },
    waitForReady: (machine) => waiter(machine).promise,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return api;
}

/** A minimal valid spec of a local cluster. */
export function localSpec(overrides: Partial<ClusterSpec> = {}): ClusterSpec {
  const machine = { instanceType: 'local' };
  return {
    infrastructure: { provider: 'local' },
    version: 'v1.30.2',
    network: { podCidr: '192.168.0.0/16', serviceCidr: '10.96.0.0/12' },
    failureDomains: ['local-a', 'local-b'],
    controlPlane: { replicas: 1, machine, rollout: { maxSurge: 1 } },
    workers: [
      {
        name: 'md-0',
        replicas: 1,
        machine,
        rollout: { strategy: 'RollingUpdate', maxSurge: 1, maxUnavailable: 0, deletionOrder: 'Random' },
      },
    ],
    healthCheck: { nodeStartupTimeout: '10m', unhealthyTimeout: '5m', maxUnhealthy: '40%' },
    drain: { timeout: '10m', policy: 'Wait' },
    paused: false,
    ...overrides,
  };
}

/** pids of every agent under `home`, alive or not. */
export async function agentPids(home: string): Promise<{ pid: number; name: string }[]> {
  const root = path.join(home, 'machines');
  const out: { pid: number; name: string }[] = [];
  for (const uid of await listSubdirs(root)) {
    for (const name of await listSubdirs(path.join(root, uid))) {
      const file = await readMachineFile(path.join(root, uid, name));
      if (file?.pid) out.push({ pid: file.pid, name });
    }
  }
  return out;
}

/**
 * Removes a CAPSTAN_HOME and proves no agent of it survives: SIGTERM every agent, wait for each to exit (SIGKILL
 * after 3 s, and fail loudly then), and remove the tree.
 */
export async function destroyHome(home: string): Promise<void> {
  const agents = await agentPids(home);
  for (const { pid, name } of agents) {
    if (isAgentAlive(pid, name)) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone already */
      }
    }
  }
  // Wait for them before removing the tree: an agent writes its state as it exits, and a write racing the removal
  // made rm fail with ENOTEMPTY (seen in CI).
  const survivors: number[] = [];
  for (const { pid, name } of agents) {
    if (!(await waitForExit(pid, name, 3000))) {
      survivors.push(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
  }
  await fs.rm(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  if (survivors.length > 0) throw new Error(`machine agents survived cleanup: ${survivors.join(', ')}`);
  const etcds = await strayEtcds(home);
  if (etcds.length > 0) throw new Error(`etcd members survived cleanup: ${etcds.join(', ')}`);
}

/**
 * pids of etcd processes whose data dir is under `home` (read from /proc), after giving exiting agents a moment to
 * take their members down; any found are SIGKILLed so one failure never leaks into the next test.
 */
export async function strayEtcds(home: string, graceMs = 2000): Promise<number[]> {
  const find = async () => {
    const out: number[] = [];
    for (const entry of await fs.readdir('/proc').catch(() => [] as string[])) {
      if (!/^\d+$/.test(entry)) continue;
      const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
      const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
      if (!/\) Z /.test(stat) && cmdline.split('\0').some((a) => a.startsWith(`--data-dir=${home}/`))) out.push(Number(entry));
    }
    return out;
  };
  const deadline = Date.now() + graceMs;
  let found = await find();
  while (found.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    found = await find();
  }
  for (const pid of found) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  return found;
}

/** A fresh local provider harness, plus the handles local tests need. */
export interface LocalHarness extends ProviderHarness {
  readonly provider: LocalProvider;
  readonly home: string;
  readonly callbackServer: CallbackServer;
}

const FAULTS: Record<ProviderFaultKind, LocalFaults | undefined> = {
  throttled: { throttleRate: 1 },
  unavailable: { errorRate: 1 },
  capacity: { capacityErrorRate: 1 },
  rejected: undefined,
};

/** Builds a harness over a new temp CAPSTAN_HOME (bootMs 100, drainMsPerPod 20 unless overridden). */
export async function makeLocalHarness(options: Partial<LocalProviderOptions> = {}): Promise<LocalHarness> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'capstan-local-'));
  const callbackServer = await startCallbackServer();
  const providerOptions: LocalProviderOptions = { bootMs: 100, drainMsPerPod: 20, faults: {}, ...options, home };
  const provider = new LocalProvider(providerOptions);
  const scope: ProviderScope = { provider: 'local', account: 'local', region: 'local' };
  const cluster: ClusterRef = { name: 'demo', uid: `uid-${randomBytes(4).toString('hex')}`, scope };
  return {
    provider,
    scope,
    cluster,
    spec: localSpec(),
    home,
    callbackServer,
    callbacks: { waitForReady: (machine) => callbackServer.waitForReady(machine) },
    bootstrapFor: (machine) => callbackServer.bootstrapFor(machine),
    faults: {
      kinds: ['throttled', 'unavailable', 'capacity'],
      inject(kind) {
        const faults = FAULTS[kind];
        if (!faults) throw new Error(`the local provider cannot inject ${kind}`);
        provider.setFaults(faults);
      },
      clear: () => provider.setFaults({}),
    },
    reopen: () => new LocalProvider(providerOptions),
    async cleanup() {
      await destroyHome(home);
      await callbackServer.close();
    },
  };
}
