/**
 * Stuck rollouts (Deployment `progressDeadlineSeconds` semantics): a rollout that makes no progress for the deadline
 * reports `RolloutProgressing=False` with reason `ProgressDeadlineExceeded`.
 *
 * Progress is a machine lifecycle step: a machine created, Ready, draining, deleted or failed (the timestamps on the
 * records). The clock starts at the later of the last progress and the time the rollout started progressing (the
 * `RolloutProgressing=True` transition). Once reported, the condition stays until a machine makes a step again.
 *
 * Note: only a rollout the planner considers progressing (`True`) can exceed the deadline; a rollout the planner
 * already blocked (`False` with TooManyUnhealthy, MachineBootstrapFailed, QuorumAtRisk…) keeps its more precise
 * reason. Pure: the clock is passed in. The sweep and the plan phase use the same function, so they agree.
 */
import type { ClusterMetadata, ClusterSpec, ClusterStatus } from '../cluster.js';
import { formatDuration } from '../duration.js';
import type { Machine, NewEvent } from '../machine.js';

export const PROGRESS_DEADLINE_REASON = 'ProgressDeadlineExceeded' as const;
const PROGRESSING = 'RolloutProgressing';

/** A stuck rollout: the condition to report, and since when nothing moved. */
export interface ProgressDeadline {
  readonly condition: { readonly status: 'False'; readonly reason: typeof PROGRESS_DEADLINE_REASON; readonly message: string };
  /** The last progress (RFC 3339): part of the event id, so one stall is one event. */
  readonly since: string;
  /** False when the cluster already reports it (no new event). */
  readonly newly: boolean;
}

/** The parts of a cluster the deadline looks at (a whole `Cluster` fits; the sweep keeps only these). */
export interface ProgressSubject {
  readonly spec: Pick<ClusterSpec, 'paused'>;
  readonly metadata: Pick<ClusterMetadata, 'name' | 'uid' | 'generation' | 'deletionTimestamp'>;
  readonly status: Pick<ClusterStatus, 'conditions'>;
}

/** The latest lifecycle timestamp of any machine record (Deleted included), or undefined. */
export function lastProgress(machines: readonly Machine[]): string | undefined {
  let last: string | undefined;
  for (const m of machines) {
    for (const t of [m.createdAt, m.readyAt, m.drainStartedAt, m.deletedAt, m.failedAt]) {
      if (t !== undefined && (last === undefined || Date.parse(t) > Date.parse(last))) last = t;
    }
  }
  return last;
}

/** Whether the cluster's rollout exceeded its progress deadline at `now`, and the condition to report if so. */
export function progressDeadline(input: { readonly cluster: ProgressSubject; readonly machines: readonly Machine[]; readonly now: Date; readonly deadlineSeconds: number }): ProgressDeadline | undefined {
  const { cluster, machines, now, deadlineSeconds } = input;
  if (cluster.spec.paused || cluster.metadata.deletionTimestamp) return undefined;
  const cond = cluster.status?.conditions?.find((c) => c.type === PROGRESSING);
  if (!cond) return undefined;
  const progress = lastProgress(machines);
  if (cond.status === 'False' && cond.reason === PROGRESS_DEADLINE_REASON) {
    if (progress !== undefined && Date.parse(progress) > Date.parse(cond.lastTransitionTime)) return undefined;
    const since = progress !== undefined && Date.parse(progress) < Date.parse(cond.lastTransitionTime) ? progress : cond.lastTransitionTime;
    return { condition: { status: 'False', reason: PROGRESS_DEADLINE_REASON, message: cond.message ?? 'the rollout made no progress' }, since, newly: false };
  }
  if (cond.status !== 'True') return undefined;
  const startMs = Math.max(Date.parse(cond.lastTransitionTime), progress !== undefined ? Date.parse(progress) : 0);
  const idleSeconds = Math.floor((now.getTime() - startMs) / 1000);
  if (idleSeconds <= deadlineSeconds) return undefined;
  const since = new Date(startMs).toISOString();
  return {
    condition: {
      status: 'False',
      reason: PROGRESS_DEADLINE_REASON,
      message: `no machine made progress for ${formatDuration(idleSeconds)} (since ${since}; progressDeadlineSeconds ${deadlineSeconds})`,
    },
    since,
    newly: true,
  };
}

/** The event of a stall: deterministic id per cluster incarnation, generation and stall start. */
export function progressDeadlineEvent(cluster: ProgressSubject, stuck: ProgressDeadline, now: Date): NewEvent {
  const { uid, generation } = cluster.metadata;
  return {
    id: `RolloutBlocked/${uid}/${generation}/${PROGRESS_DEADLINE_REASON}/${stuck.since}`,
    type: 'RolloutBlocked',
    time: now.toISOString(),
    message: `rollout of generation ${generation} is stuck: ${stuck.condition.message}`,
    data: { generation, reason: PROGRESS_DEADLINE_REASON, since: stuck.since },
  };
}
