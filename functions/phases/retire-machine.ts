/**
 * RetireMachine phase: cordon, drain (disruption-budget aware), then delete.
 *
 * Timeline of one retirement (each line is safe to re-run):
 *   Ready ──cordon──▶ Draining (drainStartedAt, MachineDraining) ──drain…──▶ Deleting ──provider delete──▶ Deleted
 *                                   └─ not done: DrainInProgressError (the workflow retries this step)
 *                                   └─ past drain.timeout: MachineDrainBlocked (what blocks it); policy Force → delete anyway
 */
import type { Deps } from '../adapters/deps.js';
import { phaseHandler } from '../middleware/phase.js';
import { machineEvent } from '../domain/machine-events.js';
import { providerOf, updateMachine } from '../core/records.js';
import { drainMachine } from './lib/drain.js';
import { deleteAtProvider, loadRemoval } from './lib/remove.js';

/** Moves the machine one step along its retirement; returns `{ done: true }` once it is Deleted. */
export async function retireMachine(input: unknown, deps: Deps): Promise<{ machine: string; done: boolean }> {
  const target = await loadRemoval(deps, input);
  if (target.done) return { machine: target.machine, done: true };
  const { cluster, machine } = target;
  const clusterName = cluster.metadata.name;
  const intent = { machine: machine.name, reason: target.reason };
  const now = deps.clock.now();
  providerOf(deps, cluster); // a provider switched off here throws before anything is written

  let draining = machine;
  if (machine.phase !== 'Draining' && machine.phase !== 'Deleting') {
    // Event first, then the record: a crash between them leaves the machine in its earlier phase, and the retried
    // step does both again (same event id), so the log never misses the drain.
    const startedAt = machine.drainStartedAt ?? now.toISOString();
    await deps.store.appendEvents(clusterName, [machineEvent('MachineDraining', { ...machine, phase: 'Draining' }, now, `machine ${machine.name} cordoned and draining (${intent.reason})`, { reason: intent.reason })]);
    draining = (await updateMachine(deps, clusterName, machine.name, (m) =>
      m.phase === 'Draining' || m.phase === 'Deleting' || m.phase === 'Deleted' ? undefined : { ...m, phase: 'Draining', drainStartedAt: m.drainStartedAt ?? startedAt },
    ))!;
  }
  if (draining.phase === 'Draining' && draining.readyAt) await drainMachine(deps, cluster, draining, now);
  const deleted = await deleteAtProvider(deps, cluster, draining, intent.reason);
  return { machine: intent.machine, done: deleted?.phase === 'Deleted' };
}

export const handler = phaseHandler(retireMachine);
