/**
 * Rolling machine replacement, end to end on the local stack (real machine processes, the ASL interpreter running
 * the same workflow file CDK deploys): create, upgrade by one field, and the guarantees replayed from the event log.
 */
import { readFileSync } from 'node:fs';
import { replayGuarantees } from '../../cli/replay.js';
import { allEvents, clusterDoc, startTestStack, waitFor, waitReady, type TestStack } from './harness.js';

const SPEC = {
  version: 'v1.18.8',
  controlPlane: { replicas: 3 },
  workers: [
    { name: 'md-0', replicas: 4, rollout: { maxSurge: 1, maxUnavailable: 0 } },
    { name: 'md-1', replicas: 3, rollout: { maxSurge: 0, maxUnavailable: 1 } },
  ],
};

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

describe('rolling upgrade of 3 control-plane machines and two pools', () => {
  let stack: TestStack;
  let created: any;
  let upgradeStartSeq = 0;
  let initial: { name: string; pool: string; version: string; ready: boolean }[] = [];

  beforeAll(async () => {
    stack = await startTestStack({ bootMs: 150, drainMsPerPod: 10 });
    const put = await stack.call('PUT', '/v1/clusters/demo', clusterDoc('demo', SPEC));
    expect(put.status).toBe(201);
    created = await waitReady(stack, 'demo');
  }, 90_000);

  afterAll(async () => {
    await stack?.destroy();
  });

  it('reaches Ready with 10 machine processes whose command lines name the cluster and machine', async () => {
    const machines = (await stack.call('GET', '/v1/clusters/demo/machines')).body.items;
    expect(machines).toHaveLength(10);
    expect(machines.every((m: any) => m.phase === 'Ready' && m.version === 'v1.18.8')).toBe(true);
    const processes = await stack.provider.listMachines({ provider: 'local', account: 'local', region: 'local' }, { cluster: 'demo' });
    const running = processes.filter((p) => p.state === 'running');
    expect(running.map((p) => p.name).sort()).toEqual(machines.map((m: any) => m.name).sort());
    for (const p of running) {
      const pid = Number(p.providerId.replace('local:///', ''));
      expect(cmdline(pid)).toContain('demo');
      expect(cmdline(pid)).toContain(p.name);
    }
    expect(created.status.controlPlane).toMatchObject({ replicas: 3, readyReplicas: 3, updatedReplicas: 3 });
  });

  it('replaces every machine after one field changes, control plane first, within the pacing bounds at every event', async () => {
    upgradeStartSeq = (await allEvents(stack.call, 'demo')).length;
    initial = (await stack.call('GET', '/v1/clusters/demo/machines')).body.items.map((m: any) => ({ name: m.name, pool: m.pool, version: m.version, ready: m.phase === 'Ready' }));
    const patch = await stack.call('PATCH', '/v1/clusters/demo', { spec: { version: 'v1.19.1' } }, { 'content-type': 'application/merge-patch+json' });
    expect(patch.status).toBe(200);
    expect(patch.body.metadata.generation).toBe(2);
    const ready = await waitReady(stack, 'demo', 120_000);
    expect(ready.status.observedGeneration).toBe(ready.metadata.generation);

    const machines = (await stack.call('GET', '/v1/clusters/demo/machines')).body.items;
    expect(machines).toHaveLength(10);
    expect(machines.every((m: any) => m.version === 'v1.19.1' && m.phase === 'Ready')).toBe(true);
    const before = new Set((await stack.call('GET', '/v1/clusters/demo/machines?includeDeleted=true')).body.items.filter((m: any) => m.version === 'v1.18.8').map((m: any) => m.name));
    expect(before.size).toBe(10);

    const events = await allEvents(stack.call, 'demo');
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_s, i) => i + 1)); // gap-free, ordered
    // Replaying the upgrade's events from the machines that ran before it: every guarantee holds at every event.
    const result = replayGuarantees(events.filter((e) => e.seq > upgradeStartSeq), ready.spec, { initial, fromVersion: 'v1.18.8', toVersion: 'v1.19.1' });
    expect(result.violations).toEqual([]);
    expect(result.ok).toBe(true);
    expect([...result.replaced].sort()).toEqual([...before].sort());

    const upgrade = events.filter((e) => e.seq > upgradeStartSeq);
    const lastControlPlane = Math.max(...upgrade.filter((e) => e.machine?.startsWith('demo-cp-') && ['MachineDeleted', 'MachineReady'].includes(e.type)).map((e) => e.seq));
    const firstWorker = Math.min(...upgrade.filter((e) => e.pool && e.pool !== 'control-plane' && ['MachineCreated', 'MachineDraining'].includes(e.type)).map((e) => e.seq));
    expect(lastControlPlane).toBeLessThan(firstWorker);
    expect(upgrade.filter((e) => e.type === 'MachineDeleted')).toHaveLength(10);
    expect(upgrade.at(-1)?.type).toBe('RolloutCompleted');
  }, 150_000);

  it('counts at most 12 Step Functions transitions per replaced machine', () => {
    const executions = stack.workflow.executions().filter((e) => e.cluster === 'demo' && e.name.startsWith('demo-g2-'));
    const transitions = executions.reduce((n, e) => n + e.transitions, 0);
    expect(executions.length).toBeGreaterThan(0);
    expect(transitions / 10).toBeLessThanOrEqual(12);
  });

  it('deletes the cluster: no machine process and no record remain', async () => {
    const del = await stack.call('DELETE', '/v1/clusters/demo');
    expect(del.status).toBe(202);
    expect(del.body.status.phase).toBe('Deleting');
    await waitFor(async () => (await stack.call('GET', '/v1/clusters/demo')).status === 404, 60_000);
    const left = await stack.provider.listMachines({ provider: 'local', account: 'local', region: 'local' }, { cluster: 'demo' });
    expect(left.filter((p) => p.state !== 'terminated')).toEqual([]);
  }, 90_000);
});

describe('a machine that never reports Ready', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ bootMs: 100, settings: { maxBootAttempts: 2 } });
  }, 30_000);

  afterAll(async () => {
    await stack?.destroy();
  });

  it('ends as MachineFailed and blocks the rollout with a condition, without dropping capacity', async () => {
    const doc = clusterDoc('flaky', { controlPlane: { replicas: 1 }, workers: [{ name: 'md-0', replicas: 2, rollout: { maxSurge: 1, maxUnavailable: 0 } }], healthCheck: { nodeStartupTimeout: '5s' } });
    expect((await stack.call('PUT', '/v1/clusters/flaky', doc)).status).toBe(201);
    await waitReady(stack, 'flaky');
    stack.provider.setFaults({ neverBoot: true });
    await stack.call('PATCH', '/v1/clusters/flaky', { spec: { version: 'v1.19.1' } }, { 'content-type': 'application/merge-patch+json' });
    const blocked = await waitFor(async () => {
      const c = (await stack.call('GET', '/v1/clusters/flaky')).body;
      const cond = c.status.conditions.find((x: any) => x.type === 'RolloutProgressing');
      return cond?.status === 'False' && cond.reason === 'MachineBootstrapFailed' ? c : undefined;
    }, 60_000);
    expect(blocked.status.conditions.find((x: any) => x.type === 'RolloutProgressing').message).toMatch(/flaky-cp/);
    const events = await allEvents(stack.call, 'flaky');
    expect(events.filter((e) => e.type === 'MachineFailed').length).toBeGreaterThanOrEqual(2);
    expect(events.some((e) => e.type === 'RolloutBlocked')).toBe(true);
    const machines = (await stack.call('GET', '/v1/clusters/flaky/machines')).body.items;
    // The old machines are all still there and Ready: nothing was removed for a replacement that never came up.
    expect(machines.filter((m: any) => m.version === 'v1.18.8' && m.phase === 'Ready')).toHaveLength(3);
  }, 90_000);
});

describe('archiving Deleted machine records after a finished rollout', () => {
  let stack: TestStack;
  beforeAll(async () => {
    // Retention 0: the finished rollout archives every Deleted record at once (the default keeps them a day).
    stack = await startTestStack({ bootMs: 100, drainMsPerPod: 5, settings: { deletedMachineRetentionSeconds: 0 } });
  });
  afterAll(async () => {
    await stack?.destroy();
  });

  it('keeps plan steps O(live machines), keeps the history in the event log, and never reuses a machine name', async () => {
    const spec = { version: 'v1.18.8', controlPlane: { replicas: 1 }, workers: [{ name: 'md-0', replicas: 2, rollout: { maxSurge: 1, maxUnavailable: 0 } }] };
    expect((await stack.call('PUT', '/v1/clusters/arch', clusterDoc('arch', spec))).status).toBe(201);
    await waitReady(stack, 'arch');
    const patch = { spec: { version: 'v1.19.1' } };
    expect((await stack.call('PATCH', '/v1/clusters/arch', patch, { 'content-type': 'application/merge-patch+json' })).status).toBe(200);
    await waitReady(stack, 'arch');
    await stack.workflow.settle('arch');

    // Only the live machines are left; the three replaced ones are archived, their history is in the log.
    const records = (await stack.call('GET', '/v1/clusters/arch/machines?includeDeleted=true')).body.items as any[];
    expect(records.map((m) => [m.phase, m.version])).toEqual(records.map(() => ['Ready', 'v1.19.1']));
    expect(records).toHaveLength(3);
    const events = await allEvents(stack.call, 'arch');
    const everCreated = events.filter((e) => e.type === 'MachineCreated').map((e) => e.machine);
    expect(events.filter((e) => e.type === 'MachineDeleted')).toHaveLength(3);
    expect(everCreated).toHaveLength(6);

    // A new machine gets a name no machine ever had (the pool's highest ordinal is a live record).
    const scale = { spec: { workers: [{ name: 'md-0', replicas: 3, rollout: { maxSurge: 1, maxUnavailable: 0 } }] } };
    expect((await stack.call('PATCH', '/v1/clusters/arch', scale, { 'content-type': 'application/merge-patch+json' })).status).toBe(200);
    await waitReady(stack, 'arch');
    const after = (await stack.call('GET', '/v1/clusters/arch/machines')).body.items as any[];
    const added = after.filter((m) => !records.some((r) => r.name === m.name));
    expect(added).toHaveLength(1);
    expect(everCreated).not.toContain(added[0].name);
  }, 90_000);
});
