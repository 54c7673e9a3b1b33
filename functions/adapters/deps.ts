/**
 * The dependencies every handler needs, built once per process (per Lambda container, or once by the local host).
 *
 * Handlers call `getDeps()`. On Lambda the first call builds the AWS adapters from the environment
 * (functions/adapters/aws-deps.ts); the local host (infra/local/) calls `installDeps()` first with dynalite, the ASL
 * interpreter and the local provider, so the very same handler modules run in both places.
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

let installed: Deps | undefined;
let building: Promise<Deps> | undefined;

/** Installs the dependencies for this process (the local host, tests). */
export function installDeps(deps: Deps): void {
  installed = deps;
  building = undefined;
}

/** Forgets installed dependencies (tests that start several local stacks in one process). */
export function resetDeps(): void {
  installed = undefined;
  building = undefined;
}

/** The process's dependencies; on Lambda, built from the environment on first use. */
export async function getDeps(): Promise<Deps> {
  if (installed) return installed;
  building ??= import('./aws-deps.js').then(async (m) => {
    const deps = await m.buildAwsDeps(process.env);
    installed = deps;
    return deps;
  });
  return building;
}
