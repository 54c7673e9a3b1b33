/**
 * The last part of every removal: mark Deleting, delete at the provider (already gone = success), mark Deleted.
 *
 * A control-plane machine leaves etcd first, as Cluster API's KubeadmControlPlane has it leave (scale.go
 * ForwardEtcdLeadership, then the kcp-cleanup pre-terminate hook's RemoveEtcdMember), and every machine's Node is
 * deleted after its infrastructure (the Machine controller's reconcileDelete):
 * ```
 *   Deleting ──move etcd leader off, member remove (cp)──▶ EtcdMemberRemoved ──deleteMachine──▶ deleteNode
 *            ──remove members no live machine explains (cp)──▶ MachineDeleted ──▶ Deleted
 * ```
 * Each step is idempotent (absent member, machine or Node = success), so a retry re-runs them all.
 * Note: while the whole cluster is deleted, etcd goes with it: no member is removed (the last one could not be).
 */
import type { Deps } from '../../adapters/deps.js';
import type { Cluster } from '../../domain/cluster.js';
import { describeMember, strayEtcdMembers } from '../../domain/etcd.js';
import type { Machine } from '../../domain/machine.js';
import type { RemovalReason } from '../../domain/planner/types.js';
import { providerOf, updateMachine } from '../../core/records.js';
import { machineEvent } from '../../domain/machine-events.js';
import { clusterScope } from '../../domain/cluster.js';
import { refOf } from '../../domain/reconcile/scope.js';
import { field, intentOf } from './input.js';

/** What a removal step works on; `done` when there is nothing (left) to remove. */
export type RemovalTarget =
  | { readonly done: true; readonly machine: string }
  | { readonly done: false; readonly cluster: Cluster; readonly machine: Machine; readonly reason: RemovalReason };

/**
 * Parses a removal step's input and loads its cluster and machine. A machine already Deleted only gets its lost
 * `MachineDeleted` event completed (the step is then done).
 */
export async function loadRemoval(deps: Deps, input: unknown): Promise<RemovalTarget> {
  const clusterName = field(input, 'cluster');
  const intent = intentOf<{ machine: string; reason: RemovalReason }>(input);
  const cluster = await deps.store.getCluster(clusterName);
  const machine = cluster ? await deps.store.getMachine(clusterName, intent.machine) : undefined;
  if (!cluster || !machine) return { done: true, machine: intent.machine };
  if (machine.phase === 'Deleted') {
    await deleteAtProvider(deps, cluster, machine, intent.reason);
    return { done: true, machine: intent.machine };
  }
  return { done: false, cluster, machine, reason: intent.reason };
}

/**
 * Deletes the machine at the provider and records it Deleted, with a `MachineDeleted` event. Idempotent: a retry
 * after a failure between the Deleted write and the event append still appends it (deterministic id).
 */
export async function deleteAtProvider(deps: Deps, cluster: Cluster, machine: Machine, reason: string): Promise<Machine | undefined> {
  const now = deps.clock.now();
  const deleting = await updateMachine(deps, cluster.metadata.name, machine.name, (m) => (m.phase === 'Deleted' || m.phase === 'Deleting' ? undefined : { ...m, phase: 'Deleting' }));
  if (!deleting) return undefined;
  // Note: the event goes in before the Deleted write. A crash between them leaves the record Deleting, which the
  // next plan resumes (the provider delete is idempotent, the event id deterministic): nothing is lost either way.
  const event = (m: Machine) => machineEvent('MachineDeleted', { ...m, phase: 'Deleted' }, now, `machine ${m.name} deleted (${reason})`, { reason });
  let deleted = deleting;
  if (deleting.phase !== 'Deleted') {
    const provider = providerOf(deps, cluster);
    const etcd = deleting.role === 'control-plane' && !cluster.metadata.deletionTimestamp;
    if (etcd) await leaveEtcd(deps, cluster, deleting);
    await provider.deleteMachine(clusterScope(cluster.spec), { name: deleting.name, providerId: deleting.providerId ?? '', cluster: cluster.metadata.name });
    await provider.deleteNode(refOf(cluster), deleting.name);
    if (etcd) await removeStrayEtcdMembers(deps, cluster);
    if (deleting.failureReason !== 'MachineMissing') await deps.store.appendEvents(cluster.metadata.name, [event(deleting)]);
    deleted = (await updateMachine(deps, cluster.metadata.name, machine.name, (m) => (m.phase === 'Deleted' ? undefined : { ...m, phase: 'Deleted', deletedAt: deps.clock.now().toISOString() })))!;
  } else if (deleted.failureReason !== 'MachineMissing') {
    // Machines found missing at the provider have their own event (MachineMissing) and need no MachineDeleted.
    await deps.store.appendEvents(cluster.metadata.name, [event(deleted)]);
  }
  return deleted;
}

/**
 * Moves etcd leadership off the machine's member and removes it (P11), then records `EtcdMemberRemoved` with the
 * members left. The event goes in after the removal (a refused removal must not be logged as done); a retry finds
 * the member absent and appends the same event id again, which is a no-op.
 */
async function leaveEtcd(deps: Deps, cluster: Cluster, machine: Machine): Promise<void> {
  const result = await providerOf(deps, cluster).removeControlPlaneMember(refOf(cluster), machine.name);
  const how = result.removed ? `removed${result.leadershipMoved ? ' (leadership moved off it first)' : ''}` : 'already absent';
  await deps.store.appendEvents(cluster.metadata.name, [
    machineEvent('EtcdMemberRemoved', machine, deps.clock.now(), `etcd member ${machine.name} ${how}; members: ${result.members.join(', ') || 'none'}`, {
      removed: result.removed,
      leadershipMoved: result.leadershipMoved,
      members: result.members.join(','),
    }),
  ]);
}

/**
 * Removes etcd members that no live control-plane machine explains (Cluster API's reconcileEtcdMembers): what a
 * crash between a member's `member add` and its machine's start, or a machine lost with its member, leaves behind.
 * A removal etcd or the quorum check refuses is left for the next removal (this is a safeguard, not the step's job).
 */
async function removeStrayEtcdMembers(deps: Deps, cluster: Cluster): Promise<void> {
  const provider = providerOf(deps, cluster);
  const ref = refOf(cluster);
  const live = (await provider.listMachines(ref.scope, { cluster: cluster.metadata.name }))
    .filter((m) => m.clusterUid === cluster.metadata.uid && m.role === 'control-plane' && m.state !== 'terminated' && m.state !== 'stopping')
    .map((m) => m.name);
  for (const stray of strayEtcdMembers(await provider.listEtcdMembers(ref), live)) {
    const result = await provider.removeEtcdMember(ref, stray.id).catch((error: Error) => {
      if (error.name === 'ProviderUnavailableError') return undefined;
      throw error;
    });
    if (!result?.removed) continue;
    await deps.store.appendEvents(cluster.metadata.name, [
      {
        id: `EtcdMemberRemoved/stray/${stray.id}`,
        type: 'EtcdMemberRemoved',
        time: deps.clock.now().toISOString(),
        ...(stray.name || stray.machine ? { machine: stray.name || stray.machine } : {}),
        pool: 'control-plane',
        message: `etcd member ${describeMember(stray)} belonged to no live control-plane machine: removed; members: ${result.members.join(', ') || 'none'}`,
        data: { role: 'control-plane', removed: true, leadershipMoved: result.leadershipMoved, members: result.members.join(','), stray: true },
      },
    ]);
  }
}
