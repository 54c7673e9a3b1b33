/**
 * The JSON Patch subset ClusterClass inline patches use: `add`, `replace` and `remove` on JSON Pointer paths.
 *
 * Note: like Cluster API (which applies patches with `EnsurePathExistsOnAdd`), `add` creates missing parent objects.
 * Unlike RFC 6902, `replace` on a missing member behaves like `add`: CAPA's own ClusterClasses `replace` fields the
 * template never set (e.g. `/spec/template/spec/bastion/enabled`), and the intent is plainly "set this value".
 */
import { asObj, type Obj } from './object.js';

/** One JSON Patch operation as a ClusterClass writes it, after its value has been resolved. */
export interface PatchOperation {
  readonly op: 'add' | 'replace' | 'remove';
  readonly path: string;
  readonly value?: unknown;
}

/** Thrown when a path cannot be applied (e.g. it walks through a string); `message` names the path. */
export class JsonPatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonPatchError';
  }
}

/** The reference tokens of a JSON Pointer (`/a/b~1c` → `['a', 'b/c']`). */
export function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new JsonPatchError(`path ${JSON.stringify(path)} must start with "/"`);
  return path
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Applies `operation` to `target` in place (the importer patches its own copies of templates). */
export function applyPatch(target: Obj, operation: PatchOperation): void {
  const tokens = parsePointer(operation.path);
  const last = tokens.pop();
  if (last === undefined) throw new JsonPatchError('cannot patch the document root');
  let parent: unknown = target;
  let walked = '';
  const notContainer = (): JsonPatchError => new JsonPatchError(`path ${operation.path}: ${walked} is a ${typeof parent}, not an object or list`);
  for (const token of tokens) {
    if (Array.isArray(parent)) {
      parent = parent[arrayIndex(parent, token, operation.path, false)];
    } else {
      const o = asObj(parent);
      if (!o) throw notContainer();
      if (o[token] === undefined || o[token] === null) {
        if (operation.op === 'remove') return;
        o[token] = {};
      }
      parent = o[token];
    }
    walked += `/${token}`;
  }
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, last, operation.path, operation.op === 'add');
    if (operation.op === 'add') parent.splice(index, 0, operation.value);
    else if (operation.op === 'replace') parent[index] = operation.value;
    else parent.splice(index, 1);
    return;
  }
  const o = asObj(parent);
  if (!o) throw notContainer();
  if (operation.op === 'remove') delete o[last];
  else o[last] = operation.value;
}

function arrayIndex(array: readonly unknown[], token: string, path: string, appending: boolean): number {
  if (token === '-' && appending) return array.length;
  const index = /^(0|[1-9]\d*)$/.test(token) ? Number(token) : -1;
  const max = appending ? array.length : array.length - 1;
  if (index < 0 || index > max) throw new JsonPatchError(`path ${path}: index ${token} is out of range`);
  return index;
}
