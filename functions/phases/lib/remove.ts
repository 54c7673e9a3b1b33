/**
 * The last part of every removal: mark Deleting, delete at the provider (already gone = success), mark Deleted.
 */
import type { Deps } from '../../adapters/deps.js';
import type { Cluster } from '../../domain/cluster.js';
import type { Machine } from '../../domain/machine.js';
import { machineEvent, providerOf, scopeOf, updateMachine } from './phase.js';

/**
 * Deletes the machine at the provider and records it Deleted, with a `MachineDeleted` event. Idempotent: a retry
 * after a failure between the Deleted write and the event append still appends it (deterministic id).
 */
export async function deleteAtProvider(deps: Deps, cluster: Cluster, machine: Machine, reason: string): Promise<Machine | undefined> {
  const now = deps.clock.now();
  const deleting = await updateMachine(deps, cluster.metadata.name, machine.name, (m) => (m.phase === 'Deleted' || m.phase === 'Deleting' ? undefined : { ...m, phase: 'Deleting' }));
  if (!deleting) return undefined;
  // Note: the event goes in before the Deleted write. A crash between them leaves the record Deleting, which the
  // next plan resumes (the provider delete is idempotent, the event id deterministic): nothing is lost either way.
  const event = (m: Machine) => machineEvent('MachineDeleted', { ...m, phase: 'Deleted' }, now, `machine ${m.name} deleted (${reason})`, { reason });
  let deleted = deleting;
  if (deleting.phase !== 'Deleted') {
    await providerOf(deps, cluster).deleteMachine(scopeOf(cluster), { name: deleting.name, providerId: deleting.providerId ?? '', cluster: cluster.metadata.name });
    if (deleting.failureReason !== 'MachineMissing') await deps.store.appendEvents(cluster.metadata.name, [event(deleting)]);
    deleted = (await updateMachine(deps, cluster.metadata.name, machine.name, (m) => (m.phase === 'Deleted' ? undefined : { ...m, phase: 'Deleted', deletedAt: deps.clock.now().toISOString() })))!;
  } else if (deleted.failureReason !== 'MachineMissing') {
    // Machines found missing at the provider have their own event (MachineMissing) and need no MachineDeleted.
    await deps.store.appendEvents(cluster.metadata.name, [event(deleted)]);
  }
  return deleted;
}
