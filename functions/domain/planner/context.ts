/**
 * What every pool planner shares: the input, the plan being built for one pool, and machine creation (naming,
 * failure-domain spread, boot-failure backoff and give-up).
 */
import type { Cluster } from '../cluster.js';
import { durationSeconds } from '../duration.js';
import { machineName, type Machine, type MachineRole } from '../machine.js';
import { pickFewestFailureDomain, type FailureDomainMember } from './failure-domains.js';
import { bootBackoffSeconds, bootHistory, isBeingDeleted, isLive, isUpToDate, nextOrdinal, outdatedReason, type PoolTarget } from './machines.js';
import type { Intent, MachineIntent } from './types.js';

/** Default consecutive boot failures after which a pool blocks. */
export const DEFAULT_MAX_BOOT_ATTEMPTS = 3;

/** Seconds between plans while machines are in flight. */
export const IN_FLIGHT_WAIT_SECONDS = 5;

/**
 * A CreateMachine intent plus the boot timeout the workflow's `TimeoutSecondsPath` (`$.intent.timeoutSeconds`)
 * reads: the cluster's `healthCheck.nodeStartupTimeout`. Assignable to `Intent`.
 */
export type CreateMachineIntent = Extract<Intent, { kind: 'CreateMachine' }> & { readonly timeoutSeconds: number };

/** The planner's view of one plan run. */
export interface PlanContext {
  readonly cluster: Cluster;
  /** Machine records of this cluster incarnation (Deleted included). */
  readonly machines: readonly Machine[];
  /** Every record, foreign incarnations included: ordinals never collide with any recorded name. */
  readonly allRecords: readonly Machine[];
  readonly now: Date;
  readonly random?: () => number;
  readonly maxBootAttempts: number;
  /** Failure domains of the control plane (what the infrastructure offers, else the spec's). */
  readonly controlPlaneFailureDomains: readonly string[];
  /** Failure domains the infrastructure offers, when known. */
  readonly offeredFailureDomains?: readonly string[];
}

/** What one pool planner decided. */
export interface PoolPlan {
  readonly intents: Intent[];
  readonly notes: string[];
  /** Machines in flight: plan again soon. */
  inFlight: boolean;
  /** Seconds until something time-based (backoff, a health timeout) needs a new plan. */
  wakeSeconds?: number;
  /** The pool cannot progress without a change. */
  blocked?: { readonly reason: string; readonly message: string };
  /** Informational block that does not stop other work (MHC short-circuit, boot backoff). */
  advisory?: { readonly reason: string; readonly message: string };
}

/** An empty pool plan. */
export function emptyPoolPlan(): PoolPlan {
  return { intents: [], notes: [], inFlight: false };
}

/** Records a time-based wake-up, keeping the earliest. */
export function wakeIn(plan: PoolPlan, seconds: number): void {
  const s = Math.max(1, Math.ceil(seconds));
  plan.wakeSeconds = plan.wakeSeconds === undefined ? s : Math.min(plan.wakeSeconds, s);
}

/** Request for `planCreations`. */
export interface CreationRequest {
  readonly target: PoolTarget;
  readonly role: MachineRole;
  readonly count: number;
  readonly failureDomains: readonly string[];
  /** Live machines of the pool other than those being removed in this plan. */
  readonly members: readonly Machine[];
}

/**
 * Creates up to `count` machines for a pool, unless its boot history says to back off or give up.
 *
 * Note: ordinals continue after the highest ever recorded in the pool (Deleted records included), so names are never
 * reused and a re-plan after a crash names the same machines. Each new machine goes to the failure domain with the
 * fewest up-to-date machines, counting the ones planned just before it.
 */
export function planCreations(ctx: PlanContext, plan: PoolPlan, request: CreationRequest): number {
  const { target } = request;
  if (request.count <= 0) return 0;
  const history = bootHistory(ctx.machines, target);
  if (history.consecutiveFailures >= ctx.maxBootAttempts) {
    const message = `${target.pool}: ${history.consecutiveFailures} consecutive machines of ${target.version} (template ${target.templateHash}) failed to boot (last ${history.lastFailure?.name ?? '?'}: ${history.lastFailure?.failureReason ?? 'Failed'}); fix the template or version, or delete the failed records to retry`;
    plan.blocked = { reason: 'MachineBootstrapFailed', message };
    plan.notes.push(message);
    return 0;
  }
  const last = history.lastFailure;
  const previousAttempt = last ? (last.bootAttempt ?? history.consecutiveFailures) : 0;
  if (last) {
    const failedAt = last.failedAt ?? last.deletedAt ?? last.createdAt;
    const elapsed = (ctx.now.getTime() - Date.parse(failedAt)) / 1000;
    const backoff = bootBackoffSeconds(previousAttempt);
    if (elapsed < backoff) {
      const message = `${target.pool}: boot attempt ${previousAttempt} failed (${last.name}); retrying in ${Math.ceil(backoff - elapsed)}s`;
      plan.advisory ??= { reason: 'MachineBootstrapBackoff', message };
      plan.notes.push(message);
      wakeIn(plan, backoff - elapsed);
      return 0;
    }
  }
  const timeoutSeconds = durationSeconds(ctx.cluster.spec.healthCheck.nodeStartupTimeout);
  const first = nextOrdinal(ctx.allRecords, target.pool);
  const all: FailureDomainMember[] = [...request.members];
  const upToDate: FailureDomainMember[] = request.members.filter((m) => !isBeingDeleted(m) && isUpToDate(m, target));
  for (let i = 0; i < request.count; i++) {
    const ordinal = first + i;
    const name = machineName(ctx.cluster.metadata.name, target.pool, ordinal);
    const failureDomain = pickFewestFailureDomain(request.failureDomains, all, upToDate);
    const machine: MachineIntent = {
      name,
      pool: target.pool,
      role: request.role,
      ordinal,
      version: target.version,
      template: target.template,
      templateHash: target.templateHash,
      ...(failureDomain !== undefined ? { failureDomain } : {}),
      bootAttempt: previousAttempt + 1,
    };
    const intent: CreateMachineIntent = { kind: 'CreateMachine', machine, timeoutSeconds };
    plan.intents.push(intent);
    all.push({ name, ...(failureDomain !== undefined ? { failureDomain } : {}) });
    upToDate.push({ name, ...(failureDomain !== undefined ? { failureDomain } : {}) });
  }
  return request.count;
}

/** Live machines of one pool. */
export function liveMachinesOf(ctx: PlanContext, pool: string): Machine[] {
  return ctx.machines.filter((m) => m.pool === pool && isLive(m));
}
