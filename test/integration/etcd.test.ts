/**
 * etcd for real (issue 12): every local control-plane machine runs a real etcd 3.4 member. A 3 → 3 rolling upgrade
 * and a 3 → 5 → 3 scale each end with the member list (asked from etcd) equal to the live control-plane machines,
 * `etcdctl endpoint health` healthy, and — sampled every 100 ms during the run — never fewer healthy voting members
 * than the quorum of the voting members.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ClusterRef } from '../../functions/domain/provider.js';
import { readEtcdInfos } from '../../providers/local/etcd.js';
import { LocalProvider } from '../../providers/local/local-provider.js';
import { strayEtcds } from '../providers/local-harness.js';
import { sampleQuorum } from './etcd-quorum.js';
import { allEvents, clusterDoc, startTestStack, waitFor, waitReady, type TestStack } from './harness.js';

const run = promisify(execFile);
const NAME = 'quorate';

describe('etcd membership of a local control plane', () => {
  let stack: TestStack;
  let provider: LocalProvider;
  let ref: ClusterRef;

  const liveControlPlane = async () =>
    ((await stack.call('GET', `/v1/clusters/${NAME}/machines`)).body.items as { name: string; role: string }[]).filter((m) => m.role === 'control-plane').map((m) => m.name).sort();

  /** The member list from etcd, `etcdctl endpoint health` over every member, and the live control-plane machines. */
  async function assertMembershipMatches(): Promise<void> {
    const machines = await liveControlPlane();
    const members = await provider.listEtcdMembers(ref);
    expect(members.map((m) => m.name).sort()).toEqual(machines);
    expect(members.every((m) => m.healthy && !m.learner)).toBe(true);
    const infos = await readEtcdInfos(path.join(stack.home, 'machines', ref.uid));
    const endpoints = machines.map((m) => infos.get(m)!.clientUrl).join(',');
    const health = await run('/usr/bin/etcdctl', [`--endpoints=${endpoints}`, 'endpoint', 'health'], { env: { ...process.env, ETCDCTL_API: '3' } });
    // etcdctl prints each endpoint's health on stderr and exits non-zero (rejecting `run`) when one is unhealthy.
    expect(`${health.stdout}${health.stderr}`.match(/is healthy/g)).toHaveLength(machines.length);
  }

  beforeAll(async () => {
    stack = await startTestStack();
    provider = new LocalProvider({ home: stack.home });
    expect((await stack.call('PUT', `/v1/clusters/${NAME}`, clusterDoc(NAME, { controlPlane: { replicas: 3 } }))).status).toBe(201);
    const ready = await waitReady(stack, NAME, 90_000);
    ref = { name: NAME, uid: ready.metadata.uid, scope: { provider: 'local', account: 'local', region: 'local' } };
  }, 120_000);

  afterAll(async () => {
    await stack?.destroy();
    if (stack) expect(await strayEtcds(stack.home)).toEqual([]);
  });

  it('a new control plane of 3 is 3 voting members named after its machines', async () => {
    await assertMembershipMatches();
  });

  it('a 3 → 3 rolling upgrade keeps quorum at every sample and ends with the members = the new machines', async () => {
    // Prepare
    const before = await liveControlPlane();
    const sampler = sampleQuorum(provider, ref);
    // Act
    await stack.call('PATCH', `/v1/clusters/${NAME}`, { spec: { version: 'v1.19.1' } }, { 'content-type': 'application/merge-patch+json' });
    await waitFor(async () => {
      const c = (await stack.call('GET', `/v1/clusters/${NAME}`)).body;
      return c.status.phase === 'Ready' && c.status.observedGeneration === c.metadata.generation && c.metadata.generation === 2;
    }, 150_000, 200);
    const seen = await sampler.stop();
    // Assess
    expect(seen.belowQuorum).toEqual([]);
    expect(seen.samples).toBeGreaterThan(10);
    expect(seen.maxVoting).toBeLessThanOrEqual(4); // never more than replicas + maxSurge members
    const after = await liveControlPlane();
    expect(after.filter((m) => before.includes(m))).toEqual([]);
    await assertMembershipMatches();
    const removed = (await allEvents(stack.call, NAME)).filter((e) => e.type === 'EtcdMemberRemoved');
    expect(removed.map((e) => e.machine).sort()).toEqual(before);
    expect(removed.every((e) => e.data.removed === true)).toBe(true);
  }, 180_000);

  it('a 3 → 5 → 3 scale keeps quorum at every sample and ends with the members = the machines', async () => {
    const sampler = sampleQuorum(provider, ref);
    for (const replicas of [5, 3]) {
      await stack.call('PATCH', `/v1/clusters/${NAME}`, { spec: { controlPlane: { replicas } } }, { 'content-type': 'application/merge-patch+json' });
      await waitReady(stack, NAME, 150_000);
      await waitFor(async () => ((await liveControlPlane()).length === replicas ? true : undefined), 60_000, 200);
      expect((await provider.listEtcdMembers(ref)).length).toBe(replicas);
    }
    const seen = await sampler.stop();
    expect(seen.belowQuorum).toEqual([]);
    expect(seen.maxVoting).toBe(5);
    await assertMembershipMatches();
  }, 300_000);
});
