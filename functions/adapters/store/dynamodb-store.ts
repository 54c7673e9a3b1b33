/**
 * The `Store` port on one DynamoDB table (low-level client, no transactions, so it runs on dynalite, DynamoDB Local
 * and AWS alike).
 *
 * Every resource is stored as a JSON string attribute `doc` next to the few attributes DynamoDB must see: the keys,
 * the version used in conditions (`rv`) and the index keys. Reading a resource is `JSON.parse(doc)`: no marshalling
 * of nested maps, no empty-string or empty-set pitfalls, and the document round-trips exactly.
 * Item shapes, access patterns and the event-log algorithm are in docs/store.md.
 *
 * The class keeps the order of each method's requests; the parts live beside it: item-codec.ts (keys and items),
 * pagination.ts (limits and cursors), store-table.ts (the DynamoDB requests), cluster-records.ts (resourceVersion,
 * clean-up, cluster listings), scope-registry.ts (provider scopes) and event-log.ts (appends and pages of events).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { clusterScope, type Cluster } from '../../domain/cluster.js';
import { ConflictError, NotFoundError, StoreConflictError, ValidationError } from '../../domain/errors.js';
import type { ClusterEvent, Machine, NewEvent } from '../../domain/machine.js';
import type { Lease, Page, Principal, ProviderScopeKey, Store } from '../../domain/ports.js';
import {
  explainClusterPrecondition,
  nextResourceVersion,
  pageByName,
  pageOfAccounts,
  purgeLeftovers,
  readCluster,
} from './cluster-records.js';
import { appendEvents, listEvents } from './event-log.js';
import { K, N, S, clusterItem, leaseItem, machineItem, principalItem, readDoc, withResourceVersion } from './item-codec.js';
import { decodeNameCursor, pageLimit } from './pagination.js';
import { listScopes, registerScope } from './scope-registry.js';
import { StoreTable } from './store-table.js';

export { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from './pagination.js';

/** Options of `DynamoDbStore`. */
export interface DynamoDbStoreProps {
  /** A configured client (region, endpoint, credentials); the store never creates one. */
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/**
 * `Store` on a DynamoDB single table. Stateless: one instance per Lambda container (or per local process) is fine,
 * and any number of instances in any number of processes may share a table.
 */
export class DynamoDbStore implements Store {
  private readonly table: StoreTable;

  constructor(props: DynamoDbStoreProps) {
    this.table = new StoreTable(props.client, props.tableName);
  }

  // ---------------------------------------------------------------- clusters

  async getCluster(name: string): Promise<Cluster | undefined> {
    return readCluster(this.table, name);
  }

  async listClusters(options: { readonly accounts?: readonly string[]; readonly limit?: number; readonly cursor?: string } = {}): Promise<Page<Cluster>> {
    const limit = pageLimit(options.limit);
    const after = decodeNameCursor(options.cursor);
    const accounts = options.accounts;
    if (accounts === undefined || accounts.includes('*')) {
      return pageByName(this.table, 'GSI1', K.gsiAllClusters, after, limit, 'listClusters');
    }
    return pageOfAccounts(this.table, accounts, after, limit);
  }

  async listClustersByScope(
    scope: { readonly provider: string; readonly account: string; readonly region: string },
    options: { readonly limit?: number; readonly cursor?: string } = {},
  ): Promise<Page<Cluster>> {
    const limit = pageLimit(options.limit);
    const after = decodeNameCursor(options.cursor);
    return pageByName(this.table, 'GSI2', K.scope(scope.provider, scope.account, scope.region), after, limit, 'listClustersByScope');
  }

  async listScopes(): Promise<ProviderScopeKey[]> {
    return listScopes(this.table);
  }

  async registerScope(scope: ProviderScopeKey): Promise<void> {
    await registerScope(this.table, scope);
  }

  async createCluster(cluster: Cluster): Promise<Cluster> {
    const name = cluster.metadata.name;
    // Note: the scope first. A crash after it leaves an empty scope (one extra listing per sweep); a crash between
    // the record and the scope would leave a cluster no sweep visits.
    await this.registerScope(clusterScope(cluster.spec));
    await purgeLeftovers(this.table, name);
    const stored = withResourceVersion(cluster, await nextResourceVersion(this.table));
    const written = await this.table.conditionalPut(clusterItem(stored), 'attribute_not_exists(PK)', {}, 'createCluster');
    if (!written) throw new ConflictError(`metadata.name: cluster "${name}" already exists`);
    return stored;
  }

  async updateCluster(cluster: Cluster, expectedResourceVersion: string): Promise<Cluster> {
    const name = cluster.metadata.name;
    const expected = Number(expectedResourceVersion);
    if (Number.isSafeInteger(expected) && expectedResourceVersion.trim() !== '') {
      const stored = withResourceVersion(cluster, await nextResourceVersion(this.table));
      const written = await this.table.conditionalPut(clusterItem(stored), 'rv = :expected', { ':expected': N(expected) }, 'updateCluster');
      if (written) return stored;
    }
    throw await explainClusterPrecondition(this.table, name, expectedResourceVersion);
  }

  async deleteCluster(name: string, expectedResourceVersion: string): Promise<void> {
    const expected = Number(expectedResourceVersion);
    let deleted = false;
    if (Number.isSafeInteger(expected) && expectedResourceVersion.trim() !== '') {
      deleted = await this.table.conditionalDelete(K.clusterPk(name), K.clusterSk, 'rv = :expected', { ':expected': N(expected) }, 'deleteCluster');
    }
    if (!deleted) {
      const error = await explainClusterPrecondition(this.table, name, expectedResourceVersion);
      // A delete that crashed after removing the record left children behind: finish it, then report NotFound.
      if (error instanceof NotFoundError) await purgeLeftovers(this.table, name);
      throw error;
    }
    await purgeLeftovers(this.table, name);
  }

  // ---------------------------------------------------------------- machines

  async getMachine(cluster: string, name: string): Promise<Machine | undefined> {
    const item = await this.table.get(K.clusterPk(cluster), K.machineSk(name), 'getMachine');
    return item ? readDoc<Machine>(item) : undefined;
  }

  async listMachines(cluster: string, options: { readonly includeDeleted?: boolean } = {}): Promise<Machine[]> {
    const items = await this.table.queryAll(
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
    // Errors name the operation 'purgeCluster', as the batch delete of a cluster's leftovers (one shared helper).
    await this.table.batchDelete([...new Set(names)].map((name) => ({ PK: S(pk), SK: S(K.machineSk(name)) })), 'purgeCluster');
  }

  async putMachine(machine: Machine, expectedRecordVersion?: number): Promise<Machine> {
    const stored: Machine = { ...machine, recordVersion: (expectedRecordVersion ?? 0) + 1 };
    const item = machineItem(stored);
    const written =
      expectedRecordVersion === undefined
        ? await this.table.conditionalPut(item, 'attribute_not_exists(PK)', {}, 'putMachine')
        : await this.table.conditionalPut(item, 'rv = :expected', { ':expected': N(expectedRecordVersion) }, 'putMachine');
    if (!written) {
      const what = expectedRecordVersion === undefined ? 'already exists' : `recordVersion is no longer ${expectedRecordVersion}`;
      throw new StoreConflictError(`machine "${machine.cluster}/${machine.name}": ${what}`);
    }
    return stored;
  }

  // ---------------------------------------------------------------- events

  async appendEvents(cluster: string, events: readonly NewEvent[]): Promise<ClusterEvent[]> {
    return appendEvents(this.table, cluster, events);
  }

  async listEvents(cluster: string, options: { readonly after?: number; readonly limit?: number } = {}): Promise<Page<ClusterEvent>> {
    return listEvents(this.table, cluster, options);
  }

  // ---------------------------------------------------------------- lease

  async acquireLease(cluster: string, holder: string, ttlSeconds: number, now: Date): Promise<boolean> {
    if (!(ttlSeconds > 0)) {
      throw new ValidationError([{ path: 'ttlSeconds', message: `must be positive, got ${ttlSeconds}` }]);
    }
    const expiresAtMs = now.getTime() + ttlSeconds * 1000;
    const lease: Lease = { cluster, holder, expiresAt: new Date(expiresAtMs).toISOString() };
    return this.table.conditionalPut(
      leaseItem(lease, expiresAtMs),
      'attribute_not_exists(PK) OR expiresAtMs <= :now OR holder = :holder',
      { ':now': N(now.getTime()), ':holder': S(holder) },
      'acquireLease',
    );
  }

  async releaseLease(cluster: string, holder: string): Promise<void> {
    // Another holder (after our lease expired) keeps theirs: releasing is a no-op then, never an error.
    await this.table.conditionalDelete(K.clusterPk(cluster), K.leaseSk, 'holder = :holder', { ':holder': S(holder) }, 'releaseLease');
  }

  async getLease(cluster: string): Promise<Lease | undefined> {
    const item = await this.table.get(K.clusterPk(cluster), K.leaseSk, 'getLease');
    return item ? readDoc<Lease>(item) : undefined;
  }

  // ---------------------------------------------------------------- principals

  async getPrincipal(id: string): Promise<Principal | undefined> {
    const item = await this.table.get(K.principalPk(id), K.principalSk, 'getPrincipal');
    return item ? readDoc<Principal>(item) : undefined;
  }

  async putPrincipal(principal: Principal): Promise<void> {
    await this.table.put(principalItem(principal), 'putPrincipal');
  }

  async listPrincipals(): Promise<Principal[]> {
    const items = await this.table.queryAll(
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
    await this.table.delete(K.principalPk(id), K.principalSk, 'deletePrincipal');
  }
}
