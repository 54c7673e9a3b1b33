/**
 * RetireMachine phase: cordon, drain (disruption-budget aware), then delete.
 *
 * Timeline of one retirement (each line is safe to re-run):
 *   Ready ──cordon──▶ Draining (drainStartedAt, MachineDraining) ──drain…──▶ Deleting ──provider delete──▶ Deleted
 *                                   └─ not done: DrainInProgressError (the workflow retries this step)
 *                                   └─ past drain.timeout: MachineDrainBlocked (what blocks it); policy Force → delete anyway
 */
import { getDeps, type Deps } from '../adapters/deps.js';
import { durationSeconds } from '../domain/duration.js';
import { DrainInProgressError } from './lib/errors.js';
import { machineEvent, providerOf, refOf, updateMachine } from './lib/phase.js';
import { deleteAtProvider, loadRemoval } from './lib/remove.js';

/** Moves the machine one step along its retirement; returns `{ done: true }` once it is Deleted. */
export async function retireMachine(input: unknown, deps: Deps): Promise<{ machine: string; done: boolean }> {
  const target = await loadRemoval(deps, input);
  if (target.done) return { machine: target.machine, done: true };
  const { cluster, machine } = target;
  const clusterName = cluster.metadata.name;
  const intent = { machine: machine.name, reason: target.reason };
  const now = deps.clock.now();
  const provider = providerOf(deps, cluster);
  const ref = refOf(cluster);

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
  if (draining.phase === 'Draining' && draining.readyAt) {
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
  const deleted = await deleteAtProvider(deps, cluster, draining, intent.reason);
  return { machine: intent.machine, done: deleted?.phase === 'Deleted' };
}

export const handler = async (input: unknown) => retireMachine(input, await getDeps());
