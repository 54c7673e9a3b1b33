/**
 * Test fixtures for the planner: a cluster builder, machine records, and a small world simulator that applies
 * intents the way the workflow does (create → Provisioning, next step Ready; retire → Draining, next step Deleted;
 * delete → Deleted) and checks invariants at every step.
 */
import type { Cluster, ClusterSpec, WorkerPoolSpec } from '../../../../functions/domain/cluster.js';
import type { Machine } from '../../../../functions/domain/machine.js';
import { planCluster, resolveFenceposts, templateHash, type Intent, type Plan } from '../../../../functions/domain/planner/index.js';

export const T0 = new Date('2026-03-01T00:00:00Z');

/** A worker pool spec with Capstan defaults. */
export function pool(name: string, replicas: number, rollout: Partial<WorkerPoolSpec['rollout']> = {}, extra: Partial<WorkerPoolSpec> = {}): WorkerPoolSpec {
  return {
    name,
    replicas,
    machine: { instanceType: 't3.large' },
    rollout: { strategy: 'RollingUpdate', maxSurge: 1, maxUnavailable: 0, deletionOrder: 'Oldest', ...rollout },
    ...extra,
  };
}

/** A cluster with its infrastructure ready. */
export function cluster(spec: Partial<ClusterSpec> = {}, meta: Partial<Cluster['metadata']> = {}): Cluster {
  const full: ClusterSpec = {
    infrastructure: { provider: 'local' },
    version: 'v1.18.8',
    network: { podCidr: '192.168.0.0/16', serviceCidr: '10.96.0.0/12' },
    failureDomains: ['a', 'b', 'c'],
    controlPlane: { replicas: 3, machine: { instanceType: 't3.large' }, rollout: { maxSurge: 1 } },
    workers: [],
    healthCheck: { nodeStartupTimeout: '10m', unhealthyTimeout: '5m', maxUnhealthy: '40%' },
    drain: { timeout: '10m', policy: 'Wait' },
    paused: false,
    ...spec,
  };
  return {
    apiVersion: 'capstan.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'demo', uid: 'uid-1', generation: 1, resourceVersion: '1', creationTimestamp: T0.toISOString(), ...meta },
    spec: full,
    status: {
      phase: 'Ready',
      observedGeneration: 1,
      controlPlane: { name: 'control-plane', version: full.version, replicas: 0, readyReplicas: 0, updatedReplicas: 0 },
      workers: [],
      conditions: [{ type: 'InfrastructureReady', status: 'True', lastTransitionTime: T0.toISOString() }],
      controlPlaneEndpoint: 'https://demo:6443',
    },
  };
}

/** A machine record; Ready by default. */
export function machine(poolName: string, ordinal: number, overrides: Partial<Machine> = {}): Machine {
  const createdAt = new Date(T0.getTime() - 86_400_000 + ordinal * 1000).toISOString();
  return {
    name: `demo-${poolName === 'control-plane' ? 'cp' : poolName}-${ordinal}`,
    cluster: 'demo',
    clusterUid: 'uid-1',
    role: poolName === 'control-plane' ? 'control-plane' : 'worker',
    pool: poolName,
    ordinal,
    version: 'v1.18.8',
    templateHash: templateHash({ instanceType: 't3.large' }),
    phase: 'Ready',
    createdAt,
    readyAt: createdAt,
    recordVersion: 1,
    ...overrides,
  };
}

/** `count` Ready machines of a pool, spread over failure domains a/b/c. */
export function machines(poolName: string, count: number, overrides: Partial<Machine> = {}): Machine[] {
  return Array.from({ length: count }, (_, i) => machine(poolName, i + 1, { failureDomain: ['a', 'b', 'c'][i % 3]!, ...overrides }));
}

/** How the simulated world treats a new machine. */
export type BootOutcome = 'Ready' | 'Fail';

export interface SimulationResult {
  readonly steps: number;
  readonly final: Plan;
  readonly machines: Machine[];
  readonly plans: Plan[];
  readonly violations: string[];
  /** Removal intents per machine name. */
  readonly removals: Map<string, number>;
  readonly deletedCluster: boolean;
}

export interface SimulationOptions {
  /** Decides whether a created machine boots. @default always Ready */
  readonly boot?: (m: Machine) => BootOutcome;
  readonly maxSteps?: number;
  readonly stepSeconds?: number;
  /** Check that no worker is replaced before the control plane finished, nor created newer than an API server. */
  readonly checkWorkersAfterControlPlane?: boolean;
}

function isLive(m: Machine): boolean {
  return m.phase !== 'Deleted';
}

function available(m: Machine): boolean {
  return m.phase === 'Ready' && !m.drainStartedAt && !m.notReadySince;
}

/**
 * Re-plans until the plan is Done, Blocked or Paused (or the cluster record is deleted), applying intents and
 * checking the rollout bounds after every change.
 */
export function simulate(start: Cluster, initial: readonly Machine[], options: SimulationOptions = {}): SimulationResult {
  let c = start;
  let world = initial.map((m) => ({ ...m }));
  let now = T0.getTime();
  const step = (options.stepSeconds ?? 10) * 1000;
  const violations: string[] = [];
  const removals = new Map<string, number>();
  const plans: Plan[] = [];
  const highWater = new Map<string, number>();
  const lastSize = new Map<string, number>();
  let cpProvisioned = false;
  const initialCp = initial.filter((m) => m.pool === 'control-plane' && isLive(m)).length;
  let deletedCluster = false;
  const spec = c.spec;
  const cpTargetHash = templateHash(spec.controlPlane.machine);
  const cpDone = (): boolean => {
    const cp = world.filter((m) => m.pool === 'control-plane' && isLive(m));
    return cp.length === spec.controlPlane.replicas && cp.every((m) => available(m) && m.version === spec.version && m.templateHash === cpTargetHash);
  };

  const check = (when: string): void => {
    const cpReady = world.filter((m) => m.pool === 'control-plane' && available(m)).length;
    if (cpReady >= spec.controlPlane.replicas) cpProvisioned = true;
    const quorum = Math.floor(spec.controlPlane.replicas / 2) + 1;
    if (cpProvisioned && !c.metadata.deletionTimestamp && cpReady < quorum) violations.push(`${when}: ${cpReady} Ready control-plane machines < quorum ${quorum}`);
    const cpSurge = spec.controlPlane.rollout.maxSurge === 0 && spec.controlPlane.replicas >= 3 ? 0 : 1;
    const cpLive = world.filter((m) => m.pool === 'control-plane' && isLive(m)).length;
    if (cpLive > Math.max(spec.controlPlane.replicas + cpSurge, initialCp)) violations.push(`${when}: ${cpLive} control-plane machines > ${spec.controlPlane.replicas} + maxSurge ${cpSurge}`);
    for (const p of spec.workers) {
      if (p.rollout.strategy !== 'RollingUpdate' || c.metadata.deletionTimestamp) continue;
      const { surge, unavailable } = resolveFenceposts(p.rollout.maxSurge, p.rollout.maxUnavailable, p.replicas);
      const live = world.filter((m) => m.pool === p.name && isLive(m)).length;
      const avail = world.filter((m) => m.pool === p.name && available(m)).length;
      const prev = lastSize.get(p.name) ?? live;
      if (live > p.replicas + surge && live > prev) violations.push(`${when}: ${p.name} grew to ${live} machines > ${p.replicas} + ${surge}`);
      lastSize.set(p.name, live);
      const hw = Math.max(highWater.get(p.name) ?? 0, avail);
      highWater.set(p.name, hw);
      const floor = Math.min(p.replicas - Math.min(unavailable, p.replicas), hw);
      if (avail < floor) violations.push(`${when}: ${p.name} has ${avail} available < ${floor}`);
    }
  };

  const apply = (intent: Intent, at: string): void => {
    switch (intent.kind) {
      case 'EnsureInfrastructure':
        c = { ...c, status: { ...c.status, controlPlaneEndpoint: 'https://demo:6443' } };
        return;
      case 'DeleteInfrastructure':
        c = { ...c, status: { ...c.status, controlPlaneEndpoint: undefined, conditions: [{ type: 'InfrastructureReady', status: 'False', reason: 'Deleted', lastTransitionTime: at }] } };
        return;
      case 'DeleteCluster':
        deletedCluster = true;
        return;
      case 'CreateMachine': {
        const m = intent.machine;
        if (world.some((w) => w.name === m.name)) violations.push(`${at}: ${m.name} created twice`);
        const olderApiServer = world.some((w) => w.pool === 'control-plane' && isLive(w) && w.version !== spec.version);
        if (options.checkWorkersAfterControlPlane && m.role === 'worker' && m.version === spec.version && olderApiServer) violations.push(`${at}: worker ${m.name} created at ${m.version} while an older API server runs`);
        world.push({
          name: m.name, cluster: 'demo', clusterUid: c.metadata.uid, role: m.role, pool: m.pool, ordinal: m.ordinal, version: m.version,
          templateHash: m.templateHash, ...(m.failureDomain ? { failureDomain: m.failureDomain } : {}), phase: 'Provisioning', createdAt: at, bootAttempt: m.bootAttempt, recordVersion: 1,
        });
        return;
      }
      case 'RetireMachine':
      case 'DeleteMachine': {
        removals.set(intent.machine, (removals.get(intent.machine) ?? 0) + 1);
        const target = world.find((w) => w.name === intent.machine);
        if (!target || !isLive(target)) violations.push(`${at}: ${intent.kind} of ${intent.machine}, which is not live`);
        if (options.checkWorkersAfterControlPlane && target?.role === 'worker' && intent.reason === 'Outdated' && !cpDone()) violations.push(`${at}: worker ${intent.machine} replaced before the control plane finished`);
        world = world.map((w) => (w.name !== intent.machine ? w : intent.kind === 'RetireMachine' ? { ...w, phase: 'Draining', drainStartedAt: at } : { ...w, phase: 'Deleted', deletedAt: at }));
        return;
      }
    }
  };

  const maxSteps = options.maxSteps ?? 400;
  let final: Plan = { action: 'Wait', intents: [], notes: [] };
  let steps = 0;
  for (; steps < maxSteps && !deletedCluster; steps++) {
    const at = new Date(now).toISOString();
    // The world moves: machines created last step boot (or fail), drains finish.
    world = world.map((m) => {
      if (m.phase === 'Provisioning' && Date.parse(m.createdAt) < now) {
        return (options.boot?.(m) ?? 'Ready') === 'Ready' ? { ...m, phase: 'Ready', readyAt: at } : { ...m, phase: 'Failed', failedAt: at, failureReason: 'NodeStartupTimeout' };
      }
      if (m.phase === 'Draining' && m.drainStartedAt && Date.parse(m.drainStartedAt) < now) return { ...m, phase: 'Deleted', deletedAt: at };
      return m;
    });
    check(`step ${steps} (world)`);
    final = planCluster({ cluster: c, machines: world, now: new Date(now) });
    plans.push(final);
    if (final.action === 'Done' || final.action === 'Blocked' || final.action === 'Paused') break;
    for (const intent of final.intents) apply(intent, at);
    check(`step ${steps} (after ${final.intents.length} intents)`);
    now += final.action === 'Wait' ? Math.max(step, (final.waitSeconds ?? 0) * 1000) : step;
  }
  return { steps, final, machines: world, plans, violations, removals, deletedCluster };
}
