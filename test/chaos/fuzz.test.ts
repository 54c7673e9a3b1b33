/**
 * Bad input: property-based fuzzing (fast-check, seeded by CHAOS_SEED) of the spec parser, the Cluster API importer
 * and every route. Every input is either accepted as valid or refused with a 4xx naming the problem; nothing
 * crashes, nothing answers 5xx, and nothing is stored for a refused request.
 */
import fc from 'fast-check';
import { CapstanError } from '../../functions/domain/errors.js';
import { importManifests } from '../../functions/domain/capi/index.js';
import { parseBodyDocuments, parseClusterDocument } from '../../functions/domain/spec/index.js';
import { ROUTES } from '../../infra/catalog/routes.js';
import { clusterDoc, startTestStack, type TestStack } from '../integration/harness.js';
import { CHAOS_SEED, pick } from './lib.js';

const tried = { spec: 0, bodies: 0, importer: 0, http: 0 };
afterAll(() => {
  process.stdout.write(`fuzz: seed ${CHAOS_SEED}, ${tried.spec} spec documents, ${tried.bodies} bodies, ${tried.importer} manifest sets, ${tried.http} HTTP requests; no 5xx, no crash\n`);
});

/** Only a caller error (4xx with at least one located issue or a message) may escape. */
function callerErrorOnly(run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch (error) {
    if (!(error instanceof CapstanError) || error.fault !== 'caller' || error.status < 400 || error.status >= 500) throw error;
    if (!error.message) throw new Error('a refusal without a message');
    return true;
  }
}

const VALID_SPEC = {
  infrastructure: { provider: 'local' },
  version: 'v1.30.2',
  controlPlane: { replicas: 3, machine: { instanceType: 'm5.large' } },
  workers: [{ name: 'md-0', replicas: 2, rollout: { maxSurge: 1, maxUnavailable: '25%' } }],
  healthCheck: { nodeStartupTimeout: '10m' },
};

/** Hostile keys and values mixed into generated documents. */
const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', 'a.b', '\u0000', '💥', 'x'.repeat(300));
const leaf = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('v1.30.2', 'v1.29.0', '25%', '-1', '10m', 'NaN', 'Infinity', '1e309', 'local', 'aws', '111111111111', 'md-0', '0'.repeat(50)),
);
const anyJson = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), hostileKey), tie('value'), { maxKeys: 6 }),
})).value;

/** A valid document with one field replaced by a generated value at a generated path. */
const mutatedDoc = fc
  .tuple(fc.array(fc.oneof(fc.constantFrom('spec', 'metadata', 'infrastructure', 'controlPlane', 'workers', 'rollout', 'machine', 'healthCheck', 'replicas', 'version', 'name', '0', '__proto__'), hostileKey), { minLength: 1, maxLength: 4 }), anyJson)
  .map(([path, value]) => {
    const doc: any = structuredClone({ apiVersion: 'capstan.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'fuzz' }, spec: VALID_SPEC });
    let at = doc;
    for (const key of path.slice(0, -1)) {
      // Own properties only: walking into `__proto__` would pollute Object.prototype from the test itself.
      if (!Object.hasOwn(at, key) || typeof at[key] !== 'object' || at[key] === null) Object.defineProperty(at, key, { value: {}, enumerable: true, writable: true, configurable: true });
      at = at[key];
    }
    Object.defineProperty(at, path.at(-1)!, { value, enumerable: true, writable: true, configurable: true });
    return doc;
  });

function nested(depth: number, leafValue: string): string {
  return `${'['.repeat(depth)}${leafValue}${']'.repeat(depth)}`;
}

/** A YAML billion-laughs document: each alias level multiplies the expansion. */
function yamlBomb(levels: number): string {
  const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i <= levels; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(',')}]`);
  return lines.join('\n');
}

describe('parseClusterDocument', () => {
  it('accepts or refuses with a caller error every generated and mutated document', () => {
    fc.assert(
      fc.property(fc.oneof(anyJson, mutatedDoc), (doc) => {
        tried.spec++;
        return callerErrorOnly(() => parseClusterDocument(doc));
      }),
      { seed: CHAOS_SEED, numRuns: pick(3000, 30_000) },
    );
  });

  it('never lets a prototype-pollution key reach Object.prototype', () => {
    fc.assert(
      fc.property(mutatedDoc, (doc) => {
        tried.spec++;
        callerErrorOnly(() => parseClusterDocument(JSON.parse(JSON.stringify(doc))));
        return ({} as Record<string, unknown>).polluted === undefined && Object.getPrototypeOf({}) === Object.prototype;
      }),
      { seed: CHAOS_SEED + 1, numRuns: pick(500, 5000) },
    );
  });
});

describe('parseBodyDocuments', () => {
  const hostileText = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.integer({ min: 1, max: 2000 }).map((d) => nested(d, '1')),
    fc.integer({ min: 1, max: 600 }).map((d) => `${'a:\n'.split('\n')[0]}${Array.from({ length: d }, (_v, i) => `${' '.repeat(i)}k:`).join('\n')} 1`),
    fc.integer({ min: 1, max: 9 }).map(yamlBomb),
    fc.constantFrom('{"__proto__":{"polluted":1}}', '__proto__:\n  polluted: 1', '---\n---\n---', '!!js/function "x"', '&a [*a]', '{"a":1,"a":2}', '\uFEFF{}', 'a: !!binary AAAA', '%YAML 9.9\n---\na: 1'),
  );
  it.each(['application/json', 'application/yaml'])('accepts or refuses with a caller error every generated %s body', (type) => {
    fc.assert(
      fc.property(hostileText, (text) => {
        tried.bodies++;
        const ok = callerErrorOnly(() => parseBodyDocuments(text, type));
        return ok && ({} as Record<string, unknown>).polluted === undefined;
      }),
      { seed: CHAOS_SEED, numRuns: pick(1500, 15_000) },
    );
  });
});

describe('importManifests', () => {
  const capiDoc = fc.record({
    apiVersion: fc.constantFrom('cluster.x-k8s.io/v1beta1', 'cluster.x-k8s.io/v1beta2', 'controlplane.cluster.x-k8s.io/v1beta1', 'infrastructure.cluster.x-k8s.io/v1beta2', 'capstan.dev/v1alpha1', 'v1'),
    kind: fc.constantFrom('Cluster', 'KubeadmControlPlane', 'MachineDeployment', 'MachineHealthCheck', 'ClusterClass', 'AWSCluster', 'DockerMachineTemplate', 'AWSMachineTemplate', 'KubeadmConfigTemplate', 'Secret', 'Unknown'),
    metadata: fc.record({ name: fc.oneof(fc.constantFrom('c1', 'md-0', 'cp'), fc.string({ maxLength: 20 })), namespace: fc.constantFrom('default', 'ns') }, { requiredKeys: [] }),
    spec: anyJson,
  }, { requiredKeys: ['apiVersion', 'kind'] });
  it('maps or refuses with a caller error every generated Cluster API manifest set', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(capiDoc, anyJson), { maxLength: 6 }), (docs) => {
        tried.importer++;
        return callerErrorOnly(() => {
          const result = importManifests(docs);
          for (const c of result.clusters) callerErrorOnly(() => parseClusterDocument(c.document));
        });
      }),
      { seed: CHAOS_SEED, numRuns: pick(2000, 20_000) },
    );
  });
});

describe('every route over HTTP', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ settings: { maxBodyBytes: 64 * 1024 } });
    expect((await stack.call('PUT', '/v1/clusters/keep', clusterDoc('keep', { paused: true }))).status).toBe(201);
  });
  afterAll(async () => {
    await stack?.destroy();
  });

  const paths: Record<string, string> = {
    '/v1/clusters': '/v1/clusters',
    '/v1/clusters/{name}': '/v1/clusters/keep',
    '/v1/apply': '/v1/apply',
    '/v1/clusters/{name}/machines': '/v1/clusters/keep/machines',
    '/v1/clusters/{name}/events': '/v1/clusters/keep/events',
    '/v1/callbacks/{cluster}/{machine}/ready': '/v1/callbacks/keep/keep-cp-1/ready',
    '/v1/principals': '/v1/principals',
    '/v1/principals/{id}': '/v1/principals/local:fuzz',
    '/healthz': '/healthz',
  };
  const body = fc.oneof(
    anyJson.map((v) => JSON.stringify(v)),
    mutatedDoc.map((d) => JSON.stringify({ ...d, metadata: { name: 'keep' } })),
    fc.string({ maxLength: 300 }),
    fc.integer({ min: 100, max: 3000 }).map((d) => nested(d, '{}')),
    fc.integer({ min: 4, max: 8 }).map(yamlBomb),
    fc.constantFrom('{"__proto__":{"polluted":1},"apiVersion":"capstan.dev/v1alpha1"}', 'constructor:\n  prototype:\n    polluted: 1', '', '   ', 'null', '[]', '---\n---'),
  );
  const contentType = fc.constantFrom(
    'application/json',
    'application/yaml',
    'application/merge-patch+json',
    'text/plain',
    'application/json; charset=latin1',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    '',
    'application/json; charset=utf-8',
  );
  const query = fc.constantFrom('', '?dryRun=true', '?limit=0', '?limit=abc', '?after=-1', '?cursor=%ZZ', '?includeDeleted=yes', '?limit=1001');

  it('answers every generated request with a 2xx or a clear 4xx, and stores nothing it refused', async () => {
    const before = (await stack.call('GET', '/v1/clusters/keep')).body;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), body, contentType, query, fc.boolean(), async (route, text, type, q, binary) => {
        tried.http++;
        const headers: Record<string, string> = { authorization: `Bearer ${stack.token}` };
        if (type) headers['content-type'] = type;
        const payload = binary ? Buffer.concat([Buffer.from(text.slice(0, 20)), Buffer.from([0xc3, 0x28, 0xff, 0xfe])]) : text;
        const hasBody = route.method !== 'GET' && route.method !== 'DELETE';
        const res = await fetch(`${stack.url}${paths[route.resource]}${q}`, { method: route.method, headers, ...(hasBody ? { body: payload } : {}) });
        const answer = await res.text();
        if (res.status >= 500) throw new Error(`${route.method} ${route.resource}${q} (${type}) answered ${res.status}: ${answer} for ${JSON.stringify(text.slice(0, 200))}`);
        if (res.status >= 400) {
          const err = JSON.parse(answer).error;
          if (!err?.code || !err.message) throw new Error(`${res.status} without an error code and message: ${answer}`);
        }
        return ({} as Record<string, unknown>).polluted === undefined;
      }),
      { seed: CHAOS_SEED, numRuns: pick(1000, 10_000) },
    );
    // Only `keep` exists (nothing generated was stored under another name); a PUT of a valid mutation may change it.
    const list = (await stack.call('GET', '/v1/clusters')).body.items as any[];
    expect(list.map((c) => c.metadata.name).filter((n) => n !== 'keep' && n !== 'fuzz')).toEqual([]);
    expect((await stack.call('GET', '/v1/clusters/keep')).body.metadata.uid).toBe(before.metadata.uid);
    expect((await stack.call('GET', '/v1/principals')).body.items.filter((p: any) => p.id !== 'local:fuzz')).toEqual([]);
  }, 120_000);

  it.each([
    ['an oversize body', 'PUT', '/v1/clusters/big', 'application/json', JSON.stringify({ ...clusterDoc('big'), pad: 'x'.repeat(70 * 1024) }), 413],
    ['a body over the server read limit', 'POST', '/v1/apply', 'application/yaml', 'a: 1\n'.repeat(1_000_000), 413],
    ['a wrong content type', 'PUT', '/v1/clusters/wrong', 'text/plain', JSON.stringify(clusterDoc('wrong')), 415],
    ['invalid UTF-8', 'PUT', '/v1/clusters/utf', 'application/json', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), 400],
    ['deep nesting', 'PUT', '/v1/clusters/deep', 'application/json', nested(5000, '1'), 400],
    ['a YAML bomb', 'POST', '/v1/apply', 'application/yaml', yamlBomb(9), 400],
    ['a prototype-pollution key', 'PUT', '/v1/clusters/proto', 'application/json', JSON.stringify({ ...clusterDoc('proto'), __proto__: { admin: true } }).replace('"apiVersion"', '"__proto__":{"polluted":1},"apiVersion"'), 400],
  ] as const)('refuses %s with a 4xx and stores nothing', async (_label, method, path, type, payload, status) => {
    const res = await fetch(`${stack.url}${path}`, { method, headers: { authorization: `Bearer ${stack.token}`, 'content-type': type }, body: payload });
    expect(res.status).toBe(status);
    expect(((await res.json()) as any).error.details.length).toBeGreaterThan(0);
    const name = path.split('/').pop()!;
    if (path.startsWith('/v1/clusters/')) expect((await stack.call('GET', `/v1/clusters/${name}`)).status).toBe(404);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
