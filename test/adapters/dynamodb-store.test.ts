/**
 * What only the DynamoDB adapter can be asked: crashes between any two of its requests, SDK error mapping, input
 * validation and the shape of the table. The behaviour every Store shares is in store-contract.ts.
 */
import { DynamoDBClient, QueryCommand, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { Command } from '@smithy/types';
import { StoreError } from '../../functions/adapters/store/errors.js';
import { DynamoDbStore } from '../../functions/adapters/store/dynamodb-store.js';
import { createTableInput, GSI_DEFINITIONS, TABLE_KEYS } from '../../functions/adapters/store/table.js';
import { TooManyRequestsError, ValidationError } from '../../functions/domain/errors.js';
import type { Store } from '../../functions/domain/ports.js';
import { startLocalDynamo, type LocalDynamo } from '../../infra/local/dynamo.js';
import { makeCluster, makeEvent, makeMachine } from './store-contract.js';

class SimulatedCrash extends Error {
  constructor() {
    super('simulated crash');
    this.name = 'SimulatedCrash';
  }
}

type AnyCommand = Command<ServiceInputTypes, ServiceInputTypes, ServiceOutputTypes, ServiceOutputTypes, unknown>;

/**
 * A client that dies at its n-th request: `before` the request reaches DynamoDB (it never happened) or `after` it
 * was applied (the response is lost), like a Lambda killed between two lines.
 */
function crashingClient(real: DynamoDBClient, crashAt: number, when: 'before' | 'after'): { client: DynamoDBClient; calls: () => number } {
  let calls = 0;
  const client = {
    send: async (command: AnyCommand) => {
      calls += 1;
      const crashNow = calls === crashAt;
      if (crashNow && when === 'before') throw new SimulatedCrash();
      const output = await real.send(command);
      if (crashNow && when === 'after') throw new SimulatedCrash();
      return output;
    },
  } as unknown as DynamoDBClient;
  return { client, calls: () => calls };
}

describe('DynamoDbStore.appendEvents', () => {
  let dynamo: LocalDynamo;
  let store: Store;

  beforeEach(async () => {
    dynamo = await startLocalDynamo();
    store = new DynamoDbStore({ client: dynamo.client, tableName: dynamo.tableName });
  });

  afterEach(async () => {
    await dynamo.close();
  });

  it('uses 8 requests for a batch of 3 on a non-empty log (the crash cases below cover each of them)', async () => {
    await store.appendEvents('alpha', [makeEvent('x')]);
    const counting = crashingClient(dynamo.client, Number.POSITIVE_INFINITY, 'before');
    await new DynamoDbStore({ client: counting.client, tableName: dynamo.tableName }).appendEvents('alpha', [makeEvent('a'), makeEvent('b'), makeEvent('c')]);
    expect(counting.calls()).toBe(8);
  });

  it('finds a re-appended batch already in the log with 2 requests, whatever its size', async () => {
    const batch = [makeEvent('a'), makeEvent('b'), makeEvent('c'), makeEvent('d')];
    const first = await store.appendEvents('alpha', batch);
    const counting = crashingClient(dynamo.client, Number.POSITIVE_INFINITY, 'before');
    const again = await new DynamoDbStore({ client: counting.client, tableName: dynamo.tableName }).appendEvents('alpha', batch);
    expect(counting.calls()).toBe(2);
    expect(again).toEqual(first);
  });

  it('appends the new events of a batch that is partly in the log, after the head, in order', async () => {
    const first = await store.appendEvents('alpha', [makeEvent('a'), makeEvent('b')]);
    await store.appendEvents('alpha', [makeEvent('x')]);
    const mixed = await store.appendEvents('alpha', [makeEvent('a'), makeEvent('n1'), makeEvent('b'), makeEvent('n2')]);
    expect(mixed.map((e) => [e.id, e.seq])).toEqual([['a', first[0]!.seq], ['n1', 4], ['b', first[1]!.seq], ['n2', 5]]);
    expect((await store.listEvents('alpha')).items.map((e) => e.id)).toEqual(['a', 'b', 'x', 'n1', 'n2']);
  });

  const crashPoints = [1, 2, 3, 4, 5, 6, 7, 8].flatMap((n) => (['before', 'after'] as const).map((when) => [n, when] as const));

  it.each(crashPoints)(
    'stays gap-free and idempotent when the appender crashes at request %i (%s it is applied), another appends, then it retries',
    async (crashAt, when) => {
      // Prepare
      await store.appendEvents('alpha', [makeEvent('x')]);
      const crashing = crashingClient(dynamo.client, crashAt, when);
      const batch = [makeEvent('a'), makeEvent('b'), makeEvent('c')];
      // Act
      await expect(new DynamoDbStore({ client: crashing.client, tableName: dynamo.tableName }).appendEvents('alpha', batch)).rejects.toBeInstanceOf(StoreError);
      await store.appendEvents('alpha', [makeEvent('d')]);
      const retried = await store.appendEvents('alpha', batch);
      const again = await store.appendEvents('alpha', batch);
      // Assess
      const log = (await store.listEvents('alpha')).items;
      expect(log.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(log.map((e) => e.id).sort()).toEqual(['a', 'b', 'c', 'd', 'x']);
      expect(retried.map((e) => e.id)).toEqual(['a', 'b', 'c']);
      expect(retried.map((e) => e.seq)).toEqual([...retried.map((e) => e.seq)].sort((p, q) => p - q));
      expect(again).toEqual(retried);
      for (const event of retried) expect(log[event.seq - 1]).toEqual(event);
    },
  );

  it('stores each id once when ten processes retry the same batch at the same time', async () => {
    const batch = Array.from({ length: 5 }, (_, i) => makeEvent(`e${i}`));
    const stores = Array.from({ length: 10 }, () => new DynamoDbStore({ client: dynamo.client, tableName: dynamo.tableName }));
    const results = await Promise.all(stores.map((s) => s.appendEvents('alpha', batch)));
    const log = (await store.listEvents('alpha')).items;
    expect(log.map((e) => e.id)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
    expect(log.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    for (const result of results) expect(result).toEqual(log);
  });
});

describe('DynamoDbStore.deleteCluster', () => {
  it('finishes a delete that crashed after removing the record, when retried', async () => {
    // Prepare
    const dynamo = await startLocalDynamo();
    try {
      const store = new DynamoDbStore({ client: dynamo.client, tableName: dynamo.tableName });
      const created = await store.createCluster(makeCluster('alpha'));
      await store.putMachine(makeMachine('alpha', 0));
      await store.appendEvents('alpha', [makeEvent('a')]);
      // Act: the first request (the conditional delete of the record) is applied, then the process dies
      const crashing = crashingClient(dynamo.client, 1, 'after');
      await expect(new DynamoDbStore({ client: crashing.client, tableName: dynamo.tableName }).deleteCluster('alpha', created.metadata.resourceVersion)).rejects.toBeInstanceOf(StoreError);
      const leftBehind = await store.listMachines('alpha');
      await expect(store.deleteCluster('alpha', created.metadata.resourceVersion)).rejects.toMatchObject({ name: 'NotFoundError' });
      // Assess
      expect(leftBehind).toHaveLength(1);
      expect(await store.listMachines('alpha', { includeDeleted: true })).toEqual([]);
      expect((await store.listEvents('alpha')).items).toEqual([]);
    } finally {
      await dynamo.close();
    }
  });

  it('purges what a crashed delete left behind when the name is created again', async () => {
    const dynamo = await startLocalDynamo();
    try {
      const store = new DynamoDbStore({ client: dynamo.client, tableName: dynamo.tableName });
      const created = await store.createCluster(makeCluster('alpha'));
      await store.appendEvents('alpha', [makeEvent('a'), makeEvent('b')]);
      const crashing = crashingClient(dynamo.client, 1, 'after');
      await expect(new DynamoDbStore({ client: crashing.client, tableName: dynamo.tableName }).deleteCluster('alpha', created.metadata.resourceVersion)).rejects.toBeInstanceOf(StoreError);
      await store.createCluster(makeCluster('alpha'));
      expect((await store.listEvents('alpha')).items).toEqual([]);
      expect((await store.appendEvents('alpha', [makeEvent('a')])).map((e) => e.seq)).toEqual([1]);
    } finally {
      await dynamo.close();
    }
  });
});

describe('DynamoDbStore error mapping', () => {
  const client = new DynamoDBClient({ region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const mock = mockClient(client);
  const store = new DynamoDbStore({ client, tableName: 'capstan' });
  const t0 = new Date('2030-01-01T00:00:00Z');

  afterEach(() => mock.reset());

  const operations: [string, (s: Store) => Promise<unknown>][] = [
    ['getCluster', (s) => s.getCluster('alpha')],
    ['listClusters', (s) => s.listClusters({ accounts: ['111111111111', '222222222222'] })],
    ['createCluster', (s) => s.createCluster(makeCluster('alpha'))],
    ['updateCluster', (s) => s.updateCluster(makeCluster('alpha'), '3')],
    ['deleteCluster', (s) => s.deleteCluster('alpha', '3')],
    ['putMachine', (s) => s.putMachine(makeMachine('alpha', 0))],
    ['listMachines', (s) => s.listMachines('alpha')],
    ['appendEvents', (s) => s.appendEvents('alpha', [makeEvent('a')])],
    ['listEvents', (s) => s.listEvents('alpha')],
    ['acquireLease', (s) => s.acquireLease('alpha', 'exec-1', 60, t0)],
    ['releaseLease', (s) => s.releaseLease('alpha', 'exec-1')],
    ['putPrincipal', (s) => s.putPrincipal({ id: 'local:a', accounts: ['local'], admin: false })],
    ['listPrincipals', (s) => s.listPrincipals()],
    ['listScopes', (s) => s.listScopes!()],
    ['registerScope', (s) => s.registerScope!({ provider: 'local', account: 'local', region: 'local' })],
  ];
  const sdkErrors: [string, new (...args: never[]) => Error, string][] = [
    ['ProvisionedThroughputExceededException', TooManyRequestsError, 'TooManyRequestsError'],
    ['ThrottlingException', TooManyRequestsError, 'TooManyRequestsError'],
    ['RequestLimitExceeded', TooManyRequestsError, 'TooManyRequestsError'],
    ['InternalServerError', StoreError, 'StoreError'],
    ['ResourceNotFoundException', StoreError, 'StoreError'],
  ];
  const cases = operations.flatMap(([operation, act]) => sdkErrors.map(([sdkName, type, ourName]) => [operation, sdkName, ourName, act, type] as const));

  it.each(cases)('%s maps %s to %s without leaking the SDK message', async (_operation, sdkName, ourName, act, type) => {
    mock.onAnyCommand().rejects(Object.assign(new Error('arn:aws:dynamodb:us-east-1:123456789012:table/secret'), { name: sdkName }));
    const attempt = act(store);
    await expect(attempt).rejects.toBeInstanceOf(type);
    await expect(attempt).rejects.toMatchObject({ name: ourName });
    await expect(attempt).rejects.not.toMatchObject({ message: expect.stringContaining('arn:aws') });
  });
});

describe('DynamoDbStore.listScopes', () => {
  const client = new DynamoDBClient({ region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const mock = mockClient(client);
  const store = new DynamoDbStore({ client, tableName: 'capstan' });

  afterEach(() => mock.reset());

  it('follows LastEvaluatedKey until the registry is read to the end', async () => {
    // Prepare
    const item = (account: string) => ({ PK: { S: 'SCOPES' }, SK: { S: `SCOPE#aws#${account}#us-east-1` }, provider: { S: 'aws' }, account: { S: account }, region: { S: 'us-east-1' } });
    mock
      .on(QueryCommand)
      .resolvesOnce({ Items: [item('111111111111')], LastEvaluatedKey: item('111111111111') })
      .resolvesOnce({ Items: [item('222222222222')] });
    // Act
    const scopes = await store.listScopes();
    // Assess
    expect(scopes.map((s) => s.account)).toEqual(['111111111111', '222222222222']);
    expect(mock.commandCalls(QueryCommand).map((c) => c.args[0].input.ExclusiveStartKey?.SK?.S)).toEqual([undefined, 'SCOPE#aws#111111111111#us-east-1']);
  });
});

describe('DynamoDbStore input validation', () => {
  const client = new DynamoDBClient({ region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const store = new DynamoDbStore({ client, tableName: 'capstan' });

  it.each([
    ['listClusters with limit 0', 'limit', () => store.listClusters({ limit: 0 })],
    ['listClusters with limit 1001', 'limit', () => store.listClusters({ limit: 1001 })],
    ['listClusters with a fractional limit', 'limit', () => store.listClusters({ limit: 1.5 })],
    ['listClusters with a foreign cursor', 'cursor', () => store.listClusters({ cursor: Buffer.from('{"x":1}').toString('base64url') })],
    ['listClustersByScope with a garbage cursor', 'cursor', () => store.listClustersByScope({ provider: 'local', account: 'local', region: 'local' }, { cursor: '%%%' })],
    ['listEvents with a negative after', 'after', () => store.listEvents('alpha', { after: -1 })],
    ['listEvents with limit 0', 'limit', () => store.listEvents('alpha', { limit: 0 })],
    ['acquireLease with ttlSeconds 0', 'ttlSeconds', () => store.acquireLease('alpha', 'exec-1', 0, new Date(0))],
  ])('fails when called as %s (ValidationError on %s)', async (_case, path, act) => {
    await expect(act()).rejects.toBeInstanceOf(ValidationError);
    await expect(act()).rejects.toMatchObject({ details: [expect.objectContaining({ path })] });
  });
});

describe('createTableInput', () => {
  const input = createTableInput('capstan-test');

  it('defines PK/SK string keys, on-demand billing and every GSI of GSI_DEFINITIONS', () => {
    expect(input).toMatchObject({
      TableName: 'capstan-test',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
      ],
    });
    expect(input.GlobalSecondaryIndexes?.map((g) => [g.IndexName, g.KeySchema?.map((k) => k.AttributeName), g.Projection?.ProjectionType])).toEqual(
      GSI_DEFINITIONS.map((g) => [g.indexName, [g.partitionKey, g.sortKey], 'ALL']),
    );
  });

  it('declares each key attribute exactly once, as a string', () => {
    const declared = input.AttributeDefinitions?.map((a) => a.AttributeName) ?? [];
    expect(new Set(declared).size).toBe(declared.length);
    expect(declared.sort()).toEqual(['PK', 'SK', ...GSI_DEFINITIONS.flatMap((g) => [g.partitionKey, g.sortKey])].sort());
    expect(input.AttributeDefinitions?.every((a) => a.AttributeType === 'S')).toBe(true);
  });
});
