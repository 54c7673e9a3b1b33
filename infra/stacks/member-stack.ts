/**
 * The member-account stack: what Capstan needs in every account it creates clusters in. Deploy it once per account
 * (directly or as a CloudFormation StackSet); it takes its settings as CfnParameters so that one template serves every
 * account.
 *
 * - `CapstanMemberRole`: assumed by the management account's workflow Lambda roles only (trust on the management
 *   account with an `aws:PrincipalArn` path condition and `sts:ExternalId`), allowed to create EC2/ELB resources only
 *   with the `capstan.dev/managed=true` tag and to change or delete only resources that carry it (its policy:
 *   member-role-policy.ts).
 * - `capstan-control-plane` and `capstan-node`: the machines' roles and instance profiles (SSM agent, Capstan-tagged
 *   secrets).
 * - A rule forwarding EC2 instance state changes to the management account's `capstan-events` bus.
 *
 * Note: IAM is global but event rules are regional, and the role names are fixed (the workflow builds the role ARN
 * from the account ID). Deploy one member stack per account, in the region its clusters run in; instance events of
 * other regions are not forwarded yet (the sweep still notices lost machines). See docs/deploy.md.
 */
import { Aws, CfnParameter, DefaultStackSynthesizer, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { EventBus as EventBusTarget } from 'aws-cdk-lib/aws-events-targets';
import { AccountPrincipal, InstanceProfile, ManagedPolicy, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DEFAULT_MEMBER_ROLE_NAME, EVENT_BUS_NAME, MANAGED_TAG, WORKFLOW_ROLE_PATH } from '../catalog/index.js';
import { SECRET_AUDIENCES, SECRET_AUDIENCE_TAG, SECRET_VPC_TAG } from '../../providers/aws-ec2/network.js';
import { INSTANCE_STATE_CHANGE, LOST_STATES } from '../../functions/domain/provider.js';
import { ACCOUNT_SECRETS, memberRoleStatements } from './member-role-policy.js';

export { memberRoleStatements } from './member-role-policy.js';

/**
 * The machines' roles and instance profiles (each profile has the name of its role), by machine role. The names are
 * the EC2 provider's defaults (`DEFAULT_INSTANCE_PROFILES` in providers/aws-ec2/ec2-provider.ts), which passes them
 * to RunInstances.
 */
export const NODE_PROFILES = { controlPlane: 'capstan-control-plane', worker: 'capstan-node' } as const;

/** Properties of {@link MemberStack}; each becomes the default of a CfnParameter. */
export interface MemberStackProps extends StackProps {
  /**
   * The management account (default of the `ManagementAccountId` parameter).
   * @default - no default: the parameter must be given at deploy time
   */
  readonly managementAccount?: string;
  /**
   * The management stack's region (default of the `ManagementRegion` parameter).
   * @default - the region the member stack is deployed in
   */
  readonly managementRegion?: string;
  /**
   * The external ID the management account passes (default of the `ExternalId` parameter).
   * @default 'capstan'
   */
  readonly externalId?: string;
  /**
   * Name of the role Capstan assumes; must match the management stack's `memberRoleName`.
   * @default 'CapstanMemberRole'
   */
  readonly memberRoleName?: string;
}

/** Capstan's footprint in a member account. */
export class MemberStack extends Stack {
  /** The role the management account's workflow assumes. */
  public readonly memberRole: Role;
  /** The machines' roles, by machine role. */
  public readonly nodeRoles: Readonly<Record<keyof typeof NODE_PROFILES, Role>>;

  constructor(scope: Construct, id: string, props: MemberStackProps = {}) {
    super(scope, id, {
      description: 'Capstan member account: the role Capstan assumes, the machines role, EC2 event forwarding',
      // Note: no bootstrap-version check: the template has no assets, and StackSet target accounts are not bootstrapped.
      synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
      ...props,
    });

    const managementAccount = new CfnParameter(this, 'ManagementAccountId', {
      type: 'String',
      description: 'Account ID of the Capstan management stack',
      allowedPattern: '^\\d{12}$',
      constraintDescription: 'a 12-digit account ID',
      ...(props.managementAccount ? { default: props.managementAccount } : {}),
    }).valueAsString;
    const managementRegion = new CfnParameter(this, 'ManagementRegion', {
      type: 'String',
      description: 'Region of the Capstan management stack (its capstan-events bus)',
      allowedPattern: '^[a-z]{2}(-[a-z]+)+-\\d$',
      default: props.managementRegion ?? 'us-east-1',
    }).valueAsString;
    const externalId = new CfnParameter(this, 'ExternalId', {
      type: 'String',
      description: 'sts:ExternalId the management stack passes (its ExternalId output)',
      minLength: 2,
      default: props.externalId ?? 'capstan',
    }).valueAsString;
    const memberRoleName = props.memberRoleName ?? DEFAULT_MEMBER_ROLE_NAME;

    // ---- the machines' roles ------------------------------------------------------------------------------------
    const nodeRole = (id: string, name: string, what: string, audiences: readonly string[]): Role => {
      const role = new Role(this, id, {
        roleName: name,
        description: `Capstan ${what} machines: SSM agent and reading their own cluster's ${audiences.join(' and ')} secrets`,
        assumedBy: new ServicePrincipal('ec2.amazonaws.com'),
        managedPolicies: [ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
        inlinePolicies: {
          ClusterSecrets: new PolicyDocument({
            statements: [
              // Issue 12, defect 6: a machine reads only what its role needs (workers: the join token and CA hash;
              // control planes: also the CAs), and only its own cluster's: the secret's VPC tag must be the VPC its
              // instance credentials were delivered to. aws:ec2InstanceSourceVPC is in the request context of every
              // call signed with EC2 instance-role credentials:
              // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-ec2instancesourcevpc
              new PolicyStatement({
                sid: 'ReadOwnClusterSecrets',
                actions: ['secretsmanager:GetSecretValue'],
                resources: [ACCOUNT_SECRETS.arn],
                conditions: {
                  StringEquals: {
                    [`aws:ResourceTag/${MANAGED_TAG.key}`]: MANAGED_TAG.value,
                    [`aws:ResourceTag/${SECRET_AUDIENCE_TAG}`]: [...audiences],
                    [`aws:ResourceTag/${SECRET_VPC_TAG}`]: '${aws:ec2InstanceSourceVPC}',
                  },
                },
              }),
            ],
          }),
        },
      });
      new InstanceProfile(this, `${id}InstanceProfile`, { instanceProfileName: name, role });
      Validations.of(role).acknowledge(
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
          reason: 'The AWS-maintained minimum for the SSM agent (Session Manager access to machines instead of SSH).',
        },
        {
          id: `AwsSolutions-IAM5[Resource::${ACCOUNT_SECRETS.nag}]`,
          reason: 'Cluster secrets are created at run time with generated names; tag conditions scope the read to the machine\'s own cluster (VPC) and role (audience).',
        },
      );
      return role;
    };
    this.nodeRoles = {
      controlPlane: nodeRole('ControlPlaneNodeRole', NODE_PROFILES.controlPlane, 'control plane', [SECRET_AUDIENCES.join, SECRET_AUDIENCES.controlPlane]),
      worker: nodeRole('WorkerNodeRole', NODE_PROFILES.worker, 'worker', [SECRET_AUDIENCES.join]),
    };

    // ---- the role Capstan assumes --------------------------------------------------------------------------------
    const { statements, wildcards } = memberRoleStatements([this.nodeRoles.controlPlane.roleArn, this.nodeRoles.worker.roleArn]);
    this.memberRole = new Role(this, 'MemberRole', {
      roleName: memberRoleName,
      description: 'Assumed by the Capstan management account workflow to create and delete cluster resources',
      maxSessionDuration: Duration.hours(1),
      assumedBy: new AccountPrincipal(managementAccount).withConditions({
        ArnLike: { 'aws:PrincipalArn': `arn:${Aws.PARTITION}:iam::${managementAccount}:role${WORKFLOW_ROLE_PATH}*` },
        StringEquals: { 'sts:ExternalId': externalId },
      }),
      inlinePolicies: { CapstanProvider: new PolicyDocument({ statements }) },
    });
    Validations.of(this.memberRole).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Only the EC2 and ELB Describe* actions, which support no resource-level permissions.',
      },
      ...wildcards.map((w) => ({
        id: `AwsSolutions-IAM5[Resource::${w.nag}]`,
        reason:
          'Capstan creates these resources at run time with generated IDs in any region; create actions require the capstan.dev/managed request tag and change/delete actions the resource tag (images, subnets, key pairs and network interfaces may be the account owner\'s).',
      })),
    );

    // ---- forward EC2 instance events to the management account ----------------------------------------------------
    const busArn = `arn:${Aws.PARTITION}:events:${managementRegion}:${managementAccount}:event-bus/${EVENT_BUS_NAME}`;
    const forwardRole = new Role(this, 'ForwardEventsRole', {
      description: 'EventBridge forwards EC2 instance events to the Capstan management bus',
      assumedBy: new ServicePrincipal('events.amazonaws.com'),
    });
    const forwardDlq = new Queue(this, 'ForwardEventsDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(forwardDlq).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the event forwarding rule.',
    });
    new Rule(this, 'ForwardInstanceStateChanges', {
      description: 'Capstan: forward EC2 instance state changes to the management account',
      // Only the states Capstan acts on (a lost machine): pending and running changes would be half the volume of a
      // busy account's events for nothing (cross-account delivery and one Lambda call each).
      eventPattern: { source: ['aws.ec2'], detailType: [INSTANCE_STATE_CHANGE], detail: { state: [...LOST_STATES] } },
      targets: [
        new EventBusTarget(EventBus.fromEventBusArn(this, 'ManagementEventBus', busArn), { role: forwardRole, deadLetterQueue: forwardDlq }),
      ],
    });
  }
}
