/**
 * CloudWatch Embedded Metric Format lines: a JSON log line that CloudWatch Logs turns into a metric, with no
 * PutMetricData call (and no permission for one). The control-plane stack alarms on namespace `Capstan`, metric
 * `RolloutProgressDeadlineExceeded` (infra/constructs/capstan-control-plane.ts, ROLLOUT_DEADLINE_METRIC).
 */

/** Where metric lines go: stdout on Lambda (CloudWatch Logs extracts them), a collector in tests. */
export type MetricSink = (line: string) => void;

/** Writes one EMF line per call to stdout. */
export const stdoutMetricSink: MetricSink = (line) => {
  process.stdout.write(`${line}\n`);
};

/** The EMF line of one stuck rollout: metric `Capstan/RolloutProgressDeadlineExceeded` = 1, no dimensions. */
export function rolloutDeadlineMetric(cluster: string, since: string, now: Date): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now.getTime(),
      CloudWatchMetrics: [{ Namespace: 'Capstan', Dimensions: [[]], Metrics: [{ Name: 'RolloutProgressDeadlineExceeded', Unit: 'Count' }] }],
    },
    RolloutProgressDeadlineExceeded: 1,
    cluster,
    since,
  });
}
