/**
 * MachineDeployment rollout math, as Cluster API computes it (`mdutil` and the v1.12+ `rolloutPlanner`).
 *
 * A worker pool is viewed as a MachineDeployment: its up-to-date machines form the "new MachineSet", outdated ones
 * the "old MachineSets". Each function here takes MachineSet counts and returns scale intents (MachineSet name →
 * new spec.replicas); worker-pool.ts turns those into CreateMachine/RetireMachine intents. Notes are the same
 * human sentences Cluster API records, so operators can compare.
 *
 * Note: in Capstan a MachineSet is *derived* from machine records: specReplicas = machines not being deleted,
 * statusReplicas = all live machines (being deleted included), availableReplicas = Ready machines not draining.
 * So a machine being deleted is exactly CAPI's "spec < status" pending scale-down, and counts toward maxSurge.
 */
import type { IntOrPercent, RolloutStrategy } from '../cluster.js';
import { scaledValue } from '../intstr.js';

/** A MachineSet as the rollout math sees it. */
export interface MachineSetState {
  readonly name: string;
  /** Machines the set wants (not being deleted). */
  readonly specReplicas: number;
  /** Machines that exist (being deleted included). */
  readonly statusReplicas: number;
  readonly availableReplicas: number;
  /** When the set was made (its oldest machine); sets are scaled down oldest first, ties by name. */
  readonly createdAt?: string;
}

/** The MachineDeployment fields the rollout math reads. */
export interface DeploymentRollout {
  readonly specReplicas: number;
  readonly strategy: RolloutStrategy;
  readonly maxSurge: IntOrPercent;
  readonly maxUnavailable: IntOrPercent;
}

/** Scale intents decided so far in one reconcile (MachineSet name → new spec.replicas) and the notes per set. */
export interface ScaleDecision {
  readonly scaleIntents: Readonly<Record<string, number>>;
  readonly notes: Readonly<Record<string, readonly string[]>>;
}

/** Result of `resolveFenceposts`; `error` is set (and both numbers 0) when an IntOrPercent is invalid. */
export interface Fenceposts {
  readonly surge: number;
  readonly unavailable: number;
  readonly error?: Error;
}

/**
 * Resolves maxSurge/maxUnavailable against the desired replicas (`mdutil.ResolveFenceposts`).
 * Note: surge percentages round up, unavailable percentages round down, and when both come out 0 unavailable is
 * forced to 1 — otherwise a rollout could never start (surge may be blocked by quota).
 */
export function resolveFenceposts(maxSurge: IntOrPercent, maxUnavailable: IntOrPercent, desired: number): Fenceposts {
  try {
    const surge = scaledValue(maxSurge, desired, true);
    let unavailable = scaledValue(maxUnavailable, desired, false);
    if (surge === 0 && unavailable === 0) unavailable = 1;
    return { surge, unavailable };
  } catch (error) {
    return { surge: 0, unavailable: 0, error: error as Error };
  }
}

/** The most machines a rolling deployment may have unavailable (`mdutil.MaxUnavailable`): capped at replicas, 0 for OnDelete. */
export function maxUnavailable(md: DeploymentRollout): number {
  if (md.strategy !== 'RollingUpdate' || md.specReplicas === 0) return 0;
  const { unavailable } = resolveFenceposts(md.maxSurge, md.maxUnavailable, md.specReplicas);
  return Math.min(unavailable, md.specReplicas);
}

/** The most machines a rolling deployment may have above replicas (`mdutil.MaxSurge`): 0 for OnDelete. */
export function maxSurge(md: DeploymentRollout): number {
  if (md.strategy !== 'RollingUpdate') return 0;
  return resolveFenceposts(md.maxSurge, md.maxUnavailable, md.specReplicas).surge;
}

/** Machines that exist or are wanted: sum of max(spec, status) (`mdutil.TotalMachineSetsReplicaSum`). */
export function totalMachineSetsReplicaSum(sets: readonly MachineSetState[]): number {
  return sets.reduce((sum, ms) => sum + Math.max(ms.specReplicas, ms.statusReplicas), 0);
}

/**
 * How many replicas the new MachineSet may have now (`mdutil.NewMSNewReplicas`), with CAPI's note.
 * RollingUpdate: grow until machines reach replicas + maxSurge. OnDelete: grow until machines reach replicas (a
 * machine being deleted still counts, so a replacement waits for it to be gone).
 */
export function newMSNewReplicas(md: DeploymentRollout, allMSs: readonly MachineSetState[], newMSReplicas: number): { replicas: number; note: string } {
  const current = totalMachineSetsReplicaSum(allMSs);
  if (md.strategy === 'RollingUpdate') {
    const surge = scaledValue(md.maxSurge, md.specReplicas, true);
    const limit = md.specReplicas + surge;
    if (current >= limit) {
      return { replicas: newMSReplicas, note: `${current} current Machines >= ${md.specReplicas} MachineDeployment spec.replicas + ${surge} maxSurge` };
    }
    const scaleUp = Math.min(limit - current, md.specReplicas - newMSReplicas);
    return { replicas: newMSReplicas + scaleUp, note: `${current} current Machines < ${md.specReplicas} MachineDeployment spec.replicas + ${surge} maxSurge` };
  }
  if (current >= md.specReplicas) {
    return { replicas: newMSReplicas, note: `${current} current Machines >= ${md.specReplicas} MachineDeployment spec.replicas` };
  }
  return { replicas: newMSReplicas + md.specReplicas - current, note: `${current} current Machines < ${md.specReplicas} MachineDeployment spec.replicas` };
}

/** Status counts of a deployment for `deploymentComplete`. */
export interface DeploymentStatusCounts {
  readonly replicas: number;
  readonly upToDateReplicas: number;
  readonly availableReplicas: number;
  readonly observedGeneration?: number;
}

/** True when the rollout is finished (`mdutil.DeploymentComplete`): every wanted machine exists, is up to date and available, and nothing extra remains. */
export function deploymentComplete(md: Pick<DeploymentRollout, 'specReplicas'> & { readonly generation?: number }, status: DeploymentStatusCounts): boolean {
  return (
    status.upToDateReplicas === md.specReplicas &&
    status.replicas === md.specReplicas &&
    status.availableReplicas === md.specReplicas &&
    (status.observedGeneration ?? 0) >= (md.generation ?? 0)
  );
}

/** Mutable working copy of a decision, private to this module. */
interface Working {
  scaleIntents: Record<string, number>;
  notes: Record<string, string[]>;
}

function working(decision?: Partial<ScaleDecision>): Working {
  const notes: Record<string, string[]> = {};
  for (const [name, list] of Object.entries(decision?.notes ?? {})) notes[name] = [...list];
  return { scaleIntents: { ...(decision?.scaleIntents ?? {}) }, notes };
}

function addNote(w: Working, ms: string, note: string): void {
  (w.notes[ms] ??= []).push(note);
}

/** Old MachineSets oldest first, ties by name (`mdutil.MachineSetsByCreationTimestamp`). */
function oldestFirst(oldMSs: readonly MachineSetState[]): MachineSetState[] {
  return [...oldMSs].sort((a, b) => {
    const ta = a.createdAt ? Date.parse(a.createdAt) : 0;
    const tb = b.createdAt ? Date.parse(b.createdAt) : 0;
    if (ta !== tb) return ta - tb;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

/**
 * Decides the new MachineSet's replicas (`rolloutPlanner.reconcileNewMachineSet`): scale down to replicas when above,
 * else grow as far as maxSurge allows (`newMSNewReplicas`).
 */
export function reconcileNewMachineSet(md: DeploymentRollout, newMS: MachineSetState, oldMSs: readonly MachineSetState[], decision?: Partial<ScaleDecision>): ScaleDecision {
  const w = working(decision);
  if (newMS.specReplicas === md.specReplicas) return w;
  if (newMS.specReplicas > md.specReplicas) {
    w.scaleIntents[newMS.name] = md.specReplicas;
    addNote(w, newMS.name, `scale down to ${md.specReplicas} MachineDeployment spec.replicas`);
    return w;
  }
  const { replicas, note } = newMSNewReplicas(md, [...oldMSs, newMS], newMS.specReplicas);
  addNote(w, newMS.name, note);
  if (replicas !== newMS.specReplicas) w.scaleIntents[newMS.name] = replicas;
  return w;
}

const ALIGN_NOTE = 'scale down to align to existing Machines or scale down by removing unavailable replicas (and no available replicas exist on the MachineSet)';

/**
 * Decides how far old MachineSets scale down (`rolloutPlanner.reconcileOldMachineSetsRollingUpdate`, v1.12+).
 *
 * Note: the budget is total spec − pending scale-downs (machines already being deleted, and scale-downs decided
 * earlier in this reconcile) − minAvailable − unavailable machines of the new set. Unavailable replicas go first (pass 1), then any (pass 2), and every
 * step assumes the worst case — that the machine deleted is an available one — so availability never drops below
 * replicas − maxUnavailable.
 */
export function reconcileOldMachineSetsRollingUpdate(md: DeploymentRollout, newMS: MachineSetState, oldMSs: readonly MachineSetState[], decision?: Partial<ScaleDecision>): ScaleDecision {
  const w = working(decision);
  const allMSs = [...oldMSs, newMS];
  if (oldMSs.reduce((sum, ms) => sum + ms.specReplicas, 0) === 0) return w;

  const minAvailable = Math.max(md.specReplicas - maxUnavailable(md), 0);
  const totalSpecReplicas = allMSs.reduce((sum, ms) => sum + ms.specReplicas, 0);
  let totalAvailable = allMSs.reduce((sum, ms) => sum + ms.availableReplicas, 0);

  let totalPendingScaleDown = 0;
  for (const ms of allMSs) {
    const intent = w.scaleIntents[ms.name];
    const scaleIntent = intent === undefined ? ms.specReplicas : Math.min(ms.specReplicas, intent);
    if (scaleIntent < ms.statusReplicas) totalPendingScaleDown += ms.statusReplicas - scaleIntent;
  }

  // Machines of the new set that are not available yet (booting, broken) may never become so: do not count on them.
  const newMSUnavailable = Math.max(newMS.specReplicas - newMS.availableReplicas, 0);
  let budget = Math.max(totalSpecReplicas - totalPendingScaleDown - minAvailable - newMSUnavailable, 0);
  if (budget <= 0) return w;

  const ordered = oldestFirst(oldMSs);
  for (const onlyUnavailable of [true, false]) {
    for (const ms of ordered) {
      if (budget <= 0) break;
      const replicas = w.scaleIntents[ms.name] ?? ms.specReplicas;
      if (replicas <= 0) continue;
      const maxScaleDown = onlyUnavailable ? Math.max(replicas - ms.availableReplicas, 0) : replicas;
      let scaleDown = Math.min(maxScaleDown, budget);
      if (scaleDown === 0) continue;

      let existingToDelete = 0;
      const availableBefore = totalAvailable;
      if (ms.availableReplicas > 0) {
        existingToDelete = Math.max(ms.statusReplicas - Math.max(replicas - scaleDown, 0), 0);
        if (existingToDelete > 0) {
          if (totalAvailable - minAvailable < existingToDelete) {
            const canDelete = Math.max(totalAvailable - minAvailable, 0);
            const revisited = Math.min(ms.statusReplicas - canDelete, replicas);
            scaleDown = Math.max(replicas - revisited, 0);
            existingToDelete = Math.max(ms.statusReplicas - revisited, 0);
          }
          totalAvailable -= Math.min(ms.availableReplicas, existingToDelete);
        }
      }
      if (scaleDown > 0) {
        addNote(w, ms.name, existingToDelete > 0 ? `${availableBefore} available replicas > ${minAvailable} minimum available replicas` : ALIGN_NOTE);
        w.scaleIntents[ms.name] = Math.max(replicas - scaleDown, 0);
        budget = Math.max(budget - scaleDown, 0);
      }
    }
  }
  return w;
}

/**
 * Breaks a rollout stuck on unavailable old machines (`rolloutPlanner.reconcileDeadlockBreaker`): when nothing else
 * moves and every new machine is available, scale the oldest old set with an unavailable machine down by one.
 * Note: this may formally breach maxUnavailable by one; old machines are not remediated by health checks, so
 * without it a broken old machine would block the rollout forever. The note is recorded on the new MachineSet, whose
 * rollout it unblocks (as Cluster API reports it).
 */
export function reconcileDeadlockBreaker(newMS: MachineSetState, oldMSs: readonly MachineSetState[], decision?: Partial<ScaleDecision>): ScaleDecision {
  const w = working(decision);
  const oldActual = oldMSs.reduce((sum, ms) => sum + ms.statusReplicas, 0);
  const oldAvailable = oldMSs.reduce((sum, ms) => sum + ms.availableReplicas, 0);
  if (oldActual === 0 || oldActual === oldAvailable) return w;
  for (const ms of [...oldMSs, newMS]) {
    if (ms.specReplicas !== ms.statusReplicas || w.scaleIntents[ms.name] !== undefined) return w;
  }
  if (newMS.availableReplicas !== newMS.statusReplicas) return w;
  for (const ms of oldestFirst(oldMSs)) {
    if (ms.availableReplicas === ms.statusReplicas || ms.specReplicas === 0) continue;
    w.scaleIntents[ms.name] = Math.max(ms.specReplicas - 1, 0);
    addNote(w, newMS.name, 'scaling down by 1 to unblock rollout stuck due to unavailable Machine on oldMS');
    return w;
  }
  return w;
}

/** One RollingUpdate reconcile (`rolloutPlanner.planRollingUpdate`): new set, then old sets, then the deadlock breaker. */
export function planRollingUpdate(md: DeploymentRollout, newMS: MachineSetState, oldMSs: readonly MachineSetState[]): ScaleDecision {
  const afterNew = reconcileNewMachineSet(md, newMS, oldMSs);
  const afterOld = reconcileOldMachineSetsRollingUpdate(md, newMS, oldMSs, afterNew);
  return reconcileDeadlockBreaker(newMS, oldMSs, afterOld);
}

/**
 * Decides how far old MachineSets scale down under OnDelete (`rolloutPlanner.reconcileOldMachineSetsOnDelete`):
 * only to bring the total down to replicas (a scale-down of the pool); replacing outdated machines is the user's call.
 */
export function reconcileOldMachineSetsOnDelete(md: DeploymentRollout, newMS: MachineSetState, oldMSs: readonly MachineSetState[], decision?: Partial<ScaleDecision>): ScaleDecision {
  const w = working(decision);
  const oldCount = oldMSs.reduce((sum, ms) => sum + ms.specReplicas, 0);
  if (oldCount === 0) return w;
  let budget = Math.max(oldCount + (w.scaleIntents[newMS.name] ?? newMS.specReplicas) - md.specReplicas, 0);
  for (const ms of oldestFirst(oldMSs)) {
    const gone = Math.max(ms.specReplicas - ms.statusReplicas, 0);
    if (ms.specReplicas > 0 && gone > 0) {
      w.scaleIntents[ms.name] = ms.specReplicas - gone;
      addNote(w, ms.name, 'scale down to align to existing Machines');
      budget -= gone;
    }
  }
  for (const ms of oldestFirst(oldMSs)) {
    if (budget <= 0) break;
    const replicas = w.scaleIntents[ms.name] ?? ms.specReplicas;
    if (replicas <= 0) continue;
    const scaleDown = Math.min(replicas, budget);
    w.scaleIntents[ms.name] = replicas - scaleDown;
    addNote(w, ms.name, 'scale down to align MachineSet spec.replicas to MachineDeployment spec.replicas');
    budget -= scaleDown;
  }
  return w;
}

/** One OnDelete reconcile (`rolloutPlanner.planOnDelete`): grow the new set to replicas, shrink old sets above replicas. */
export function planOnDelete(md: DeploymentRollout, newMS: MachineSetState, oldMSs: readonly MachineSetState[]): ScaleDecision {
  return reconcileOldMachineSetsOnDelete(md, newMS, oldMSs, reconcileNewMachineSet(md, newMS, oldMSs));
}
