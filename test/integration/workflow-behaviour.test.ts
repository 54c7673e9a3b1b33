/**
 * Workflow behaviour beyond the happy path: pausing, a spec change during a rollout, drain escalation, and the
 * one-execution-per-cluster lease.
 */
import { plan } from '../../functions/phases/plan.js';
import { clusterDoc, startTestStack, waitFor, waitReady, type TestStack } from './harness.js';

const MERGE = { 'content-type': 'application/merge-patch+json' };

async function events(stack: TestStack, name: string): Promise<any[]> {
  return (await stack.call('GET', `/v1/clusters/${name}/events?limit=1000`)).body.items;
}

function condition(cluster: any, type: string): any {
  return cluster.status.conditions.find((c: any) => c.type === type);
}

describe('workflow behaviour', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ bootMs: 150 });
  }, 30_000);

  afterAll(async () => {
    await stack?.destroy();
  });

  it('stops at the next step boundary while spec.paused is true, and resumes when it is cleared', async () => {
    await stack.call('PUT', '/v1/clusters/paws', clusterDoc('paws', { workers: [{ name: 'md-0', replicas: 2 }] }));
    await waitReady(stack, 'paws');
    expect((await stack.call('PATCH', '/v1/clusters/paws', { spec: { paused: true, version: 'v1.19.1' } }, MERGE)).status).toBe(200);
    const paused = await waitFor(async () => {
      const c = (await stack.call('GET', '/v1/clusters/paws')).body;
      return condition(c, 'RolloutProgressing')?.reason === 'Paused' ? c : undefined;
    });
    expect(condition(paused, 'Paused').status).toBe('True');
    await new Promise((r) => setTimeout(r, 1000));
    const machines = (await stack.call('GET', '/v1/clusters/paws/machines')).body.items;
    expect(machines.filter((m: any) => m.version === 'v1.19.1')).toEqual([]);
    expect(stack.workflow.isRunning('paws')).toBe(false);

    await stack.call('PATCH', '/v1/clusters/paws', { spec: { paused: false } }, MERGE);
    const ready = await waitReady(stack, 'paws');
    expect(condition(ready, 'Paused').status).toBe('False');
    const after = (await stack.call('GET', '/v1/clusters/paws/machines')).body.items;
    expect(after.every((m: any) => m.version === 'v1.19.1')).toBe(true);
    expect((await events(stack, 'paws')).map((e) => e.type)).toEqual(expect.arrayContaining(['ClusterPaused', 'ClusterResumed']));
  }, 60_000);

  it('picks up a spec change during a rollout at the next plan step, without a second execution', async () => {
    await stack.call('PUT', '/v1/clusters/mid', clusterDoc('mid', { workers: [{ name: 'md-0', replicas: 3, rollout: { maxSurge: 1, maxUnavailable: 0 } }] }));
    await waitReady(stack, 'mid');
    await stack.call('PATCH', '/v1/clusters/mid', { spec: { version: 'v1.19.1' } }, MERGE);
    await waitFor(async () => (await events(stack, 'mid')).some((e) => e.type === 'MachineCreated' && e.pool === 'md-0' && e.data?.version === 'v1.19.1'));
    expect((await stack.call('PATCH', '/v1/clusters/mid', { spec: { workers: [{ name: 'md-0', replicas: 4, rollout: { maxSurge: 1, maxUnavailable: 0 } }] } }, MERGE)).status).toBe(200);
    const ready = await waitReady(stack, 'mid');
    expect(ready.metadata.generation).toBe(3);
    const machines = (await stack.call('GET', '/v1/clusters/mid/machines')).body.items;
    expect(machines).toHaveLength(5);
    expect(machines.every((m: any) => m.version === 'v1.19.1')).toBe(true);
    // Executions of this cluster never overlapped in time.
    const runs = stack.workflow.executions().filter((e) => e.cluster === 'mid').map((e) => [e.startedAt, e.finishedAt ?? Infinity] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < runs.length; i++) expect(runs[i]![0]).toBeGreaterThanOrEqual(runs[i - 1]![1]);
  }, 60_000);

  it('escalates a drain blocked by a disruption budget past drain.timeout, then follows policy Force', async () => {
    await stack.call('PUT', '/v1/clusters/pdb', clusterDoc('pdb', { workers: [{ name: 'md-0', replicas: 1, rollout: { maxSurge: 1, maxUnavailable: 0 } }], drain: { timeout: '1s', policy: 'Wait' } }));
    const created = await waitReady(stack, 'pdb');
    const ref = { name: 'pdb', uid: created.metadata.uid, scope: { provider: 'local' as const, account: 'local', region: 'local' } };
    for (const m of (await stack.call('GET', '/v1/clusters/pdb/machines')).body.items) {
      expect(await stack.provider.injectMachineFault(ref, m.name, { pdbBlocksDrain: true })).toBe(true);
    }
    await stack.call('PATCH', '/v1/clusters/pdb', { spec: { version: 'v1.19.1' } }, MERGE);
    const blocked = await waitFor(async () => {
      const c = (await stack.call('GET', '/v1/clusters/pdb')).body;
      return condition(c, 'MachinesDrained')?.status === 'False' ? c : undefined;
    }, 30_000);
    expect(condition(blocked, 'MachinesDrained')).toMatchObject({ reason: 'DrainTimeout' });
    expect(condition(blocked, 'MachinesDrained').message).toMatch(/blocked by .*(PodDisruptionBudget|disruption)/i);
    const drainEvents = (await events(stack, 'pdb')).filter((e) => e.type === 'MachineDrainBlocked');
    expect(drainEvents.length).toBeGreaterThanOrEqual(1);
    expect(drainEvents[0].message).toMatch(/policy Wait/);

    await stack.call('PATCH', '/v1/clusters/pdb', { spec: { drain: { timeout: '1s', policy: 'Force' } } }, MERGE);
    const ready = await waitReady(stack, 'pdb', 60_000);
    expect(condition(ready, 'MachinesDrained').status).toBe('True');
  }, 90_000);

  it('lets only the lease holder plan: a second execution for the same cluster is superseded', async () => {
    await stack.call('PUT', '/v1/clusters/lease', clusterDoc('lease', { paused: true }));
    await stack.workflow.settle('lease');
    const first = await plan({ cluster: 'lease', execution: 'exec-a', iteration: 0 }, stack.deps);
    expect(first.plan.action).toBe('Paused');
    await stack.deps.store.acquireLease('lease', 'exec-a', 3600, new Date());
    const second = await plan({ cluster: 'lease', execution: 'exec-b', iteration: 0 }, stack.deps);
    expect(second.plan.action).toBe('Superseded');
    const again = await plan({ cluster: 'lease', execution: 'exec-a', iteration: 0 }, stack.deps);
    expect(again.plan.action).toBe('Paused');
  });
});

describe('a cluster whose provider is disabled in this hosting', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
  }, 30_000);

  afterAll(async () => {
    await stack?.destroy();
  });

  it('is stored with ProviderAvailable=False, and can be deleted since nothing was provisioned', async () => {
    const doc = clusterDoc('remote', { infrastructure: { provider: 'aws', account: '123456789012', region: 'eu-west-1' } });
    expect((await stack.call('PUT', '/v1/clusters/remote', doc)).status).toBe(201);
    await stack.workflow.settle('remote');
    const stored = (await stack.call('GET', '/v1/clusters/remote')).body;
    expect(condition(stored, 'ProviderAvailable')).toMatchObject({ status: 'False', reason: 'ProviderDisabled' });
    expect(condition(stored, 'ProviderAvailable').message).toMatch(/CAPSTAN_ENABLE_AWS=1/);
    expect((await stack.call('DELETE', '/v1/clusters/remote')).status).toBe(202);
    await waitFor(async () => (await stack.call('GET', '/v1/clusters/remote')).status === 404, 15_000);
  });
});

describe('hand-over to a fresh execution (history budget)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ bootMs: 100, settings: { continueAfterIterations: 2 } });
  }, 30_000);

  afterAll(async () => {
    await stack?.destroy();
  });

  it('finishes a rollout across several executions that never overlap, without losing a step', async () => {
    await stack.call('PUT', '/v1/clusters/relay', clusterDoc('relay', { workers: [{ name: 'md-0', replicas: 2 }] }));
    await waitReady(stack, 'relay');
    await stack.call('PATCH', '/v1/clusters/relay', { spec: { version: 'v1.19.1' } }, MERGE);
    await waitReady(stack, 'relay');
    const machines = (await stack.call('GET', '/v1/clusters/relay/machines')).body.items;
    expect(machines.map((m: any) => m.version)).toEqual(['v1.19.1', 'v1.19.1', 'v1.19.1']);
    const runs = stack.workflow.executions().filter((e) => e.cluster === 'relay');
    expect(runs.length).toBeGreaterThanOrEqual(4);
    expect(runs.every((r) => r.status === 'SUCCEEDED')).toBe(true);
    const spans = runs.map((e) => [e.startedAt, e.finishedAt ?? Infinity] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1] - 5);
  }, 60_000);
});
