/** The embedded dynalite host of local mode: loopback only, ephemeral ports, on-disk persistence, idempotent tables. */
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbStore } from '../../functions/adapters/store/dynamodb-store.js';
import { closeDynaliteIterators, ensureTable, localDynamoClient, startLocalDynamo, trackRequests } from '../../infra/local/dynamo.js';
import { makeCluster, makeEvent } from './store-contract.js';

describe('startLocalDynamo', () => {
  it('listens on 127.0.0.1 on a fresh ephemeral port per instance, with the table ACTIVE', async () => {
    const [a, b] = await Promise.all([startLocalDynamo(), startLocalDynamo({ tableName: 'other' })]);
    try {
      expect(a.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(a.endpoint).not.toBe(b.endpoint);
      const described = await b.client.send(new DescribeTableCommand({ TableName: 'other' }));
      expect(described.Table?.TableStatus).toBe('ACTIVE');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('keeps the data across a restart when given a path', async () => {
    // Prepare
    const dir = await mkdtemp(path.join(os.tmpdir(), 'capstan-dynamo-'));
    try {
      const first = await startLocalDynamo({ path: dir });
      const created = await new DynamoDbStore({ client: first.client, tableName: first.tableName }).createCluster(makeCluster('alpha'));
      await new DynamoDbStore({ client: first.client, tableName: first.tableName }).appendEvents('alpha', [makeEvent('a')]);
      await first.close();
      // Act
      const second = await startLocalDynamo({ path: dir });
      try {
        const store = new DynamoDbStore({ client: second.client, tableName: second.tableName });
        // Assess
        expect(await store.getCluster('alpha')).toEqual(created);
        expect((await store.appendEvents('alpha', [makeEvent('a'), makeEvent('b')])).map((e) => e.seq)).toEqual([1, 2]);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('starts empty in memory every time', async () => {
    const first = await startLocalDynamo();
    await new DynamoDbStore({ client: first.client, tableName: first.tableName }).createCluster(makeCluster('alpha'));
    await first.close();
    const second = await startLocalDynamo();
    try {
      expect(await new DynamoDbStore({ client: second.client, tableName: second.tableName }).getCluster('alpha')).toBeUndefined();
    } finally {
      await second.close();
    }
  });

  it('closes while requests are in flight: each started request answers, later ones are refused, nothing throws', async () => {
    const dynamo = await startLocalDynamo();
    const other = localDynamoClient(dynamo.endpoint);
    const store = new DynamoDbStore({ client: other, tableName: dynamo.tableName });
    try {
      await store.createCluster(makeCluster('alpha'));
      const reads = Array.from({ length: 200 }, () => store.getCluster('alpha'));
      await Promise.race(reads);
      await dynamo.close();
      const outcomes = await Promise.allSettled(reads);
      const answered = outcomes.filter((o) => o.status === 'fulfilled');
      expect(answered.length).toBeGreaterThan(0);
      for (const o of answered) expect((o as PromiseFulfilledResult<unknown>).value).toMatchObject({ metadata: { name: 'alpha' } });
      await expect(store.getCluster('alpha')).rejects.toThrow();
      // A thrown dynalite callback surfaces on the next turns of the event loop; give it the chance.
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      other.destroy();
    }
  });

  it('fails when the port is taken', async () => {
    const first = await startLocalDynamo();
    try {
      const port = Number(new URL(first.endpoint).port);
      await expect(startLocalDynamo({ port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await first.close();
    }
  });
});

describe('closeDynaliteIterators', () => {
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));

  /**
   * Runs queries against a fresh embedded table and counts the LevelDB iterators memory-level opened and how many
   * were still open before the table closed (closing the database closes them all).
   */
  async function iteratorsOf(queries: (store: DynamoDbStore) => Promise<void>, options: { readonly broken?: boolean } = {}) {
    const proto = (fromDynalite('memory-level') as { MemoryLevel: { prototype: Record<string, (o: unknown) => any> } }).MemoryLevel.prototype;
    const counts = { made: 0, open: 0 };
    const originals = ['_iterator', '_keys', '_values'].map((m) => [m, proto[m]!] as const);
    for (const [m, original] of originals) {
      proto[m] = function (this: unknown, o: unknown) {
        const it = original.call(this, o);
        counts.made++;
        counts.open++;
        const close = it._close.bind(it);
        it._close = async () => {
          counts.open--;
          return close();
        };
        return it;
      };
    }
    const iterators = fromDynalite('abstract-level') as Record<string, { prototype: Record<string, unknown> }>;
    const protos = ['AbstractIterator', 'AbstractKeyIterator', 'AbstractValueIterator'].map((n) => iterators[n]!.prototype);
    const dynamo = await startLocalDynamo();
    try {
      if (options.broken) for (const p of protos) delete p.return;
      const store = new DynamoDbStore({ client: dynamo.client, tableName: dynamo.tableName });
      await store.createCluster(makeCluster('alpha'));
      await store.appendEvents('alpha', [makeEvent('e1'), makeEvent('e2')]);
      const before = { ...counts };
      await queries(store);
      return { made: counts.made - before.made, open: counts.open - before.open };
    } finally {
      for (const [m, original] of originals) proto[m] = original;
      closeDynaliteIterators();
      await dynamo.close();
    }
  }

  const tenOfEach = async (store: DynamoDbStore) => {
    for (let i = 0; i < 10; i++) {
      await store.listClusters({ limit: 1 });
      await store.listMachines('alpha');
      await store.listEvents('alpha', { limit: 1 });
    }
  };

  it('closes the iterator of every query (dynalite 4.0.0 left each one open and the table grew without bound: D11)', async () => {
    const fixed = await iteratorsOf(tenOfEach);
    expect(fixed.made).toBeGreaterThanOrEqual(30);
    expect(fixed.open).toBe(0);
  });

  it('is what makes the difference: without it the same queries leave their iterators open', async () => {
    const broken = await iteratorsOf(tenOfEach, { broken: true });
    expect(broken.open).toBeGreaterThanOrEqual(30);
  });
});

describe('trackRequests', () => {
  it('lets a started request answer before drain resolves, and answers later ones 503 without reaching the handler', async () => {
    let reached = 0;
    const server = http.createServer((_req, res) => {
      reached += 1;
      setTimeout(() => res.end('slow answer'), 150);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const drain = trackRequests(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const started = fetch(url, { method: 'POST', body: '{}' });
      while (reached === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      let drained = false;
      const draining = drain(5_000).then(() => (drained = true));
      const refused = await fetch(url, { method: 'POST', body: '{}' });
      expect(refused.status).toBe(503);
      expect(await refused.json()).toMatchObject({ __type: expect.stringContaining('ServiceUnavailable') });
      expect(drained).toBe(false);
      const answer = await started;
      expect(await answer.text()).toBe('slow answer');
      await draining;
      expect(drained).toBe(true);
      expect(reached).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('gives up waiting after the timeout when a handler never answers', async () => {
    let reached = 0;
    const server = http.createServer(() => {
      reached += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const drain = trackRequests(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const controller = new AbortController();
    try {
      const hanging = fetch(url, { method: 'POST', body: '{}', signal: controller.signal }).catch(() => undefined);
      while (reached === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const before = Date.now();
      await drain(100);
      expect(Date.now() - before).toBeGreaterThanOrEqual(90);
      controller.abort();
      await hanging;
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('ensureTable', () => {
  it('creates a missing table once when called concurrently, and is a no-op afterwards', async () => {
    const dynamo = await startLocalDynamo();
    try {
      await Promise.all([ensureTable(dynamo.client, 'capstan-2'), ensureTable(dynamo.client, 'capstan-2'), ensureTable(dynamo.client, 'capstan-2')]);
      await ensureTable(dynamo.client, 'capstan-2');
      const described = await dynamo.client.send(new DescribeTableCommand({ TableName: 'capstan-2' }));
      expect(described.Table?.TableStatus).toBe('ACTIVE');
      expect(described.Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName).sort()).toEqual(['GSI1', 'GSI2', 'GSI3']);
    } finally {
      await dynamo.close();
    }
  });
});
