/**
 * Cluster routes: GET /v1/clusters, GET|PUT|PATCH|DELETE /v1/clusters/{name}. Each parses, hands over to the
 * engine in lib/ (cluster-writes.ts, cluster-changes.ts) and answers (lib/cluster-http.ts).
 */
import type { Deps } from '../adapters/deps.js';
import { ValidationError } from '../domain/errors.js';
import { httpHandler, type ApiRequest, type ApiResponse } from '../middleware/http.js';
import { visibleCluster } from './lib/access.js';
import { markClusterDeleting, patchClusterDocument } from './lib/cluster-changes.js';
import { clusterDocumentBody, clusterName, etag, listQuery, mergePatchBody, writeOptions, writeResponse } from './lib/cluster-http.js';
import { startRollout, writeClusterDocument } from './lib/cluster-writes.js';

/** Lists the clusters the caller may see, paginated. */
export async function listClusters(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  const page = await deps.store.listClusters(listQuery(request));
  return { status: 200, body: { items: page.items, ...(page.next ? { next: page.next } : {}) } };
}

/** Reads one cluster. */
export async function getCluster(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  const name = clusterName(request);
  const cluster = visibleCluster(request.principal, name, await deps.store.getCluster(name));
  return { status: 200, body: cluster, headers: etag(cluster) };
}

/** Creates (201) or replaces (200) a cluster; an unchanged spec is a no-op. */
export async function putCluster(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  const doc = clusterDocumentBody(request, clusterName(request));
  const options = writeOptions(request);
  return writeResponse(await writeClusterDocument(deps, request.principal, doc, options), options.dryRun);
}

/** Applies an RFC 7386 merge patch; without `If-Match` a lost race re-applies it to a fresh read (never a lost update). */
export async function patchCluster(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  const name = clusterName(request);
  const patch = mergePatchBody(request, name);
  const options = writeOptions(request);
  return writeResponse(await patchClusterDocument(deps, request.principal, name, patch, options), options.dryRun);
}

/** Marks the cluster for deletion (202); machines go first, the record goes last. Idempotent. */
export async function deleteCluster(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  const deleting = await markClusterDeleting(deps, request.principal, clusterName(request), writeOptions(request));
  await startRollout(deps, deleting, 'deleting');
  return { status: 202, body: deleting, headers: etag(deleting) };
}

const BY_METHOD = new Map([['GET', getCluster], ['PUT', putCluster], ['PATCH', patchCluster], ['DELETE', deleteCluster]]);

/** Routes a cluster request by method and resource. */
export async function routeClusters(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  if (request.resource === '/v1/clusters' && request.method === 'GET') return listClusters(request, deps);
  const route = BY_METHOD.get(request.method);
  if (!route) throw new ValidationError([{ path: 'method', message: `must be GET, PUT, PATCH or DELETE, got ${request.method}` }]);
  return route(request, deps);
}

export const handler = httpHandler(routeClusters);
