/**
 * Acceptance: bad input over real HTTP (issue "Foundation", API point 2). Every bad spec or body sent to
 * PUT /v1/clusters/{name}, PATCH or POST /v1/apply answers a 4xx JSON error whose `details[].path` names the field,
 * and the store is unchanged afterwards (clusters and the event log read before and after each case).
 */
import { jest } from '@jest/globals';
import { clusterDoc, startTestStack, type TestStack } from './harness.js';

type Raw = Record<string, unknown>;

let stack: TestStack;

const JSON_TYPE = 'application/json';
const YAML_TYPE = 'application/yaml';
const MERGE_PATCH = 'application/merge-patch+json';

/** A local document with spec overrides. */
function doc(name: string, spec: Raw = {}, extra: Raw = {}): Raw {
  return { ...clusterDoc(name, spec), ...extra };
}

function awsInfra(overrides: Raw = {}): Raw {
  return { provider: 'aws', account: '123456789012', region: 'us-west-2', ...overrides };
}

function pool(overrides: Raw = {}): Raw {
  return { name: 'w', replicas: 1, ...overrides };
}

function yaml(...docs: Raw[]): string {
  return docs.map((d) => JSON.stringify(d)).join('\n---\n');
}

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/** A YAML "billion laughs": 9 levels of 9 aliases each (9^9 strings if expanded). */
function aliasBomb(): string {
  const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]`);
  return lines.join('\n');
}

/** Sends raw bytes with exactly the given content type (none when undefined). */
async function send(method: string, path: string, body: string | Uint8Array | undefined, contentType: string | undefined): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${stack.token}` };
  if (contentType !== undefined) headers['content-type'] = contentType;
  const res = await fetch(`${stack.url}${path}`, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : new Blob([body]) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Everything a bad request could have changed: the clusters and the base cluster's event log. */
async function snapshot(): Promise<unknown> {
  const clusters = await stack.call('GET', '/v1/clusters');
  const events = await stack.call('GET', '/v1/clusters/val-base/events?limit=1000');
  return { clusters: clusters.body, events: events.body };
}

interface BadCase {
  readonly name: string;
  readonly method?: string;
  readonly path?: string;
  readonly body: string | Uint8Array | Raw | undefined;
  readonly type?: string | undefined;
  readonly status: number;
  /** The field the error must name in details[].path (exact, or a pattern). */
  readonly field: string | RegExp;
}

const PUT_NEW = '/v1/clusters/val-new';
const PUT_BASE = '/v1/clusters/val-base';

const SPEC_CASES: BadCase[] = [
  { name: 'an even control-plane replica count', body: doc('val-new', { controlPlane: { replicas: 2 } }), status: 400, field: 'spec.controlPlane.replicas' },
  { name: 'nine control-plane replicas', body: doc('val-new', { controlPlane: { replicas: 9 } }), status: 400, field: 'spec.controlPlane.replicas' },
  { name: 'a negative control-plane replica count', body: doc('val-new', { controlPlane: { replicas: -1 } }), status: 400, field: 'spec.controlPlane.replicas' },
  { name: 'a string replica count', body: doc('val-new', { controlPlane: { replicas: 'three' } }), status: 400, field: 'spec.controlPlane.replicas' },
  { name: 'a fractional replica count', body: doc('val-new', { controlPlane: { replicas: 1.5 } }), status: 400, field: 'spec.controlPlane.replicas' },
  { name: 'a control-plane maxSurge of 2', body: doc('val-new', { controlPlane: { replicas: 1, rollout: { maxSurge: 2 } } }), status: 400, field: 'spec.controlPlane.rollout.maxSurge' },
  { name: 'a version that is not semver', body: doc('val-new', { version: 'latest' }), status: 400, field: 'spec.version' },
  { name: 'a missing version', body: { ...doc('val-new'), spec: { infrastructure: { provider: 'local' }, controlPlane: { replicas: 1 } } }, status: 400, field: 'spec.version' },
  { name: 'an unknown provider', body: doc('val-new', { infrastructure: { provider: 'gcp' } }), status: 400, field: /^spec\.infrastructure/ },
  { name: 'an aws cluster without an account', body: doc('val-new', { infrastructure: { provider: 'aws', region: 'us-west-2' } }), status: 400, field: 'spec.infrastructure.account' },
  { name: 'an aws account of 3 digits', body: doc('val-new', { infrastructure: awsInfra({ account: '123' }) }), status: 400, field: 'spec.infrastructure.account' },
  { name: 'an aws cluster without a region', body: doc('val-new', { infrastructure: { provider: 'aws', account: '123456789012' } }), status: 400, field: 'spec.infrastructure.region' },
  { name: 'a malformed aws region', body: doc('val-new', { infrastructure: awsInfra({ region: 'Mars 1' }) }), status: 400, field: 'spec.infrastructure.region' },
  { name: 'local infrastructure with aws fields', body: doc('val-new', { infrastructure: { provider: 'local', account: '123456789012' } }), status: 400, field: /^spec\.infrastructure/ },
  { name: 'a pool name that is not a DNS label', body: doc('val-new', { workers: [pool({ name: 'Bad_Name' })] }), status: 400, field: 'spec.workers[0].name' },
  { name: 'a pool named control-plane', body: doc('val-new', { workers: [pool({ name: 'control-plane' })] }), status: 400, field: 'spec.workers[0].name' },
  { name: 'two pools with one name', body: doc('val-new', { workers: [pool(), pool()] }), status: 400, field: 'spec.workers[1].name' },
  { name: 'a pool of 1001 replicas', body: doc('val-new', { workers: [pool({ replicas: 1001 })] }), status: 400, field: 'spec.workers[0].replicas' },
  { name: 'a pool newer than the control plane', body: doc('val-new', { workers: [pool({ version: 'v1.19.0' })] }), status: 400, field: 'spec.workers[0].version' },
  { name: 'a pool 4 minors older than the control plane', body: doc('val-new', { version: 'v1.22.0', workers: [pool({ version: 'v1.18.8' })] }), status: 400, field: 'spec.workers[0].version' },
  { name: 'maxSurge 0 with maxUnavailable 0', body: doc('val-new', { workers: [pool({ rollout: { maxSurge: 0, maxUnavailable: 0 } })] }), status: 400, field: /^spec\.workers\[0\]\.rollout/ },
  { name: 'an unknown rollout strategy', body: doc('val-new', { workers: [pool({ rollout: { strategy: 'Recreate' } })] }), status: 400, field: 'spec.workers[0].rollout.strategy' },
  { name: 'a maxUnavailable percentage over 100%', body: doc('val-new', { workers: [pool({ rollout: { maxUnavailable: '150%' } })] }), status: 400, field: 'spec.workers[0].rollout.maxUnavailable' },
  { name: 'a maxSurge that is neither an int nor a percentage', body: doc('val-new', { workers: [pool({ rollout: { maxSurge: 'lots' } })] }), status: 400, field: 'spec.workers[0].rollout.maxSurge' },
  { name: 'minReplicas above replicas', body: doc('val-new', { workers: [pool({ replicas: 1, minReplicas: 3 })] }), status: 400, field: /^spec\.workers\[0\]\.(minReplicas|replicas)$/ },
  { name: 'an empty instance type', body: doc('val-new', { workers: [pool({ machine: { instanceType: '' } })] }), status: 400, field: 'spec.workers[0].machine.instanceType' },
  { name: 'a root volume of 0 GiB', body: doc('val-new', { controlPlane: { replicas: 1, machine: { instanceType: 't3.large', rootVolumeSizeGiB: 0 } } }), status: 400, field: 'spec.controlPlane.machine.rootVolumeSizeGiB' },
  { name: 'a pod CIDR that is not a CIDR', body: doc('val-new', { network: { podCidr: '10.0.0.0/33' } }), status: 400, field: 'spec.network.podCidr' },
  { name: 'overlapping pod and service CIDRs', body: doc('val-new', { network: { podCidr: '10.96.0.0/16', serviceCidr: '10.96.0.0/12' } }), status: 400, field: /^spec\.network\.(podCidr|serviceCidr)$/ },
  { name: 'a startup timeout that is not a duration', body: doc('val-new', { healthCheck: { nodeStartupTimeout: 'soon' } }), status: 400, field: 'spec.healthCheck.nodeStartupTimeout' },
  { name: 'an unknown drain policy', body: doc('val-new', { drain: { policy: 'Maybe' } }), status: 400, field: 'spec.drain.policy' },
  { name: 'paused given as a string', body: doc('val-new', { paused: 'yes' }), status: 400, field: 'spec.paused' },
  { name: 'duplicate failure domains', body: doc('val-new', { failureDomains: ['a', 'a'] }), status: 400, field: /^spec\.failureDomains/ },
  { name: 'an unknown spec field', body: doc('val-new', { bogus: 1 }), status: 400, field: 'spec.bogus' },
  { name: 'an unknown top-level field', body: doc('val-new', {}, { extra: true }), status: 400, field: 'extra' },
  { name: 'a kind other than Cluster', body: doc('val-new', {}, { kind: 'Pod' }), status: 400, field: 'kind' },
  { name: 'an unknown apiVersion', body: doc('val-new', {}, { apiVersion: 'capstan.dev/v9' }), status: 400, field: 'apiVersion' },
  { name: 'a label with a non-string value', body: doc('val-new', {}, { metadata: { name: 'val-new', labels: { team: 7 } } }), status: 400, field: /^metadata\.labels/ },
  { name: 'a body name that differs from the path', body: doc('val-other'), status: 400, field: 'metadata.name' },
  { name: 'a 41-character name', path: `/v1/clusters/${'a'.repeat(41)}`, body: doc('a'.repeat(41)), status: 400, field: 'metadata.name' },
  { name: 'an upper-case name', path: '/v1/clusters/Val-New', body: doc('Val-New'), status: 400, field: 'metadata.name' },
  { name: 'a path with a malformed percent escape', path: '/v1/clusters/%E0%A4%A', body: doc('val-new'), status: 400, field: 'path.name' },
];

const UPDATE_CASES: BadCase[] = [
  { name: 'an upgrade that skips a minor (v1.18 → v1.20)', path: PUT_BASE, body: doc('val-base', { version: 'v1.20.0', paused: true }), status: 422, field: 'spec.version' },
  { name: 'a downgrade', path: PUT_BASE, body: doc('val-base', { version: 'v1.17.3', paused: true }), status: 422, field: 'spec.version' },
  { name: 'a change of provider', path: PUT_BASE, body: doc('val-base', { infrastructure: awsInfra(), paused: true }), status: 422, field: /^spec\.infrastructure/ },
  { name: 'a stale If-Match', path: PUT_BASE, body: doc('val-base', { paused: true, workers: [pool()] }), status: 412, field: 'If-Match' },
];

const BODY_CASES: BadCase[] = [
  { name: 'an empty body', body: '', type: JSON_TYPE, status: 400, field: 'body' },
  { name: 'a whitespace body', body: ' \n\t', type: YAML_TYPE, status: 400, field: 'body' },
  { name: 'invalid JSON', body: '{"apiVersion": "capstan.dev/v1alpha1",', type: JSON_TYPE, status: 400, field: 'body' },
  { name: 'invalid YAML', body: 'metadata: [unclosed\nspec: }', type: YAML_TYPE, status: 400, field: 'body' },
  { name: 'YAML sent as JSON', body: 'apiVersion: capstan.dev/v1alpha1\nkind: Cluster\n', type: JSON_TYPE, status: 400, field: 'body' },
  { name: 'invalid UTF-8 bytes', body: Buffer.concat([Buffer.from('{"kind":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]), type: JSON_TYPE, status: 400, field: 'body' },
  { name: 'a lone UTF-16 surrogate', body: JSON.stringify(doc('val-new')).replace('"val-new"}', '"val-new","annotations":{"x":"\\ud800"}}'), type: JSON_TYPE, status: 400, field: /^body|^metadata/ },
  { name: 'a JSON array', body: '[1, 2]', type: JSON_TYPE, status: 400, field: 'body' },
  { name: 'a JSON string', body: '"cluster"', type: JSON_TYPE, status: 400, field: 'body' },
  { name: 'JSON null', body: 'null', type: JSON_TYPE, status: 400, field: 'body' },
  { name: 'two YAML documents on a single-cluster route', body: yaml(doc('val-new'), doc('val-new')), type: YAML_TYPE, status: 400, field: 'body' },
  { name: 'a __proto__ key', body: JSON.stringify(doc('val-new')).replace('"spec":{', '"spec":{"__proto__":{"polluted":true},'), type: JSON_TYPE, status: 400, field: /__proto__/ },
  { name: 'a constructor.prototype key in YAML', body: 'apiVersion: capstan.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: val-new\n  constructor:\n    prototype:\n      polluted: true\nspec: {}\n', type: YAML_TYPE, status: 400, field: /constructor/ },
  { name: 'a prototype key', body: JSON.stringify({ ...doc('val-new'), prototype: { polluted: true } }), type: JSON_TYPE, status: 400, field: /prototype/ },
  { name: '200 levels of nesting', body: JSON.stringify({ ...doc('val-new'), extra: nested(200) }), type: JSON_TYPE, status: 400, field: /^body\.extra(\.a)+$/ },
  { name: '10,000 nested arrays', body: `${'['.repeat(10_000)}${']'.repeat(10_000)}`, type: JSON_TYPE, status: 400, field: 'body' },
  { name: 'a YAML alias bomb', body: aliasBomb(), type: YAML_TYPE, status: 400, field: 'body' },
  { name: 'content type text/plain', body: JSON.stringify(doc('val-new')), type: 'text/plain', status: 415, field: 'content-type' },
  { name: 'no content type', body: new TextEncoder().encode(JSON.stringify(doc('val-new'))), type: undefined, status: 415, field: 'content-type' },
  { name: 'content type application/xml', body: '<cluster/>', type: 'application/xml', status: 415, field: 'content-type' },
  { name: 'a latin-1 charset', body: JSON.stringify(doc('val-new')), type: 'application/json; charset=iso-8859-1', status: 415, field: 'content-type' },
  { name: 'a multipart body', body: JSON.stringify(doc('val-new')), type: 'multipart/form-data', status: 415, field: 'content-type' },
  { name: 'a body of 1 MiB + 1 byte', body: JSON.stringify({ ...doc('val-new'), pad: '' }).replace('"pad":""', `"pad":"${'x'.repeat(1024 * 1024)}"`), type: JSON_TYPE, status: 413, field: 'body' },
  { name: 'a body of 5 MiB', body: 'x'.repeat(5 * 1024 * 1024), type: JSON_TYPE, status: 413, field: 'body' },
];

const PATCH_CASES: BadCase[] = [
  { name: 'a YAML merge patch', method: 'PATCH', path: PUT_BASE, body: 'spec:\n  paused: false\n', type: YAML_TYPE, status: 415, field: 'content-type' },
  { name: 'a merge patch that is an array', method: 'PATCH', path: PUT_BASE, body: '[{"op":"replace"}]', type: MERGE_PATCH, status: 400, field: 'body' },
  { name: 'a merge patch that renames the cluster', method: 'PATCH', path: PUT_BASE, body: '{"metadata":{"name":"val-other"}}', type: MERGE_PATCH, status: 400, field: 'metadata.name' },
  { name: 'a merge patch that removes the version', method: 'PATCH', path: PUT_BASE, body: '{"spec":{"version":null}}', type: MERGE_PATCH, status: 400, field: 'spec.version' },
  { name: 'a merge patch that skips a minor', method: 'PATCH', path: PUT_BASE, body: '{"spec":{"version":"v1.21.0"}}', type: MERGE_PATCH, status: 422, field: 'spec.version' },
  { name: 'a merge patch with a __proto__ key', method: 'PATCH', path: PUT_BASE, body: '{"spec":{"__proto__":{"paused":false}}}', type: MERGE_PATCH, status: 400, field: /__proto__/ },
];

const APPLY = '/v1/apply';
const capiCluster = (name: string): Raw => ({ apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'Cluster', metadata: { name }, spec: { infrastructureRef: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1', kind: 'DockerCluster', name } } });

const APPLY_CASES: BadCase[] = [
  { name: 'an empty apply body', method: 'POST', path: APPLY, body: '', type: YAML_TYPE, status: 400, field: 'body' },
  { name: 'only empty YAML documents', method: 'POST', path: APPLY, body: '---\n---\n', type: YAML_TYPE, status: 400, field: 'body' },
  { name: 'an apply with no Cluster in it', method: 'POST', path: APPLY, body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n', type: YAML_TYPE, status: 400, field: 'body' },
  { name: 'an unsupported kind', method: 'POST', path: APPLY, body: yaml(doc('val-new'), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }), type: YAML_TYPE, status: 422, field: 'documents[1]' },
  { name: 'a MachinePool', method: 'POST', path: APPLY, body: yaml(doc('val-new'), { apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'MachinePool', metadata: { name: 'mp' }, spec: {} }), type: YAML_TYPE, status: 422, field: 'documents[1]' },
  { name: 'a good document before a bad one', method: 'POST', path: APPLY, body: yaml(doc('val-new'), doc('val-new-2', { controlPlane: { replicas: 4 } })), type: YAML_TYPE, status: 400, field: 'documents[1].spec.controlPlane.replicas' },
  { name: 'one cluster twice', method: 'POST', path: APPLY, body: yaml(doc('val-new'), doc('val-new')), type: YAML_TYPE, status: 400, field: /^documents\[1\]/ },
  { name: 'a new cluster with an update that skips a minor', method: 'POST', path: APPLY, body: yaml(doc('val-new'), doc('val-base', { version: 'v1.20.0', paused: true })), type: YAML_TYPE, status: 422, field: 'documents[1].spec.version' },
  { name: 'a Cluster API Cluster whose infrastructure is missing', method: 'POST', path: APPLY, body: yaml(capiCluster('val-capi')), type: YAML_TYPE, status: 400, field: /^documents\[0\]/ },
  { name: 'a document that is a list', method: 'POST', path: APPLY, body: `${JSON.stringify(doc('val-new'))}\n---\n- 1\n- 2\n`, type: YAML_TYPE, status: 400, field: 'documents[1]' },
  { name: 'an apply of invalid YAML', method: 'POST', path: APPLY, body: 'kind: Cluster\n  bad: indent\n', type: YAML_TYPE, status: 400, field: 'body' },
  { name: 'an apply of invalid UTF-8', method: 'POST', path: APPLY, body: Buffer.from([0x6b, 0x3a, 0x20, 0xfe, 0xfe]), type: YAML_TYPE, status: 400, field: 'body' },
  { name: 'an apply alias bomb', method: 'POST', path: APPLY, body: aliasBomb(), type: YAML_TYPE, status: 400, field: 'body' },
  { name: 'an apply with a __proto__ key', method: 'POST', path: APPLY, body: 'apiVersion: capstan.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: val-new\n__proto__:\n  polluted: true\nspec: {}\n', type: YAML_TYPE, status: 400, field: /__proto__/ },
  { name: 'an apply of 101 documents', method: 'POST', path: APPLY, body: Array.from({ length: 101 }, (_, i) => JSON.stringify(doc(`val-n${i}`))).join('\n---\n'), type: YAML_TYPE, status: 400, field: 'body' },
  { name: 'an apply as text/plain', method: 'POST', path: APPLY, body: yaml(doc('val-new')), type: 'text/plain', status: 415, field: 'content-type' },
  { name: 'an apply as a merge patch', method: 'POST', path: APPLY, body: JSON.stringify(doc('val-new')), type: MERGE_PATCH, status: 415, field: 'content-type' },
  { name: 'an apply of 2 MiB', method: 'POST', path: APPLY, body: `# ${'x'.repeat(2 * 1024 * 1024)}\n${yaml(doc('val-new'))}`, type: YAML_TYPE, status: 413, field: 'body' },
];

beforeAll(async () => {
  stack = await startTestStack();
  const created = await stack.call('PUT', PUT_BASE, doc('val-base', { paused: true }));
  if (created.status !== 201) throw new Error(`setup: ${JSON.stringify(created.body)}`);
  await stack.workflow.settle('val-base');
});

afterAll(async () => {
  await stack.destroy();
});

describe.each([
  ['PUT /v1/clusters/{name} with a bad spec', SPEC_CASES],
  ['PUT /v1/clusters/{name} with a bad update', UPDATE_CASES],
  ['PUT /v1/clusters/{name} with a bad body', BODY_CASES],
  ['PATCH /v1/clusters/{name}', PATCH_CASES],
  ['POST /v1/apply', APPLY_CASES],
])('%s', (_title, cases) => {
  it.each(cases)('fails when given $name ($status naming $field), storing nothing', async (c) => {
    // Prepare
    const before = await snapshot();
    const body = c.body === undefined || typeof c.body === 'string' || c.body instanceof Uint8Array ? c.body : JSON.stringify(c.body);
    const type = 'type' in c ? c.type : JSON_TYPE;
    const headers: Record<string, string> = c.status === 412 ? { 'if-match': '"1"' } : {};
    // Act
    const res = c.status === 412
      ? await stack.call(c.method ?? 'PUT', c.path ?? PUT_NEW, c.body, headers)
      : await send(c.method ?? 'PUT', c.path ?? PUT_NEW, body, type);
    // Assess
    expect(res.status).toBe(c.status);
    expect(res.body.error).toEqual({ code: expect.any(String), message: expect.any(String), details: expect.any(Array) });
    const paths: string[] = res.body.error.details.map((d: { path: string }) => d.path);
    if (typeof c.field === 'string') expect(paths).toContain(c.field);
    else expect(paths).toContainEqual(expect.stringMatching(c.field));
    expect(await snapshot()).toEqual(before);
    expect(({} as Raw).polluted).toBeUndefined();
  });
});

describe('the body limit', () => {
  it('accepts a body of exactly settings.maxBodyBytes (the limit is inclusive)', async () => {
    // Prepare: a valid document padded with spaces to exactly the limit.
    const text = JSON.stringify(doc('val-exact', { paused: true }));
    const limit = stack.deps.settings.maxBodyBytes;
    const body = text + ' '.repeat(limit - Buffer.byteLength(text));
    // Act
    const res = await send('PUT', '/v1/clusters/val-exact', body, JSON_TYPE);
    // Assess
    expect(Buffer.byteLength(body)).toBe(1024 * 1024);
    expect(res.status).toBe(201);
  });
});

describe('the error mapping', () => {
  it('answers a throttled store with 429 and Retry-After', async () => {
    // Prepare
    const { TooManyRequestsError } = await import('../../functions/domain/errors.js');
    const spy = jest.spyOn(stack.deps.store, 'listClusters').mockRejectedValueOnce(new TooManyRequestsError('store: DynamoDB throttled Query, retry later'));
    // Act
    const res = await fetch(`${stack.url}/v1/clusters`, { headers: { authorization: `Bearer ${stack.token}` } });
    spy.mockRestore();
    // Assess
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as any).error).toMatchObject({ code: 'TooManyRequests', details: [{ path: 'store' }] });
  });

  it('answers an unexpected failure with 500, a request id, and nothing internal', async () => {
    // Prepare
    const spy = jest.spyOn(stack.deps.store, 'getCluster').mockRejectedValueOnce(new Error('secret table arn:aws:dynamodb:xyz exploded'));
    // Act
    const res = await fetch(`${stack.url}/v1/clusters/val-base`, { headers: { authorization: `Bearer ${stack.token}` } });
    spy.mockRestore();
    const body = (await res.json()) as any;
    // Assess
    expect(res.status).toBe(500);
    expect(body.error).toEqual({ code: 'InternalError', message: `internal error; request id ${res.headers.get('x-request-id')}`, details: [] });
    expect(JSON.stringify(body)).not.toContain('secret');
  });
});
