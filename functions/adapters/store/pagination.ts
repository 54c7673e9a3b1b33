/**
 * Pagination of the store's listings: the page-size limits callers may ask for, the opaque cursor of name-ordered
 * listings (clusters), and how a `limit + 1` probe becomes a page whose last one has no cursor.
 *
 * Its own file because cursors are API: clients hand them back verbatim, so their format and the validation errors
 * of a bad `limit` or `cursor` must stay the same whichever listing produced them.
 */
import type { Cluster } from '../../domain/cluster.js';
import { ValidationError } from '../../domain/errors.js';
import type { Page } from '../../domain/ports.js';
import { readDoc, type Item } from './item-codec.js';

/** Page size when the caller gives none. */
export const DEFAULT_PAGE_LIMIT = 100;
/** Largest page a caller may ask for. */
export const MAX_PAGE_LIMIT = 1000;

/** The page size to use: `limit`, or the default; ValidationError unless an integer from 1 to MAX_PAGE_LIMIT. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new ValidationError([{ path: 'limit', message: `must be an integer from 1 to ${MAX_PAGE_LIMIT}, got ${limit}` }]);
  }
  return limit;
}

/** Cursor of name-ordered listings: base64url of `{"after":"<last name>"}` (the last key returned). */
export function encodeNameCursor(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
}

/** The name a cursor of `encodeNameCursor` continues after; ValidationError for anything else. */
export function decodeNameCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string' && parsed.after !== '') return parsed.after;
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError([{ path: 'cursor', message: `must be a cursor returned by a previous page, got "${cursor}"` }]);
}

/**
 * A page of at most `limit` clusters from name-ordered cluster items, read with the `limit + 1` probe: a cursor only
 * when the probe found one more item (so the last page has none).
 */
export function toClusterPage(items: Item[], limit: number): Page<Cluster> {
  const clusters = items.slice(0, limit).map((item) => readDoc<Cluster>(item));
  const last = clusters[clusters.length - 1];
  return items.length > limit && last ? { items: clusters, next: encodeNameCursor(last.metadata.name) } : { items: clusters };
}
