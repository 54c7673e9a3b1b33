/**
 * Soak: mixed traffic (creates, upgrades, scale, deletes, reads, provider faults switched on and off) against the
 * local stack at a bounded request rate, then: every accepted operation accounted for (each surviving cluster
 * converged at its generation with one ClusterCreated and one ClusterUpdated per spec change, each deleted cluster
 * gone with its machines), and memory and open handles flat.
 *
 * Short form ~30 s; long form (CHAOS_LONG=1) 30 min, or CHAOS_SOAK_SECONDS.
 *
 * Diagnostics: CHAOS_SOAK_STORE picks where the table lives — `memory` (default: dynalite in this process, in
 * memory), `disk` (in this process, LevelDB on disk, as `npm start` runs) or `process` (dynalite in a child process,
 * so the heap measured is the control plane's alone); CHAOS_SOAK_SNAPSHOTS=<dir> writes a heap snapshot after the
 * first and the last sample, to compare in Chrome DevTools.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LocalProvider } from '../../providers/local/local-provider.js';
import { clusterDoc, freePort, startTestStack, waitFor, type TestStack } from '../integration/harness.js';
import { allEvents, between, CHAOS_SEED, chaosRandom, pick, withSeed } from './lib.js';

const SECONDS = Number(process.env.CHAOS_SOAK_SECONDS ?? pick(25, 1800));
const REQUESTS_PER_SECOND = 8;
const VERSIONS = ['v1.18.8', 'v1.19.1', 'v1.20.2', 'v1.21.0'];
const LOCAL_SCOPE = { provider: 'local', account: 'local', region: 'local' } as const;
const STORE = process.env.CHAOS_SOAK_STORE ?? 'memory';
const SNAPSHOTS = process.env.CHAOS_SOAK_SNAPSHOTS;
if (!['memory', 'disk', 'process'].includes(STORE)) throw new Error(`CHAOS_SOAK_STORE: memory, disk or process; got ${STORE}`);

/** dynalite in a child process on a loopback port. */
async function startStoreProcess(): Promise<{ endpoint: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['node_modules/dynalite/cli.js', '--host', '127.0.0.1', '--port', String(port), '--createTableMs', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`dynalite exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('listening') && resolve());
  });
  return { endpoint: `http://127.0.0.1:${port}`, child };
}

/** A full GC before each sample, so the heap figure is live memory, not garbage not yet collected. */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Tracked {
  generation: number;
  version: number;
  replicas: number;
  deleted: boolean;
}

describe('soak', () => {
  let stack: TestStack;
  let storeProcess: ChildProcess | undefined;
  beforeAll(async () => {
    const store = STORE === 'process' ? await startStoreProcess() : undefined;
    storeProcess = store?.child;
    stack = await startTestStack({
      bootMs: 100,
      drainMsPerPod: 5,
      reconcileSeconds: 2,
      settings: { pollSeconds: 1 },
      persist: STORE === 'disk',
      ...(store ? { dynamoEndpoint: store.endpoint } : {}),
    });
  });
  afterAll(async () => {
    await stack?.destroy();
    storeProcess?.kill();
  });

  it(`serves ${SECONDS} s of mixed traffic with every operation accounted for and memory and handles flat`, () =>
    withSeed(async () => {
      const random = chaosRandom('soak');
      const clusters = new Map<string, Tracked>();
      const counts = { requests: 0, accepted: 0, refused: 0, server: 0, faultsToggled: 0 };
      // heap = V8 heap plus memory outside it held by JS objects (Buffers, ArrayBuffers): D11 was mostly the latter.
      const samples: { heap: number; handles: number }[] = [];
      const sample = () => {
        gc();
        const memory = process.memoryUsage();
        samples.push({ heap: memory.heapUsed + memory.external, handles: process.getActiveResourcesInfo().length });
        if (SNAPSHOTS && samples.length === 2) snapshot('first');
      };
      const snapshot = (label: string) => {
        mkdirSync(SNAPSHOTS!, { recursive: true });
        writeHeapSnapshot(join(SNAPSHOTS!, `soak-${label}.heapsnapshot`));
      };
      let next = 0;
      const end = Date.now() + SECONDS * 1000;
      sample();
      while (Date.now() < end) {
        await new Promise((r) => setTimeout(r, 1000 / REQUESTS_PER_SECOND));
        counts.requests++;
        const live = [...clusters].filter(([, c]) => !c.deleted);
        const dice = random();
        let r: { status: number; body: any } | undefined;
        if (dice < 0.12 && live.length < 4) {
          const name = `soak-${next++}`;
          r = await stack.call('PUT', `/v1/clusters/${name}`, clusterDoc(name, { controlPlane: { replicas: 1 }, workers: [{ name: 'md-0', replicas: 1 }] }));
          if (r.status === 201) clusters.set(name, { generation: 1, version: 0, replicas: 1, deleted: false });
        } else if (dice < 0.3 && live.length) {
          const [name, c] = live[between(random, 0, live.length - 1)]!;
          const replicas = between(random, 0, 3);
          r = await stack.call('PATCH', `/v1/clusters/${name}`, { spec: { workers: [{ name: 'md-0', replicas }] } }, { 'content-type': 'application/merge-patch+json' });
          if (r.status === 200 && replicas !== c.replicas) {
            c.generation++;
            c.replicas = replicas;
          }
        } else if (dice < 0.38 && live.length) {
          const [name, c] = live[between(random, 0, live.length - 1)]!;
          if (c.version + 1 < VERSIONS.length) {
            r = await stack.call('PATCH', `/v1/clusters/${name}`, { spec: { version: VERSIONS[c.version + 1] } }, { 'content-type': 'application/merge-patch+json' });
            if (r.status === 200) {
              c.generation++;
              c.version++;
            }
          }
        } else if (dice < 0.44 && live.length > 2) {
          const [name, c] = live[between(random, 0, live.length - 1)]!;
          r = await stack.call('DELETE', `/v1/clusters/${name}`);
          if (r.status === 202) c.deleted = true;
        } else if (dice < 0.47) {
          counts.faultsToggled++;
          stack.provider.setFaults(random() < 0.5 ? {} : { throttleRate: 0.05, errorRate: 0.05, slowCallMs: 5 });
        } else {
          const name = live.length ? live[between(random, 0, live.length - 1)]![0] : 'none';
          r = await stack.call('GET', random() < 0.5 ? `/v1/clusters/${name}` : `/v1/clusters/${name}/events?limit=50`);
        }
        if (r) {
          if (r.status >= 500) counts.server++;
          else if (r.status >= 400 && r.status !== 404 && r.status !== 409 && r.status !== 422) counts.refused++;
          else if (r.status < 300) counts.accepted++;
        }
        if (counts.requests % (REQUESTS_PER_SECOND * 5) === 0) sample();
      }
      stack.provider.setFaults({});

      // Every operation accounted for.
      for (const [name, c] of clusters) {
        if (c.deleted) {
          await waitFor(async () => (await stack.call('GET', `/v1/clusters/${name}`)).status === 404 || undefined, 90_000, 200);
          continue;
        }
        const done = await waitFor(async () => {
          const b = (await stack.call('GET', `/v1/clusters/${name}`)).body;
          return b.status.phase === 'Ready' && b.status.observedGeneration === b.metadata.generation ? b : undefined;
        }, 120_000, 200);
        expect(done.metadata.generation).toBe(c.generation);
        expect(done.spec.version).toBe(VERSIONS[c.version]);
        const machines = (await stack.call('GET', `/v1/clusters/${name}/machines`)).body.items as any[];
        expect(machines).toHaveLength(1 + c.replicas);
        const events = await allEvents(stack.call, name);
        expect(events.map((e) => e.seq)).toEqual(events.map((_e, i) => i + 1));
        expect(events.filter((e) => e.type === 'ClusterCreated')).toHaveLength(1);
        expect(events.filter((e) => e.type === 'ClusterUpdated')).toHaveLength(c.generation - 1);
      }
      const procs = await stack.provider.listMachines(LOCAL_SCOPE);
      const expected = [...clusters].filter(([, c]) => !c.deleted).reduce((n, [, c]) => n + 1 + c.replicas, 0);
      await waitFor(async () => ((await new LocalProvider({ home: stack.home }).listMachines(LOCAL_SCOPE)).filter((p) => p.state !== 'terminated').length === expected) || undefined, 30_000);
      expect(counts.server).toBe(0);
      expect(counts.refused).toBe(0);

      // Flat: compare the first and last quarter of the samples (generous bounds: the short form is noisy).
      sample();
      if (SNAPSHOTS) snapshot('last');
      const quarter = Math.max(1, Math.floor(samples.length / 4));
      const avg = (xs: typeof samples, key: 'heap' | 'handles') => xs.reduce((a, s) => a + s[key], 0) / xs.length;
      const heapGrowthMiB = (avg(samples.slice(-quarter), 'heap') - avg(samples.slice(0, quarter), 'heap')) / 2 ** 20;
      const handleGrowth = avg(samples.slice(-quarter), 'handles') - avg(samples.slice(0, quarter), 'handles');
      process.stdout.write(
        `soak: seed ${CHAOS_SEED}, ${SECONDS} s, store ${STORE}, ${counts.requests} requests (${counts.accepted} accepted, 0 5xx), ${clusters.size} clusters, ${counts.faultsToggled} fault switches, ${procs.length} machine dirs; heap+external ${heapGrowthMiB.toFixed(1)} MiB, handles ${handleGrowth.toFixed(1)} first→last quarter\n`,
      );
      expect(heapGrowthMiB).toBeLessThan(pick(32, 48));
      expect(handleGrowth).toBeLessThan(pick(40, 25));
    }),
    (SECONDS + 300) * 1000,
  );
});
