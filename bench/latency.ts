/**
 * Figure 3, reaction latency on the local stack, beyond the provider's own time:
 *  - create: from the `PUT` response to the first machine's `MachineCreated` being appended;
 *  - repair: from a machine's death (SIGKILL of its process) to its replacement's `MachineCreated`, via the event
 *    path: what the instance-event function does on AWS (start the cluster's rollout), done the moment the process
 *    dies — the local provider has no event bus, and functions/reconcile/instance-event.ts is not wired yet.
 *
 * "Beyond the provider's own time": the union of the intervals spent inside provider calls (ensureInfrastructure,
 * createMachine, listMachines, deleteMachine, …) between the two moments is subtracted; what is left is Capstan's
 * API, workflow, plan and store time. EventBridge delivery (typically well under a second on AWS) is not included.
 */
import { performance } from 'node:perf_hooks';
import { figure, median, type BenchOptions, type Figure } from './lib/figure.js';
import { countProvider, coveredMs, watchAppends } from './lib/instrument.js';
import { clusterDoc, startBenchStack, waitConverged, waitFor } from './lib/stack.js';

/** Target of figure 3 (ms beyond the provider's time). */
export const LATENCY_TARGET_MS = 1000;

/** One measured reaction. */
export interface Reaction {
  readonly totalMs: number;
  readonly providerMs: number;
  readonly overheadMs: number;
}

/** Runs figure 3: `samples` creates and `samples` repairs. */
export async function runLatencyBench(options: BenchOptions): Promise<Figure[]> {
  const samples = options.quick ? 1 : 5;
  const stack = await startBenchStack({ bootMs: 300, drainMsPerPod: 20, settings: { pollSeconds: 1 } });
  const appends = watchAppends(stack.deps.store);
  const calls = countProvider(stack.provider);
  const creates: Reaction[] = [];
  const repairs: Reaction[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const name = `lat-${i}`;
      appends.reset();
      calls.reset();
      const put = await stack.call('PUT', `/v1/clusters/${name}`, clusterDoc(name, { controlPlane: { replicas: 1 }, workers: [{ name: 'md-0', replicas: 1 }] }));
      const t0 = performance.now();
      if (put.status !== 201) throw new Error(`bench: PUT ${name} → ${put.status}`);
      const first = await waitFor(async () => appends.counts.find((e) => e.cluster === name && e.type === 'MachineCreated'), 30_000, 5);
      const providerMs = coveredMs(calls.counts.intervals, t0, first.at);
      creates.push({ totalMs: first.at - t0, providerMs, overheadMs: first.at - t0 - providerMs });
      await waitConverged(stack, name, 60_000);

      const victim = (await stack.deps.store.listMachines(name)).find((m) => m.pool === 'md-0')!;
      const cluster = (await stack.deps.store.getCluster(name))!;
      appends.reset();
      calls.reset();
      const pid = Number(String(victim.providerId).replace('local:///', ''));
      const k0 = performance.now();
      process.kill(pid, 'SIGKILL');
      await waitFor(async () => !isAlive(pid), 5_000, 2);
      // The event path: EC2 state-change → instance-event function → start the cluster's rollout.
      await stack.deps.workflow.startRollout({ cluster: name, generation: cluster.metadata.generation, reason: 'instance-event' });
      const replacement = await waitFor(async () => appends.counts.find((e) => e.cluster === name && e.type === 'MachineCreated' && e.machine !== victim.name), 60_000, 5);
      const repairProviderMs = coveredMs(calls.counts.intervals, k0, replacement.at);
      repairs.push({ totalMs: replacement.at - k0, providerMs: repairProviderMs, overheadMs: replacement.at - k0 - repairProviderMs });
      await waitConverged(stack, name, 60_000);
      options.log?.(`  latency ${name}: create ${Math.round(creates.at(-1)!.overheadMs)} ms, repair ${Math.round(repairs.at(-1)!.overheadMs)} ms beyond the provider`);
    }
  } finally {
    appends.restore();
    calls.restore();
    await stack.destroy();
  }
  const line = (name: string, rs: Reaction[]) =>
    figure(name, median(rs.map((r) => r.overheadMs)), 'ms', LATENCY_TARGET_MS, 'max', 'ms target, beyond provider time', {
      samples: rs.length,
      medianTotalMs: Math.round(median(rs.map((r) => r.totalMs))),
      medianProviderMs: Math.round(median(rs.map((r) => r.providerMs))),
      worstOverheadMs: Math.round(Math.max(...rs.map((r) => r.overheadMs))),
    });
  return [line('latency.putToFirstMachineCreated', creates), line('latency.deathToReplacementCreated', repairs)];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
