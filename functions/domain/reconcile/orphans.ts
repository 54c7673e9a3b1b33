/**
 * Orphans: provider machines with Capstan's tags that no live record explains (a crash between the provider call and
 * the record write, a delete that did not finish, a machine of a deleted cluster incarnation).
 *
 *   provider machine ── record of that name (same uid), Pending, no providerId ──► Adopt (record takes it over)
 *                    ├─ record of that name, live ─────────────────────────────► known, nothing to do
 *                    └─ no record, or the record is Deleted ───────────────────► Terminate once older than the grace
 *
 * Note: the grace (`settings.orphanGraceSeconds`) covers the window in which a machine exists and its record does
 * not YET say so (a create in flight); it is measured from the provider's `launchedAt`. Machines whose provider id is
 * not known yet (`…/pending`) are never judged: deleting by name could hit the real machine of that name.
 */
import type { Machine, NewEvent } from '../machine.js';
import type { ProviderMachine } from '../provider.js';
import { isLiveAtProvider } from './compare.js';

/** What to do with one provider machine that no live record explains. */
export type OrphanDecision =
  | { readonly kind: 'Adopt'; readonly machine: ProviderMachine; readonly record: Machine }
  | { readonly kind: 'Terminate'; readonly machine: ProviderMachine; readonly ageSeconds: number }
  | { readonly kind: 'Wait'; readonly machine: ProviderMachine; readonly remainingSeconds: number };

/** Input of `planOrphans`. */
export interface OrphanInput {
  /** Machine records of the cluster (Deleted included); [] when the cluster incarnation is unknown. */
  readonly records: readonly Machine[];
  /** Provider machines of ONE cluster uid. */
  readonly machines: readonly ProviderMachine[];
  readonly now: Date;
  readonly graceSeconds: number;
}

/** True when the provider id names a machine (not a create still waiting for its id). */
export function hasProviderIdentity(machine: Pick<ProviderMachine, 'providerId'>): boolean {
  return machine.providerId !== '' && !machine.providerId.endsWith('/pending');
}

/** Decides, for every live provider machine that no live record explains, whether to adopt, terminate or wait. */
export function planOrphans(input: OrphanInput): OrphanDecision[] {
  const byName = new Map(input.records.map((r) => [`${r.clusterUid}/${r.name}`, r]));
  const decisions: OrphanDecision[] = [];
  for (const machine of input.machines) {
    if (!isLiveAtProvider(machine) || !hasProviderIdentity(machine)) continue;
    const record = byName.get(`${machine.clusterUid}/${machine.name}`);
    if (record && record.phase === 'Pending' && !record.providerId) {
      decisions.push({ kind: 'Adopt', machine, record });
      continue;
    }
    if (record && record.phase !== 'Deleted') continue;
    const ageSeconds = Math.max(0, (input.now.getTime() - Date.parse(machine.launchedAt)) / 1000);
    decisions.push(
      ageSeconds >= input.graceSeconds
        ? { kind: 'Terminate', machine, ageSeconds: Math.floor(ageSeconds) }
        : { kind: 'Wait', machine, remainingSeconds: Math.ceil(input.graceSeconds - ageSeconds) },
    );
  }
  return decisions;
}

/** The event of a terminated orphan: deterministic per machine incarnation (uid, name, provider id). */
export function orphanTerminatedEvent(pm: ProviderMachine, now: Date, ageSeconds: number): NewEvent {
  return {
    id: `OrphanTerminated/${pm.clusterUid}/${pm.name}/${pm.providerId}`,
    type: 'OrphanTerminated',
    time: now.toISOString(),
    machine: pm.name,
    pool: pm.pool,
    message: `machine ${pm.name} (${pm.providerId}) carries Capstan's tags for cluster ${pm.cluster} (uid ${pm.clusterUid}) but no record explains it; terminated after ${ageSeconds}s`,
    data: { providerId: pm.providerId, clusterUid: pm.clusterUid, role: pm.role, ageSeconds },
  };
}
