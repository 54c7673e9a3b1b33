/**
 * The item shapes of the single table: the key vocabulary, attribute readers, and each record ↔ item conversion
 * (cluster, machine, lease, principal, provider scope). Every resource is a JSON string attribute `doc` beside the
 * few attributes DynamoDB must see (keys, `rv` for conditions, index keys); reading one back is `JSON.parse(doc)`.
 *
 * Its own file because this is the store's data format: docs/store.md describes the same items, and every other
 * file of the store builds keys and reads items only through these names.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { clusterAccount, clusterRegion, type Cluster } from '../../domain/cluster.js';
import type { Machine } from '../../domain/machine.js';
import type { Lease, Principal, ProviderScopeKey } from '../../domain/ports.js';
import { StoreError } from './errors.js';
import { TTL_ATTRIBUTE } from './table.js';

/** One DynamoDB item (or key) in the low-level client's attribute-value form. */
export type Item = Record<string, AttributeValue>;

/** Digits of the zero-padded seq in an event log key, so keys sort as numbers. */
export const SEQ_DIGITS = 12;

/** Key and attribute vocabulary of the table; docs/store.md has the same table for humans. */
export const K = {
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

/** A string attribute. */
export const S = (value: string): AttributeValue => ({ S: value });
/** A number attribute. */
export const N = (value: number): AttributeValue => ({ N: String(value) });

/** The string attribute `name` of `item`; StoreError when it has none (an item this code did not write). */
export function readS(item: Item, name: string): string {
  const v = item[name]?.S;
  if (v === undefined) throw new StoreError(`store: item ${item.PK?.S}/${item.SK?.S} has no string attribute ${name}`);
  return v;
}

/** The number attribute `name` of `item`; StoreError when it has none. */
export function readN(item: Item, name: string): number {
  const v = item[name]?.N;
  if (v === undefined) throw new StoreError(`store: item ${item.PK?.S}/${item.SK?.S} has no number attribute ${name}`);
  return Number(v);
}

/** The resource stored in an item: its `doc` attribute, parsed. */
export function readDoc<T>(item: Item): T {
  return JSON.parse(readS(item, 'doc')) as T;
}

/** `cluster` with its `metadata.resourceVersion` set to `rv`. */
export function withResourceVersion(cluster: Cluster, rv: number): Cluster {
  return { ...cluster, metadata: { ...cluster.metadata, resourceVersion: String(rv) } };
}

/** The cluster record item, with the keys of the three name-ordered indexes (all, by scope, by account). */
export function clusterItem(cluster: Cluster): Item {
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

/** The item of a machine record as stored (its `recordVersion` already the new one), in its cluster's partition. */
export function machineItem(stored: Machine): Item {
  return {
    PK: S(K.clusterPk(stored.cluster)),
    SK: S(K.machineSk(stored.name)),
    rv: N(stored.recordVersion),
    phase: S(stored.phase),
    doc: S(JSON.stringify(stored)),
  };
}

/** The lease item of a cluster; `expiresAtMs` is what conditions compare, the TTL attribute only lets DynamoDB clean up. */
export function leaseItem(lease: Lease, expiresAtMs: number): Item {
  return {
    PK: S(K.clusterPk(lease.cluster)),
    SK: S(K.leaseSk),
    holder: S(lease.holder),
    expiresAtMs: N(expiresAtMs),
    [TTL_ATTRIBUTE]: N(Math.ceil(expiresAtMs / 1000)),
    doc: S(JSON.stringify(lease)),
  };
}

/** The item of a principal, listed through GSI1. */
export function principalItem(principal: Principal): Item {
  return {
    PK: S(K.principalPk(principal.id)),
    SK: S(K.principalSk),
    GSI1PK: S(K.gsiAllPrincipals),
    GSI1SK: S(principal.id),
    doc: S(JSON.stringify(principal)),
  };
}

/** The item of a registered provider scope, in the `SCOPES` partition (plain attributes, no `doc`). */
export function scopeItem(scope: ProviderScopeKey): Item {
  return {
    PK: S(K.scopesPk),
    SK: S(K.scope(scope.provider, scope.account, scope.region)),
    provider: S(scope.provider),
    account: S(scope.account),
    region: S(scope.region),
    ...(scope.roleArn ? { roleArn: S(scope.roleArn) } : {}),
  };
}

/** The provider scope of a `scopeItem`. */
export function readScope(item: Item): ProviderScopeKey {
  const roleArn = item.roleArn?.S;
  return {
    provider: readS(item, 'provider') as ProviderScopeKey['provider'],
    account: readS(item, 'account'),
    region: readS(item, 'region'),
    ...(roleArn ? { roleArn } : {}),
  };
}
