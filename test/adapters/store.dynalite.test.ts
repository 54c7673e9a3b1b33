/** The store contract on the embedded default: dynalite in-process, a fresh server and table per test. */
import { DynamoDbStore } from '../../functions/adapters/store/dynamodb-store.js';
import { startLocalDynamo } from '../../infra/local/dynamo.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('DynamoDbStore on dynalite', async () => {
  const dynamo = await startLocalDynamo();
  return { store: new DynamoDbStore({ client: dynamo.client, tableName: dynamo.tableName }), close: () => dynamo.close() };
});
