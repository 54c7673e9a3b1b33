/**
 * The 40 Cluster API fixtures (test/fixtures/capi/cases.json) against Capstan's re-implementation.
 * Inputs are adapted to Capstan's shapes here; expected values are compared as written, every key present.
 */
import { readFileSync } from 'node:fs';
import type { IntOrPercent } from '../../../../functions/domain/cluster.js';
import {
  deploymentComplete,
  kcpSelectMachineForScaleDown,
  kcpValidateVersionUpdate,
  machineSetPreflightVersionSkew,
  maxUnavailable,
  mhcIsAllowedRemediation,
  newMSNewReplicas,
  pickFewestFailureDomain,
  pickMostFailureDomain,
  planRollingUpdate,
  reconcileDeadlockBreaker,
  reconcileNewMachineSet,
  reconcileOldMachineSetsRollingUpdate,
  resolveFenceposts,
  shouldRolloutBefore,
  type DeploymentRollout,
  type MachineSetState,
} from '../../../../functions/domain/planner/index.js';
import { CAPI_CASES_FILE } from '../../../fixtures/capi/paths.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Case {
  readonly id: string;
  readonly function: string;
  readonly input: Json;
  readonly expected: Record<string, Json>;
}

const file = JSON.parse(readFileSync(CAPI_CASES_FILE, 'utf8')) as { count: number; cases: Case[] };

/** IntOrString as the fixtures encode it → Capstan's IntOrPercent (a typed string without `%` stays a string: invalid). */
function intOrPercent(value: Json): IntOrPercent {
  if (value && typeof value === 'object' && value.type === 'string') return String(value.value);
  return value as IntOrPercent;
}

function md(input: Json): DeploymentRollout {
  return { specReplicas: input.specReplicas, strategy: input.strategy, maxSurge: intOrPercent(input.maxSurge), maxUnavailable: intOrPercent(input.maxUnavailable) };
}

function ms(input: Json): MachineSetState {
  return { name: input.name, specReplicas: input.specReplicas, statusReplicas: input.statusReplicas, availableReplicas: input.availableReplicas };
}

const NOW = new Date('2026-01-01T00:00:00Z');

/** Runs one case and returns the actual values for exactly the expected keys. */
function run(c: Case): Record<string, Json> {
  const i = c.input;
  switch (c.function) {
    case 'resolveFenceposts': {
      const r = resolveFenceposts(intOrPercent(i.maxSurge), intOrPercent(i.maxUnavailable), i.desired);
      return { surge: r.surge, unavailable: r.unavailable, error: r.error !== undefined };
    }
    case 'maxUnavailable':
      return { maxUnavailable: maxUnavailable(md(i.md)) };
    case 'newMSNewReplicas': {
      const sets = [
        { name: 'old', specReplicas: i.oldMSSpecReplicas, statusReplicas: 0, availableReplicas: 0 },
        { name: 'new', specReplicas: i.newMSSpecReplicas, statusReplicas: 0, availableReplicas: 0 },
      ];
      const r = newMSNewReplicas(md(i.md), sets, i.newMSSpecReplicas);
      return { newReplicas: r.replicas, note: r.note };
    }
    case 'deploymentComplete':
      return { complete: deploymentComplete({ specReplicas: i.md.specReplicas, generation: i.generation }, { ...i.status, observedGeneration: i.observedGeneration }) };
    case 'reconcileNewMachineSet': {
      const r = reconcileNewMachineSet(md(i.md), ms(i.newMS), i.oldMSs.map(ms));
      return { newMSReplicas: r.scaleIntents[i.newMS.name] ?? i.newMS.specReplicas, note: r.notes[i.newMS.name]?.[0] };
    }
    case 'reconcileOldMachineSetsRollingUpdate': {
      const r = reconcileOldMachineSetsRollingUpdate(md(i.md), ms(i.newMS), i.oldMSs.map(ms), { scaleIntents: i.scaleIntents });
      return { scaleIntents: r.scaleIntents, notes: r.notes };
    }
    case 'reconcileDeadlockBreaker': {
      const r = reconcileDeadlockBreaker(ms(i.newMS), i.oldMSs.map(ms), { scaleIntents: i.scaleIntents });
      return { scaleIntents: r.scaleIntents, notes: r.notes };
    }
    case 'rollingUpdateSequence':
      return simulateSequence(md(i.md), i.initialMachineSets.map(ms));
    case 'kcpSelectMachineForScaleDown':
      return {
        machine: kcpSelectMachineForScaleDown({
          failureDomains: i.failureDomains.filter((fd: Json) => fd.controlPlane).map((fd: Json) => fd.name),
          etcdManaged: i.etcdManaged,
          machines: i.machines.map((m: Json) => ({
            name: m.name,
            failureDomain: m.failureDomain,
            createdAt: m.creationTimestamp,
            deleteRequested: m.annotations?.['cluster.x-k8s.io/delete-machine'] !== undefined,
            conditions: m.conditions,
          })),
          outdated: i.outdatedMachines,
        }),
      };
    case 'pickFewestFailureDomain (scale-up placement)': {
      const all = Object.entries(i.allMachines as Record<string, string>).map(([name, failureDomain]) => ({ name, failureDomain }));
      return { oneOf: pickFewestFailureDomain(i.failureDomains, all, all.filter((m) => i.upToDateMachines.includes(m.name))) };
    }
    case 'pickMostFailureDomain (scale-down source)': {
      const all = Object.entries(i.allMachines as Record<string, string>).map(([name, failureDomain]) => ({ name, failureDomain }));
      return { oneOf: pickMostFailureDomain(i.failureDomains, all, all.filter((m) => i.eligibleMachines.includes(m.name))) };
    }
    case 'shouldRolloutBefore (certificatesExpiryDays)': {
      const expiry = new Date(NOW.getTime() + i.machineCertificatesExpireInDays * 86_400_000).toISOString();
      return { rollout: shouldRolloutBefore(NOW, i.certificatesExpiryDays, expiry) };
    }
    case 'kcpValidateVersionUpdate':
      return { error: kcpValidateVersionUpdate(i.oldVersion, i.newVersion) !== undefined };
    case 'machineSetPreflightVersionSkew': {
      const r = machineSetPreflightVersionSkew(i.controlPlaneVersion, i.machineSetVersion, { kubeadmBootstrap: i.bootstrapKind === 'KubeadmConfigTemplate' });
      return { pass: r.pass, failedCheck: r.pass ? undefined : r.failedCheck };
    }
    case 'mhcIsAllowedRemediation':
      return mhcIsAllowedRemediation({
        ...(i.unhealthyLessThanOrEqualTo !== undefined ? { unhealthyLessThanOrEqualTo: intOrPercent(i.unhealthyLessThanOrEqualTo) } : {}),
        ...(i.unhealthyInRange !== undefined ? { unhealthyInRange: i.unhealthyInRange } : {}),
        expectedMachines: i.expectedMachines,
        currentHealthy: i.currentHealthy,
      });
    default:
      throw new Error(`case ${c.id}: no dispatcher for function ${c.function}`);
  }
}

/**
 * The Go harness of Test_RollingUpdateSequences: one MD reconcile per iteration (all intents planned from the
 * pre-reconcile state), then the MachineSet controller makes status = spec; new machines are available at the next
 * reconcile. Invariants are checked after the reconcile and after the MachineSet controller acted.
 */
function simulateSequence(deployment: DeploymentRollout, initial: MachineSetState[]): Record<string, Json> {
  const surge = resolveFenceposts(deployment.maxSurge, deployment.maxUnavailable, deployment.specReplicas).surge;
  const minAvailable = deployment.specReplicas - maxUnavailable(deployment);
  let sets = initial.map((s) => ({ ...s }));
  const iterations: Json[] = [];
  const violations: string[] = [];
  for (let n = 1; n <= 20; n++) {
    const before: Record<string, number[] | null> = {};
    for (const s of sets) before[s.name] = [s.specReplicas, s.statusReplicas, s.availableReplicas];
    if (n === 1) {
      before.ms2 = null;
      sets.push({ name: 'ms2', specReplicas: 0, statusReplicas: 0, availableReplicas: 0 });
    }
    const newMS = sets.find((s) => s.name === 'ms2')!;
    const oldMSs = sets.filter((s) => s.name !== 'ms2');
    const { scaleIntents } = planRollingUpdate(deployment, newMS, oldMSs);
    iterations.push({ before, scaleIntents: { ...scaleIntents } });
    // After the MD reconcile: spec updated, status not yet.
    sets = sets.map((s) => ({ ...s, specReplicas: scaleIntents[s.name] ?? s.specReplicas }));
    const machines = sets.reduce((t, s) => t + Math.max(s.specReplicas, s.statusReplicas), 0);
    if (machines > deployment.specReplicas + surge) violations.push(`iteration ${n}: ${machines} machines > replicas + maxSurge`);
    // MachineSet controller: delete (worst case: available ones) or create; created ones become available next time.
    sets = sets.map((s) => ({ ...s, availableReplicas: Math.min(s.availableReplicas, s.specReplicas), statusReplicas: s.specReplicas }));
    const available = sets.reduce((t, s) => t + s.availableReplicas, 0);
    if (available < minAvailable) violations.push(`iteration ${n}: ${available} available < replicas - maxUnavailable`);
    sets = sets.map((s) => ({ ...s, availableReplicas: s.statusReplicas }));
    if (Object.keys(scaleIntents).length === 0) break;
  }
  return {
    iterations,
    invariantsEveryStep: violations.length === 0 ? ['sum(available) >= replicas - maxUnavailable', 'sum(max(spec,status)) <= replicas + maxSurge'] : violations,
  };
}

describe('Cluster API cases', () => {
  it('has all 40 cases', () => {
    expect(file.cases).toHaveLength(40);
    expect(file.count).toBe(40);
  });

  it.each(file.cases.map((c) => [c.id, c] as const))('%s matches Cluster API', (_id, c) => {
    // Act
    const actual = run(c);

    // Assess: every expected key present
    for (const [key, expected] of Object.entries(c.expected)) {
      if (key === 'oneOf') {
        expect(expected).toContain(actual.oneOf);
      } else {
        expect({ [key]: actual[key] }).toEqual({ [key]: expected });
      }
    }
  });
});
