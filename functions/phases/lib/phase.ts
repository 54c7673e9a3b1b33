/**
 * What every workflow phase shares: input parsing, the cluster's provider reference, conditional machine updates
 * with retry, and machine events with deterministic ids.
 *
 * A phase handler is thin: parse → observe → decide → act → persist, and safe to re-run from any line.
 */
import type { Deps } from '../../adapters/deps.js';
import { clusterAccount, clusterRegion, type Cluster } from '../../domain/cluster.js';
import { StoreConflictError } from '../../domain/errors.js';
import type { EventType, Machine, NewEvent } from '../../domain/machine.js';
import type { ClusterRef, MachineProvider, ProviderScope } from '../../domain/provider.js';
import { PhaseInputError } from './errors.js';

/** The input every Map item of the workflow carries. */
export interface IntentInput<I> {
  readonly cluster: string;
  readonly execution: string;
  readonly intent: I;
}

/** Reads a required string field of a phase input. */
export function field(input: unknown, name: string): string {
  const value = (input as Record<string, unknown> | null)?.[name];
  if (typeof value !== 'string' || value === '') throw new PhaseInputError(`phase input: ${name} must be a non-empty string`);
  return value;
}

/** Reads the intent object of a phase input. */
export function intentOf<I>(input: unknown): I {
  const intent = (input as Record<string, unknown> | null)?.intent;
  if (typeof intent !== 'object' || intent === null) throw new PhaseInputError('phase input: intent must be an object');
  return intent as I;
}

/** The provider scope of a cluster (one sweep list call covers a scope). */
export function scopeOf(cluster: Pick<Cluster, 'spec'>): ProviderScope {
  const infra = cluster.spec.infrastructure;
  return {
    provider: infra.provider,
    account: clusterAccount(cluster.spec),
    region: clusterRegion(cluster.spec),
    ...(infra.provider === 'aws' && infra.roleArn ? { roleArn: infra.roleArn } : {}),
  };
}

/** The provider's reference to a cluster. */
export function refOf(cluster: Cluster): ClusterRef {
  return { name: cluster.metadata.name, uid: cluster.metadata.uid, scope: scopeOf(cluster) };
}

/** The cluster's provider (throws ProviderDisabledError when switched off here). */
export function providerOf(deps: Deps, cluster: Pick<Cluster, 'spec'>): MachineProvider {
  return deps.providers.get(cluster.spec.infrastructure.provider);
}

/**
 * Applies `change` to the stored machine with a conditional write, re-reading and re-applying on a lost race.
 * `change` returns undefined to leave the machine as it is. Returns the machine as stored afterwards.
 */
export async function updateMachine(deps: Deps, cluster: string, name: string, change: (m: Machine) => Machine | undefined): Promise<Machine | undefined> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const current = await deps.store.getMachine(cluster, name);
    if (!current) return undefined;
    const next = change(current);
    if (!next) return current;
    try {
      return await deps.store.putMachine(next, current.recordVersion);
    } catch (error) {
      if (!(error instanceof StoreConflictError)) throw error;
    }
  }
  throw new StoreConflictError(`machine ${name}: too many concurrent updates`);
}

/** A machine event whose id is deterministic (type + machine + incarnation), so a retried step never duplicates it. */
export function machineEvent(type: EventType, machine: Machine, time: Date, message: string, data: NewEvent['data'] = {}): NewEvent {
  return {
    id: `${type}/${machine.name}/${machine.bootAttempt ?? 1}`,
    type,
    time: time.toISOString(),
    machine: machine.name,
    pool: machine.pool,
    message,
    data: { phase: machine.phase, version: machine.version, role: machine.role, ...data },
  };
}

/**
 * Re-reads the cluster and writes `change(cluster)` conditionally, retrying on a lost race (API writes and status
 * writes interleave). Returns undefined when the cluster is gone. `known`: a copy the caller read moments ago,
 * tried first instead of a read (a lost race then costs the read it would have cost anyway).
 */
export async function updateCluster(deps: Deps, name: string, change: (c: Cluster) => Cluster | undefined, known?: Cluster): Promise<Cluster | undefined> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const current = attempt === 0 && known ? known : await deps.store.getCluster(name);
    if (!current) return undefined;
    const next = change(current);
    if (!next) return current;
    try {
      return await deps.store.updateCluster(next, current.metadata.resourceVersion);
    } catch (error) {
      if ((error as Error).name !== 'PreconditionFailedError' && !(error instanceof StoreConflictError)) throw error;
    }
  }
  throw new StoreConflictError(`cluster ${name}: too many concurrent updates`);
}

/**
 * `MachineCreated` of a machine the provider acknowledged. Both the create step and the Ready callback append it
 * (same id, so once), which keeps it before `MachineReady` in the log even when the callback wins the race.
 */
export function machineCreatedEvent(machine: Machine, time: Date): NewEvent {
  const where = `${machine.role}${machine.role === 'worker' ? ` in ${machine.pool}` : ''}, ${machine.version}${machine.failureDomain ? `, ${machine.failureDomain}` : ''}`;
  return machineEvent('MachineCreated', { ...machine, phase: 'Provisioning' }, time, `machine ${machine.name} created (${where})`, { providerId: machine.providerId ?? null });
}

/** `MachineReady` of a machine whose record is Ready; appended by the callback and by the create step (same id). */
export function machineReadyEvent(machine: Machine): NewEvent {
  const readyAt = machine.readyAt ?? machine.createdAt;
  const seconds = Math.round((Date.parse(readyAt) - Date.parse(machine.createdAt)) / 100) / 10;
  return {
    id: `MachineReady/${machine.name}/${machine.bootAttempt ?? 1}`,
    type: 'MachineReady',
    time: readyAt,
    machine: machine.name,
    pool: machine.pool,
    message: `machine ${machine.name} is Ready (${machine.version}) after ${seconds}s`,
    data: { phase: 'Ready', version: machine.version, role: machine.role },
  };
}

/** The events of a machine that reached Ready, in log order (Created before Ready). */
export function readyEvents(machine: Machine): NewEvent[] {
  return [...(machine.providerId ? [machineCreatedEvent(machine, new Date(Date.parse(machine.createdAt)))] : []), machineReadyEvent(machine)];
}
