/**
 * The worker-pool planner: each pool is a MachineDeployment whose MachineSets are derived from machine records
 * (up-to-date machines = the new MachineSet, outdated ones grouped by version/template = old MachineSets), and the
 * Cluster API rollout math (rollout-math.ts) decides how far each set scales this step.
 *
 * Order inside one step: delete Failed machines → remediate at most one unhealthy machine (MachineHealthCheck) →
 * OnDelete: remove the machines users asked to delete → rollout math → scale intents become CreateMachine /
 * RetireMachine intents. Removals decided early count as pending scale-downs in the math, so the bounds
 * (machines ≤ replicas + maxSurge, available ≥ replicas − maxUnavailable) hold for the whole step.
 */
import type { WorkerPoolSpec } from '../cluster.js';
import type { Machine } from '../machine.js';
import { templateHash } from '../template-hash.js';
import { liveMachinesOf, planCreations, emptyPoolPlan, type PlanContext, type PoolPlan } from './context.js';
import type { ControlPlaneState } from './control-plane.js';
import { scheduleHealthWakeUp } from './control-plane.js';
import { mhcIsAllowedRemediation, unhealthyReason } from './health.js';
import { deletionPriority, isAvailable, isBeingDeleted, isBooting, outdatedReason, removalIntent, workerPoolTarget, type PoolTarget } from './machines.js';
import { maxSurge, maxUnavailable, planOnDelete, planRollingUpdate, type DeploymentRollout, type MachineSetState } from './rollout-math.js';
import type { RemovalReason } from './types.js';
import { machineSetPreflightVersionSkew } from './version-skew.js';

/** The failure domains a pool spreads over: its own, else what the infrastructure offers, else the cluster's. */
export function workerFailureDomains(ctx: PlanContext, pool: WorkerPoolSpec): readonly string[] {
  return pool.failureDomains ?? ctx.offeredFailureDomains ?? ctx.cluster.spec.failureDomains;
}

interface DerivedSet {
  readonly state: MachineSetState;
  readonly machines: readonly Machine[];
  readonly reason: RemovalReason;
}

/** Groups live machines into MachineSets: key = version/template (+ markers for rollout.after and user deletion). */
function deriveMachineSets(pool: WorkerPoolSpec, target: PoolTarget, live: readonly Machine[], removing: ReadonlySet<string>): { newMS: DerivedSet; oldMSs: DerivedSet[] } {
  const rolling = pool.rollout.strategy === 'RollingUpdate';
  const newKey = `${target.version}/${target.templateHash}`;
  const groups = new Map<string, Machine[]>([[newKey, []]]);
  const reasons = new Map<string, RemovalReason>([[newKey, 'ScaleDown']]);
  for (const m of live) {
    let key = `${m.version}/${m.templateHash}`;
    let reason: RemovalReason = rolling ? 'Outdated' : 'ScaleDown';
    if (rolling && m.deleteRequested) {
      key = 'delete-requested';
      reason = 'DeleteRequested';
    } else if (key === newKey && outdatedReason(m, target)) {
      key = `${newKey}/before-rollout-after`;
    }
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(m);
    if (!reasons.has(key)) reasons.set(key, reason);
  }
  const toSet = (name: string, machines: Machine[]): DerivedSet => {
    const kept = machines.filter((m) => !isBeingDeleted(m) && !removing.has(m.name));
    const createdAt = machines.map((m) => m.createdAt).sort()[0];
    return {
      state: {
        name,
        specReplicas: kept.length,
        statusReplicas: machines.length,
        availableReplicas: kept.filter(isAvailable).length,
        ...(createdAt ? { createdAt } : {}),
      },
      machines: kept,
      reason: reasons.get(name) ?? 'ScaleDown',
    };
  };
  const newMS = toSet(newKey, groups.get(newKey)!);
  const oldMSs = [...groups.entries()].filter(([k]) => k !== newKey).map(([k, ms]) => toSet(k, ms));
  // A user-requested deletion goes first: it is the oldest set by construction.
  return { newMS, oldMSs: oldMSs.map((s) => (s.state.name === 'delete-requested' ? { ...s, state: { ...s.state, createdAt: '0000-01-01T00:00:00Z' } } : s)) };
}

/**
 * Plans one step of a worker pool.
 * Note: a pool moves to a new version or template only once the control plane is settled (every control-plane
 * machine at the control-plane version and Ready); scale-ups and replacements of a pool that is not rolling need
 * only an initialized control plane and a kubelet version the API servers accept.
 */
export function planWorkerPool(ctx: PlanContext, pool: WorkerPoolSpec, cp: ControlPlaneState): PoolPlan {
  const plan = emptyPoolPlan();
  const spec = ctx.cluster.spec;
  const target = workerPoolTarget(ctx.cluster.spec, pool);
  const live = liveMachinesOf(ctx, pool.name);
  const removing = new Set<string>();
  const remove = (m: Machine, reason: RemovalReason, note: string): void => {
    plan.intents.push(removalIntent(m, reason));
    removing.add(m.name);
    plan.notes.push(note);
  };
  if (live.some((m) => isBooting(m) || isBeingDeleted(m))) plan.inFlight = true;

  for (const m of live) {
    if (m.phase === 'Failed' && !isBeingDeleted(m)) remove(m, 'Failed', `${pool.name}: deleting failed machine ${m.name} (${m.failureReason ?? 'Failed'})`);
  }

  // MachineHealthCheck: remediate at most one machine per pool at a time, not at all above maxUnhealthy.
  const judged = live.filter((m) => !removing.has(m.name) && !isBeingDeleted(m));
  const unhealthy = judged.map((m) => ({ m, why: unhealthyReason(m, spec.healthCheck, ctx.now) })).filter((u) => u.why !== undefined);
  if (unhealthy.length > 0) {
    const gate = mhcIsAllowedRemediation({ unhealthyLessThanOrEqualTo: spec.healthCheck.maxUnhealthy, expectedMachines: pool.replicas, currentHealthy: pool.replicas - unhealthy.length });
    const remediating = live.some((m) => isBeingDeleted(m) && (!m.readyAt || m.notReadySince !== undefined));
    if (!gate.allowed) {
      const message = `${pool.name}: ${unhealthy.length} of ${pool.replicas} machines unhealthy, more than maxUnhealthy ${spec.healthCheck.maxUnhealthy}: remediation stopped (unhealthy: ${unhealthy.map((u) => u.m.name).join(', ')})`;
      plan.advisory = { reason: 'TooManyUnhealthy', message };
      plan.notes.push(message);
    } else if (remediating) {
      plan.notes.push(`${pool.name}: ${unhealthy.length} unhealthy machine(s) wait for the remediation in progress`);
    } else {
      const victim = unhealthy[0]!;
      remove(victim.m, 'Unhealthy', `${pool.name}: remediating ${victim.m.name}: ${victim.why}`);
    }
  }
  scheduleHealthWakeUp(ctx, plan, judged);

  if (pool.rollout.strategy === 'OnDelete') {
    for (const m of live) {
      if (m.deleteRequested && !removing.has(m.name) && !isBeingDeleted(m)) remove(m, 'DeleteRequested', `${pool.name}: removing ${m.name} as requested (OnDelete)`);
    }
  }

  const { newMS, oldMSs } = deriveMachineSets(pool, target, live, removing);
  const rolling = oldMSs.some((s) => s.state.specReplicas > 0);
  if (rolling && !cp.settled) {
    plan.notes.push(`${pool.name}: ${oldMSs.reduce((n, s) => n + s.state.specReplicas, 0)} outdated machine(s) wait for the control plane to finish`);
    return plan;
  }

  const md: DeploymentRollout = { specReplicas: pool.replicas, strategy: pool.rollout.strategy, maxSurge: pool.rollout.maxSurge, maxUnavailable: pool.rollout.maxUnavailable };
  const decision = md.strategy === 'RollingUpdate' ? planRollingUpdate(md, newMS.state, oldMSs.map((s) => s.state)) : planOnDelete(md, newMS.state, oldMSs.map((s) => s.state));
  const bounds = md.strategy === 'RollingUpdate' ? ` (maxSurge ${maxSurge(md)}, maxUnavailable ${maxUnavailable(md)})` : ' (OnDelete)';

  for (const set of [newMS, ...oldMSs]) {
    const wanted = decision.scaleIntents[set.state.name];
    if (wanted === undefined || wanted === set.state.specReplicas) continue;
    if (wanted > set.state.specReplicas) {
      plan.notes.push(...(decision.notes[set.state.name] ?? []).map((n) => `${pool.name}: ${n}`));
      const blocker = creationBlocker(cp, target.version);
      if (blocker) {
        plan.notes.push(`${pool.name}: not creating machines: ${blocker}`);
        continue;
      }
      const count = wanted - set.state.specReplicas;
      const members = live.filter((m) => !removing.has(m.name));
      const made = planCreations(ctx, plan, { target, role: 'worker', count, failureDomains: workerFailureDomains(ctx, pool), members });
      if (made) plan.notes.push(`${pool.name}: scaling up ${target.version} machines from ${set.state.specReplicas} to ${wanted}${bounds}`);
      continue;
    }
    const victims = deletionPriority(set.machines, pool.rollout.deletionOrder, ctx.random).slice(0, set.state.specReplicas - wanted);
    for (const v of victims) {
      const why = outdatedReason(v, target);
      remove(v, set.reason, `${pool.name}: removing ${v.name}${why ? ` (${why})` : ''}, ${set.state.name} ${set.state.specReplicas} → ${wanted}${bounds}`);
    }
    plan.notes.push(...(decision.notes[set.state.name] ?? []).map((n) => `${pool.name}: ${n}`));
  }
  return plan;
}

/** Why a pool may not create machines now, or undefined. */
function creationBlocker(cp: ControlPlaneState, version: string): string | undefined {
  if (!cp.initialized) return 'no control-plane machine is Ready yet';
  for (const apiServer of cp.versions) {
    const check = machineSetPreflightVersionSkew(apiServer, version);
    if (!check.pass) return `${check.failedCheck}: ${check.message}`;
  }
  return undefined;
}

/** Removes every live machine of a pool that is no longer in the spec. */
export function planRemovedPool(ctx: PlanContext, pool: string): PoolPlan {
  const plan = emptyPoolPlan();
  for (const m of liveMachinesOf(ctx, pool)) {
    if (isBeingDeleted(m)) {
      plan.inFlight = true;
      continue;
    }
    plan.intents.push(removalIntent(m, 'ScaleDown'));
    plan.notes.push(`${pool}: pool removed from the spec: removing ${m.name}`);
  }
  return plan;
}
