/**
 * The reconcile sweep (EventBridge schedule; locally a timer). This first version restarts the rollout of every
 * cluster that has not converged; drift detection across accounts builds on it.
 */
import { getDeps, type Deps } from '../adapters/deps.js';

/** Starts a rollout for every cluster that is not converged. */
export async function sweep(_input: unknown, deps: Deps): Promise<{ clusters: number; started: number }> {
  let clusters = 0;
  let started = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.store.listClusters({ limit: 100, ...(cursor ? { cursor } : {}) });
    for (const cluster of page.items) {
      clusters++;
      const converged = cluster.status.phase === 'Ready' && cluster.status.observedGeneration === cluster.metadata.generation && !cluster.metadata.deletionTimestamp;
      if (converged || cluster.spec.paused) continue;
      const r = await deps.workflow.startRollout({ cluster: cluster.metadata.name, generation: cluster.metadata.generation, reason: 'sweep' });
      if (r.started) started++;
    }
    cursor = page.next;
  } while (cursor);
  return { clusters, started };
}

export const handler = async (input: unknown) => sweep(input, await getDeps());
