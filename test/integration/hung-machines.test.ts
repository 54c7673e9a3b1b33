/**
 * Hung machines on the local stack (real machine processes): a machine process that stops answering (SIGSTOP) keeps
 * its last health for the node-monitor grace period, then its node reads Ready=Unknown, which the health check
 * treats as NotReady — remediated after unhealthyTimeout, counted toward maxUnhealthy, healthy again once it answers.
 */
import type { ClusterRef } from '../../functions/domain/provider.js';
import { allEvents, clusterDoc, startTestStack, waitFor, waitReady, type TestStack } from './harness.js';

const SCOPE = { provider: 'local', account: 'local', region: 'local' } as const;
/** Longer than one unanswered agent call (2 s timeout + 0.5 s exit check), so the last known health is observable. */
const GRACE_MS = 5_000;

describe('hung machines (Ready=Unknown) with maxUnhealthy 40% on a pool of 5', () => {
  let stack: TestStack;
  let ref: ClusterRef;
  const stopped = new Set<number>();

  async function workers(): Promise<any[]> {
    const items = (await stack.call('GET', '/v1/clusters/hung/machines')).body.items as any[];
    return items.filter((m) => m.pool === 'md-0');
  }

  /** SIGSTOPs the machine process of `name`: it keeps its port and accepts connections, and never answers. */
  async function freeze(name: string): Promise<void> {
    const machine = (await stack.provider.listMachines(SCOPE, { cluster: 'hung' })).find((p) => p.name === name && p.state === 'running');
    const pid = Number(/^local:\/\/\/(\d+)$/.exec(machine?.providerId ?? '')?.[1]);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGSTOP');
    stopped.add(pid);
  }

  function thawAll(): void {
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        /* already gone */
      }
    }
    stopped.clear();
  }

  /** Sweeps (which starts the workflow on a NotReady or Unknown node) until `check` holds. */
  async function sweepUntil<T>(check: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
    return waitFor(async () => {
      await stack.sweep();
      return check();
    }, timeoutMs, 500);
  }

  beforeAll(async () => {
    stack = await startTestStack({ bootMs: 150, drainMsPerPod: 10, nodeMonitorGraceMs: GRACE_MS });
    const put = await stack.call('PUT', '/v1/clusters/hung', clusterDoc('hung', { workers: [{ name: 'md-0', replicas: 5 }], healthCheck: { unhealthyTimeout: '1s', maxUnhealthy: '40%' } }));
    expect(put.status).toBe(201);
    ref = { name: 'hung', uid: (await waitReady(stack, 'hung')).metadata.uid, scope: SCOPE };
  }, 60_000);

  afterEach(() => thawAll());

  afterAll(async () => {
    thawAll(); // a stopped process cannot notice its state dir going: never leave one frozen
    await stack?.destroy();
  });

  it('keeps a hung machine\'s last health for the grace period, then reads Ready=Unknown and replaces it', async () => {
    // Prepare: every node has answered once.
    const victim = 'hung-md-0-1';
    expect((await stack.provider.listNodes(ref)).get(victim)).toEqual({ ready: true, cordoned: false });
    // Act
    await freeze(victim);
    const withinGrace = (await stack.provider.listNodes(ref)).get(victim);
    const afterGrace = await waitFor(async () => {
      const node = (await stack.provider.listNodes(ref)).get(victim);
      return node?.readyStatus === 'Unknown' ? node : undefined;
    }, 20_000, 500);
    const replaced = await sweepUntil(async () => {
      const live = await workers();
      return live.length === 5 && live.every((m) => m.phase === 'Ready') && !live.some((m) => m.name === victim) ? live : undefined;
    }, 40_000);
    // Assess
    expect(withinGrace).toEqual({ ready: true, cordoned: false });
    expect(afterGrace).toEqual({ ready: false, readyStatus: 'Unknown', cordoned: false });
    expect(replaced.map((m) => m.name)).toContain('hung-md-0-6');
    const events = await allEvents(stack.call, 'hung');
    expect(events.find((e) => e.type === 'MachineUnhealthy' && e.machine === victim)?.message).toMatch(/stopped reporting \(Ready=Unknown\)/);
    expect(events.filter((e) => e.type === 'MachineDeleted').map((e) => [e.machine, e.data.reason])).toEqual([[victim, 'Unhealthy']]);
    await waitReady(stack, 'hung', 30_000);
    await stack.workflow.settle('hung');
  }, 60_000);

  it('replaces nothing while 3 of 5 are hung, names them in the condition, and counts them healthy once they answer', async () => {
    // Prepare
    const before = (await workers()).map((m) => m.name).sort();
    const hung = before.slice(0, 3);
    // Act: freeze 3 of 5 (more than 40%)
    for (const name of hung) await freeze(name);
    const blocked = await sweepUntil(async () => {
      const c = (await stack.call('GET', '/v1/clusters/hung')).body;
      const rollout = c.status.conditions.find((x: any) => x.type === 'RolloutProgressing');
      return rollout?.reason === 'TooManyUnhealthy' ? rollout : undefined;
    }, 40_000);
    await stack.sweep(); // a later sweep restarts the workflow: still nothing is replaced
    await stack.workflow.settle('hung');
    const whileHung = (await workers()).map((m) => `${m.name}:${m.phase}`).sort();
    // Act: they answer again
    thawAll();
    const recovered = await sweepUntil(async () => {
      const c = (await stack.call('GET', '/v1/clusters/hung')).body;
      const rollout = c.status.conditions.find((x: any) => x.type === 'RolloutProgressing');
      return c.status.phase === 'Ready' && rollout?.reason !== 'TooManyUnhealthy' ? c : undefined;
    }, 30_000);
    // Assess
    expect(blocked).toMatchObject({ status: 'False', message: expect.stringMatching(/3 of 5 machines unhealthy, more than maxUnhealthy 40%: remediation stopped/) });
    expect(blocked.message).toContain(`(unhealthy: ${hung.join(', ')})`);
    expect(whileHung).toEqual(before.map((n) => `${n}:Ready`));
    expect(recovered.status.workers[0]).toMatchObject({ replicas: 5, readyReplicas: 5 });
    expect((await workers()).map((m) => m.name).sort()).toEqual(before);
    const nodes = await stack.provider.listNodes(ref);
    expect(hung.map((n) => nodes.get(n))).toEqual(hung.map(() => ({ ready: true, cordoned: false })));
    const unhealthy = (await allEvents(stack.call, 'hung')).filter((e) => e.type === 'MachineUnhealthy').map((e) => e.machine);
    expect(unhealthy.filter((m) => hung.includes(m)).sort()).toEqual(hung);
    await stack.workflow.settle('hung');
  }, 60_000);
});
