/**
 * The error family of Capstan. Every error we raise on purpose is a `CapstanError` with a `fault` saying whose
 * problem it is: the caller's (4xx), ours (500) or the infrastructure provider's (retried or reported).
 *
 * Note: `name` is set explicitly on every class. Step Functions `Retry`/`Catch` match on the error name, and a
 * minifier may rename classes, so the name must never be derived from the constructor.
 */
export type Fault = 'caller' | 'capstan' | 'provider';

/** One problem with a request, located by a field path such as `spec.controlPlane.replicas`. */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

export abstract class CapstanError extends Error {
  abstract readonly fault: Fault;
  /** HTTP status when this error reaches an API caller. */
  abstract readonly status: number;
  /** Stable machine-readable code for API bodies, e.g. `ValidationFailed`. */
  abstract readonly code: string;
  readonly details: readonly Issue[] = [];
}

/** The request is malformed: every problem is listed at once. HTTP 400 (or 422 when `unprocessable`). */
export class ValidationError extends CapstanError {
  readonly fault = 'caller';
  readonly code = 'ValidationFailed';
  readonly status: number;
  override readonly details: readonly Issue[];
  constructor(issues: readonly Issue[], options: { unprocessable?: boolean } = {}) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; ') || 'invalid request');
    this.name = 'ValidationError';
    this.details = issues;
    this.status = options.unprocessable ? 422 : 400;
  }
}

/** The document is well-formed but asks for something Capstan does not support (e.g. a Cluster API kind). HTTP 422. */
export class UnsupportedError extends CapstanError {
  readonly fault = 'caller';
  readonly code = 'Unsupported';
  readonly status = 422;
  override readonly details: readonly Issue[];
  constructor(issues: readonly Issue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.name = 'UnsupportedError';
    this.details = issues;
  }
}

export class NotFoundError extends CapstanError {
  readonly fault = 'caller';
  readonly code = 'NotFound';
  readonly status = 404;
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** A conflicting state, e.g. creating something that exists or changing a cluster that is being deleted. HTTP 409. */
export class ConflictError extends CapstanError {
  readonly fault = 'caller';
  readonly code = 'Conflict';
  readonly status = 409;
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** A conditional write lost: the caller's `If-Match` (or our own expected version) is stale. HTTP 412. */
export class PreconditionFailedError extends CapstanError {
  readonly fault = 'caller';
  readonly code = 'PreconditionFailed';
  readonly status = 412;
  constructor(message: string) {
    super(message);
    this.name = 'PreconditionFailedError';
  }
}

export class UnauthorizedError extends CapstanError {
  readonly fault = 'caller';
  readonly code = 'Unauthorized';
  readonly status = 401;
  constructor(message = 'missing or invalid credentials') {
    super(message);
    this.name = 'UnauthorizedError';
  }
}

export class ForbiddenError extends CapstanError {
  readonly fault = 'caller';
  readonly code = 'Forbidden';
  readonly status = 403;
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

export class PayloadTooLargeError extends CapstanError {
  readonly fault = 'caller';
  readonly code = 'PayloadTooLarge';
  readonly status = 413;
  constructor(limitBytes: number, receivedBytes: number) {
    super(`body: must be at most ${limitBytes} bytes, got ${receivedBytes}`);
    this.name = 'PayloadTooLargeError';
  }
}

export class UnsupportedMediaTypeError extends CapstanError {
  readonly fault = 'caller';
  readonly code = 'UnsupportedMediaType';
  readonly status = 415;
  constructor(received: string | undefined, allowed: readonly string[]) {
    super(`content-type: must be one of ${allowed.join(', ')}, got ${received ?? '(none)'}`);
    this.name = 'UnsupportedMediaTypeError';
  }
}

/** Too many requests, from our own throttle or a throttled dependency surfaced to the caller. HTTP 429. */
export class TooManyRequestsError extends CapstanError {
  readonly fault = 'caller';
  readonly code = 'TooManyRequests';
  readonly status = 429;
  constructor(message = 'too many requests, retry later') {
    super(message);
    this.name = 'TooManyRequestsError';
  }
}

/**
 * The store refused a write because another writer won a race we did not expect the caller to resolve. Transient:
 * workflows retry it by name, and the API answers 503 (retry later) rather than 500.
 */
export class StoreConflictError extends CapstanError {
  readonly fault = 'capstan';
  readonly code = 'StoreConflict';
  readonly status = 503;
  constructor(message: string) {
    super(message);
    this.name = 'StoreConflictError';
  }
}

/** The provider throttled us. Workflows retry with jitter. */
export class ProviderThrottledError extends CapstanError {
  readonly fault = 'provider';
  readonly code = 'ProviderThrottled';
  readonly status = 503;
  constructor(message: string) {
    super(message);
    this.name = 'ProviderThrottledError';
  }
}

/** A transient provider failure (5xx, timeout). Workflows retry with backoff. */
export class ProviderUnavailableError extends CapstanError {
  readonly fault = 'provider';
  readonly code = 'ProviderUnavailable';
  readonly status = 503;
  constructor(message: string) {
    super(message);
    this.name = 'ProviderUnavailableError';
  }
}

/** The provider has no capacity for this machine here (EC2 `InsufficientInstanceCapacity`): try another failure domain. */
export class ProviderCapacityError extends CapstanError {
  readonly fault = 'provider';
  readonly code = 'ProviderCapacity';
  readonly status = 503;
  constructor(message: string, readonly failureDomain?: string) {
    super(message);
    this.name = 'ProviderCapacityError';
  }
}

/** The provider refused the request for a reason retrying will not fix (bad AMI, missing permission). */
export class ProviderRejectedError extends CapstanError {
  readonly fault = 'provider';
  readonly code = 'ProviderRejected';
  readonly status = 502;
  constructor(message: string) {
    super(message);
    this.name = 'ProviderRejectedError';
  }
}

/** The provider for a cluster is switched off in this hosting (e.g. `aws` in local mode without CAPSTAN_ENABLE_AWS=1). */
export class ProviderDisabledError extends CapstanError {
  readonly fault = 'provider';
  readonly code = 'ProviderDisabled';
  readonly status = 503;
  constructor(message: string) {
    super(message);
    this.name = 'ProviderDisabledError';
  }
}

/** Error names the workflow retries; used by the ASL file's `Retry` blocks and the local runner alike. */
export const RETRYABLE_ERROR_NAMES = [
  'ProviderThrottledError',
  'ProviderUnavailableError',
  'StoreConflictError',
] as const;

export function isCapstanError(error: unknown): error is CapstanError {
  return error instanceof CapstanError;
}
