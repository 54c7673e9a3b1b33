/**
 * Output: aligned tables for people, JSON or YAML for scripts, ANSI colours only on a terminal, ages like kubectl.
 */
import { stringify as toYaml } from 'yaml';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** A text sink (process.stdout, or a buffer in tests). */
export interface Sink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 } as const;
export type Colour = keyof typeof CODES;

/** Colours text when enabled; a no-op otherwise (pipes, files, `--no-color`, `NO_COLOR`). */
export interface Painter {
  readonly enabled: boolean;
  (colour: Colour, text: string): string;
}

/** A painter that colours only when `enabled`. */
export function painter(enabled: boolean): Painter {
  const paint = ((colour: Colour, text: string) => (enabled ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text)) as Painter;
  Object.defineProperty(paint, 'enabled', { value: enabled });
  return paint;
}

/** Length of a string as shown (ANSI escapes do not count). */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '').length;
}

/** Renders rows as columns separated by three spaces, headers first (kubectl style). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - visibleLength(c))))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** Serializes a value for `-o json|yaml`. */
export function serialize(value: unknown, format: Exclude<OutputFormat, 'table'>): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : toYaml(value, { lineWidth: 0 });
}

/** A kubectl-style age: `45s`, `3m12s`, `2h5m`, `4d`. */
export function age(from: string | undefined, now: Date): string {
  if (!from) return '-';
  const seconds = Math.max(0, Math.floor((now.getTime() - Date.parse(from)) / 1000));
  if (!Number.isFinite(seconds)) return '-';
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return `${minutes}m${seconds % 60 ? `${seconds % 60}s` : ''}`;
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${minutes % 60 ? `${minutes % 60}m` : ''}`;
  return `${Math.floor(hours / 24)}d`;
}

/** Seconds as `1m05s` / `42s` / `0.8s`. */
export function seconds(value: number): string {
  if (value < 10) return `${Math.round(value * 10) / 10}s`;
  const s = Math.round(value);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** A progress bar of `width` cells: `█████░░░░░`. */
export function bar(done: number, total: number, width = 20): string {
  const share = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const full = Math.round(share * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

/** Colour of a phase or condition status. */
export function phaseColour(phase: string): Colour {
  if (['Ready', 'True', 'Running'].includes(phase)) return 'green';
  if (['Failed', 'False', 'Blocked'].includes(phase)) return 'red';
  if (['Deleting', 'Deleted', 'Draining'].includes(phase)) return 'magenta';
  return 'yellow';
}
