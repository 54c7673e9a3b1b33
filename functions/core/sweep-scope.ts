/**
 * The sweep of one account-region: its cluster records streamed page by page against ONE provider listing (see
 * functions/reconcile/sweep.ts for the whole sweep and its cost). Shared by the scheduled sweep and the instance-event
 * fallback, which passes the listing it already made.
 */
import type { Deps } from '../adapters/deps.js';
import { ProviderDisabledError } from '../domain/errors.js';
import type { NewEvent } from '../domain/machine.js';
import type { ProviderScopeKey } from '../domain/ports.js';
import { nodeReadyStatus, type ProviderMachine, type ProviderScope } from '../domain/provider.js';
import { compareCluster, DRIFT_REASONS, groupByClusterUid, scopeKey, summarizeCluster, type ClusterSummary, type Drift, type DriftReason } from '../domain/reconcile/compare.js';
import { orphanTerminatedEvent, planOrphans } from '../domain/reconcile/orphans.js';
import { PROGRESS_DEADLINE_REASON, progressDeadline, progressDeadlineEvent } from '../domain/reconcile/progress.js';
import { clusterScope } from '../domain/cluster.js';
import { mapLimit } from './map-limit.js';
import { rolloutDeadlineMetric, stdoutMetricSink, type MetricSink } from './metrics.js';
import { updateCluster } from './records.js';

/** Options of one sweep (fields of the input object; an EventBridge scheduled event carries none). */
export interface SweepOptions {
  /** Account-regions swept at once. @default 8 */
  readonly concurrency: number;
  /** Workflow starts and node checks (listNodes calls) in flight per account-region. @default 16 */
  readonly perScopeConcurrency: number;
  /** Ask the provider for node health of converged clusters (one listNodes per cluster with running machines). @default true */
  readonly nodeHealth: boolean;
  /** Cluster records per store page (1..1000); at most one page per account-region in flight is held. @default 500 */
  readonly pageSize: number;
  /**
   * Register the scope of every cluster record before sweeping: the one-time backfill of a table written before the
   * scope registry. Also done on its own when the registry is empty. @default false
   */
  readonly backfillScopes: boolean;
  /**
   * Only start clusters whose machines differ from their records (skip unconverged clusters, stuck checks and
   * unknown orphans): the instance-event fallback, where the sweep does the rest. @default false
   */
  readonly driftOnly?: boolean;
}

export const DEFAULT_SWEEP_OPTIONS: SweepOptions = { concurrency: 8, perScopeConcurrency: 16, nodeHealth: true, pageSize: 500, backfillScopes: false };

/** The sweep's dependencies: the handlers' deps, plus where EMF metric lines go. */
export interface SweepDeps extends Deps {
  /** @default stdout (CloudWatch Logs extracts EMF lines from the function's log) */
  readonly metrics?: MetricSink;
}

/** A cluster the sweep found different, and whether its workflow was started (false: one is already running). */
export interface SweepChange {
  readonly cluster: string;
  readonly reason: DriftReason;
  readonly message: string;
  readonly started: boolean;
}

/** What one account-region sweep did. */
export interface ScopeReport {
  readonly scope: string;
  /** Cluster records read (all of the scope's, unless the listing failed after the first page). */
  readonly clusters: number;
  readonly providerMachines: number;
  readonly changes: readonly SweepChange[];
  readonly stuck: readonly string[];
  readonly orphans: { readonly terminated: number; readonly waiting: number };
  /** provider.listNodes calls: one per converged, unpaused, unchanged cluster with running machines. */
  readonly nodeChecks: number;
  /** The scope's provider is switched off in this hosting: no provider call was made. */
  readonly disabled?: boolean;
  /** The provider listing failed (`Name: message`): nothing of the scope was compared. */
  readonly failure?: string;
}

/** What the sweep did; failures name the account-region and the error, the other scopes still ran. */
export interface SweepReport {
  readonly clusters: number;
  readonly scopes: number;
  /** Scopes the backfill added to the registry during this sweep. */
  readonly backfilledScopes: number;
  /** Workflows started. */
  readonly started: number;
  readonly changes: readonly SweepChange[];
  readonly stuck: readonly string[];
  readonly orphans: { readonly terminated: number; readonly waiting: number };
  /** provider.listNodes calls (node health): one per converged, unpaused, unchanged cluster with running machines. */
  readonly nodeChecks: number;
  /** Scopes whose provider is switched off in this hosting (e.g. aws in local mode). */
  readonly disabled: readonly string[];
  readonly failures: readonly { readonly scope: string; readonly error: string }[];
  readonly durationMs: number;
}

/** A provider listing already made for a scope (the instance-event path reuses its own). */
export interface ScopeListing {
  readonly scope: ProviderScope;
  readonly machines: readonly ProviderMachine[];
}

/**
 * Sweeps one account-region, streaming its cluster records page by page against ONE provider listing; see the
 * module comment. A failing provider listing is returned as `failure`; other errors (the store) throw.
 *
 * Note: a cluster's uid is dropped from the listing's index once its page is done, so what is left at the end is
 * exactly the machines no cluster of the scope explains, without keeping a set of every cluster seen.
 */
export async function sweepScope(
  deps: SweepDeps,
  key: ProviderScopeKey,
  options: SweepOptions = DEFAULT_SWEEP_OPTIONS,
  alreadyListed?: ScopeListing,
): Promise<ScopeReport> {
  const now = deps.clock.now();
  let listing = alreadyListed;
  let byUid = listing ? groupByClusterUid(listing.machines) : new Map<string, ProviderMachine[]>();
  let disabled = false;
  let clusters = 0;
  const changes: SweepChange[] = [];
  const stuck: string[] = [];
  let nodeChecks = 0;
  // Names of clusters of this scope that the listing mentions: where an unknown orphan's event may be logged.
  const present = new Set<string>();
  const base = { scope: scopeKey(key), orphans: { terminated: 0, waiting: 0 } };

  let scope: ProviderScope | undefined = listing?.scope;
  let listedNames = new Set(listing?.machines.map((m) => m.cluster));
  let cursor: string | undefined;
  do {
    const page = await deps.store.listClustersByScope(key, { limit: options.pageSize, ...(cursor ? { cursor } : {}) });
    cursor = page.next;
    clusters += page.items.length;
    if (!scope) {
      // Decision: one role per account-region, the first cluster's; with no cluster left, the registered one.
      const first = page.items[0];
      scope = first ? clusterScope(first.spec) : { provider: key.provider, account: key.account, region: key.region, ...(key.roleArn ? { roleArn: key.roleArn } : {}) };
      try {
        listing = { scope, machines: await deps.providers.get(scope.provider).listMachines(scope) };
        byUid = groupByClusterUid(listing.machines);
        listedNames = new Set(listing.machines.map((m) => m.cluster));
      } catch (error) {
        if (!(error instanceof ProviderDisabledError)) {
          return { ...base, clusters, providerMachines: 0, changes, stuck, nodeChecks, failure: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
        }
        disabled = true;
      }
    }
    const summaries = page.items.map((c) => summarizeCluster(c, scope!));
    if (disabled) {
      changes.push(...(await startDisabled(deps, summaries, options)));
      continue;
    }
    const found = await comparePage(deps, summaries, byUid, options, now);
    nodeChecks += found.nodeChecks;
    stuck.push(...found.stuck);
    changes.push(...found.changes);
    for (const c of summaries) {
      byUid.delete(c.ref.uid);
      if (listedNames.has(c.ref.name)) present.add(c.ref.name);
    }
  } while (cursor);

  if (disabled || !listing) return { ...base, clusters, providerMachines: 0, changes, stuck: [], nodeChecks: 0, ...(disabled ? { disabled } : {}) };
  const orphans = options.driftOnly ? base.orphans : await terminateUnknownOrphans(deps, listing.scope, present, byUid, now);
  return { ...base, clusters, providerMachines: listing.machines.length, changes, stuck: stuck.sort(), orphans, nodeChecks };
}

/** One page of a scope: compare, node health, stuck rollouts, starts. */
async function comparePage(deps: SweepDeps, clusters: readonly ClusterSummary[], byUid: ReadonlyMap<string, ProviderMachine[]>, options: SweepOptions, now: Date): Promise<{ changes: SweepChange[]; stuck: string[]; nodeChecks: number }> {
  const drifts = new Map<string, Drift>();
  for (const cluster of clusters) {
    const drift = compareCluster(cluster, byUid.get(cluster.ref.uid) ?? []);
    if (drift && !(options.driftOnly && drift.reason === DRIFT_REASONS.NotConverged)) drifts.set(cluster.ref.name, drift);
  }

  // Node health: converged clusters whose machines all exist may still have NotReady nodes. One listNodes per
  // cluster (P6a); a failing one is no information. The first running machine (listing order) whose node is
  // NotReady (Ready=False or Unknown) names the drift; a machine without a registered node is not judged here.
  let nodeChecks = 0;
  if (options.nodeHealth) {
    const provider = clusters[0] ? deps.providers.get(clusters[0].ref.scope.provider) : undefined;
    const checks = clusters
      .filter((c) => !drifts.has(c.ref.name) && c.converged && !c.paused)
      .map((c) => ({ cluster: c, running: (byUid.get(c.ref.uid) ?? []).filter((m) => m.state === 'running').map((m) => m.name) }))
      .filter((c) => c.running.length > 0);
    await mapLimit(checks, options.perScopeConcurrency, async ({ cluster, running }) => {
      nodeChecks++;
      const nodes = await provider!.listNodes(cluster.ref).catch(() => undefined);
      const notReady = running.find((machine) => {
        const node = nodes?.get(machine);
        return node !== undefined && nodeReadyStatus(node) !== 'True';
      });
      if (notReady) {
        const unknown = nodeReadyStatus(nodes!.get(notReady)!) === 'Unknown';
        drifts.set(cluster.ref.name, { reason: DRIFT_REASONS.NodeNotReady, message: `node of machine ${notReady} ${unknown ? 'stopped reporting (Ready=Unknown)' : 'reports NotReady'}` });
      }
    });
  }

  // Stuck rollouts: only clusters that have not converged cost a machine query.
  const stuck: string[] = [];
  const candidates = clusters.filter((c) => drifts.get(c.ref.name)?.reason === DRIFT_REASONS.NotConverged && rolloutMayBeStuck(c));
  await mapLimit(candidates, options.perScopeConcurrency, async (cluster) => {
    const found = await checkProgressDeadline(deps, cluster, now);
    if (found) {
      stuck.push(cluster.ref.name);
      drifts.set(cluster.ref.name, { reason: DRIFT_REASONS.ProgressDeadline, message: found });
    }
  });

  const byName = new Map(clusters.map((c) => [c.ref.name, c]));
  const changes = await mapLimit([...drifts.entries()], options.perScopeConcurrency, async ([name, drift]): Promise<SweepChange> => {
    const cluster = byName.get(name)!;
    const r = await deps.workflow.startRollout({ cluster: name, generation: cluster.generation, reason: drift.reason });
    return { cluster: name, reason: drift.reason, message: drift.message, started: r.started };
  });
  return { changes, stuck, nodeChecks };
}

/** A page of a scope whose provider is off here: no provider calls; unconverged clusters still get a plan (which reports it). */
async function startDisabled(deps: Deps, clusters: readonly ClusterSummary[], options: SweepOptions): Promise<SweepChange[]> {
  const waiting = clusters.filter((c) => !c.converged && !(c.paused && !c.deleting) && !c.providerUnavailable);
  return mapLimit(waiting, options.perScopeConcurrency, async (c): Promise<SweepChange> => {
    const r = await deps.workflow.startRollout({ cluster: c.ref.name, generation: c.generation, reason: DRIFT_REASONS.NotConverged });
    return { cluster: c.ref.name, reason: DRIFT_REASONS.NotConverged, message: 'provider disabled here: the plan records it', started: r.started };
  });
}

/** Only a rollout the planner reports as progressing (or already reported stuck) can exceed its deadline. */
function rolloutMayBeStuck(cluster: ClusterSummary): boolean {
  const cond = cluster.progress.status.conditions.find((c) => c.type === 'RolloutProgressing');
  return cond !== undefined && !cluster.paused && (cond.status === 'True' || cond.reason === PROGRESS_DEADLINE_REASON);
}

/**
 * Reports a stuck rollout: the EMF metric (every sweep while stuck, so the alarm stays in ALARM), and once per stall
 * the condition and a `RolloutBlocked` event. Returns the message, or undefined when the rollout is progressing.
 */
async function checkProgressDeadline(deps: SweepDeps, summary: ClusterSummary, now: Date): Promise<string | undefined> {
  const cluster = summary.progress;
  const machines = await deps.store.listMachines(cluster.metadata.name, { includeDeleted: true });
  const found = progressDeadline({ cluster, machines, now, deadlineSeconds: deps.settings.progressDeadlineSeconds });
  if (!found) return undefined;
  (deps.metrics ?? stdoutMetricSink)(rolloutDeadlineMetric(cluster.metadata.name, found.since, now));
  if (found.newly) {
    await updateCluster(deps, cluster.metadata.name, (c) => {
      if (c.metadata.uid !== cluster.metadata.uid) return undefined;
      const current = c.status.conditions.find((x) => x.type === 'RolloutProgressing');
      if (current?.status !== 'True') return undefined; // the plan moved on (completed or blocked) meanwhile
      const condition = { type: 'RolloutProgressing', ...found.condition, lastTransitionTime: now.toISOString() };
      return { ...c, status: { ...c.status, conditions: c.status.conditions.map((x) => (x.type === 'RolloutProgressing' ? condition : x)), lastUpdated: now.toISOString() } };
    });
    await deps.store.appendEvents(cluster.metadata.name, [progressDeadlineEvent(cluster, found, now)]);
    deps.log.warn('rollout exceeded its progress deadline', { cluster: cluster.metadata.name, since: found.since });
  }
  return found.condition.message;
}

/**
 * Machines whose cluster uid no cluster of this scope has (a deleted cluster, an old incarnation of a re-created
 * one): terminated after the grace. `unknown` is the listing's index with every swept cluster's uid removed; the
 * event goes to the log of the cluster of the same name, when there is one (`present`).
 */
async function terminateUnknownOrphans(deps: Deps, scope: ProviderScope, present: ReadonlySet<string>, unknown: ReadonlyMap<string, ProviderMachine[]>, now: Date): Promise<{ terminated: number; waiting: number }> {
  const counts = { terminated: 0, waiting: 0 };
  for (const [uid, machines] of unknown) {
    for (const decision of planOrphans({ records: [], machines, now, graceSeconds: deps.settings.orphanGraceSeconds })) {
      if (decision.kind === 'Wait') {
        counts.waiting++;
        continue;
      }
      if (decision.kind !== 'Terminate') continue;
      const pm = decision.machine;
      await deps.providers.get(scope.provider).deleteMachine(scope, pm);
      counts.terminated++;
      const event: NewEvent = orphanTerminatedEvent(pm, now, decision.ageSeconds);
      if (present.has(pm.cluster)) await deps.store.appendEvents(pm.cluster, [event]);
      deps.log.info('terminated an orphan machine', { scope: scopeKey(scope), cluster: pm.cluster, clusterUid: uid, machine: pm.name, providerId: pm.providerId });
    }
  }
  return counts;
}

