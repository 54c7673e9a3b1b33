/**
 * Killing the control plane (SIGKILL) mid-rollout and starting it again: the rollout completes, etcd (real members)
 * never drops below quorum and ends with one member per live control-plane machine, no machine is
 * duplicated or leaked, and the processes (`ps`) agree with the machines API.
 *
 * The control plane runs as a real child process (`npm start`'s entry, infra/local/main.ts) with its table on
 * disk under CAPSTAN_HOME; the machines are detached processes that outlive it, as cloud machines would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sampleQuorum } from './etcd-quorum.js';
import { LocalProvider } from '../../providers/local/local-provider.js';
import { clusterDoc, freePort, waitFor } from './harness.js';

const ROOT = resolve(import.meta.dirname ?? '.', '../..');
const TOKEN = 'crash-test-token-0123456789abcdef';

function startControlPlane(home: string, port: number): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'infra/local/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      CAPSTAN_HOME: home,
      CAPSTAN_PORT: String(port),
      CAPSTAN_TOKEN: TOKEN,
      CAPSTAN_LOCAL_BOOT_MS: '400',
      CAPSTAN_LOCAL_DRAIN_MS_PER_POD: '40',
      CAPSTAN_RECONCILE_SECONDS: '2',
      CAPSTAN_LOG_LEVEL: 'info',
      NODE_OPTIONS: '',
    },
    // The log goes to a file in the home: a failure prints its tail (a stall is otherwise silent).
    stdio: ['ignore', 'ignore', openSync(join(home, 'control-plane.log'), 'a')],
  });
}

describe('crash consistency of a rollout', () => {
  let home: string;
  let port: number;
  let child: ChildProcess | undefined;

  const call = async (method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': contentType } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const up = () => waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) || undefined, 30_000, 100);

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'capstan-crash-'));
    port = await freePort();
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true }); // machine processes exit when their state dir goes
  });

  it('completes the rollout after SIGKILL of the control plane, with no duplicate and no leaked machine', async () => {
    child = startControlPlane(home, port);
    await up();
    const spec = { controlPlane: { replicas: 3 }, workers: [{ name: 'md-0', replicas: 3, rollout: { maxSurge: 1, maxUnavailable: 0 } }] };
    expect((await call('PUT', '/v1/clusters/crashy', clusterDoc('crashy', spec))).status).toBe(201);
    await waitFor(async () => {
      const c = (await call('GET', '/v1/clusters/crashy')).body;
      return c.status.phase === 'Ready' || undefined;
    }, 60_000);

    const uid = (await call('GET', '/v1/clusters/crashy')).body.metadata.uid as string;
    const local = new LocalProvider({ home });
    const ref = { name: 'crashy', uid, scope: { provider: 'local', account: 'local', region: 'local' } } as const;
    const sampler = sampleQuorum(local, ref);
    await call('PATCH', '/v1/clusters/crashy', { spec: { version: 'v1.19.1' } }, 'application/merge-patch+json');
    // Kill it mid-rollout: once the first old machine is gone and before the last one is.
    await waitFor(async () => {
      const events = (await call('GET', '/v1/clusters/crashy/events?limit=1000')).body.items as { type: string }[];
      return events.filter((e) => e.type === 'MachineDeleted').length >= 2 || undefined;
    }, 60_000, 50);
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));

    child = startControlPlane(home, port);
    await up();
    const done = await waitFor(async () => {
      const c = (await call('GET', '/v1/clusters/crashy')).body;
      return c.status.phase === 'Ready' && c.status.observedGeneration === c.metadata.generation ? c : undefined;
    }, 90_000, 200).catch(async (error: Error) => {
      const cluster = (await call('GET', '/v1/clusters/crashy')).body;
      const machines = (await call('GET', '/v1/clusters/crashy/machines')).body;
      const events = (await call('GET', '/v1/clusters/crashy/events?limit=1000')).body.items as unknown[];
      const log = readFileSync(join(home, 'control-plane.log'), 'utf8').split('\n').slice(-60).join('\n');
      throw new Error(`${error.message}\nstatus: ${JSON.stringify(cluster.status)}\nmachines: ${JSON.stringify(machines)}\nlast events: ${JSON.stringify(events.slice(-25))}\nlog tail:\n${log}`);
    });
    expect(done.metadata.generation).toBe(2);
    // etcd (real members, issue 12): never below quorum through the crash, and the members are the live control planes
    const seen = await sampler.stop();
    expect(seen.belowQuorum).toEqual([]);
    expect(seen.samples).toBeGreaterThan(10);

    const machines = (await call('GET', '/v1/clusters/crashy/machines')).body.items as { name: string; role: string; version: string; phase: string }[];
    expect(machines).toHaveLength(6);
    expect(machines.every((m) => m.version === 'v1.19.1' && m.phase === 'Ready')).toBe(true);
    const all = (await call('GET', '/v1/clusters/crashy/machines?includeDeleted=true')).body.items as { name: string }[];
    expect(new Set(all.map((m) => m.name)).size).toBe(all.length);

    // ps agrees with the machines API: exactly the live machines run, nothing else with this cluster's identity.
    const cloud = await new LocalProvider({ home }).listMachines({ provider: 'local', account: 'local', region: 'local' }, { cluster: 'crashy' });
    expect(cloud.filter((p) => p.state === 'running').map((p) => p.name).sort()).toEqual(machines.map((m) => m.name).sort());
    const members = await local.listEtcdMembers(ref);
    expect(members.map((m) => m.name).sort()).toEqual(machines.filter((m) => m.role === 'control-plane').map((m) => m.name).sort());
    expect(members.every((m) => m.healthy && !m.learner)).toBe(true);

    const events = (await call('GET', '/v1/clusters/crashy/events?limit=1000')).body.items as { seq: number; type: string; machine?: string }[];
    expect(events.map((e) => e.seq)).toEqual(events.map((_e, i) => i + 1));
    const createdTwice = events.filter((e) => e.type === 'MachineCreated').map((e) => e.machine);
    expect(new Set(createdTwice).size).toBe(createdTwice.length);
  }, 240_000);
});
