/**
 * Machine callback tokens: the one-time, machine-scoped secret a machine presents when it reports Ready.
 *
 * A token is derived, not stored: HMAC-SHA256(secret, clusterUid / machine / bootAttempt). Deriving it means a
 * retried create-machine step (after a crash between the provider call and the record update) hands the provider
 * the same token the already-running machine has, so the machine can still call back. Only a hash of the token
 * is ever compared; "one-time" is enforced by the machine record (`readyAt` set → a second callback is refused).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface CallbackTokenInput {
  readonly clusterUid: string;
  readonly machine: string;
  readonly bootAttempt: number;
}

/** The token for one machine incarnation (base64url, 43 chars). */
export function deriveCallbackToken(secret: Uint8Array, input: CallbackTokenInput): string {
  return createHmac('sha256', secret).update(`capstan/callback/v1/${input.clusterUid}/${input.machine}/${input.bootAttempt}`).digest('base64url');
}

/** Constant-time comparison of a presented token with the expected one. */
export function verifyCallbackToken(secret: Uint8Array, input: CallbackTokenInput, presented: string): boolean {
  const expected = Buffer.from(deriveCallbackToken(secret, input));
  const got = Buffer.from(presented);
  return expected.length === got.length && timingSafeEqual(expected, got);
}
