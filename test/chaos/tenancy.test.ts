/**
 * Auth and tenancy: every route refuses a missing or wrong credential; a principal granted account A cannot list,
 * read, change or delete clusters of account B (404, so existence does not leak); machine callbacks refuse wrong,
 * expired (earlier boot attempt) and reused tokens; and no secret (API tokens, callback tokens, the callback secret)
 * appears in an API response, an event or a log line.
 */
import { ROUTES } from '../../infra/catalog/routes.js';
import type { Principal } from '../../functions/domain/ports.js';
import { clusterDoc, startTestStack, waitReady, type TestStack } from '../integration/harness.js';
import { allEvents, callbackSecretOf, callbackTokens, captureLogger, findSecrets } from './lib.js';

const TOKEN_A = 'tenant-a-token-0123456789abcdef01';
const TOKEN_B = 'tenant-b-token-0123456789abcdef02';
const principals = new Map<string, Principal>([
  [TOKEN_A, { id: 'local:a', accounts: ['111111111111'], admin: false }],
  [TOKEN_B, { id: 'local:b', accounts: ['222222222222'], admin: false }],
]);

function awsDoc(name: string, account: string) {
  return { apiVersion: 'capstan.dev/v1alpha1', kind: 'Cluster', metadata: { name }, spec: { infrastructure: { provider: 'aws', account, region: 'eu-west-1' }, version: 'v1.30.2', controlPlane: { replicas: 1 }, workers: [] } };
}

describe('auth and tenancy', () => {
  const logs = captureLogger();
  const responses: string[] = [];
  let stack: TestStack;

  const as = async (token: string | undefined, method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: { ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': contentType } : {}) },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    responses.push(text);
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    stack = await startTestStack({ principals, logger: logs.logger });
    expect((await as(TOKEN_A, 'PUT', '/v1/clusters/alpha', awsDoc('alpha', '111111111111'))).status).toBe(201);
    expect((await as(TOKEN_B, 'PUT', '/v1/clusters/bravo', awsDoc('bravo', '222222222222'))).status).toBe(201);
    expect((await stack.call('PUT', '/v1/clusters/local-one', clusterDoc('local-one'))).status).toBe(201);
    await waitReady(stack, 'local-one');
  }, 60_000);

  afterAll(async () => {
    await stack?.destroy();
  });

  const concrete = (resource: string) =>
    resource.replace('{name}', 'alpha').replace('{cluster}', 'local-one').replace('{machine}', 'local-one-cp-1').replace('{id}', 'local:a');

  it.each(ROUTES.filter((r) => r.auth).flatMap((r) => [[r.method, r.resource, 'no credential', undefined], [r.method, r.resource, 'a wrong token', 'not-a-token'], [r.method, r.resource, 'a malformed header', '']] as const))(
    'refuses %s %s with %s (401)',
    async (method, resource, _label, token) => {
      const body = method === 'PUT' || method === 'POST' || method === 'PATCH' ? awsDoc('alpha', '111111111111') : undefined;
      const r = await as(token === '' ? 'Basic abc' : token, method, concrete(resource), body, method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBeTruthy();
    },
  );

  it('lists only the clusters of the caller’s accounts', async () => {
    expect((await as(TOKEN_A, 'GET', '/v1/clusters')).body.items.map((c: any) => c.metadata.name)).toEqual(['alpha']);
    expect((await as(TOKEN_B, 'GET', '/v1/clusters')).body.items.map((c: any) => c.metadata.name)).toEqual(['bravo']);
  });

  it.each([
    ['read', 'GET', '/v1/clusters/bravo', undefined],
    ['patch', 'PATCH', '/v1/clusters/bravo', { spec: { controlPlane: { replicas: 3 } } }],
    ['delete', 'DELETE', '/v1/clusters/bravo', undefined],
    ['list the machines of', 'GET', '/v1/clusters/bravo/machines', undefined],
    ['read the events of', 'GET', '/v1/clusters/bravo/events', undefined],
  ] as const)('fails when tenant A tries to %s a cluster of account B, with the 404 of a missing cluster', async (_label, method, path, body) => {
    const other = await as(TOKEN_A, method, path, body, 'application/merge-patch+json');
    const missing = await as(TOKEN_A, method, path.replace('bravo', 'nonexistent'), body, 'application/merge-patch+json');
    expect(other.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(JSON.stringify(other.body).replace(/bravo/g, 'X')).toBe(JSON.stringify(missing.body).replace(/nonexistent/g, 'X'));
    const bravo = (await as(TOKEN_B, 'GET', '/v1/clusters/bravo')).body;
    expect(bravo.metadata.generation).toBe(1);
    expect(bravo.metadata.deletionTimestamp).toBeUndefined();
  });

  it.each([
    ['PUT a cluster into account B', 'PUT', '/v1/clusters/sneaky', awsDoc('sneaky', '222222222222'), [403]],
    ['take over a name of account B', 'PUT', '/v1/clusters/bravo', awsDoc('bravo', '111111111111'), [404, 409]],
    ['apply a cluster into account B', 'POST', '/v1/apply', awsDoc('sneaky2', '222222222222'), [403]],
    ['manage principals', 'PUT', '/v1/principals/local:a', { accounts: ['*'], admin: true }, [403]],
  ] as const)('fails when tenant A tries to %s', async (_label, method, path, body, statuses) => {
    const r = await as(TOKEN_A, method, path, body);
    expect(statuses).toContain(r.status);
    expect((await stack.call('GET', '/v1/clusters/sneaky')).status).toBe(404);
    expect((await as(TOKEN_B, 'GET', '/v1/clusters/bravo')).body.spec.infrastructure.account).toBe('222222222222');
  });

  describe('machine callbacks', () => {
    let machine: { name: string; clusterUid: string };
    let secret: Buffer;
    beforeAll(async () => {
      const m = (await stack.call('GET', '/v1/clusters/local-one/machines')).body.items[0];
      const cluster = (await stack.call('GET', '/v1/clusters/local-one')).body;
      machine = { name: m.name, clusterUid: cluster.metadata.uid };
      secret = callbackSecretOf(stack.home);
    });

    it.each([
      ['no token', () => undefined, 401],
      ['a wrong token', () => 'x'.repeat(43), 401],
      ['the API admin token', () => stack.token, 401],
      ['an expired token (an earlier boot attempt)', () => callbackTokens(secret, [machine], 2)[1]!, 401],
      ['the token of another machine', () => callbackTokens(secret, [{ ...machine, name: `${machine.name}-other` }], 1)[0]!, 401],
      ['a reused token (the machine is already Ready)', () => callbackTokens(secret, [machine], 1)[0]!, 409],
    ] as [string, () => string | undefined, number][])('refuses a Ready callback with %s', async (_label, token, status) => {
      const r = await as(token(), 'POST', `/v1/callbacks/local-one/${machine.name}/ready`, {});
      expect(r.status).toBe(status);
      const after = (await stack.call('GET', '/v1/clusters/local-one/machines')).body.items.find((m: any) => m.name === machine.name);
      expect(after.phase).toBe('Ready');
    });
  });

  it('never shows a secret in a response, an event or a log line', async () => {
    const names = ['alpha', 'bravo', 'local-one'];
    const events = (await Promise.all(names.map((n) => allEvents(stack.call, n)))).flat();
    const cluster = (await stack.call('GET', '/v1/clusters/local-one')).body;
    const machines = (await stack.call('GET', '/v1/clusters/local-one/machines?includeDeleted=true')).body.items.map((m: any) => ({ name: m.name, clusterUid: cluster.metadata.uid }));
    const secretText = callbackSecretOf(stack.home).toString('base64url');
    const secrets = [stack.token, TOKEN_A, TOKEN_B, secretText, ...callbackTokens(callbackSecretOf(stack.home), machines)];
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(findSecrets({ responses: responses.join('\n'), events: JSON.stringify(events), logs: logs.lines.join('\n') }, secrets)).toEqual([]);
  });
});
