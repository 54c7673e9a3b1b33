/**
 * Acting on the decisions of the pure reconcile phases (functions/domain/reconcile/): conditional record changes,
 * clean-up of what lost machines left at the provider, orphans adopted or terminated, events appended. Every action
 * is idempotent (conditional writes, deterministic event ids, idempotent provider deletes), so a retried step does
 * again only what did not happen.
 */
import type { Deps } from '../adapters/deps.js';
import type { ConditionStatus } from '../domain/cluster.js';
import type { Machine, NewEvent } from '../domain/machine.js';
import type { MachineProvider, ProviderMachine } from '../domain/provider.js';
import { planClusterOrphans, planMachineFacts, type RecordChange } from '../domain/reconcile/machine-facts.js';
import { orphanTerminatedEvent } from '../domain/reconcile/orphans.js';
import { progressDeadline, progressDeadlineEvent } from '../domain/reconcile/progress.js';
import { refOf, type ClusterScope } from '../domain/reconcile/scope.js';
import { mapLimit } from './map-limit.js';
import { updateMachine } from './records.js';

/** Records observed (record writes, clean-up calls) in flight at once while observing one cluster. */
export const OBSERVE_CONCURRENCY = 16;

/** What observation changed, for the caller's logs and for the sweep's "something differs" test. */
export interface Observation {
  readonly machines: Machine[];
  readonly changed: number;
  /** Orphans of this cluster uid: adopted, terminated, and still within the grace period. */
  readonly orphans: { readonly adopted: number; readonly terminated: number; readonly waiting: number };
  /** Set when the rollout exceeded its progress deadline: pass it to `deriveStatus` while the rollout acts or waits. */
  readonly rolloutCondition?: { readonly status: ConditionStatus; readonly reason: string; readonly message: string };
}

/** Applies one record change; returns the record as stored, the events to append after it, and a leftover to delete. */
/** A record change as applied: the record as stored, the events after it, and what to delete at the provider. */
interface Applied {
  readonly stored: Machine | undefined;
  readonly events: NewEvent[];
  readonly leftover?: ProviderMachine;
}

async function applyChange(deps: Pick<Deps, 'store'>, cluster: string, change: RecordChange): Promise<Applied> {
  if (change.eventsBefore.length) await deps.store.appendEvents(cluster, change.eventsBefore);
  const stored = await updateMachine(deps, cluster, change.machine, change.change);
  if (!stored) return { stored, events: [] };
  const leftover = change.leftover && change.leftover.when(stored) ? change.leftover.machine : undefined;
  return { stored, events: change.eventsAfter(stored), ...(leftover ? { leftover } : {}) };
}

/**
 * The machine phases of one reconcile over an observed scope: machine facts (lost machines, node health, polled
 * readiness), clean-up of remains, orphans, the progress deadline. Returns every record (Deleted included) as
 * stored afterwards, in the scope's order.
 */
export async function reconcileMachines(deps: Pick<Deps, 'store' | 'log'>, provider: MachineProvider, scope: ClusterScope): Promise<Observation> {
  const name = scope.cluster.metadata.name;
  const ref = refOf(scope.cluster);
  const facts = planMachineFacts(scope);
  const changes = new Map(facts.changes.map((c) => [c.machine, c]));
  // Records are written concurrently (bounded): record writes of a 100-machine cluster must not run one after
  // another. Results and events keep the records' order.
  const applied = await mapLimit(scope.records, OBSERVE_CONCURRENCY, async (record): Promise<Applied> => {
    const change = changes.get(record.name);
    return change ? applyChange(deps, name, change) : { stored: record, events: [] };
  });
  const machines = applied.flatMap((a) => (a.stored ? [a.stored] : []));
  const events = applied.flatMap((a) => a.events);
  const leftovers = [...facts.leftovers, ...applied.flatMap((a) => (a.leftover ? [a.leftover] : []))];

  // Remains of machines that are gone: deleting them is idempotent (P4) and frees what they hold.
  await mapLimit(leftovers, OBSERVE_CONCURRENCY, (pm) =>
    provider.deleteMachine(ref.scope, pm).catch((error: unknown) => deps.log.warn('could not clean up a lost machine', { cluster: name, machine: pm.name, error })),
  );

  const orphans = { adopted: 0, terminated: 0, waiting: 0 };
  for (const action of planClusterOrphans(scope, machines)) {
    if (action.kind === 'Wait') {
      orphans.waiting++;
    } else if (action.kind === 'Adopt') {
      const { stored, events: adopted } = await applyChange(deps, name, action.change);
      if (stored?.providerId !== action.providerId) continue;
      const i = machines.findIndex((r) => r.name === stored.name);
      if (i >= 0) machines[i] = stored;
      events.push(...adopted);
      orphans.adopted++;
    } else {
      await provider.deleteMachine(ref.scope, action.machine);
      events.push(orphanTerminatedEvent(action.machine, scope.now, action.ageSeconds));
      orphans.terminated++;
    }
  }

  const stuck = progressDeadline({ cluster: scope.cluster, machines, now: scope.now, deadlineSeconds: scope.settings.progressDeadlineSeconds });
  if (stuck?.newly) events.push(progressDeadlineEvent(scope.cluster, stuck, scope.now));
  if (events.length) await deps.store.appendEvents(name, events);
  return { machines, changed: facts.changes.length + orphans.adopted + orphans.terminated, orphans, ...(stuck ? { rolloutCondition: stuck.condition } : {}) };
}
