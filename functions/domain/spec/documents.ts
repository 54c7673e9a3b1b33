/**
 * Request bodies to plain documents: JSON or (multi-document) YAML, safely.
 *
 * Everything here assumes hostile input. YAML aliases are capped (a "billion laughs" body would otherwise expand to
 * gigabytes), nesting is capped, keys that would reach `Object.prototype` when a later step assigns them are refused,
 * and lone UTF-16 surrogates (which DynamoDB cannot store) are refused. The result is plain JSON data: objects,
 * arrays, strings, finite numbers, booleans and null.
 */
import { isScalar, parseAllDocuments } from 'yaml';
import { UnsupportedMediaTypeError, ValidationError, type Issue } from '../errors.js';

/** Media types read as JSON. */
export const JSON_MEDIA_TYPES = ['application/json', 'application/merge-patch+json'] as const;
/** Media types read as YAML (one or more `---` separated documents). */
export const YAML_MEDIA_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'] as const;

/** Deepest nesting of objects and arrays a document may have. */
export const MAX_DEPTH = 64;
/** Most YAML alias expansions in one document (yaml's `maxAliasCount`). */
export const MAX_ALIAS_COUNT = 100;
/** Most documents in one body. */
export const MAX_DOCUMENTS = 100;

/** Keys refused anywhere: assigning them to a plain object would change its prototype, or worse, everybody's. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Decodes bytes as UTF-8, refusing malformed sequences instead of replacing them with U+FFFD.
 * Why: a silently repaired name or tag would not be what the caller sent. A leading BOM is dropped.
 */
export function decodeUtf8Strict(buf: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw new ValidationError([{ path: 'body', message: `must be valid UTF-8, got a malformed byte sequence (${buf.length} bytes)` }]);
  }
}

/** Which reader a content type selects, or undefined for one we do not read. Parameters other than charset=utf-8 are ignored. */
export function bodyFormat(contentType: string | undefined): 'json' | 'yaml' | undefined {
  if (contentType === undefined) return undefined;
  const [type = '', ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return undefined;
  if ((JSON_MEDIA_TYPES as readonly string[]).includes(type)) return 'json';
  if ((YAML_MEDIA_TYPES as readonly string[]).includes(type)) return 'yaml';
  return undefined;
}

/**
 * Parses a request body into its documents (one for JSON, one or more for YAML; empty YAML documents are skipped).
 *
 * Issue paths are `body` for a single document and `body[i]` when the body holds several, so a multi-document
 * apply names which document is wrong: `body[1].spec.workers[0]: …`.
 * @throws UnsupportedMediaTypeError for a content type other than JSON or YAML.
 * @throws ValidationError for syntax errors (YAML ones with line and column), hostile input or a non-object document.
 */
export function parseBodyDocuments(text: string, contentType: string | undefined): unknown[] {
  const format = bodyFormat(contentType);
  if (format === undefined) throw new UnsupportedMediaTypeError(contentType, [...JSON_MEDIA_TYPES, ...YAML_MEDIA_TYPES]);
  const docs = format === 'json' ? parseJson(text) : parseYaml(text);
  if (docs.length === 0) throw new ValidationError([{ path: 'body', message: 'must contain a document, got an empty body' }]);
  if (docs.length > MAX_DOCUMENTS) {
    throw new ValidationError([{ path: 'body', message: `must contain at most ${MAX_DOCUMENTS} documents, got ${docs.length}` }]);
  }
  const issues: Issue[] = [];
  docs.forEach((doc, i) => {
    const path = docs.length === 1 ? 'body' : `body[${i}]`;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      issues.push({ path, message: `must be an object (a mapping of fields), got ${describeValue(doc)}` });
    } else {
      checkTree(doc, path, 1, issues);
    }
  });
  if (issues.length) throw new ValidationError(issues);
  return docs;
}

function parseJson(text: string): unknown[] {
  if (text.trim() === '') return [];
  // Note: V8's JSON.parse is not recursive, so a deeply nested body cannot overflow the stack here; checkTree caps it.
  try {
    return [JSON.parse(text) as unknown];
  } catch (error) {
    throw new ValidationError([{ path: 'body', message: `must be valid JSON: ${(error as Error).message}` }]);
  }
}

function parseYaml(text: string): unknown[] {
  // Note: YAML 1.2 core schema: `yes`/`no`/`on` stay strings, no `<<` merge keys, duplicate keys are errors.
  const docs = parseAllDocuments(text, { uniqueKeys: true, merge: false, prettyErrors: true });
  if (!Array.isArray(docs)) return []; // an empty stream
  const issues: Issue[] = [];
  docs.forEach((doc, i) => {
    for (const error of doc.errors.slice(0, 5)) {
      const where = error.linePos?.[0];
      const at = where ? ` at line ${where.line}, column ${where.col}` : '';
      const why = error.code === 'RESOURCE_EXHAUSTION' ? `nesting deeper than ${MAX_DEPTH} levels` : error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '');
      issues.push({ path: `body[${i}]`, message: `must be valid YAML, got a syntax error${at}: ${why}` });
    }
  });
  if (issues.length) {
    throw new ValidationError(docs.length === 1 ? issues.map((issue) => ({ ...issue, path: 'body' })) : issues);
  }
  const values: unknown[] = [];
  for (const doc of docs) {
    // An empty document (`---` followed by nothing but comments) has no contents or an empty, untagged null scalar.
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.source === '' && doc.contents.tag === undefined)) continue;
    try {
      values.push(doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
    } catch (error) {
      // yaml throws a ReferenceError for alias expansion beyond maxAliasCount.
      throw new ValidationError([{ path: 'body', message: `must not expand YAML aliases more than ${MAX_ALIAS_COUNT} times: ${(error as Error).message}` }]);
    }
  }
  return values;
}

/**
 * Issues that make a value unsafe to process further: forbidden keys, nesting deeper than MAX_DEPTH, non-JSON values
 * and lone surrogates. Exported for callers that receive documents from elsewhere than `parseBodyDocuments`.
 */
export function hostileValueIssues(value: unknown, path: string): Issue[] {
  const issues: Issue[] = [];
  checkTree(value, path, 1, issues);
  return issues;
}

/** Walks a parsed document, collecting forbidden keys, excessive depth, non-JSON values and lone surrogates. */
function checkTree(value: unknown, path: string, depth: number, issues: Issue[]): void {
  if (issues.length >= 20) return;
  if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value)) issues.push({ path, message: 'must be valid Unicode text, got a lone UTF-16 surrogate' });
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) issues.push({ path, message: `must be a finite number, got ${String(value)}` });
    return;
  }
  if (value === null || typeof value === 'boolean') return;
  if (typeof value !== 'object') {
    issues.push({ path, message: `must be JSON data, got ${describeValue(value)}` });
    return;
  }
  if (depth > MAX_DEPTH) {
    issues.push({ path, message: `must not nest objects and arrays deeper than ${MAX_DEPTH} levels` });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkTree(item, `${path}[${i}]`, depth + 1, issues));
    return;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    // yaml turns !!binary into Uint8Array, !!set into Set, timestamps into Date (only with custom schemas): not JSON.
    issues.push({ path, message: `must be JSON data, got ${describeValue(value)}` });
    return;
  }
  for (const key of Object.keys(value)) {
    const child = joinPath(path, key);
    if (FORBIDDEN_KEYS.has(key)) {
      issues.push({ path: child, message: `must not use the reserved key ${JSON.stringify(key)}` });
      continue;
    }
    if (LONE_SURROGATE.test(key)) {
      issues.push({ path: child, message: 'must be a key of valid Unicode text, got a lone UTF-16 surrogate' });
      continue;
    }
    checkTree((value as Record<string, unknown>)[key], child, depth + 1, issues);
  }
}

/** Appends an object key to a path: `a.b`, or `a["odd key"]` when the key is not an identifier. */
export function joinPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const segment = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : JSON.stringify(key);
  if (path === '') return segment;
  return segment.startsWith('"') ? `${path}[${segment}]` : `${path}.${segment}`;
}

/** A short description of a received value for messages: `"abc"`, `42`, `true`, `null`, `an array`, `an object`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  return `a ${typeof value}`;
}
