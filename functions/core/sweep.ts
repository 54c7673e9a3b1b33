/**
 * The whole reconcile sweep over every registered account-region (see functions/reconcile/sweep.ts): the scopes to
 * sweep (the registry, backfilled from cluster records when empty), each scope swept by ./sweep-scope.ts with a
 * bounded concurrency, a failing scope reported while the others go on.
 */
import type { ProviderScopeKey, Store } from '../domain/ports.js';
import { scopeKey } from '../domain/reconcile/compare.js';
import { clusterScope } from '../domain/cluster.js';
import { mapLimit } from './map-limit.js';
import { sweepScope, type ScopeReport, type SweepChange, type SweepDeps, type SweepOptions, type SweepReport } from './sweep-scope.js';

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
      const key = clusterScope(cluster.spec);
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
export async function sweepAll(options: SweepOptions, deps: SweepDeps): Promise<SweepReport> {
  const started = performance.now();
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

