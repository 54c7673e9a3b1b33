/**
 * The last part of every removal: mark Deleting, delete at the provider (already gone = success), mark Deleted.
 */
import type { Deps } from '../../adapters/deps.js';
import type { Cluster } from '../../domain/cluster.js';
import type { Machine } from '../../domain/machine.js';
import type { RemovalReason } from '../../domain/planner/types.js';
import { field, intentOf, machineEvent, providerOf, scopeOf, updateMachine } from './phase.js';

/** What a removal step works on; `done` when there is nothing (left) to remove. */
export type RemovalTarget =
  | { readonly done: true; readonly machine: string }
  | { readonly done: false; readonly cluster: Cluster; readonly machine: Machine; readonly reason: RemovalReason };

/**
 * Parses a removal step's input and loads its cluster and machine. A machine already Deleted only gets its lost
 * `MachineDeleted` event completed (the step is then done).
 */
export async function loadRemoval(deps: Deps, input: unknown): Promise<RemovalTarget> {
  const clusterName = field(input, 'cluster');
  const intent = intentOf<{ machine: string; reason: RemovalReason }>(input);
  const cluster = await deps.store.getCluster(clusterName);
  const machine = cluster ? await deps.store.getMachine(clusterName, intent.machine) : undefined;
  if (!cluster || !machine) return { done: true, machine: intent.machine };
  if (machine.phase === 'Deleted') {
    await deleteAtProvider(deps, cluster, machine, intent.reason);
    return { done: true, machine: intent.machine };
  }
  return { done: false, cluster, machine, reason: intent.reason };
}

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
