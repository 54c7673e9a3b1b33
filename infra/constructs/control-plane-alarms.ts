/**
 * The operational safety nets of {@link CapstanControlPlane}: the dead-letter queues of its asynchronous paths and
 * the alarms on rollouts, queues and functions. Its own file because it is what an operator reads to learn what pages
 * them, apart from how the control plane works.
 *
 * Note: every construct is created in the control plane's scope with the IDs it always had (`<Queue>`,
 * `<Queue>Alarm`, `<Function>ErrorsAlarm`, `Rollouts…Alarm`): construct IDs are API, renaming one replaces a resource.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { CapstanFunction } from './capstan-function.js';

/** The custom metric a phase emits when a rollout exceeds its progress deadline. */
export const ROLLOUT_DEADLINE_METRIC = { namespace: 'Capstan', metricName: 'RolloutProgressDeadlineExceeded' } as const;

/** Creates an encrypted, TLS-only dead-letter queue keeping messages 14 days; its depth gets an alarm. */
export function createDeadLetterQueue(scope: Construct, id: string): Queue {
  const queue = new Queue(scope, id, {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is itself a dead-letter queue (of an event rule target and an async Lambda invoke); its depth has an alarm.',
  });
  return queue;
}

/** What {@link createControlPlaneAlarms} watches, and whom it tells. */
export interface ControlPlaneAlarmTargets {
  /**
   * Topic notified when an alarm fires or recovers.
   * @default - alarms have no actions
   */
  readonly alarmTopic?: ITopic;
  /**
   * Lambda errors per function in five minutes that raise its alarm.
   * @default 5
   */
  readonly lambdaErrorsThreshold?: number;
  readonly stateMachine: StateMachine;
  readonly deadLetterQueues: readonly Queue[];
  readonly functions: readonly CapstanFunction[];
}

/**
 * Creates the alarms in `scope`: failed and timed-out rollouts, rollouts past their progress deadline, messages in a
 * dead-letter queue, and repeated errors of each function.
 */
export function createControlPlaneAlarms(scope: Construct, targets: ControlPlaneAlarmTargets): Alarm[] {
  const period = Duration.minutes(5);
  const action: IAlarmAction | undefined = targets.alarmTopic ? new SnsAction(targets.alarmTopic) : undefined;
  const alarms: Alarm[] = [];
  const alarm = (id: string, description: string, metric: Metric, threshold: number, operator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD): void => {
    const a = new Alarm(scope, id, {
      alarmDescription: description,
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: operator,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (action) {
      a.addAlarmAction(action);
      a.addOkAction(action);
    }
    alarms.push(a);
  };

  const { stateMachine } = targets;
  alarm('RolloutsFailedAlarm', 'Capstan: a rollout execution failed', stateMachine.metricFailed({ period, statistic: 'Sum' }), 1);
  alarm('RolloutsTimedOutAlarm', 'Capstan: a rollout execution timed out', stateMachine.metricTimedOut({ period, statistic: 'Sum' }), 1);
  alarm(
    'RolloutProgressDeadlineAlarm',
    'Capstan: a rollout is stuck (exceeded its progress deadline)',
    new Metric({ ...ROLLOUT_DEADLINE_METRIC, period, statistic: 'Sum' }),
    1,
  );
  for (const queue of targets.deadLetterQueues) {
    alarm(
      `${queue.node.id}Alarm`,
      `Capstan: messages in ${queue.node.id} (an event or schedule was not handled)`,
      queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      0,
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
  }
  for (const fn of targets.functions) {
    alarm(`${fn.node.id}ErrorsAlarm`, `Capstan: ${fn.node.id} keeps failing`, fn.metricErrors({ period, statistic: 'Sum' }), targets.lambdaErrorsThreshold ?? 5);
  }
  return alarms;
}
