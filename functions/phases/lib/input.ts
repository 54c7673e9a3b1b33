/**
 * Parsing of workflow phase inputs (what the state machine passes each Lambda). Garbage is a PhaseInputError that
 * names the field, which the workflow does not retry.
 */
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

/** The Plan step's input: cluster, execution, where the execution is, and on a lane's plan step the lane. */
export interface PlanInput {
  readonly cluster: string;
  readonly execution: string;
  readonly iteration: number;
  readonly historyEvents: number;
  /** A lane's plan step (per-pool pacing): the pool and its share of the history budget. */
  readonly lane?: { readonly name: string; readonly budget: number };
  /** What the previous Act's lanes report (their history spending); the Plan after an Act reads it. */
  readonly laneResults?: unknown;
}

/** Parses the Plan step's input (the execution's Plan, or a lane's LanePlan). */
export function parsePlanInput(input: unknown): PlanInput {
  const cluster = field(input, 'cluster');
  const execution = field(input, 'execution');
  const raw = input as { iteration?: unknown; historyEvents?: unknown; lane?: unknown; budget?: unknown; laneResults?: unknown };
  const iteration = Number(raw.iteration ?? 0);
  if (!Number.isInteger(iteration) || iteration < 0) throw new PhaseInputError('phase input: iteration must be a non-negative integer');
  const historyEvents = Number(raw.historyEvents ?? 0);
  if (!Number.isFinite(historyEvents) || historyEvents < 0) throw new PhaseInputError('phase input: historyEvents must be a non-negative number');
  const base = { cluster, execution, iteration, historyEvents, ...(raw.laneResults !== undefined ? { laneResults: raw.laneResults } : {}) };
  if (raw.lane === undefined) return base;
  const lane = field(input, 'lane');
  const budget = Number(raw.budget);
  if (!Number.isFinite(budget) || budget < 0) throw new PhaseInputError('phase input: budget must be a non-negative number on a lane\'s plan step');
  return { ...base, lane: { name: lane, budget } };
}
