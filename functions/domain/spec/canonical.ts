/**
 * A stable JSON text of a spec, for deciding that an update changes nothing (and so is a no-op: no new generation,
 * no workflow). Key order does not matter, array order does; absent and `undefined` fields are the same thing.
 */
import type { ClusterSpec } from '../cluster.js';

/** JSON of `spec` with object keys sorted at every level. Two equal specs give the same string. */
export function canonicalSpecJson(spec: ClusterSpec): string {
  return canonicalJson(spec);
}

/** JSON of any JSON-like value with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : sortKeys(item)));
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const child = (value as Record<string, unknown>)[key];
    if (child !== undefined) Object.defineProperty(sorted, key, { value: sortKeys(child), enumerable: true, writable: true, configurable: true });
  }
  return sorted;
}
