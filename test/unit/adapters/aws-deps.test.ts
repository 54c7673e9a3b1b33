import type { APIGatewayProxyEvent } from 'aws-lambda';
import { buildAwsDeps, iamAuthenticator, principalArn } from '../../../functions/adapters/aws-deps.js';
import { ProviderDisabledError, UnauthorizedError } from '../../../functions/domain/errors.js';
import type { Principal, Store } from '../../../functions/domain/ports.js';

function event(userArn: string | undefined): APIGatewayProxyEvent {
  return { requestContext: { identity: { userArn } } } as unknown as APIGatewayProxyEvent;
}

describe('principalArn', () => {
  it.each([
    ['arn:aws:sts::123456789012:assumed-role/PlatformTeam/alice', 'arn:aws:iam::123456789012:role/PlatformTeam'],
    ['arn:aws-us-gov:sts::123456789012:assumed-role/Ops/bob', 'arn:aws-us-gov:iam::123456789012:role/Ops'],
    ['arn:aws:iam::123456789012:user/carol', 'arn:aws:iam::123456789012:user/carol'],
  ])('maps %s to %s', (given, expected) => {
    expect(principalArn(event(given))).toBe(expected);
  });

  it('is undefined for an unsigned request', () => {
    expect(principalArn(event(undefined))).toBeUndefined();
  });
});

describe('iamAuthenticator', () => {
  const granted: Principal = { id: 'arn:aws:iam::123456789012:role/TeamA', accounts: ['111111111111'], admin: false };
  const store = { getPrincipal: async (id: string) => (id === granted.id ? granted : undefined) } as unknown as Store;
  const authenticate = iamAuthenticator(store, ['arn:aws:iam::123456789012:role/CapstanAdmin']);

  it('makes configured administrators admins of every account', async () => {
    await expect(authenticate(event('arn:aws:sts::123456789012:assumed-role/CapstanAdmin/s'))).resolves.toEqual({ id: 'arn:aws:iam::123456789012:role/CapstanAdmin', accounts: ['*'], admin: true });
  });

  it('takes grants from the store', async () => {
    await expect(authenticate(event('arn:aws:sts::123456789012:assumed-role/TeamA/s'))).resolves.toEqual(granted);
  });

  it('gives an unknown principal no account at all', async () => {
    await expect(authenticate(event('arn:aws:iam::123456789012:user/stranger'))).resolves.toEqual({ id: 'arn:aws:iam::123456789012:user/stranger', accounts: [], admin: false });
  });

  it('fails when the request is not signed', async () => {
    await expect(authenticate(event(undefined))).rejects.toBeInstanceOf(UnauthorizedError);
  });
});

describe('buildAwsDeps', () => {
  it('fails when AWS is not explicitly enabled, before any client is built', async () => {
    await expect(buildAwsDeps({ TABLE_NAME: 't' })).rejects.toBeInstanceOf(ProviderDisabledError);
  });

  it('builds the AWS adapters when enabled, with the local provider refused', async () => {
    const deps = await buildAwsDeps({ CAPSTAN_ENABLE_AWS: '1', TABLE_NAME: 'capstan', STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:rollout', CALLBACK_BASE_URL: 'https://example.invalid/prod' });
    expect(deps.providers.get('aws').name).toBe('aws');
    expect(() => deps.providers.get('local')).toThrow(ProviderDisabledError);
    expect(deps.callbackBaseUrl).toBe('https://example.invalid/prod');
  });
});
