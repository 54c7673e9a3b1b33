/**
 * AWS SDK errors → the named provider errors of functions/domain/errors.ts (contract P5), plus the provider's own
 * bounded retry for throttling.
 *
 * Note: the SDK clients retry too (standard mode, see `MEMBER_CLIENT_MAX_ATTEMPTS`), and the workflow retries
 * `ProviderThrottledError`/`ProviderUnavailableError` with backoff. The provider's own loop is deliberately short
 * (3 attempts, full jitter, < 1 s in total) so the three layers never multiply into minutes inside one Lambda.
 */
import {
  ProviderCapacityError,
  ProviderRejectedError,
  ProviderThrottledError,
  ProviderUnavailableError,
  isCapstanError,
} from '../../functions/domain/errors.js';

/** EC2/ELB/STS error codes that mean "slow down". */
const THROTTLING = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'PriorRequestNotComplete',
]);

/** Codes that mean "transient failure on AWS's side". */
const UNAVAILABLE = new Set(['ServiceUnavailable', 'InternalError', 'InternalFailure', 'Unavailable', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError', 'ECONNRESET', 'ETIMEDOUT']);

/** Codes that mean "no capacity for this instance here": try another failure domain. */
const CAPACITY = new Set(['InsufficientInstanceCapacity', 'InsufficientCapacity', 'InsufficientHostCapacity', 'InsufficientReservedInstanceCapacity', 'Unsupported', 'InsufficientFreeAddressesInSubnet']);

/**
 * An answer about something that exists but has not propagated yet: an instance profile created moments ago (IAM is
 * eventually consistent; RunInstances answers `InvalidParameterValue: Invalid IAM Instance Profile name` for a while,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency),
 * or an EC2 id used right after it was returned
 * (https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html). Retryable: the workflow bounds it.
 */
function isPropagationDelay(code: string, error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return (code === 'InvalidParameterValue' || code === 'InvalidParameterCombination') && /iam instance profile/i.test(message);
}

/** The AWS error code of an SDK error (`name`, or `Code` for some XML services), if any. */
export function awsErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { name?: unknown; Code?: unknown; code?: unknown };
  for (const candidate of [e.Code, e.name, e.code]) {
    if (typeof candidate === 'string' && candidate !== '' && candidate !== 'Error') return candidate;
  }
  return undefined;
}

function httpStatus(error: unknown): number | undefined {
  const meta = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return meta?.httpStatusCode;
}

/** True when `error` carries one of the given AWS error codes (prefix match with a trailing `*`). */
export function hasAwsCode(error: unknown, ...codes: string[]): boolean {
  const code = awsErrorCode(error);
  if (code === undefined) return false;
  return codes.some((c) => (c.endsWith('*') ? code.startsWith(c.slice(0, -1)) : code === c));
}

/**
 * Maps an SDK error to a named provider error; a Capstan error passes through unchanged.
 *
 * Unknown 4xx errors are treated as rejected (retrying will not fix them), unknown other errors as unavailable.
 * Messages carry the operation and AWS's code and message, never request parameters (they may hold user data).
 */
export function toProviderError(error: unknown, context: { readonly operation: string; readonly failureDomain?: string }): Error {
  if (isCapstanError(error)) return error;
  const code = awsErrorCode(error) ?? 'UnknownError';
  const message = `${context.operation}: ${code}: ${error instanceof Error ? error.message : String(error)}`;
  if (THROTTLING.has(code)) return new ProviderThrottledError(message);
  if (isPropagationDelay(code, error)) return new ProviderUnavailableError(`${message} (not propagated yet: retry)`);
  if (CAPACITY.has(code)) return new ProviderCapacityError(message, context.failureDomain);
  if (UNAVAILABLE.has(code)) return new ProviderUnavailableError(message);
  const status = httpStatus(error);
  if (status !== undefined && status >= 500) return new ProviderUnavailableError(message);
  if ((error as { $fault?: string } | null)?.$fault === 'server') return new ProviderUnavailableError(message);
  if (status !== undefined && status >= 400) return new ProviderRejectedError(message);
  if (/^(Invalid|Unauthorized|AccessDenied|MissingParameter|OptInRequired|Auth|Blocked|Validation)/.test(code)) {
    return new ProviderRejectedError(message);
  }
  return new ProviderUnavailableError(message);
}

/** Knobs of `withThrottleRetries`; tests pass a sleep that records and returns at once. */
export interface RetryOptions {
  /** Total attempts including the first. @default 3 */
  readonly attempts?: number;
  /** Upper bound of the first backoff; doubles per attempt (full jitter). @default 200 */
  readonly baseDelayMs?: number;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
}

/** Sleeps with setTimeout. */
export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn`, mapping its errors with `toProviderError` and retrying ProviderThrottledError a bounded number of times
 * with full-jitter backoff. Any other error is thrown at once (the caller decides about capacity, the workflow about
 * unavailability).
 */
export async function withThrottleRetries<T>(
  operation: string,
  fn: () => Promise<T>,
  options: RetryOptions = {},
  failureDomain?: string,
): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const base = options.baseDelayMs ?? 200;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const mapped = toProviderError(error, { operation, ...(failureDomain ? { failureDomain } : {}) });
      if (!(mapped instanceof ProviderThrottledError) || attempt >= attempts) throw mapped;
      await sleep(Math.floor(random() * base * 2 ** (attempt - 1)));
    }
  }
}
