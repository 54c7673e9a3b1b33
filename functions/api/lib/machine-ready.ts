/**
 * The engine of a machine's Ready callback: who is calling (the machine's one-time token), what the record becomes
 * (Ready, once), the conditional write, and what follows it (the event and the waiting workflow step).
 *
 * Why its own file: functions/api/callbacks.ts stays parse → observe → decide → act → persist in a few lines, and
 * the write is the shared `conditionalUpdate` loop (functions/core/conditional-update.ts), like every other writer of
 * machine records the callback races with (plan steps, other callbacks).
 */
import type { Deps } from '../../adapters/deps.js';
import { verifyCallbackToken } from '../../adapters/callback-token.js';
import { conditionalUpdate } from '../../core/conditional-update.js';
import { ConflictError, StoreConflictError, UnauthorizedError } from '../../domain/errors.js';
import type { Machine } from '../../domain/machine.js';
import { readyEvents } from '../../domain/machine-events.js';
import type { ApiRequest } from '../../middleware/http.js';

/** Attempts of the Ready write before the callback gives up with a StoreConflictError (503; the machine retries). */
export const READY_WRITE_ATTEMPTS = 5;

/** The machine token of `Authorization: Bearer …`; 401 when there is none. */
export function bearer(request: ApiRequest): string {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new UnauthorizedError('authorization: a machine callback needs "Bearer <machine token>"');
  return match[1]!;
}

/** The providerId a machine reports in its callback body (`{ machine, providerId }`), when well-formed. */
export function reportedProviderId(request: ApiRequest): string | undefined {
  try {
    const body = JSON.parse(request.body ?? '') as { providerId?: unknown };
    return typeof body.providerId === 'string' && /^[a-z0-9-]+:\/\/\/[\w./:-]{1,200}$/.test(body.providerId) ? body.providerId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The machine record the token was issued for (cluster uid, machine name and boot attempt are in the token).
 * Note: an unknown cluster or machine and a wrong token get the same 401, so nothing about other machines leaks.
 */
export async function authenticMachine(deps: Deps, clusterName: string, machineName: string, token: string): Promise<Machine> {
  const cluster = await deps.store.getCluster(clusterName);
  const machine = cluster ? await deps.store.getMachine(clusterName, machineName) : undefined;
  const secret = await deps.callbackSecret();
  if (!cluster || !machine || machine.clusterUid !== cluster.metadata.uid
    || !verifyCallbackToken(secret, { clusterUid: machine.clusterUid, machine: machine.name, bootAttempt: machine.bootAttempt ?? 1 }, token)) {
    throw new UnauthorizedError('authorization: invalid machine token');
  }
  return machine;
}

/** True while a machine still waits for its Ready callback (booting, never Ready before). */
export function awaitsReady(machine: Machine): boolean {
  return !machine.readyAt && ['Pending', 'Provisioning'].includes(machine.phase);
}

/** The record a Ready callback writes: phase Ready at `now`, with the providerId it reported if the record has none. */
export function readyRecord(machine: Machine, now: Date, providerId: string | undefined): Machine {
  const id = machine.providerId ?? providerId;
  return { ...machine, phase: 'Ready', readyAt: now.toISOString(), ...(id ? { providerId: id } : {}) };
}

/**
 * What follows the Ready write: `MachineReady` (and `MachineCreated`, deterministic ids) and releasing the workflow
 * step waiting for this machine. Both are idempotent, and both are redone when the machine retries a callback
 * whose first attempt failed after the write.
 */
export async function completeReady(deps: Deps, clusterName: string, ready: Machine): Promise<void> {
  await deps.store.appendEvents(clusterName, readyEvents(ready));
  if (!ready.taskToken) return;
  await deps.workflow.sendTaskSuccess(ready.taskToken, { machine: ready.name, ready: true }).catch((error: unknown) => {
    // The step may be gone (crash, timeout, already released): the next Plan observes the Ready machine anyway.
    deps.log.info('no workflow task waiting for this machine', { machine: ready.name, error });
  });
}

/**
 * Writes the machine Ready (conditional on its record version; a lost race re-reads and decides again) and
 * completes what follows. A token used before is refused with 409 (the machine is already Ready, Draining or gone);
 * if the machine is Ready, what follows is completed first, since that is a machine retrying after our failure.
 * @param machine the record as `authenticMachine` read it (the first attempt does not read it again)
 */
export async function recordReady(deps: Deps, clusterName: string, machine: Machine, providerId: string | undefined): Promise<Machine> {
  const now = deps.clock.now();
  let used: Machine | undefined;
  const stored = await conditionalUpdate<Machine>({
    what: `machine ${machine.name}`,
    attempts: READY_WRITE_ATTEMPTS,
    read: async (attempt) => (attempt === 0 ? machine : deps.store.getMachine(clusterName, machine.name)),
    change: (current) => {
      used = awaitsReady(current) ? undefined : current;
      return used ? undefined : readyRecord(current, now, providerId);
    },
    write: (next, current) => deps.store.putMachine(next, current.recordVersion),
  });
  if (!stored) throw new StoreConflictError(`machine ${machine.name}: could not record Ready after retries`);
  if (used) {
    if (used.phase === 'Ready' && used.readyAt) await completeReady(deps, clusterName, used);
    throw new ConflictError(`authorization: the token of machine ${machine.name} was already used (phase ${used.phase})`);
  }
  await completeReady(deps, clusterName, stored);
  return stored;
}
