import type { Cluster } from '../../../functions/domain/cluster.js';
import type { Machine } from '../../../functions/domain/machine.js';
import { controlPlanePoolTarget, outdatedReason, workerPoolTarget } from '../../../functions/domain/planner/machines.js';
import { INFRASTRUCTURE_DELETED_REASON } from '../../../functions/domain/planner/index.js';
import { parseClusterDocument } from '../../../functions/domain/spec/index.js';
import { CONDITIONS, deriveStatus, initialStatus, REASONS } from '../../../functions/domain/status.js';
import { templateHash } from '../../../functions/domain/template-hash.js';

const NOW = new Date('2026-01-01T00:00:00Z');

function cluster(phase: Cluster['status']['phase'] | undefined, overrides: Partial<Cluster['metadata']> = {}): Cluster {
  const doc = parseClusterDocument({
    apiVersion: 'capstan.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'c' },
    spec: { infrastructure: { provider: 'local' }, version: 'v1.19.1', controlPlane: { replicas: 1 }, workers: [{ name: 'md-0', replicas: 1 }] },
  });
  const base = { ...doc, metadata: { ...doc.metadata, uid: 'u', generation: 2, resourceVersion: '5', creationTimestamp: NOW.toISOString(), ...overrides } };
  return { ...base, status: phase ? { ...initialStatus(base, NOW), phase } : (undefined as never) };
}

/** The template hash of a pool's current template: what the planner stamps on the machines it creates. */
function currentTemplateHash(pool: string): string {
  const spec = cluster(undefined).spec;
  return templateHash(pool === 'control-plane' ? spec.controlPlane.machine : spec.workers.find((p) => p.name === pool)!.machine);
}

function machine(name: string, pool: string, version: string, phase: Machine['phase'], overrides: Partial<Machine> = {}): Machine {
  return {
    name, cluster: 'c', clusterUid: 'u', role: pool === 'control-plane' ? 'control-plane' : 'worker', pool, ordinal: 1, version,
    templateHash: currentTemplateHash(pool), phase, createdAt: NOW.toISOString(), recordVersion: 1, ...(phase === 'Ready' ? { readyAt: NOW.toISOString() } : {}),
    ...overrides,
  };
}

describe('deriveStatus', () => {
  it.each([
    ['a new cluster with no machines', undefined, [], 'Provisioning'],
    ['every machine Ready and up to date', 'Updating', [machine('c-cp-1', 'control-plane', 'v1.19.1', 'Ready'), machine('c-md-0-1', 'md-0', 'v1.19.1', 'Ready')], 'Ready'],
    ['a ready cluster with an outdated worker', 'Ready', [machine('c-cp-1', 'control-plane', 'v1.19.1', 'Ready'), machine('c-md-0-1', 'md-0', 'v1.18.8', 'Ready')], 'Updating'],
    ['first provisioning, one machine still booting', 'Provisioning', [machine('c-cp-1', 'control-plane', 'v1.19.1', 'Ready'), machine('c-md-0-1', 'md-0', 'v1.19.1', 'Provisioning')], 'Provisioning'],
  ] as const)('%s (was %s)', (_name, previous, machines, expected) => {
    const status = deriveStatus({ cluster: cluster(previous), machines: [...machines], now: NOW });
    expect(status.phase).toBe(expected);
    expect(status.observedGeneration).toBe(2);
  });

  it('reports per-pool replicas, ready and updated counts with the oldest running version', () => {
    const status = deriveStatus({ cluster: cluster('Ready'), machines: [machine('c-cp-1', 'control-plane', 'v1.19.1', 'Ready'), machine('c-md-0-1', 'md-0', 'v1.18.8', 'Ready'), machine('c-md-0-2', 'md-0', 'v1.19.1', 'Provisioning')], now: NOW });
    expect(status.workers[0]).toMatchObject({ name: 'md-0', version: 'v1.18.8', replicas: 2, readyReplicas: 1, updatedReplicas: 1 });
    expect(status.controlPlane).toMatchObject({ replicas: 1, readyReplicas: 1, updatedReplicas: 1 });
  });

  it.each([
    ['of the current version and template', {}, 1],
    ['of an earlier template (instance type changed since)', { templateHash: 'earlier' }, 0],
    ['of an earlier version', { version: 'v1.18.8' }, 0],
    ['created before rollout.after', { createdAt: '2025-12-31T23:00:00Z' }, 0],
    ['created after rollout.after', { createdAt: '2026-01-01T00:30:00Z' }, 1],
    ['created before rollout.after, written with an offset (a time, not a string, is compared)', { createdAt: '2026-01-01T01:00:00+02:00' }, 0],
  ] as const)('counts a Ready machine %s as up to date exactly when the planner keeps it', (_name, overrides, updated) => {
    // Prepare: a cluster whose pools restart at 00:00 (rollout.after), one Ready machine per pool
    const base = cluster('Ready');
    const after = NOW.toISOString();
    const c: Cluster = {
      ...base,
      spec: { ...base.spec, controlPlane: { ...base.spec.controlPlane, rollout: { ...base.spec.controlPlane.rollout, after } }, workers: base.spec.workers.map((p) => ({ ...p, rollout: { ...p.rollout, after } })) },
    };
    const cp = machine('c-cp-1', 'control-plane', 'v1.19.1', 'Ready', overrides);
    const worker = machine('c-md-0-1', 'md-0', 'v1.19.1', 'Ready', overrides);
    // Act
    const status = deriveStatus({ cluster: c, machines: [cp, worker], now: NOW });
    // Assess: status and planner agree (one predicate), and the expected count holds
    expect(status.controlPlane.updatedReplicas).toBe(outdatedReason(cp, controlPlanePoolTarget(c.spec)) === undefined ? 1 : 0);
    expect(status.workers[0]!.updatedReplicas).toBe(outdatedReason(worker, workerPoolTarget(c.spec, c.spec.workers[0]!)) === undefined ? 1 : 0);
    expect([status.controlPlane.updatedReplicas, status.workers[0]!.updatedReplicas]).toEqual([updated, updated]);
    expect(status.phase).toBe(updated ? 'Ready' : 'Updating');
  });

  it('keeps the Deleted infrastructure reason the planner waits for, spelled as the planner spells it', () => {
    expect(REASONS.InfrastructureDeleted).toBe(INFRASTRUCTURE_DELETED_REASON);
    const deleting = cluster('Deleting', { deletionTimestamp: NOW.toISOString() });
    const withDeleted: Cluster = { ...deleting, status: { ...deleting.status, conditions: [{ type: CONDITIONS.InfrastructureReady, status: 'False', reason: REASONS.InfrastructureDeleted, lastTransitionTime: NOW.toISOString() }] } };
    const status = deriveStatus({ cluster: withDeleted, machines: [], now: new Date(NOW.getTime() + 5000) });
    const infra = status.conditions.find((c) => c.type === CONDITIONS.InfrastructureReady);
    expect(infra).toMatchObject({ status: 'False', reason: 'Deleted', lastTransitionTime: NOW.toISOString() });
  });

  it('says why when the provider is disabled in this hosting', () => {
    const status = deriveStatus({ cluster: cluster('Provisioning'), machines: [], now: NOW, providerDisabled: "provider 'aws' is disabled in local mode" });
    expect(status.phase).toBe('Failed');
    expect(status.conditions.find((c) => c.type === CONDITIONS.ProviderAvailable)).toMatchObject({ status: 'False', reason: 'ProviderDisabled' });
  });

  it('reports a blocked plan on RolloutProgressing', () => {
    const status = deriveStatus({ cluster: cluster('Updating'), machines: [machine('c-cp-1', 'control-plane', 'v1.18.8', 'Ready')], now: NOW, plan: { action: 'Blocked', intents: [], notes: [], blocked: { reason: 'MachineBootstrapFailed', message: 'x failed 3 times' } } });
    expect(status.conditions.find((c) => c.type === CONDITIONS.RolloutProgressing)).toMatchObject({ status: 'False', reason: 'MachineBootstrapFailed', message: 'x failed 3 times' });
  });
});
