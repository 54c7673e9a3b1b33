/**
 * The events of a cluster's spec being accepted: `ClusterCreated`, `ClusterUpdated`, and `ClusterPaused` /
 * `ClusterResumed` when `spec.paused` flips.
 *
 * Why its own file: two writers append the acceptance event of one generation, the API right after its write and
 * the plan step when it first observes the generation (a failure between the API's write and its append must not
 * lose the event). Both build it here, so the ids (deterministic, hence appended once) and the data are the same.
 */
import type { Cluster, ClusterSpec } from './cluster.js';
import type { NewEvent } from './machine.js';

/**
 * What changed between two specs, for an event message: `spec changed: version v1.29.3 → v1.30.1; md-0 replicas
 * 3 → 5`, or `spec changed` when none of the summarized fields did.
 */
export function describeSpecChange(before: ClusterSpec, after: ClusterSpec): string {
  const parts: string[] = [];
  if (before.version !== after.version) parts.push(`version ${before.version} → ${after.version}`);
  if (before.controlPlane.replicas !== after.controlPlane.replicas) parts.push(`control plane replicas ${before.controlPlane.replicas} → ${after.controlPlane.replicas}`);
  for (const pool of after.workers) {
    const old = before.workers.find((p) => p.name === pool.name);
    if (!old) parts.push(`pool ${pool.name} added`);
    else if (old.replicas !== pool.replicas) parts.push(`${pool.name} replicas ${old.replicas} → ${pool.replicas}`);
  }
  for (const pool of before.workers) if (!after.workers.some((p) => p.name === pool.name)) parts.push(`pool ${pool.name} removed`);
  if (before.paused !== after.paused) parts.push(after.paused ? 'paused' : 'resumed');
  return parts.length ? `spec changed: ${parts.join('; ')}` : 'spec changed';
}

/**
 * The acceptance event of the cluster's current generation: `ClusterCreated/<uid>` for generation 1, else
 * `ClusterUpdated/<uid>/<generation>`.
 * @param previous the spec it replaced, when known: the message then says what changed (`describeSpecChange`).
 *   The plan step does not know it and says `spec changed`; the id is the same, so whichever is appended first stays.
 */
export function specAcceptedEvent(cluster: Pick<Cluster, 'metadata' | 'spec'>, time: Date, previous?: ClusterSpec): NewEvent {
  const { uid, generation } = cluster.metadata;
  if (generation === 1) {
    return { id: `ClusterCreated/${uid}`, type: 'ClusterCreated', time: time.toISOString(), message: `cluster created at ${cluster.spec.version}`, data: { generation: 1 } };
  }
  const message = previous ? describeSpecChange(previous, cluster.spec) : 'spec changed';
  return { id: `ClusterUpdated/${uid}/${generation}`, type: 'ClusterUpdated', time: time.toISOString(), message, data: { generation } };
}

/** `ClusterPaused` or `ClusterResumed` of the current generation when `spec.paused` differs from `previous`, else undefined. */
export function pauseChangedEvent(cluster: Pick<Cluster, 'metadata' | 'spec'>, time: Date, previous: ClusterSpec): NewEvent | undefined {
  if (previous.paused === cluster.spec.paused) return undefined;
  const type = cluster.spec.paused ? 'ClusterPaused' : 'ClusterResumed';
  return {
    id: `${type}/${cluster.metadata.uid}/${cluster.metadata.generation}`,
    type,
    time: time.toISOString(),
    message: cluster.spec.paused ? 'rollout paused by spec.paused' : 'rollout resumed',
  };
}
