/**
 * The control-plane planner: KubeadmControlPlane semantics over Capstan's machine records.
 *
 * One operation at a time, behind a preflight gate:
 *
 *   no machines ──► create #1 (kubeadm init) ──► wait Ready ──► join one more ──► … ──► replicas Ready
 *   rollout, maxSurge 1:  +1 up-to-date ─► wait Ready ─► retire 1 outdated ─► wait gone ─► +1 …
 *   rollout, maxSurge 0:  retire 1 outdated ─► wait gone ─► +1 up-to-date ─► wait Ready ─► …
 *
 * Note: after the first provisioning, Ready control-plane machines never drop below the etcd quorum
 * floor(replicas/2)+1, nor below the quorum of the membership left after a removal.
 */
import { CONTROL_PLANE_POOL } from '../cluster.js';
import { durationSeconds } from '../duration.js';
import type { Machine } from '../machine.js';
import { templateHash } from '../template-hash.js';
import { kcpSelectMachineForScaleDown } from './control-plane-select.js';
import { emptyPoolPlan, IN_FLIGHT_WAIT_SECONDS, liveMachinesOf, planCreations, wakeIn, type PlanContext, type PoolPlan } from './context.js';
import { mhcIsAllowedRemediation, unhealthyReason } from './health.js';
import { controlPlanePoolTarget, isAvailable, isBeingDeleted, isBooting, isUpToDate, outdatedReason, removalIntent, type PoolTarget } from './machines.js';
import type { RemovalReason } from './types.js';

/** The etcd quorum of `members`: floor(n/2)+1. */
export function etcdQuorum(members: number): number {
  return Math.floor(members / 2) + 1;
}

/** What the worker planners need to know about the control plane. */
export interface ControlPlaneState {
  /** At least one control-plane machine serves: workers can join. */
  readonly initialized: boolean;
  /** Every control-plane machine runs the wanted version and template, is Ready, and nothing is in flight. */
  readonly settled: boolean;
  /** Versions of live control-plane machines (the API servers a joining kubelet may meet). */
  readonly versions: readonly string[];
  /** The infrastructure must be ensured before anything else. */
  readonly needsInfrastructure: boolean;
}

/** True when the status says the infrastructure exists (an endpoint is known, or InfrastructureReady is True). */
export function infrastructureReady(ctx: PlanContext): boolean {
  const status = ctx.cluster.status as typeof ctx.cluster.status | undefined;
  if (status?.controlPlaneEndpoint) return true;
  return status?.conditions?.some((c) => c.type === 'InfrastructureReady' && c.status === 'True') ?? false;
}

/**
 * Plans one step of the control plane.
 * Returns the plan and the state the worker planners depend on.
 */
export function planControlPlane(ctx: PlanContext): { plan: PoolPlan; state: ControlPlaneState } {
  const plan = emptyPoolPlan();
  const spec = ctx.cluster.spec;
  const replicas = spec.controlPlane.replicas;
  const target = controlPlanePoolTarget(ctx.cluster.spec);
  const live = liveMachinesOf(ctx, CONTROL_PLANE_POOL);
  const removing = new Set<string>();
  const remove = (m: Machine, reason: RemovalReason, note: string): void => {
    plan.intents.push(removalIntent(m, reason));
    removing.add(m.name);
    plan.notes.push(note);
  };

  for (const m of live) {
    if (m.phase === 'Failed' && !isBeingDeleted(m)) remove(m, 'Failed', `control plane: deleting failed machine ${m.name} (${m.failureReason ?? 'Failed'})`);
  }
  const members = live.filter((m) => !removing.has(m.name) && !isBeingDeleted(m));
  const available = members.filter(isAvailable);
  const state = (): ControlPlaneState => {
    const settled =
      removing.size === 0 &&
      plan.intents.length === 0 &&
      live.length === replicas &&
      live.every((m) => isAvailable(m) && isUpToDate(m, target) && !m.deleteRequested);
    return { initialized: available.length > 0, settled, versions: live.map((m) => m.version), needsInfrastructure: false };
  };

  if (live.length === 0) {
    if (!infrastructureReady(ctx)) {
      plan.intents.push({ kind: 'EnsureInfrastructure' });
      plan.notes.push('ensuring infrastructure before the first control-plane machine');
      return { plan, state: { initialized: false, settled: false, versions: [], needsInfrastructure: true } };
    }
    const made = planCreations(ctx, plan, { target, role: 'control-plane', count: 1, failureDomains: ctx.controlPlaneFailureDomains, members: [] });
    if (made) plan.notes.push(`control plane: creating the first machine (kubeadm init) at ${target.version}`);
    return { plan, state: state() };
  }

  if (live.some((m) => isBooting(m) || isBeingDeleted(m))) plan.inFlight = true;

  // Remediation (MachineHealthCheck + KCP rules): one at a time, never breaking etcd quorum.
  const unhealthy = members.map((m) => ({ m, why: unhealthyReason(m, spec.healthCheck, ctx.now) })).filter((u) => u.why !== undefined);
  if (unhealthy.length > 0) {
    const gate = mhcIsAllowedRemediation({ unhealthyLessThanOrEqualTo: spec.healthCheck.maxUnhealthy, expectedMachines: replicas, currentHealthy: replicas - unhealthy.length });
    const busy = live.some((m) => isBeingDeleted(m));
    if (!gate.allowed) {
      const message = `control plane: ${unhealthy.length} of ${replicas} machines unhealthy, more than maxUnhealthy ${spec.healthCheck.maxUnhealthy}: remediation stopped (unhealthy: ${unhealthy.map((u) => u.m.name).join(', ')})`;
      plan.advisory = { reason: 'TooManyUnhealthy', message };
      plan.notes.push(message);
    } else if (!busy) {
      const victim = unhealthy[0]!;
      const others = available.filter((m) => m.name !== victim.m.name).length;
      if (!victim.m.readyAt || others >= etcdQuorum(members.length - 1)) {
        remove(victim.m, 'Unhealthy', `control plane: remediating ${victim.m.name}: ${victim.why}`);
        return { plan, state: state() };
      }
      const message = `control plane: not remediating ${victim.m.name}: removing it would leave ${others} healthy etcd members of ${members.length - 1}, below quorum`;
      plan.notes.push(message);
      plan.blocked = { reason: 'QuorumAtRisk', message };
    }
  }
  scheduleHealthWakeUp(ctx, plan, members);

  // Preflight: one operation at a time, every machine Ready.
  const notReady = live.filter((m) => removing.has(m.name) || isBeingDeleted(m) || !isAvailable(m));
  if (notReady.length > 0) {
    plan.notes.push(`control plane: waiting for ${notReady.map((m) => `${m.name} (${removing.has(m.name) ? 'removing' : m.phase})`).join(', ')} before the next step`);
    return { plan, state: state() };
  }

  const n = members.length;
  const surge = spec.controlPlane.rollout.maxSurge === 0 && replicas >= 3 ? 0 : 1;
  const needRollout = members.filter((m) => m.deleteRequested || outdatedReason(m, target) !== undefined);
  if (needRollout.length > 0 && spec.controlPlane.rollout.maxSurge === 0 && surge === 1) plan.notes.push('control plane: maxSurge 0 needs at least 3 replicas to keep quorum; surging by 1');

  const scaleUp = (why: string): PoolPlan => {
    const made = planCreations(ctx, plan, { target, role: 'control-plane', count: 1, failureDomains: ctx.controlPlaneFailureDomains, members });
    if (made) plan.notes.push(`control plane: ${why}: scaling up from ${n} to ${n + 1}`);
    return plan;
  };
  const scaleDown = (outdated: readonly Machine[], why: string): PoolPlan => {
    const name = kcpSelectMachineForScaleDown({
      failureDomains: ctx.controlPlaneFailureDomains,
      machines: members.map((m) => ({ name: m.name, createdAt: m.createdAt, ...(m.failureDomain ? { failureDomain: m.failureDomain } : {}), ...(m.deleteRequested ? { deleteRequested: true } : {}) })),
      outdated: outdated.map((m) => m.name),
    });
    const victim = members.find((m) => m.name === name);
    if (!victim) return plan;
    const after = n - 1;
    const floor = Math.max(etcdQuorum(replicas), etcdQuorum(after));
    if (after < floor) {
      plan.notes.push(`control plane: not removing ${victim.name}: ${after} Ready machines would be below the etcd quorum ${floor}`);
      plan.blocked = { reason: 'QuorumAtRisk', message: `control plane: removing ${victim.name} would leave ${after} Ready machines, below the etcd quorum ${floor}` };
      return plan;
    }
    const reason: RemovalReason = victim.deleteRequested ? 'DeleteRequested' : outdatedReason(victim, target) ? 'Outdated' : 'ScaleDown';
    remove(victim, reason, `control plane: ${why}: removing ${victim.name}${outdatedReason(victim, target) ? ` (${outdatedReason(victim, target)})` : ''}, ${n} → ${after}`);
    return plan;
  };

  if (needRollout.length > 0) {
    if (n < replicas + surge) scaleUp(`rolling out ${needRollout.length} machine(s) (maxSurge ${surge})`);
    else scaleDown(needRollout, `rolling out (maxSurge ${surge})`);
  } else if (n < replicas) {
    scaleUp(`${n} of ${replicas} replicas`);
  } else if (n > replicas) {
    scaleDown([], `${n} machines for ${replicas} replicas`);
  }
  return { plan, state: state() };
}

/** Wakes the planner when a node's NotReady time will pass the health timeout, so remediation is not late. */
export function scheduleHealthWakeUp(ctx: PlanContext, plan: PoolPlan, machines: readonly Machine[]): void {
  const timeout = durationSeconds(ctx.cluster.spec.healthCheck.unhealthyTimeout);
  for (const m of machines) {
    if (m.phase !== 'Ready' || !m.notReadySince || m.drainStartedAt) continue;
    const due = Date.parse(m.notReadySince) / 1000 + timeout - ctx.now.getTime() / 1000;
    if (due >= 0) wakeIn(plan, due + 1);
  }
  if (plan.inFlight) wakeIn(plan, IN_FLIGHT_WAIT_SECONDS);
}
