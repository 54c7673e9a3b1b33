/**
 * The single-table definition as plain data: key names, secondary indexes and billing mode, shared by the CDK stack
 * (which builds the `Table` construct from it) and local mode (which creates the table on dynalite or DynamoDB Local).
 *
 * Note: the store adapter's item codec (item-codec.ts) is the only code that knows the item shapes; this file only knows the
 * attributes DynamoDB itself must know about (keys). See docs/store.md for the access patterns.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/** Default table name in local mode and tests. */
export const DEFAULT_TABLE_NAME = 'capstan';

/** Partition and sort key names of the base table; both are strings. */
export const TABLE_KEYS = { partitionKey: 'PK', sortKey: 'SK' } as const;

/**
 * Name of the epoch-seconds attribute DynamoDB TTL may use to delete expired items (leases). Enabling TTL is the
 * stack's business; readers never rely on it because TTL deletion is lazy (and dynalite has none).
 */
export const TTL_ATTRIBUTE = 'ttl';

/** One global secondary index: string keys, every attribute projected. */
export interface GsiDefinition {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  /** What the index is for, for humans reading the stack. */
  readonly purpose: string;
}

/**
 * The global secondary indexes. Only cluster records carry their attributes, so the indexes are sparse.
 *
 * Note: index names and key attribute names are API: renaming one makes CloudFormation replace the index.
 */
export const GSI_DEFINITIONS = [
  {
    indexName: 'GSI1',
    partitionKey: 'GSI1PK',
    sortKey: 'GSI1SK',
    purpose: 'All clusters ordered by name (GSI1PK = "CLUSTER", GSI1SK = name).',
  },
  {
    indexName: 'GSI2',
    partitionKey: 'GSI2PK',
    sortKey: 'GSI2SK',
    purpose: 'Clusters of one provider account-region, for the sweep (GSI2PK = "SCOPE#provider#account#region", GSI2SK = name).',
  },
  {
    indexName: 'GSI3',
    partitionKey: 'GSI3PK',
    sortKey: 'GSI3SK',
    purpose: 'Clusters of one account ordered by name, for tenants (GSI3PK = "ACCOUNT#account", GSI3SK = name).',
  },
] as const satisfies readonly GsiDefinition[];

/** Billing mode of the table: on demand, so an idle control plane costs nothing and bursts are not throttled early. */
export const BILLING_MODE = 'PAY_PER_REQUEST' as const;

/** The CreateTable request for the table, used by local mode (`ensureTable`) and as the reference for the stack. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const keyAttributes = [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, ...GSI_DEFINITIONS.flatMap((g) => [g.partitionKey, g.sortKey])];
  return {
    TableName: tableName,
    BillingMode: BILLING_MODE,
    AttributeDefinitions: keyAttributes.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: GSI_DEFINITIONS.map((g) => ({
      IndexName: g.indexName,
      KeySchema: [
        { AttributeName: g.partitionKey, KeyType: 'HASH' },
        { AttributeName: g.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}
