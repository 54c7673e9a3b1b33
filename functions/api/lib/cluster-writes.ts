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
import { pauseChangedEvent, specAcceptedEvent } from '../../domain/cluster-events.js';
import { ConflictError, PreconditionFailedError, ValidationError, type Issue } from '../../domain/errors.js';
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

/** How often a write without `If-Match` re-reads and retries after losing a race (to the workflow's status writes). */
export const MAX_WRITE_ATTEMPTS = 8;

/**
 * Runs `attempt` until it returns a value; `undefined` means it lost a race to another writer and should re-read.
 * Note: only writes WITHOUT a caller `If-Match` come here: a caller who sent one gets their 412.
 */
export async function retryLostRaces<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  for (let i = 1; i <= MAX_WRITE_ATTEMPTS; i++) {
    const result = await attempt();
    if (result !== undefined) return result;
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 10 * i)));
  }
  throw new ConflictError(`${what}: the cluster kept changing during ${MAX_WRITE_ATTEMPTS} attempts; retry`);
}

/**
 * Creates or updates one cluster from a validated document.
 *
 * Without `ifMatch`, a write that loses a race (a concurrent create of the same name, or a status write by the
 * rollout between our read and our conditional write) re-reads and tries again, so a caller who did not ask for
 * optimistic concurrency never sees a 412 for a change they could not have known about.
 */
export async function writeClusterDocument(deps: Deps, principal: Principal | undefined, doc: ClusterDocument, options: WriteOptions = {}): Promise<WriteResult> {
  if (options.ifMatch !== undefined) return (await writeOnce(deps, principal, doc, options))!;
  return retryLostRaces(`cluster ${JSON.stringify(doc.metadata.name)}`, () => writeOnce(deps, principal, doc, options));
}

/** The 412 a caller gets when their `If-Match` lost the race at the conditional write itself. */
export function staleIfMatch(name: string, ifMatch: string): PreconditionFailedError {
  return new PreconditionFailedError(`If-Match: resourceVersion ${ifMatch} is stale; cluster ${JSON.stringify(name)} changed meanwhile`);
}

/** True when a conditional write lost to another writer (stale version, or a create of a name that now exists). */
function isRaceLost(error: unknown): boolean {
  return error instanceof PreconditionFailedError || error instanceof ConflictError;
}

/** One read-check-write pass; undefined when a conditional write lost a race and no `If-Match` was given. */
async function writeOnce(deps: Deps, principal: Principal | undefined, doc: ClusterDocument, options: WriteOptions): Promise<WriteResult | undefined> {
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
    let created: Cluster;
    try {
      created = await deps.store.createCluster(draft);
    } catch (error) {
      if (options.ifMatch === undefined && isRaceLost(error)) return undefined;
      throw error;
    }
    await deps.store.appendEvents(created.metadata.name, [specAcceptedEvent(created, now)]);
    await startRollout(deps, created, 'created');
    return { action: 'created', cluster: created };
  }

  if (existing.metadata.deletionTimestamp) throw new ConflictError(`metadata.name: cluster ${JSON.stringify(existing.metadata.name)} is being deleted; wait until it is gone`);
  if (options.ifMatch !== undefined && options.ifMatch !== existing.metadata.resourceVersion) {
    throw new PreconditionFailedError(`If-Match: resourceVersion ${options.ifMatch} is stale; the cluster is at ${existing.metadata.resourceVersion}`);
  }
  const issues = updateIssues(existing, doc);
  if (issues.length) throw new ValidationError(issues, { unprocessable: true });

  const specChanged = canonicalSpecJson(existing.spec) !== canonicalSpecJson(doc.spec);
  const metaChanged = !sameMap(existing.metadata.labels, doc.metadata.labels) || !sameMap(existing.metadata.annotations, doc.metadata.annotations);
  if (!specChanged && !metaChanged) {
    if (!options.dryRun) await completeAcceptance(deps, existing);
    return { action: 'unchanged', cluster: existing };
  }

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
  let updated: Cluster;
  try {
    updated = await deps.store.updateCluster(next, options.ifMatch ?? existing.metadata.resourceVersion);
  } catch (error) {
    if (options.ifMatch === undefined && isRaceLost(error)) return undefined;
    if (error instanceof PreconditionFailedError && options.ifMatch !== undefined) throw staleIfMatch(doc.metadata.name, options.ifMatch);
    throw error;
  }
  if (specChanged) {
    const accepted = { metadata: { ...updated.metadata, generation }, spec: doc.spec };
    const paused = pauseChangedEvent(accepted, now, existing.spec);
    await deps.store.appendEvents(updated.metadata.name, [specAcceptedEvent(accepted, now, existing.spec), ...(paused ? [paused] : [])]);
    await startRollout(deps, updated, 'updated');
  }
  return { action: 'updated', cluster: updated };
}

/**
 * What a failed earlier attempt may have left undone when the caller re-sends the same document (now "unchanged"):
 * the rollout start. Only for a cluster no plan has observed at this generation yet (a converged cluster costs
 * nothing extra); the acceptance event is made sure of by the plan's first observation of the generation.
 */
async function completeAcceptance(deps: Deps, cluster: Cluster): Promise<void> {
  if (cluster.status.observedGeneration !== cluster.metadata.generation) await startRollout(deps, cluster, 'retry');
}

/** Starts (or nudges) the cluster's rollout. A failure here is logged, not surfaced: the sweep restarts it. */
export async function startRollout(deps: Deps, cluster: Cluster, reason: string): Promise<void> {
  try {
    await deps.workflow.startRollout({ cluster: cluster.metadata.name, generation: cluster.metadata.generation, reason });
  } catch (error) {
    deps.log.warn('could not start rollout; the reconcile sweep will retry', { cluster: cluster.metadata.name, error });
  }
}
