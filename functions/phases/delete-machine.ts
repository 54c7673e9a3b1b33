/**
 * DeleteMachine phase: delete a machine that has no workload to drain (it never became Ready, it failed, or it
 * is already gone at the provider).
 */
import type { Deps } from '../adapters/deps.js';
import { phaseHandler } from '../middleware/phase.js';
import { deleteAtProvider, loadRemoval } from './lib/remove.js';

/** Deletes the intent's machine; `{ done: true }` once it is Deleted. */
export async function deleteMachine(input: unknown, deps: Deps): Promise<{ machine: string; done: boolean }> {
  const target = await loadRemoval(deps, input);
  if (target.done) return { machine: target.machine, done: true };
  const deleted = await deleteAtProvider(deps, target.cluster, target.machine, target.reason);
  return { machine: target.machine.name, done: deleted?.phase === 'Deleted' };
}

export const handler = phaseHandler(deleteMachine);
