/**
 * Provider faults: the local provider throttles, fails with 5xx, answers slowly, runs out of capacity, launches
 * machines that never boot and machines that die mid-drain, at seeded rates. Rollouts still finish (or block with
 * a clear condition), the replayed event log never breaks a bound, and no retry ever launches a second machine for
 * one intent (one provider identity per machine name).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replayGuarantees } from '../../cli/replay.js';
import type { CreateMachineRequest, ProviderMachine } from '../../functions/domain/provider.js';
import { LocalProvider, localOnlyRegistry } from '../../providers/index.js';
import type { LocalFaults } from '../../providers/local/faults.js';
import { clusterDoc, startTestStack, waitFor, waitReady, type TestStack } from '../integration/harness.js';
import { allEvents, CHAOS_SEED, chaosRandom, pick, withSeed } from './lib.js';

const LOCAL_SCOPE = { provider: 'local', account: 'local', region: 'local' } as const;

/** Counts what the provider did and refused: injected errors by name, and providerIds per machine name. */
class Tally {
  readonly errors = new Map<string, number>();
  readonly launches = new Map<string, Set<string>>();
  calls = 0;
  total(): number {
    return [...this.errors.values()].reduce((a, b) => a + b, 0);
  }
}

/** A seeded LocalProvider whose calls are tallied. */
function tallied(home: string, faults: LocalFaults, random: () => number, tally: Tally): LocalProvider {
  const provider = new LocalProvider({ home, bootMs: 150, drainMsPerPod: 10, faults, random, terminateGraceMs: 500 });
  const methods = provider as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const method of ['ensureInfrastructure', 'deleteInfrastructure', 'createMachine', 'listMachines', 'deleteMachine', 'getNode', 'listNodes', 'cordon', 'drain']) {
    const original = methods[method]!.bind(provider);
    methods[method] = async (...args: unknown[]) => {
      tally.calls++;
      try {
        const result = await original(...args);
        if (method === 'createMachine') {
          const made = result as ProviderMachine;
          const name = (args[0] as CreateMachineRequest).name;
          const ids = tally.launches.get(name) ?? new Set<string>();
          if (made.providerId !== 'local:///pending') ids.add(made.providerId);
          tally.launches.set(name, ids);
        }
        return result;
      } catch (error) {
        const name = (error as Error).name;
        tally.errors.set(name, (tally.errors.get(name) ?? 0) + 1);
        throw error;
      }
    };
  }
  return provider;
}

interface Run {
  readonly stack: TestStack;
  readonly provider: LocalProvider;
  readonly tally: Tally;
  readonly home: string;
}

async function startFaulty(faults: LocalFaults, suite: string): Promise<Run> {
  const home = mkdtempSync(join(tmpdir(), 'capstan-chaos-faults-'));
  const tally = new Tally();
  const provider = tallied(home, faults, chaosRandom(suite), tally);
  const stack = await startTestStack({ home, bootMs: 150, drainMsPerPod: 10, providers: () => localOnlyRegistry(provider), settings: { pollSeconds: 1 } });
  return { stack, provider, tally, home };
}

async function stop(run: Run | undefined): Promise<void> {
  if (!run) return;
  run.provider.setFaults({});
  await run.stack.destroy();
  rmSync(run.home, { recursive: true, force: true });
}

/** No machine name was ever launched twice; the provider's running machines are exactly the API's. */
async function assertOneMachinePerIntent(run: Run, name: string): Promise<void> {
  const twice = [...run.tally.launches].filter(([, ids]) => ids.size > 1).map(([m, ids]) => `${m}: ${[...ids].join(', ')}`);
  expect(twice).toEqual([]);
  run.provider.setFaults({});
  const live = (await run.stack.call('GET', `/v1/clusters/${name}/machines`)).body.items as any[];
  await waitFor(async () => {
    const procs = await run.provider.listMachines(LOCAL_SCOPE, { cluster: name });
    return procs.filter((p) => p.state !== 'terminated').map((p) => p.name).sort().join() === live.map((m) => m.name).sort().join() || undefined;
  }, 15_000);
}

const figures = { injected: 0, calls: 0, rollouts: 0 };

afterAll(() => {
  process.stdout.write(`provider faults: seed ${CHAOS_SEED}, ${figures.injected} faults injected over ${figures.calls} provider calls, ${figures.rollouts} rollouts finished or blocked within bounds\n`);
});

describe('rollouts under provider call faults', () => {
  let run: Run | undefined;
  afterEach(async () => {
    if (run) {
      figures.injected += run.tally.total();
      figures.calls += run.tally.calls;
    }
    await stop(run);
    run = undefined;
  });

  const all = { throttleRate: 0.1, errorRate: 0.1, capacityErrorRate: 0.15, slowCallMs: 10 };
  // The short form runs every call fault at once; the long form also each kind alone, at higher rates.
  const cases: [string, LocalFaults][] = pick(
    [['every call fault at once', all]],
    [
      ['throttling, 5xx and slow calls', { throttleRate: 0.2, errorRate: 0.15, slowCallMs: 25 }],
      ['capacity errors on create', { capacityErrorRate: 0.35 }],
      ['every call fault at once', all],
    ],
  );
  it.each(cases)('finishes create and upgrade within the rollout bounds under %s', (label, faults) =>
    withSeed(async () => {
      run = await startFaulty(faults, `faults-${label}`);
      const spec = { controlPlane: { replicas: 3 }, workers: [{ name: 'md-0', replicas: pick(2, 4), rollout: { maxSurge: 1, maxUnavailable: 0 } }] };
      expect((await run.stack.call('PUT', '/v1/clusters/faulty', clusterDoc('faulty', spec))).status).toBe(201);
      const created = await waitReady(run.stack, 'faulty', 90_000);
      const before = ((await run.stack.call('GET', '/v1/clusters/faulty/machines')).body.items as any[]).map((m) => ({ name: m.name, pool: m.pool, version: m.version, ready: true }));
      const from = (await allEvents(run.stack.call, 'faulty')).length;

      const upgraded = { ...spec, version: 'v1.19.1' };
      expect((await run.stack.call('PUT', '/v1/clusters/faulty', clusterDoc('faulty', upgraded))).status).toBe(200);
      await waitReady(run.stack, 'faulty', 120_000);
      figures.rollouts += 2;

      const events = await allEvents(run.stack.call, 'faulty');
      expect(events.map((e) => e.seq)).toEqual(events.map((_e, i) => i + 1));
      const replay = replayGuarantees(events.slice(from), upgraded, { initial: before, toVersion: 'v1.19.1' });
      expect(replay.violations).toEqual([]);
      // Creation is not a rollout: replacing a worker that failed to boot before the last control-plane machine is
      // created is allowed, so ControlPlaneFirst applies to the upgrade window only.
      expect(replayGuarantees(events.slice(0, from), spec).violations.filter((v) => v.rule !== 'ControlPlaneFirst')).toEqual([]);
      const machines = (await run.stack.call('GET', '/v1/clusters/faulty/machines')).body.items as any[];
      expect(machines.map((m) => `${m.version} ${m.phase}`)).toEqual(machines.map(() => 'v1.19.1 Ready'));
      expect(created.metadata.generation).toBe(1);
      expect(run.tally.total()).toBeGreaterThan(0);
      await assertOneMachinePerIntent(run, 'faulty');
    }),
    180_000,
  );
});

describe('rollouts with misbehaving machines', () => {
  let run: Run | undefined;
  afterEach(async () => {
    if (run) {
      figures.injected += run.tally.total();
      figures.calls += run.tally.calls;
    }
    await stop(run);
    run = undefined;
  });

  it('replaces machines that never boot and finishes, never above replicas + maxSurge', () =>
    withSeed(async () => {
      // The first two md-0 machines never boot; their replacements (other names) do.
      const neverBooted = new Set<string>();
      const neverBoot = (m: string) => {
        const first = m.startsWith('never-md-0-') && neverBooted.size < 2 && !neverBooted.has(m);
        if (first) neverBooted.add(m);
        return first;
      };
      run = await startFaulty({ neverBoot }, 'never-boot');
      const spec = { controlPlane: { replicas: 1 }, workers: [{ name: 'md-0', replicas: 2, rollout: { maxSurge: 1, maxUnavailable: 0 } }], healthCheck: { nodeStartupTimeout: '5s' } };
      expect((await run.stack.call('PUT', '/v1/clusters/never', clusterDoc('never', spec))).status).toBe(201);
      await waitReady(run.stack, 'never', 90_000);
      figures.rollouts++;
      const events = await allEvents(run.stack.call, 'never');
      expect(events.filter((e) => e.type === 'MachineFailed').map((e) => e.machine).sort()).toEqual([...neverBooted].sort());
      expect(replayGuarantees(events, spec).violations).toEqual([]);
      const all = (await run.stack.call('GET', '/v1/clusters/never/machines?includeDeleted=true')).body.items as any[];
      expect(all.filter((m) => neverBooted.has(m.name)).every((m) => m.phase === 'Deleted')).toBe(true);
      figures.injected += neverBooted.size;
      await assertOneMachinePerIntent(run, 'never');
    }),
    120_000,
  );

  it('blocks with a clear condition when no machine of a pool ever boots', () =>
    withSeed(async () => {
      run = await startFaulty({ neverBoot: ['stuck-md-0-*'] }, 'never-boot-all');
      const spec = { controlPlane: { replicas: 1 }, workers: [{ name: 'md-0', replicas: 2, rollout: { maxSurge: 1, maxUnavailable: 0 } }], healthCheck: { nodeStartupTimeout: '5s' } };
      expect((await run.stack.call('PUT', '/v1/clusters/stuck', clusterDoc('stuck', spec))).status).toBe(201);
      const blocked = await waitFor(async () => {
        const c = (await run!.stack.call('GET', '/v1/clusters/stuck')).body;
        const cond = (c.status.conditions as any[]).find((x) => x.type === 'RolloutProgressing' && x.status === 'False');
        return cond?.reason === 'MachineBootstrapFailed' ? { cluster: c, cond } : undefined;
      }, 90_000, 200);
      figures.rollouts++;
      expect(blocked.cond.message).toMatch(/md-0|boot|Ready|start/i);
      const events = await allEvents(run.stack.call, 'stuck');
      expect(events.some((e) => e.type === 'RolloutBlocked')).toBe(true);
      const failed = events.filter((e) => e.type === 'MachineFailed');
      figures.injected += failed.length;
      expect(failed.length).toBeGreaterThanOrEqual(1);
      expect(replayGuarantees(events, spec).violations).toEqual([]);
      const all = (await run.stack.call('GET', '/v1/clusters/stuck/machines?includeDeleted=true')).body.items as any[];
      // Never more md-0 machines alive at once than replicas + maxSurge, even with every boot failing.
      expect(replayGuarantees(events, spec).pools.find((p) => p.pool === 'md-0')!.peakMachines).toBeLessThanOrEqual(3);
      expect(all.filter((m) => m.pool === 'md-0').length).toBeGreaterThanOrEqual(2);
      await assertOneMachinePerIntent(run, 'stuck');
    }),
    120_000,
  );

  it('finishes an upgrade when machines die mid-drain and PDBs block drains under policy Force', () =>
    withSeed(async () => {
      run = await startFaulty({}, 'drain');
      const spec = { controlPlane: { replicas: 1 }, workers: [{ name: 'md-0', replicas: 3, rollout: { maxSurge: 1, maxUnavailable: 0 } }], drain: { timeout: '2s', policy: 'Force' } };
      run.provider.setFaults({ dieDuringDrain: ['drainy-md-0-*'], pdbBlocksDrain: ['drainy-control-plane-*'] });
      expect((await run.stack.call('PUT', '/v1/clusters/drainy', clusterDoc('drainy', spec))).status).toBe(201);
      await waitReady(run.stack, 'drainy', 60_000);
      const before = ((await run.stack.call('GET', '/v1/clusters/drainy/machines')).body.items as any[]).map((m) => ({ name: m.name, pool: m.pool, version: m.version, ready: true }));
      const from = (await allEvents(run.stack.call, 'drainy')).length;
      run.provider.setFaults({});
      expect((await run.stack.call('PATCH', '/v1/clusters/drainy', { spec: { version: 'v1.19.1' } }, { 'content-type': 'application/merge-patch+json' })).status).toBe(200);
      await waitReady(run.stack, 'drainy', 90_000);
      figures.rollouts += 2;
      figures.injected += before.length;
      const events = await allEvents(run.stack.call, 'drainy');
      const window = events.slice(from);
      expect(window.filter((e) => e.type === 'MachineDeleted').map((e) => e.machine).sort()).toEqual(before.map((m) => m.name).sort());
      expect(replayGuarantees(window, spec, { initial: before, toVersion: 'v1.19.1' }).violations).toEqual([]);
      await assertOneMachinePerIntent(run, 'drainy');
    }),
    120_000,
  );
});
