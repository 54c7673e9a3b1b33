/**
 * Accepting a cluster document: the one path shared by PUT, PATCH and POST /v1/apply.
 *
 * Order matters for "bad input changes nothing": everything is validated before the first write; then the cluster
 * record is written (conditionally), then its event, then the rollout is started. A crash after the record write
 * leaves a cluster whose generation is ahead of its observedGeneration, which the sweep restarts.
 */
import { randomUUID } from 'node:crypto';
import type { Deps } from '../../adapters/deps.js';
import { clusterAccount, type Cluster, type ClusterDocument } from '../../domain/cluster.js';
import { ConflictError, PreconditionFailedError, ValidationError, type Issue } from '../../domain/errors.js';
import type { NewEvent } from '../../domain/machine.js';
import type { Principal } from '../../domain/ports.js';
import { canonicalSpecJson, validateClusterUpdate } from '../../domain/spec/index.js';
import { initialStatus } from '../../domain/status.js';
import { assertMayTarget, mayAccess } from './access.js';
import { dryRunPlan, type DryRunPlan } from './dry-run.js';

export type WriteAction = 'created' | 'updated' | 'unchanged';

export interface WriteResult {
  readonly action: WriteAction;
  readonly cluster: Cluster;
  /** Present on dry runs. */
  readonly plan?: DryRunPlan;
}

export interface WriteOptions {
  /** `If-Match`: the resourceVersion the caller last saw. */
  readonly ifMatch?: string;
  readonly dryRun?: boolean;
}

/** Message of a provider that is switched off in this hosting, or undefined when it is available. */
export function providerDisabledMessage(deps: Deps, cluster: Pick<Cluster, 'spec'>): string | undefined {
  try {
    deps.providers.get(cluster.spec.infrastructure.provider);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function sameMap(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  return JSON.stringify(Object.entries(a ?? {}).sort()) === JSON.stringify(Object.entries(b ?? {}).sort());
}

/** Checks an update of `existing` to `doc` without writing; returns every issue. */
export function updateIssues(existing: Cluster, doc: ClusterDocument): Issue[] {
  return validateClusterUpdate(existing.spec, doc.spec);
}

/** Creates or updates one cluster from a validated document. */
export async function writeClusterDocument(deps: Deps, principal: Principal | undefined, doc: ClusterDocument, options: WriteOptions = {}): Promise<WriteResult> {
  assertMayTarget(principal, doc.spec);
  const now = deps.clock.now();
  const existing = await deps.store.getCluster(doc.metadata.name);
  if (existing && !mayAccess(principal, clusterAccount(existing.spec))) {
    throw new ConflictError(`metadata.name: cluster name ${JSON.stringify(doc.metadata.name)} is not available`);
  }

  if (!existing) {
    if (options.ifMatch !== undefined) throw new PreconditionFailedError(`If-Match: cluster ${JSON.stringify(doc.metadata.name)} does not exist`);
    const base = {
      apiVersion: doc.apiVersion,
      kind: doc.kind,
      metadata: {
        name: doc.metadata.name,
        ...(doc.metadata.labels ? { labels: doc.metadata.labels } : {}),
        ...(doc.metadata.annotations ? { annotations: doc.metadata.annotations } : {}),
        uid: randomUUID(),
        generation: 1,
        resourceVersion: '0',
        creationTimestamp: now.toISOString(),
      },
      spec: doc.spec,
    };
    const draft: Cluster = { ...base, status: initialStatus(base, now, providerDisabledMessage(deps, base)) };
    if (options.dryRun) return { action: 'created', cluster: draft, plan: await dryRunPlan(deps, draft, []) };
    const created = await deps.store.createCluster(draft);
    await deps.store.appendEvents(created.metadata.name, [
      { id: `ClusterCreated/${created.metadata.uid}`, type: 'ClusterCreated', time: now.toISOString(), message: `cluster created at ${doc.spec.version}`, data: { generation: 1 } },
    ]);
    await startRollout(deps, created, 'created');
    return { action: 'created', cluster: created };
  }

  if (existing.metadata.deletionTimestamp) throw new ConflictError(`cluster ${JSON.stringify(existing.metadata.name)} is being deleted`);
  if (options.ifMatch !== undefined && options.ifMatch !== existing.metadata.resourceVersion) {
    throw new PreconditionFailedError(`If-Match: resourceVersion ${options.ifMatch} is stale; the cluster is at ${existing.metadata.resourceVersion}`);
  }
  const issues = updateIssues(existing, doc);
  if (issues.length) throw new ValidationError(issues, { unprocessable: true });

  const specChanged = canonicalSpecJson(existing.spec) !== canonicalSpecJson(doc.spec);
  const metaChanged = !sameMap(existing.metadata.labels, doc.metadata.labels) || !sameMap(existing.metadata.annotations, doc.metadata.annotations);
  if (!specChanged && !metaChanged) return { action: 'unchanged', cluster: existing };

  const generation = specChanged ? existing.metadata.generation + 1 : existing.metadata.generation;
  const { labels: _l, annotations: _a, ...keptMetadata } = existing.metadata;
  const next: Cluster = {
    ...existing,
    metadata: {
      ...keptMetadata,
      ...(doc.metadata.labels ? { labels: doc.metadata.labels } : {}),
      ...(doc.metadata.annotations ? { annotations: doc.metadata.annotations } : {}),
      generation,
    },
    spec: doc.spec,
    status: specChanged && existing.status.phase === 'Ready' ? { ...existing.status, phase: 'Updating' } : existing.status,
  };
  if (options.dryRun) {
    const machines = await deps.store.listMachines(existing.metadata.name, { includeDeleted: true });
    return { action: 'updated', cluster: next, plan: await dryRunPlan(deps, next, machines) };
  }
  const updated = await deps.store.updateCluster(next, options.ifMatch ?? existing.metadata.resourceVersion);
  if (specChanged) {
    const events: NewEvent[] = [
      { id: `ClusterUpdated/${updated.metadata.uid}/${generation}`, type: 'ClusterUpdated', time: now.toISOString(), message: describeChange(existing, doc), data: { generation } },
    ];
    if (existing.spec.paused !== doc.spec.paused) {
      events.push({
        id: `${doc.spec.paused ? 'ClusterPaused' : 'ClusterResumed'}/${updated.metadata.uid}/${generation}`,
        type: doc.spec.paused ? 'ClusterPaused' : 'ClusterResumed',
        time: now.toISOString(),
        message: doc.spec.paused ? 'rollout paused by spec.paused' : 'rollout resumed',
      });
    }
    await deps.store.appendEvents(updated.metadata.name, events);
    await startRollout(deps, updated, 'updated');
  }
  return { action: 'updated', cluster: updated };
}

function describeChange(before: Cluster, after: ClusterDocument): string {
  const parts: string[] = [];
  if (before.spec.version !== after.spec.version) parts.push(`version ${before.spec.version} → ${after.spec.version}`);
  if (before.spec.controlPlane.replicas !== after.spec.controlPlane.replicas) parts.push(`control plane replicas ${before.spec.controlPlane.replicas} → ${after.spec.controlPlane.replicas}`);
  for (const pool of after.spec.workers) {
    const old = before.spec.workers.find((p) => p.name === pool.name);
    if (!old) parts.push(`pool ${pool.name} added`);
    else if (old.replicas !== pool.replicas) parts.push(`${pool.name} replicas ${old.replicas} → ${pool.replicas}`);
  }
  for (const pool of before.spec.workers) if (!after.spec.workers.some((p) => p.name === pool.name)) parts.push(`pool ${pool.name} removed`);
  if (before.spec.paused !== after.spec.paused) parts.push(after.spec.paused ? 'paused' : 'resumed');
  return parts.length ? `spec changed: ${parts.join('; ')}` : 'spec changed';
}

/** Starts (or nudges) the cluster's rollout. A failure here is logged, not surfaced: the sweep restarts it. */
export async function startRollout(deps: Deps, cluster: Cluster, reason: string): Promise<void> {
  try {
    await deps.workflow.startRollout({ cluster: cluster.metadata.name, generation: cluster.metadata.generation, reason });
  } catch (error) {
    deps.log.warn('could not start rollout; the reconcile sweep will retry', { cluster: cluster.metadata.name, error });
  }
}
