/**
 * Crash consistency: the control plane is SIGKILLed at seeded crash points (store writes and provider calls, see
 * crash-child.ts) during create, scale, upgrade and delete, and started again each time. After every operation:
 * it completed; the machines API agrees with the provider's processes (no duplicate, no orphan); the event log is
 * gap-free and names every machine's creation once; and replaying it shows the rollout bounds (surge, unavailable,
 * etcd quorum, control plane first) held throughout, crashes included.
 *
 * Short form: one scenario with a kill budget; long form (CHAOS_LONG=1): several scenarios, ≥ 30 kills.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { replayGuarantees } from '../../cli/replay.js';
import { LocalProvider } from '../../providers/local/local-provider.js';
import { allEvents, between, CHAOS_SEED, chaosRandom, missingEvents, pick, repairLog, withSeed } from './lib.js';
import { freePort } from '../integration/harness.js';

const ROOT = resolve(import.meta.dirname ?? '.', '../..');
const TOKEN = 'chaos-crash-token-0123456789abcdef';
const LOCAL_SCOPE = { provider: 'local', account: 'local', region: 'local' } as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CrashRecord {
  readonly point: number;
  readonly what: string;
  readonly phase: string;
  readonly when: 'before' | 'after';
}

/** A control plane that may die at any crash point, restarted on demand by every call. */
class CrashingControlPlane {
  child: ChildProcess | undefined;
  kills = 0;
  lives = 0;
  stderr = '';
  readonly report: string;
  constructor(
    readonly home: string,
    readonly port: number,
    private readonly random: () => number,
    private readonly maxKills: number,
    private readonly maxPoint: number,
  ) {
    this.report = join(home, 'crash-points.jsonl');
  }

  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    const killAt = this.kills < this.maxKills ? between(this.random, 1, this.maxPoint) : 0;
    const killAfter = this.random() < 0.5;
    this.lives++;
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/chaos/crash-child.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        CAPSTAN_HOME: this.home,
        CAPSTAN_PORT: String(this.port),
        CAPSTAN_TOKEN: TOKEN,
        CAPSTAN_LOCAL_BOOT_MS: '150',
        CAPSTAN_LOCAL_DRAIN_MS_PER_POD: '10',
        CHAOS_KILL_AT: String(killAt),
        CHAOS_KILL_AFTER: killAfter ? '1' : '0',
        CHAOS_REPORT: this.report,
        CHAOS_LOG: join(this.home, 'control-plane.log'),
        NODE_OPTIONS: '',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // Kept for the failure message; the AWS SDK's Node version notice is noise.
    child.stderr?.on('data', (chunk: Buffer) => {
      const noise = /NodeVersionSupportWarning|node >=22|a\.co\/|trace-warnings|AWS SDK for JavaScript|upgrade to node|versions published|^\s*$/;
      for (const line of chunk.toString().split('\n')) if (!noise.test(line)) this.stderr += `${line}\n`;
    });
    this.child = child;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!this.alive) {
        if (child.signalCode === 'SIGKILL') return this.died(); // killed while resuming: start again
        throw new Error(`control plane exited with ${child.exitCode ?? child.signalCode} while starting: ${this.stderr}`);
      }
      if (await fetch(`http://127.0.0.1:${this.port}/healthz`).then((r) => r.ok, () => false)) return;
      if (Date.now() > deadline) throw new Error('control plane did not come up in 30 s');
      await sleep(50);
    }
  }

  private async died(): Promise<void> {
    this.kills++;
    await this.start();
  }

  /** Restarts the control plane when it died at a crash point. */
  async ensureAlive(): Promise<void> {
    if (this.alive) return;
    const child = this.child!;
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
    if (child.signalCode !== 'SIGKILL') throw new Error(`control plane exited with ${child.exitCode ?? child.signalCode}: ${this.stderr}`);
    await this.died();
  }

  /** One API call, retried across crashes (every call the suite makes is idempotent). */
  async call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: any }> {
    for (let attempt = 0; ; attempt++) {
      await this.ensureAlive();
      try {
        const res = await fetch(`http://127.0.0.1:${this.port}${path}`, {
          method,
          headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': contentType } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : undefined };
      } catch (error) {
        if (attempt > 50) throw error;
        await sleep(50); // the connection died with the process
      }
    }
  }

  async waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
    const start = Date.now();
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(100);
    }
  }

  crashes(): CrashRecord[] {
    if (!existsSync(this.report)) return [];
    return readFileSync(this.report, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as CrashRecord);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  }
}

function doc(name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'capstan.dev/v1alpha1', kind: 'Cluster', metadata: { name }, spec: { infrastructure: { provider: 'local' }, ...spec } };
}

/** Lost events fail the suite (D5-D7 are fixed); CHAOS_STRICT_EVENTS=0 only reports them. */
const STRICT_EVENTS = process.env.CHAOS_STRICT_EVENTS !== '0';
/** Machine events the log lacks although the machine records show they happened (known defects D5-D7). */
const lostEvents = new Set<string>();
/** Checks that must hold after every operation: API and provider agree, the log is gap-free and complete. */
async function assertConsistent(cp: CrashingControlPlane, name: string): Promise<{ events: any[]; machines: any[] }> {
  const machines = (await cp.call('GET', `/v1/clusters/${name}/machines`)).body.items as any[];
  const all = (await cp.call('GET', `/v1/clusters/${name}/machines?includeDeleted=true`)).body.items as any[];
  expect(new Set(all.map((m) => m.name)).size).toBe(all.length);
  const cloud = await new LocalProvider({ home: cp.home }).listMachines(LOCAL_SCOPE, { cluster: name });
  // Let the sweep reap what the crash left behind (orphans after their 1 s grace, dead records): then compare.
  await cp.waitFor(
    'the provider to match the machines API',
    async () => {
      const live = (await cp.call('GET', `/v1/clusters/${name}/machines`)).body.items as any[];
      const procs = await new LocalProvider({ home: cp.home }).listMachines(LOCAL_SCOPE, { cluster: name });
      const a = procs.filter((p) => p.state !== 'terminated').map((p) => p.name).sort().join(',');
      const b = live.map((m: any) => m.name).sort().join(',');
      return a === b ? true : undefined;
    },
    20_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}: provider ${JSON.stringify(cloud.map((p) => `${p.name}:${p.state}`))}, API ${JSON.stringify(machines.map((m) => `${m.name}:${m.phase}`))}`);
  });
  const events = await allEvents((m, p) => cp.call(m, p), name);
  expect(events.map((e) => e.seq)).toEqual(events.map((_e, i) => i + 1));
  const createdEvents = events.filter((e) => e.type === 'MachineCreated').map((e) => e.machine);
  expect(createdEvents.length - new Set(createdEvents).size).toBe(0);
  const missing = missingEvents(events, all);
  for (const e of missing) lostEvents.add(`${e.type} ${e.machine}`);
  // A crash between a record write and its event append must not lose the event (D5-D7, fixed).
  if (STRICT_EVENTS) expect(missing.map((e) => `${e.type} ${e.machine}`)).toEqual([]);
  return { events: repairLog(events, missing), machines: (await cp.call('GET', `/v1/clusters/${name}/machines`)).body.items };
}

async function waitConverged(cp: CrashingControlPlane, name: string, generation: number): Promise<any> {
  return cp.waitFor(
    `${name} Ready at generation ${generation}`,
    async () => {
      const r = await cp.call('GET', `/v1/clusters/${name}`);
      const c = r.body;
      return r.status === 200 && c.metadata.generation === generation && c.status.phase === 'Ready' && c.status.observedGeneration === generation ? c : undefined;
    },
    pick(90_000, 180_000),
  );
}

/**
 * The spec after each step of a scenario; the last step deletes. A 20 s node startup timeout bounds the stalls of
 * D3/D4/D9 (docs/reliability.md) that a crash point can cause; they would otherwise last 10 min.
 */
const SPECS = {
  create: { version: 'v1.18.8', controlPlane: { replicas: 3 }, workers: [{ name: 'md-0', replicas: 2, rollout: { maxSurge: 1, maxUnavailable: 0 } }], healthCheck: { nodeStartupTimeout: '20s' } },
  scale: { version: 'v1.18.8', controlPlane: { replicas: 3 }, workers: [{ name: 'md-0', replicas: 3, rollout: { maxSurge: 1, maxUnavailable: 0 } }], healthCheck: { nodeStartupTimeout: '20s' } },
  upgrade: { version: 'v1.19.1', controlPlane: { replicas: 3 }, workers: [{ name: 'md-0', replicas: 3, rollout: { maxSurge: 1, maxUnavailable: 0 } }], healthCheck: { nodeStartupTimeout: '20s' } },
};

describe('crash consistency', () => {
  const scenarios = pick(1, 6);
  const homes: string[] = [];
  const planes: CrashingControlPlane[] = [];
  const summary = { kills: 0, lives: 0, operations: 0, phases: new Map<string, number>() };

  afterAll(async () => {
    for (const cp of planes) await cp.stop();
    for (const home of homes) rmSync(home, { recursive: true, force: true }); // machines exit when their dir goes
    const phases = [...summary.phases].sort().map(([p, n]) => `${p}×${n}`).join(', ');
    process.stdout.write(`crash: seed ${CHAOS_SEED}, ${summary.kills} SIGKILLs over ${summary.lives} lives, ${summary.operations} operations; crash points in ${phases}; events lost by the log (D5-D7): ${lostEvents.size ? [...lostEvents].join(', ') : 'none'}\n`);
  });

  it.each(Array.from({ length: scenarios }, (_v, i) => [i + 1]))('survives SIGKILL at seeded crash points during create, scale, upgrade and delete (scenario %i)', (scenario) =>
    withSeed(async () => {
      const random = chaosRandom(`crash-${scenario}`);
      const home = mkdtempSync(join(tmpdir(), 'capstan-chaos-crash-'));
      homes.push(home);
      const cp = new CrashingControlPlane(home, await freePort(), random, pick(10, 12), 30);
      planes.push(cp);
      await cp.start();
      const name = `crash-${scenario}`;

      // create
      expect([200, 201]).toContain((await cp.call('PUT', `/v1/clusters/${name}`, doc(name, SPECS.create))).status);
      await waitConverged(cp, name, 1);
      let state = await assertConsistent(cp, name);
      expect(state.machines).toHaveLength(5);

      // scale, then upgrade: each replayed from the machines that ran before it
      for (const [step, generation] of [['scale', 2], ['upgrade', 3]] as const) {
        const before = state.machines.map((m: any) => ({ name: m.name, pool: m.pool, version: m.version, ready: m.phase === 'Ready' }));
        const fromTime = state.events.at(-1)?.time ?? '';
        const spec = SPECS[step];
        expect((await cp.call('PUT', `/v1/clusters/${name}`, doc(name, spec))).status).toBe(200);
        await waitConverged(cp, name, generation);
        state = await assertConsistent(cp, name);
        expect(state.machines.map((m: any) => m.version)).toEqual(state.machines.map(() => spec.version));
        expect(state.machines).toHaveLength(3 + spec.workers[0]!.replicas);
        const replay = replayGuarantees(state.events.filter((e: any) => e.time > fromTime), spec, { initial: before, toVersion: spec.version });
        expect(replay.violations).toEqual([]);
        summary.operations++;
      }
      summary.operations++;

      // delete: the record goes last, after every machine and the infrastructure
      const uid = (await cp.call('GET', `/v1/clusters/${name}`)).body.metadata.uid as string;
      expect((await cp.call('DELETE', `/v1/clusters/${name}`)).status).toBe(202);
      await cp.waitFor(`${name} deleted`, async () => ((await cp.call('GET', `/v1/clusters/${name}`)).status === 404 ? true : undefined), pick(90_000, 180_000));
      summary.operations++;
      await cp.waitFor('no machine left', async () => {
        const left = await new LocalProvider({ home }).listMachines(LOCAL_SCOPE, { cluster: name });
        return left.every((m) => m.state === 'terminated') ? true : undefined;
      }, 10_000);
      expect(existsSync(join(home, 'infra', uid))).toBe(false);

      await cp.stop();
      summary.kills += cp.kills;
      summary.lives += cp.lives;
      for (const c of cp.crashes()) summary.phases.set(c.phase, (summary.phases.get(c.phase) ?? 0) + 1);
      expect(cp.kills).toBeGreaterThanOrEqual(3);
    }),
    pick(240_000, 600_000),
  );
});
