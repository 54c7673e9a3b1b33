/**
 * The reconcile sweep (EventBridge schedule; locally a timer every CAPSTAN_RECONCILE_SECONDS): the safety net that
 * finds every cluster whose machines drifted from its records, and starts that cluster's workflow.
 *
 *   store.listScopes (the scope registry: every account-region that ever had a cluster)
 *   per scope, at most `concurrency` scopes at once, a failing scope reported and the others going on:
 *     store.listClustersByScope page 1        the first cluster names the member role
 *     provider.listMachines(scope)            ONE paginated call set (assume the member role once), held for the scope
 *     then page by page (`pageSize` records, each read once, dropped after its page):
 *       compareCluster                        status counts and name fingerprints (no machine query)
 *       node health of converged clusters     provider.listNodes per cluster (see docs/reconcile.md: cost)
 *       stuck rollouts of unconverged ones    store.listMachines only for those
 *       workflow.startRollout                 only for clusters that differ or have not converged
 *     machines of cluster uids no page had    terminated after the orphan grace (also in scopes with no cluster left)
 *
 * Memory: per scope in flight, one page of cluster records plus that scope's provider listing (bounded by the
 * machines of one account-region), never the fleet.
 *
 * Note: the sweep decides nothing about machines of known clusters: the workflow's plan step observes and
 * repairs them (functions/core/act.ts), so the sweep and the event path cannot race it. The sweep writes
 * only the RolloutProgressing condition of a stuck rollout, the events of what it did, registry backfills, and EMF
 * metric lines.
 */
import { getDeps } from '../adapters/deps.js';
import { sweepAll } from '../core/sweep.js';
import { DEFAULT_SWEEP_OPTIONS, type SweepDeps, type SweepOptions, type SweepReport } from '../core/sweep-scope.js';

export { scopesToSweep } from '../core/sweep.js';
export { DEFAULT_SWEEP_OPTIONS, sweepScope, type ScopeReport, type SweepChange, type SweepOptions, type SweepReport } from '../core/sweep-scope.js';

function positiveInt(value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= max ? value : fallback;
}

/** Reads the sweep options from its input, ignoring anything else (a scheduled event's fields). */
export function sweepOptions(input: unknown): SweepOptions {
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  return {
    concurrency: positiveInt(raw.concurrency, DEFAULT_SWEEP_OPTIONS.concurrency),
    perScopeConcurrency: positiveInt(raw.perScopeConcurrency, DEFAULT_SWEEP_OPTIONS.perScopeConcurrency),
    nodeHealth: typeof raw.nodeHealth === 'boolean' ? raw.nodeHealth : DEFAULT_SWEEP_OPTIONS.nodeHealth,
    pageSize: positiveInt(raw.pageSize, DEFAULT_SWEEP_OPTIONS.pageSize, 1000),
    backfillScopes: typeof raw.backfillScopes === 'boolean' ? raw.backfillScopes : DEFAULT_SWEEP_OPTIONS.backfillScopes,
  };
}

/** Sweeps every registered account-region with the options of `input`; see the module comment. */
export async function sweep(input: unknown, deps: SweepDeps): Promise<SweepReport> {
  return await sweepAll(sweepOptions(input), deps);
}

/** Lambda entry (EventBridge schedule). */
export const handler = async (input: unknown): Promise<SweepReport> => sweep(input, await getDeps());
