/**
 * Local authentication: `Authorization: Bearer <token>` on every /v1 route. The token is CAPSTAN_TOKEN if set,
 * else generated on first start and kept in `$CAPSTAN_HOME/token` (mode 0600).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Authenticator } from '../../functions/adapters/deps.js';
import { UnauthorizedError } from '../../functions/domain/errors.js';
import type { Principal } from '../../functions/domain/ports.js';

/** The local administrator: every account, may manage principals. */
export const LOCAL_ADMIN: Principal = { id: 'local:admin', accounts: ['*'], admin: true };

/** Reads (or creates, 0600) a secret file of `bytes` random bytes in base64url; returns its text. */
export function ensureSecretFile(path: string, bytes = 32): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = randomBytes(bytes).toString('base64url');
  writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return value;
}

/** The API token of this CAPSTAN_HOME: the explicit one, or the one in `$home/token` (created when missing). */
export function resolveToken(home: string, explicit: string | undefined): { token: string; path: string | undefined } {
  if (explicit) return { token: explicit, path: undefined };
  const path = join(home, 'token');
  return { token: ensureSecretFile(path), path };
}

/**
 * Bearer-token authentication. `principals` maps extra tokens to principals (tenancy tests, local multi-user);
 * the main token is the administrator.
 */
export function bearerAuthenticator(token: string, principals: ReadonlyMap<string, Principal> = new Map()): Authenticator {
  const expected = Buffer.from(token);
  return async (event) => {
    const header = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new UnauthorizedError('authorization: missing "Bearer <token>" (the token is in $CAPSTAN_HOME/token)');
    const got = Buffer.from(match[1]!);
    if (got.length === expected.length && timingSafeEqual(got, expected)) return LOCAL_ADMIN;
    const extra = principals.get(match[1]!);
    if (extra) return extra;
    throw new UnauthorizedError('authorization: invalid token');
  };
}
