/**
 * Acceptance: the cluster CRUD round trip over real HTTP against the in-process local stack (issue "Foundation",
 * API points 1 and 6): defaults in the response, generation/resourceVersion, no-op PUT, GET-then-PUT, merge patch,
 * DELETE → 202 + Deleting → gone, the event log's pagination, and machines with `includeDeleted`.
 */
import { clusterDoc, startTestStack, waitFor, waitReady, type TestStack } from './harness.js';

const MERGE_PATCH = { 'content-type': 'application/merge-patch+json' };

let stack: TestStack;
/** Every machine process seen, to prove none survives the stack. */
const machinePids = new Set<number>();

function rememberPids(items: { providerId?: string }[]): void {
  for (const m of items) {
    const pid = Number(/^local:\/\/\/(\d+)$/.exec(m.providerId ?? '')?.[1]);
    if (pid) machinePids.add(pid);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack.destroy();
  await waitFor(async () => [...machinePids].every((pid) => !alive(pid)), 10_000);
});

describe('PUT /v1/clusters/{name}', () => {
  it('creates a cluster (201) whose response shows the defaults, server metadata and status', async () => {
    // Act
    const res = await stack.call('PUT', '/v1/clusters/crud-a', clusterDoc('crud-a', { paused: true }));
    // Assess
    expect(res.status).toBe(201);
    expect(res.headers.get('etag')).toBe(`"${res.body.metadata.resourceVersion}"`);
    expect(res.body.metadata).toEqual({
      name: 'crud-a',
      uid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      generation: 1,
      resourceVersion: expect.any(String),
      creationTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(res.body.spec).toMatchObject({
      network: { podCidr: '192.168.0.0/16', serviceCidr: '10.96.0.0/12' },
      failureDomains: [],
      controlPlane: { replicas: 1, machine: { instanceType: expect.any(String) }, rollout: { maxSurge: 1 } },
      healthCheck: { nodeStartupTimeout: '10m', unhealthyTimeout: '5m', maxUnhealthy: '40%' },
      drain: { timeout: '10m', policy: 'Wait' },
      paused: true,
    });
    expect(res.body.status).toMatchObject({ phase: 'Provisioning', observedGeneration: expect.any(Number), conditions: expect.any(Array) });
    expect(res.body.status.controlPlane).toMatchObject({ version: 'v1.18.8', replicas: expect.any(Number), readyReplicas: 0, updatedReplicas: expect.any(Number) });
  });

  it('answers an unchanged spec with 200 and the same generation', async () => {
    // Prepare
    await stack.workflow.settle('crud-a');
    const before = (await stack.call('GET', '/v1/clusters/crud-a')).body;
    // Act
    const res = await stack.call('PUT', '/v1/clusters/crud-a', clusterDoc('crud-a', { paused: true }));
    // Assess
    expect(res.status).toBe(200);
    expect(res.body.metadata.generation).toBe(before.metadata.generation);
    expect(res.body.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it('accepts the served resource back (GET then PUT) as a no-op, server fields stripped', async () => {
    // Prepare
    await stack.workflow.settle('crud-a');
    const served = (await stack.call('GET', '/v1/clusters/crud-a')).body;
    // Act
    const res = await stack.call('PUT', '/v1/clusters/crud-a', served);
    // Assess
    expect(res.status).toBe(200);
    expect(res.body.metadata).toEqual(served.metadata);
    expect(res.body.spec).toEqual(served.spec);
  });

  it('bumps generation and resourceVersion on a spec change, and only resourceVersion on a label change', async () => {
    // Prepare
    await stack.workflow.settle('crud-a');
    const before = (await stack.call('GET', '/v1/clusters/crud-a')).body;
    // Act
    const spec = await stack.call('PUT', '/v1/clusters/crud-a', clusterDoc('crud-a', { paused: true, workers: [{ name: 'w', replicas: 0 }] }));
    await stack.workflow.settle('crud-a');
    const labelled = await stack.call('PUT', '/v1/clusters/crud-a', { ...clusterDoc('crud-a', { paused: true, workers: [{ name: 'w', replicas: 0 }] }), metadata: { name: 'crud-a', labels: { team: 'a' } } });
    // Assess
    expect(spec.status).toBe(200);
    expect(spec.body.metadata.generation).toBe(before.metadata.generation + 1);
    expect(Number(spec.body.metadata.resourceVersion)).toBeGreaterThan(Number(before.metadata.resourceVersion));
    expect(labelled.status).toBe(200);
    expect(labelled.body.metadata.generation).toBe(spec.body.metadata.generation);
    expect(labelled.body.metadata.labels).toEqual({ team: 'a' });
    expect(Number(labelled.body.metadata.resourceVersion)).toBeGreaterThan(Number(spec.body.metadata.resourceVersion));
  });

  it('fails when If-Match is stale (412) and changes nothing', async () => {
    // Prepare
    await stack.workflow.settle('crud-a');
    const before = (await stack.call('GET', '/v1/clusters/crud-a')).body;
    // Act
    const res = await stack.call('PUT', '/v1/clusters/crud-a', clusterDoc('crud-a', { paused: true, workers: [{ name: 'w', replicas: 2 }] }), { 'if-match': '"1"' });
    // Assess
    expect(res.status).toBe(412);
    expect(res.body.error).toMatchObject({ code: 'PreconditionFailed', details: [{ path: 'If-Match', message: expect.stringContaining('stale') }] });
    expect((await stack.call('GET', '/v1/clusters/crud-a')).body).toEqual(before);
  });

  it('fails when If-Match names a cluster that does not exist (412)', async () => {
    // Act
    const res = await stack.call('PUT', '/v1/clusters/crud-none', clusterDoc('crud-none'), { 'if-match': '"3"' });
    // Assess
    expect(res.status).toBe(412);
    expect((await stack.call('GET', '/v1/clusters/crud-none')).status).toBe(404);
  });

  it('accepts an update with the current If-Match (quoted ETag or bare resourceVersion)', async () => {
    // Prepare
    await stack.workflow.settle('crud-a');
    const res1 = await stack.call('GET', '/v1/clusters/crud-a');
    // Act
    const quoted = await stack.call('PUT', '/v1/clusters/crud-a', clusterDoc('crud-a', { paused: true, workers: [{ name: 'w', replicas: 1 }] }), { 'if-match': res1.headers.get('etag')! });
    await stack.workflow.settle('crud-a');
    const current = (await stack.call('GET', '/v1/clusters/crud-a')).body;
    const bare = await stack.call('PUT', '/v1/clusters/crud-a', clusterDoc('crud-a', { paused: true, workers: [{ name: 'w', replicas: 0 }] }), { 'if-match': current.metadata.resourceVersion });
    // Assess
    expect(quoted.status).toBe(200);
    expect(bare.status).toBe(200);
    expect(bare.body.spec.workers[0].replicas).toBe(0);
  });

  it('shows an aws cluster stored but not provisioned, with ProviderAvailable=False', async () => {
    // Act
    const res = await stack.call('PUT', '/v1/clusters/crud-aws', clusterDoc('crud-aws', { infrastructure: { provider: 'aws', account: '123456789012', region: 'us-west-2' } }));
    await stack.workflow.settle('crud-aws');
    const got = await stack.call('GET', '/v1/clusters/crud-aws');
    const machines = await stack.call('GET', '/v1/clusters/crud-aws/machines?includeDeleted=true');
    // Assess
    expect(res.status).toBe(201);
    expect(got.body.spec.infrastructure).toEqual({ provider: 'aws', account: '123456789012', region: 'us-west-2' });
    expect(got.body.status.conditions).toContainEqual(expect.objectContaining({ type: 'ProviderAvailable', status: 'False', message: expect.stringContaining('aws') }));
    expect(machines.body.items).toEqual([]);
  });
});

describe('GET /v1/clusters', () => {
  it('lists every cluster, page by page with limit and next', async () => {
    // Prepare
    const all = await stack.call('GET', '/v1/clusters');
    // Act
    const names: string[] = [];
    let path = '/v1/clusters?limit=1';
    for (let pages = 0; pages < 20; pages++) {
      const page = await stack.call('GET', path);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(1);
      names.push(...page.body.items.map((c: { metadata: { name: string } }) => c.metadata.name));
      if (!page.body.next) break;
      path = `/v1/clusters?limit=1&cursor=${encodeURIComponent(page.body.next)}`;
    }
    // Assess
    expect(all.status).toBe(200);
    expect(names).toEqual(all.body.items.map((c: { metadata: { name: string } }) => c.metadata.name));
    expect(names).toEqual(expect.arrayContaining(['crud-a', 'crud-aws']));
  });
});

describe('PATCH /v1/clusters/{name}', () => {
  it('applies a JSON merge patch (set a field, add and remove labels) and bumps generation once', async () => {
    // Prepare
    await stack.workflow.settle('crud-a');
    const before = (await stack.call('GET', '/v1/clusters/crud-a')).body;
    // Act
    const res = await stack.call('PATCH', '/v1/clusters/crud-a', { metadata: { labels: { team: null, tier: 'gold' } }, spec: { drain: { policy: 'Force' } } }, MERGE_PATCH);
    // Assess
    expect(res.status).toBe(200);
    expect(res.body.metadata.labels).toEqual({ tier: 'gold' });
    expect(res.body.spec.drain).toEqual({ timeout: '10m', policy: 'Force' });
    expect(res.body.spec.workers).toEqual(before.spec.workers);
    expect(res.body.metadata.generation).toBe(before.metadata.generation + 1);
  });

  it('succeeds without If-Match while a rollout keeps writing the status', async () => {
    // Prepare: an unpaused cluster rolls out and writes its status many times a second.
    await stack.call('PUT', '/v1/clusters/crud-busy', clusterDoc('crud-busy', { workers: [{ name: 'w', replicas: 1 }] }));
    // Act
    const results = [];
    for (const policy of ['Force', 'Wait', 'Force', 'Wait', 'Force']) {
      results.push((await stack.call('PATCH', '/v1/clusters/crud-busy', { spec: { drain: { policy } } }, MERGE_PATCH)).status);
    }
    const ready = await waitReady(stack, 'crud-busy');
    // Assess
    expect(results).toEqual([200, 200, 200, 200, 200]);
    expect(ready.spec.drain.policy).toBe('Force');
  });

  it('fails when the merge patch breaks the spec (400 naming the field)', async () => {
    // Act
    const res = await stack.call('PATCH', '/v1/clusters/crud-a', { spec: { controlPlane: { replicas: 4 } } }, MERGE_PATCH);
    // Assess
    expect(res.status).toBe(400);
    expect(res.body.error.details).toContainEqual(expect.objectContaining({ path: 'spec.controlPlane.replicas' }));
  });

  it('fails when the cluster does not exist (404)', async () => {
    // Act
    const res = await stack.call('PATCH', '/v1/clusters/crud-none', { spec: { paused: false } }, MERGE_PATCH);
    // Assess
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NotFound');
  });
});

describe('GET /v1/clusters/{name}/machines and /events', () => {
  it('lists live machines, and deleted ones with deletedAt only with includeDeleted=true', async () => {
    // Prepare: crud-busy is Ready with one worker; scale it to zero and wait for the removal.
    await stack.call('PATCH', '/v1/clusters/crud-busy', { spec: { workers: [{ name: 'w', replicas: 0 }] } }, MERGE_PATCH);
    await waitReady(stack, 'crud-busy');
    // Act
    const live = await stack.call('GET', '/v1/clusters/crud-busy/machines');
    const all = await stack.call('GET', '/v1/clusters/crud-busy/machines?includeDeleted=true');
    rememberPids(all.body.items);
    // Assess
    expect(live.status).toBe(200);
    expect(live.body.items).toEqual([
      { name: 'crud-busy-cp-1', role: 'control-plane', pool: 'control-plane', version: 'v1.18.8', phase: 'Ready', providerId: expect.stringMatching(/^local:\/\/\//), address: expect.any(String), createdAt: expect.any(String), readyAt: expect.any(String) },
    ]);
    const deleted = all.body.items.filter((m: { phase: string }) => m.phase === 'Deleted');
    expect(deleted).toEqual([expect.objectContaining({ name: 'crud-busy-w-1', role: 'worker', pool: 'w', deletedAt: expect.any(String), readyAt: expect.any(String) })]);
    expect(all.body.items).toHaveLength(2);
  });

  it('pages through the event log with limit, next and after, in seq order without gaps', async () => {
    // Prepare
    const whole = await stack.call('GET', '/v1/clusters/crud-busy/events?limit=1000');
    // Act
    const seen: { seq: number }[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await stack.call('GET', `/v1/clusters/crud-busy/events?limit=3${after ? `&after=${encodeURIComponent(after)}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items);
      after = page.body.next;
      if (!after) break;
    }
    const last = whole.body.items.at(-1).seq;
    const beyond = await stack.call('GET', `/v1/clusters/crud-busy/events?after=${last}`);
    // Assess
    expect(whole.body.items.length).toBeGreaterThan(6);
    expect(seen).toEqual(whole.body.items);
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    expect(whole.body.items.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['ClusterCreated', 'MachineCreated', 'MachineReady', 'MachineDeleted']));
    expect(whole.body.items.find((e: { type: string }) => e.type === 'MachineDeleted')).toMatchObject({ machine: 'crud-busy-w-1', pool: 'w', time: expect.any(String), message: expect.any(String) });
    expect(beyond.body).toEqual({ items: [] });
  });

  it.each([
    ['after=-1', 'query.after'],
    ['after=abc', 'query.after'],
    ['limit=0', 'query.limit'],
    ['limit=1001', 'query.limit'],
  ])('fails when the events query is %s (400 naming %s)', async (query, path) => {
    // Act
    const res = await stack.call('GET', `/v1/clusters/crud-busy/events?${query}`);
    // Assess
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ path })]);
  });

  it.each(['machines', 'events'])('fails when the cluster of /%s does not exist (404)', async (what) => {
    // Act
    const res = await stack.call('GET', `/v1/clusters/crud-none/${what}`);
    // Assess
    expect(res.status).toBe(404);
  });
});

describe('DELETE /v1/clusters/{name}', () => {
  it('answers 202 with phase Deleting, keeps the cluster visible, then removes it once its machines are gone', async () => {
    // Prepare
    await stack.call('PUT', '/v1/clusters/crud-del', clusterDoc('crud-del', { workers: [{ name: 'w', replicas: 1 }] }));
    await waitReady(stack, 'crud-del');
    const machines = (await stack.call('GET', '/v1/clusters/crud-del/machines')).body.items as { providerId?: string }[];
    rememberPids(machines);
    const pids = machines.map((m) => Number(m.providerId?.split('///')[1]));
    // Act
    const res = await stack.call('DELETE', '/v1/clusters/crud-del');
    const during = await stack.call('GET', '/v1/clusters/crud-del');
    const again = await stack.call('DELETE', '/v1/clusters/crud-del');
    const put = await stack.call('PUT', '/v1/clusters/crud-del', clusterDoc('crud-del'));
    // Assess
    expect(res.status).toBe(202);
    expect(res.body.status.phase).toBe('Deleting');
    expect(res.body.metadata.deletionTimestamp).toEqual(expect.any(String));
    expect(during.status).toBe(200);
    expect(during.body.status.phase).toBe('Deleting');
    expect(again.status).toBe(202);
    expect(put.status).toBe(409);
    await waitFor(async () => (await stack.call('GET', '/v1/clusters/crud-del')).status === 404, 15_000);
    expect(pids).toHaveLength(2);
    await waitFor(async () => pids.every((pid) => !alive(pid)), 5_000);
  });

  it('fails when the cluster does not exist (404)', async () => {
    // Act
    const res = await stack.call('DELETE', '/v1/clusters/crud-none');
    // Assess
    expect(res.status).toBe(404);
  });
});
