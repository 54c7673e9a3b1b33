/**
 * The `capstan` package's library entry (`import { CapstanControlPlane } from 'capstan'`): the L3 construct, the
 * stacks of the reference app, and the function catalogue they are built from. Needs `aws-cdk-lib` and `constructs`
 * (peer dependencies: the consumer's CDK app has them). The reference app with its cdk-nag checks,
 * `buildCapstanApp`, is `capstan/app` (infra/stacks/capstan-app.ts), since only it needs cdk-nag.
 *
 * Note: built to `dist/infra/index.js` (+ `.d.ts`) by `npm run build`; the Lambda handlers ship prebundled in
 * `dist/lambda/` (see infra/constructs/capstan-function.ts), so a consumer needs neither esbuild nor our lockfile.
 * docs/library.md shows a consumer's app.
 */
export {
  API_STAGE_NAME,
  CapstanControlPlane,
  ROLLOUT_ASL_PATH,
  ROLLOUT_DEADLINE_METRIC,
  publicRoutes,
  validateControlPlaneProps,
  type CapstanControlPlaneProps,
} from './constructs/capstan-control-plane.js';
export { CAPSTAN_RUNTIME, CapstanFunction, type CapstanFunctionProps } from './constructs/capstan-function.js';
export {
  API_FUNCTIONS,
  DEFAULT_MEMBER_ROLE_NAME,
  EVENT_BUS_NAME,
  INSTANCE_EVENT_FUNCTION,
  MANAGED_TAG,
  PHASE_FUNCTIONS,
  SWEEP_FUNCTION,
  WORKFLOW_ROLE_PATH,
  type ApiFunctionSpec,
  type ApiRoute,
  type FunctionAccess,
  type PhaseFunctionSpec,
} from './catalog/index.js';
export { CONTEXT_KEYS, readDeploymentConfig, type ContextReader, type DeploymentConfig } from './stacks/config.js';
export { ManagementStack, type ManagementStackProps } from './stacks/management-stack.js';
export { MemberStack, NODE_PROFILES, memberRoleStatements, type MemberStackProps } from './stacks/member-stack.js';
