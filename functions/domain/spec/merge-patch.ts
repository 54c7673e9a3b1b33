/**
 * JSON Merge Patch (RFC 7386), the body of `PATCH` with `application/merge-patch+json`.
 *
 * Objects merge key by key, `null` deletes a key, anything else (arrays included) replaces. Neither input is
 * mutated: the result is a new value, so a failed validation of the patched document leaves the stored one intact.
 */
import { ValidationError } from '../errors.js';
import { FORBIDDEN_KEYS, joinPath, MAX_DEPTH } from './documents.js';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Applies `patch` to `target` as RFC 7386 describes.
 * @throws ValidationError when the patch uses `__proto__`, `constructor` or `prototype` as a key, or nests deeper than MAX_DEPTH
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  return apply(target, patch, 'patch', 1);
}

function apply(target: unknown, patch: unknown, path: string, depth: number): unknown {
  if (!isObject(patch)) return patch;
  if (depth > MAX_DEPTH) throw new ValidationError([{ path, message: `must not nest deeper than ${MAX_DEPTH} levels` }]);
  const result: JsonObject = {};
  if (isObject(target)) {
    for (const key of Object.keys(target)) {
      if (!FORBIDDEN_KEYS.has(key)) result[key] = target[key];
    }
  }
  for (const key of Object.keys(patch)) {
    const child = joinPath(path, key);
    if (FORBIDDEN_KEYS.has(key)) throw new ValidationError([{ path: child, message: `must not use the reserved key ${JSON.stringify(key)}` }]);
    const value = patch[key];
    if (value === null) delete result[key];
    else result[key] = apply(result[key], value, child, depth + 1);
  }
  return result;
}
