/**
 * Acceptance: optimistic concurrency over real HTTP (issue "Foundation", API point 3). Concurrent writers with the
 * same `If-Match` race; exactly one wins (200), every other gets 412, and the stored spec is the winner's. Writers
 * without `If-Match` never see a 412 for a race they could not know about.
 *
 * Clusters here are paused: no machines, and once the first plan has run no status write moves resourceVersion.
 */
import { clusterDoc, startTestStack, type TestStack } from './harness.js';

let stack: TestStack;

function poolOf(replicas: number): Record<string, unknown> {
  return { paused: true, workers: [{ name: 'w', replicas }] };
}

/** Creates a paused cluster and returns its resourceVersion once nothing else writes it. */
async function quiescent(name: string): Promise<string> {
  const created = await stack.call('PUT', `/v1/clusters/${name}`, clusterDoc(name, poolOf(0)));
  expect(created.status).toBe(201);
  await stack.workflow.settle(name);
  return (await stack.call('GET', `/v1/clusters/${name}`)).body.metadata.resourceVersion;
}

function count(statuses: number[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1;
  return out;
}

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack.destroy();
});

describe('If-Match', () => {
  it('lets exactly one of two concurrent updates with the same If-Match win (200), the other gets 412', async () => {
    // Prepare
    const rv = await quiescent('cc-two');
    // Act
    const [a, b] = await Promise.all([
      stack.call('PUT', '/v1/clusters/cc-two', clusterDoc('cc-two', poolOf(1)), { 'if-match': `"${rv}"` }),
      stack.call('PATCH', '/v1/clusters/cc-two', { spec: { workers: [{ name: 'w', replicas: 2 }] } }, { 'if-match': `"${rv}"`, 'content-type': 'application/merge-patch+json' }),
    ]);
    const stored = (await stack.call('GET', '/v1/clusters/cc-two')).body;
    // Assess
    expect([a!.status, b!.status].sort()).toEqual([200, 412]);
    const winner = a!.status === 200 ? a! : b!;
    const loser = a!.status === 200 ? b! : a!;
    expect(loser.body.error).toMatchObject({ code: 'PreconditionFailed', details: [{ path: 'If-Match' }] });
    expect(stored.spec.workers[0].replicas).toBe(winner.body.spec.workers[0].replicas);
    expect(stored.metadata.generation).toBe(2);
  });

  it('lets exactly one of 20 concurrent PUTs with the same If-Match win', async () => {
    // Prepare
    const rv = await quiescent('cc-twenty');
    // Act
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stack.call('PUT', '/v1/clusters/cc-twenty', clusterDoc('cc-twenty', poolOf(i + 1)), { 'if-match': `"${rv}"` })),
    );
    const stored = (await stack.call('GET', '/v1/clusters/cc-twenty')).body;
    const events = (await stack.call('GET', '/v1/clusters/cc-twenty/events?limit=1000')).body.items as { type: string }[];
    // Assess
    expect(count(results.map((r) => r.status))).toEqual({ 200: 1, 412: 19 });
    const winner = results.find((r) => r.status === 200)!;
    expect(stored.spec.workers[0].replicas).toBe(winner.body.spec.workers[0].replicas);
    expect(stored.metadata.generation).toBe(2);
    expect(events.filter((e) => e.type === 'ClusterUpdated')).toHaveLength(1);
  });

  it('lets exactly one of a concurrent DELETE and PUT with the same If-Match win', async () => {
    // Prepare
    const rv = await quiescent('cc-del');
    // Act
    const [del, put] = await Promise.all([
      stack.call('DELETE', '/v1/clusters/cc-del', undefined, { 'if-match': `"${rv}"` }),
      stack.call('PUT', '/v1/clusters/cc-del', clusterDoc('cc-del', poolOf(3)), { 'if-match': `"${rv}"` }),
    ]);
    // Assess
    expect([del!.status, put!.status].filter((s) => s === 412)).toHaveLength(1);
    expect([del!.status, put!.status]).toContain(del!.status === 412 ? 200 : 202);
  });
});

describe('writes without If-Match', () => {
  it('answers 10 concurrent identical creates with one 201 and nine 200 (unchanged), never 409', async () => {
    // Act
    const results = await Promise.all(Array.from({ length: 10 }, () => stack.call('PUT', '/v1/clusters/cc-same', clusterDoc('cc-same', poolOf(0)))));
    const stored = (await stack.call('GET', '/v1/clusters/cc-same')).body;
    // Assess
    expect(count(results.map((r) => r.status))).toEqual({ 200: 9, 201: 1 });
    expect(new Set(results.map((r) => r.body.metadata.uid))).toEqual(new Set([stored.metadata.uid]));
    expect(stored.metadata.generation).toBe(1);
  });

  it('applies 5 concurrent different PUTs one after another: every one succeeds and the last writer wins', async () => {
    // Prepare
    await quiescent('cc-many');
    // Act
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => stack.call('PUT', '/v1/clusters/cc-many', clusterDoc('cc-many', poolOf(n)))));
    const stored = (await stack.call('GET', '/v1/clusters/cc-many')).body;
    // Assess
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const generations = results.map((r) => r.body.metadata.generation as number);
    expect(new Set(generations).size).toBe(5);
    const last = results[generations.indexOf(Math.max(...generations))]!;
    expect(stored.spec.workers[0].replicas).toBe(last.body.spec.workers[0].replicas);
    expect(stored.metadata.generation).toBe(6);
  });
});
