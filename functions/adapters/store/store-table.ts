/**
 * The DynamoDB requests the store makes, on one table: strongly consistent reads, conditional writes that answer
 * false instead of throwing when their condition does not hold, queries that follow `LastEvaluatedKey`, and batches
 * that resubmit unprocessed items. Every SDK error leaves as a CapstanError (`toStoreError`) naming the operation.
 *
 * Its own file because it is the only code that talks to the SDK: the store's records, event log and listings are
 * written against these few primitives, which run alike on dynalite, DynamoDB Local and AWS (no transactions).
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type QueryCommandInput,
  type QueryCommandOutput,
  type UpdateItemCommandInput,
  type UpdateItemCommandOutput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { isConditionFailed, StoreError, toStoreError } from './errors.js';
import { S, type Item } from './item-codec.js';

/** DynamoDB's BatchWriteItem limit. */
const BATCH_WRITE_SIZE = 25;
/** DynamoDB's BatchGetItem limit. */
const BATCH_GET_SIZE = 100;

/** Waits before the `attempt`-th resubmission of unprocessed batch items (exponential, at most 1 s). */
function backoff(attempt: number): Promise<unknown> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt)));
}

/** The store's table: a configured client (never created here) and the table name. */
export class StoreTable {
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {}

  /** Runs one SDK call, mapping its error to the store's errors for `operation`. */
  async send<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toStoreError(error, operation);
    }
  }

  /** Strongly consistent GetItem of one key; undefined when there is no such item. */
  async get(pk: string, sk: string, operation: string): Promise<Item | undefined> {
    const output = await this.send(operation, () =>
      this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { PK: S(pk), SK: S(sk) }, ConsistentRead: true })),
    );
    return output.Item;
  }

  /** Unconditional PutItem (an item nothing races on). */
  async put(item: Item, operation: string): Promise<void> {
    await this.send(operation, () => this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item })));
  }

  /** Unconditional DeleteItem; deleting an absent item succeeds. */
  async delete(pk: string, sk: string, operation: string): Promise<void> {
    await this.send(operation, () => this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: { PK: S(pk), SK: S(sk) } })));
  }

  /** PutItem with a condition; false when the condition did not hold. */
  async conditionalPut(item: Item, condition: string, values: Item, operation: string): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: condition,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw toStoreError(error, operation);
    }
  }

  /** UpdateItem with a condition; false when the condition did not hold. */
  async conditionalUpdate(key: Item, update: string, condition: string, values: Item, operation: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({ TableName: this.tableName, Key: key, UpdateExpression: update, ConditionExpression: condition, ExpressionAttributeValues: values }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw toStoreError(error, operation);
    }
  }

  /** DeleteItem with a condition; false when the condition did not hold (or the item is absent). */
  async conditionalDelete(pk: string, sk: string, condition: string, values: Item, operation: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({ TableName: this.tableName, Key: { PK: S(pk), SK: S(sk) }, ConditionExpression: condition, ExpressionAttributeValues: values }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw toStoreError(error, operation);
    }
  }

  /** One UpdateItem as given (the caller's expression, return values and all). */
  update(input: Omit<UpdateItemCommandInput, 'TableName'>, operation: string): Promise<UpdateItemCommandOutput> {
    return this.send(operation, () => this.client.send(new UpdateItemCommand({ TableName: this.tableName, ...input })));
  }

  /** One Query request as given: a single page, LastEvaluatedKey not followed. */
  query(input: Omit<QueryCommandInput, 'TableName'>, operation: string): Promise<QueryCommandOutput> {
    return this.send(operation, () => this.client.send(new QueryCommand({ TableName: this.tableName, ...input })));
  }

  /** Every item of a query, following LastEvaluatedKey. */
  async queryAll(input: Omit<QueryCommandInput, 'TableName'>, operation: string): Promise<Item[]> {
    return this.queryUpTo(input, Number.POSITIVE_INFINITY, operation);
  }

  /** At most `count` items of a query, following LastEvaluatedKey (DynamoDB stops a page at 1 MB). */
  async queryUpTo(input: Omit<QueryCommandInput, 'TableName'>, count: number, operation: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const remaining = count - items.length;
      const output = await this.send(operation, () =>
        this.client.send(
          new QueryCommand({
            ...input,
            TableName: this.tableName,
            ...(Number.isFinite(remaining) ? { Limit: remaining } : {}),
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      items.push(...(output.Items ?? []));
      startKey = output.LastEvaluatedKey;
    } while (startKey && items.length < count);
    return items;
  }

  /** Strongly consistent BatchGetItem in chunks of 100, re-asking for unprocessed keys with a short backoff. */
  async batchGet(keys: readonly Item[], operation: string): Promise<Item[]> {
    const items: Item[] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_SIZE) {
      let pending: Item[] = keys.slice(i, i + BATCH_GET_SIZE);
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt > 0) await backoff(attempt);
        if (attempt > 10) throw new StoreError(`store: ${pending.length} reads stayed unprocessed after ${attempt} attempts`);
        const request = pending;
        const output = await this.send(operation, () =>
          this.client.send(new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: request, ConsistentRead: true } } })),
        );
        items.push(...(output.Responses?.[this.tableName] ?? []));
        pending = (output.UnprocessedKeys?.[this.tableName]?.Keys as Item[] | undefined) ?? [];
      }
    }
    return items;
  }

  /** BatchWriteItem deletes in chunks of 25, resubmitting unprocessed items with a short backoff. */
  async batchDelete(keys: Item[], operation: string): Promise<void> {
    for (let i = 0; i < keys.length; i += BATCH_WRITE_SIZE) {
      let pending: WriteRequest[] = keys.slice(i, i + BATCH_WRITE_SIZE).map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt > 0) await backoff(attempt);
        if (attempt > 10) throw new StoreError(`store: ${pending.length} deletes stayed unprocessed after ${attempt} attempts`);
        const requests = pending;
        const output = await this.send(operation, () =>
          this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: requests } })),
        );
        pending = output.UnprocessedItems?.[this.tableName] ?? [];
      }
    }
  }
}
