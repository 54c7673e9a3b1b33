/**
 * EC2 instance state changes forwarded by member accounts (EventBridge, `detail-type: EC2 Instance State-change
 * Notification`): the fast path that replaces a lost machine within seconds; the sweep is the safety net.
 *
 * Decision: the instance is mapped to its cluster through the PROVIDER (its Capstan tags), not the store: the store
 * has no index by provider id, and the tags are the identity the provider contract guarantees (P2). The lookup is one
 * `listMachines` of the event's account-region (one paginated DescribeInstances, tag-filtered to Capstan's
 * machines), assuming the member role of a cluster of that account-region. An instance that the listing no longer
 * shows (a `terminated` one: DescribeInstances of live states) cannot be mapped by tags; then the account-region is
 * compared as the sweep does (`sweepScope`, drift only, no node checks, streaming its records page by page),
 * reusing the listing already made.
 *
 *   stopping / stopped / shutting-down / terminated ─► clusters in that account-region? ─ no ─► Ignored
 *        └─► listMachines(scope) ─► instance found ─► reconcileLostMachine (skips machines Capstan is deleting)
 *                                 └─ not found ─► sweepScope(drift only)
 */
import { getDeps, type Deps } from '../adapters/deps.js';
import { clusterScope } from '../domain/cluster.js';
import { DEFAULT_SWEEP_OPTIONS, sweepScope } from '../core/sweep-scope.js';
import { reconcileLostMachine, type TriggerResult } from './trigger.js';
import { LOST_STATES } from '../domain/provider.js';
import { parseInstanceEvent } from '../domain/reconcile/instance-state-change.js';

export { parseInstanceEvent, type InstanceStateChangeEvent } from '../domain/reconcile/instance-state-change.js';


/** What the handler did: a trigger result, or the drift-only sweep of the account-region. */
export type InstanceEventResult = TriggerResult | { readonly action: 'ScopeSwept'; readonly reason: string; readonly started: readonly string[] };

/** Maps one instance state change to its cluster and starts that cluster's reconcile. */
export async function instanceEvent(input: unknown, deps: Deps): Promise<InstanceEventResult> {
  const { event, problem } = parseInstanceEvent(input);
  if (!event) {
    deps.log.warn('instance event ignored', { problem });
    return { action: 'Ignored', reason: `Malformed: ${problem}` };
  }
  const id = event.detail['instance-id'];
  if (!(LOST_STATES as readonly string[]).includes(event.detail.state)) return { action: 'Ignored', reason: `State ${event.detail.state}` };
  const where = { provider: 'aws', account: event.account, region: event.region } as const;
  const first = await deps.store.listClustersByScope(where, { limit: 1 });
  const sample = first.items[0];
  if (!sample) return { action: 'Ignored', reason: 'NoClusters' };
  const scope = clusterScope(sample.spec);
  const provider = deps.providers.get('aws');
  const listed = await provider.listMachines(scope);
  const machine = listed.find((m) => m.providerId === id || m.providerId.endsWith(`/${id}`));
  if (machine) return reconcileLostMachine(deps, { cluster: machine.cluster, clusterUid: machine.clusterUid, machine: machine.name }, 'instance');

  const report = await sweepScope(deps, where, { ...DEFAULT_SWEEP_OPTIONS, nodeHealth: false, driftOnly: true }, { scope, machines: listed });
  return { action: 'ScopeSwept', reason: `instance ${id} not listed (${event.detail.state})`, started: report.changes.filter((c) => c.started).map((c) => c.cluster) };
}

/** Lambda entry (EventBridge rule on the `capstan-events` bus). */
export const handler = async (event: unknown): Promise<InstanceEventResult> => instanceEvent(event, await getDeps());
