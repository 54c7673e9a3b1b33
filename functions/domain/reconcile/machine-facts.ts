/**
 * Phase "machine facts": bring the machine records in line with what the provider reports, before planning. Pure:
 * it returns record changes for the core to apply (functions/core/act.ts), never writes.
 *
 * Note: the planner trusts only records, so every fact the provider knows better becomes a record change here (with
 * an event), never a value kept in memory:
 *   - a live machine whose provider instance is gone or terminated → `Failed` (never Ready: boot failure) or
 *     `Deleted` with reason MachineMissing (was Ready: the planner replaces it); what is left of it at the provider
 *     (a stopped instance, a dead local process's directory) is deleted;
 *   - a Ready machine whose node reports NotReady (Ready=False, or Unknown: a kubelet that stopped reporting) →
 *     `notReadySince` set (health checks); Ready again → cleared;
 *   - with a provider that cannot call back, a Provisioning machine whose node is Ready → `Ready` (polling fallback);
 *   - a provider machine of this cluster uid that no live record explains (an orphan) → adopted by its Pending record
 *     (`OrphanAdopted`), or terminated once older than the orphan grace (`OrphanTerminated`), see ./orphans.ts.
 */
import type { Machine, NewEvent } from '../machine.js';
import { machineEvent } from '../machine-events.js';
import { nodeReadyStatus, type ProviderMachine } from '../provider.js';
import { isLiveAtProvider } from './compare.js';
import { hasProviderIdentity, planOrphans } from './orphans.js';
import type { ClusterScope } from './scope.js';

const LIVE = new Set(['Pending', 'Provisioning', 'Ready']);

/**
 * One conditional change of one machine record. `change` is re-applied to the record as stored on a lost race, and
 * declines (undefined) when the record moved on; what follows is computed from the record as stored.
 */
export interface RecordChange {
  readonly machine: string;
  /** Appended BEFORE the record changes: the provider's report is a fact already, so a crash between the two cannot lose it. */
  readonly eventsBefore: readonly NewEvent[];
  readonly change: (stored: Machine) => Machine | undefined;
  /** Events once the change is stored (from the record as stored; [] when it declined). */
  readonly eventsAfter: (stored: Machine) => NewEvent[];
  /** What is left of the machine at the provider, deleted when `stored` says the machine is gone. */
  readonly leftover?: { readonly machine: ProviderMachine; readonly when: (stored: Machine) => boolean };
}

/** How a record relates to the provider's machine of its name. */
type Fact = 'missing' | 'remains' | 'node' | 'none';

function factOf(record: Machine, pm: ProviderMachine | undefined, scope: Pick<ClusterScope, 'nodeCheckDue' | 'providerCallsBack'>): Fact {
  const gone = !pm || pm.state === 'terminated' || pm.state === 'stopping';
  // A Pending record without a providerId may still be mid-create (the create step owns it); only judge machines the
  // provider has acknowledged, or Pending ones older than the startup timeout (the planner handles those).
  if (LIVE.has(record.phase) && gone && record.providerId) return 'missing';
  if (record.phase === 'Deleted' && pm && !isLiveAtProvider(pm) && hasProviderIdentity(pm) && pm.providerId === record.providerId) return 'remains';
  if (pm && ((record.phase === 'Ready' && scope.nodeCheckDue) || (record.phase === 'Provisioning' && !scope.providerCallsBack))) return 'node';
  return 'none';
}

/** The provider's machines of the scope by name. */
function byName(scope: Pick<ClusterScope, 'providerMachines'>): Map<string, ProviderMachine> {
  return new Map(scope.providerMachines.map((p) => [p.name, p]));
}

/**
 * True when some record needs the node view (one listNodes of the cluster, P6a): the observing adapter reads nodes
 * only then.
 */
export function needsNodeView(scope: Pick<ClusterScope, 'records' | 'providerMachines' | 'nodeCheckDue' | 'providerCallsBack'>): boolean {
  const pms = byName(scope);
  return scope.records.some((r) => factOf(r, pms.get(r.name), scope) === 'node');
}

/** The record changes and clean-ups that the provider's report and node health call for, in record order. */
export function planMachineFacts(scope: ClusterScope): { readonly changes: RecordChange[]; readonly leftovers: ProviderMachine[] } {
  const { now } = scope;
  const at = now.toISOString();
  const pms = byName(scope);
  const changes: RecordChange[] = [];
  const leftovers: ProviderMachine[] = [];
  for (const record of scope.records) {
    const pm = pms.get(record.name);
    const fact = factOf(record, pm, scope);
    if (fact === 'remains') leftovers.push(pm!); // a dead machine whose remains were not cleaned up (a crash after the record write)
    if (fact === 'missing' && record.readyAt) {
      changes.push({
        machine: record.name,
        eventsBefore: [machineEvent('MachineMissing', { ...record, phase: 'Deleted' }, now, `machine ${record.name} disappeared at the provider (${pm ? pm.state : 'not found'}); it will be replaced`, { providerState: pm?.state ?? 'not found' })],
        change: (m) => (LIVE.has(m.phase) ? { ...m, phase: 'Deleted', deletedAt: at, failureReason: 'MachineMissing', failureMessage: 'the provider no longer has this machine' } : undefined),
        eventsAfter: () => [],
        ...(pm && hasProviderIdentity(pm) ? { leftover: { machine: pm, when: (m: Machine) => m.phase === 'Deleted' } } : {}),
      });
    } else if (fact === 'missing') {
      changes.push({
        machine: record.name,
        eventsBefore: [machineEvent('MachineFailed', { ...record, phase: 'Failed' }, now, `machine ${record.name} stopped before it became Ready`, { reason: 'MachineMissing' })],
        change: (m) => (LIVE.has(m.phase) && !m.readyAt ? { ...m, phase: 'Failed', failedAt: at, failureReason: 'MachineMissing', failureMessage: 'the machine stopped before it became Ready' } : undefined),
        eventsAfter: () => [],
      });
    } else if (fact === 'node') {
      const node = scope.nodes?.get(record.name);
      if (!node) continue; // not registered yet, or no node view: no information
      const status = nodeReadyStatus(node);
      const nodeChange = nodeHealthChange(record, status, at);
      if (nodeChange) changes.push(nodeChange);
    }
  }
  return { changes, leftovers };
}

/** The record change a node's Ready status calls for (polled readiness, NotReady since, healthy again), if any. */
function nodeHealthChange(record: Machine, status: 'True' | 'False' | 'Unknown', at: string): RecordChange | undefined {
  const now = new Date(at);
  if (record.phase === 'Provisioning' && status === 'True') {
    return {
      machine: record.name,
      eventsBefore: [],
      change: (m) => (m.phase === 'Provisioning' ? { ...m, phase: 'Ready', readyAt: at } : undefined),
      eventsAfter: (m) => (m.phase === 'Ready' ? [machineEvent('MachineReady', m, now, `machine ${record.name} is Ready (observed by polling)`)] : []),
    };
  }
  if (record.phase === 'Ready' && status !== 'True' && !record.notReadySince) {
    const message = status === 'Unknown' ? `node of machine ${record.name} stopped reporting (Ready=Unknown)` : `node of machine ${record.name} reports NotReady`;
    return {
      machine: record.name,
      eventsBefore: [],
      change: (m) => (m.phase === 'Ready' && !m.notReadySince ? { ...m, notReadySince: at } : undefined),
      eventsAfter: (m) => (m.notReadySince ? [{ ...machineEvent('MachineUnhealthy', m, now, message), id: `MachineUnhealthy/${record.name}/${m.notReadySince}` }] : []),
    };
  }
  if (record.phase === 'Ready' && status === 'True' && record.notReadySince) {
    return {
      machine: record.name,
      eventsBefore: [],
      change: (m) => {
        if (!m.notReadySince) return undefined;
        const { notReadySince: _gone, ...rest } = m;
        return rest;
      },
      eventsAfter: () => [],
    };
  }
  return undefined;
}

/** What to do with this cluster's orphans, given the records as stored after the machine facts. */
export type OrphanAction =
  | { readonly kind: 'Adopt'; readonly change: RecordChange; readonly providerId: string }
  | { readonly kind: 'Terminate'; readonly machine: ProviderMachine; readonly ageSeconds: number }
  | { readonly kind: 'Wait' };

/** Orphans of the scope's cluster uid (see ./orphans.ts): adopt by a Pending record, terminate after the grace, or wait. */
export function planClusterOrphans(scope: Pick<ClusterScope, 'providerMachines' | 'now' | 'settings'>, records: readonly Machine[]): OrphanAction[] {
  const now = scope.now;
  return planOrphans({ records, machines: scope.providerMachines, now, graceSeconds: scope.settings.orphanGraceSeconds }).map((decision): OrphanAction => {
    const pm = decision.machine;
    if (decision.kind === 'Wait') return { kind: 'Wait' };
    if (decision.kind === 'Terminate') return { kind: 'Terminate', machine: pm, ageSeconds: decision.ageSeconds };
    return {
      kind: 'Adopt',
      providerId: pm.providerId,
      change: {
        machine: pm.name,
        eventsBefore: [],
        change: (m) => (m.phase === 'Pending' && !m.providerId ? { ...m, phase: 'Provisioning', providerId: pm.providerId, ...(pm.address ? { address: pm.address } : {}), ...(pm.failureDomain && !m.failureDomain ? { failureDomain: pm.failureDomain } : {}) } : undefined),
        eventsAfter: (m) => (m.providerId === pm.providerId ? [machineEvent('OrphanAdopted', m, now, `machine ${pm.name} existed at the provider (${pm.providerId}) before its record said so: adopted by its Pending record`, { providerId: pm.providerId })] : []),
      },
    };
  });
}
