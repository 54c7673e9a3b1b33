/**
 * Rules for changing an existing cluster: what a valid new spec may not do given the spec it replaces.
 *
 * Kubernetes supports upgrading the control plane one minor version at a time and never downgrading it (etcd and
 * API storage versions move forward only); the tenancy key (provider, account, region) names where the machines live,
 * so changing it would orphan them. Both specs are already valid on their own (`parseClusterDocument`).
 */
import type { ClusterSpec } from '../cluster.js';
import type { Issue } from '../errors.js';
import { skipsMinorVersion } from '../planner/version-skew.js';
import { parseVersion } from '../semver.js';
import { poolSkewIssues } from './cluster-spec.js';

/** Issues that forbid replacing `previous` by `next`; empty when the change is allowed. */
export function validateClusterUpdate(previous: ClusterSpec, next: ClusterSpec): Issue[] {
  const issues: Issue[] = [];
  issues.push(...infrastructureIssues(previous, next));
  issues.push(...versionStepIssues('spec.version', 'the control plane', previous.version, next.version, true));
  next.workers.forEach((pool, i) => {
    const path = `spec.workers[${i}].version`;
    const nextVersion = pool.version ?? next.version;
    // A pool following spec.version has no skew; a pinned one must stay within the kubelet skew of the NEW control plane.
    if (pool.version !== undefined) issues.push(...poolSkewIssues(path, pool.version, next.version));
    const before = previous.workers.find((p) => p.name === pool.name);
    // Note: a pool that followed spec.version before and after moves with the control plane, already reported above.
    if (before && (before.version !== undefined || pool.version !== undefined)) {
      const previousVersion = before.version ?? previous.version;
      issues.push(...versionStepIssues(path, `worker pool ${pool.name}`, previousVersion, nextVersion, false));
    }
  });
  return issues;
}

function infrastructureIssues(previous: ClusterSpec, next: ClusterSpec): Issue[] {
  const before = previous.infrastructure;
  const after = next.infrastructure;
  if (before.provider !== after.provider) {
    return [{ path: 'spec.infrastructure.provider', message: `is immutable, was ${JSON.stringify(before.provider)}, got ${JSON.stringify(after.provider)}` }];
  }
  if (before.provider !== 'aws' || after.provider !== 'aws') return [];
  const issues: Issue[] = [];
  // An ELB's scheme is fixed at creation, and the endpoint's DNS name is in every certificate and kubeconfig.
  const scheme = (spec: ClusterSpec) => spec.controlPlane.endpoint?.scheme ?? 'internet-facing';
  if (scheme(previous) !== scheme(next)) {
    issues.push({ path: 'spec.controlPlane.endpoint.scheme', message: `is immutable, was ${JSON.stringify(scheme(previous))}, got ${JSON.stringify(scheme(next))}` });
  }
  for (const field of ['account', 'region'] as const) {
    if (before[field] !== after[field]) {
      issues.push({ path: `spec.infrastructure.${field}`, message: `is immutable, was ${JSON.stringify(before[field])}, got ${JSON.stringify(after[field])}` });
    }
  }
  return issues;
}

/**
 * One version change of a control plane or pool: same major, no skipped minor (`skipsMinorVersion`, the rule the
 * Cluster API cases check), and (for the control plane) no minor downgrade.
 * Note: patch downgrades within a minor are allowed (rolling back a bad patch release is a real need).
 */
function versionStepIssues(path: string, what: string, from: string, to: string, forbidDowngrade: boolean): Issue[] {
  const a = parseVersion(from);
  const b = parseVersion(to);
  if (a === undefined || b === undefined) return [];
  if (a.major !== b.major) {
    return [{ path, message: `changing ${what} from ${from} to ${to} changes the major version; this is not supported` }];
  }
  if (skipsMinorVersion(a, b)) {
    const skipped = Array.from({ length: b.minor - a.minor - 1 }, (_, k) => `${a.major}.${a.minor + 1 + k}`);
    return [
      {
        path,
        message: `upgrading from ${from} to ${to} skips minor version${skipped.length > 1 ? 's' : ''} ${skipped.join(', ')}; upgrade one minor at a time`,
      },
    ];
  }
  if (forbidDowngrade && b.minor < a.minor) {
    return [{ path, message: `downgrading ${what} from ${from} to ${to} is not supported; the minor version may only go up` }];
  }
  return [];
}
