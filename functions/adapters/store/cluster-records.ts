/**
 * What the cluster methods of `DynamoDbStore` share beyond one request: the table-wide resourceVersion counter,
 * the explanation of a failed conditional write, the clean-up of a half-deleted cluster's partition, and the
 * name-ordered listings over the three cluster indexes (all, by provider scope, by account).
 *
 * Its own file because these are the multi-request algorithms of cluster records (each one safe to interrupt and
 * re-run); the store class keeps only the order in which they run.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Cluster } from '../../domain/cluster.js';
import { NotFoundError, PreconditionFailedError } from '../../domain/errors.js';
import type { Page } from '../../domain/ports.js';
import { StoreError } from './errors.js';
import { K, N, S, readDoc, readS, type Item } from './item-codec.js';
import { toClusterPage } from './pagination.js';
import type { StoreTable } from './store-table.js';

/** The cluster indexes; each holds cluster names as its sort key. */
export type ClusterIndex = 'GSI1' | 'GSI2' | 'GSI3';

/** The cluster record of `name` (a strongly consistent read), or undefined. */
export async function readCluster(table: StoreTable, name: string): Promise<Cluster | undefined> {
  const item = await table.get(K.clusterPk(name), K.clusterSk, 'getCluster');
  return item ? readDoc<Cluster>(item) : undefined;
}

/**
 * The next resourceVersion: one atomic counter for the whole table, so a version is never reused, not even by a
 * re-created cluster of the same name (a stale If-Match from the old incarnation cannot match the new one).
 */
export async function nextResourceVersion(table: StoreTable): Promise<number> {
  const output = await table.update(
    {
      Key: { PK: S(K.counterPk), SK: S(K.counterSk) },
      UpdateExpression: 'ADD #v :one',
      ExpressionAttributeNames: { '#v': 'value' },
      ExpressionAttributeValues: { ':one': N(1) },
      ReturnValues: 'UPDATED_NEW',
    },
    'nextResourceVersion',
  );
  const value = output.Attributes?.value?.N;
  if (value === undefined) throw new StoreError('store: the resourceVersion counter returned no value');
  return Number(value);
}

/** After a failed conditional write: NotFoundError when the cluster is gone, else PreconditionFailedError. */
export async function explainClusterPrecondition(table: StoreTable, name: string, expected: string): Promise<Error> {
  const current = await readCluster(table, name);
  if (!current) return new NotFoundError(`cluster "${name}" not found`);
  return new PreconditionFailedError(
    `cluster "${name}": resourceVersion is ${current.metadata.resourceVersion}, the request expected ${expected}`,
  );
}

/**
 * Deletes every item of the cluster's partition except a cluster record: what a crashed `deleteCluster` left
 * behind. Stops when a cluster record of the name appears (someone re-created it).
 */
export async function purgeLeftovers(table: StoreTable, name: string): Promise<void> {
  const pk = K.clusterPk(name);
  for (;;) {
    const output = await table.query(
      {
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': S(pk) },
        ProjectionExpression: 'PK, SK',
        ConsistentRead: true,
        Limit: 100,
      },
      'purgeCluster',
    );
    const items = output.Items ?? [];
    if (items.some((item) => item.SK?.S === K.clusterSk)) return;
    if (items.length === 0) return;
    await table.batchDelete(
      items.map((item) => ({ PK: item.PK as AttributeValue, SK: item.SK as AttributeValue })),
      'purgeCluster',
    );
  }
}

/** One name-ordered page of an index partition, using the `limit + 1` probe so the last page has no cursor. */
export async function pageByName(
  table: StoreTable,
  index: ClusterIndex,
  partition: string,
  after: string | undefined,
  limit: number,
  operation: string,
): Promise<Page<Cluster>> {
  const items = await queryIndexAfter(table, index, partition, after, limit + 1, operation);
  return toClusterPage(items, limit);
}

/**
 * One name-ordered page of the clusters in any of `accounts`: one query per account (GSI3), merged, so the page
 * holds the `limit` smallest names after the cursor.
 */
export async function pageOfAccounts(table: StoreTable, accounts: readonly string[], after: string | undefined, limit: number): Promise<Page<Cluster>> {
  const unique = [...new Set(accounts)];
  const perAccount = await Promise.all(
    unique.map((account) => queryIndexAfter(table, 'GSI3', K.account(account), after, limit + 1, 'listClusters')),
  );
  const merged = perAccount.flat().sort((a, b) => (readS(a, 'GSI3SK') < readS(b, 'GSI3SK') ? -1 : 1));
  return toClusterPage(merged, limit);
}

/** Up to `count` items of an index partition with sort key (the name) after `after`, in order. */
function queryIndexAfter(
  table: StoreTable,
  index: ClusterIndex,
  partition: string,
  after: string | undefined,
  count: number,
  operation: string,
): Promise<Item[]> {
  const pkName = `${index}PK`;
  const skName = `${index}SK`;
  return table.queryUpTo(
    {
      IndexName: index,
      KeyConditionExpression: after === undefined ? '#pk = :pk' : '#pk = :pk AND #sk > :after',
      ExpressionAttributeNames: after === undefined ? { '#pk': pkName } : { '#pk': pkName, '#sk': skName },
      ExpressionAttributeValues: after === undefined ? { ':pk': S(partition) } : { ':pk': S(partition), ':after': S(after) },
    },
    count,
    operation,
  );
}
