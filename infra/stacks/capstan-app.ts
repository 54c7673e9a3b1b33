/**
 * Builds the Capstan stacks into an app: separate from infra/app.ts so that tests build the very same app without
 * running the entry point.
 */
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readDeploymentConfig } from './config.js';
import { ManagementStack } from './management-stack.js';
import { MemberStack } from './member-stack.js';

/** The stacks of the app. */
export interface CapstanStacks {
  readonly management: ManagementStack;
  readonly member: MemberStack;
}

/** Options of {@link buildCapstanApp}. */
export interface BuildCapstanAppOptions {
  /**
   * Register the cdk-nag AWS Solutions checks; any unacknowledged finding fails synth.
   * @default true
   */
  readonly nag?: boolean;
}

/**
 * Adds the management stack (`Capstan`) and the member stack (`CapstanMember`) to `app`, configured from its context.
 *
 * Note: the member stack is synthesised with the management account and region as parameter defaults; deploy it to
 * other accounts with `--parameters` or as a StackSet (docs/deploy.md).
 */
export function buildCapstanApp(app: App, options: BuildCapstanAppOptions = {}): CapstanStacks {
  const config = readDeploymentConfig((key) => app.node.tryGetContext(key));
  const env = config.managementAccount || config.region ? { account: config.managementAccount, region: config.region } : undefined;
  const management = new ManagementStack(app, 'Capstan', { env, config });
  const member = new MemberStack(app, 'CapstanMember', {
    managementAccount: config.managementAccount,
    managementRegion: config.region,
    externalId: config.externalId,
    memberRoleName: config.memberRoleName,
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { management, member };
}
