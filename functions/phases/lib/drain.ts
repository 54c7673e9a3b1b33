/**
 * The drain of a retiring machine (RetireMachine): cordon, drain with the time left of `spec.drain.timeout`, and past
 * the timeout either report what blocks it (MachineDrainBlocked) or, with policy Force, let the deletion go on.
 * Throws DrainInProgressError while the drain is not done: the workflow retries the step.
 */
import type { Deps } from '../../adapters/deps.js';
import { providerOf, updateMachine } from '../../core/records.js';
import type { Cluster } from '../../domain/cluster.js';
import { durationSeconds } from '../../domain/duration.js';
import type { Machine } from '../../domain/machine.js';
import { machineEvent } from '../../domain/machine-events.js';
import { refOf } from '../../domain/reconcile/scope.js';
import { DrainInProgressError } from './errors.js';

/** Drains `draining` (a Draining machine that was Ready); returns once it may be deleted. */
export async function drainMachine(deps: Deps, cluster: Cluster, draining: Machine, now: Date): Promise<void> {
  const clusterName = cluster.metadata.name;
  const provider = providerOf(deps, cluster);
  const ref = refOf(cluster);
  const timeout = durationSeconds(cluster.spec.drain.timeout);
  const elapsed = (now.getTime() - Date.parse(draining.drainStartedAt ?? now.toISOString())) / 1000;
  const force = cluster.spec.drain.policy === 'Force' && elapsed >= timeout;
  let done = true;
  let blockedBy: readonly { pod: string; reason: string }[] = [];
  try {
    await provider.cordon(ref, draining.name);
    const result = await provider.drain(ref, draining.name, { timeoutSeconds: Math.max(1, Math.ceil(timeout - elapsed)), force });
    done = result.done;
    blockedBy = result.blockedBy ?? [];
  } catch (error) {
    // A machine that is already gone at the provider has nothing left to drain.
    const gone = (await provider.listMachines(ref.scope, { cluster: clusterName })).every((p) => p.name !== draining.name || p.state === 'terminated');
    if (!gone) throw error;
  }
  if (!done) {
    if (elapsed >= timeout) {
      const what = blockedBy.map((b) => `${b.pod} (${b.reason})`).join(', ') || 'pods that cannot be evicted';
      await updateMachine(deps, clusterName, draining.name, (m) => (m.drainBlockedBy === what ? undefined : { ...m, drainBlockedBy: what }));
      await deps.store.appendEvents(clusterName, [{
        ...machineEvent('MachineDrainBlocked', draining, now, `drain of ${draining.name} exceeded ${cluster.spec.drain.timeout}: blocked by ${what}; policy ${cluster.spec.drain.policy}`, { policy: cluster.spec.drain.policy }),
      }]);
    }
    throw new DrainInProgressError(`machine ${draining.name}: drain in progress (${Math.round(elapsed)}s of ${timeout}s)`);
  }
}
