/**
 * Cluster API v1beta1 durations are Go `time.Duration` strings (`300s`, `10m0s`, `1h30m`, `1.5h`, `500ms`);
 * v1beta2 replaced them with integer `*Seconds` fields. Capstan keeps canonical strings (`5m`), so both land here.
 */
import { formatDuration } from '../duration.js';

const UNIT_SECONDS: Readonly<Record<string, number>> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
const TERM = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/**
 * Seconds in a Go duration string, rounded up to a whole second (Capstan's resolution), or undefined when the
 * string is not a non-negative Go duration. `"0"` is zero, as in Go.
 */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '' || text.startsWith('-')) return undefined;
  let total = 0;
  let pos = text.startsWith('+') ? 1 : 0;
  if (pos === text.length) return undefined;
  while (pos < text.length) {
    TERM.lastIndex = pos;
    const m = TERM.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * (UNIT_SECONDS[m[2] ?? ''] ?? 0);
    pos = TERM.lastIndex;
  }
  // Round away float noise (0.1+0.2) before rounding up to whole seconds.
  return Math.ceil(Math.round(total * 1e6) / 1e6);
}

/**
 * A Capstan duration from a v1beta1 Go duration string or a v1beta2 integer number of seconds; undefined when
 * `value` is neither.
 */
export function toCapstanDuration(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? formatDuration(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const seconds = parseGoDuration(value);
  return seconds === undefined ? undefined : formatDuration(seconds);
}
