/**
 * The one adapter that observes a ClusterScope (functions/domain/reconcile/scope.ts): the cluster's machine
 * records, the provider's machines of the cluster, and — only when some record needs it — one `listNodes` of the
 * cluster (P6a). Every reconcile of a cluster (the plan step; the sweep reads its own cheaper summary) reads through
 * here, once.
 */
import type { Deps } from '../adapters/deps.js';
import type { Cluster } from '../domain/cluster.js';
import type { Machine } from '../domain/machine.js';
import type { MachineProvider, ProviderMachine } from '../domain/provider.js';
import { needsNodeView } from '../domain/reconcile/machine-facts.js';
import { refOf, type ClusterScope } from '../domain/reconcile/scope.js';

/**
 * Node health of Ready machines is checked at most every NODE_CHECK_INTERVAL_MS per cluster and process: a plan step
 * runs every few seconds during a rollout, health checks work on minutes (unhealthyTimeout), and the reconcile
 * sweep checks every cluster's nodes on its own schedule. The first plan of every execution checks (`forceNodeCheck`,
 * the default), so a sweep that saw a NotReady node always gets it observed. Readiness polling of providers that
 * cannot call back is never skipped.
 */
export const NODE_CHECK_INTERVAL_MS = 10_000;
const lastNodeCheck = new Map<string, number>();

function nodeCheckDue(clusterUid: string, now: Date, force: boolean): boolean {
  const last = lastNodeCheck.get(clusterUid);
  if (!force && last !== undefined && now.getTime() - last >= 0 && now.getTime() - last < NODE_CHECK_INTERVAL_MS) return false;
  lastNodeCheck.set(clusterUid, now.getTime());
  if (lastNodeCheck.size > 10_000) lastNodeCheck.delete(lastNodeCheck.keys().next().value!);
  return true;
}

/** What the observer is given: the records the caller read, and optionally a provider listing it already made. */
export interface ObserveInput {
  readonly cluster: Cluster;
  readonly provider: MachineProvider;
  readonly records: readonly Machine[];
  /** The provider's view (of the scope or of this cluster); omitted: listed now. */
  readonly providerMachines?: readonly ProviderMachine[];
  /** Check node health of Ready machines even within NODE_CHECK_INTERVAL_MS. @default true */
  readonly forceNodeCheck?: boolean;
}

/** Observes one cluster; a failing node read is no information (nodes undefined), never an error. */
export async function observeClusterScope(deps: Pick<Deps, 'clock' | 'settings'>, input: ObserveInput): Promise<ClusterScope> {
  const { cluster, provider } = input;
  const now = deps.clock.now();
  const ref = refOf(cluster);
  const listed = input.providerMachines ?? (await provider.listMachines(ref.scope, { cluster: ref.name }));
  const partial = {
    cluster,
    records: input.records,
    providerMachines: listed.filter((p) => p.clusterUid === ref.uid && p.cluster === ref.name),
    nodeCheckDue: nodeCheckDue(ref.uid, now, input.forceNodeCheck ?? true),
    providerCallsBack: provider.callsBack,
    now,
    settings: deps.settings,
  };
  const nodes = needsNodeView(partial) ? await provider.listNodes(ref).catch(() => undefined) : undefined;
  return { ...partial, nodes };
}
