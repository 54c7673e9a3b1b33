/**
 * The `spec.workers` section: the worker pools (Cluster API MachineDeployments), and their rules between fields:
 * unique names, minReplicas ≤ replicas ≤ maxReplicas, the kubelet version skew, and a rolling update that can
 * progress.
 *
 * Its own file: one section of the document, its schema beside its cross-field rules.
 */
import { z } from 'zod';
import { CONTROL_PLANE_POOL } from '../../cluster.js';
import type { Issue } from '../../errors.js';
import { compareVersions, MAX_KUBELET_SKEW, minorSkew, parseVersion } from '../../semver.js';
import { CLUSTER_DEFAULTS, CLUSTER_LIMITS } from '../cluster-defaults.js';
import { describeValue } from '../documents.js';
import { dnsLabel, intField, labelsField, versionField } from '../fields.js';
import { failureDomainsSchema, machineSchema } from './machine.js';
import { asObject, validOr } from './raw.js';
import { rollingUpdateIssues, workerRolloutSchema } from './rollout.js';

const workerPoolSchema = z.strictObject({
  name: dnsLabel(CLUSTER_LIMITS.poolNameLength).refine((name) => name !== CONTROL_PLANE_POOL, {
    error: `must not be "${CONTROL_PLANE_POOL}", got "${CONTROL_PLANE_POOL}" (reserved for the control plane)`,
  }),
  replicas: intField(0, CLUSTER_LIMITS.poolReplicas).default(CLUSTER_DEFAULTS.workerReplicas),
  minReplicas: intField(0, CLUSTER_LIMITS.poolReplicas).optional(),
  maxReplicas: intField(0, CLUSTER_LIMITS.poolReplicas).optional(),
  version: versionField.optional(),
  machine: machineSchema(CLUSTER_DEFAULTS.workerInstanceType),
  rollout: workerRolloutSchema,
  failureDomains: failureDomainsSchema.optional(),
  labels: labelsField.optional(),
});

/** `spec.workers`: at most CLUSTER_LIMITS.workerPools pools, none by default. */
export const workersSchema = z.array(workerPoolSchema).max(CLUSTER_LIMITS.workerPools).default([]);

const replicasField = intField(0, CLUSTER_LIMITS.poolReplicas);

/**
 * Rules between fields of the raw `spec.workers` (the first CLUSTER_LIMITS.workerPools pools), in pool order: unique
 * names, minReplicas ≤ replicas ≤ maxReplicas, the skew against `spec.version`, and the rolling update.
 * @param version the raw `spec.version` (the control plane's)
 */
export function workersIssues(value: unknown, version: unknown): Issue[] {
  const workers = Array.isArray(value) ? value.slice(0, CLUSTER_LIMITS.workerPools) : [];
  const controlPlaneVersion = validOr(versionField, version);
  const issues: Issue[] = [];
  const names = new Map<string, number>();
  workers.forEach((item, i) => {
    const pool = asObject(item);
    if (!pool) return;
    const at = `spec.workers[${i}]`;
    if (typeof pool.name === 'string') {
      const first = names.get(pool.name);
      if (first === undefined) names.set(pool.name, i);
      else issues.push({ path: `${at}.name`, message: `must be unique, got ${describeValue(pool.name)} again (also spec.workers[${first}].name)` });
    }
    const replicas = validOr(replicasField, pool.replicas, CLUSTER_DEFAULTS.workerReplicas);
    const min = validOr(replicasField, pool.minReplicas);
    const max = validOr(replicasField, pool.maxReplicas);
    if (min !== undefined && max !== undefined && min > max) {
      issues.push({ path: `${at}.maxReplicas`, message: `must be at least minReplicas (${min}), got ${max}` });
    } else if (replicas !== undefined) {
      if (min !== undefined && replicas < min) issues.push({ path: `${at}.replicas`, message: `must be at least minReplicas (${min}), got ${replicas}` });
      if (max !== undefined && replicas > max) issues.push({ path: `${at}.replicas`, message: `must be at most maxReplicas (${max}), got ${replicas}` });
    }
    const poolVersion = validOr(versionField, pool.version);
    if (poolVersion !== undefined && controlPlaneVersion !== undefined) {
      issues.push(...poolSkewIssues(`${at}.version`, poolVersion, controlPlaneVersion));
    }
    issues.push(...rollingUpdateIssues(at, pool.rollout, replicas));
  });
  return issues;
}

/**
 * The kubelet skew rules for one pool: never newer than the control plane, at most MAX_KUBELET_SKEW minors older.
 * @param path where to report, e.g. `spec.workers[0].version`
 */
export function poolSkewIssues(path: string, poolVersion: string, controlPlaneVersion: string): Issue[] {
  if (parseVersion(poolVersion) === undefined || parseVersion(controlPlaneVersion) === undefined) return [];
  if (compareVersions(poolVersion, controlPlaneVersion) > 0) {
    return [{ path, message: `must not be newer than the control plane (spec.version ${controlPlaneVersion}), got ${poolVersion}` }];
  }
  const skew = minorSkew(controlPlaneVersion, poolVersion);
  if (skew > MAX_KUBELET_SKEW) {
    return [
      {
        path,
        message: `must be at most ${MAX_KUBELET_SKEW} minor versions older than the control plane (spec.version ${controlPlaneVersion}), got ${poolVersion} (${skew >= 100 ? 'a different major version' : `${skew} minors older`})`,
      },
    ];
  }
  return [];
}
