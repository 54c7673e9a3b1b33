/**
 * DeleteCluster phase: the last step of a deletion. Removes the record (and its machines' history, events and
 * lease) once no machine is left, conditionally on the version just read.
 */
import type { Deps } from '../adapters/deps.js';
import { phaseHandler } from '../middleware/phase.js';
import { conditionalUpdate } from '../core/conditional-update.js';
import { ConflictError } from '../domain/errors.js';
import { field } from './lib/input.js';

/** Deletes the cluster record; refuses while any machine is not Deleted. */
export async function deleteClusterRecord(input: unknown, deps: Deps): Promise<{ deleted: boolean }> {
  const name = field(input, 'cluster');
  const deleted = await conditionalUpdate({
    what: `cluster ${name}`,
    read: () => deps.store.getCluster(name),
    change: (cluster) => {
      if (!cluster.metadata.deletionTimestamp) throw new ConflictError(`cluster ${name} is not being deleted`);
      return cluster;
    },
    // A lost race (PreconditionFailedError: the record changed since the read) re-reads and checks again.
    write: async (cluster) => {
      const live = (await deps.store.listMachines(name)).filter((m) => m.phase !== 'Deleted');
      if (live.length) throw new ConflictError(`cluster ${name}: ${live.length} machines remain`);
      await deps.store.deleteCluster(name, cluster.metadata.resourceVersion);
      return cluster;
    },
  });
  if (deleted) deps.log.info('cluster deleted', { cluster: name, uid: deleted.metadata.uid });
  return { deleted: true };
}

export const handler = phaseHandler(deleteClusterRecord);
