/**
 * The read → change → conditional write routes of one cluster: PATCH (a merge patch on the stored document) and
 * DELETE (the deletion mark).
 *
 * Why its own file: both re-read and re-apply on a lost race when the caller sent no `If-Match` (never a lost
 * update, never a 412 the caller could not have known about), and answer the caller's own 412 when they did; that
 * engine is the same for both and is not the route's business (functions/api/clusters.ts).
 */
import type { Deps } from '../../adapters/deps.js';
import type { Cluster } from '../../domain/cluster.js';
import { PreconditionFailedError } from '../../domain/errors.js';
import type { Principal } from '../../domain/ports.js';
import { mergePatch, parseClusterDocument } from '../../domain/spec/index.js';
import { visibleCluster } from './access.js';
import { retryLostRaces, staleIfMatch, writeClusterDocument, type WriteResult } from './cluster-writes.js';

/** Options of a change: the caller's `If-Match`, and whether it is a dry run. */
export interface ChangeOptions {
  /** `If-Match`: the resourceVersion the caller last saw; without it a lost race is retried. */
  readonly ifMatch?: string;
  /** PATCH only: validate and plan, write nothing; a deletion mark ignores it. @default false */
  readonly dryRun?: boolean;
}

/** Runs `once` a single time with the caller's `If-Match`, or until it wins a race without one. */
function changeCluster<T>(name: string, options: ChangeOptions, once: () => Promise<T | undefined>): Promise<T> {
  return options.ifMatch !== undefined ? once().then((r) => r!) : retryLostRaces(`cluster ${JSON.stringify(name)}`, once);
}

/**
 * Applies an RFC 7386 merge patch to the cluster's document (apiVersion, kind, metadata labels/annotations, spec)
 * and writes the result as PUT would (`writeClusterDocument`), conditional on the version the patch was applied to.
 */
export function patchClusterDocument(deps: Deps, principal: Principal | undefined, name: string, patch: unknown, options: ChangeOptions = {}): Promise<WriteResult> {
  return changeCluster(name, options, async () => {
    const current = visibleCluster(principal, name, await deps.store.getCluster(name));
    const { metadata } = current;
    const base = {
      apiVersion: current.apiVersion,
      kind: current.kind,
      metadata: { name: metadata.name, ...(metadata.labels ? { labels: metadata.labels } : {}), ...(metadata.annotations ? { annotations: metadata.annotations } : {}) },
      spec: current.spec,
    };
    const doc = parseClusterDocument(mergePatch(base, patch));
    try {
      return await writeClusterDocument(deps, principal, doc, { ifMatch: options.ifMatch ?? metadata.resourceVersion, dryRun: options.dryRun ?? false });
    } catch (error) {
      if (options.ifMatch === undefined && error instanceof PreconditionFailedError) return undefined;
      throw error;
    }
  });
}

/**
 * Marks the cluster for deletion (`deletionTimestamp`, phase Deleting) and appends `ClusterDeleting` once; a cluster
 * already marked is returned as it is. Machines go first and the record last: the rollout does that.
 */
export function markClusterDeleting(deps: Deps, principal: Principal | undefined, name: string, options: ChangeOptions = {}): Promise<Cluster> {
  return changeCluster(name, options, async () => {
    const current = visibleCluster(principal, name, await deps.store.getCluster(name));
    if (current.metadata.deletionTimestamp) return current;
    const now = deps.clock.now();
    const next: Cluster = { ...current, metadata: { ...current.metadata, deletionTimestamp: now.toISOString() }, status: { ...current.status, phase: 'Deleting' } };
    let updated: Cluster;
    try {
      updated = await deps.store.updateCluster(next, options.ifMatch ?? current.metadata.resourceVersion);
    } catch (error) {
      if (options.ifMatch === undefined && error instanceof PreconditionFailedError) return undefined;
      if (error instanceof PreconditionFailedError) throw staleIfMatch(name, options.ifMatch!);
      throw error;
    }
    await deps.store.appendEvents(name, [{ id: `ClusterDeleting/${updated.metadata.uid}`, type: 'ClusterDeleting', time: now.toISOString(), message: 'deletion requested: workers, then control plane, then infrastructure' }]);
    return updated;
  });
}
