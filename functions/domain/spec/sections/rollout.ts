/**
 * How machines are replaced: the control plane's and a worker pool's `rollout`, the `spec.drain` of a machine that
 * goes, and the rule between fields of a rolling update: maxSurge and maxUnavailable must not both be 0.
 *
 * Its own file: one concern of the document (it appears in the control plane, every worker pool and `spec.drain`),
 * its schemas beside its cross-field rule.
 */
import { z } from 'zod';
import { DELETION_ORDERS, DRAIN_POLICIES, type IntOrPercent, ROLLOUT_STRATEGIES } from '../../cluster.js';
import type { Issue } from '../../errors.js';
import { scaledValue } from '../../intstr.js';
import { CLUSTER_DEFAULTS } from '../cluster-defaults.js';
import { describeValue } from '../documents.js';
import { durationField, intOrPercentField, timestampField } from '../fields.js';
import { asObject, validOr } from './raw.js';

/** `spec.controlPlane.rollout`: the control plane replaces one machine at a time, surging by 0 or 1. */
export const controlPlaneRolloutSchema = z
  .strictObject({
    maxSurge: z.literal([0, 1]).default(CLUSTER_DEFAULTS.controlPlaneMaxSurge),
    after: timestampField.optional(),
  })
  .prefault({});

/** `spec.workers[i].rollout`: a MachineDeployment's strategy, surge and unavailability, and its deletion order. */
export const workerRolloutSchema = z
  .strictObject({
    strategy: z.enum(ROLLOUT_STRATEGIES).default(CLUSTER_DEFAULTS.workerStrategy),
    maxSurge: intOrPercentField().default(CLUSTER_DEFAULTS.workerMaxSurge),
    maxUnavailable: intOrPercentField({ maxPercent: 100 }).default(CLUSTER_DEFAULTS.workerMaxUnavailable),
    after: timestampField.optional(),
    deletionOrder: z.enum(DELETION_ORDERS).default(CLUSTER_DEFAULTS.workerDeletionOrder),
  })
  .prefault({});

/** `spec.drain`: how long a machine that goes is drained, and what happens when the drain times out. */
export const drainSchema = z
  .strictObject({
    timeout: durationField.default(CLUSTER_DEFAULTS.drainTimeout),
    policy: z.enum(DRAIN_POLICIES).default(CLUSTER_DEFAULTS.drainPolicy),
  })
  .prefault({});

const surgeField = intOrPercentField();
const unavailableField = intOrPercentField({ maxPercent: 100 });

/**
 * Rules between fields of a worker pool's raw `rollout`: a RollingUpdate with both maxSurge and maxUnavailable 0 (as
 * scaled for `replicas`) could never make progress.
 * @param at where to report, e.g. `spec.workers[0]`
 * @param replicas the pool's valid replicas, or undefined when invalid (the rule is then skipped)
 */
export function rollingUpdateIssues(at: string, value: unknown, replicas: number | undefined): Issue[] {
  const rollout = value === undefined ? {} : asObject(value);
  if (!rollout || replicas === undefined || (rollout.strategy ?? CLUSTER_DEFAULTS.workerStrategy) !== 'RollingUpdate') return [];
  const surge = validOr(surgeField, rollout.maxSurge, CLUSTER_DEFAULTS.workerMaxSurge as IntOrPercent);
  const unavailable = validOr(unavailableField, rollout.maxUnavailable, CLUSTER_DEFAULTS.workerMaxUnavailable as IntOrPercent);
  if (surge === undefined || unavailable === undefined) return [];
  // Note: a pool scaled to 0 is judged as if it had 1 replica, so scaling it up later cannot strand a rollout.
  const total = Math.max(replicas, 1);
  if (scaledValue(surge, total, true) !== 0 || scaledValue(unavailable, total, false) !== 0) return [];
  return [
    {
      path: `${at}.rollout.maxUnavailable`,
      message: `must not be 0 when maxSurge is 0 (a rolling update could never make progress), got maxSurge ${describeValue(surge)} and maxUnavailable ${describeValue(unavailable)} for ${replicas} replicas`,
    },
  ];
}
