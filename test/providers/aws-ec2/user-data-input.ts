/** The user-data input of one machine of the test cluster `demo` (v1.31.4), as the bootstrap and kubeadm suites use it. */
import type { BootstrapKind, UserDataInput } from '../../../providers/aws-ec2/bootstrap.js';

export const SECRETS = { join: 'arn:aws:secretsmanager:eu-west-1:1:secret:join', controlPlane: 'arn:cp' } as const;
export const CALLBACK_TOKEN = 'cb-token-7f3a';

export function userDataInput(kind: BootstrapKind, machineName: string, overrides: Partial<UserDataInput> = {}): UserDataInput {
  return {
    kind,
    clusterName: 'demo',
    machineName,
    version: 'v1.31.4',
    controlPlaneEndpoint: 'demo-api-123.elb.eu-west-1.amazonaws.com:6443',
    podCidr: '192.168.0.0/16',
    serviceCidr: '10.96.0.0/12',
    region: 'eu-west-1',
    secrets: SECRETS,
    callbackUrl: 'https://capstan.example/callback/demo-cp-0',
    callbackToken: CALLBACK_TOKEN,
    ...overrides,
  };
}
