/**
 * The store contract suite: what every `Store` implementation must do, run against each backend by a small runner
 * file (`describeStoreContract('dynalite', make)`).
 *
 * `make` is called once per test, so every test starts on an empty table and may list "all clusters".
 */
import { API_VERSION, CLUSTER_KIND, type Cluster, type Infrastructure } from '../../functions/domain/cluster.js';
import {
  ConflictError,
  NotFoundError,
  PreconditionFailedError,
  StoreConflictError,
  ValidationError,
} from '../../functions/domain/errors.js';
import type { Machine, MachinePhase, NewEvent } from '../../functions/domain/machine.js';
import type { Page, Principal, Store } from '../../functions/domain/ports.js';

/** A store under test and how to dispose of it. */
export interface StoreUnderTest {
  readonly store: Store;
  close(): Promise<void>;
}

const LOCAL: Infrastructure = { provider: 'local' };

/** An AWS infrastructure block in the given account and region. */
export function awsInfra(account: string, region = 'us-west-2'): Infrastructure {
  return { provider: 'aws', account, region };
}

/** A complete, valid Cluster resource as the API would hand it to the store. */
export function makeCluster(name: string, infrastructure: Infrastructure = LOCAL, overrides: Partial<Cluster['spec']> = {}): Cluster {
  return {
    apiVersion: API_VERSION,
    kind: CLUSTER_KIND,
    metadata: { name, uid: `uid-${name}`, generation: 1, resourceVersion: '', creationTimestamp: '2030-01-01T00:00:00.000Z', labels: { team: 'a' } },
    spec: {
      infrastructure,
      version: 'v1.31.2',
      network: { podCidr: '192.168.0.0/16', serviceCidr: '10.96.0.0/12' },
      failureDomains: [],
      controlPlane: { replicas: 3, machine: { instanceType: 'm7i.large' }, rollout: { maxSurge: 1 } },
      workers: [
        {
          name: 'md-0',
          replicas: 2,
          machine: { instanceType: 'm7i.large' },
          rollout: { strategy: 'RollingUpdate', maxSurge: 1, maxUnavailable: 0, deletionOrder: 'Random' },
        },
      ],
      healthCheck: { nodeStartupTimeout: '10m', unhealthyTimeout: '5m', maxUnhealthy: '40%' },
      drain: { timeout: '10m', policy: 'Wait' },
      paused: false,
      ...overrides,
    },
    status: {
      phase: 'Provisioning',
      observedGeneration: 0,
      controlPlane: { name: 'control-plane', version: 'v1.31.2', replicas: 0, readyReplicas: 0, updatedReplicas: 0 },
      workers: [],
      conditions: [],
    },
  };
}

/** A Machine record of a cluster. */
export function makeMachine(cluster: string, ordinal: number, phase: MachinePhase = 'Pending'): Machine {
  return {
    name: `${cluster}-md-0-${ordinal}`,
    cluster,
    clusterUid: `uid-${cluster}`,
    role: 'worker',
    pool: 'md-0',
    ordinal,
    version: 'v1.31.2',
    templateHash: 'abc123',
    phase,
    createdAt: '2030-01-01T00:00:00.000Z',
    recordVersion: 0,
  };
}

/** A proposed event with a deterministic id. */
export function makeEvent(id: string, message = `event ${id}`): NewEvent {
  return { id, type: 'MachineReady', time: '2030-01-01T00:00:00.000Z', message, data: { n: 1, ok: true, none: null } };
}

/** Every page of a paginated listing, following `next`. */
async function allPages<T>(first: (cursor?: string) => Promise<Page<T>>): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const page = await first(cursor);
    pages.push(page.items);
    cursor = page.next;
  } while (cursor !== undefined && pages.length < 100);
  return pages;
}

const names = (clusters: readonly Cluster[]): string[] => clusters.map((c) => c.metadata.name);

/** Registers the contract suite for one Store implementation. */
export function describeStoreContract(name: string, make: () => Promise<StoreUnderTest>): void {
  describe(`Store contract (${name})`, () => {
    let sut: StoreUnderTest;
    let store: Store;

    beforeEach(async () => {
      sut = await make();
      store = sut.store;
    });

    afterEach(async () => {
      await sut.close();
    });

    describe('createCluster', () => {
      it('assigns a resourceVersion and getCluster reads the stored resource back', async () => {
        // Prepare
        const cluster = makeCluster('alpha');
        // Act
        const created = await store.createCluster(cluster);
        const read = await store.getCluster('alpha');
        // Assess
        expect(created.metadata.resourceVersion).toMatch(/^\d+$/);
        expect(created).toEqual({ ...cluster, metadata: { ...cluster.metadata, resourceVersion: created.metadata.resourceVersion } });
        expect(read).toEqual(created);
      });

      it('fails when the name exists (ConflictError, 409)', async () => {
        await store.createCluster(makeCluster('alpha'));
        const attempt = store.createCluster(makeCluster('alpha', awsInfra('111111111111')));
        await expect(attempt).rejects.toBeInstanceOf(ConflictError);
        await expect(attempt).rejects.toMatchObject({ name: 'ConflictError', status: 409 });
        expect((await store.getCluster('alpha'))?.spec.infrastructure).toEqual(LOCAL);
      });
    });

    describe('getCluster', () => {
      it('returns undefined for an unknown name', async () => {
        expect(await store.getCluster('nope')).toBeUndefined();
      });
    });

    describe('updateCluster', () => {
      it('replaces the resource and assigns a greater resourceVersion', async () => {
        const created = await store.createCluster(makeCluster('alpha'));
        const changed: Cluster = { ...created, spec: { ...created.spec, paused: true } };
        const updated = await store.updateCluster(changed, created.metadata.resourceVersion);
        expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
        expect(await store.getCluster('alpha')).toEqual(updated);
        expect(updated.spec.paused).toBe(true);
      });

      it.each([
        ['an older version', (rv: string) => String(Number(rv) - 1)],
        ['a newer version', (rv: string) => String(Number(rv) + 1)],
        ['an empty string', () => ''],
        ['garbage', () => 'W/"abc"'],
      ])('fails when the expected resourceVersion is %s (PreconditionFailedError, 412)', async (_case, expectedOf) => {
        const created = await store.createCluster(makeCluster('alpha'));
        const attempt = store.updateCluster({ ...created, spec: { ...created.spec, paused: true } }, expectedOf(created.metadata.resourceVersion));
        await expect(attempt).rejects.toBeInstanceOf(PreconditionFailedError);
        await expect(attempt).rejects.toMatchObject({ status: 412 });
        expect(await store.getCluster('alpha')).toEqual(created);
      });

      it('fails when the second of two writers uses the same version (lost update prevented)', async () => {
        const created = await store.createCluster(makeCluster('alpha'));
        const rv = created.metadata.resourceVersion;
        const results = await Promise.allSettled([
          store.updateCluster({ ...created, spec: { ...created.spec, paused: true } }, rv),
          store.updateCluster({ ...created, spec: { ...created.spec, version: 'v1.32.0' } }, rv),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(rejected).toHaveLength(1);
        expect(rejected[0]?.reason).toBeInstanceOf(PreconditionFailedError);
      });

      it('fails when the cluster does not exist (NotFoundError)', async () => {
        await expect(store.updateCluster(makeCluster('ghost'), '1')).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    describe('deleteCluster', () => {
      it('removes the record and everything under it: machines, events, lease', async () => {
        // Prepare: more children than one batch of 25
        const created = await store.createCluster(makeCluster('alpha'));
        for (let i = 0; i < 30; i += 1) await store.putMachine(makeMachine('alpha', i));
        await store.appendEvents('alpha', Array.from({ length: 30 }, (_, i) => makeEvent(`e${i}`)));
        await store.acquireLease('alpha', 'exec-1', 60, new Date('2030-01-01T00:00:00Z'));
        await store.createCluster(makeCluster('alpha-2'));
        await store.putMachine(makeMachine('alpha-2', 0));
        // Act
        await store.deleteCluster('alpha', created.metadata.resourceVersion);
        // Assess
        expect(await store.getCluster('alpha')).toBeUndefined();
        expect(await store.listMachines('alpha', { includeDeleted: true })).toEqual([]);
        expect((await store.listEvents('alpha')).items).toEqual([]);
        expect(await store.getLease('alpha')).toBeUndefined();
        expect(await store.listMachines('alpha-2')).toHaveLength(1);
        expect(names((await store.listClusters()).items)).toEqual(['alpha-2']);
      });

      it('lets a re-created cluster of the same name start with an empty log and a fresh resourceVersion', async () => {
        const first = await store.createCluster(makeCluster('alpha'));
        await store.appendEvents('alpha', [makeEvent('ClusterCreated/alpha')]);
        await store.deleteCluster('alpha', first.metadata.resourceVersion);
        const second = await store.createCluster(makeCluster('alpha'));
        const appended = await store.appendEvents('alpha', [makeEvent('ClusterCreated/alpha')]);
        expect(appended.map((e) => e.seq)).toEqual([1]);
        expect(second.metadata.resourceVersion).not.toBe(first.metadata.resourceVersion);
        await expect(store.updateCluster(second, first.metadata.resourceVersion)).rejects.toBeInstanceOf(PreconditionFailedError);
      });

      it('fails when the resourceVersion is stale, and removes nothing', async () => {
        const created = await store.createCluster(makeCluster('alpha'));
        const updated = await store.updateCluster(created, created.metadata.resourceVersion);
        await store.putMachine(makeMachine('alpha', 0));
        await expect(store.deleteCluster('alpha', created.metadata.resourceVersion)).rejects.toBeInstanceOf(PreconditionFailedError);
        expect(await store.getCluster('alpha')).toEqual(updated);
        expect(await store.listMachines('alpha')).toHaveLength(1);
      });

      it('fails when the cluster does not exist (NotFoundError)', async () => {
        await expect(store.deleteCluster('ghost', '1')).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    describe('listClusters', () => {
      it('returns every cluster ordered by name, page by page, with no cursor on the last page', async () => {
        const all = ['kilo', 'alpha', 'echo', 'delta', 'bravo', 'golf', 'charlie'];
        for (const n of all) await store.createCluster(makeCluster(n));
        const pages = await allPages((cursor) => store.listClusters({ limit: 3, ...(cursor ? { cursor } : {}) }));
        expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
        expect(pages.flatMap(names)).toEqual([...all].sort());
      });

      it('returns one page without a cursor when everything fits exactly', async () => {
        for (const n of ['a', 'b', 'c']) await store.createCluster(makeCluster(n));
        const page = await store.listClusters({ limit: 3 });
        expect(names(page.items)).toEqual(['a', 'b', 'c']);
        expect(page.next).toBeUndefined();
      });

      it('returns an empty page on an empty table', async () => {
        expect(await store.listClusters()).toEqual({ items: [] });
      });

      it.each([
        ['one account', ['111111111111'], ['a1', 'c1', 'e1']],
        ['two accounts, merged by name', ['111111111111', '222222222222'], ['a1', 'b2', 'c1', 'd2', 'e1', 'f2']],
        ['the local account', ['local'], ['g-local']],
        ['a wildcard', ['*'], ['a1', 'b2', 'c1', 'd2', 'e1', 'f2', 'g-local', 'h3']],
        ['an account with no clusters', ['999999999999'], []],
        ['no accounts', [], []],
      ])('filters to %s, paginated', async (_case, accounts, expected) => {
        const placement: [string, Infrastructure][] = [
          ['a1', awsInfra('111111111111')],
          ['b2', awsInfra('222222222222', 'eu-west-1')],
          ['c1', awsInfra('111111111111', 'eu-west-1')],
          ['d2', awsInfra('222222222222')],
          ['e1', awsInfra('111111111111')],
          ['f2', awsInfra('222222222222')],
          ['g-local', LOCAL],
          ['h3', awsInfra('333333333333')],
        ];
        for (const [n, infra] of placement) await store.createCluster(makeCluster(n, infra));
        const pages = await allPages((cursor) => store.listClusters({ accounts, limit: 2, ...(cursor ? { cursor } : {}) }));
        expect(pages.flatMap(names)).toEqual(expected);
        expect(pages.every((p) => p.length <= 2)).toBe(true);
      });

      it('fails when the cursor was not returned by the store (ValidationError)', async () => {
        await expect(store.listClusters({ cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(ValidationError);
      });
    });

    describe('listClustersByScope', () => {
      it('returns only the clusters of one provider account-region, over several pages', async () => {
        const inScope = ['s-e', 's-a', 's-d', 's-c', 's-b'];
        for (const n of inScope) await store.createCluster(makeCluster(n, awsInfra('111111111111', 'us-west-2')));
        await store.createCluster(makeCluster('other-region', awsInfra('111111111111', 'us-east-1')));
        await store.createCluster(makeCluster('other-account', awsInfra('222222222222', 'us-west-2')));
        await store.createCluster(makeCluster('local-one'));
        const scope = { provider: 'aws', account: '111111111111', region: 'us-west-2' };
        const pages = await allPages((cursor) => store.listClustersByScope(scope, { limit: 2, ...(cursor ? { cursor } : {}) }));
        expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
        expect(pages.flatMap(names)).toEqual([...inScope].sort());
      });

      it('finds local clusters under the local scope', async () => {
        await store.createCluster(makeCluster('local-one'));
        await store.createCluster(makeCluster('aws-one', awsInfra('111111111111')));
        const page = await store.listClustersByScope({ provider: 'local', account: 'local', region: 'local' });
        expect(names(page.items)).toEqual(['local-one']);
      });

      it('reflects an update that moves nothing and a delete that removes the cluster', async () => {
        const created = await store.createCluster(makeCluster('s-a', awsInfra('111111111111')));
        const scope = { provider: 'aws', account: '111111111111', region: 'us-west-2' };
        const updated = await store.updateCluster({ ...created, spec: { ...created.spec, paused: true } }, created.metadata.resourceVersion);
        expect((await store.listClustersByScope(scope)).items).toEqual([updated]);
        await store.deleteCluster('s-a', updated.metadata.resourceVersion);
        expect((await store.listClustersByScope(scope)).items).toEqual([]);
      });
    });

    describe('listScopes', () => {
      it('is empty on an empty table', async () => {
        // Act
        const scopes = await store.listScopes!();
        // Assess
        expect(scopes).toEqual([]);
      });

      it('lists each scope createCluster registered once, ordered by provider, account and region', async () => {
        // Prepare
        await store.createCluster(makeCluster('b', awsInfra('222222222222', 'us-west-2')));
        await store.createCluster(makeCluster('a', awsInfra('111111111111', 'us-west-2')));
        await store.createCluster(makeCluster('c', awsInfra('111111111111', 'us-west-2')));
        await store.createCluster(makeCluster('d', awsInfra('111111111111', 'eu-west-1')));
        await store.createCluster(makeCluster('e'));
        // Act
        const scopes = await store.listScopes!();
        // Assess
        expect(scopes).toEqual([
          { provider: 'aws', account: '111111111111', region: 'eu-west-1' },
          { provider: 'aws', account: '111111111111', region: 'us-west-2' },
          { provider: 'aws', account: '222222222222', region: 'us-west-2' },
          { provider: 'local', account: 'local', region: 'local' },
        ]);
      });

      it('keeps a scope whose clusters are all deleted (the sweep still finds orphans there)', async () => {
        // Prepare
        const created = await store.createCluster(makeCluster('gone', awsInfra('111111111111')));
        await store.deleteCluster('gone', created.metadata.resourceVersion);
        // Act
        const scopes = await store.listScopes!();
        // Assess
        expect(scopes).toEqual([{ provider: 'aws', account: '111111111111', region: 'us-west-2' }]);
      });

      it('keeps the role of the first registration; registerScope of a known scope changes nothing', async () => {
        // Prepare
        const first = { provider: 'aws', account: '111111111111', region: 'us-west-2', roleArn: 'arn:aws:iam::111111111111:role/First' } as const;
        await store.createCluster(makeCluster('a', { ...first }));
        await store.createCluster(makeCluster('b', { ...first, roleArn: 'arn:aws:iam::111111111111:role/Second' }));
        // Act
        await store.registerScope!({ ...first, roleArn: 'arn:aws:iam::111111111111:role/Third' });
        await store.registerScope!({ provider: 'aws', account: '333333333333', region: 'us-west-2' });
        // Assess
        expect(await store.listScopes!()).toEqual([first, { provider: 'aws', account: '333333333333', region: 'us-west-2' }]);
      });

      it('registers the scope even when the create fails with ConflictError (an empty scope is harmless)', async () => {
        // Prepare
        await store.createCluster(makeCluster('a'));
        // Act
        const attempt = store.createCluster(makeCluster('a', awsInfra('444444444444')));
        // Assess
        await expect(attempt).rejects.toBeInstanceOf(ConflictError);
        expect((await store.listScopes!()).map((s) => s.account)).toEqual(['444444444444', 'local']);
      });

      it('does not mix scopes into the cluster listings', async () => {
        // Prepare
        await store.createCluster(makeCluster('a', awsInfra('111111111111')));
        // Act
        const all = await store.listClusters();
        const mine = await store.listClusters({ accounts: ['111111111111'] });
        // Assess
        expect(names(all.items)).toEqual(['a']);
        expect(names(mine.items)).toEqual(['a']);
      });
    });

    describe('putMachine', () => {
      it('creates a machine with recordVersion 1 and updates it to 2', async () => {
        const created = await store.putMachine(makeMachine('alpha', 0));
        const updated = await store.putMachine({ ...created, phase: 'Provisioning' }, created.recordVersion);
        expect(created.recordVersion).toBe(1);
        expect(updated.recordVersion).toBe(2);
        expect(await store.getMachine('alpha', created.name)).toEqual(updated);
      });

      it('fails when creating a machine that exists (StoreConflictError)', async () => {
        await store.putMachine(makeMachine('alpha', 0));
        await expect(store.putMachine(makeMachine('alpha', 0))).rejects.toBeInstanceOf(StoreConflictError);
      });

      it.each([
        ['older', 1],
        ['newer', 3],
      ])('fails when the expected recordVersion is %s than stored (StoreConflictError)', async (_case, expected) => {
        const first = await store.putMachine(makeMachine('alpha', 0));
        const second = await store.putMachine(first, first.recordVersion);
        await expect(store.putMachine({ ...second, phase: 'Ready' }, expected)).rejects.toMatchObject({ name: 'StoreConflictError' });
        expect(await store.getMachine('alpha', first.name)).toEqual(second);
      });

      it('fails when updating a machine that does not exist (StoreConflictError)', async () => {
        await expect(store.putMachine(makeMachine('alpha', 0), 1)).rejects.toBeInstanceOf(StoreConflictError);
      });

      it('lets exactly one of two racing writers win', async () => {
        const created = await store.putMachine(makeMachine('alpha', 0));
        const results = await Promise.allSettled([
          store.putMachine({ ...created, phase: 'Ready' }, 1),
          store.putMachine({ ...created, phase: 'Failed' }, 1),
        ]);
        expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      });
    });

    describe('deleteMachines', () => {
      it('removes the named records of one cluster only, and is a no-op for names that are gone', async () => {
        for (let i = 0; i < 30; i += 1) await store.putMachine(makeMachine('alpha', i, 'Deleted'));
        await store.putMachine(makeMachine('beta', 0, 'Deleted'));
        const doomed = Array.from({ length: 28 }, (_v, i) => `alpha-md-0-${i}`);
        await store.deleteMachines('alpha', [...doomed, 'alpha-md-0-99', 'beta-md-0-0']);
        await store.deleteMachines('alpha', doomed);
        expect((await store.listMachines('alpha', { includeDeleted: true })).map((m) => m.ordinal)).toEqual([28, 29]);
        expect(await store.listMachines('beta', { includeDeleted: true })).toHaveLength(1);
      });
    });

    describe('getMachine', () => {
      it('returns undefined for an unknown machine', async () => {
        expect(await store.getMachine('alpha', 'alpha-md-0-9')).toBeUndefined();
      });
    });

    describe('listMachines', () => {
      it.each([
        ['hides Deleted machines by default', undefined, [0, 2]],
        ['hides Deleted machines when includeDeleted is false', false, [0, 2]],
        ['includes Deleted machines when asked', true, [0, 1, 2]],
      ])('%s', async (_case, includeDeleted, ordinals) => {
        await store.putMachine(makeMachine('alpha', 0, 'Ready'));
        await store.putMachine(makeMachine('alpha', 1, 'Deleted'));
        await store.putMachine(makeMachine('alpha', 2, 'Failed'));
        await store.putMachine(makeMachine('alpha-b', 0, 'Ready'));
        const machines = await store.listMachines('alpha', includeDeleted === undefined ? undefined : { includeDeleted });
        expect(machines.map((m) => m.ordinal).sort()).toEqual(ordinals);
        expect(machines.every((m) => m.cluster === 'alpha')).toBe(true);
      });
    });

    describe('appendEvents', () => {
      it('assigns seq 1, 2, 3 in append order and returns the stored events', async () => {
        const first = await store.appendEvents('alpha', [makeEvent('a'), makeEvent('b')]);
        const second = await store.appendEvents('alpha', [makeEvent('c')]);
        expect([...first, ...second].map((e) => [e.id, e.seq])).toEqual([['a', 1], ['b', 2], ['c', 3]]);
        expect((await store.listEvents('alpha')).items).toEqual([...first, ...second]);
      });

      it('is a no-op returning the stored event when an id is appended again', async () => {
        const [stored] = await store.appendEvents('alpha', [makeEvent('a', 'original')]);
        const again = await store.appendEvents('alpha', [makeEvent('a', 'retried with other text')]);
        expect(again).toEqual([stored]);
        expect((await store.listEvents('alpha')).items).toEqual([stored]);
      });

      it('appends only the new events of a retried batch, after the existing ones', async () => {
        await store.appendEvents('alpha', [makeEvent('a'), makeEvent('b')]);
        const retried = await store.appendEvents('alpha', [makeEvent('a'), makeEvent('b'), makeEvent('c'), makeEvent('a')]);
        expect(retried.map((e) => [e.id, e.seq])).toEqual([['a', 1], ['b', 2], ['c', 3], ['a', 1]]);
        expect((await store.listEvents('alpha')).items.map((e) => e.id)).toEqual(['a', 'b', 'c']);
      });

      it('keeps the logs of different clusters apart', async () => {
        await store.appendEvents('alpha', [makeEvent('a'), makeEvent('b')]);
        const other = await store.appendEvents('alpha-b', [makeEvent('a')]);
        expect(other.map((e) => e.seq)).toEqual([1]);
      });

      it('gives gap-free seq and stores each id once under 20 concurrent appenders with overlapping ids', async () => {
        // Prepare: appender i proposes a shared id, its own id, and another shared id
        const batches = Array.from({ length: 20 }, (_, i) => [makeEvent(`shared-${i % 6}`), makeEvent(`own-${i}`), makeEvent(`shared-${(i + 1) % 6}`)]);
        // Act
        const results = await Promise.all(batches.map((batch) => store.appendEvents('alpha', batch)));
        // Assess
        const log = (await store.listEvents('alpha', { limit: 1000 })).items;
        const uniqueIds = new Set(batches.flat().map((e) => e.id));
        expect(log.map((e) => e.seq)).toEqual(Array.from({ length: uniqueIds.size }, (_, i) => i + 1));
        expect(new Set(log.map((e) => e.id))).toEqual(uniqueIds);
        const bySeq = new Map(log.map((e) => [e.seq, e]));
        for (const returned of results.flat()) expect(bySeq.get(returned.seq)).toEqual(returned);
      });
    });

    describe('listEvents', () => {
      it('pages by seq with `after` and `next`', async () => {
        await store.appendEvents('alpha', Array.from({ length: 7 }, (_, i) => makeEvent(`e${i + 1}`)));
        const seqs: number[][] = [];
        const nexts: (string | undefined)[] = [];
        let after: number | undefined;
        do {
          const page = await store.listEvents('alpha', { limit: 3, ...(after !== undefined ? { after } : {}) });
          seqs.push(page.items.map((e) => e.seq));
          nexts.push(page.next);
          after = page.next === undefined ? undefined : Number(page.next);
        } while (after !== undefined);
        expect(seqs).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
        expect(nexts).toEqual(['3', '6', undefined]);
      });

      it.each([
        ['after the head', 7, []],
        ['after 5', 5, [6, 7]],
        ['after 0', 0, [1, 2, 3, 4, 5, 6, 7]],
      ])('returns the events %s', async (_case, after, expected) => {
        await store.appendEvents('alpha', Array.from({ length: 7 }, (_, i) => makeEvent(`e${i + 1}`)));
        const page = await store.listEvents('alpha', { after });
        expect(page.items.map((e) => e.seq)).toEqual(expected);
        expect(page.next).toBeUndefined();
      });

      it('returns an empty log for an unknown cluster', async () => {
        expect(await store.listEvents('ghost')).toEqual({ items: [] });
      });
    });

    describe('acquireLease', () => {
      const t0 = new Date('2030-01-01T00:00:00.000Z');
      const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

      it('takes a free lease and reports its holder and expiry', async () => {
        expect(await store.acquireLease('alpha', 'exec-1', 60, t0)).toBe(true);
        expect(await store.getLease('alpha')).toEqual({ cluster: 'alpha', holder: 'exec-1', expiresAt: '2030-01-01T00:01:00.000Z' });
      });

      it.each([
        ['the holder renews before expiry', 'exec-1', 30, true, 'exec-1', '2030-01-01T00:01:30.000Z'],
        ['another holder asks while it is live', 'exec-2', 30, false, 'exec-1', '2030-01-01T00:01:00.000Z'],
        ['another holder asks one second before expiry', 'exec-2', 59, false, 'exec-1', '2030-01-01T00:01:00.000Z'],
        ['another holder asks at the expiry instant', 'exec-2', 60, true, 'exec-2', '2030-01-01T00:02:00.000Z'],
        ['another holder steals it after expiry', 'exec-2', 600, true, 'exec-2', '2030-01-01T00:11:00.000Z'],
        ['the old holder renews after expiry', 'exec-1', 600, true, 'exec-1', '2030-01-01T00:11:00.000Z'],
      ])('when %s', async (_case, holder, afterSeconds, expected, holderAfter, expiresAfter) => {
        await store.acquireLease('alpha', 'exec-1', 60, t0);
        expect(await store.acquireLease('alpha', holder, 60, at(afterSeconds))).toBe(expected);
        expect(await store.getLease('alpha')).toEqual({ cluster: 'alpha', holder: holderAfter, expiresAt: expiresAfter });
      });

      it('lets exactly one of five racing holders take a free lease', async () => {
        const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((h) => store.acquireLease('alpha', h, 60, t0)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('releaseLease', () => {
      const t0 = new Date('2030-01-01T00:00:00.000Z');

      it('frees the lease for another holder', async () => {
        await store.acquireLease('alpha', 'exec-1', 60, t0);
        await store.releaseLease('alpha', 'exec-1');
        expect(await store.getLease('alpha')).toBeUndefined();
        expect(await store.acquireLease('alpha', 'exec-2', 60, t0)).toBe(true);
      });

      it('leaves the lease alone when released by a holder that does not hold it', async () => {
        await store.acquireLease('alpha', 'exec-1', 60, t0);
        await store.releaseLease('alpha', 'exec-2');
        expect((await store.getLease('alpha'))?.holder).toBe('exec-1');
        expect(await store.acquireLease('alpha', 'exec-2', 60, t0)).toBe(false);
      });

      it('does nothing when there is no lease', async () => {
        await expect(store.releaseLease('alpha', 'exec-1')).resolves.toBeUndefined();
        expect(await store.getLease('alpha')).toBeUndefined();
      });
    });

    describe('principals', () => {
      const admin: Principal = { id: 'arn:aws:iam::111111111111:role/Admin', accounts: ['*'], admin: true };
      const tenant: Principal = { id: 'local:alice', accounts: ['local', '222222222222'], admin: false };

      it('puts, gets, lists and deletes principals', async () => {
        await store.putPrincipal(tenant);
        await store.putPrincipal(admin);
        expect(await store.getPrincipal(tenant.id)).toEqual(tenant);
        expect((await store.listPrincipals()).map((p) => p.id).sort()).toEqual([admin.id, tenant.id].sort());
        await store.deletePrincipal(tenant.id);
        expect(await store.getPrincipal(tenant.id)).toBeUndefined();
        expect(await store.listPrincipals()).toEqual([admin]);
      });

      it('replaces a principal put again', async () => {
        await store.putPrincipal(tenant);
        await store.putPrincipal({ ...tenant, accounts: ['local'], admin: true });
        expect(await store.getPrincipal(tenant.id)).toEqual({ ...tenant, accounts: ['local'], admin: true });
        expect(await store.listPrincipals()).toHaveLength(1);
      });

      it.each([
        ['getPrincipal of an unknown id returns undefined', (s: Store) => s.getPrincipal('local:nobody'), undefined],
        ['deletePrincipal of an unknown id does nothing', (s: Store) => s.deletePrincipal('local:nobody'), undefined],
        ['listPrincipals of an empty table is empty', (s: Store) => s.listPrincipals(), []],
      ])('%s', async (_case, act, expected) => {
        await expect(act(store)).resolves.toEqual(expected);
      });

      it('does not list clusters as principals or principals as clusters', async () => {
        await store.putPrincipal(tenant);
        await store.createCluster(makeCluster('alpha'));
        expect(await store.listPrincipals()).toEqual([tenant]);
        expect(names((await store.listClusters()).items)).toEqual(['alpha']);
      });
    });
  });
}
