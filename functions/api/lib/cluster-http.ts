/**
 * How the cluster routes read their requests and shape their answers: the name in the path, the page of a list, the
 * merge patch body, the ETag, and the answer of a write or of its dry run.
 *
 * Why its own file: functions/api/clusters.ts stays one short function per route (parse → act → answer); the
 * request and response details every cluster route shares live here.
 */
import type { Cluster, ClusterDocument } from '../../domain/cluster.js';
import { ValidationError } from '../../domain/errors.js';
import { parseClusterDocument } from '../../domain/spec/index.js';
import type { ApiRequest, ApiResponse } from '../../middleware/http.js';
import { accountFilter } from './access.js';
import { ifMatch, isDryRun, PATCH_TYPES, pathParameter, singleDocument, stripServerFields } from './body.js';
import type { WriteResult } from './cluster-writes.js';

/** Largest page `GET /v1/clusters?limit=` serves. */
export const LIST_LIMIT = 100;

/** The `ETag` header of a cluster: its resourceVersion, quoted (what `If-Match` sends back). */
export function etag(cluster: Cluster): Record<string, string> {
  return { etag: `"${cluster.metadata.resourceVersion}"` };
}

/** The cluster name of the path (`/v1/clusters/{name}`), percent-decoded. */
export function clusterName(request: ApiRequest): string {
  return pathParameter(request, 'name');
}

/** Refuses a document whose `metadata.name` differs from the name in the path (400 naming `metadata.name`). */
export function checkName(name: string, doc: unknown): void {
  const docName = (doc as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
  if (docName !== undefined && docName !== name) {
    throw new ValidationError([{ path: 'metadata.name', message: `must match the name in the path (${JSON.stringify(name)}), got ${JSON.stringify(docName)}` }]);
  }
}

/** The store query of a list request: the caller's accounts, `?limit=` (1 to LIST_LIMIT) and `?cursor=`. */
export function listQuery(request: ApiRequest): { readonly accounts?: readonly string[]; readonly limit?: number; readonly cursor?: string } {
  const limitText = request.query.limit;
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT)) {
    throw new ValidationError([{ path: 'query.limit', message: `must be an integer from 1 to ${LIST_LIMIT}, got ${JSON.stringify(limitText)}` }]);
  }
  const accounts = accountFilter(request.principal);
  return { ...(accounts ? { accounts } : {}), ...(limit ? { limit } : {}), ...(request.query.cursor ? { cursor: request.query.cursor } : {}) };
}

/** The body of a PUT: one Capstan document (server fields dropped) naming the path's cluster if it names one, validated. */
export function clusterDocumentBody(request: ApiRequest, name: string): ClusterDocument {
  const raw = stripServerFields(singleDocument(request));
  checkName(name, raw);
  return parseClusterDocument(raw);
}

/** `If-Match` (when sent) and `?dryRun` of a write. */
export function writeOptions(request: ApiRequest): { readonly ifMatch?: string; readonly dryRun: boolean } {
  const match = ifMatch(request);
  return { ...(match !== undefined ? { ifMatch: match } : {}), dryRun: isDryRun(request) };
}

/** The body of a PATCH: one RFC 7386 merge patch, a JSON object naming the path's cluster if it names one. */
export function mergePatchBody(request: ApiRequest, name: string): Record<string, unknown> {
  const patch = singleDocument(request, PATCH_TYPES);
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new ValidationError([{ path: 'body', message: 'a merge patch must be a JSON object' }]);
  checkName(name, patch);
  return patch as Record<string, unknown>;
}

/** The answer of a write: 201 created or 200 with the ETag, or the dry run's `{ dryRun, action, cluster, plan }`. */
export function writeResponse(result: WriteResult, dryRun: boolean): ApiResponse {
  if (dryRun) return { status: 200, body: { dryRun: true, action: result.action, cluster: result.cluster, plan: result.plan } };
  return { status: result.action === 'created' ? 201 : 200, body: result.cluster, headers: etag(result.cluster) };
}
