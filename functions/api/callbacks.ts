/**
 * POST /v1/callbacks/{cluster}/{machine}/ready: a machine reports that its node is Ready (the cfn-signal idea).
 *
 * Authenticated by the machine's one-time token (`Authorization: Bearer …`), not by the API's credentials. A wrong
 * token is 401; a token used before (the machine is already Ready, Draining or gone) is 409. On success the machine
 * is marked Ready (conditional write), `MachineReady` is appended, and the workflow task waiting for this machine
 * is completed with SendTaskSuccess.
 */
import type { Deps } from '../adapters/deps.js';
import { verifyCallbackToken } from '../adapters/callback-token.js';
import { ConflictError, StoreConflictError, UnauthorizedError } from '../domain/errors.js';
import type { Machine } from '../domain/machine.js';
import { readyEvents } from '../phases/lib/phase.js';
import { httpHandler, type ApiRequest, type ApiResponse } from '../middleware/http.js';
import { pathParameter } from './lib/body.js';

function bearer(request: ApiRequest): string {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new UnauthorizedError('authorization: a machine callback needs "Bearer <machine token>"');
  return match[1]!;
}

/** The providerId a machine reports in its callback body (`{ machine, providerId }`), when well-formed. */
function reportedProviderId(request: ApiRequest): string | undefined {
  try {
    const body = JSON.parse(request.body ?? '') as { providerId?: unknown };
    return typeof body.providerId === 'string' && /^[a-z0-9-]+:\/\/\/[\w./:-]{1,200}$/.test(body.providerId) ? body.providerId : undefined;
  } catch {
    return undefined;
  }
}

/** Marks the machine Ready and releases the workflow step waiting for it. Safe to retry. */
export async function machineReady(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  const clusterName = pathParameter(request, 'cluster');
  const machineName = pathParameter(request, 'machine');
  const token = bearer(request);
  const cluster = await deps.store.getCluster(clusterName);
  const machine = cluster ? await deps.store.getMachine(clusterName, machineName) : undefined;
  const secret = await deps.callbackSecret();
  // Same answer for an unknown machine and a wrong token: nothing about other machines leaks.
  if (!cluster || !machine || machine.clusterUid !== cluster.metadata.uid
    || !verifyCallbackToken(secret, { clusterUid: machine.clusterUid, machine: machine.name, bootAttempt: machine.bootAttempt ?? 1 }, token)) {
    throw new UnauthorizedError('authorization: invalid machine token');
  }
  const now = deps.clock.now();
  // What follows the Ready write: the event (deterministic id) and releasing the waiting workflow step. Both are
  // idempotent, and both are redone when the machine retries a callback whose first attempt failed after the write.
  const completeReady = async (ready: Machine) => {
    await deps.store.appendEvents(clusterName, readyEvents(ready));
    if (ready.taskToken) {
      await deps.workflow.sendTaskSuccess(ready.taskToken, { machine: ready.name, ready: true }).catch((error: unknown) => {
        // The step may be gone (crash, timeout, already released): the next Plan observes the Ready machine anyway.
        deps.log.info('no workflow task waiting for this machine', { machine: ready.name, error });
      });
    }
  };
  let current: Machine | undefined = machine;
  for (let attempt = 0; attempt < 5 && current; attempt++) {
    if (current.readyAt || !['Pending', 'Provisioning'].includes(current.phase)) {
      // A reused token is refused; but if this is the machine retrying after our failure, finish the side effects.
      if (current.phase === 'Ready' && current.readyAt) await completeReady(current);
      throw new ConflictError(`authorization: the token of machine ${machineName} was already used (phase ${current.phase})`);
    }
    let ready: Machine;
    try {
      const providerId = current.providerId ?? reportedProviderId(request);
      ready = await deps.store.putMachine({ ...current, phase: 'Ready', readyAt: now.toISOString(), ...(providerId ? { providerId } : {}) }, current.recordVersion);
    } catch (error) {
      if (!(error instanceof StoreConflictError)) throw error;
      current = await deps.store.getMachine(clusterName, machineName);
      continue;
    }
    await completeReady(ready);
    return { status: 200, body: { machine: ready.name, phase: ready.phase } };
  }
  throw new StoreConflictError(`machine ${machineName}: could not record Ready after retries`);
}

export const handler = httpHandler(machineReady, { auth: false });
