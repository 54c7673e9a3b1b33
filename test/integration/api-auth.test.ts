/**
 * Acceptance: authentication and tenancy over real HTTP (issue "Foundation", API point 5). Every /v1 route refuses
 * a missing or wrong token with 401 (before looking at the body); /healthz and machine callbacks are public; a
 * callback with a wrong machine token is 401 and a reused one 409; a principal acts only on its accounts (403/404).
 */
import { deriveCallbackToken } from '../../functions/adapters/callback-token.js';
import { ROUTES } from '../../infra/catalog/routes.js';
import type { Principal } from '../../functions/domain/ports.js';
import { clusterDoc, startTestStack, waitReady, type TestStack } from './harness.js';

const TENANT_TOKEN = 'tenant-token-0123456789';
const TENANT: Principal = { id: 'local:tenant', accounts: ['111122223333'], admin: false };

let stack: TestStack;

/** A concrete path for a route pattern. */
function concrete(resource: string): string {
  return resource.replace('{name}', 'auth-a').replace('{cluster}', 'auth-a').replace('{machine}', 'auth-a-cp-1').replace('{id}', 'local%3Abob');
}

async function call(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const PROTECTED = ROUTES.filter((r) => r.auth);
const BAD_CREDENTIALS: [string, Record<string, string>][] = [
  ['no Authorization header', {}],
  ['a wrong bearer token', { authorization: 'Bearer not-the-token' }],
  ['an empty bearer token', { authorization: 'Bearer ' }],
  ['Basic credentials', { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }],
];

beforeAll(async () => {
  stack = await startTestStack({ principals: new Map([[TENANT_TOKEN, TENANT]]) });
  await stack.call('PUT', '/v1/clusters/auth-a', clusterDoc('auth-a'));
  await waitReady(stack, 'auth-a');
});

afterAll(async () => {
  await stack.destroy();
});

describe('authentication of /v1 routes', () => {
  it('protects every /v1 route but the machine callback', () => {
    // Act
    const publicRoutes = ROUTES.filter((r) => !r.auth).map((r) => `${r.method} ${r.resource}`);
    // Assess
    expect(publicRoutes).toEqual(['GET /healthz', 'POST /v1/callbacks/{cluster}/{machine}/ready']);
    expect(PROTECTED.every((r) => r.resource.startsWith('/v1/'))).toBe(true);
  });

  const matrix = PROTECTED.flatMap((route) => BAD_CREDENTIALS.map(([what, headers]) => ({ route: `${route.method} ${route.resource}`, method: route.method, path: concrete(route.resource), what, headers })));

  it.each(matrix)('fails when $route gets $what (401)', async ({ method, path, headers }) => {
    // Prepare
    const before = (await stack.call('GET', '/v1/clusters')).body;
    const body = ['PUT', 'POST', 'PATCH'].includes(method) ? JSON.stringify(clusterDoc('auth-a', { paused: true })) : undefined;
    // Act
    const res = await call(method, path, { ...headers, 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' }, body);
    // Assess
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'Unauthorized', details: [{ path: 'authorization', message: expect.any(String) }] });
    expect((await stack.call('GET', '/v1/clusters')).body).toEqual(before);
  });

  it('fails with 401, not 413, when an anonymous caller sends an oversize body', async () => {
    // Act
    const res = await call('PUT', '/v1/clusters/auth-a', { 'content-type': 'application/json' }, 'x'.repeat(2 * 1024 * 1024));
    // Assess
    expect(res.status).toBe(401);
  });

  it('serves /healthz without credentials', async () => {
    // Act
    const res = await call('GET', '/healthz', {});
    // Assess
    expect(res).toEqual({ status: 200, body: { status: 'ok' } });
  });
});

describe('POST /v1/callbacks/{cluster}/{machine}/ready', () => {
  async function tokenOf(cluster: string, machine: string): Promise<string> {
    const record = (await stack.deps.store.getMachine(cluster, machine))!;
    return deriveCallbackToken(await stack.deps.callbackSecret(), { clusterUid: record.clusterUid, machine, bootAttempt: record.bootAttempt ?? 1 });
  }

  it('is public: the API token is neither needed nor accepted in place of the machine token (401)', async () => {
    // Act
    const res = await call('POST', '/v1/callbacks/auth-a/auth-a-cp-1/ready', { authorization: `Bearer ${stack.token}` });
    // Assess
    expect(res.status).toBe(401);
    expect(res.body.error.details).toEqual([{ path: 'authorization', message: expect.any(String) }]);
  });

  it.each([
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }],
  ])('fails when the callback carries %s (401)', async (_what, headers) => {
    // Act
    const res = await call('POST', '/v1/callbacks/auth-a/auth-a-cp-1/ready', headers);
    // Assess
    expect(res.status).toBe(401);
  });

  it('fails when a valid token is presented for another machine or cluster (401)', async () => {
    // Prepare
    const token = await tokenOf('auth-a', 'auth-a-cp-1');
    // Act
    const otherMachine = await call('POST', '/v1/callbacks/auth-a/auth-a-cp-2/ready', { authorization: `Bearer ${token}` });
    const otherCluster = await call('POST', '/v1/callbacks/auth-b/auth-a-cp-1/ready', { authorization: `Bearer ${token}` });
    // Assess
    expect(otherMachine.status).toBe(401);
    expect(otherCluster.status).toBe(401);
  });

  it('fails when the machine token was already used (409) and changes nothing', async () => {
    // Prepare: the machine called back at boot, so its token is spent.
    const token = await tokenOf('auth-a', 'auth-a-cp-1');
    const before = await stack.call('GET', '/v1/clusters/auth-a/events?limit=1000');
    // Act
    const res = await call('POST', '/v1/callbacks/auth-a/auth-a-cp-1/ready', { authorization: `Bearer ${token}` });
    // Assess
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('Conflict');
    expect((await stack.call('GET', '/v1/clusters/auth-a/events?limit=1000')).body).toEqual(before.body);
  });
});

describe('tenancy', () => {
  const asTenant = { authorization: `Bearer ${TENANT_TOKEN}`, 'content-type': 'application/json' };
  const awsDoc = (name: string, account: string) => clusterDoc(name, { infrastructure: { provider: 'aws', account, region: 'us-west-2' } });

  it('lets a principal create and read a cluster in its own account', async () => {
    // Act
    const put = await call('PUT', '/v1/clusters/auth-t', asTenant, JSON.stringify(awsDoc('auth-t', '111122223333')));
    const list = await call('GET', '/v1/clusters', asTenant);
    // Assess
    expect(put.status).toBe(201);
    expect(list.body.items.map((c: { metadata: { name: string } }) => c.metadata.name)).toEqual(['auth-t']);
  });

  it.each([
    ['creating a cluster in an account it is not granted', 'PUT', '/v1/clusters/auth-x', JSON.stringify(awsDoc('auth-x', '999988887777')), 403, 'spec.infrastructure.account'],
    ['creating a local cluster', 'PUT', '/v1/clusters/auth-x', JSON.stringify(clusterDoc('auth-x')), 403, 'spec.infrastructure.account'],
    ['listing principals', 'GET', '/v1/principals', undefined, 403, undefined],
  ])('fails when a principal tries %s (%s)', async (_what, method, path, body, status, field) => {
    // Act
    const res = await call(method, path, asTenant, body);
    // Assess
    expect(res.status).toBe(status);
    if (field) expect(res.body.error.details).toContainEqual(expect.objectContaining({ path: field }));
    expect((await stack.call('GET', '/v1/clusters/auth-x')).status).toBe(404);
  });

  it.each([
    ['GET', '/v1/clusters/auth-a'],
    ['GET', '/v1/clusters/auth-a/machines'],
    ['GET', '/v1/clusters/auth-a/events'],
    ['DELETE', '/v1/clusters/auth-a'],
  ])('answers %s %s for a cluster of another account with 404, as if it did not exist', async (method, path) => {
    // Act
    const res = await call(method, path, asTenant);
    // Assess
    expect(res.status).toBe(404);
    expect((await stack.call('GET', '/v1/clusters/auth-a')).body.status.phase).toBe('Ready');
  });
});
