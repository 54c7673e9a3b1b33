/**
 * The one read → change → conditional write loop of Capstan's records. Machine records, cluster records and the
 * callbacks' machine writes all race with other writers (API writes, Ready callbacks, plan steps); each write is
 * conditional on the version read, and a lost race re-reads and re-applies the change.
 */
import { StoreConflictError } from '../domain/errors.js';

/** Attempts of one conditional update before it gives up with a StoreConflictError. */
export const UPDATE_ATTEMPTS = 8;

/** True for the errors a conditional write throws when another writer got there first. */
export function isWriteConflict(error: unknown): boolean {
  return error instanceof StoreConflictError || (error as Error | undefined)?.name === 'PreconditionFailedError';
}

/** How one record is read, changed and written back. */
export interface ConditionalUpdate<T> {
  /** What the record is, for the give-up error (`machine web-cp-1`). */
  readonly what: string;
  /** Reads the current record (`attempt` 0 first); undefined when it is gone. */
  readonly read: (attempt: number) => Promise<T | undefined>;
  /** The new record, or undefined to leave the current one as it is. */
  readonly change: (current: T) => T | undefined;
  /** Writes `next` on condition that the stored record is still `current`; throws a conflict otherwise. */
  readonly write: (next: T, current: T) => Promise<T>;
  /** @default UPDATE_ATTEMPTS */
  readonly attempts?: number;
}

/**
 * Applies `change` with a conditional write, re-reading and re-applying on a lost race. Returns the record as stored
 * afterwards (the current one when `change` declined), or undefined when the record is gone.
 */
export async function conditionalUpdate<T>(update: ConditionalUpdate<T>): Promise<T | undefined> {
  const attempts = update.attempts ?? UPDATE_ATTEMPTS;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const current = await update.read(attempt);
    if (current === undefined) return undefined;
    const next = update.change(current);
    if (next === undefined) return current;
    try {
      return await update.write(next, current);
    } catch (error) {
      if (!isWriteConflict(error)) throw error;
    }
  }
  throw new StoreConflictError(`${update.what}: too many concurrent updates`);
}
