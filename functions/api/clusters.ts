/**
 * Cluster routes: GET /v1/clusters, GET|PUT|PATCH|DELETE /v1/clusters/{name}.
 */
import type { Deps } from '../adapters/deps.js';
import type { Cluster } from '../domain/cluster.js';
import { PreconditionFailedError, ValidationError } from '../domain/errors.js';
import { mergePatch, parseClusterDocument } from '../domain/spec/index.js';
import { httpHandler, type ApiRequest, type ApiResponse } from '../middleware/http.js';
import { accountFilter, visibleCluster } from './lib/access.js';
import { ifMatch, isDryRun, PATCH_TYPES, pathParameter, singleDocument, stripServerFields } from './lib/body.js';
import { retryLostRaces, staleIfMatch, startRollout, writeClusterDocument, type WriteResult } from './lib/cluster-writes.js';

const NAME_LIMIT = 100;

function etag(cluster: Cluster): Record<string, string> {
  return { etag: `"${cluster.metadata.resourceVersion}"` };
}

function pathName(request: ApiRequest): string {
  return pathParameter(request, 'name');
}

function writeResponse(result: WriteResult, dryRun: boolean): ApiResponse {
  if (dryRun) return { status: 200, body: { dryRun: true, action: result.action, cluster: result.cluster, plan: result.plan } };
  return { status: result.action === 'created' ? 201 : 200, body: result.cluster, headers: etag(result.cluster) };
}

function checkName(name: string, doc: unknown): void {
  const docName = (doc as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
  if (docName !== undefined && docName !== name) {
    throw new ValidationError([{ path: 'metadata.name', message: `must match the name in the path (${JSON.stringify(name)}), got ${JSON.stringify(docName)}` }]);
  }
}

/** Lists the clusters the caller may see, paginated. */
export async function listClusters(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  const limitText = request.query.limit;
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > NAME_LIMIT)) {
    throw new ValidationError([{ path: 'query.limit', message: `must be an integer from 1 to ${NAME_LIMIT}, got ${JSON.stringify(limitText)}` }]);
  }
  const accounts = accountFilter(request.principal);
  const page = await deps.store.listClusters({ ...(accounts ? { accounts } : {}), ...(limit ? { limit } : {}), ...(request.query.cursor ? { cursor: request.query.cursor } : {}) });
  return { status: 200, body: { items: page.items, ...(page.next ? { next: page.next } : {}) } };
}

/** Reads one cluster. */
export async function getCluster(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  const name = pathName(request);
  const cluster = visibleCluster(request.principal, name, await deps.store.getCluster(name));
  return { status: 200, body: cluster, headers: etag(cluster) };
}

/** Creates (201) or replaces (200) a cluster; an unchanged spec is a no-op. */
export async function putCluster(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  const name = pathName(request);
  const raw = stripServerFields(singleDocument(request));
  checkName(name, raw);
  const doc = parseClusterDocument(raw);
  const dryRun = isDryRun(request);
  const match = ifMatch(request);
  return writeResponse(await writeClusterDocument(deps, request.principal, doc, { ...(match !== undefined ? { ifMatch: match } : {}), dryRun }), dryRun);
}

/**
 * Applies an RFC 7386 merge patch to the cluster's document (apiVersion, kind, metadata labels/annotations, spec).
 * Without `If-Match` the patch is re-applied to a fresh read when the record changed meanwhile (never a lost update).
 */
export async function patchCluster(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  const name = pathName(request);
  const patch = singleDocument(request, PATCH_TYPES);
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new ValidationError([{ path: 'body', message: 'a merge patch must be a JSON object' }]);
  checkName(name, patch);
  const dryRun = isDryRun(request);
  const callerMatch = ifMatch(request);
  const once = async (): Promise<WriteResult | undefined> => {
    const current = visibleCluster(request.principal, name, await deps.store.getCluster(name));
    const base = {
      apiVersion: current.apiVersion,
      kind: current.kind,
      metadata: { name: current.metadata.name, ...(current.metadata.labels ? { labels: current.metadata.labels } : {}), ...(current.metadata.annotations ? { annotations: current.metadata.annotations } : {}) },
      spec: current.spec,
    };
    const doc = parseClusterDocument(mergePatch(base, patch));
    try {
      return await writeClusterDocument(deps, request.principal, doc, { ifMatch: callerMatch ?? current.metadata.resourceVersion, dryRun });
    } catch (error) {
      if (callerMatch === undefined && error instanceof PreconditionFailedError) return undefined;
      throw error;
    }
  };
  const result = callerMatch !== undefined ? (await once())! : await retryLostRaces(`cluster ${JSON.stringify(name)}`, once);
  return writeResponse(result, dryRun);
}

/** Marks the cluster for deletion (202); machines go first, the record goes last. Idempotent. */
export async function deleteCluster(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  const name = pathName(request);
  const callerMatch = ifMatch(request);
  const once = async (): Promise<Cluster | undefined> => {
    const current = visibleCluster(request.principal, name, await deps.store.getCluster(name));
    if (current.metadata.deletionTimestamp) return current;
    const now = deps.clock.now();
    const next: Cluster = { ...current, metadata: { ...current.metadata, deletionTimestamp: now.toISOString() }, status: { ...current.status, phase: 'Deleting' } };
    let updated: Cluster;
    try {
      updated = await deps.store.updateCluster(next, callerMatch ?? current.metadata.resourceVersion);
    } catch (error) {
      if (callerMatch === undefined && error instanceof PreconditionFailedError) return undefined;
      if (error instanceof PreconditionFailedError) throw staleIfMatch(name, callerMatch!);
      throw error;
    }
    await deps.store.appendEvents(name, [{ id: `ClusterDeleting/${updated.metadata.uid}`, type: 'ClusterDeleting', time: now.toISOString(), message: 'deletion requested: workers, then control plane, then infrastructure' }]);
    return updated;
  };
  const deleting = callerMatch !== undefined ? (await once())! : await retryLostRaces(`cluster ${JSON.stringify(name)}`, once);
  await startRollout(deps, deleting, 'deleting');
  return { status: 202, body: deleting, headers: etag(deleting) };
}

/** Routes a cluster request by method and resource. */
export async function routeClusters(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  if (request.resource === '/v1/clusters' && request.method === 'GET') return listClusters(request, deps);
  switch (request.method) {
    case 'GET':
      return getCluster(request, deps);
    case 'PUT':
      return putCluster(request, deps);
    case 'PATCH':
      return patchCluster(request, deps);
    case 'DELETE':
      return deleteCluster(request, deps);
    default:
      throw new ValidationError([{ path: 'method', message: `must be GET, PUT, PATCH or DELETE, got ${request.method}` }]);
  }
}

export const handler = httpHandler(routeClusters);
