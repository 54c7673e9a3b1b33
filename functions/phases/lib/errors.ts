/**
 * Workflow-internal errors. Their names are matched by the ASL file's Retry blocks (see infra/workflows/).
 */
import { CapstanError } from '../../domain/errors.js';

/** The machine's drain is not finished yet; the RetireMachine step is retried. */
export class DrainInProgressError extends CapstanError {
  readonly fault = 'capstan';
  readonly code = 'DrainInProgress';
  readonly status = 503;
  constructor(message: string) {
    super(message);
    this.name = 'DrainInProgressError';
  }
}

/** Cluster infrastructure is still being torn down (dependencies remain); the step is retried. */
export class InfrastructureDeletionInProgressError extends CapstanError {
  readonly fault = 'capstan';
  readonly code = 'InfrastructureDeletionInProgress';
  readonly status = 503;
  constructor(message: string) {
    super(message);
    this.name = 'InfrastructureDeletionInProgressError';
  }
}

/** The step's input is not what the workflow sends (a bug, not a retryable condition). */
export class PhaseInputError extends CapstanError {
  readonly fault = 'capstan';
  readonly code = 'PhaseInput';
  readonly status = 500;
  constructor(message: string) {
    super(message);
    this.name = 'PhaseInputError';
  }
}
