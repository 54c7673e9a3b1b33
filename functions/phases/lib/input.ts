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

/** The Plan step's input: cluster, execution, and where the execution is (iteration, history estimate). */
export function parsePlanInput(input: unknown): { readonly cluster: string; readonly execution: string; readonly iteration: number; readonly historyEvents: number } {
  const cluster = field(input, 'cluster');
  const execution = field(input, 'execution');
  const iteration = Number((input as { iteration?: unknown }).iteration ?? 0);
  if (!Number.isInteger(iteration) || iteration < 0) throw new PhaseInputError('phase input: iteration must be a non-negative integer');
  const historyEvents = Number((input as { historyEvents?: unknown }).historyEvents ?? 0);
  if (!Number.isFinite(historyEvents) || historyEvents < 0) throw new PhaseInputError('phase input: historyEvents must be a non-negative number');
  return { cluster, execution, iteration, historyEvents };
}
