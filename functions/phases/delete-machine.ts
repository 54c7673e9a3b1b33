/**
 * DeleteMachine phase: delete a machine that has no workload to drain (it never became Ready, it failed, or it
 * is already gone at the provider).
 */
import { getDeps, type Deps } from '../adapters/deps.js';
import type { RemovalReason } from '../domain/planner/types.js';
import { field, intentOf } from './lib/phase.js';
import { deleteAtProvider } from './lib/remove.js';

/** Deletes the intent's machine; `{ done: true }` once it is Deleted. */
export async function deleteMachine(input: unknown, deps: Deps): Promise<{ machine: string; done: boolean }> {
  const clusterName = field(input, 'cluster');
  const intent = intentOf<{ machine: string; reason: RemovalReason }>(input);
  const cluster = await deps.store.getCluster(clusterName);
  const machine = cluster ? await deps.store.getMachine(clusterName, intent.machine) : undefined;
  if (!cluster || !machine) return { machine: intent.machine, done: true };
  if (machine.phase === 'Deleted') {
    await deleteAtProvider(deps, cluster, machine, intent.reason); // only completes a lost MachineDeleted event
    return { machine: intent.machine, done: true };
  }
  const deleted = await deleteAtProvider(deps, cluster, machine, intent.reason);
  return { machine: intent.machine, done: deleted?.phase === 'Deleted' };
}

export const handler = async (input: unknown) => deleteMachine(input, await getDeps());
