/**
 * What every handler is given (Deps) and the settings it runs with: the contract between the hostings (Lambda:
 * ./aws-deps.ts; local: infra/local/) and the handlers. Its own module so that a hosting's builder and
 * ./deps.ts (the per-process holder) both import it without importing each other.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { ProviderName } from '../domain/cluster.js';
import type { Clock, Principal, Store, Workflow } from '../domain/ports.js';
import type { MachineProvider } from '../domain/provider.js';
import type { Logger } from './logger.js';

/** Finds the provider for a cluster. Throws ProviderDisabledError for a provider switched off in this hosting. */
export interface ProviderLookup {
  get(name: ProviderName): MachineProvider;
}

/** Resolves the calling principal of an API request; throws UnauthorizedError. */
export type Authenticator = (event: APIGatewayProxyEvent) => Promise<Principal>;

export interface Settings {
  /** Largest accepted request body. @default 1 MiB */
  readonly maxBodyBytes: number;
  /** How long a rollout lease lives without renewal. @default 3600 */
  readonly leaseTtlSeconds: number;
  /** Plan iterations after which an execution hands over to a fresh one (history budget). @default 500 */
  readonly continueAfterIterations: number;
  /** Seconds between plans while machines are in flight without a callback to wait for. @default 5 */
  readonly pollSeconds: number;
  /** Consecutive boot failures before a rollout blocks. @default 3 */
  readonly maxBootAttempts: number;
  /** Seconds without progress before a rollout is reported stuck. @default 1800 */
  readonly progressDeadlineSeconds: number;
  /** Grace before an unknown machine with Capstan's tags is terminated. @default 300 */
  readonly orphanGraceSeconds: number;
  /**
   * How long a Deleted machine record stays readable (GET …/machines?includeDeleted=true, the planner's boot-failure
   * history) before a finished rollout archives it; each pool keeps its highest-ordinal record. @default 86400
   */
  readonly deletedMachineRetentionSeconds: number;
}

export const DEFAULT_SETTINGS: Settings = {
  maxBodyBytes: 1024 * 1024,
  leaseTtlSeconds: 3600,
  continueAfterIterations: 500,
  pollSeconds: 5,
  maxBootAttempts: 3,
  progressDeadlineSeconds: 1800,
  orphanGraceSeconds: 300,
  deletedMachineRetentionSeconds: 86_400,
};

export interface Deps {
  readonly store: Store;
  readonly workflow: Workflow;
  readonly providers: ProviderLookup;
  readonly clock: Clock;
  readonly log: Logger;
  readonly authenticate: Authenticator;
  /** Key for machine callback tokens (functions/adapters/callback-token.ts). */
  readonly callbackSecret: () => Promise<Uint8Array>;
  /** Base URL machines call back to (`…/v1/callbacks/{cluster}/{machine}/ready` is appended). */
  readonly callbackBaseUrl: string;
  readonly settings: Settings;
}

