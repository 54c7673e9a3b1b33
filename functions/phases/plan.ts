/**
 * Plan phase: observe the cluster and its machines, ask the pure planner for the next intents, persist status
 * and events, and tell the workflow what to do next (Act, Wait, or finish).
 *
 * Note: safe to re-run from any line. Nothing is trusted from an earlier run: the lease is re-taken (renewed when
 * this execution already holds it), the machines are re-observed, the plan is recomputed, events have
 * deterministic ids.
 */
import { getDeps, type Deps } from '../adapters/deps.js';
import type { Cluster } from '../domain/cluster.js';
import { durationSeconds } from '../domain/duration.js';
import type { Machine, NewEvent } from '../domain/machine.js';
import { planCluster } from '../domain/planner/index.js';
import { archivableMachines } from '../domain/planner/machines.js';
import type { Intent, Plan } from '../domain/planner/types.js';
import { deriveStatus } from '../domain/status.js';
import { PhaseInputError } from './lib/errors.js';
import { capWave, HISTORY_HANDOVER, PLAN_STEP_EVENTS } from './lib/history.js';
import { observeMachines } from './lib/observe.js';
import { field, providerOf, readyEvents, updateCluster } from './lib/phase.js';

/** What the workflow's Decide state reads. `Superseded`: another execution holds the cluster. */
export interface PlanOutput {
  readonly cluster: string;
  readonly generation: number;
  readonly iteration: number;
  /** Worst-case estimate of this execution's history events so far (see lib/history.ts). */
  readonly historyEvents: number;
  readonly plan: {
    readonly action: Plan['action'] | 'ContinueAsNew' | 'Superseded' | 'Gone';
    readonly intents: readonly (Intent & { readonly timeoutSeconds?: number })[];
    readonly waitSeconds?: number;
    readonly notes?: readonly string[];
    readonly blocked?: Plan['blocked'];
  };
}

/** Deleted records one plan step archives at most (the rest go with the next finished rollout). */
const ARCHIVE_PER_PLAN = 500;

function out(cluster: string, generation: number, iteration: number, plan: PlanOutput['plan'], historyEvents = 0): PlanOutput {
  return { cluster, generation, iteration, historyEvents, plan };
}

/**
 * Steps a crash interrupted get issued again (no step of this execution is in flight while it plans, and the lease
 * keeps other executions out): machines still Draining or Deleting get their removal step; a machine still
 * `Pending` (its record written, the provider call not confirmed) gets its CreateMachine again — same name, same
 * client token, so the provider returns the machine if the first call made one.
 */
function resumeInterrupted(intents: readonly Intent[], machines: readonly Machine[], cluster: Cluster): Intent[] {
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

function rolloutEvents(cluster: Cluster, plan: Plan, now: Date): NewEvent[] {
  const { uid, generation } = cluster.metadata;
  const time = now.toISOString();
  const events: NewEvent[] = [];
  // The acceptance event of a generation no plan observed yet: the API appends it right after its write, but a
  // failure between the two (the caller saw an error) must not lose it. Same id: a no-op when it exists.
  if (cluster.status.observedGeneration !== generation) {
    events.push(generation === 1
      ? { id: `ClusterCreated/${uid}`, type: 'ClusterCreated', time, message: `cluster created at ${cluster.spec.version}`, data: { generation: 1 } }
      : { id: `ClusterUpdated/${uid}/${generation}`, type: 'ClusterUpdated', time, message: 'spec changed', data: { generation } });
  }
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

/** Runs one plan step for the cluster named in the input. */
export async function plan(input: unknown, deps: Deps): Promise<PlanOutput> {
  const name = field(input, 'cluster');
  const execution = field(input, 'execution');
  const iteration = Number((input as { iteration?: unknown }).iteration ?? 0);
  if (!Number.isInteger(iteration) || iteration < 0) throw new PhaseInputError('phase input: iteration must be a non-negative integer');
  const history = Number((input as { historyEvents?: unknown }).historyEvents ?? 0);
  if (!Number.isFinite(history) || history < 0) throw new PhaseInputError('phase input: historyEvents must be a non-negative number');
  const now = deps.clock.now();

  // The three reads of a step go out together (a plan step is on every machine step's critical path). Reading the
  // machines before the lease is taken changes nothing: Ready callbacks write records whoever holds the lease.
  const [cluster, records, leased] = await Promise.all([
    deps.store.getCluster(name),
    deps.store.listMachines(name, { includeDeleted: true }),
    deps.store.acquireLease(name, execution, deps.settings.leaseTtlSeconds, now),
  ]);
  if (!cluster) {
    if (leased) await deps.store.releaseLease(name, execution); // leave nothing under a deleted cluster's key
    return out(name, 0, iteration + 1, { action: 'Gone', intents: [] }, history);
  }
  const generation = cluster.metadata.generation;
  if (!leased) return out(name, generation, iteration + 1, { action: 'Superseded', intents: [] }, history);

  let provider;
  try {
    provider = providerOf(deps, cluster);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const machines = records.filter((m) => m.phase !== 'Deleted');
    // A cluster this hosting never provisioned (no machine, no infrastructure) can still be deleted.
    if (cluster.metadata.deletionTimestamp && machines.every((m) => m.phase === 'Deleted') && !cluster.status.controlPlaneEndpoint) {
      return out(name, generation, iteration + 1, { action: 'Act', intents: [{ kind: 'DeleteCluster' }], notes: ['nothing was provisioned: removing the record'] }, history + PLAN_STEP_EVENTS);
    }
    await updateCluster(deps, name, (c) => ({ ...c, status: deriveStatus({ cluster: c, machines, now, providerDisabled: message }) }));
    await deps.store.releaseLease(name, execution);
    return out(name, generation, iteration + 1, { action: 'Blocked', intents: [], blocked: { reason: 'ProviderDisabled', message } }, history + PLAN_STEP_EVENTS);
  }

  const observed = await observeMachines(deps, cluster, provider, records, undefined, { forceNodeCheck: iteration === 0 });
  const decided = planCluster({ cluster, machines: observed.machines, now, maxBootAttempts: deps.settings.maxBootAttempts });
  const live = observed.machines.filter((m) => m.phase !== 'Deleted');
  const intents = decided.action === 'Paused' ? [] : resumeInterrupted(decided.intents, live, cluster);
  const action: Plan['action'] = intents.length && decided.action !== 'Paused' ? 'Act' : decided.action;
  const effective: Plan = { ...decided, action, intents };

  // Before removing machines on the strength of others being Ready, or declaring the rollout done, make sure the
  // log says they are: a Ready callback whose event append was cut short (crash, throttle) is retried by the
  // machine, maybe only after this plan; the log must never show a removal or a completion before the readiness it
  // relied on (same ids: no duplicates).
  const events: NewEvent[] = [];
  if (action === 'Done' || intents.some((i) => i.kind === 'RetireMachine' || i.kind === 'DeleteMachine')) {
    // Machines that became Ready since the previous plan (a margin for clock skew between writers).
    const since = Date.parse(cluster.status.lastUpdated ?? cluster.metadata.creationTimestamp) - 5_000;
    events.push(...live.filter((m) => m.phase === 'Ready' && m.readyAt && Date.parse(m.readyAt) >= since).flatMap(readyEvents));
  }
  events.push(...rolloutEvents(cluster, effective, now));
  if (events.length) await deps.store.appendEvents(name, events);
  const finishing = action === 'Done' || action === 'Blocked' || action === 'Paused';
  if (!intents.some((i) => i.kind === 'DeleteCluster')) {
    await updateCluster(deps, name, (c) => ({
      ...c,
      status: deriveStatus({ cluster: { ...c, metadata: { ...c.metadata, generation: Math.min(c.metadata.generation, generation) } }, machines: live, now, plan: effective, ...(finishing ? {} : { activeRollout: execution }), ...(observed.rolloutCondition && !finishing ? { rolloutCondition: observed.rolloutCondition } : {}) }),
    }), cluster);
  }
  if (action === 'Done' && !cluster.metadata.deletionTimestamp) {
    // A finished rollout archives Deleted records past their retention, so plan steps stay O(live machines).
    const archived = archivableMachines(observed.machines, now, deps.settings.deletedMachineRetentionSeconds).slice(0, ARCHIVE_PER_PLAN);
    if (archived.length) await deps.store.deleteMachines(name, archived);
  }
  if (finishing) await deps.store.releaseLease(name, execution);

  const startupTimeout = durationSeconds(cluster.spec.healthCheck.nodeStartupTimeout);
  const decorated = intents.map((i) => (i.kind === 'CreateMachine' ? { ...i, timeoutSeconds: Math.max(1, startupTimeout) } : i));
  // History budget: cap the wave, and hand over to a fresh execution before the estimate could pass the limit.
  const { wave, events: waveEvents } = capWave(decorated);
  const spent = history + PLAN_STEP_EVENTS;
  if (action === 'Act' && (spent + waveEvents > HISTORY_HANDOVER || iteration + 1 >= deps.settings.continueAfterIterations)) {
    return out(name, generation, iteration + 1, { action: 'ContinueAsNew', intents: [] }, spent);
  }
  const notes = wave.length < decorated.length ? [`wave capped at ${wave.length} of ${decorated.length} intents (history budget); the rest follow`, ...decided.notes] : decided.notes;
  return out(name, generation, iteration + 1, {
    action,
    intents: action === 'Act' ? wave : [],
    ...(action === 'Wait' ? { waitSeconds: Math.max(1, Math.round(decided.waitSeconds ?? deps.settings.pollSeconds)) } : {}),
    notes: notes.slice(0, 20),
    ...(decided.blocked ? { blocked: decided.blocked } : {}),
  }, spent + (action === 'Act' ? waveEvents : 0));
}

export const handler = async (input: unknown): Promise<PlanOutput> => plan(input, await getDeps());
