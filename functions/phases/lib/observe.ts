/**
 * Observation: bring the machine records in line with what the provider reports, before planning.
 *
 * Note: the planner trusts only records, so every fact the provider knows better is written to the record here
 * first (with an event), never kept in memory:
 *   - a live machine whose provider instance is gone or terminated → `Failed` (never Ready: boot failure) or
 *     `Deleted` with reason MachineMissing (was Ready: the planner replaces it); what is left of it at the provider
 *     (a stopped instance, a dead local process's directory) is deleted;
 *   - a Ready machine whose node reports NotReady (Ready=False, or Unknown: a kubelet that stopped reporting) →
 *     `notReadySince` set (health checks); Ready again → cleared;
 *   - with a provider that cannot call back, a Provisioning machine whose node is Ready → `Ready` (polling fallback);
 *     both read ONE `provider.listNodes` of the cluster (P6a), made only when some record needs a node view;
 *   - a provider machine of this cluster uid that no live record explains (an orphan) → adopted by its Pending record
 *     (`OrphanAdopted`), or terminated once older than `settings.orphanGraceSeconds` (`OrphanTerminated`);
 *   - a rollout without progress for `settings.progressDeadlineSeconds` → `rolloutCondition` for the caller's status.
 */
import type { Deps } from '../../adapters/deps.js';
import type { Cluster, ConditionStatus } from '../../domain/cluster.js';
import type { Machine, NewEvent } from '../../domain/machine.js';
import { nodeReadyStatus, type MachineProvider, type NodeHealth, type ProviderMachine } from '../../domain/provider.js';
import { isLiveAtProvider } from '../../reconcile/compare.js';
import { hasProviderIdentity, orphanTerminatedEvent, planOrphans } from '../../reconcile/orphans.js';
import { mapLimit } from '../../reconcile/limit.js';
import { progressDeadline, progressDeadlineEvent } from '../../reconcile/progress.js';
import { machineEvent, refOf, updateMachine } from './phase.js';

const LIVE = new Set(['Pending', 'Provisioning', 'Ready']);

/** Records observed (record writes, clean-up calls) in flight at once while observing one cluster. */
export const OBSERVE_CONCURRENCY = 16;

/**
 * Node health of Ready machines is checked at most every NODE_CHECK_INTERVAL_MS per cluster and process: a plan step
 * runs every few seconds during a rollout, health checks work on minutes (unhealthyTimeout), and the reconcile
 * sweep checks every cluster's nodes on its own schedule. The first plan of every execution checks (`forceNodeCheck`,
 * the default), so a sweep that saw a NotReady node always gets it observed. Readiness polling of providers that
 * cannot call back is never skipped.
 */
export const NODE_CHECK_INTERVAL_MS = 10_000;
const lastNodeCheck = new Map<string, number>();

function nodeCheckDue(clusterUid: string, now: Date, force: boolean): boolean {
  const last = lastNodeCheck.get(clusterUid);
  if (!force && last !== undefined && now.getTime() - last >= 0 && now.getTime() - last < NODE_CHECK_INTERVAL_MS) return false;
  lastNodeCheck.set(clusterUid, now.getTime());
  if (lastNodeCheck.size > 10_000) lastNodeCheck.delete(lastNodeCheck.keys().next().value!);
  return true;
}

/** What observation changed, for the caller's logs and for the sweep's "something differs" test. */
export interface Observation {
  readonly machines: Machine[];
  readonly changed: number;
  /** Orphans of this cluster uid: adopted, terminated, and still within the grace period. */
  readonly orphans: { readonly adopted: number; readonly terminated: number; readonly waiting: number };
  /** Set when the rollout exceeded its progress deadline: pass it to `deriveStatus` while the rollout acts or waits. */
  readonly rolloutCondition?: { readonly status: ConditionStatus; readonly reason: string; readonly message: string };
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
  options: { readonly forceNodeCheck?: boolean } = {},
): Promise<Observation> {
  const now = deps.clock.now();
  const ref = refOf(cluster);
  const name = cluster.metadata.name;
  const listed = providerMachines ?? (await provider.listMachines(ref.scope, { cluster: name }));
  const mine = listed.filter((p) => p.clusterUid === cluster.metadata.uid && p.cluster === name);
  const byName = new Map(mine.map((p) => [p.name, p]));
  const events: NewEvent[] = [];
  const leftovers: ProviderMachine[] = [];
  let changed = 0;
  const checkNodes = nodeCheckDue(cluster.metadata.uid, now, options.forceNodeCheck ?? true);
  // The node view of the whole cluster: one listNodes call, made by the first record that needs it and shared by the
  // others; none when no record does. A failure is no information: no record changes because of it.
  let nodeView: Promise<ReadonlyMap<string, NodeHealth> | undefined> | undefined;
  const nodes = () => (nodeView ??= provider.listNodes(ref).catch(() => undefined));
  // Records are observed concurrently (bounded): record writes of a 100-machine cluster must not run one after
  // another. Results and events keep the records' order.
  const observed = await mapLimit(records, OBSERVE_CONCURRENCY, async (record) => {
    const events: NewEvent[] = [];
    const leftovers: ProviderMachine[] = [];
    let changed = 0;
    let next: Machine | undefined = record;
    const pm = byName.get(record.name);
    const gone = !pm || pm.state === 'terminated' || pm.state === 'stopping';
    // A Pending record without a providerId may still be mid-create (the create step owns it); only judge machines
    // the provider has acknowledged, or Pending ones older than the startup timeout (the planner handles those).
    if (LIVE.has(record.phase) && gone && record.providerId) {
      // Note: the event is appended before the record changes (what the provider reports is a fact already), so a
      // crash between the two cannot lose it: the next observation finds the record unchanged and does both again.
      if (record.readyAt) {
        await deps.store.appendEvents(name, [machineEvent('MachineMissing', { ...record, phase: 'Deleted' }, now, `machine ${record.name} disappeared at the provider (${pm ? pm.state : 'not found'}); it will be replaced`, { providerState: pm?.state ?? 'not found' })]);
        next = await updateMachine(deps, name, record.name, (m) => (LIVE.has(m.phase) ? { ...m, phase: 'Deleted', deletedAt: now.toISOString(), failureReason: 'MachineMissing', failureMessage: 'the provider no longer has this machine' } : undefined));
        if (next?.phase === 'Deleted' && pm && hasProviderIdentity(pm)) leftovers.push(pm);
      } else {
        await deps.store.appendEvents(name, [machineEvent('MachineFailed', { ...record, phase: 'Failed' }, now, `machine ${record.name} stopped before it became Ready`, { reason: 'MachineMissing' })]);
        next = await updateMachine(deps, name, record.name, (m) => (LIVE.has(m.phase) && !m.readyAt ? { ...m, phase: 'Failed', failedAt: now.toISOString(), failureReason: 'MachineMissing', failureMessage: 'the machine stopped before it became Ready' } : undefined));
      }
      changed++;
    } else if (record.phase === 'Deleted' && pm && !isLiveAtProvider(pm) && hasProviderIdentity(pm) && pm.providerId === record.providerId) {
      leftovers.push(pm); // a dead machine whose remains were not cleaned up (e.g. a crash after the record write)
    } else if (pm && ((record.phase === 'Ready' && checkNodes) || (record.phase === 'Provisioning' && !provider.callsBack))) {
      const node = (await nodes())?.get(record.name);
      if (node) {
        const status = nodeReadyStatus(node);
        if (record.phase === 'Provisioning' && status === 'True') {
          next = await updateMachine(deps, name, record.name, (m) => (m.phase === 'Provisioning' ? { ...m, phase: 'Ready', readyAt: now.toISOString() } : undefined));
          if (next?.phase === 'Ready') events.push(machineEvent('MachineReady', next, now, `machine ${record.name} is Ready (observed by polling)`));
          changed++;
        } else if (record.phase === 'Ready' && status !== 'True' && !record.notReadySince) {
          next = await updateMachine(deps, name, record.name, (m) => (m.phase === 'Ready' && !m.notReadySince ? { ...m, notReadySince: now.toISOString() } : undefined));
          if (next?.notReadySince) events.push({ ...machineEvent('MachineUnhealthy', next, now, status === 'Unknown' ? `node of machine ${record.name} stopped reporting (Ready=Unknown)` : `node of machine ${record.name} reports NotReady`), id: `MachineUnhealthy/${record.name}/${next.notReadySince}` });
          changed++;
        } else if (record.phase === 'Ready' && status === 'True' && record.notReadySince) {
          next = await updateMachine(deps, name, record.name, (m) => {
            if (!m.notReadySince) return undefined;
            const { notReadySince: _gone, ...rest } = m;
            return rest;
          });
          changed++;
        }
      }
    }
    return { next, events, leftovers, changed };
  });
  const out: Machine[] = [];
  for (const o of observed) {
    if (o.next) out.push(o.next);
    events.push(...o.events);
    leftovers.push(...o.leftovers);
    changed += o.changed;
  }

  // Remains of machines that are gone: deleting them is idempotent (P4) and frees what they hold.
  await mapLimit(leftovers, OBSERVE_CONCURRENCY, (pm) =>
    provider.deleteMachine(ref.scope, pm).catch((error: unknown) => deps.log.warn('could not clean up a lost machine', { cluster: name, machine: pm.name, error })),
  );

  const orphans = await reconcileOrphans(deps, cluster, provider, out, mine, events);
  changed += orphans.adopted + orphans.terminated;

  const stuck = progressDeadline({ cluster, machines: out, now, deadlineSeconds: deps.settings.progressDeadlineSeconds });
  if (stuck?.newly) events.push(progressDeadlineEvent(cluster, stuck, now));

  if (events.length) await deps.store.appendEvents(name, events);
  return { machines: out, changed, orphans, ...(stuck ? { rolloutCondition: stuck.condition } : {}) };
}

/**
 * Adopts or terminates this cluster's orphans (see functions/reconcile/orphans.ts). Adopted records in `records` are
 * replaced in place; events are added to `events`.
 */
async function reconcileOrphans(deps: Deps, cluster: Cluster, provider: MachineProvider, records: Machine[], mine: readonly ProviderMachine[], events: NewEvent[]): Promise<Observation['orphans']> {
  const now = deps.clock.now();
  const name = cluster.metadata.name;
  const counts = { adopted: 0, terminated: 0, waiting: 0 };
  for (const decision of planOrphans({ records, machines: mine, now, graceSeconds: deps.settings.orphanGraceSeconds })) {
    const pm = decision.machine;
    if (decision.kind === 'Wait') {
      counts.waiting++;
      continue;
    }
    if (decision.kind === 'Adopt') {
      const adopted = await updateMachine(deps, name, pm.name, (m) =>
        m.phase === 'Pending' && !m.providerId ? { ...m, phase: 'Provisioning', providerId: pm.providerId, ...(pm.address ? { address: pm.address } : {}), ...(pm.failureDomain && !m.failureDomain ? { failureDomain: pm.failureDomain } : {}) } : undefined,
      );
      if (adopted?.providerId === pm.providerId) {
        const i = records.findIndex((r) => r.name === pm.name);
        if (i >= 0) records[i] = adopted;
        events.push(machineEvent('OrphanAdopted', adopted, now, `machine ${pm.name} existed at the provider (${pm.providerId}) before its record said so: adopted by its Pending record`, { providerId: pm.providerId }));
        counts.adopted++;
      }
      continue;
    }
    await provider.deleteMachine(refOf(cluster).scope, pm);
    events.push(orphanTerminatedEvent(pm, now, decision.ageSeconds));
    counts.terminated++;
  }
  return counts;
}
