/**
 * The dependencies every handler needs, built once per process (per Lambda container, or once by the local host).
 *
 * Handlers call `getDeps()`. On Lambda the first call builds the AWS adapters from the environment
 * (functions/adapters/aws-deps.ts); the local host (infra/local/) calls `installDeps()` first with dynalite, the ASL
 * interpreter and the local provider, so the very same handler modules run in both places.
 */
import type { Deps } from './deps-contract.js';

export { DEFAULT_SETTINGS, type Authenticator, type Deps, type ProviderLookup, type Settings } from './deps-contract.js';

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
