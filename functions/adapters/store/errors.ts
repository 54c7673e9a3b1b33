/**
 * Error mapping of the DynamoDB store: SDK errors never leave the adapter except as Capstan's named errors.
 */
import { CapstanError, TooManyRequestsError } from '../../domain/errors.js';

/** SDK error names that mean "DynamoDB throttled us" (after the SDK's own retries). */
export const THROTTLING_ERROR_NAMES = [
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
] as const;

/**
 * The store failed for a reason the caller cannot fix (DynamoDB unavailable, a malformed item, a bug). HTTP 500.
 *
 * Why a class here and not in the domain: it only exists so that raw SDK errors (which carry request ids, table
 * names and ARNs) never reach an API caller; the original error stays on `cause` for the logs.
 */
export class StoreError extends CapstanError {
  readonly fault = 'capstan';
  readonly code = 'StoreFailure';
  readonly status = 500;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** True when the error is DynamoDB's "the condition of this write did not hold". */
export function isConditionFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * Turns any error thrown by a DynamoDB call into a Capstan error: throttling → TooManyRequestsError, our own errors
 * unchanged, anything else → StoreError (with the SDK error as `cause`). Condition failures are handled by callers
 * before this is reached.
 */
export function toStoreError(error: unknown, operation: string): CapstanError {
  if (error instanceof CapstanError) return error;
  const name = error instanceof Error ? error.name : 'UnknownError';
  if ((THROTTLING_ERROR_NAMES as readonly string[]).includes(name)) {
    return new TooManyRequestsError(`store: DynamoDB throttled ${operation}, retry later`);
  }
  return new StoreError(`store: ${operation} failed (${name})`, { cause: error });
}
