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
import { httpHandler, type ApiRequest, type ApiResponse } from '../middleware/http.js';
import { pathParameter } from './lib/body.js';

function bearer(request: ApiRequest): string {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new UnauthorizedError('authorization: a machine callback needs "Bearer <machine token>"');
  return match[1]!;
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
  let current: Machine | undefined = machine;
  for (let attempt = 0; attempt < 5 && current; attempt++) {
    if (current.readyAt || !['Pending', 'Provisioning'].includes(current.phase)) {
      throw new ConflictError(`authorization: the token of machine ${machineName} was already used (phase ${current.phase})`);
    }
    try {
      const ready = await deps.store.putMachine({ ...current, phase: 'Ready', readyAt: now.toISOString() }, current.recordVersion);
      await deps.store.appendEvents(clusterName, [{
        id: `MachineReady/${ready.name}/${ready.bootAttempt ?? 1}`,
        type: 'MachineReady',
        time: now.toISOString(),
        machine: ready.name,
        pool: ready.pool,
        message: `machine ${ready.name} is Ready (${ready.version}) after ${Math.round((now.getTime() - Date.parse(ready.createdAt)) / 100) / 10}s`,
        data: { phase: 'Ready', version: ready.version, role: ready.role },
      }]);
      if (ready.taskToken) {
        await deps.workflow.sendTaskSuccess(ready.taskToken, { machine: ready.name, ready: true }).catch((error: unknown) => {
          // The execution that waited may be gone (crash, timeout): the next Plan observes the Ready machine anyway.
          deps.log.info('no workflow task waiting for this machine', { machine: ready.name, error });
        });
      }
      return { status: 200, body: { machine: ready.name, phase: ready.phase } };
    } catch (error) {
      if (!(error instanceof StoreConflictError)) throw error;
      current = await deps.store.getMachine(clusterName, machineName);
    }
  }
  throw new StoreConflictError(`machine ${machineName}: could not record Ready after retries`);
}

export const handler = httpHandler(machineReady, { auth: false });
