/**
 * The provider registry: which `MachineProvider` serves a cluster's `spec.infrastructure.provider`.
 *
 * Handlers ask the registry, never construct providers themselves, so the hosting decides what is reachable:
 * on AWS only `aws` (functions/adapters/aws-deps.ts); locally `aws` is switched off (ProviderDisabledError) unless the operator opts
 * in with CAPSTAN_ENABLE_AWS=1, so `npm start` can never create an EC2 instance by accident.
 */
import type { ProviderName } from '../functions/domain/cluster.js';
import { ProviderDisabledError } from '../functions/domain/errors.js';
import { AWS_DISABLED_MESSAGE, staticRegistry, type ProviderRegistry } from './registry.js';
import type { MachineProvider } from '../functions/domain/provider.js';
import { LocalProvider, type LocalProviderOptions } from './local/local-provider.js';

export { LocalProvider } from './local/local-provider.js';
export type { LocalProviderOptions } from './local/local-provider.js';
export { AWS_DISABLED_MESSAGE, staticRegistry, type ProviderRegistry } from './registry.js';

/** What `createProvider` needs to build each provider. */
export interface ProviderDeps {
  /** Options of the local provider (`home` = CAPSTAN_HOME). */
  readonly local?: LocalProviderOptions;
  /** Builds the EC2 provider (providers/aws-ec2/, wired by its owner); absent = aws disabled. */
  readonly aws?: () => MachineProvider;
}

/** Builds one provider by name; fails with ProviderDisabledError when its dependencies are not given. */
export function createProvider(name: ProviderName, deps: ProviderDeps): MachineProvider {
  switch (name) {
    case 'local':
      if (!deps.local) throw new ProviderDisabledError("provider 'local' is not configured in this hosting (no CAPSTAN_HOME)");
      return new LocalProvider(deps.local);
    case 'aws':
      if (!deps.aws) throw new ProviderDisabledError(AWS_DISABLED_MESSAGE);
      return deps.aws();
  }
}

/**
 * The registry of local mode: `local` is the given provider; `aws` throws ProviderDisabledError saying how to opt in.
 */
export function localOnlyRegistry(local: MachineProvider): ProviderRegistry {
  return staticRegistry({ local });
}
