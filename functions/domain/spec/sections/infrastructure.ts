/**
 * The `spec.infrastructure` section: where the cluster runs (`local`, or an AWS account and region), and its rule
 * between fields: the role to assume lives in the cluster's account.
 *
 * Its own file: one section of the document, its schema beside its cross-field rule.
 */
import { z } from 'zod';
import type { Issue } from '../../errors.js';
import { CLUSTER_LIMITS } from '../cluster-defaults.js';
import { describeValue } from '../documents.js';
import { patternString, uniqueArray } from '../fields.js';
import type { Raw } from './raw.js';

const ACCOUNT = /^\d{12}$/;
const ROLE_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;

const awsInfrastructureSchema = z.strictObject({
  provider: z.literal('aws'),
  account: patternString(ACCOUNT, 'a 12-digit AWS account id', 32),
  region: patternString(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, 'an AWS region like us-east-1', 32),
  roleArn: patternString(ROLE_ARN, 'an IAM role ARN like arn:aws:iam::123456789012:role/CapstanMemberRole', 600).optional(),
  sshKeyName: patternString(/^[\x20-\x7e]{1,255}$/, 'an EC2 key pair name (printable ASCII)', 255).optional(),
  vpcId: patternString(/^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$/, 'a VPC id like vpc-0123456789abcdef0', 32).optional(),
  subnetIds: uniqueArray(patternString(/^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$/, 'a subnet id like subnet-0123456789abcdef0', 32), CLUSTER_LIMITS.subnets).optional(),
  tags: z
    .record(
      patternString(/^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u, 'an EC2 tag key (1-128 characters, not starting with "aws:")', 128),
      z.string().max(256),
    )
    .check((ctx) => {
      const count = Object.keys(ctx.value).length;
      if (count > 40) ctx.issues.push({ code: 'custom', input: ctx.value, message: `must have at most 40 entries, got ${count}` });
    })
    .optional(),
});

/** `spec.infrastructure`: `{ provider: local }` or an AWS account, region and optional networking. */
export const infrastructureSchema = z.discriminatedUnion('provider', [z.strictObject({ provider: z.literal('local') }), awsInfrastructureSchema]);

/** Rules between fields of `spec.infrastructure` (raw): the role to assume must live in the cluster's account. */
export function infrastructureIssues(infrastructure: Raw | undefined): Issue[] {
  const issues: Issue[] = [];
  if (infrastructure?.provider === 'aws' && typeof infrastructure.roleArn === 'string' && typeof infrastructure.account === 'string') {
    const arnAccount = ROLE_ARN.exec(infrastructure.roleArn)?.[1];
    if (arnAccount !== undefined && ACCOUNT.test(infrastructure.account) && arnAccount !== infrastructure.account) {
      issues.push({
        path: 'spec.infrastructure.roleArn',
        message: `must be a role in account ${infrastructure.account}, got ${describeValue(infrastructure.roleArn)} (account ${arnAccount})`,
      });
    }
  }
  return issues;
}
