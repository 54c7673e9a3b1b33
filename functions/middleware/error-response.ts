/**
 * How a failed API request is answered. A CapstanError with a caller fault becomes its 4xx with every issue listed;
 * anything else becomes a 500 (or 503) with a request id, and the details go to the log only.
 *
 * Why its own file: it is the one place that decides what a caller may learn from an error (internal errors never
 * leak), and the one `onError` of the HTTP stack.
 */
import { randomUUID } from 'node:crypto';
import { getDeps, type Deps } from '../adapters/deps.js';
import { CapstanError } from '../domain/errors.js';
import { toResult, type HttpMiddleware } from './api-gateway.js';

const LEADING_PATH = /^([A-Za-z][\w.[\]-]*): (.+)$/s;

/**
 * Every problem of an error, each with the field it is about. Errors that carry no issue list (401, 409, 412, 413,
 * 415, 429…) but whose message names a field (`content-type: must be …`) get that one issue, so a caller can always
 * read `details[].path`.
 */
export function errorDetails(error: CapstanError): { path: string; message: string }[] {
  if (error.details.length) return error.details.map((d) => ({ path: d.path, message: d.message }));
  const match = LEADING_PATH.exec(error.message);
  return match ? [{ path: match[1]!, message: match[2]! }] : [];
}

function errorBody(error: CapstanError) {
  return { error: { code: error.code, message: error.message, details: errorDetails(error) } };
}

/** Options of `errorResponse`. */
export interface ErrorResponseOptions {
  /** Resolves the dependencies whose logger records internal errors. @default getDeps (functions/adapters/deps.ts) */
  readonly getDeps?: () => Promise<Deps>;
  /** `retry-after` of a 429, in seconds. @default 1 */
  readonly retryAfterSeconds?: number;
}

const defaults: Required<ErrorResponseOptions> = { getDeps, retryAfterSeconds: 1 };

/** Answers any failure of the stack or the route; the error never propagates to API Gateway. */
export function errorResponse(options: ErrorResponseOptions = {}): HttpMiddleware {
  const { getDeps: resolve, retryAfterSeconds } = { ...defaults, ...options };
  return {
    name: 'errorResponse',
    onError: async (request) => {
      const requestId = String(request.internal.requestId ?? request.event.requestContext?.requestId ?? randomUUID());
      const error: unknown = request.error;
      if (error instanceof CapstanError && error.fault === 'caller') {
        const headers = error.status === 429 ? { 'retry-after': String(retryAfterSeconds) } : undefined;
        request.response = toResult({ status: error.status, body: errorBody(error), ...(headers ? { headers } : {}) }, requestId);
        return;
      }
      const deps = await resolve().catch(() => undefined);
      deps?.log.error('request failed', { requestId, error, path: request.event.path, method: request.event.httpMethod });
      const status = error instanceof CapstanError && error.status === 503 ? 503 : 500;
      request.response = toResult(
        { status, body: { error: { code: status === 503 ? 'Unavailable' : 'InternalError', message: `internal error; request id ${requestId}`, details: [] } } },
        requestId,
      );
    },
  };
}
