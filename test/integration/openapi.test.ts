/**
 * Acceptance: the OpenAPI 3.1 document (issue "Foundation", API point 7). docs/openapi.json is exactly what
 * `buildOpenApi()` builds (a stale committed document fails), every route of functions/api/routes.ts is documented
 * and nothing else is, and the responses of real HTTP calls against the local stack — success and error alike — have
 * a documented status and validate against the documented schema (ajv, JSON Schema 2020-12).
 */
import { jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { buildOpenApi, OPENAPI_PATH } from '../../infra/openapi/build.js';
import { deriveCallbackToken } from '../../functions/adapters/callback-token.js';
import { matchResource, ROUTES } from '../../infra/catalog/routes.js';
import { TooManyRequestsError } from '../../functions/domain/errors.js';
import { clusterDoc, startTestStack, waitFor, type TestStack } from './harness.js';

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const committed = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as Raw;
const TENANT_TOKEN = 'openapi-tenant-token';
const YAML_TYPE = { 'content-type': 'application/yaml' };
const MERGE_PATCH = { 'content-type': 'application/merge-patch+json' };

describe('docs/openapi.json', () => {
  it('is exactly what buildOpenApi() builds (run `npm run openapi` after changing the API)', () => {
    // Act
    const text = readFileSync(OPENAPI_PATH, 'utf8');
    // Assess
    expect(text).toBe(`${JSON.stringify(buildOpenApi(), null, 2)}\n`);
    expect(committed.openapi).toBe('3.1.0');
  });

  it.each(ROUTES.map((r) => ({ route: `${r.method} ${r.resource}`, ...r })))('documents $route', ({ method, resource, auth }) => {
    // Act
    const op = committed.paths[resource]?.[method.toLowerCase()] as Raw | undefined;
    // Assess
    expect(op).toMatchObject({ operationId: expect.any(String), summary: expect.any(String), responses: expect.any(Object) });
    if (!auth) expect(op!.security).not.toEqual(expect.arrayContaining([{ sigv4: [] }]));
  });

  it('documents no operation that is not a route, and every operationId once', () => {
    // Act
    const documented = Object.entries(committed.paths as Raw).flatMap(([path, ops]) => Object.keys(ops as Raw).map((m) => `${m.toUpperCase()} ${path}`));
    const ids = Object.values(committed.paths as Raw).flatMap((ops) => Object.values(ops as Raw).map((op) => (op as Raw).operationId));
    // Assess
    expect(documented.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.resource}`).sort());
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('live responses against the document', () => {
  let stack: TestStack;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();
  const covered = new Set<string>();

  /** The documented schema of this response, compiled with the document's components beside it. */
  function validatorFor(resource: string, method: string, status: number): ValidateFunction | undefined {
    const key = `${method} ${resource} ${status}`;
    const response = committed.paths[resource]?.[method.toLowerCase()]?.responses?.[String(status)] as Raw | undefined;
    if (!response) throw new Error(`${key}: status ${status} is not documented`);
    const schema = response.content?.['application/json']?.schema as Raw | undefined;
    if (!schema) return undefined;
    if (!validators.has(key)) validators.set(key, ajv.compile({ ...schema, components: committed.components }));
    return validators.get(key);
  }

  /** Calls the API, then checks the status is documented and the body matches its schema. */
  async function check(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, token: string | null = stack.token): Promise<{ status: number; body: Raw }> {
    const init: RequestInit & { headers: Record<string, string> } = { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${stack.url}${path}`, init);
    const text = await res.text();
    const pathname = new URL(path, stack.url).pathname;
    const route = ROUTES.find((r) => r.method === method && matchResource(r.resource, pathname));
    if (!route) throw new Error(`no route for ${method} ${pathname}`);
    const validate = validatorFor(route.resource, method, res.status);
    if (validate) {
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const parsed = JSON.parse(text) as unknown;
      if (!validate(parsed)) throw new Error(`${method} ${path} → ${res.status}: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 2000)}`);
    } else {
      expect(text).toBe('');
    }
    covered.add(`${method} ${route.resource}`);
    return { status: res.status, body: text ? (JSON.parse(text) as Raw) : {} };
  }

  beforeAll(async () => {
    stack = await startTestStack({
      principals: new Map([[TENANT_TOKEN, { id: 'local:tenant', accounts: ['111122223333'], admin: false }]]),
      faults: { neverBoot: ['oa-cb-cp-1'] },
    });
  });

  afterAll(async () => {
    await stack.destroy();
  });

  const paused = (name: string, spec: Raw = {}) => clusterDoc(name, { paused: true, ...spec });

  it.each<[string, () => Promise<{ status: number }>, number]>([
    ['GET /healthz', () => check('GET', '/healthz', undefined, {}, null), 200],
    ['PUT creating a cluster', () => check('PUT', '/v1/clusters/oa-a', paused('oa-a')), 201],
    ['PUT an unchanged cluster', async () => {
      await stack.workflow.settle('oa-a');
      return check('PUT', '/v1/clusters/oa-a', paused('oa-a'));
    }, 200],
    ['PUT as a dry run', () => check('PUT', '/v1/clusters/oa-a?dryRun=true', paused('oa-a', { workers: [{ name: 'w', replicas: 2 }] })), 200],
    ['PUT a bad spec', () => check('PUT', '/v1/clusters/oa-a', paused('oa-a', { controlPlane: { replicas: 2 } })), 400],
    ['PUT with a stale If-Match', () => check('PUT', '/v1/clusters/oa-a', paused('oa-a', { workers: [] , failureDomains: ['a'] }), { 'if-match': '"0"' }), 412],
    ['PUT as text/plain', () => check('PUT', '/v1/clusters/oa-a', JSON.stringify(paused('oa-a')), { 'content-type': 'text/plain' }), 415],
    ['PUT of 2 MiB', () => check('PUT', '/v1/clusters/oa-a', 'x'.repeat(2 * 1024 * 1024), { 'content-type': 'application/json' }), 413],
    ['PUT skipping a minor', () => check('PUT', '/v1/clusters/oa-a', paused('oa-a', { version: 'v1.20.0' })), 422],
    ['PUT by a tenant into a foreign account', () => check('PUT', '/v1/clusters/oa-t', clusterDoc('oa-t'), {}, TENANT_TOKEN), 403],
    ['PUT without a token', () => check('PUT', '/v1/clusters/oa-a', paused('oa-a'), {}, null), 401],
    ['GET /v1/clusters', () => check('GET', '/v1/clusters'), 200],
    ['GET /v1/clusters?limit=0', () => check('GET', '/v1/clusters?limit=0'), 400],
    ['GET a cluster', () => check('GET', '/v1/clusters/oa-a'), 200],
    ['GET a missing cluster', () => check('GET', '/v1/clusters/oa-none'), 404],
    ['PATCH a cluster', () => check('PATCH', '/v1/clusters/oa-a', { metadata: { labels: { a: 'b' } } }, MERGE_PATCH), 200],
    ['PATCH as a dry run', () => check('PATCH', '/v1/clusters/oa-a?dryRun=true', { spec: { workers: [{ name: 'w', replicas: 1 }] } }, MERGE_PATCH), 200],
    ['PATCH as YAML', () => check('PATCH', '/v1/clusters/oa-a', 'spec: {}', YAML_TYPE), 415],
    ['PATCH skipping a minor', () => check('PATCH', '/v1/clusters/oa-a', { spec: { version: 'v1.21.0' } }, MERGE_PATCH), 422],
    ['PATCH with a stale If-Match', () => check('PATCH', '/v1/clusters/oa-a', { spec: { paused: true } }, { ...MERGE_PATCH, 'if-match': '"0"' }), 412],
    ['PATCH of 2 MiB', () => check('PATCH', '/v1/clusters/oa-a', `{"x":"${'x'.repeat(2 * 1024 * 1024)}"}`, MERGE_PATCH), 413],
    ['POST /v1/apply', () => check('POST', '/v1/apply', JSON.stringify(paused('oa-b')), YAML_TYPE), 200],
    ['POST /v1/apply as a dry run', () => check('POST', '/v1/apply?dryRun=true', JSON.stringify(paused('oa-c')), YAML_TYPE), 200],
    ['POST /v1/apply of an unsupported kind', () => check('POST', '/v1/apply', 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n', YAML_TYPE), 422],
    ['POST /v1/apply of a bad spec', () => check('POST', '/v1/apply', JSON.stringify(paused('oa-c', { version: 'x' })), YAML_TYPE), 400],
    ['POST /v1/apply as text/plain', () => check('POST', '/v1/apply', 'a: 1', { 'content-type': 'text/plain' }), 415],
    ['POST /v1/apply of 2 MiB', () => check('POST', '/v1/apply', `#${'x'.repeat(2 * 1024 * 1024)}`, YAML_TYPE), 413],
    ['POST /v1/apply to a cluster being deleted', async () => {
      await check('DELETE', '/v1/clusters/oa-b');
      return check('POST', '/v1/apply', JSON.stringify(paused('oa-b', { workers: [{ name: 'w', replicas: 0 }] })), YAML_TYPE);
    }, 409],
    ['PUT to a cluster being deleted', () => check('PUT', '/v1/clusters/oa-b', paused('oa-b', { workers: [{ name: 'w', replicas: 0 }] })), 409],
    ['GET machines', async () => {
      await check('PUT', '/v1/clusters/oa-cb', clusterDoc('oa-cb'));
      await waitFor(async () => (await stack.deps.store.getMachine('oa-cb', 'oa-cb-cp-1'))?.providerId);
      return check('GET', '/v1/clusters/oa-cb/machines?includeDeleted=true');
    }, 200],
    ['GET machines of a missing cluster', () => check('GET', '/v1/clusters/oa-none/machines'), 404],
    ['GET events', () => check('GET', '/v1/clusters/oa-cb/events?limit=2'), 200],
    ['GET events with a bad cursor', () => check('GET', '/v1/clusters/oa-cb/events?after=x'), 400],
    ['POST a callback with the machine token', async () => {
      const m = (await stack.deps.store.getMachine('oa-cb', 'oa-cb-cp-1'))!;
      const token = deriveCallbackToken(await stack.deps.callbackSecret(), { clusterUid: m.clusterUid, machine: m.name, bootAttempt: m.bootAttempt ?? 1 });
      return check('POST', '/v1/callbacks/oa-cb/oa-cb-cp-1/ready', undefined, {}, token);
    }, 200],
    ['POST a callback again with the same token', async () => {
      const m = (await stack.deps.store.getMachine('oa-cb', 'oa-cb-cp-1'))!;
      const token = deriveCallbackToken(await stack.deps.callbackSecret(), { clusterUid: m.clusterUid, machine: m.name, bootAttempt: m.bootAttempt ?? 1 });
      return check('POST', '/v1/callbacks/oa-cb/oa-cb-cp-1/ready', undefined, {}, token);
    }, 409],
    ['POST a callback with a wrong token', () => check('POST', '/v1/callbacks/oa-cb/oa-cb-cp-1/ready', undefined, {}, 'wrong'), 401],
    ['GET /v1/principals', () => check('GET', '/v1/principals'), 200],
    ['GET /v1/principals as a non-admin', () => check('GET', '/v1/principals', undefined, {}, TENANT_TOKEN), 403],
    ['PUT a principal', () => check('PUT', '/v1/principals/local%3Abob', { accounts: ['111122223333'] }), 200],
    ['PUT a bad principal', () => check('PUT', '/v1/principals/local%3Abob', { accounts: ['nope'] }), 400],
    ['DELETE a principal', () => check('DELETE', '/v1/principals/local%3Abob'), 204],
    ['DELETE a missing principal', () => check('DELETE', '/v1/principals/local%3Abob'), 404],
    ['DELETE with a stale If-Match', () => check('DELETE', '/v1/clusters/oa-a', undefined, { 'if-match': '"0"' }), 412],
    ['DELETE a cluster', () => check('DELETE', '/v1/clusters/oa-a'), 202],
    ['DELETE a missing cluster', () => check('DELETE', '/v1/clusters/oa-none'), 404],
    ['GET /v1/clusters while the store throttles', async () => {
      const spy = jest.spyOn(stack.deps.store, 'listClusters').mockRejectedValueOnce(new TooManyRequestsError('store: throttled'));
      try {
        return await check('GET', '/v1/clusters');
      } finally {
        spy.mockRestore();
      }
    }, 429],
    ['GET a cluster when the store breaks', async () => {
      const spy = jest.spyOn(stack.deps.store, 'getCluster').mockRejectedValueOnce(new Error('boom'));
      try {
        return await check('GET', '/v1/clusters/oa-cb');
      } finally {
        spy.mockRestore();
      }
    }, 500],
  ])('%s answers a documented response that matches its schema', async (_name, act, status) => {
    // Act
    const res = await act();
    // Assess
    expect(res.status).toBe(status);
  });

  it('rejects a served cluster with a wrong or extra field (the schemas are not vacuous)', async () => {
    // Prepare
    const served = (await stack.call('GET', '/v1/clusters/oa-cb')).body as Raw;
    const validate = validatorFor('/v1/clusters/{name}', 'GET', 200)!;
    // Act
    const verdicts = [
      validate(served),
      validate({ ...served, status: { ...served.status, internal: 1 } }),
      validate({ ...served, spec: { ...served.spec, controlPlane: { ...served.spec.controlPlane, replicas: 'three' } } }),
      validate({ ...served, metadata: { ...served.metadata, generation: 0 } }),
    ];
    // Assess
    expect(verdicts).toEqual([true, false, false, false]);
  });

  it('has validated at least one real response of every route', () => {
    // Assess
    expect(ROUTES.map((r) => `${r.method} ${r.resource}`).filter((r) => !covered.has(r))).toEqual([]);
  });
});
