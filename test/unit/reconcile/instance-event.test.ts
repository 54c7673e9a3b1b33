/**
 * instanceEvent: an EC2 state change mapped to its cluster through the provider's tag listing.
 */
import { fleetCluster } from '../../../bench/sweep-scale.js';
import { DEFAULT_SETTINGS, type Deps } from '../../../functions/adapters/deps.js';
import { silentLogger } from '../../../functions/adapters/logger.js';
import type { Machine } from '../../../functions/domain/machine.js';
import type { Store } from '../../../functions/domain/ports.js';
import type { MachineProvider, ProviderMachine } from '../../../functions/domain/provider.js';
import { instanceEvent } from '../../../functions/reconcile/instance-event.js';

const cluster = fleetCluster(0, 1); // account 100000000000, eu-west-1
const pm = (name: string, id: string): ProviderMachine => ({ name, cluster: 'c00000', clusterUid: cluster.metadata.uid, pool: 'md-0', role: 'worker', providerId: `aws:///eu-west-1a/${id}`, state: 'stopping', launchedAt: '2030-01-01T00:00:00Z' });

function deps(phase: Machine['phase'], listed: ProviderMachine[]) {
  const started: string[] = [];
  const calls = { listMachines: 0 };
  const record = { name: 'c00000-md-0-1', cluster: 'c00000', clusterUid: cluster.metadata.uid, phase } as Machine;
  const store = {
    listClustersByScope: async (scope: { account: string }) => ({ items: scope.account === '100000000000' ? [cluster] : [] }),
    getCluster: async () => cluster,
    getMachine: async (_c: string, name: string) => (name === record.name ? record : undefined),
  } as unknown as Store;
  const provider = { name: 'aws', listMachines: async () => (calls.listMachines++, listed) } as unknown as MachineProvider;
  const d: Deps = {
    store,
    workflow: { startRollout: async (r) => (started.push(`${r.cluster}/${r.reason}`), { executionName: 'x', started: true }), sendTaskSuccess: async () => undefined, sendTaskFailure: async () => undefined },
    providers: { get: () => provider },
    clock: { now: () => new Date('2030-01-01T12:00:00Z') },
    log: silentLogger,
    authenticate: async () => ({ id: 'x', accounts: [], admin: false }),
    callbackSecret: async () => new Uint8Array(1),
    callbackBaseUrl: '',
    settings: DEFAULT_SETTINGS,
  };
  return { deps: d, started, calls };
}

const event = (state: string, account = '100000000000') => ({ 'detail-type': 'EC2 Instance State-change Notification', account, region: 'eu-west-1', detail: { 'instance-id': 'i-0123456789abcdef0', state } });

describe('instanceEvent', () => {
  it('starts the reconcile of the cluster whose Ready machine stopped', async () => {
    const { deps: d, started } = deps('Ready', [pm('c00000-md-0-1', 'i-0123456789abcdef0')]);
    expect(await instanceEvent(event('stopping'), d)).toMatchObject({ action: 'Started', cluster: 'c00000', machine: 'c00000-md-0-1' });
    expect(started).toEqual(['c00000/instance']);
  });

  it.each<[string, ReturnType<typeof event>, Machine['phase'], string]>([
    ['a running instance', event('running'), 'Ready', 'State running'],
    ['an account without clusters', event('terminated', '999999999999'), 'Ready', 'NoClusters'],
    ['a machine Capstan is deleting', event('shutting-down'), 'Deleting', 'Expected (Deleting)'],
  ])('ignores %s', async (_name, e, phase, reason) => {
    const { deps: d, started } = deps(phase, [pm('c00000-md-0-1', 'i-0123456789abcdef0')]);
    expect(await instanceEvent(e, d)).toMatchObject({ action: 'Ignored', reason });
    expect(started).toEqual([]);
  });

  it('compares the account-region when the instance is no longer listed', async () => {
    const { deps: d, started, calls } = deps('Ready', [pm('c00000-cp-1', 'i-1'), pm('c00000-md-0-2', 'i-2')].map((m) => ({ ...m, state: 'running' as const, pool: m.name.includes('cp') ? 'control-plane' : 'md-0' })));
    expect(await instanceEvent(event('terminated'), d)).toEqual({ action: 'ScopeSwept', reason: 'instance i-0123456789abcdef0 not listed (terminated)', started: ['c00000'] });
    expect(started).toEqual(['c00000/drift']);
    expect(calls.listMachines).toBe(1); // the listing is reused
  });
});
