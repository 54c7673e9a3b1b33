/**
 * The reconcile sweep (EventBridge schedule; locally a timer every CAPSTAN_RECONCILE_SECONDS): the safety net that
 * finds every cluster whose machines drifted from its records, and starts that cluster's workflow.
 *
 *   store.listClusters (every record read once, pages of 1000) ─► group by account-region (scope)
 *   per scope, at most `concurrency` scopes at once, a failing scope reported and the others going on:
 *     provider.listMachines(scope)            ONE paginated call set (assume the member role once)
 *     group by cluster uid ─► compareCluster  from the record's status counts alone (no machine query)
 *     node health of converged clusters       provider.getNode per running machine (see docs/reconcile.md: cost)
 *     stuck rollouts of unconverged clusters  store.listMachines only for those
 *     machines of unknown cluster uids        terminated after the orphan grace
 *     workflow.startRollout                   only for clusters that differ or have not converged
 *
 * Note: the sweep decides nothing about machines of known clusters: the workflow's plan step observes and
 * repairs them (functions/phases/lib/observe.ts), so the sweep and the event path cannot race it. The sweep writes
 * only the RolloutProgressing condition of a stuck rollout, the events of what it did, and EMF metric lines.
 */
import { getDeps, type Deps } from '../adapters/deps.js';
import { clusterAccount, clusterRegion } from '../domain/cluster.js';
import { ProviderDisabledError } from '../domain/errors.js';
import type { NewEvent } from '../domain/machine.js';
import type { ProviderMachine, ProviderScope } from '../domain/provider.js';
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
  /** Workflow starts and node checks in flight per account-region. @default 16 */
  readonly perScopeConcurrency: number;
  /** Ask the provider for node health of converged clusters (one getNode per running machine). @default true */
  readonly nodeHealth: boolean;
  /**
   * Only start clusters whose machines differ from their records (skip unconverged clusters, stuck checks and
   * unknown orphans): the instance-event fallback, where the sweep does the rest. @default false
   */
  readonly driftOnly?: boolean;
}

export const DEFAULT_SWEEP_OPTIONS: SweepOptions = { concurrency: 8, perScopeConcurrency: 16, nodeHealth: true };

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
  readonly clusters: number;
  readonly providerMachines: number;
  readonly changes: readonly SweepChange[];
  readonly stuck: readonly string[];
  readonly orphans: { readonly terminated: number; readonly waiting: number };
  readonly nodeChecks: number;
}

/** What the sweep did; failures name the account-region and the error, the other scopes still ran. */
export interface SweepReport {
  readonly clusters: number;
  readonly scopes: number;
  /** Workflows started. */
  readonly started: number;
  readonly changes: readonly SweepChange[];
  readonly stuck: readonly string[];
  readonly orphans: { readonly terminated: number; readonly waiting: number };
  readonly nodeChecks: number;
  /** Scopes whose provider is switched off in this hosting (e.g. aws in local mode). */
  readonly disabled: readonly string[];
  readonly failures: readonly { readonly scope: string; readonly error: string }[];
  readonly durationMs: number;
}

function positiveInt(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : fallback;
}

/** Reads the sweep options from its input, ignoring anything else (a scheduled event's fields). */
export function sweepOptions(input: unknown): SweepOptions {
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  return {
    concurrency: positiveInt(raw.concurrency, DEFAULT_SWEEP_OPTIONS.concurrency),
    perScopeConcurrency: positiveInt(raw.perScopeConcurrency, DEFAULT_SWEEP_OPTIONS.perScopeConcurrency),
    nodeHealth: typeof raw.nodeHealth === 'boolean' ? raw.nodeHealth : DEFAULT_SWEEP_OPTIONS.nodeHealth,
  };
}

/** Every cluster record, read once, summarized and grouped by account-region. */
async function clustersByScope(deps: Deps): Promise<Map<string, { scope: ProviderScope; clusters: ClusterSummary[] }>> {
  const scopes = new Map<string, { scope: ProviderScope; clusters: ClusterSummary[] }>();
  let cursor: string | undefined;
  do {
    const page = await deps.store.listClusters({ limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const cluster of page.items) {
      const key = scopeKey({ provider: cluster.spec.infrastructure.provider, account: clusterAccount(cluster.spec), region: clusterRegion(cluster.spec) });
      const entry = scopes.get(key);
      // Decision: one role per account-region; the first cluster's (the default role is the same for all).
      if (entry) entry.clusters.push(summarizeCluster(cluster, entry.scope));
      else {
        const scope = scopeOf(cluster);
        scopes.set(key, { scope, clusters: [summarizeCluster(cluster, scope)] });
      }
    }
    cursor = page.next;
  } while (cursor);
  return scopes;
}

/** Sweeps every account-region that has clusters; see the module comment. */
export async function sweep(input: unknown, deps: SweepDeps): Promise<SweepReport> {
  const started = performance.now();
  const options = sweepOptions(input);
  const scopes = [...(await clustersByScope(deps)).values()];
  const disabled: string[] = [];
  const failures: { scope: string; error: string }[] = [];
  const reports = await mapLimit(scopes, options.concurrency, async ({ scope, clusters }) => {
    try {
      return await sweepScope(deps, scope, clusters, options);
    } catch (error) {
      const key = scopeKey(scope);
      if (error instanceof ProviderDisabledError) {
        disabled.push(key);
        return sweepDisabledScope(deps, scope, clusters, options);
      }
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      failures.push({ scope: key, error: message });
      deps.log.warn('reconcile sweep: account-region failed', { scope: key, clusters: clusters.length, error });
      return undefined;
    }
  });
  const done = reports.filter((r): r is ScopeReport => r !== undefined);
  const changes = done.flatMap((r) => r.changes);
  const report: SweepReport = {
    clusters: scopes.reduce((n, s) => n + s.clusters.length, 0),
    scopes: scopes.length,
    started: changes.filter((c) => c.started).length,
    changes,
    stuck: done.flatMap((r) => r.stuck),
    orphans: { terminated: done.reduce((n, r) => n + r.orphans.terminated, 0), waiting: done.reduce((n, r) => n + r.orphans.waiting, 0) },
    nodeChecks: done.reduce((n, r) => n + r.nodeChecks, 0),
    disabled: disabled.sort(),
    failures: failures.sort((a, b) => a.scope.localeCompare(b.scope)),
    durationMs: Math.round(performance.now() - started),
  };
  if (changes.length || failures.length || report.stuck.length || report.orphans.terminated) {
    deps.log.info('reconcile sweep', { clusters: report.clusters, scopes: report.scopes, changed: changes.length, started: report.started, stuck: report.stuck.length, orphansTerminated: report.orphans.terminated, failures: failures.length, durationMs: report.durationMs });
  }
  return report;
}

/**
 * Sweeps one account-region: one provider listing, compare, node health, stuck rollouts, unknown orphans, starts.
 * Throws when the provider listing fails (the caller reports the scope as failed).
 */
export async function sweepScope(
  deps: SweepDeps,
  scope: ProviderScope,
  clusters: readonly ClusterSummary[],
  options: SweepOptions = DEFAULT_SWEEP_OPTIONS,
  alreadyListed?: readonly ProviderMachine[],
): Promise<ScopeReport> {
  const provider = deps.providers.get(scope.provider);
  const listed = alreadyListed ?? (await provider.listMachines(scope));
  const now = deps.clock.now();
  const byUid = groupByClusterUid(listed);
  const drifts = new Map<string, Drift>();
  for (const cluster of clusters) {
    const drift = compareCluster(cluster, byUid.get(cluster.ref.uid) ?? []);
    if (drift && !(options.driftOnly && drift.reason === DRIFT_REASONS.NotConverged)) drifts.set(cluster.ref.name, drift);
  }

  // Node health: converged clusters whose machines all exist may still have NotReady nodes.
  let nodeChecks = 0;
  if (options.nodeHealth) {
    const checks = clusters
      .filter((c) => !drifts.has(c.ref.name) && c.converged && !c.paused)
      .flatMap((c) => (byUid.get(c.ref.uid) ?? []).filter((m) => m.state === 'running').map((m) => ({ cluster: c, machine: m.name })));
    await mapLimit(checks, options.perScopeConcurrency, async ({ cluster, machine }) => {
      if (drifts.has(cluster.ref.name)) return; // one NotReady node is enough to start the cluster
      nodeChecks++;
      const node = await provider.getNode(cluster.ref, machine).catch(() => undefined);
      if (node && !node.ready && !drifts.has(cluster.ref.name)) {
        drifts.set(cluster.ref.name, { reason: DRIFT_REASONS.NodeNotReady, message: `node of machine ${machine} reports NotReady` });
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

  const orphans = options.driftOnly ? { terminated: 0, waiting: 0 } : await terminateUnknownOrphans(deps, scope, clusters, byUid, now);

  const byName = new Map(clusters.map((c) => [c.ref.name, c]));
  const changes = await mapLimit([...drifts.entries()], options.perScopeConcurrency, async ([name, drift]): Promise<SweepChange> => {
    const cluster = byName.get(name)!;
    const r = await deps.workflow.startRollout({ cluster: name, generation: cluster.generation, reason: drift.reason });
    return { cluster: name, reason: drift.reason, message: drift.message, started: r.started };
  });
  return { scope: scopeKey(scope), clusters: clusters.length, providerMachines: listed.length, changes, stuck: stuck.sort(), orphans, nodeChecks };
}

/** A scope whose provider is off here: no provider calls; unconverged clusters still get a plan (which reports it). */
async function sweepDisabledScope(deps: Deps, scope: ProviderScope, clusters: readonly ClusterSummary[], options: SweepOptions): Promise<ScopeReport> {
  const waiting = clusters.filter((c) => !c.converged && !(c.paused && !c.deleting) && !c.providerUnavailable);
  const changes = await mapLimit(waiting, options.perScopeConcurrency, async (c): Promise<SweepChange> => {
    const r = await deps.workflow.startRollout({ cluster: c.ref.name, generation: c.generation, reason: DRIFT_REASONS.NotConverged });
    return { cluster: c.ref.name, reason: DRIFT_REASONS.NotConverged, message: 'provider disabled here: the plan records it', started: r.started };
  });
  return { scope: scopeKey(scope), clusters: clusters.length, providerMachines: 0, changes, stuck: [], orphans: { terminated: 0, waiting: 0 }, nodeChecks: 0 };
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
 * one): terminated after the grace. The event goes to the log of the cluster of the same name, when there is one.
 */
async function terminateUnknownOrphans(deps: Deps, scope: ProviderScope, clusters: readonly ClusterSummary[], byUid: ReadonlyMap<string, ProviderMachine[]>, now: Date): Promise<{ terminated: number; waiting: number }> {
  const known = new Set(clusters.map((c) => c.ref.uid));
  const names = new Set(clusters.map((c) => c.ref.name));
  const counts = { terminated: 0, waiting: 0 };
  for (const [uid, machines] of byUid) {
    if (known.has(uid)) continue;
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
      if (names.has(pm.cluster)) await deps.store.appendEvents(pm.cluster, [event]);
      deps.log.info('terminated an orphan machine', { scope: scopeKey(scope), cluster: pm.cluster, clusterUid: uid, machine: pm.name, providerId: pm.providerId });
    }
  }
  return counts;
}

/** Lambda entry (EventBridge schedule). */
export const handler = async (input: unknown): Promise<SweepReport> => sweep(input, await getDeps());
