import { clusterScope, type ClusterSpec } from '../../../functions/domain/cluster.js';

const aws = (roleArn?: string): Pick<ClusterSpec, 'infrastructure'> => ({
  infrastructure: { provider: 'aws', account: '123456789012', region: 'eu-west-1', ...(roleArn ? { roleArn } : {}) },
});

describe('clusterScope', () => {
  it.each([
    ['a local cluster', { infrastructure: { provider: 'local' } } as const, { provider: 'local', account: 'local', region: 'local' }],
    ['an aws cluster with the default role', aws(), { provider: 'aws', account: '123456789012', region: 'eu-west-1' }],
    ['an aws cluster with its own role', aws('arn:aws:iam::123456789012:role/Other'), { provider: 'aws', account: '123456789012', region: 'eu-west-1', roleArn: 'arn:aws:iam::123456789012:role/Other' }],
  ])('is the provider, account, region (and role) of %s', (_name, spec, expected) => {
    expect(clusterScope(spec)).toEqual(expected);
  });
});
