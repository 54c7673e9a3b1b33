/**
 * The dependencies of a Lambda function on AWS, from its environment (set by the CDK construct):
 * TABLE_NAME, STATE_MACHINE_ARN, CALLBACK_BASE_URL, CALLBACK_SECRET_ARN, EXTERNAL_ID, ADMIN_PRINCIPALS.
 *
 * Note: AWS is reachable only with CAPSTAN_ENABLE_AWS=1 (the construct sets it on every function). Without it this
 * module refuses to build AWS clients, so local mode and tests can never call AWS by accident.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ProviderDisabledError, UnauthorizedError } from '../domain/errors.js';
import { systemClock, type Principal, type Store } from '../domain/ports.js';
import { Ec2Provider } from '../../providers/aws-ec2/ec2-provider.js';
import { MemberCredentials } from '../../providers/aws-ec2/credentials.js';
import { staticRegistry } from '../../providers/registry.js';
import { DEFAULT_SETTINGS, type Authenticator, type Deps } from './deps-contract.js';
import { createLogger } from './logger.js';
import { SfnWorkflow } from './sfn-workflow.js';
import { DynamoDbStore } from './store/dynamodb-store.js';

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

/** Builds the AWS adapters from the environment. */
export async function buildAwsDeps(env: NodeJS.ProcessEnv): Promise<Deps> {
  if (env.CAPSTAN_ENABLE_AWS !== '1') {
    throw new ProviderDisabledError('AWS is disabled: set CAPSTAN_ENABLE_AWS=1 to build AWS clients (the CDK construct sets it on every function)');
  }
  const log = createLogger({ level: (env.CAPSTAN_LOG_LEVEL as 'info' | undefined) ?? 'info', base: { service: env.POWERTOOLS_SERVICE_NAME ?? 'capstan' } });
  const clock = systemClock;
  const store = new DynamoDbStore({ client: new DynamoDBClient({}), tableName: required(env, 'TABLE_NAME') });
  const workflow = new SfnWorkflow({ client: new SFNClient({}), stateMachineArn: env.STATE_MACHINE_ARN ?? 'arn:aws:states:::unset', store, clock });
  const credentials = new MemberCredentials({ externalId: env.EXTERNAL_ID ?? 'capstan', clock });
  const aws = new Ec2Provider({ credentials });
  const secrets = new SecretsManagerClient({});
  let secret: Promise<Uint8Array> | undefined;
  return {
    store,
    workflow,
    providers: staticRegistry({ aws }, { local: "provider 'local' runs only in local mode (npm start)" }),
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
