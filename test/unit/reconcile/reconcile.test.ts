/**
 * The reconcile decisions without I/O: compareCluster (counts and name fingerprints), machineNamesHash,
 * planOrphans, progressDeadline, parseInstanceEvent, sweepOptions, scopesToSweep, mapLimit.
 */
import { fleetCluster } from '../../../bench/sweep-scale.js';
import type { Cluster } from '../../../functions/domain/cluster.js';
import type { Machine } from '../../../functions/domain/machine.js';
import type { Page, ProviderScopeKey, Store } from '../../../functions/domain/ports.js';
import { machineNamesHash } from '../../../functions/domain/status.js';
import type { ProviderMachine } from '../../../functions/domain/provider.js';
import { compareCluster, summarizeCluster } from '../../../functions/domain/reconcile/compare.js';
import { parseInstanceEvent } from '../../../functions/reconcile/instance-event.js';
import { mapLimit } from '../../../functions/core/map-limit.js';
import { planOrphans } from '../../../functions/domain/reconcile/orphans.js';
import { progressDeadline } from '../../../functions/domain/reconcile/progress.js';
import { scopesToSweep, sweepOptions } from '../../../functions/reconcile/sweep.js';

const SCOPE = { provider: 'aws', account: '100000000000', region: 'eu-west-1' } as const;
const NOW = new Date('2030-01-01T12:00:00Z');
const cluster = fleetCluster(0, 1);
const uid = cluster.metadata.uid;

function pm(name: string, pool: string, overrides: Partial<ProviderMachine> = {}): ProviderMachine {
  return { name, cluster: 'c00000', clusterUid: uid, pool, role: pool === 'control-plane' ? 'control-plane' : 'worker', providerId: `aws:///a/i-${name}`, state: 'running', launchedAt: '2030-01-01T11:00:00Z', ...overrides };
}

function withoutFingerprints(c: Cluster): Cluster {
  const strip = ({ machineNamesHash: _, ...pool }: Cluster['status']['controlPlane']) => pool;
  return { ...c, status: { ...c.status, controlPlane: strip(c.status.controlPlane), workers: c.status.workers.map(strip) } };
}

const healthy = [pm('c00000-cp-1', 'control-plane'), pm('c00000-md-0-1', 'md-0'), pm('c00000-md-0-2', 'md-0')];

describe('compareCluster', () => {
  it.each<[string, Cluster, ProviderMachine[], string | undefined, RegExp | undefined]>([
    ['nothing differs', cluster, healthy, undefined, undefined],
    ['a terminated machine is ignored while the count holds', cluster, [...healthy, pm('c00000-md-0-0', 'md-0', { state: 'terminated' })], undefined, undefined],
    ['a lost worker', cluster, healthy.slice(0, 2), 'drift', /md-0 1\/2/],
    ['a stopping worker counts as lost', cluster, [...healthy.slice(0, 2), pm('c00000-md-0-2', 'md-0', { state: 'stopping' })], 'drift', /md-0 1\/2/],
    ['an extra machine', cluster, [...healthy, pm('c00000-md-0-9', 'md-0')], 'orphan', /md-0 3\/2/],
    ['a machine in a pool the spec lacks', cluster, [...healthy, pm('c00000-md-9-1', 'md-9')], 'orphan', /md-9 1\/0/],
    ['not converged', { ...cluster, metadata: { ...cluster.metadata, generation: 2 } }, healthy, 'converge', /observed generation 1 of 2/],
    ['paused, even with a lost machine', { ...cluster, spec: { ...cluster.spec, paused: true } }, [], undefined, undefined],
    ['deleting and paused', { ...cluster, spec: { ...cluster.spec, paused: true }, metadata: { ...cluster.metadata, deletionTimestamp: NOW.toISOString() } }, healthy, 'converge', /deleting/],
    ['a lost worker and an unknown one in the same pool', cluster, [...healthy.slice(0, 2), pm('c00000-md-0-7', 'md-0')], 'drift', /^machines at the provider differ from the records by name: md-0 2\/2$/],
    ['a lost control plane machine and an unknown one', cluster, [pm('c00000-cp-2', 'control-plane'), ...healthy.slice(1)], 'drift', /by name: control-plane 1\/1/],
    ['a swap in a record without fingerprints (counts only)', withoutFingerprints(cluster), [...healthy.slice(0, 2), pm('c00000-md-0-7', 'md-0')], undefined, undefined],
    ['a swap that also lost a machine reports the count', cluster, [healthy[0]!, pm('c00000-md-0-7', 'md-0')], 'drift', /missing at the provider: md-0 1\/2/],
  ])('%s', (_name, c, machines, reason, message) => {
    const drift = compareCluster(summarizeCluster(c, SCOPE), machines);
    expect(drift?.reason).toBe(reason);
    if (message) expect(drift?.message).toMatch(message);
  });
});

describe('machineNamesHash', () => {
  it.each<[string, string[], string[], boolean]>([
    ['the same names in another order', ['a-1', 'a-2', 'a-3'], ['a-3', 'a-1', 'a-2'], true],
    ['one name swapped for another', ['a-1', 'a-2'], ['a-1', 'a-7'], false],
    ['one name fewer', ['a-1', 'a-2'], ['a-1'], false],
    ['names that concatenate alike', ['ab', 'c'], ['a', 'bc'], false],
    ['no names at all, twice', [], [], true],
  ])('compares %s', (_name, a, b, same) => {
    expect(machineNamesHash(a) === machineNamesHash(b)).toBe(same);
  });

  it('is 14 hex digits', () => {
    expect(machineNamesHash(['c00000-md-0-1'])).toMatch(/^[0-9a-f]{14}$/);
  });
});

function record(name: string, overrides: Partial<Machine> = {}): Machine {
  return { name, cluster: 'c00000', clusterUid: uid, role: 'worker', pool: 'md-0', ordinal: 1, version: 'v1.30.2', templateHash: 'h', phase: 'Ready', createdAt: '2030-01-01T11:00:00Z', recordVersion: 1, providerId: `aws:///a/i-${name}`, ...overrides };
}

describe('planOrphans', () => {
  it.each<[string, Machine[], ProviderMachine[], string[]]>([
    ['known machines are not orphans', [record('a')], [pm('a', 'md-0')], []],
    ['a Pending record without provider id adopts its machine', [record('a', { phase: 'Pending', providerId: undefined })], [pm('a', 'md-0')], ['Adopt:a']],
    ['an unknown machine past the grace is terminated', [], [pm('x', 'md-0', { launchedAt: '2030-01-01T11:58:00Z' })], ['Terminate:x']],
    ['an unknown machine within the grace waits', [], [pm('x', 'md-0', { launchedAt: '2030-01-01T11:59:30Z' })], ['Wait:x']],
    ['a machine whose record is Deleted is an orphan', [record('a', { phase: 'Deleted' })], [pm('a', 'md-0')], ['Terminate:a']],
    ['a machine of another incarnation is an orphan', [record('a')], [pm('a', 'md-0', { clusterUid: 'other' })], ['Terminate:a']],
    ['a machine without provider id is never judged', [], [pm('x', 'md-0', { providerId: 'local:///pending' })], []],
    ['a terminated machine is not an orphan', [], [pm('x', 'md-0', { state: 'terminated' })], []],
  ])('%s', (_name, records, machines, want) => {
    const got = planOrphans({ records, machines, now: NOW, graceSeconds: 60 }).map((d) => `${d.kind}:${d.machine.name}`);
    expect(got).toEqual(want);
  });
});

function withRollout(status: 'True' | 'False', reason: string, at: string): Cluster {
  const conditions = cluster.status.conditions.map((c) => (c.type === 'RolloutProgressing' ? { ...c, status, reason, lastTransitionTime: at } : c));
  return { ...cluster, metadata: { ...cluster.metadata, generation: 2 }, status: { ...cluster.status, conditions } };
}

describe('progressDeadline', () => {
  const deadlineSeconds = 600;
  it.each<[string, Cluster, Machine[], boolean | undefined]>([
    ['a rollout that just started', withRollout('True', 'RollingOut', '2030-01-01T11:59:00Z'), [], undefined],
    ['a rollout idle longer than the deadline', withRollout('True', 'RollingOut', '2030-01-01T11:00:00Z'), [record('a', { createdAt: '2030-01-01T11:30:00Z' })], true],
    ['a rollout whose machine moved recently', withRollout('True', 'RollingOut', '2030-01-01T11:00:00Z'), [record('a', { readyAt: '2030-01-01T11:55:00Z' })], undefined],
    ['a completed rollout', withRollout('False', 'RolloutCompleted', '2030-01-01T10:00:00Z'), [], undefined],
    ['a blocked rollout keeps its own reason', withRollout('False', 'TooManyUnhealthy', '2030-01-01T10:00:00Z'), [], undefined],
    ['a reported stall stays reported without progress', withRollout('False', 'ProgressDeadlineExceeded', '2030-01-01T11:50:00Z'), [record('a', { createdAt: '2030-01-01T11:30:00Z' })], false],
    ['a reported stall clears on progress', withRollout('False', 'ProgressDeadlineExceeded', '2030-01-01T11:50:00Z'), [record('a', { deletedAt: '2030-01-01T11:55:00Z' })], undefined],
    ['a paused cluster is never stuck', { ...withRollout('True', 'RollingOut', '2030-01-01T10:00:00Z'), spec: { ...cluster.spec, paused: true } }, [], undefined],
  ])('%s', (_name, c, machines, newly) => {
    const got = progressDeadline({ cluster: c, machines, now: NOW, deadlineSeconds });
    expect(got?.newly).toBe(newly);
    if (got) expect(got.condition).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
  });

  it('names the idle time and the deadline in the message', () => {
    const got = progressDeadline({ cluster: withRollout('True', 'RollingOut', '2030-01-01T11:00:00Z'), machines: [record('a', { createdAt: '2030-01-01T11:30:00Z' })], now: NOW, deadlineSeconds });
    expect(got?.condition.message).toBe('no machine made progress for 30m (since 2030-01-01T11:30:00.000Z; progressDeadlineSeconds 600)');
    expect(got?.since).toBe('2030-01-01T11:30:00.000Z');
  });
});

describe('parseInstanceEvent', () => {
  const good = { 'detail-type': 'EC2 Instance State-change Notification', account: '123456789012', region: 'eu-west-1', detail: { 'instance-id': 'i-0abc12345678', state: 'terminated' } };
  it('accepts an instance state change', () => {
    expect(parseInstanceEvent(good).event).toEqual(good);
  });
  it.each<[string, unknown, RegExp]>([
    ['another detail-type', { ...good, 'detail-type': 'Scheduled Event' }, /^detail-type/],
    ['a short account', { ...good, account: '12' }, /^account: must be a 12-digit account id, got "12"/],
    ['a bad region', { ...good, region: 'moon' }, /^region/],
    ['no instance id', { ...good, detail: { state: 'terminated' } }, /^detail.instance-id/],
    ['not an object', null, /^event/],
  ])('fails when given %s', (_name, event, problem) => {
    expect(parseInstanceEvent(event).problem).toMatch(problem);
  });
});

describe('sweepOptions', () => {
  it.each([
    ['defaults for a scheduled event', { 'detail-type': 'Scheduled Event' }, { concurrency: 8, perScopeConcurrency: 16, nodeHealth: true, pageSize: 500, backfillScopes: false }],
    ['given values', { concurrency: 2, perScopeConcurrency: 4, nodeHealth: false, pageSize: 100, backfillScopes: true }, { concurrency: 2, perScopeConcurrency: 4, nodeHealth: false, pageSize: 100, backfillScopes: true }],
    ['defaults for invalid values', { concurrency: -1, nodeHealth: 'no', pageSize: 1001, backfillScopes: 1 }, { concurrency: 8, perScopeConcurrency: 16, nodeHealth: true, pageSize: 500, backfillScopes: false }],
  ])('reads %s', (_name, input, want) => {
    expect(sweepOptions(input)).toEqual(want);
  });
});

describe('scopesToSweep', () => {
  const aws = (account: string): ProviderScopeKey => ({ provider: 'aws', account, region: 'eu-west-1' });
  /** A store with a registry and cluster records in the given accounts (listClusters pages of one). */
  function store(registry: ProviderScopeKey[] | undefined, accounts: string[]) {
    const calls = { listClusters: 0, registered: [] as string[] };
    const records = accounts.map((a, i) => fleetCluster(i, 1)).map((c, i) => ({ ...c, spec: { ...c.spec, infrastructure: { provider: 'aws' as const, account: accounts[i]!, region: 'eu-west-1' } } }));
    const s: Partial<Store> = {
      listClusters: async (o = {}): Promise<Page<Cluster>> => {
        calls.listClusters++;
        const i = Number(o.cursor ?? 0);
        return { items: records.slice(i, i + 1), ...(i + 1 < records.length ? { next: String(i + 1) } : {}) };
      },
      ...(registry && {
        listScopes: async () => registry,
        registerScope: async (scope: ProviderScopeKey) => {
          calls.registered.push(scope.account);
        },
      }),
    };
    return { store: s as Store, calls };
  }

  it.each<[string, ProviderScopeKey[] | undefined, string[], boolean, string[], string[], number]>([
    ['a filled registry is used as is', [aws('1'), aws('9')], ['1', '2'], false, ['1', '9'], [], 0],
    ['an empty registry is backfilled from the records', [], ['1', '2', '1'], false, ['1', '2'], ['1', '2'], 3],
    ['backfillScopes registers only the missing scopes', [aws('1'), aws('9')], ['1', '2'], true, ['1', '9', '2'], ['2'], 2],
    ['a store without a registry gets the scopes of its records', undefined, ['2', '1', '2'], false, ['2', '1'], [], 3],
  ])('%s', async (_name, registry, accounts, backfillScopes, want, registered, listCalls) => {
    // Prepare
    const { store: s, calls } = store(registry, accounts);
    // Act
    const got = await scopesToSweep(s, { backfillScopes });
    // Assess
    expect(got.scopes.map((x) => x.account)).toEqual(want);
    expect(calls.registered).toEqual(registered);
    expect(got.backfilled).toBe(registered.length);
    expect(calls.listClusters).toBe(listCalls);
  });
});

describe('mapLimit', () => {
  it('keeps order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });
});
