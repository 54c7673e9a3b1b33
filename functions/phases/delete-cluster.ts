/**
 * DeleteCluster phase: the last step of a deletion. Removes the record (and its machines' history, events and
 * lease) once no machine is left, conditionally on the version just read.
 */
import { getDeps, type Deps } from '../adapters/deps.js';
import { ConflictError, PreconditionFailedError } from '../domain/errors.js';
import { field } from './lib/phase.js';

/** Deletes the cluster record; refuses while any machine is not Deleted. */
export async function deleteClusterRecord(input: unknown, deps: Deps): Promise<{ deleted: boolean }> {
  const name = field(input, 'cluster');
  for (let attempt = 0; attempt < 8; attempt++) {
    const cluster = await deps.store.getCluster(name);
    if (!cluster) return { deleted: true };
    if (!cluster.metadata.deletionTimestamp) throw new ConflictError(`cluster ${name} is not being deleted`);
    const live = (await deps.store.listMachines(name)).filter((m) => m.phase !== 'Deleted');
    if (live.length) throw new ConflictError(`cluster ${name}: ${live.length} machines remain`);
    try {
      await deps.store.deleteCluster(name, cluster.metadata.resourceVersion);
      deps.log.info('cluster deleted', { cluster: name, uid: cluster.metadata.uid });
      return { deleted: true };
    } catch (error) {
      if (!(error instanceof PreconditionFailedError)) throw error;
    }
  }
  throw new PreconditionFailedError(`cluster ${name}: could not delete the record after retries`);
}

export const handler = async (input: unknown) => deleteClusterRecord(input, await getDeps());
