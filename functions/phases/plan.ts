/**
 * Plan phase (the execution's Plan and each lane's LanePlan): observe the cluster and its machines, let the pure
 * reconcile phases decide (machine facts, then the plan), persist events and status, say what to do next.
 *
 * Note: safe to re-run from any line. Nothing is trusted from an earlier run: the lease is re-taken (renewed when this
 * execution holds it), the machines are re-observed, the plan is recomputed, events have deterministic ids.
 */
import type { Deps } from '../adapters/deps.js';
import { phaseHandler } from '../middleware/phase.js';
import { reconcileMachines } from '../core/act.js';
import { observeClusterScope } from '../core/observe-scope.js';
import { providerOf, updateCluster } from '../core/records.js';
import type { Cluster } from '../domain/cluster.js';
import type { Machine } from '../domain/machine.js';
import { decidePlanStep, decideProviderDisabled, laneDone, onLane, planOutput, type PlanOutput, type PlanStepCursor, type PlanStepDecision } from '../domain/reconcile/plan-step.js';
import { parsePlanInput } from './lib/input.js';

export type { PlanOutput } from '../domain/reconcile/plan-step.js';

/** Runs one plan step for the cluster named in the input. */
export async function plan(input: unknown, deps: Deps): Promise<PlanOutput> {
  const { cluster: name, ...cursor } = parsePlanInput(input);
  const now = deps.clock.now();
  // The three reads of a step go out together (a plan step is on every machine step's critical path). Reading the
  // machines before the lease is taken changes nothing: Ready callbacks write records whoever holds the lease.
  const [cluster, records, leased] = await Promise.all([
    deps.store.getCluster(name),
    deps.store.listMachines(name, { includeDeleted: true }),
    deps.store.acquireLease(name, cursor.execution, deps.settings.leaseTtlSeconds, now),
  ]);
  if (!cluster) {
    if (leased) await deps.store.releaseLease(name, cursor.execution); // leave nothing under a deleted cluster's key
    return onLane(planOutput(name, 0, cursor.iteration + 1, { action: 'Gone', intents: [] }, cursor.historyEvents), cursor);
  }
  if (!leased) return onLane(planOutput(name, cluster.metadata.generation, cursor.iteration + 1, { action: 'Superseded', intents: [] }, cursor.historyEvents), cursor);

  const decision = await decide(deps, cluster, records, { ...cursor, now });
  if (decision.events.length) await deps.store.appendEvents(name, decision.events);
  if (decision.status) await updateCluster(deps, name, decision.status, cluster);
  if (decision.archive.length) await deps.store.deleteMachines(name, decision.archive);
  if (decision.releaseLease) await deps.store.releaseLease(name, cursor.execution);
  return decision.output;
}

/** Observe → decide; a cluster whose provider is switched off here is decided without any provider call. */
async function decide(deps: Deps, cluster: Cluster, records: readonly Machine[], cursor: PlanStepCursor & { readonly now: Date }): Promise<PlanStepDecision> {
  const { now, ...position } = cursor;
  let provider;
  try {
    provider = providerOf(deps, cluster);
  } catch (error) {
    if (position.lane) return laneDone(cluster, position); // the execution's Plan reports it
    return decideProviderDisabled({ cluster, machines: records, now, cursor: position }, error instanceof Error ? error.message : String(error));
  }
  const scope = await observeClusterScope(deps, { cluster, provider, records, forceNodeCheck: position.iteration === 0 });
  const observed = await reconcileMachines(deps, provider, scope);
  return decidePlanStep({ cluster, machines: observed.machines, now, settings: deps.settings, cursor: position, ...(observed.rolloutCondition ? { rolloutCondition: observed.rolloutCondition } : {}) });
}

export const handler = phaseHandler(plan);
