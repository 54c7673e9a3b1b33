/**
 * The reconcile sweep (EventBridge schedule; locally a timer every CAPSTAN_RECONCILE_SECONDS): the safety net that
 * finds every cluster whose machines drifted from its records, and starts that cluster's workflow.
 *
 *   store.listScopes (the scope registry: every account-region that ever had a cluster)
 *   per scope, at most `concurrency` scopes at once, a failing scope reported and the others going on:
 *     store.listClustersByScope page 1        the first cluster names the member role
 *     provider.listMachines(scope)            ONE paginated call set (assume the member role once), held for the scope
 *     then page by page (`pageSize` records, each read once, dropped after its page):
 *       compareCluster                        status counts and name fingerprints (no machine query)
 *       node health of converged clusters     provider.listNodes per cluster (see docs/reconcile.md: cost)
 *       stuck rollouts of unconverged ones    store.listMachines only for those
 *       workflow.startRollout                 only for clusters that differ or have not converged
 *     machines of cluster uids no page had    terminated after the orphan grace (also in scopes with no cluster left)
 *
 * Memory: per scope in flight, one page of cluster records plus that scope's provider listing (bounded by the
 * machines of one account-region), never the fleet.
 *
 * Note: the sweep decides nothing about machines of known clusters: the workflow's plan step observes and
 * repairs them (functions/phases/lib/observe.ts), so the sweep and the event path cannot race it. The sweep writes
 * only the RolloutProgressing condition of a stuck rollout, the events of what it did, registry backfills, and EMF
 * metric lines.
 */
import { getDeps, type Deps } from '../adapters/deps.js';
import { clusterAccount, clusterRegion, type Cluster } from '../domain/cluster.js';
import { ProviderDisabledError } from '../domain/errors.js';
import type { NewEvent } from '../domain/machine.js';
import type { ProviderScopeKey, Store } from '../domain/ports.js';
import { nodeReadyStatus, type ProviderMachine, type ProviderScope } from '../domain/provider.js';
import { scopeOf, updateCluster } from '../phases/lib/phase.js';
import { compareCluster, DRIFT_REASONS, groupByClusterUid, scopeKey, summarizeCluster, type ClusterSummary, type Drift, type DriftReason } from './compare.js';
import { mapLimit } from './limit.js';
import { rolloutDeadlineMetric, stdoutMetricSink, type MetricSink } from './metrics.js';
import { orphanTerminatedEvent, planOrphans } from './orphans.js';
import { PROGRESS_DEADLINE_REASON, progressDeadline, progressDeadlineEvent } from './progress.js';

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

function positiveInt(value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= max ? value : fallback;
}

/** Reads the sweep options from its input, ignoring anything else (a scheduled event's fields). */
export function sweepOptions(input: unknown): SweepOptions {
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  return {
    concurrency: positiveInt(raw.concurrency, DEFAULT_SWEEP_OPTIONS.concurrency),
    perScopeConcurrency: positiveInt(raw.perScopeConcurrency, DEFAULT_SWEEP_OPTIONS.perScopeConcurrency),
    nodeHealth: typeof raw.nodeHealth === 'boolean' ? raw.nodeHealth : DEFAULT_SWEEP_OPTIONS.nodeHealth,
    pageSize: positiveInt(raw.pageSize, DEFAULT_SWEEP_OPTIONS.pageSize, 1000),
    backfillScopes: typeof raw.backfillScopes === 'boolean' ? raw.backfillScopes : DEFAULT_SWEEP_OPTIONS.backfillScopes,
  };
}

/** The registry key of a cluster's scope (with its member role, for a registration). */
export function scopeKeyOf(cluster: Pick<Cluster, 'spec'>): ProviderScopeKey {
  const infra = cluster.spec.infrastructure;
  return { provider: infra.provider, account: clusterAccount(cluster.spec), region: clusterRegion(cluster.spec), ...(infra.provider === 'aws' && infra.roleArn ? { roleArn: infra.roleArn } : {}) };
}

/**
 * Every scope that has a cluster record, from one pass over `listClusters` in pages of 1,000 that keeps only the
 * scope keys (memory: the account-regions). The first cluster of a scope names its role.
 */
export async function discoverScopes(store: Pick<Store, 'listClusters'>): Promise<ProviderScopeKey[]> {
  const found = new Map<string, ProviderScopeKey>();
  let cursor: string | undefined;
  do {
    const page = await store.listClusters({ limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const cluster of page.items) {
      const key = scopeKeyOf(cluster);
      if (!found.has(scopeKey(key))) found.set(scopeKey(key), key);
    }
    cursor = page.next;
  } while (cursor);
  return [...found.values()];
}

/**
 * The scopes to sweep: the registry. When the registry is empty (a table from before it) or `backfillScopes` asks,
 * the scopes of every cluster record are registered first (`discoverScopes`, then `registerScope` for the missing).
 * A store without a registry (a test double) gets the discovered scopes, registering nothing.
 */
export async function scopesToSweep(store: Store, options: Pick<SweepOptions, 'backfillScopes'>): Promise<{ scopes: ProviderScopeKey[]; backfilled: number }> {
  if (!store.listScopes || !store.registerScope) return { scopes: await discoverScopes(store), backfilled: 0 };
  const registered = await store.listScopes();
  if (registered.length > 0 && !options.backfillScopes) return { scopes: registered, backfilled: 0 };
  const known = new Set(registered.map(scopeKey));
  const missing = (await discoverScopes(store)).filter((s) => !known.has(scopeKey(s)));
  for (const scope of missing) await store.registerScope(scope);
  return { scopes: [...registered, ...missing], backfilled: missing.length };
}

/** Sweeps every registered account-region; see the module comment. */
export async function sweep(input: unknown, deps: SweepDeps): Promise<SweepReport> {
  const started = performance.now();
  const options = sweepOptions(input);
  const { scopes, backfilled } = await scopesToSweep(deps.store, options);
  if (backfilled) deps.log.info('reconcile sweep: registered scopes found on cluster records', { backfilled });
  const failures: { scope: string; error: string }[] = [];
  const reports = await mapLimit(scopes, options.concurrency, async (key) => {
    try {
      return await sweepScope(deps, key, options);
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      failures.push({ scope: scopeKey(key), error: message });
      deps.log.warn('reconcile sweep: account-region failed', { scope: scopeKey(key), error });
      return undefined;
    }
  });
  const done: ScopeReport[] = [];
  for (const r of reports) {
    if (!r) continue;
    done.push(r);
    if (r.failure) {
      failures.push({ scope: r.scope, error: r.failure });
      deps.log.warn('reconcile sweep: account-region failed', { scope: r.scope, error: r.failure });
    }
  }
  const changes = done.flatMap((r) => r.changes);
  const report: SweepReport = {
    clusters: done.reduce((n, r) => n + r.clusters, 0),
    scopes: scopes.length,
    backfilledScopes: backfilled,
    started: changes.filter((c) => c.started).length,
    changes,
    stuck: done.flatMap((r) => r.stuck),
    orphans: { terminated: done.reduce((n, r) => n + r.orphans.terminated, 0), waiting: done.reduce((n, r) => n + r.orphans.waiting, 0) },
    nodeChecks: done.reduce((n, r) => n + r.nodeChecks, 0),
    disabled: done.filter((r) => r.disabled).map((r) => r.scope).sort(),
    failures: failures.sort((a, b) => a.scope.localeCompare(b.scope)),
    durationMs: Math.round(performance.now() - started),
  };
  if (changes.length || failures.length || report.stuck.length || report.orphans.terminated) {
    deps.log.info('reconcile sweep', { clusters: report.clusters, scopes: report.scopes, changed: changes.length, started: report.started, stuck: report.stuck.length, orphansTerminated: report.orphans.terminated, failures: failures.length, durationMs: report.durationMs });
  }
  return report;
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
      scope = first ? scopeOf(first) : { provider: key.provider, account: key.account, region: key.region, ...(key.roleArn ? { roleArn: key.roleArn } : {}) };
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

/** Lambda entry (EventBridge schedule). */
export const handler = async (input: unknown): Promise<SweepReport> => sweep(input, await getDeps());
