/**
 * `planCluster`: the whole cluster, one step. A pure function of its input — the same spec, records and clock give
 * the same plan, so a workflow that crashes mid-step re-plans the same intents and applies them idempotently.
 *
 *   paused ─► Paused
 *   deleting ─► workers ─► control plane ─► DeleteInfrastructure ─► DeleteCluster
 *   otherwise ─► infrastructure ─► control plane (KCP) ─► worker pools (MachineDeployments, in parallel)
 */
import { CONTROL_PLANE_POOL } from '../cluster.js';
import type { Machine } from '../machine.js';
import { DEFAULT_MAX_BOOT_ATTEMPTS, emptyPoolPlan, IN_FLIGHT_WAIT_SECONDS, type PlanContext, type PoolPlan } from './context.js';
import { planControlPlane } from './control-plane.js';
import { isBeingDeleted, isLive, removalIntent } from './machines.js';
import type { Intent, Plan, PlanInput } from './types.js';
import { planRemovedPool, planWorkerPool } from './worker-pool.js';

/**
 * The InfrastructureReady reason the delete-infrastructure phase records once the provider reports the
 * infrastructure gone; the planner then moves on to DeleteCluster.
 */
export const INFRASTRUCTURE_DELETED_REASON = 'Deleted';

/** True once the status records that the infrastructure was deleted (InfrastructureReady False, reason Deleted). */
export function infrastructureDeleted(input: Pick<PlanInput, 'cluster'>): boolean {
  const status = input.cluster.status as typeof input.cluster.status | undefined;
  return status?.conditions?.some((c) => c.type === 'InfrastructureReady' && c.status === 'False' && c.reason === INFRASTRUCTURE_DELETED_REASON) ?? false;
}

function context(input: PlanInput): PlanContext {
  const uid = input.cluster.metadata.uid;
  return {
    cluster: input.cluster,
    machines: input.machines.filter((m) => m.clusterUid === uid),
    allRecords: input.machines,
    now: input.now,
    ...(input.random ? { random: input.random } : {}),
    maxBootAttempts: input.maxBootAttempts ?? DEFAULT_MAX_BOOT_ATTEMPTS,
    controlPlaneFailureDomains: input.failureDomains ?? input.cluster.spec.failureDomains,
    ...(input.failureDomains ? { offeredFailureDomains: input.failureDomains } : {}),
  };
}

/**
 * Plans the next step of a cluster: what to create, retire or delete now, or why to wait.
 *
 * Note: intents of one plan are applied in parallel by the workflow, so a plan only holds intents that are safe
 * together; anything that must follow something else waits for the next plan (which sees the result).
 */
export function planCluster(input: PlanInput): Plan {
  const { cluster } = input;
  if (cluster.spec.paused) {
    return { action: 'Paused', intents: [], notes: ['spec.paused is true: no changes until it is unpaused'] };
  }
  const ctx = context(input);
  const foreign = input.machines.filter((m) => m.clusterUid !== cluster.metadata.uid && isLive(m));
  const foreignNote = foreign.length ? [`ignoring ${foreign.length} machine record(s) of another incarnation of ${cluster.metadata.name} (${foreign.map((m) => m.name).join(', ')})`] : [];

  if (cluster.metadata.deletionTimestamp) return withNotes(planDeletion(ctx), foreignNote);

  const cp = planControlPlane(ctx);
  if (cp.state.needsInfrastructure) return combine([cp.plan], foreignNote);
  const pools = cluster.spec.workers.map((pool) => planWorkerPool(ctx, pool, cp.state));
  const known = new Set([CONTROL_PLANE_POOL, ...cluster.spec.workers.map((p) => p.name)]);
  const removedPools = [...new Set(ctx.machines.filter((m) => isLive(m) && !known.has(m.pool)).map((m) => m.pool))].sort();
  return combine([cp.plan, ...pools, ...removedPools.map((p) => planRemovedPool(ctx, p))], foreignNote);
}

function withNotes(plan: Plan, notes: readonly string[]): Plan {
  return notes.length ? { ...plan, notes: [...plan.notes, ...notes] } : plan;
}

/** Turns pool plans into one plan: act if anything is to do, else wait, else blocked, else done. */
function combine(plans: readonly PoolPlan[], extraNotes: readonly string[]): Plan {
  const intents: Intent[] = plans.flatMap((p) => p.intents);
  const notes = [...plans.flatMap((p) => p.notes), ...extraNotes];
  const blocked = plans.find((p) => p.blocked)?.blocked;
  const advisory = plans.find((p) => p.advisory?.reason === 'TooManyUnhealthy')?.advisory ?? plans.find((p) => p.advisory)?.advisory;
  const info = blocked ?? advisory;
  const extra = info ? { blocked: info } : {};
  if (intents.length > 0) return { action: 'Act', intents, notes, ...extra };
  const inFlight = plans.some((p) => p.inFlight);
  const wakes = plans.map((p) => p.wakeSeconds).filter((s): s is number => s !== undefined);
  if (inFlight) wakes.push(IN_FLIGHT_WAIT_SECONDS);
  const backoff = plans.some((p) => p.advisory?.reason === 'MachineBootstrapBackoff');
  if (inFlight || backoff || wakes.length > 0) {
    return { action: 'Wait', intents: [], waitSeconds: Math.max(1, Math.min(...wakes, IN_FLIGHT_WAIT_SECONDS * 60)), notes, ...extra };
  }
  if (info) return { action: 'Blocked', intents: [], blocked: info, notes: [...notes, 'nothing can progress without a change'] };
  return { action: 'Done', intents: [], notes: notes.length ? notes : ['the cluster matches its spec'] };
}

/**
 * Deletion: workers first (all at once, drained), then the control plane (deleted outright: nothing is left to
 * drain to), then the infrastructure, then the record.
 */
function planDeletion(ctx: PlanContext): Plan {
  const live = ctx.machines.filter(isLive);
  const workers = live.filter((m) => m.pool !== CONTROL_PLANE_POOL);
  const controlPlane = live.filter((m) => m.pool === CONTROL_PLANE_POOL);
  const step = (machines: readonly Machine[], what: string, drain: boolean): Plan => {
    const plan = emptyPoolPlan();
    for (const m of machines) {
      if (isBeingDeleted(m)) {
        plan.inFlight = true;
        continue;
      }
      plan.intents.push(drain ? removalIntent(m, 'ClusterDeleting') : { kind: 'DeleteMachine', machine: m.name, pool: m.pool, reason: 'ClusterDeleting' });
    }
    plan.notes.push(`cluster deleting: removing ${machines.length} ${what} machine(s)`);
    return combine([plan], []);
  };
  if (workers.length > 0) return step(workers, 'worker', true);
  if (controlPlane.length > 0) return step(controlPlane, 'control-plane', false);
  if (!infrastructureDeleted(ctx)) {
    return { action: 'Act', intents: [{ kind: 'DeleteInfrastructure' }], notes: ['cluster deleting: every machine is gone; deleting the infrastructure'] };
  }
  return { action: 'Act', intents: [{ kind: 'DeleteCluster' }], notes: ['cluster deleting: infrastructure deleted; removing the cluster record'] };
}
