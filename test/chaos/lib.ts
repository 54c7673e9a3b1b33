/**
 * Shared helpers of the chaos suites (`npm run test:chaos`): the seed, short vs long form, event paging, the
 * secret scanner and a log-capturing logger.
 *
 * Every suite draws its randomness from `CHAOS_SEED` (default 1) through `seededRandom`, and prints the seed when it
 * fails, so a failure is replayed with `CHAOS_SEED=<n> npm run test:chaos`. `CHAOS_LONG=1` selects the long forms.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveCallbackToken } from '../../functions/adapters/callback-token.js';
import { createLogger, type Logger } from '../../functions/adapters/logger.js';
import { seededRandom } from '../../providers/local/faults.js';

/** The run's seed: `CHAOS_SEED`, default 1. */
export const CHAOS_SEED = (() => {
  const raw = process.env.CHAOS_SEED;
  const n = raw === undefined || raw === '' ? 1 : Number(raw);
  if (!Number.isInteger(n)) throw new Error(`CHAOS_SEED: must be an integer, got ${JSON.stringify(raw)}`);
  return n;
})();

/** True for the long forms (`CHAOS_LONG=1`). */
export const CHAOS_LONG = process.env.CHAOS_LONG === '1';

/** `short` normally, `long` under CHAOS_LONG=1. */
export function pick<T>(short: T, long: T): T {
  return CHAOS_LONG ? long : short;
}

/** A seeded random source for one suite (the suite name is mixed in so suites do not share sequences). */
export function chaosRandom(suite: string): () => number {
  let h = CHAOS_SEED >>> 0;
  for (const c of suite) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return seededRandom(h);
}

/** An integer in [lo, hi] from `random`. */
export function between(random: () => number, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

export { allEvents } from '../integration/harness.js';

/** Log lines captured by `captureLogger`. */
export interface CapturedLogs {
  readonly lines: string[];
  readonly logger: Logger;
}

/** A debug-level logger that keeps every line in memory, for the secret scans. */
export function captureLogger(): CapturedLogs {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }) };
}

/** The callback secret of a local CAPSTAN_HOME. */
export function callbackSecretOf(home: string): Buffer {
  return Buffer.from(readFileSync(join(home, 'callback-secret'), 'utf8').trim(), 'base64url');
}

/** The callback tokens of machines (every boot attempt up to `attempts`). */
export function callbackTokens(secret: Uint8Array, machines: readonly { clusterUid: string; name: string }[], attempts = 3): string[] {
  return machines.flatMap((m) => Array.from({ length: attempts }, (_v, i) => deriveCallbackToken(secret, { clusterUid: m.clusterUid, machine: m.name, bootAttempt: i + 1 })));
}

/** Where each secret occurs in `texts` (label → first hit), empty when none leaks. */
export function findSecrets(texts: Readonly<Record<string, string>>, secrets: readonly string[]): string[] {
  const hits: string[] = [];
  for (const [label, text] of Object.entries(texts)) {
    for (const secret of secrets) {
      if (secret.length >= 8 && text.includes(secret)) hits.push(`${label} contains ${secret.slice(0, 6)}…`);
    }
  }
  return hits;
}

/** Runs `fn` and prefixes a failure with the seed, so it can be replayed. */
export async function withSeed<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof Error) error.message = `[CHAOS_SEED=${CHAOS_SEED}${CHAOS_LONG ? ' CHAOS_LONG=1' : ''}] ${error.message}`;
    throw error;
  }
}

/** The machine events the records imply but the log lacks, timed from the records. */
export function missingEvents(events: any[], machines: any[]): any[] {
  const has = (type: string, machine: string) => events.some((e) => e.type === type && e.machine === machine);
  const out: any[] = [];
  for (const m of machines) {
    const data = { role: m.role, version: m.version };
    if (m.providerId && !has('MachineCreated', m.name)) out.push({ type: 'MachineCreated', machine: m.name, pool: m.pool, time: m.createdAt, data });
    if (m.readyAt && !has('MachineReady', m.name)) out.push({ type: 'MachineReady', machine: m.name, pool: m.pool, time: m.readyAt, data });
    if (m.drainStartedAt && !has('MachineDraining', m.name)) out.push({ type: 'MachineDraining', machine: m.name, pool: m.pool, time: m.drainStartedAt, data });
    if (m.deletedAt && !has('MachineDeleted', m.name) && !has('MachineMissing', m.name)) out.push({ type: 'MachineDeleted', machine: m.name, pool: m.pool, time: m.deletedAt, data });
  }
  return out;
}

/**
 * The log with the missing events put back where the record timestamps place them, so the replay checks the bounds
 * that really held (from the records) even where the log itself lost an event.
 */
export function repairLog(events: any[], missing: any[]): any[] {
  if (!missing.length) return events;
  const merged = [...events.map((e) => ({ ...e })), ...missing].sort((a, b) => Date.parse(a.time) - Date.parse(b.time) || (a.seq ?? Infinity) - (b.seq ?? Infinity));
  return merged.map((e, i) => ({ ...e, seq: i + 1 }));
}
