/**
 * The fake's request log (the IAM evaluation reads it): every call with its service, action, region, the principal
 * that sent it (management, or the role assumed through STS) and its outcome.
 */
import { makeEc2Harness } from './ec2-harness.js';

describe('fake AWS request log', () => {
  it('records each request with the assumed role as principal and the error code of failed calls', async () => {
    const h = await makeEc2Harness();
    try {
      const byAction = (a: string) => h.fake.requests.filter((r) => r.action === a);
      expect(byAction('AssumeRole')[0]).toMatchObject({ service: 'sts', principal: 'management', region: 'eu-west-1', result: 'ok', input: { RoleArn: 'arn:aws:iam::111122223333:role/CapstanMemberRole' } });
      expect(byAction('CreateVpc')[0]).toMatchObject({ service: 'ec2', principal: 'arn:aws:iam::111122223333:role/CapstanMemberRole', region: 'eu-west-1', result: 'ok' });
      expect(byAction('CreateLoadBalancer')[0]?.service).toBe('elasticloadbalancing');
      expect(byAction('CreateSecret')[0]?.service).toBe('secretsmanager');
      h.fake.inject('rejected');
      await expect(h.provider.listMachines(h.scope, { cluster: h.cluster.name })).rejects.toThrow();
      h.fake.clear();
      expect(h.fake.requests.at(-1)).toMatchObject({ action: 'DescribeInstances', result: 'UnauthorizedOperation' });
    } finally {
      await h.cleanup();
    }
  }, 30_000);
});
