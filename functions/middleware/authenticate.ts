/**
 * Who is calling: the authenticated principal of an API request.
 *
 * Why its own file: it is the one middleware public routes leave out (the health check, and machine callbacks that
 * carry their own one-time token), and it must come before the body limit (see http.ts).
 */
import type { Authenticator } from '../adapters/deps.js';
import { contextOf, type HttpMiddleware } from './api-gateway.js';

/** Options of `authenticate`. */
export interface AuthenticateOptions {
  /** Resolves the caller or throws UnauthorizedError. @default the hosting's `deps.authenticate` (IAM or bearer) */
  readonly authenticator?: Authenticator;
}

const defaults: AuthenticateOptions = {};

/** Sets `internal.principal`; an unauthenticated caller gets the authenticator's 401 and nothing else. */
export function authenticate(options: AuthenticateOptions = {}): HttpMiddleware {
  const { authenticator } = { ...defaults, ...options };
  return {
    name: 'authenticate',
    before: async (request) => {
      const event = request.event;
      request.internal.principal = await (authenticator ? authenticator(event) : contextOf(request.internal).deps.authenticate(event));
    },
  };
}
