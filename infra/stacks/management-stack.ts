/**
 * The management-account stack: one {@link CapstanControlPlane} plus the outputs an operator needs (API URL, table,
 * state machine, event bus, external ID).
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { CapstanControlPlane } from '../constructs/capstan-control-plane.js';
import type { DeploymentConfig } from './config.js';

/** Properties of {@link ManagementStack}. */
export interface ManagementStackProps extends StackProps {
  /** The deployment settings (see config.ts). */
  readonly config: DeploymentConfig;
}

/** The Capstan control plane of the management account. */
export class ManagementStack extends Stack {
  /** The control plane construct. */
  public readonly controlPlane: CapstanControlPlane;

  constructor(scope: Construct, id: string, props: ManagementStackProps) {
    super(scope, id, {
      description: 'Capstan control plane: API, table, rollout workflow, reconcile schedule',
      ...props,
    });
    const { config } = props;
    this.controlPlane = new CapstanControlPlane(this, 'ControlPlane', {
      organizationId: config.organizationId,
      memberAccounts: config.memberAccounts.length > 0 ? config.memberAccounts : undefined,
      allowedAccounts: config.allowedAccounts.length > 0 ? config.allowedAccounts : undefined,
      adminPrincipals: config.adminPrincipals,
      memberRoleName: config.memberRoleName,
      externalId: config.externalId,
      reconcilePeriod: config.reconcilePeriod,
      logRetention: config.logRetention,
      alarmTopic: config.alarmTopicArn ? Topic.fromTopicArn(this, 'AlarmTopic', config.alarmTopicArn) : undefined,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.controlPlane.apiUrl, description: 'Base URL of the Capstan API (SigV4, service execute-api)' });
    new CfnOutput(this, 'TableName', { value: this.controlPlane.table.tableName });
    new CfnOutput(this, 'StateMachineArn', { value: this.controlPlane.stateMachine.stateMachineArn });
    new CfnOutput(this, 'EventBusArn', { value: this.controlPlane.eventBus.eventBusArn, description: 'Member stacks forward EC2 instance events here' });
    new CfnOutput(this, 'ExternalId', { value: this.controlPlane.externalId, description: 'Pass as the ExternalId parameter of member stacks' });
  }
}
