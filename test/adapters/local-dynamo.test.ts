/** The embedded dynalite host of local mode: loopback only, ephemeral ports, on-disk persistence, idempotent tables. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbStore } from '../../functions/adapters/store/dynamodb-store.js';
import { ensureTable, startLocalDynamo } from '../../infra/local/dynamo.js';
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
