/**
 * Durations as users write them (`30s`, `10m`, `1h`, `1h30m`, or integer seconds) and their canonical form.
 */

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Seconds in a duration, or undefined when it is not one. Integers (and digit strings) are seconds. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const m = DURATION.exec(value);
  if (!m || (m[1] === undefined && m[2] === undefined && m[3] === undefined)) return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** The canonical form of a number of seconds: `0s`, `45s`, `10m`, `1h30m`, `1h0m5s` → `1h5s`. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
}

/** Seconds of a validated (canonical) duration; throws on an invalid one. */
export function durationSeconds(value: string | number): number {
  const seconds = parseDuration(value);
  if (seconds === undefined) throw new Error(`invalid duration ${JSON.stringify(value)}`);
  return seconds;
}
