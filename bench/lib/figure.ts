/**
 * One benchmark figure: a measured value next to the bound it is judged by, and their ratio.
 *
 * Why ratios: absolute times on a shared 2-core machine are noise; a ratio to a bound computed from the same run
 * (or to a baseline measured in the same run) is what a reviewer can rerun and compare.
 */

/**
 * How a figure's value relates to its bound: `max` = must stay at or below it, `min` = at or above it,
 * `baseline` = a reference measured in the same run (the ratio is the finding; there is no pass or fail).
 */
export type BoundKind = 'max' | 'min' | 'baseline';

/** A figure as printed (`name: value unit (bound, ratio)`) and stored in bench/results.json. */
export interface Figure {
  /** Dotted name, e.g. `rollout.overhead.3+30.boot1s`. */
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The bound or same-run baseline the value is compared with. */
  readonly bound: number;
  readonly boundKind: BoundKind;
  /** What the bound is, in words (`≤ 1.05 target`, `bare HTTP baseline`). */
  readonly boundLabel: string;
  /** value ÷ bound. */
  readonly ratio: number;
  /** Whether the value meets the bound. */
  readonly ok: boolean;
  /** Supporting numbers (medians, counts) for docs/performance.md and the reviewer. */
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** Builds a figure; the ratio is value ÷ bound (0 when the bound is 0 and the value too). */
export function figure(name: string, value: number, unit: string, bound: number, boundKind: BoundKind, boundLabel: string, detail?: Record<string, unknown>): Figure {
  const ratio = bound === 0 ? (value === 0 ? 0 : Number.POSITIVE_INFINITY) : value / bound;
  const ok = boundKind === 'baseline' || (boundKind === 'max' ? value <= bound : value >= bound);
  return { name, value, unit, bound, boundKind, boundLabel, ratio, ok, ...(detail ? { detail } : {}) };
}

/** Rounds for printing: 3 significant digits below 100, integers above. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  return Number(n.toPrecision(3)).toString();
}

/** `name: value unit (bound, ratio)` — the one line per figure `npm run bench` prints. */
export function formatFigure(f: Figure): string {
  const cmp = f.boundKind === 'max' ? '≤ ' : f.boundKind === 'min' ? '≥ ' : '';
  return `${f.name}: ${fmt(f.value)} ${f.unit} (${cmp}${fmt(f.bound)} ${f.boundLabel}, ratio ${fmt(f.ratio)})${f.ok ? '' : ' !'}`;
}

/** Median of a non-empty list (NaN when empty). */
export function median(values: readonly number[]): number {
  if (!values.length) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The p-th percentile (0–100), nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Options every benchmark takes. */
export interface BenchOptions {
  /** Small sizes and short runs: checks that the benchmark works, not how fast it is. */
  readonly quick: boolean;
  /** Progress lines (stderr). @default silent */
  readonly log?: (line: string) => void;
}
