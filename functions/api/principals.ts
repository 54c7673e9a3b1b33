/**
 * Principal grants (administrators only): GET /v1/principals, PUT|DELETE /v1/principals/{id}.
 * A principal is an IAM ARN on AWS (`local:<name>` locally) and the list of accounts it may act on.
 */
import type { Deps } from '../adapters/deps.js';
import { NotFoundError, ValidationError, type Issue } from '../domain/errors.js';
import { httpHandler, type ApiRequest, type ApiResponse } from '../middleware/http.js';
import { assertAdmin } from './lib/access.js';
import { pathParameter, singleDocument } from './lib/body.js';

const ACCOUNT = /^(\d{12}|local|\*)$/;
const PRINCIPAL_ID = /^(arn:aws[a-z-]*:(iam|sts)::\d{12}:[\w+=,.@/-]{1,512}|local:[a-z0-9][a-z0-9._-]{0,62})$/;

function parseGrant(raw: unknown): { accounts: string[]; admin: boolean } {
  const issues: Issue[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ValidationError([{ path: 'body', message: 'must be an object { accounts, admin }' }]);
  const body = raw as Record<string, unknown>;
  for (const key of Object.keys(body)) if (!['accounts', 'admin', 'id'].includes(key)) issues.push({ path: key, message: 'unknown field' });
  const accounts = body.accounts;
  if (!Array.isArray(accounts) || accounts.length > 1000) issues.push({ path: 'accounts', message: 'must be a list of at most 1000 account ids' });
  else accounts.forEach((a, i) => { if (typeof a !== 'string' || !ACCOUNT.test(a)) issues.push({ path: `accounts[${i}]`, message: `must be a 12-digit account id, "local" or "*", got ${JSON.stringify(a)}` }); });
  if (body.admin !== undefined && typeof body.admin !== 'boolean') issues.push({ path: 'admin', message: `must be a boolean, got ${JSON.stringify(body.admin)}` });
  if (issues.length) throw new ValidationError(issues);
  return { accounts: [...new Set(accounts as string[])], admin: body.admin === true };
}

/** Routes principal requests. */
export async function routePrincipals(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  assertAdmin(request.principal);
  if (request.method === 'GET') return { status: 200, body: { items: await deps.store.listPrincipals() } };
  const id = pathParameter(request, 'id');
  if (!PRINCIPAL_ID.test(id)) throw new ValidationError([{ path: 'path.id', message: `must be an IAM ARN or local:<name>, got ${JSON.stringify(id)}` }]);
  if (request.method === 'DELETE') {
    if (!(await deps.store.getPrincipal(id))) throw new NotFoundError(`principal ${JSON.stringify(id)} not found`);
    await deps.store.deletePrincipal(id);
    return { status: 204 };
  }
  const grant = parseGrant(singleDocument(request));
  const principal = { id, ...grant };
  await deps.store.putPrincipal(principal);
  return { status: 200, body: principal };
}

export const handler = httpHandler(routePrincipals);
