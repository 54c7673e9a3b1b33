/**
 * The store contract on Amazon's DynamoDB Local (Java): one JVM for the file, a fresh table per test.
 * Fails (never skips) when Java is missing: CI installs it.
 */
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbStore } from '../../functions/adapters/store/dynamodb-store.js';
import { ensureTable, localDynamoClient } from '../../infra/local/dynamo.js';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.js';
import { describeStoreContract } from './store-contract.js';

let local: DynamoDbLocal | undefined;
let tables = 0;

beforeAll(async () => {
  local = await startDynamoDbLocal();
}, 60_000);

afterAll(async () => {
  await local?.stop();
});

describeStoreContract('DynamoDbStore on DynamoDB Local', async () => {
  if (!local) throw new Error('DynamoDB Local is not running (see the beforeAll error above)');
  const client = localDynamoClient(local.endpoint);
  tables += 1;
  const tableName = `capstan-${tables}`;
  await ensureTable(client, tableName);
  return {
    store: new DynamoDbStore({ client, tableName }),
    close: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      client.destroy();
    },
  };
});
