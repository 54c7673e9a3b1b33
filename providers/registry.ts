/**
 * Provider registries without any provider in them: the lookup every hosting gives its handlers. Its own module so
 * that the Lambda bundles (functions/adapters/aws-deps.ts) reach the registry without importing the local provider.
 */
import type { ProviderName } from '../functions/domain/cluster.js';
import { ProviderDisabledError } from '../functions/domain/errors.js';
import type { MachineProvider } from '../functions/domain/provider.js';

/** Looks up the provider of a cluster by name. */
export interface ProviderRegistry {
  /** The provider called `name`; throws ProviderDisabledError when this hosting has it switched off. */
  get(name: ProviderName): MachineProvider;
}

/** Why `aws` is off in local mode, and how to opt in. */
export const AWS_DISABLED_MESSAGE =
  "provider 'aws' is disabled in local mode: set CAPSTAN_ENABLE_AWS=1 (with AWS credentials) to let Capstan create EC2 machines";

/**
 * A registry over fixed provider instances; a missing entry throws ProviderDisabledError on `get`, with the message
 * `disabled` gives for it (@default: how to opt in for aws, "not configured" otherwise).
 */
export function staticRegistry(providers: Partial<Record<ProviderName, MachineProvider>>, disabled: Partial<Record<ProviderName, string>> = {}): ProviderRegistry {
  return {
    get(name) {
      const provider = providers[name];
      if (!provider) {
        throw new ProviderDisabledError(disabled[name] ?? (name === 'aws' ? AWS_DISABLED_MESSAGE : `provider '${name}' is not configured in this hosting`));
      }
      return provider;
    },
  };
}

