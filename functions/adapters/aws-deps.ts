/**
 * The dependencies of a Lambda function on AWS, from its environment (set by the CDK construct):
 * TABLE_NAME, STATE_MACHINE_ARN, CALLBACK_BASE_URL, CALLBACK_SECRET_ARN, EXTERNAL_ID, ADMIN_PRINCIPALS.
 *
 * Note: AWS is reachable only with CAPSTAN_ENABLE_AWS=1 (the construct sets it on every function). Without it this
 * module refuses to build AWS clients, so local mode and tests can never call AWS by accident.
 *
 * Note: the EC2 provider (providers/aws-ec2/: the EC2, ELB, STS and Kubernetes clients, most of a bundle) is imported
 * only behind the build-time constant `CAPSTAN_PROVIDERS_BUNDLED`, which esbuild defines per function from the
 * catalog's `callsProvider` (infra/constructs/capstan-function.ts). Where it is `false`, esbuild drops the branch and
 * its `import()`, so that function's bundle holds no provider code (issue 16, cold starts); its registry still knows
 * `aws` (the API marks a cluster's provider available as before) but every use of it throws ProviderDisabledError.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { ProviderName } from '../domain/cluster.js';
import { ProviderDisabledError, UnauthorizedError } from '../domain/errors.js';
import { systemClock, type Clock, type Principal, type Store } from '../domain/ports.js';
import type { MachineProvider } from '../domain/provider.js';
import { staticRegistry, type ProviderRegistry } from '../../providers/registry.js';
import { DEFAULT_SETTINGS, type Authenticator, type Deps } from './deps-contract.js';
import { createLogger } from './logger.js';
import { SfnWorkflow } from './sfn-workflow.js';
import { DynamoDbStore } from './store/dynamodb-store.js';

/**
 * Build-time constant (esbuild `define`, PROVIDERS_BUNDLED_DEFINE of infra/constructs/capstan-function.ts): whether
 * this bundle holds the providers. Undefined when the module runs unbundled (tsx, jest): then they are there.
 */
declare const CAPSTAN_PROVIDERS_BUNDLED: boolean | undefined;

/** Why `local` is refused on Lambda. */
const LOCAL_ONLY = "provider 'local' runs only in local mode (npm start)";

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

/**
 * The IAM principal of a SigV4-signed request, normalized so an assumed-role session maps to its role
 * (`arn:aws:sts::1:assumed-role/R/s` → `arn:aws:iam::1:role/R`).
 */
export function principalArn(event: Pick<APIGatewayProxyEvent, 'requestContext'>): string | undefined {
  const arn = event.requestContext?.identity?.userArn ?? undefined;
  if (!arn) return undefined;
  const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return assumed ? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : arn;
}

/** IAM authentication: API Gateway verified the signature; grants come from the store (admins from the env). */
export function iamAuthenticator(store: Store, admins: readonly string[]): Authenticator {
  return async (event) => {
    const id = principalArn(event);
    if (!id) throw new UnauthorizedError('authorization: the request is not signed with SigV4');
    if (admins.includes(id)) return { id, accounts: ['*'], admin: true };
    const granted: Principal | undefined = await store.getPrincipal(id);
    return granted ?? { id, accounts: [], admin: false };
  };
}

/**
 * What a function whose bundle leaves the providers out gets for `name`: its identity, and ProviderDisabledError
 * saying why on any other use (a method, `callsBack`).
 */
export function providerOutsideBundle(name: ProviderName): MachineProvider {
  const why = `provider '${name}' is not in this function's bundle: the function catalog (infra/catalog/functions.ts) says it does not call a provider (callsProvider: false), so its bundle holds no provider code; set callsProvider: true for a function that calls one`;
  return new Proxy({ name } as MachineProvider, {
    get(_target, key) {
      if (key === 'name') return name;
      // Not a provider member: asked by `await`, JSON.stringify and inspection.
      if (typeof key === 'symbol' || key === 'then' || key === 'toJSON') return undefined;
      throw new ProviderDisabledError(why);
    },
  });
}

/**
 * The providers of a Lambda function: `aws` (the EC2 provider acting in member accounts) when the bundle holds it,
 * else {@link providerOutsideBundle}; `local` refused.
 *
 * Note: the condition tests the constant itself, not a variable holding it, so that esbuild sees a constant and drops
 * the branch, `import()` included, where it is `false`.
 */
async function lambdaProviders(env: NodeJS.ProcessEnv, clock: Clock): Promise<ProviderRegistry> {
  if (typeof CAPSTAN_PROVIDERS_BUNDLED === 'undefined' || CAPSTAN_PROVIDERS_BUNDLED) {
    // One after the other: jest's module linker fails on concurrent dynamic imports that share modules.
    const { MemberCredentials } = await import('../../providers/aws-ec2/credentials.js');
    const { Ec2Provider } = await import('../../providers/aws-ec2/ec2-provider.js');
    const credentials = new MemberCredentials({ externalId: env.EXTERNAL_ID ?? 'capstan', clock });
    return staticRegistry({ aws: new Ec2Provider({ credentials }) }, { local: LOCAL_ONLY });
  }
  return staticRegistry({ aws: providerOutsideBundle('aws') }, { local: LOCAL_ONLY });
}

/** Builds the AWS adapters from the environment. */
export async function buildAwsDeps(env: NodeJS.ProcessEnv): Promise<Deps> {
  if (env.CAPSTAN_ENABLE_AWS !== '1') {
    throw new ProviderDisabledError('AWS is disabled: set CAPSTAN_ENABLE_AWS=1 to build AWS clients (the CDK construct sets it on every function)');
  }
  const log = createLogger({ level: (env.CAPSTAN_LOG_LEVEL as 'info' | undefined) ?? 'info', base: { service: env.POWERTOOLS_SERVICE_NAME ?? 'capstan' } });
  const clock = systemClock;
  const store = new DynamoDbStore({ client: new DynamoDBClient({}), tableName: required(env, 'TABLE_NAME') });
  const workflow = new SfnWorkflow({ client: new SFNClient({}), stateMachineArn: env.STATE_MACHINE_ARN ?? 'arn:aws:states:::unset', store, clock });
  const providers = await lambdaProviders(env, clock);
  const secrets = new SecretsManagerClient({});
  let secret: Promise<Uint8Array> | undefined;
  return {
    store,
    workflow,
    providers,
    clock,
    log,
    authenticate: iamAuthenticator(store, (env.ADMIN_PRINCIPALS ?? '').split(',').map((s) => s.trim()).filter(Boolean)),
    callbackSecret: () =>
      (secret ??= secrets.send(new GetSecretValueCommand({ SecretId: required(env, 'CALLBACK_SECRET_ARN') })).then((r) => {
        if (!r.SecretString) throw new Error('callback secret is empty');
        return Buffer.from(r.SecretString, 'utf8');
      })),
    callbackBaseUrl: env.CALLBACK_BASE_URL ?? '',
    settings: DEFAULT_SETTINGS,
  };
}
