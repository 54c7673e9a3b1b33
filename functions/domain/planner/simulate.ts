/**
 * Dry-run: play the planner forward on an idealized world (every machine boots in `bootSeconds`, every drain takes
 * `drainSeconds`) to show which machines a change replaces, in what order, and roughly how long it takes.
 *
 *   plan ─► Act (wave 1: creates/removes) ─► all done after max(boot, drain) ─► plan ─► Act (wave 2) ─► … ─► Done
 *
 * Note: this mirrors the workflow, whose Act step finishes when every intent of the wave has (machines Ready,
 * drains done), so the estimate is the sum of the waves' longest items.
 */
import type { Cluster, Condition } from '../cluster.js';
import type { Machine } from '../machine.js';
import { INFRASTRUCTURE_DELETED_REASON, planCluster } from './plan-cluster.js';
import type { Intent, Plan, PlanInput } from './types.js';

/** Timings of the idealized world. */
export interface SimulationOptions {
  readonly bootSeconds: number;
  readonly drainSeconds: number;
  /** @default 0 */
  readonly infrastructureSeconds?: number;
  /** Safety stop. @default 500 */
  readonly maxSteps?: number;
}

/** One Act step: machines created and machines removed together. */
export interface RolloutWave {
  readonly creates: string[];
  readonly removes: string[];
}

/** Result of a dry-run. */
export interface RolloutEstimate {
  readonly waves: RolloutWave[];
  readonly estimatedSeconds: number;
  /** How the simulation ended: Done, Blocked, Paused, or Unfinished when maxSteps ran out. */
  readonly outcome: 'Done' | 'Blocked' | 'Paused' | 'Unfinished';
}

function withCondition(cluster: Cluster, condition: Condition, endpoint?: string): Cluster {
  const status = cluster.status as Cluster['status'] | undefined;
  const conditions = [...(status?.conditions ?? []).filter((c) => c.type !== condition.type), condition];
  return { ...cluster, status: { ...(status ?? ({} as Cluster['status'])), conditions, ...(endpoint ? { controlPlaneEndpoint: endpoint } : {}) } };
}

/**
 * Simulates a rollout from `input` to completion and returns its waves.
 * Failures are not simulated: the estimate is the happy path.
 */
export function simulateRollout(input: PlanInput, options: SimulationOptions): RolloutEstimate {
  let cluster = input.cluster;
  let machines: Machine[] = [...input.machines];
  let clock = input.now.getTime();
  const waves: RolloutWave[] = [];
  const maxSteps = options.maxSteps ?? 500;
  for (let step = 0; step < maxSteps; step++) {
    const plan = planCluster({ ...input, cluster, machines, now: new Date(clock) });
    if (plan.action === 'Done' || plan.action === 'Blocked' || plan.action === 'Paused') {
      return { waves, estimatedSeconds: (clock - input.now.getTime()) / 1000, outcome: plan.action };
    }
    if (plan.action === 'Wait') {
      clock += (plan.waitSeconds ?? 5) * 1000;
      continue;
    }
    const iso = (ms: number): string => new Date(ms).toISOString();
    let seconds = 0;
    const wave: RolloutWave = { creates: [], removes: [] };
    for (const intent of plan.intents) {
      switch (intent.kind) {
        case 'EnsureInfrastructure':
          seconds = Math.max(seconds, options.infrastructureSeconds ?? 0);
          cluster = withCondition(cluster, { type: 'InfrastructureReady', status: 'True', lastTransitionTime: iso(clock) }, 'https://simulated:6443');
          break;
        case 'DeleteInfrastructure':
          seconds = Math.max(seconds, options.infrastructureSeconds ?? 0);
          cluster = withCondition(cluster, { type: 'InfrastructureReady', status: 'False', reason: INFRASTRUCTURE_DELETED_REASON, lastTransitionTime: iso(clock) });
          break;
        case 'DeleteCluster':
          return { waves, estimatedSeconds: (clock - input.now.getTime()) / 1000, outcome: 'Done' };
        case 'CreateMachine': {
          const m = intent.machine;
          wave.creates.push(m.name);
          seconds = Math.max(seconds, options.bootSeconds);
          machines.push({
            name: m.name, cluster: cluster.metadata.name, clusterUid: cluster.metadata.uid, role: m.role, pool: m.pool, ordinal: m.ordinal,
            version: m.version, templateHash: m.templateHash, ...(m.failureDomain ? { failureDomain: m.failureDomain } : {}),
            phase: 'Ready', createdAt: iso(clock), readyAt: iso(clock + options.bootSeconds * 1000), bootAttempt: m.bootAttempt, recordVersion: 1,
          });
          break;
        }
        case 'RetireMachine':
        case 'DeleteMachine': {
          wave.removes.push(intent.machine);
          const drain = intent.kind === 'RetireMachine' ? options.drainSeconds : 0;
          seconds = Math.max(seconds, drain);
          machines = machines.map((m) => (m.name === intent.machine ? { ...m, phase: 'Deleted', deletedAt: iso(clock + drain * 1000) } : m));
          break;
        }
      }
    }
    if (wave.creates.length || wave.removes.length) waves.push(wave);
    clock += seconds * 1000;
  }
  return { waves, estimatedSeconds: (clock - input.now.getTime()) / 1000, outcome: 'Unfinished' };
}

/**
 * Dry-run estimate for a cluster as it stands: waves to converge on its spec.
 * `now` defaults to the latest time the records mention, so the estimate is a pure function of the records.
 */
export function estimateWaves(
  cluster: Cluster,
  machines: readonly Machine[],
  options: Partial<SimulationOptions> & { readonly now?: Date; readonly failureDomains?: readonly string[] } = {},
): RolloutEstimate {
  const times = [cluster.metadata.creationTimestamp, ...machines.flatMap((m) => [m.createdAt, m.readyAt, m.deletedAt, m.failedAt, m.drainStartedAt])]
    .filter((t): t is string => typeof t === 'string')
    .map((t) => Date.parse(t))
    .filter((t) => Number.isFinite(t));
  const now = options.now ?? new Date(Math.max(0, ...times));
  return simulateRollout(
    { cluster, machines, now, ...(options.failureDomains ? { failureDomains: options.failureDomains } : {}) },
    { bootSeconds: options.bootSeconds ?? 180, drainSeconds: options.drainSeconds ?? 60, ...(options.maxSteps ? { maxSteps: options.maxSteps } : {}) },
  );
}

/** A plan in a few words, for dry-run output and logs. */
export function planSummary(plan: Plan): { action: Plan['action']; creates: string[]; retires: string[]; deletes: string[]; text: string } {
  const names = (kind: Intent['kind']): string[] =>
    plan.intents.flatMap((i) => (i.kind !== kind ? [] : i.kind === 'CreateMachine' ? [i.machine.name] : i.kind === 'RetireMachine' || i.kind === 'DeleteMachine' ? [i.machine] : [i.kind]));
  const creates = names('CreateMachine');
  const retires = names('RetireMachine');
  const deletes = names('DeleteMachine');
  const parts = [
    creates.length ? `create ${creates.join(', ')}` : '',
    retires.length ? `retire ${retires.join(', ')}` : '',
    deletes.length ? `delete ${deletes.join(', ')}` : '',
    ...plan.intents.filter((i) => i.kind === 'EnsureInfrastructure' || i.kind === 'DeleteInfrastructure' || i.kind === 'DeleteCluster').map((i) => i.kind),
    plan.action === 'Wait' ? `wait ${plan.waitSeconds ?? 0}s` : '',
    plan.blocked ? `${plan.blocked.reason}: ${plan.blocked.message}` : '',
  ].filter(Boolean);
  return { action: plan.action, creates, retires, deletes, text: `${plan.action}${parts.length ? `: ${parts.join('; ')}` : ''}` };
}
