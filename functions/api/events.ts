/**
 * GET /v1/clusters/{name}/events?after=<cursor>&limit=<n>: the cluster's durable, ordered event log.
 */
import type { Deps } from '../adapters/deps.js';
import { ValidationError, type Issue } from '../domain/errors.js';
import { httpHandler, type ApiRequest, type ApiResponse } from '../middleware/http.js';
import { visibleCluster } from './lib/access.js';
import { pathParameter } from './lib/body.js';

/** A page of events after the cursor (a seq). */
export async function listEvents(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  const name = pathParameter(request, 'name');
  const issues: Issue[] = [];
  const after = request.query.after === undefined ? 0 : Number(request.query.after);
  if (!Number.isInteger(after) || after < 0) issues.push({ path: 'query.after', message: `must be a cursor from a previous page (a non-negative integer), got ${JSON.stringify(request.query.after)}` });
  const limit = request.query.limit === undefined ? 100 : Number(request.query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) issues.push({ path: 'query.limit', message: `must be an integer from 1 to 1000, got ${JSON.stringify(request.query.limit)}` });
  if (issues.length) throw new ValidationError(issues);
  visibleCluster(request.principal, name, await deps.store.getCluster(name));
  const page = await deps.store.listEvents(name, { after, limit });
  const items = page.items.map((e) => ({
    seq: e.seq,
    time: e.time,
    type: e.type,
    ...(e.machine ? { machine: e.machine } : {}),
    ...(e.pool ? { pool: e.pool } : {}),
    message: e.message,
    ...(e.data ? { data: e.data } : {}),
  }));
  return { status: 200, body: { items, ...(page.next ? { next: page.next } : {}) } };
}

export const handler = httpHandler(listEvents);
