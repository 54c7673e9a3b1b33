/**
 * Request bodies: content types, the single-document rule for cluster routes, and `If-Match`.
 */
import { UnsupportedMediaTypeError, ValidationError } from '../../domain/errors.js';
import { parseBodyDocuments } from '../../domain/spec/documents.js'; // not index.js: routes without a schema stay free of zod (cold start)
import type { ApiRequest } from '../../middleware/http.js';

export const DOCUMENT_TYPES = ['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml'] as const;
export const PATCH_TYPES = ['application/merge-patch+json', 'application/json'] as const;

/** The media type of the request without parameters (`; charset=utf-8`). */
export function mediaType(request: ApiRequest): string | undefined {
  return request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() || undefined;
}

/** The `charset` parameter of the content type, lower-cased and unquoted, or undefined. */
export function charset(request: ApiRequest): string | undefined {
  const params = request.headers['content-type']?.split(';').slice(1) ?? [];
  const value = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('charset='));
  return value?.slice('charset='.length).replace(/"/g, '');
}

/**
 * Parses every document of the body (JSON or YAML).
 * Note: bodies are read as UTF-8 only; a content type declaring another charset is refused (415) rather than
 * misread.
 */
export function bodyDocuments(request: ApiRequest, allowed: readonly string[] = DOCUMENT_TYPES): unknown[] {
  const type = mediaType(request);
  const declared = charset(request);
  if (!type || !allowed.includes(type)) throw new UnsupportedMediaTypeError(request.headers['content-type'] ?? type, allowed);
  if (declared !== undefined && declared !== 'utf-8' && declared !== 'utf8') {
    throw new UnsupportedMediaTypeError(request.headers['content-type'], allowed.map((t) => `${t}; charset=utf-8`));
  }
  if (request.body === undefined || request.body.trim() === '') throw new ValidationError([{ path: 'body', message: 'must not be empty' }]);
  return parseBodyDocuments(request.body, type);
}

/** Parses a body that must hold exactly one document. */
export function singleDocument(request: ApiRequest, allowed: readonly string[] = DOCUMENT_TYPES): unknown {
  const docs = bodyDocuments(request, allowed);
  if (docs.length !== 1) throw new ValidationError([{ path: 'body', message: `must hold exactly one document, got ${docs.length} (use POST /v1/apply for several)` }]);
  return docs[0];
}

/**
 * A path parameter, percent-decoded. A malformed escape (`%E0%A4%A`) is the caller's mistake: 400 naming
 * `path.<name>`, never a 500.
 */
export function pathParameter(request: ApiRequest, name: string): string {
  const raw = request.pathParameters[name];
  if (raw === undefined || raw === '') throw new ValidationError([{ path: `path.${name}`, message: 'is required' }]);
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ValidationError([{ path: `path.${name}`, message: `must be valid percent-encoded UTF-8, got ${JSON.stringify(raw)}` }]);
  }
}

/** `If-Match` without quotes or weak prefix, or undefined. */
export function ifMatch(request: ApiRequest): string | undefined {
  const raw = request.headers['if-match'];
  if (raw === undefined || raw.trim() === '' || raw.trim() === '*') return undefined;
  return raw.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
}

/** `?dryRun=true` (also `1`, `All` as kubectl sends). */
export function isDryRun(request: ApiRequest): boolean {
  const v = request.query.dryRun;
  return v === 'true' || v === '1' || v === 'All';
}

const SERVER_METADATA = ['uid', 'generation', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp'] as const;

/**
 * Drops what the server sets (status, metadata.uid/generation/resourceVersion/timestamps) from a Capstan document,
 * so a resource read from the API can be sent back as it is (kubectl-style round trips).
 */
export function stripServerFields(doc: unknown): unknown {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return doc;
  const { status: _status, ...rest } = doc as Record<string, unknown>;
  const metadata = rest.metadata;
  if (typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)) {
    const copy: Record<string, unknown> = { ...(metadata as Record<string, unknown>) };
    for (const key of SERVER_METADATA) delete copy[key];
    rest.metadata = copy;
  }
  return rest;
}
