/**
 * The first middleware of every API handler: the request id and the process's dependencies.
 *
 * Why its own file: everything after it (authentication, the body limit, the route, the error response) reads what
 * it sets, and it is the one place a request id is chosen.
 */
import { randomUUID } from 'node:crypto';
import { getDeps, type Deps } from '../adapters/deps.js';
import type { HttpMiddleware } from './api-gateway.js';

/** Options of `requestContext`. */
export interface RequestContextOptions {
  /** Resolves the process's dependencies. @default getDeps (functions/adapters/deps.ts) */
  readonly getDeps?: () => Promise<Deps>;
}

const defaults: Required<RequestContextOptions> = { getDeps };

/**
 * Sets `internal.requestId` (API Gateway's, or a fresh UUID when there is none) and `internal.deps`.
 * Note: the request id is chosen before the dependencies are resolved, so even a failure to build them is
 * answered with the id the log line carries.
 */
export function requestContext(options: RequestContextOptions = {}): HttpMiddleware {
  const { getDeps: resolve } = { ...defaults, ...options };
  return {
    name: 'requestContext',
    before: async (request) => {
      request.internal.requestId = request.event.requestContext?.requestId ?? randomUUID();
      request.internal.deps = await resolve();
    },
  };
}
