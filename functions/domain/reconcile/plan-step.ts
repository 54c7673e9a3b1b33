/**
 * Phase "plan": from the records as stored after the machine facts, ask the planner for the next intents, resume
 * steps a crash interrupted, and decide the events, the status, the records to archive and what the workflow does
 * next. Pure: functions/phases/plan.ts persists what this returns.
 */
import type { Cluster } from '../cluster.js';
import { specAcceptedEvent } from '../cluster-events.js';
import { durationSeconds } from '../duration.js';
import type { Machine, NewEvent } from '../machine.js';
import { readyEvents } from '../machine-events.js';
import { planCluster } from '../planner/index.js';
import { archivableMachines } from '../planner/machines.js';
import type { Intent, Plan } from '../planner/types.js';
import { deriveStatus, type DeriveStatusInput } from '../status.js';
import { capWave, HISTORY_HANDOVER, PLAN_STEP_EVENTS } from './history.js';
import { groupLanes, laneOf, laneSpending, type Lane } from './lanes.js';
import type { ReconcileSettings } from './scope.js';

/** What the workflow's Decide state reads. `Superseded`: another execution holds the cluster. */
export interface PlanOutput {
  readonly cluster: string;
  readonly generation: number;
  readonly iteration: number;
  /** Worst-case estimate of this execution's history events so far (see ./history.ts). */
  readonly historyEvents: number;
  readonly plan: {
    readonly action: Plan['action'] | 'ContinueAsNew' | 'Superseded' | 'Gone' | 'LaneDone';
    readonly intents: readonly (Intent & { readonly timeoutSeconds?: number })[];
    readonly waitSeconds?: number;
    readonly notes?: readonly string[];
    readonly blocked?: Plan['blocked'];
    /** The Act's lanes, one per pool (./lanes.ts); on a lane's own plan step, absent. */
    readonly lanes?: readonly Lane<Intent & { readonly timeoutSeconds?: number }>[];
  };
  /** On a lane's plan step: the lane and its history budget, handed back to the next LanePlan. */
  readonly lane?: string;
  readonly budget?: number;
}

/** Where one execution is: its name, plan iteration and history estimate (from the phase input). */
export interface PlanStepCursor {
  readonly execution: string;
  readonly iteration: number;
  readonly historyEvents: number;
  /** A lane's plan step (per-pool pacing, ./lanes.ts): its pool and history budget. */
  readonly lane?: { readonly name: string; readonly budget: number };
  /** The previous Act's lane results (what each lane spent), read by the execution's next Plan. */
  readonly laneResults?: unknown;
}

/** What to persist and answer after one plan step. */
export interface PlanStepDecision {
  /** Appended before the status write. */
  readonly events: readonly NewEvent[];
  /** The status write (re-applied on a lost race); undefined when the cluster record goes. */
  readonly status?: (current: Cluster) => Cluster;
  /** Deleted records to archive. */
  readonly archive: readonly string[];
  readonly releaseLease: boolean;
  readonly output: PlanOutput;
}

/** Deleted records one plan step archives at most (the rest go with the next finished rollout). */
export const ARCHIVE_PER_PLAN = 500;

/** The step's answer to the workflow. */
export function planOutput(cluster: string, generation: number, iteration: number, plan: PlanOutput['plan'], historyEvents = 0): PlanOutput {
  return { cluster, generation, iteration, historyEvents, plan };
}

/**
 * Steps a crash interrupted get issued again (no step of this execution is in flight while it plans, and the lease
 * keeps other executions out): machines still Draining or Deleting get their removal step; a machine still
 * `Pending` (its record written, the provider call not confirmed) gets its CreateMachine again — same name, same
 * client token, so the provider returns the machine if the first call made one.
 */
export function resumeInterrupted(intents: readonly Intent[], machines: readonly Machine[], cluster: Cluster): Intent[] {
  const covered = new Set(intents.flatMap((i) => ('machine' in i ? [typeof i.machine === 'string' ? i.machine : i.machine.name] : [])));
  const extra: Intent[] = [];
  for (const m of machines) {
    if (covered.has(m.name)) continue;
    if (m.phase === 'Draining') extra.push({ kind: 'RetireMachine', machine: m.name, pool: m.pool, reason: 'Outdated' });
    if (m.phase === 'Deleting') extra.push({ kind: 'DeleteMachine', machine: m.name, pool: m.pool, reason: 'Outdated' });
    if (m.phase === 'Pending' && !cluster.metadata.deletionTimestamp) {
      const template = m.role === 'control-plane' ? cluster.spec.controlPlane.machine : cluster.spec.workers.find((w) => w.name === m.pool)?.machine;
      if (!template) continue; // the pool is gone: the planner removes its machines
      extra.push({
        kind: 'CreateMachine',
        machine: {
          name: m.name, pool: m.pool, role: m.role, ordinal: m.ordinal, version: m.version, template, templateHash: m.templateHash,
          ...(m.failureDomain ? { failureDomain: m.failureDomain } : {}), bootAttempt: m.bootAttempt ?? 1,
        },
      });
    }
  }
  return [...intents, ...extra];
}

/** The rollout's own events of this step (acceptance, started, completed, blocked), with deterministic ids. */
export function rolloutEvents(cluster: Cluster, plan: Plan, now: Date): NewEvent[] {
  const { uid, generation } = cluster.metadata;
  const time = now.toISOString();
  const events: NewEvent[] = [];
  // The acceptance event of a generation no plan observed yet: the API appends it right after its write, but a
  // failure between the two (the caller saw an error) must not lose it. Same id: a no-op when it exists.
  if (cluster.status.observedGeneration !== generation) events.push(specAcceptedEvent(cluster, now));
  if (plan.action === 'Act' && plan.intents.some((i) => i.kind !== 'EnsureInfrastructure')) {
    events.push({ id: `RolloutStarted/${uid}/${generation}`, type: 'RolloutStarted', time, message: `rollout of generation ${generation} started: ${plan.notes[0] ?? 'converging'}`, data: { generation } });
  }
  if (plan.action === 'Done' && !cluster.metadata.deletionTimestamp) {
    events.push({ id: `RolloutCompleted/${uid}/${generation}`, type: 'RolloutCompleted', time, message: `the cluster matches generation ${generation}`, data: { generation } });
  }
  if (plan.blocked && plan.action === 'Blocked') {
    events.push({ id: `RolloutBlocked/${uid}/${generation}/${plan.blocked.reason}`, type: 'RolloutBlocked', time, message: plan.blocked.message, data: { generation, reason: plan.blocked.reason } });
  }
  return events;
}

/** Input of `decidePlanStep`: the cluster as read, its records as stored after the machine facts. */
export interface PlanStepInput {
  readonly cluster: Cluster;
  readonly machines: readonly Machine[];
  readonly rolloutCondition?: DeriveStatusInput['rolloutCondition'];
  readonly now: Date;
  readonly settings: ReconcileSettings;
  readonly cursor: PlanStepCursor;
}

/** Decides one plan step; see the module comment. */
export function decidePlanStep(input: PlanStepInput): PlanStepDecision {
  const { cluster, machines, now, settings, cursor } = input;
  const { name, generation } = cluster.metadata;
  const decided = planCluster({ cluster, machines, now, maxBootAttempts: settings.maxBootAttempts });
  const live = machines.filter((m) => m.phase !== 'Deleted');
  const all = decided.action === 'Paused' ? [] : resumeInterrupted(decided.intents, live, cluster);
  const action: Plan['action'] = all.length && decided.action !== 'Paused' ? 'Act' : decided.action;
  // A lane issues only its own pool's intents; a lane with nothing to do ends, and the execution's next Plan
  // (after every lane ended) decides the rest, finishing included.
  const intents = cursor.lane ? all.filter((i) => laneOf(i) === cursor.lane!.name) : all;
  if (cursor.lane && (action !== 'Act' || intents.length === 0)) return laneDone(cluster, cursor);
  const effective: Plan = { ...decided, action, intents };

  // Every status write is preceded by the readiness events of the machines that became Ready since the previous
  // status write (a margin for clock skew between writers): a Ready callback whose event append was cut short
  // (crash, throttle) is retried by the machine, maybe only after this plan, and the log must never show a removal
  // or a completion before the readiness it relied on. Only at every write is that airtight: the next plan looks
  // back only to this write (`lastUpdated`), and lanes write often. Same ids: never a duplicate.
  const since = Date.parse(cluster.status.lastUpdated ?? cluster.metadata.creationTimestamp) - 5_000;
  const events: NewEvent[] = live.filter((m) => m.phase === 'Ready' && m.readyAt && Date.parse(m.readyAt) >= since).flatMap(readyEvents);
  events.push(...rolloutEvents(cluster, effective, now));
  const finishing = action === 'Done' || action === 'Blocked' || action === 'Paused';
  const status = intents.some((i) => i.kind === 'DeleteCluster')
    ? undefined
    : (c: Cluster): Cluster => ({
        ...c,
        status: deriveStatus({ cluster: { ...c, metadata: { ...c.metadata, generation: Math.min(c.metadata.generation, generation) } }, machines: live, now, plan: effective, ...(finishing ? {} : { activeRollout: cursor.execution }), ...(input.rolloutCondition && !finishing ? { rolloutCondition: input.rolloutCondition } : {}) }),
      });
  // A finished rollout archives Deleted records past their retention, so plan steps stay O(live machines).
  const archive = action === 'Done' && !cluster.metadata.deletionTimestamp ? archivableMachines(machines, now, settings.deletedMachineRetentionSeconds).slice(0, ARCHIVE_PER_PLAN) : [];

  const startupTimeout = durationSeconds(cluster.spec.healthCheck.nodeStartupTimeout);
  const decorated = intents.map((i) => (i.kind === 'CreateMachine' ? { ...i, timeoutSeconds: Math.max(1, startupTimeout) } : i));
  // History budget: cap the wave, and hand over to a fresh execution before the estimate could pass the limit.
  const { wave, events: waveEvents } = capWave(decorated);
  const spent = cursor.historyEvents + PLAN_STEP_EVENTS + laneSpending(cursor.laneResults);
  const next = cursor.iteration + 1;
  const base = { events, ...(status ? { status } : {}), archive, releaseLease: finishing };
  if (cursor.lane) {
    // A lane's step that would not fit its share of the budget is left to the execution's next Plan.
    if (spent + waveEvents > cursor.lane.budget) return laneDone(cluster, cursor);
    return { ...base, output: { ...planOutput(name, generation, next, { action: 'Act', intents: wave }, spent + waveEvents), lane: cursor.lane.name, budget: cursor.lane.budget } };
  }
  if (action === 'Act' && (spent + waveEvents > HISTORY_HANDOVER || next >= settings.continueAfterIterations)) {
    return { ...base, output: planOutput(name, generation, next, { action: 'ContinueAsNew', intents: [] }, spent) };
  }
  const notes = wave.length < decorated.length ? [`wave capped at ${wave.length} of ${decorated.length} intents (history budget); the rest follow`, ...decided.notes] : decided.notes;
  return {
    ...base,
    output: planOutput(name, generation, next, {
      action,
      intents: action === 'Act' ? wave : [],
      ...(action === 'Wait' ? { waitSeconds: Math.max(1, Math.round(decided.waitSeconds ?? settings.pollSeconds)) } : {}),
      notes: notes.slice(0, 20),
      ...(decided.blocked ? { blocked: decided.blocked } : {}),
      ...(action === 'Act' ? { lanes: groupLanes(wave, spent + waveEvents) } : {}),
    }, spent + (action === 'Act' ? waveEvents : 0)),
  };
}

/** A lane's plan step always answers with its lane and budget (the LanePlan state reads them). */
export function onLane(output: PlanOutput, cursor: Pick<PlanStepCursor, 'lane'>): PlanOutput {
  return cursor.lane ? { ...output, lane: cursor.lane.name, budget: cursor.lane.budget } : output;
}

/** The end of a lane: nothing written (the execution's next Plan writes status and events), the step's cost reported. */
export function laneDone(cluster: Cluster, cursor: PlanStepCursor): PlanStepDecision {
  const output = planOutput(cluster.metadata.name, cluster.metadata.generation, cursor.iteration + 1, { action: 'LaneDone', intents: [] }, cursor.historyEvents + PLAN_STEP_EVENTS);
  return { events: [], archive: [], releaseLease: false, output: onLane(output, cursor) };
}

/**
 * A plan step of a cluster whose provider is switched off in this hosting: a cluster never provisioned here (no
 * machine, no infrastructure) can still be deleted; any other is Blocked with the reason in its status.
 */
export function decideProviderDisabled(input: Omit<PlanStepInput, 'rolloutCondition' | 'settings'>, message: string): PlanStepDecision {
  const { cluster, now, cursor } = input;
  const { name, generation } = cluster.metadata;
  const live = input.machines.filter((m) => m.phase !== 'Deleted');
  if (cluster.metadata.deletionTimestamp && live.length === 0 && !cluster.status.controlPlaneEndpoint) {
    const intents: Intent[] = [{ kind: 'DeleteCluster' }];
    const spent = cursor.historyEvents + PLAN_STEP_EVENTS + capWave(intents).events;
    const output = planOutput(name, generation, cursor.iteration + 1, { action: 'Act', intents, notes: ['nothing was provisioned: removing the record'], lanes: groupLanes(intents, spent) }, spent);
    return { events: [], archive: [], releaseLease: false, output };
  }
  return {
    events: [],
    status: (c) => ({ ...c, status: deriveStatus({ cluster: c, machines: live, now, providerDisabled: message }) }),
    archive: [],
    releaseLease: true,
    output: planOutput(name, generation, cursor.iteration + 1, { action: 'Blocked', intents: [], blocked: { reason: 'ProviderDisabled', message } }, cursor.historyEvents + PLAN_STEP_EVENTS),
  };
}
