/**
 * The documents of the AWS-managed policies the Capstan templates attach, as AWS publishes them: a template names them
 * by ARN only, so the evaluator needs their text from here.
 *
 * Note: copied from the AWS Managed Policy Reference (the page named with each document, default version at the time
 * noted). When AWS publishes a new version, update the document and the version here.
 */

/** One AWS-managed policy: its ARN suffix after `arn:aws:iam::aws:policy/`, the page it is copied from, its text. */
export interface ManagedPolicyFixture {
  readonly name: string;
  readonly source: string;
  readonly version: string;
  readonly document: { Version: string; Statement: Record<string, unknown>[] };
}

export const AWS_MANAGED_POLICIES: readonly ManagedPolicyFixture[] = [
  {
    name: 'AmazonSSMManagedInstanceCore',
    source: 'https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSSMManagedInstanceCore.html',
    version: 'v2 (edited 2019-05-23)',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'ssm:DescribeAssociation',
            'ssm:GetDeployablePatchSnapshotForInstance',
            'ssm:GetDocument',
            'ssm:DescribeDocument',
            'ssm:GetManifest',
            'ssm:GetParameter',
            'ssm:GetParameters',
            'ssm:ListAssociations',
            'ssm:ListInstanceAssociations',
            'ssm:PutInventory',
            'ssm:PutComplianceItems',
            'ssm:PutConfigurePackageResult',
            'ssm:UpdateAssociationStatus',
            'ssm:UpdateInstanceAssociationStatus',
            'ssm:UpdateInstanceInformation',
          ],
          Resource: '*',
        },
        {
          Effect: 'Allow',
          Action: ['ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel'],
          Resource: '*',
        },
        {
          Effect: 'Allow',
          Action: [
            'ec2messages:AcknowledgeMessage',
            'ec2messages:DeleteMessage',
            'ec2messages:FailMessage',
            'ec2messages:GetEndpoint',
            'ec2messages:GetMessages',
            'ec2messages:SendReply',
          ],
          Resource: '*',
        },
      ],
    },
  },
  {
    name: 'service-role/AmazonAPIGatewayPushToCloudWatchLogs',
    source: 'https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonAPIGatewayPushToCloudWatchLogs.html',
    version: 'v1',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'logs:CreateLogGroup',
            'logs:CreateLogStream',
            'logs:DescribeLogGroups',
            'logs:DescribeLogStreams',
            'logs:PutLogEvents',
            'logs:GetLogEvents',
            'logs:FilterLogEvents',
          ],
          Resource: '*',
        },
      ],
    },
  },
];
