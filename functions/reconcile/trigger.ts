/**
 * The event-driven path's last step, shared by the AWS instance-event handler and the local machine watcher: a
 * machine of a cluster stopped or vanished → start that cluster's workflow, whose plan step observes the loss and
 * replaces the machine (functions/phases/lib/observe.ts). Losses Capstan caused itself are ignored.
 */
import type { Deps } from '../adapters/deps.js';

/** Record phases in which a machine is expected to be alive: losing it is news. */
const EXPECTED_ALIVE = new Set(['Pending', 'Provisioning', 'Ready']);

/** The machine that was lost, by its provider identity. */
export interface LostMachine {
  readonly cluster: string;
  readonly clusterUid: string;
  readonly machine: string;
}

/** What the trigger did, and why. */
export interface TriggerResult {
  readonly action: 'Started' | 'AlreadyRunning' | 'Ignored';
  readonly reason: string;
  readonly cluster?: string;
  readonly machine?: string;
}

/**
 * Starts the workflow of the cluster that lost `lost`, unless Capstan is deleting that machine (its record says
 * Draining/Deleting/Deleted), no record knows it (an orphan: the sweep judges those), or the cluster is paused.
 */
export async function reconcileLostMachine(deps: Deps, lost: LostMachine, reason: string): Promise<TriggerResult> {
  const base = { cluster: lost.cluster, machine: lost.machine };
  const cluster = await deps.store.getCluster(lost.cluster);
  if (!cluster || cluster.metadata.uid !== lost.clusterUid) return { action: 'Ignored', reason: 'UnknownCluster', ...base };
  const record = await deps.store.getMachine(lost.cluster, lost.machine);
  if (!record || record.clusterUid !== lost.clusterUid) return { action: 'Ignored', reason: 'NoRecord', ...base };
  if (!EXPECTED_ALIVE.has(record.phase)) return { action: 'Ignored', reason: `Expected (${record.phase})`, ...base };
  if (cluster.spec.paused && !cluster.metadata.deletionTimestamp) return { action: 'Ignored', reason: 'Paused', ...base };
  const r = await deps.workflow.startRollout({ cluster: lost.cluster, generation: cluster.metadata.generation, reason });
  deps.log.info('machine lost: reconciling its cluster', { ...base, reason, started: r.started, execution: r.executionName });
  return { action: r.started ? 'Started' : 'AlreadyRunning', reason: 'MachineLost', ...base };
}
