/**
 * Observation: bring the machine records in line with what the provider reports, before planning.
 *
 * Note: the planner trusts only records, so every fact the provider knows better is written to the record here
 * first (with an event), never kept in memory:
 *   - a live machine whose provider instance is gone or terminated → `Failed` (never Ready: boot failure) or
 *     `Deleted` with reason MachineMissing (was Ready: the planner replaces it);
 *   - a Ready machine whose node reports NotReady → `notReadySince` set (health checks); Ready again → cleared;
 *   - with a provider that cannot call back, a Provisioning machine whose node is Ready → `Ready` (polling fallback).
 */
import type { Deps } from '../../adapters/deps.js';
import type { Cluster } from '../../domain/cluster.js';
import type { Machine, NewEvent } from '../../domain/machine.js';
import type { MachineProvider, ProviderMachine } from '../../domain/provider.js';
import { machineEvent, refOf, updateMachine } from './phase.js';

const LIVE = new Set(['Pending', 'Provisioning', 'Ready']);

/** What observation changed, for the caller's logs and for the sweep's "something differs" test. */
export interface Observation {
  readonly machines: Machine[];
  readonly changed: number;
}

/**
 * Reconciles records with `providerMachines` (the provider's view of THIS cluster; pass what a sweep already listed,
 * or omit to list now) and with node health. Returns all records (deleted included) after the changes.
 */
export async function observeMachines(
  deps: Deps,
  cluster: Cluster,
  provider: MachineProvider,
  records: readonly Machine[],
  providerMachines?: readonly ProviderMachine[],
): Promise<Observation> {
  const now = deps.clock.now();
  const ref = refOf(cluster);
  const listed = providerMachines ?? (await provider.listMachines(ref.scope, { cluster: cluster.metadata.name }));
  const byName = new Map(listed.filter((p) => p.clusterUid === cluster.metadata.uid).map((p) => [p.name, p]));
  const events: NewEvent[] = [];
  let changed = 0;
  const out: Machine[] = [];
  for (const record of records) {
    let next: Machine | undefined = record;
    const pm = byName.get(record.name);
    const gone = !pm || pm.state === 'terminated' || pm.state === 'stopping';
    // A Pending record without a providerId may still be mid-create (the create step owns it); only judge machines
    // the provider has acknowledged, or Pending ones older than the startup timeout (the planner handles those).
    if (LIVE.has(record.phase) && gone && record.providerId) {
      if (record.readyAt) {
        next = await updateMachine(deps, cluster.metadata.name, record.name, (m) => (LIVE.has(m.phase) ? { ...m, phase: 'Deleted', deletedAt: now.toISOString(), failureReason: 'MachineMissing', failureMessage: 'the provider no longer has this machine' } : undefined));
        if (next?.phase === 'Deleted') events.push(machineEvent('MachineMissing', next, now, `machine ${record.name} disappeared at the provider (${pm ? pm.state : 'not found'}); it will be replaced`));
      } else {
        next = await updateMachine(deps, cluster.metadata.name, record.name, (m) => (LIVE.has(m.phase) && !m.readyAt ? { ...m, phase: 'Failed', failedAt: now.toISOString(), failureReason: 'MachineMissing', failureMessage: 'the machine stopped before it became Ready' } : undefined));
        if (next?.phase === 'Failed') events.push(machineEvent('MachineFailed', next, now, `machine ${record.name} stopped before it became Ready`, { reason: 'MachineMissing' }));
      }
      changed++;
    } else if (pm && (record.phase === 'Ready' || (record.phase === 'Provisioning' && !provider.callsBack))) {
      const node = await provider.getNode(ref, record.name).catch(() => undefined);
      if (node) {
        if (record.phase === 'Provisioning' && node.ready) {
          next = await updateMachine(deps, cluster.metadata.name, record.name, (m) => (m.phase === 'Provisioning' ? { ...m, phase: 'Ready', readyAt: now.toISOString() } : undefined));
          if (next?.phase === 'Ready') events.push(machineEvent('MachineReady', next, now, `machine ${record.name} is Ready (observed by polling)`));
          changed++;
        } else if (record.phase === 'Ready' && !node.ready && !record.notReadySince) {
          next = await updateMachine(deps, cluster.metadata.name, record.name, (m) => (m.phase === 'Ready' && !m.notReadySince ? { ...m, notReadySince: now.toISOString() } : undefined));
          if (next?.notReadySince) events.push({ ...machineEvent('MachineUnhealthy', next, now, `node of machine ${record.name} reports NotReady`), id: `MachineUnhealthy/${record.name}/${next.notReadySince}` });
          changed++;
        } else if (record.phase === 'Ready' && node.ready && record.notReadySince) {
          next = await updateMachine(deps, cluster.metadata.name, record.name, (m) => {
            if (!m.notReadySince) return undefined;
            const { notReadySince: _gone, ...rest } = m;
            return rest;
          });
          changed++;
        }
      }
    }
    if (next) out.push(next);
  }
  if (events.length) await deps.store.appendEvents(cluster.metadata.name, events);
  return { machines: out, changed };
}
