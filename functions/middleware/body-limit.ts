/**
 * Request bodies as API Gateway hands them over: their exact size (the limit) and their text (strict UTF-8).
 *
 * Why its own file: the limit is a middleware of its own in the documented order (after authentication), and the
 * byte arithmetic of base64 bodies is easy to get wrong by two bytes; it is tested and kept in one place.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { PayloadTooLargeError, ValidationError } from '../domain/errors.js';
import { contextOf, type HttpMiddleware } from './api-gateway.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Exact byte length of the body API Gateway hands over (base64 or text).
 * Why exact: estimating base64 as 3/4 of its length over-counts up to 2 bytes, refusing a body of exactly the limit.
 */
export function bodyByteLength(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): number {
  if (!event.body) return 0;
  if (!event.isBase64Encoded) return Buffer.byteLength(event.body);
  const text = event.body.replace(/\s+/g, '');
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Math.floor((text.length * 3) / 4) - padding;
}

/** Decodes a body as strict UTF-8 (invalid bytes → 400 naming `body`). */
export function decodeBody(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): string | undefined {
  if (event.body === null || event.body === undefined) return undefined;
  if (!event.isBase64Encoded) return event.body;
  try {
    return utf8.decode(Buffer.from(event.body, 'base64'));
  } catch {
    throw new ValidationError([{ path: 'body', message: 'must be valid UTF-8' }]);
  }
}

/** Options of `bodyLimit`. */
export interface BodyLimitOptions {
  /** Largest accepted body in bytes. @default the hosting's `deps.settings.maxBodyBytes` (1 MiB) */
  readonly maxBodyBytes?: number;
}

const defaults: BodyLimitOptions = {};

/** Refuses a body above the limit with 413 (PayloadTooLargeError names the limit and the size received). */
export function bodyLimit(options: BodyLimitOptions = {}): HttpMiddleware {
  const { maxBodyBytes } = { ...defaults, ...options };
  return {
    name: 'bodyLimit',
    before: (request) => {
      const limit = maxBodyBytes ?? contextOf(request.internal).deps.settings.maxBodyBytes;
      const received = bodyByteLength(request.event);
      if (received > limit) throw new PayloadTooLargeError(limit, received);
    },
  };
}
