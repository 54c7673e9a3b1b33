/**
 * What keeps one failing benchmark from ending the run (issue 16, "a bench that cannot crash"): a figure, a rollout
 * case or a whole group that throws or hangs becomes a failed figure carrying its cause, and the run goes on.
 *
 * Its own file because it is the run's error policy, separate from the list of groups in bench/run.ts (which other
 * groups are added to) and from the figure format in bench/lib/figure.ts.
 */
import { openLocalStacks } from '../infra/local/stack.js';
import type { Figure } from './lib/figure.js';

/** A figure that could not be computed: `failed` marks it, `cause` says why (`name: message` of the error). */
export interface FailedFigure extends Figure {
  readonly failed: true;
  readonly cause: string;
}

/** Thrown (as the cause of a failed figure) when a figure is still running after its timeout. */
export class BenchTimeoutError extends Error {
  constructor(
    readonly figure: string,
    readonly timeoutMs: number,
  ) {
    super(`${figure}: no result after ${timeoutMs / 1000} s (the limit; --timeout-seconds raises it)`);
    this.name = 'BenchTimeoutError';
  }
}

/** `name: message` of an error (what a failed figure's cause reads), or the thrown value as text. */
export function causeOf(error: unknown): string {
  if (error instanceof AggregateError) return `${error.name}: ${error.message} (${error.errors.map(causeOf).join('; ')})`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The failed figure for `name`. Note: it has no value, bound or ratio (NaN, `null` in bench/results.json) and is
 * never `ok`, so nothing that reads the figures can take it for a measurement.
 */
export function failedFigure(name: string, error: unknown): FailedFigure {
  const nothing = Number.NaN;
  return { name, value: nothing, unit: '', bound: nothing, boundKind: 'max', boundLabel: 'failed', ratio: nothing, ok: false, failed: true, cause: causeOf(error) };
}

/** Whether the figure is a failed one. */
export function isFailed(f: Figure): f is FailedFigure {
  return (f as Partial<FailedFigure>).failed === true;
}

/** What happened to one guarded piece of work: its value, or the failed figure that stands for it. */
export type Guarded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failed: FailedFigure };

/**
 * Runs `fn` for the figure (or group) `name`: a throw or a run past `timeoutMs` becomes a failed figure.
 * `timeoutMs` undefined: no limit (for work whose parts are limited one by one).
 *
 * On a timeout the work cannot be cancelled, so it is made harmless: the local stacks it started are closed (their
 * machines and executions stop, and its own next step fails), and its eventual result or rejection is dropped.
 *
 * ```
 * guard ─┬─ fn() ───────────────────────────────────────── settles late: ignored
 *        └─ timeoutMs ── failed figure; stacks fn opened: closed ── next figure
 * ```
 */
export async function guard<T>(name: string, timeoutMs: number | undefined, fn: () => Promise<T>): Promise<Guarded<T>> {
  const before = new Set(openLocalStacks());
  let timer: NodeJS.Timeout | undefined;
  const work = Promise.resolve().then(fn);
  work.catch(() => undefined); // a rejection after the timeout has no one left to hear it
  const timedOut = new Promise<'timeout'>((resolve) => {
    if (timeoutMs !== undefined) timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([work.then((value) => ({ value })), timedOut]);
    if (outcome !== 'timeout') return { ok: true, value: outcome.value };
  } catch (error) {
    return { ok: false, failed: failedFigure(name, error) };
  } finally {
    clearTimeout(timer);
  }
  await closeLocalStacks(before);
  return { ok: false, failed: failedFigure(name, new BenchTimeoutError(name, timeoutMs!)) };
}

/** `guard` for work that yields figures: on failure, the one failed figure named `name`. */
export async function guardFigures(name: string, timeoutMs: number | undefined, fn: () => Promise<readonly Figure[]>): Promise<readonly Figure[]> {
  const result = await guard(name, timeoutMs, fn);
  return result.ok ? result.value : [result.failed];
}

/** Closes the open local stacks, except those in `keep` (bounded: a close that hangs is left behind after 30 s). */
export async function closeLocalStacks(keep: ReadonlySet<unknown> = new Set()): Promise<void> {
  const left = openLocalStacks().filter((s) => !keep.has(s));
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, 30_000)));
  await Promise.race([Promise.all(left.map((s) => s.close().catch(() => undefined))), bound]);
  clearTimeout(timer);
}
