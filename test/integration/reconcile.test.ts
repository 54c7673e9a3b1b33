/**
 * Reconcile and repair, end to end on the local stack (real machine processes): a killed machine is replaced through
 * the event path and through the sweep, orphans are terminated, health checks remediate one machine but never a
 * wide outage, a stuck rollout is reported, and a replicas PATCH moves only its pool.
 */
import { killMachineProcess, startOrphan } from '../../providers/local/local-provider.js';
import type { ClusterRef } from '../../functions/domain/provider.js';
import { sweep, type SweepReport } from '../../functions/reconcile/sweep.js';
import { allEvents, clusterDoc, startTestStack, waitFor, waitReady, type TestStack } from './harness.js';

const SCOPE = { provider: 'local', account: 'local', region: 'local' } as const;
const MERGE = { 'content-type': 'application/merge-patch+json' };

async function machines(stack: TestStack, name: string, includeDeleted = false): Promise<any[]> {
  return (await stack.call('GET', `/v1/clusters/${name}/machines${includeDeleted ? '?includeDeleted=true' : ''}`)).body.items;
}

async function create(stack: TestStack, name: string, spec: Record<string, unknown>): Promise<any> {
  const put = await stack.call('PUT', `/v1/clusters/${name}`, clusterDoc(name, spec));
  expect(put.status).toBe(201);
  return waitReady(stack, name);
}

function condition(cluster: any, type: string): any {
  return cluster.status.conditions.find((c: any) => c.type === type);
}

describe('reconcile on the local provider', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ bootMs: 150, drainMsPerPod: 10, watchMachines: true, settings: { orphanGraceSeconds: 1 } });
  }, 30_000);

  afterAll(async () => {
    await stack?.destroy();
  });

  describe('a killed worker machine', () => {
    let uid: string;

    beforeAll(async () => {
      uid = (await create(stack, 'drift', { workers: [{ name: 'md-0', replicas: 2 }] })).metadata.uid;
    }, 60_000);

    it('is replaced through the event path within seconds, and the event log says why', async () => {
      const started = Date.now();
      expect(await killMachineProcess(stack.home, uid, 'drift-md-0-1')).toBeDefined();
      const missing = await waitFor(async () => (await allEvents(stack.call, 'drift')).find((e) => e.type === 'MachineMissing' && e.machine === 'drift-md-0-1'), 15_000);
      const noticedMs = Date.now() - started;
      expect(noticedMs).toBeLessThan(5_000);
      expect(missing.message).toMatch(/drift-md-0-1 disappeared at the provider \(terminated\); it will be replaced/);
      await waitFor(async () => {
        const live = (await machines(stack, 'drift')).filter((m) => m.pool === 'md-0');
        return live.length === 2 && live.every((m) => m.phase === 'Ready') && !live.some((m) => m.name === 'drift-md-0-1') ? live : undefined;
      }, 30_000);
      const listed = await stack.provider.listMachines(SCOPE, { cluster: 'drift' });
      expect(listed.filter((p) => p.name === 'drift-md-0-1')).toEqual([]); // the dead machine's remains are gone too
      await waitReady(stack, 'drift', 30_000);
      await stack.workflow.settle('drift');
    }, 60_000);

    it('is replaced by the sweep when no event arrives', async () => {
      await stack.machineWatch?.close();
      const victim = (await machines(stack, 'drift')).find((m) => m.pool === 'md-0')!.name;
      await killMachineProcess(stack.home, uid, victim);
      const report = (await stack.sweep()) as SweepReport;
      expect(report.changes).toEqual([expect.objectContaining({ cluster: 'drift', reason: 'drift', started: true })]);
      expect(report.changes[0]!.message).toMatch(/md-0 1\/2/);
      await waitFor(async () => (await allEvents(stack.call, 'drift')).some((e) => e.type === 'MachineMissing' && e.machine === victim), 15_000);
      const ready = await waitReady(stack, 'drift', 30_000);
      expect(ready.status.workers[0]).toMatchObject({ replicas: 2, readyReplicas: 2 });
      expect((await machines(stack, 'drift')).map((m) => m.name)).not.toContain(victim);
      await stack.workflow.settle('drift');
    }, 60_000);

    it('terminates a machine with the cluster\'s tags that no record knows, and logs it', async () => {
      const orphan = await startOrphan({ home: stack.home, cluster: 'drift', clusterUid: uid, name: 'drift-md-0-99', pool: 'md-0' });
      const first = (await stack.sweep()) as SweepReport;
      expect(first.changes).toEqual([expect.objectContaining({ cluster: 'drift', reason: 'orphan' })]);
      const event = await waitFor(async () => {
        await stack.sweep();
        await stack.workflow.settle('drift');
        return (await allEvents(stack.call, 'drift')).find((e) => e.type === 'OrphanTerminated' && e.machine === 'drift-md-0-99');
      }, 20_000, 300);
      expect(event.data.providerId).toBe(orphan.providerId);
      const live = (await stack.provider.listMachines(SCOPE, { cluster: 'drift' })).filter((p) => p.state === 'running');
      expect(live.map((p) => p.name)).not.toContain('drift-md-0-99');
      expect((await machines(stack, 'drift')).map((m) => m.name)).not.toContain('drift-md-0-99');
    }, 60_000);

    it('terminates a machine of an earlier incarnation of the cluster, logged on the current one', async () => {
      await startOrphan({ home: stack.home, cluster: 'drift', clusterUid: 'earlier-incarnation', name: 'drift-md-0-50', pool: 'md-0' });
      const event = await waitFor(async () => {
        const report = (await stack.sweep()) as SweepReport;
        return report.orphans.terminated > 0 ? (await allEvents(stack.call, 'drift')).find((e) => e.type === 'OrphanTerminated' && e.machine === 'drift-md-0-50') : undefined;
      }, 20_000, 300);
      expect(event.data.clusterUid).toBe('earlier-incarnation');
      const left = (await stack.provider.listMachines(SCOPE, { cluster: 'drift' })).filter((p) => p.clusterUid === 'earlier-incarnation' && p.state === 'running');
      expect(left).toEqual([]);
    }, 60_000);
    it('replaces a killed worker and terminates an unknown one started in its pool before the same sweep', async () => {
      // Prepare: the counts still agree (2 live md-0 machines), only the names differ.
      const victim = (await machines(stack, 'drift')).find((m) => m.pool === 'md-0')!.name;
      await killMachineProcess(stack.home, uid, victim);
      const orphan = await startOrphan({ home: stack.home, cluster: 'drift', clusterUid: uid, name: 'drift-md-0-98', pool: 'md-0' });
      // Act
      const report = (await stack.sweep()) as SweepReport;
      // Assess
      expect(report.changes).toEqual([expect.objectContaining({ cluster: 'drift', reason: 'drift', started: true, message: 'machines at the provider differ from the records by name: md-0 2/2' })]);
      await waitFor(async () => (await allEvents(stack.call, 'drift')).find((e) => e.type === 'MachineMissing' && e.machine === victim), 15_000);
      const terminated = await waitFor(async () => {
        await stack.workflow.settle('drift');
        await stack.sweep();
        return (await allEvents(stack.call, 'drift')).find((e) => e.type === 'OrphanTerminated' && e.machine === 'drift-md-0-98');
      }, 20_000, 300);
      expect(terminated.data.providerId).toBe(orphan.providerId);
      const ready = await waitReady(stack, 'drift', 30_000);
      expect(ready.status.workers[0]).toMatchObject({ replicas: 2, readyReplicas: 2 });
      const live = (await machines(stack, 'drift')).map((m) => m.name);
      expect(live).not.toContain(victim);
      expect(live).not.toContain('drift-md-0-98');
      const running = (await stack.provider.listMachines(SCOPE, { cluster: 'drift' })).filter((p) => p.state === 'running').map((p) => p.name);
      expect(running.sort()).toEqual([...live].sort());
      await stack.workflow.settle('drift');
    }, 60_000);
  });

  describe('health checks with maxUnhealthy 40% on a pool of 5', () => {
    let ref: ClusterRef;
    const sick = ['mhc-md-0-1', 'mhc-md-0-2', 'mhc-md-0-3'];

    beforeAll(async () => {
      const c = await create(stack, 'mhc', { workers: [{ name: 'md-0', replicas: 5 }], healthCheck: { unhealthyTimeout: '1s', maxUnhealthy: '40%' } });
      ref = { name: 'mhc', uid: c.metadata.uid, scope: SCOPE };
    }, 60_000);

    it('replaces nothing when 3 of 5 are unhealthy, and the condition says why', async () => {
      for (const m of sick) expect(await stack.provider.injectMachineFault(ref, m, { notReady: true })).toBe(true);
      const report = (await stack.sweep()) as SweepReport;
      expect(report.changes).toEqual(expect.arrayContaining([expect.objectContaining({ cluster: 'mhc', reason: 'node-health', started: true })]));
      const blocked = await waitFor(async () => {
        const c = (await stack.call('GET', '/v1/clusters/mhc')).body;
        return condition(c, 'RolloutProgressing')?.reason === 'TooManyUnhealthy' ? c : undefined;
      }, 20_000);
      expect(condition(blocked, 'RolloutProgressing')).toMatchObject({ status: 'False', message: expect.stringMatching(/3 of 5 machines unhealthy, more than maxUnhealthy 40%/) });
      await stack.sweep(); // a later sweep restarts the workflow: still nothing is replaced
      await stack.workflow.settle('mhc');
      const all = await machines(stack, 'mhc', true);
      expect(all.filter((m) => m.pool === 'md-0').map((m) => `${m.name}:${m.phase}`).sort()).toEqual(['mhc-md-0-1', 'mhc-md-0-2', 'mhc-md-0-3', 'mhc-md-0-4', 'mhc-md-0-5'].map((n) => `${n}:Ready`));
      expect((await allEvents(stack.call, 'mhc')).filter((e) => e.type === 'MachineUnhealthy').map((e) => e.machine).sort()).toEqual(sick);
    }, 60_000);

    it('replaces the one unhealthy machine once only 1 of 5 is unhealthy', async () => {
      for (const m of sick.slice(1)) expect(await stack.provider.injectMachineFault(ref, m, { notReady: false })).toBe(true);
      await stack.sweep();
      const ready = await waitFor(async () => {
        const all = await machines(stack, 'mhc', true);
        const gone = all.find((m) => m.name === 'mhc-md-0-1')?.phase === 'Deleted';
        const c = (await stack.call('GET', '/v1/clusters/mhc')).body;
        return gone && c.status.phase === 'Ready' ? all : undefined;
      }, 30_000, 200);
      const live = ready.filter((m: any) => m.pool === 'md-0' && m.phase !== 'Deleted');
      expect(live.map((m: any) => m.name).sort()).toEqual(['mhc-md-0-2', 'mhc-md-0-3', 'mhc-md-0-4', 'mhc-md-0-5', 'mhc-md-0-6']);
      const deleted = (await allEvents(stack.call, 'mhc')).filter((e) => e.type === 'MachineDeleted');
      expect(deleted.map((e) => [e.machine, e.data.reason])).toEqual([['mhc-md-0-1', 'Unhealthy']]);
    }, 60_000);
  });

  describe('scaling a pool from outside (PATCH of replicas)', () => {
    let spec: any;
    let before: string[];

    beforeAll(async () => {
      const c = await create(stack, 'scale', { workers: [{ name: 'md-0', replicas: 2, minReplicas: 1, maxReplicas: 4 }, { name: 'md-1', replicas: 1 }] });
      spec = c.spec;
      before = (await machines(stack, 'scale')).map((m) => m.name).sort();
    }, 60_000);

    const withReplicas = (n: number) => ({ spec: { workers: spec.workers.map((w: any) => (w.name === 'md-0' ? { ...w, replicas: n } : w)) } });

    it.each([
      ['above maxReplicas', 5, /at most maxReplicas \(4\), got 5/],
      ['below minReplicas', 0, /at least minReplicas \(1\), got 0/],
    ])('fails when the PATCH puts replicas %s: 400 naming the field', async (_case, replicas, message) => {
      const r = await stack.call('PATCH', '/v1/clusters/scale', withReplicas(replicas), MERGE);
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body)).toContain('spec.workers[0].replicas');
      expect(JSON.stringify(r.body)).toMatch(message);
    });

    it.each([
      ['up', 4, ['scale-md-0-3', 'scale-md-0-4'], []],
      ['down', 1, [], ['MachineDeleted', 'MachineDeleted', 'MachineDeleted']],
    ])('scales md-0 %s creating or removing only md-0 machines', async (_dir, replicas, added, removals) => {
      const startSeq = (await allEvents(stack.call, 'scale')).length;
      const r = await stack.call('PATCH', '/v1/clusters/scale', withReplicas(replicas), MERGE);
      expect(r.status).toBe(200);
      await waitReady(stack, 'scale', 30_000);
      const now = (await machines(stack, 'scale')).map((m) => m.name).sort();
      const events = (await allEvents(stack.call, 'scale')).filter((e) => e.seq > startSeq && e.machine);
      expect(events.every((e) => e.pool === 'md-0')).toBe(true);
      expect(now.filter((n) => !n.startsWith('scale-md-0-'))).toEqual(before.filter((n) => !n.startsWith('scale-md-0-')));
      expect(now.filter((n) => n.startsWith('scale-md-0-'))).toHaveLength(replicas);
      for (const n of added) expect(now).toContain(n);
      expect(events.filter((e) => e.type === 'MachineDeleted').map((e) => e.type)).toEqual(removals);
    }, 60_000);
  });
});

describe('a stuck rollout', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ bootMs: 150, settings: { progressDeadlineSeconds: 2 } });
  }, 30_000);

  afterAll(async () => {
    await stack?.destroy();
  });

  it('gets RolloutProgressing=False ProgressDeadlineExceeded, an event and the EMF metric line', async () => {
    await create(stack, 'stuck', { workers: [{ name: 'md-0', replicas: 1 }], healthCheck: { nodeStartupTimeout: '10m' } });
    stack.provider.setFaults({ neverBoot: ['stuck-md-0-*'] });
    const spec = (await stack.call('GET', '/v1/clusters/stuck')).body.spec;
    const patch = await stack.call('PATCH', '/v1/clusters/stuck', { spec: { workers: [{ ...spec.workers[0], replicas: 2 }] } }, MERGE);
    expect(patch.status).toBe(200);
    await waitFor(async () => (await machines(stack, 'stuck')).some((m) => m.name === 'stuck-md-0-2'), 10_000);
    const lines: string[] = [];
    const report = await waitFor(async () => {
      const r = await sweep({}, { ...stack.deps, metrics: (line) => lines.push(line) });
      return r.stuck.includes('stuck') ? r : undefined;
    }, 15_000, 500);
    expect(report.changes).toEqual([expect.objectContaining({ cluster: 'stuck', reason: 'stuck' })]);
    const cluster = (await stack.call('GET', '/v1/clusters/stuck')).body;
    expect(condition(cluster, 'RolloutProgressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded', message: expect.stringMatching(/progressDeadlineSeconds 2/) });
    const events = (await allEvents(stack.call, 'stuck')).filter((e) => e.type === 'RolloutBlocked' && e.data.reason === 'ProgressDeadlineExceeded');
    expect(events).toHaveLength(1);
    const emf = JSON.parse(lines[0]!);
    expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'Capstan', Metrics: [{ Name: 'RolloutProgressDeadlineExceeded' }] });
    expect(emf).toMatchObject({ RolloutProgressDeadlineExceeded: 1, cluster: 'stuck' });
    // A second sweep while still stuck: the metric again (the alarm stays), no second event.
    await sweep({}, { ...stack.deps, metrics: (line) => lines.push(line) });
    expect(lines).toHaveLength(2);
    expect((await allEvents(stack.call, 'stuck')).filter((e) => e.type === 'RolloutBlocked' && e.data.reason === 'ProgressDeadlineExceeded')).toHaveLength(1);
  }, 60_000);
});
