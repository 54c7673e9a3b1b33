/**
 * Small readers for untyped manifest data. Manifests arrive as `unknown` (parsed YAML); these helpers walk them
 * without casts scattered through the mappers.
 */

/** A plain JSON-like object. */
export type Obj = Record<string, unknown>;

/** `value` as an object, or undefined when it is not a (non-array) object. */
export function asObj(value: unknown): Obj | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : undefined;
}

/** `value` as a string, or undefined. */
export function asStr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `value` as an array, or undefined. */
export function asArr(value: unknown): readonly unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

/** The value at `path` below `value` (object keys only), or undefined when any step is missing. */
export function at(value: unknown, ...path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    const o = asObj(current);
    if (!o) return undefined;
    current = o[key];
  }
  return current;
}

/** The first of `values` that is not undefined (null counts as unset too, as in Kubernetes). */
export function firstDefined<T>(...values: readonly (T | undefined | null)[]): T | undefined {
  for (const v of values) if (v !== undefined && v !== null) return v;
  return undefined;
}

/** A deep copy of JSON-like data (manifests never hold functions, dates or cycles). */
export function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/**
 * `value` without object keys whose value is undefined, recursively. The importer builds documents with optional
 * fields spread in; the result must be a plain object a JSON round trip leaves unchanged.
 */
export function prune<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => prune(v)) as T;
  const o = asObj(value);
  if (!o) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = prune(v);
  return out as T;
}
