/**
 * The `Store` port on one DynamoDB table (low-level client, no transactions, so it runs on dynalite, DynamoDB Local
 * and AWS alike).
 *
 * Every resource is stored as a JSON string attribute `doc` next to the few attributes DynamoDB must see: the keys,
 * the version used in conditions (`rv`) and the index keys. Reading a resource is `JSON.parse(doc)`: no marshalling
 * of nested maps, no empty-string or empty-set pitfalls, and the document round-trips exactly.
 * Item shapes, access patterns and the event-log algorithm are in docs/store.md.
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type QueryCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { clusterAccount, clusterRegion, type Cluster } from '../../domain/cluster.js';
import {
  ConflictError,
  NotFoundError,
  PreconditionFailedError,
  StoreConflictError,
  ValidationError,
} from '../../domain/errors.js';
import type { ClusterEvent, Machine, NewEvent } from '../../domain/machine.js';
import type { Lease, Page, Principal, ProviderScopeKey, Store } from '../../domain/ports.js';
import { isConditionFailed, StoreError, toStoreError } from './errors.js';
import { TTL_ATTRIBUTE } from './table.js';

type Item = Record<string, AttributeValue>;

/** Options of `DynamoDbStore`. */
export interface DynamoDbStoreProps {
  /** A configured client (region, endpoint, credentials); the store never creates one. */
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/** Page size when the caller gives none. */
export const DEFAULT_PAGE_LIMIT = 100;
/** Largest page a caller may ask for. */
export const MAX_PAGE_LIMIT = 1000;
/** How many collisions one event append survives before giving up with StoreConflictError. */
const MAX_APPEND_ATTEMPTS = 500;
/** DynamoDB's BatchWriteItem limit. */
const BATCH_SIZE = 25;
const SEQ_DIGITS = 12;

/** Key and attribute vocabulary of the table; docs/store.md has the same table for humans. */
const K = {
  clusterPk: (name: string) => `CLUSTER#${name}`,
  clusterSk: 'CLUSTER',
  machineSk: (name: string) => `MACHINE#${name}`,
  machinePrefix: 'MACHINE#',
  eventPrefix: 'EVENT#',
  eventSk: (seq: number) => `EVENT#${String(seq).padStart(SEQ_DIGITS, '0')}`,
  eventIdSk: (id: string) => `EVENTID#${id}`,
  leaseSk: 'LEASE',
  principalPk: (id: string) => `PRINCIPAL#${id}`,
  principalSk: 'PRINCIPAL',
  counterPk: 'COUNTER',
  counterSk: 'RESOURCE_VERSION',
  gsiAllClusters: 'CLUSTER',
  gsiAllPrincipals: 'PRINCIPAL',
  scope: (provider: string, account: string, region: string) => `SCOPE#${provider}#${account}#${region}`,
  scopesPk: 'SCOPES',
  account: (account: string) => `ACCOUNT#${account}`,
} as const;

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

function readS(item: Item, name: string): string {
  const v = item[name]?.S;
  if (v === undefined) throw new StoreError(`store: item ${item.PK?.S}/${item.SK?.S} has no string attribute ${name}`);
  return v;
}

function readN(item: Item, name: string): number {
  const v = item[name]?.N;
  if (v === undefined) throw new StoreError(`store: item ${item.PK?.S}/${item.SK?.S} has no number attribute ${name}`);
  return Number(v);
}

function readDoc<T>(item: Item): T {
  return JSON.parse(readS(item, 'doc')) as T;
}

function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new ValidationError([{ path: 'limit', message: `must be an integer from 1 to ${MAX_PAGE_LIMIT}, got ${limit}` }]);
  }
  return limit;
}

/** Cursor of name-ordered listings: base64url of `{"after":"<last name>"}` (the last key returned). */
function encodeNameCursor(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
}

function decodeNameCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string' && parsed.after !== '') return parsed.after;
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError([{ path: 'cursor', message: `must be a cursor returned by a previous page, got "${cursor}"` }]);
}

function withResourceVersion(cluster: Cluster, rv: number): Cluster {
  return { ...cluster, metadata: { ...cluster.metadata, resourceVersion: String(rv) } };
}

/**
 * `Store` on a DynamoDB single table. Stateless: one instance per Lambda container (or per local process) is fine,
 * and any number of instances in any number of processes may share a table.
 */
export class DynamoDbStore implements Store {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;

  constructor(props: DynamoDbStoreProps) {
    this.client = props.client;
    this.tableName = props.tableName;
  }

  // ---------------------------------------------------------------- clusters

  async getCluster(name: string): Promise<Cluster | undefined> {
    const item = await this.get(K.clusterPk(name), K.clusterSk, 'getCluster');
    return item ? readDoc<Cluster>(item) : undefined;
  }

  async listClusters(options: { readonly accounts?: readonly string[]; readonly limit?: number; readonly cursor?: string } = {}): Promise<Page<Cluster>> {
    const limit = pageLimit(options.limit);
    const after = decodeNameCursor(options.cursor);
    const accounts = options.accounts;
    if (accounts === undefined || accounts.includes('*')) {
      return this.pageByName('GSI1', K.gsiAllClusters, after, limit, 'listClusters');
    }
    // One name-ordered query per account, merged: the page holds the `limit` smallest names after the cursor.
    const unique = [...new Set(accounts)];
    const perAccount = await Promise.all(
      unique.map((account) => this.queryIndexAfter('GSI3', K.account(account), after, limit + 1, 'listClusters')),
    );
    const merged = perAccount.flat().sort((a, b) => (readS(a, 'GSI3SK') < readS(b, 'GSI3SK') ? -1 : 1));
    return this.toClusterPage(merged, limit);
  }

  async listClustersByScope(
    scope: { readonly provider: string; readonly account: string; readonly region: string },
    options: { readonly limit?: number; readonly cursor?: string } = {},
  ): Promise<Page<Cluster>> {
    const limit = pageLimit(options.limit);
    const after = decodeNameCursor(options.cursor);
    return this.pageByName('GSI2', K.scope(scope.provider, scope.account, scope.region), after, limit, 'listClustersByScope');
  }

  async listScopes(): Promise<ProviderScopeKey[]> {
    const items = await this.queryAll(
      { KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': S(K.scopesPk) } },
      'listScopes',
    );
    return items.map((item) => {
      const roleArn = item.roleArn?.S;
      return {
        provider: readS(item, 'provider') as ProviderScopeKey['provider'],
        account: readS(item, 'account'),
        region: readS(item, 'region'),
        ...(roleArn ? { roleArn } : {}),
      };
    });
  }

  async registerScope(scope: ProviderScopeKey): Promise<void> {
    // Put-if-absent: a registered scope costs one failed conditional write; the first registration's role stays.
    await this.conditionalPut(
      {
        PK: S(K.scopesPk),
        SK: S(K.scope(scope.provider, scope.account, scope.region)),
        provider: S(scope.provider),
        account: S(scope.account),
        region: S(scope.region),
        ...(scope.roleArn ? { roleArn: S(scope.roleArn) } : {}),
      },
      'attribute_not_exists(PK)',
      {},
      'registerScope',
    );
  }

  async createCluster(cluster: Cluster): Promise<Cluster> {
    const name = cluster.metadata.name;
    // Note: the scope first. A crash after it leaves an empty scope (one extra listing per sweep); a crash between
    // the record and the scope would leave a cluster no sweep visits.
    const infra = cluster.spec.infrastructure;
    await this.registerScope({
      provider: infra.provider,
      account: clusterAccount(cluster.spec),
      region: clusterRegion(cluster.spec),
      ...(infra.provider === 'aws' && infra.roleArn ? { roleArn: infra.roleArn } : {}),
    });
    await this.purgeLeftovers(name);
    const stored = withResourceVersion(cluster, await this.nextResourceVersion());
    const written = await this.conditionalPut(this.clusterItem(stored), 'attribute_not_exists(PK)', {}, 'createCluster');
    if (!written) throw new ConflictError(`metadata.name: cluster "${name}" already exists`);
    return stored;
  }

  async updateCluster(cluster: Cluster, expectedResourceVersion: string): Promise<Cluster> {
    const name = cluster.metadata.name;
    const expected = Number(expectedResourceVersion);
    if (Number.isSafeInteger(expected) && expectedResourceVersion.trim() !== '') {
      const stored = withResourceVersion(cluster, await this.nextResourceVersion());
      const written = await this.conditionalPut(this.clusterItem(stored), 'rv = :expected', { ':expected': N(expected) }, 'updateCluster');
      if (written) return stored;
    }
    throw await this.explainClusterPrecondition(name, expectedResourceVersion);
  }

  async deleteCluster(name: string, expectedResourceVersion: string): Promise<void> {
    const expected = Number(expectedResourceVersion);
    let deleted = false;
    if (Number.isSafeInteger(expected) && expectedResourceVersion.trim() !== '') {
      deleted = await this.conditionalDelete(K.clusterPk(name), K.clusterSk, 'rv = :expected', { ':expected': N(expected) }, 'deleteCluster');
    }
    if (!deleted) {
      const error = await this.explainClusterPrecondition(name, expectedResourceVersion);
      // A delete that crashed after removing the record left children behind: finish it, then report NotFound.
      if (error instanceof NotFoundError) await this.purgeLeftovers(name);
      throw error;
    }
    await this.purgeLeftovers(name);
  }

  // ---------------------------------------------------------------- machines

  async getMachine(cluster: string, name: string): Promise<Machine | undefined> {
    const item = await this.get(K.clusterPk(cluster), K.machineSk(name), 'getMachine');
    return item ? readDoc<Machine>(item) : undefined;
  }

  async listMachines(cluster: string, options: { readonly includeDeleted?: boolean } = {}): Promise<Machine[]> {
    const items = await this.queryAll(
      {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': S(K.clusterPk(cluster)), ':prefix': S(K.machinePrefix) },
        ConsistentRead: true,
      },
      'listMachines',
    );
    const machines = items.map((item) => readDoc<Machine>(item));
    return options.includeDeleted ? machines : machines.filter((m) => m.phase !== 'Deleted');
  }

  async deleteMachines(cluster: string, names: readonly string[]): Promise<void> {
    const pk = K.clusterPk(cluster);
    await this.batchDelete([...new Set(names)].map((name) => ({ PK: S(pk), SK: S(K.machineSk(name)) })));
  }

  async putMachine(machine: Machine, expectedRecordVersion?: number): Promise<Machine> {
    const stored: Machine = { ...machine, recordVersion: (expectedRecordVersion ?? 0) + 1 };
    const item: Item = {
      PK: S(K.clusterPk(machine.cluster)),
      SK: S(K.machineSk(machine.name)),
      rv: N(stored.recordVersion),
      phase: S(stored.phase),
      doc: S(JSON.stringify(stored)),
    };
    const written =
      expectedRecordVersion === undefined
        ? await this.conditionalPut(item, 'attribute_not_exists(PK)', {}, 'putMachine')
        : await this.conditionalPut(item, 'rv = :expected', { ':expected': N(expectedRecordVersion) }, 'putMachine');
    if (!written) {
      const what = expectedRecordVersion === undefined ? 'already exists' : `recordVersion is no longer ${expectedRecordVersion}`;
      throw new StoreConflictError(`machine "${machine.cluster}/${machine.name}": ${what}`);
    }
    return stored;
  }

  // ---------------------------------------------------------------- events

  async appendEvents(cluster: string, events: readonly NewEvent[]): Promise<ClusterEvent[]> {
    const pk = K.clusterPk(cluster);
    // Callers re-append on purpose (same ids after a retry or a crash): events already in the log are found with
    // two batched reads instead of four round trips each.
    const known = await this.appendedEvents(pk, events.map((e) => e.id));
    const stored: ClusterEvent[] = [];
    let hint: number | undefined;
    for (const event of events) {
      const result = known.get(event.id) ?? (await this.appendOne(pk, event, hint));
      stored.push(result);
      if (!known.has(event.id)) hint = result.seq + 1; // L(result.seq) exists, so claiming the next seq can never leave a gap
    }
    return stored;
  }

  /**
   * The events among `ids` that are in the log (claim present and the log item at its seq holding that id): a
   * consistent BatchGetItem of the claims, then one of the log items they point at. An id claimed but not (yet)
   * written, or whose claim points at another event, is left to `appendOne`, which completes or moves it.
   */
  private async appendedEvents(pk: string, ids: readonly string[]): Promise<Map<string, ClusterEvent>> {
    const found = new Map<string, ClusterEvent>();
    const unique = new Set(ids);
    const claims = await this.batchGet([...unique].map((id) => ({ PK: S(pk), SK: S(K.eventIdSk(id)) })), 'appendEvents');
    if (claims.length === 0) return found;
    const seqs = [...new Set(claims.map((item) => readN(item, 'seq')))];
    const logged = await this.batchGet(seqs.map((seq) => ({ PK: S(pk), SK: S(K.eventSk(seq)) })), 'appendEvents');
    for (const item of logged) {
      const event = readDoc<ClusterEvent>(item);
      if (unique.has(event.id)) found.set(event.id, event);
    }
    return found;
  }

  /** Strongly consistent BatchGetItem in chunks of 100, re-asking for unprocessed keys with a short backoff. */
  private async batchGet(keys: readonly Item[], operation: string): Promise<Item[]> {
    const items: Item[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Item[] = keys.slice(i, i + 100);
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt)));
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

  async listEvents(cluster: string, options: { readonly after?: number; readonly limit?: number } = {}): Promise<Page<ClusterEvent>> {
    const limit = pageLimit(options.limit);
    const after = options.after ?? 0;
    if (!Number.isSafeInteger(after) || after < 0) {
      throw new ValidationError([{ path: 'after', message: `must be a non-negative integer, got ${after}` }]);
    }
    const items = await this.queryUpTo(
      {
        KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': S(K.clusterPk(cluster)),
          ':from': S(K.eventSk(after + 1)),
          ':to': S(K.eventSk(10 ** SEQ_DIGITS - 1)),
        },
        ConsistentRead: true,
      },
      limit + 1,
      'listEvents',
    );
    const events = items.slice(0, limit).map((item) => readDoc<ClusterEvent>(item));
    const last = events[events.length - 1];
    return items.length > limit && last ? { items: events, next: String(last.seq) } : { items: events };
  }

  // ---------------------------------------------------------------- lease

  async acquireLease(cluster: string, holder: string, ttlSeconds: number, now: Date): Promise<boolean> {
    if (!(ttlSeconds > 0)) {
      throw new ValidationError([{ path: 'ttlSeconds', message: `must be positive, got ${ttlSeconds}` }]);
    }
    const expiresAtMs = now.getTime() + ttlSeconds * 1000;
    const lease: Lease = { cluster, holder, expiresAt: new Date(expiresAtMs).toISOString() };
    return this.conditionalPut(
      {
        PK: S(K.clusterPk(cluster)),
        SK: S(K.leaseSk),
        holder: S(holder),
        expiresAtMs: N(expiresAtMs),
        [TTL_ATTRIBUTE]: N(Math.ceil(expiresAtMs / 1000)),
        doc: S(JSON.stringify(lease)),
      },
      'attribute_not_exists(PK) OR expiresAtMs <= :now OR holder = :holder',
      { ':now': N(now.getTime()), ':holder': S(holder) },
      'acquireLease',
    );
  }

  async releaseLease(cluster: string, holder: string): Promise<void> {
    // Another holder (after our lease expired) keeps theirs: releasing is a no-op then, never an error.
    await this.conditionalDelete(K.clusterPk(cluster), K.leaseSk, 'holder = :holder', { ':holder': S(holder) }, 'releaseLease');
  }

  async getLease(cluster: string): Promise<Lease | undefined> {
    const item = await this.get(K.clusterPk(cluster), K.leaseSk, 'getLease');
    return item ? readDoc<Lease>(item) : undefined;
  }

  // ---------------------------------------------------------------- principals

  async getPrincipal(id: string): Promise<Principal | undefined> {
    const item = await this.get(K.principalPk(id), K.principalSk, 'getPrincipal');
    return item ? readDoc<Principal>(item) : undefined;
  }

  async putPrincipal(principal: Principal): Promise<void> {
    await this.send('putPrincipal', () =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            PK: S(K.principalPk(principal.id)),
            SK: S(K.principalSk),
            GSI1PK: S(K.gsiAllPrincipals),
            GSI1SK: S(principal.id),
            doc: S(JSON.stringify(principal)),
          },
        }),
      ),
    );
  }

  async listPrincipals(): Promise<Principal[]> {
    const items = await this.queryAll(
      {
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': S(K.gsiAllPrincipals) },
      },
      'listPrincipals',
    );
    return items.map((item) => readDoc<Principal>(item));
  }

  async deletePrincipal(id: string): Promise<void> {
    await this.send('deletePrincipal', () =>
      this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: { PK: S(K.principalPk(id)), SK: S(K.principalSk) } })),
    );
  }

  // ---------------------------------------------------------------- event log internals

  /**
   * Appends one event; see docs/store.md "Event log" for the algorithm and why it is gap-free and idempotent.
   *
   * Note: two item kinds per event. The claim `EVENTID#<id>` holds the seq this id is trying to occupy; the log item
   * `EVENT#<seq>` is immutable once written. A claim for seq s is only ever made when the log item s-1 exists.
   */
  private async appendOne(pk: string, event: NewEvent, hint: number | undefined): Promise<ClusterEvent> {
    const first = hint ?? (await this.headSeq(pk)) + 1;
    let claim: number | undefined;
    let existingClaim: number | undefined;
    // A failed claim whose item then reads as absent (deleted meanwhile, or a spurious condition failure) is
    // claimed again rather than given up on.
    for (let attempt = 0; attempt < 3 && claim === undefined && existingClaim === undefined; attempt += 1) {
      const claimed = await this.conditionalPut(
        { PK: S(pk), SK: S(K.eventIdSk(event.id)), seq: N(first) },
        'attribute_not_exists(PK)',
        {},
        'appendEvents',
      );
      if (claimed) claim = first;
      else existingClaim = await this.readClaimIfAny(pk, event.id);
    }
    if (claim === undefined) {
      // The id was claimed before (a retry, or a concurrent appender of the same id).
      claim = existingClaim ?? (await this.readClaim(pk, event.id));
      const existing = await this.getLogEvent(pk, claim);
      if (existing?.id === event.id) return existing;
      if (existing) claim = await this.reclaim(pk, event.id, claim);
    }
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt += 1) {
      const stored: ClusterEvent = { ...event, seq: claim };
      const written = await this.conditionalPut(
        { PK: S(pk), SK: S(K.eventSk(claim)), eventId: S(event.id), doc: S(JSON.stringify(stored)) },
        'attribute_not_exists(PK)',
        {},
        'appendEvents',
      );
      if (written) return stored;
      const existing = await this.getLogEvent(pk, claim);
      if (existing?.id === event.id) return existing; // a concurrent appender of the same id wrote it
      claim = await this.reclaim(pk, event.id, claim);
    }
    throw new StoreConflictError(`events of ${pk}: gave up appending "${event.id}" after ${MAX_APPEND_ATTEMPTS} collisions`);
  }

  /** Moves the claim of `id` from `old` (occupied by another event) to the seq after the current head. */
  private async reclaim(pk: string, id: string, old: number): Promise<number> {
    const next = (await this.headSeq(pk)) + 1;
    const moved = await this.conditionalUpdate(
      { PK: S(pk), SK: S(K.eventIdSk(id)) },
      'SET seq = :next',
      'seq = :old',
      { ':next': N(next), ':old': N(old) },
      'appendEvents',
    );
    return moved ? next : this.readClaim(pk, id); // a concurrent appender of the same id moved it first
  }

  private async readClaim(pk: string, id: string): Promise<number> {
    const seq = await this.readClaimIfAny(pk, id);
    if (seq === undefined) throw new StoreConflictError(`events of ${pk}: the claim of "${id}" vanished (cluster deleted meanwhile?)`);
    return seq;
  }

  private async readClaimIfAny(pk: string, id: string): Promise<number | undefined> {
    const item = await this.get(pk, K.eventIdSk(id), 'appendEvents');
    return item ? readN(item, 'seq') : undefined;
  }

  private async getLogEvent(pk: string, seq: number): Promise<ClusterEvent | undefined> {
    const item = await this.get(pk, K.eventSk(seq), 'appendEvents');
    return item ? readDoc<ClusterEvent>(item) : undefined;
  }

  /** Seq of the last log item (0 when the log is empty): a strongly consistent reverse query of one item. */
  private async headSeq(pk: string): Promise<number> {
    const output = await this.send('appendEvents', () =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
          ExpressionAttributeValues: { ':pk': S(pk), ':prefix': S(K.eventPrefix) },
          ProjectionExpression: 'SK',
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      ),
    );
    const sk = output.Items?.[0]?.SK?.S;
    return sk === undefined ? 0 : Number(sk.slice(K.eventPrefix.length));
  }

  // ---------------------------------------------------------------- cluster internals

  private clusterItem(cluster: Cluster): Item {
    const name = cluster.metadata.name;
    const account = clusterAccount(cluster.spec);
    return {
      PK: S(K.clusterPk(name)),
      SK: S(K.clusterSk),
      rv: N(Number(cluster.metadata.resourceVersion)),
      GSI1PK: S(K.gsiAllClusters),
      GSI1SK: S(name),
      GSI2PK: S(K.scope(cluster.spec.infrastructure.provider, account, clusterRegion(cluster.spec))),
      GSI2SK: S(name),
      GSI3PK: S(K.account(account)),
      GSI3SK: S(name),
      doc: S(JSON.stringify(cluster)),
    };
  }

  /**
   * The next resourceVersion: one atomic counter for the whole table, so a version is never reused, not even by a
   * re-created cluster of the same name (a stale If-Match from the old incarnation cannot match the new one).
   */
  private async nextResourceVersion(): Promise<number> {
    const output = await this.send('nextResourceVersion', () =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { PK: S(K.counterPk), SK: S(K.counterSk) },
          UpdateExpression: 'ADD #v :one',
          ExpressionAttributeNames: { '#v': 'value' },
          ExpressionAttributeValues: { ':one': N(1) },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    const value = output.Attributes?.value?.N;
    if (value === undefined) throw new StoreError('store: the resourceVersion counter returned no value');
    return Number(value);
  }

  /** After a failed conditional write: NotFoundError when the cluster is gone, else PreconditionFailedError. */
  private async explainClusterPrecondition(name: string, expected: string): Promise<Error> {
    const current = await this.getCluster(name);
    if (!current) return new NotFoundError(`cluster "${name}" not found`);
    return new PreconditionFailedError(
      `cluster "${name}": resourceVersion is ${current.metadata.resourceVersion}, the request expected ${expected}`,
    );
  }

  /**
   * Deletes every item of the cluster's partition except a cluster record: what a crashed `deleteCluster` left
   * behind. Stops when a cluster record of the name appears (someone re-created it).
   */
  private async purgeLeftovers(name: string): Promise<void> {
    const pk = K.clusterPk(name);
    for (;;) {
      const output = await this.send('purgeCluster', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: { ':pk': S(pk) },
            ProjectionExpression: 'PK, SK',
            ConsistentRead: true,
            Limit: 100,
          }),
        ),
      );
      const items = output.Items ?? [];
      if (items.some((item) => item.SK?.S === K.clusterSk)) return;
      if (items.length === 0) return;
      await this.batchDelete(items.map((item) => ({ PK: item.PK as AttributeValue, SK: item.SK as AttributeValue })));
    }
  }

  /** BatchWriteItem deletes in chunks of 25, resubmitting unprocessed items with a short backoff. */
  private async batchDelete(keys: Item[]): Promise<void> {
    for (let i = 0; i < keys.length; i += BATCH_SIZE) {
      let pending: WriteRequest[] = keys.slice(i, i + BATCH_SIZE).map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt)));
        if (attempt > 10) throw new StoreError(`store: ${pending.length} deletes stayed unprocessed after ${attempt} attempts`);
        const requests = pending;
        const output = await this.send('purgeCluster', () =>
          this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: requests } })),
        );
        pending = output.UnprocessedItems?.[this.tableName] ?? [];
      }
    }
  }

  /** One name-ordered page of an index partition, using the `limit + 1` probe so the last page has no cursor. */
  private async pageByName(index: 'GSI1' | 'GSI2' | 'GSI3', partition: string, after: string | undefined, limit: number, operation: string): Promise<Page<Cluster>> {
    const items = await this.queryIndexAfter(index, partition, after, limit + 1, operation);
    return this.toClusterPage(items, limit);
  }

  private toClusterPage(items: Item[], limit: number): Page<Cluster> {
    const clusters = items.slice(0, limit).map((item) => readDoc<Cluster>(item));
    const last = clusters[clusters.length - 1];
    return items.length > limit && last ? { items: clusters, next: encodeNameCursor(last.metadata.name) } : { items: clusters };
  }

  /** Up to `count` items of an index partition with sort key (the name) after `after`, in order. */
  private queryIndexAfter(index: 'GSI1' | 'GSI2' | 'GSI3', partition: string, after: string | undefined, count: number, operation: string): Promise<Item[]> {
    const pkName = `${index}PK`;
    const skName = `${index}SK`;
    return this.queryUpTo(
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

  // ---------------------------------------------------------------- DynamoDB primitives

  private async send<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toStoreError(error, operation);
    }
  }

  private async get(pk: string, sk: string, operation: string): Promise<Item | undefined> {
    const output = await this.send(operation, () =>
      this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { PK: S(pk), SK: S(sk) }, ConsistentRead: true })),
    );
    return output.Item;
  }

  /** PutItem with a condition; false when the condition did not hold. */
  private async conditionalPut(item: Item, condition: string, values: Item, operation: string): Promise<boolean> {
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

  private async conditionalUpdate(key: Item, update: string, condition: string, values: Item, operation: string): Promise<boolean> {
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

  private async conditionalDelete(pk: string, sk: string, condition: string, values: Item, operation: string): Promise<boolean> {
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

  /** Every item of a query, following LastEvaluatedKey. */
  private async queryAll(input: Omit<QueryCommandInput, 'TableName'>, operation: string): Promise<Item[]> {
    return this.queryUpTo(input, Number.POSITIVE_INFINITY, operation);
  }

  /** At most `count` items of a query, following LastEvaluatedKey (DynamoDB stops a page at 1 MB). */
  private async queryUpTo(input: Omit<QueryCommandInput, 'TableName'>, count: number, operation: string): Promise<Item[]> {
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
}
