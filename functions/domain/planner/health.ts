/**
 * Machine health, as a Cluster API MachineHealthCheck judges it, and its remediation gate.
 */
import type { HealthCheckSpec, IntOrPercent } from '../cluster.js';
import { durationSeconds } from '../duration.js';
import { scaledValue } from '../intstr.js';
import type { Machine } from '../machine.js';

/** Why a machine is unhealthy, or undefined when it is healthy (or not judged: being deleted, Failed, Deleted). */
export function unhealthyReason(machine: Machine, healthCheck: HealthCheckSpec, now: Date): string | undefined {
  if (machine.drainStartedAt) return undefined;
  const ageSeconds = (iso: string): number => (now.getTime() - Date.parse(iso)) / 1000;
  if (machine.phase === 'Ready' && machine.notReadySince) {
    const limit = durationSeconds(healthCheck.unhealthyTimeout);
    if (ageSeconds(machine.notReadySince) > limit) return `node NotReady for more than ${healthCheck.unhealthyTimeout}`;
  }
  if ((machine.phase === 'Pending' || machine.phase === 'Provisioning') && !machine.readyAt) {
    const limit = durationSeconds(healthCheck.nodeStartupTimeout);
    if (ageSeconds(machine.createdAt) > limit) return `node not Ready within nodeStartupTimeout ${healthCheck.nodeStartupTimeout}`;
  }
  return undefined;
}

/** Input of `mhcIsAllowedRemediation`: one of the two triggers, and the counts. */
export interface RemediationGateInput {
  /** Remediate only while unhealthy ≤ this (int, or percent of expected rounded down). @default "100%" */
  readonly unhealthyLessThanOrEqualTo?: IntOrPercent;
  /** Remediate only while unhealthy is in `[min-max]`; wins over `unhealthyLessThanOrEqualTo`. */
  readonly unhealthyInRange?: string;
  readonly expectedMachines: number;
  readonly currentHealthy: number;
}

/**
 * Whether remediation may go on (MHC `isAllowedRemediation`), and how many more machines may be remediated.
 * Note: when too many machines are unhealthy at once the cause is likely shared (network, image, zone), and
 * replacing machines would only add load — so remediation stops and a human looks.
 */
export function mhcIsAllowedRemediation(input: RemediationGateInput): { allowed: boolean; remediationsAllowed: number } {
  const unhealthy = input.expectedMachines - input.currentHealthy;
  if (input.unhealthyInRange !== undefined) {
    const m = /^\[(\d+)-(\d+)\]$/.exec(input.unhealthyInRange);
    if (!m) return { allowed: false, remediationsAllowed: 0 };
    const min = Number(m[1]);
    const max = Number(m[2]);
    const allowed = unhealthy >= min && unhealthy <= max;
    return { allowed, remediationsAllowed: allowed ? max - unhealthy : 0 };
  }
  let maxUnhealthy: number;
  try {
    maxUnhealthy = scaledValue(input.unhealthyLessThanOrEqualTo ?? '100%', input.expectedMachines, false);
  } catch {
    return { allowed: false, remediationsAllowed: 0 };
  }
  const allowed = unhealthy <= maxUnhealthy;
  return { allowed, remediationsAllowed: allowed ? maxUnhealthy - unhealthy : 0 };
}
