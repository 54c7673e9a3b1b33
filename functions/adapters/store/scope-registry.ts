/**
 * The registry of provider scopes (provider, account, region) that have had clusters: the `SCOPES` partition the
 * sweep reads to know where to list provider machines, including scopes whose clusters are all gone (orphans).
 *
 * Its own file because the registry only grows and is written before any cluster record (see `createCluster`),
 * an ordering the rest of the store must not undo; nothing else lives in its partition.
 */
import type { ProviderScopeKey } from '../../domain/ports.js';
import { K, S, readScope, scopeItem } from './item-codec.js';
import type { StoreTable } from './store-table.js';

/** Every registered scope. */
export async function listScopes(table: StoreTable): Promise<ProviderScopeKey[]> {
  const items = await table.queryAll(
    { KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': S(K.scopesPk) } },
    'listScopes',
  );
  return items.map(readScope);
}

/** Registers a scope if it is not registered yet. */
export async function registerScope(table: StoreTable, scope: ProviderScopeKey): Promise<void> {
  // Put-if-absent: a registered scope costs one failed conditional write; the first registration's role stays.
  await table.conditionalPut(scopeItem(scope), 'attribute_not_exists(PK)', {}, 'registerScope');
}
