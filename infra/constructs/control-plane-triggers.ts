/**
 * What starts the reconcile functions of {@link CapstanControlPlane} besides the API and the workflow: the sweep's
 * schedule, and the `capstan-events` bus with the rule that hands EC2 instance state changes of member accounts to
 * the instance event function. Its own file because it holds the only cross-account entry point besides the API
 * (the bus policy), which reviewers read on its own.
 *
 * Note: every construct is created in the control plane's scope with the IDs it always had (`SweepSchedule`,
 * `EventBus`, `InstanceStateChangeRule`): construct IDs are API, renaming one replaces a resource.
 */
import { Duration } from 'aws-cdk-lib';
import { EventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { AccountPrincipal, AnyPrincipal, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { EVENT_BUS_NAME } from '../catalog/index.js';

/** The functions to trigger and who may send events (see {@link createReconcileTriggers}). */
export interface ReconcileTriggerProps {
  /** How often the sweep runs; also how old a schedule event may get before it is dropped to the dead-letter queue. */
  readonly reconcilePeriod: Duration;
  /** The sweep (the catalog's `SWEEP_FUNCTION`). */
  readonly sweep: IFunction;
  /** Receives schedule events the sweep failed to take. */
  readonly sweepDeadLetterQueue: IQueue;
  /** The instance event function (the catalog's `INSTANCE_EVENT_FUNCTION`). */
  readonly instanceEvent: IFunction;
  /** Receives instance events the function failed to take. */
  readonly instanceEventDeadLetterQueue: IQueue;
  /**
   * The organisation whose accounts may put events on the bus.
   * @default - none: only `externalMembers` may
   */
  readonly organizationId?: string;
  /** Member accounts other than the control plane's own that may put events on the bus. */
  readonly externalMembers: readonly string[];
}

/** Creates the sweep's schedule, the event bus with its resource policy, and the instance state change rule; returns the bus. */
export function createReconcileTriggers(scope: Construct, props: ReconcileTriggerProps): EventBus {
  const { reconcilePeriod } = props;
  new Rule(scope, 'SweepSchedule', {
    description: 'Capstan: periodic reconcile sweep',
    schedule: Schedule.rate(reconcilePeriod),
    targets: [new LambdaFunction(props.sweep, { deadLetterQueue: props.sweepDeadLetterQueue, retryAttempts: 2, maxEventAge: reconcilePeriod })],
  });

  const eventBus = new EventBus(scope, 'EventBus', { eventBusName: EVENT_BUS_NAME });
  if (props.organizationId) {
    eventBus.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OrganizationPutEvents',
        principals: [new AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [eventBus.eventBusArn],
        conditions: { StringEquals: { 'aws:PrincipalOrgID': props.organizationId } },
      }),
    );
  }
  if (props.externalMembers.length > 0) {
    eventBus.addToResourcePolicy(
      new PolicyStatement({
        sid: 'MemberAccountsPutEvents',
        principals: props.externalMembers.map((a) => new AccountPrincipal(a)),
        actions: ['events:PutEvents'],
        resources: [eventBus.eventBusArn],
      }),
    );
  }
  new Rule(scope, 'InstanceStateChangeRule', {
    description: 'Capstan: EC2 instance state changes forwarded by member accounts',
    eventBus,
    eventPattern: { source: ['aws.ec2'], detailType: ['EC2 Instance State-change Notification'] },
    targets: [
      new LambdaFunction(props.instanceEvent, { deadLetterQueue: props.instanceEventDeadLetterQueue, retryAttempts: 8, maxEventAge: Duration.hours(2) }),
    ],
  });
  return eventBus;
}
