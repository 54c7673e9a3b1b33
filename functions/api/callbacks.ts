/**
 * POST /v1/callbacks/{cluster}/{machine}/ready: a machine reports that its node is Ready (the cfn-signal idea).
 *
 * Authenticated by the machine's one-time token (`Authorization: Bearer …`), not by the API's credentials. A wrong
 * token is 401; a token used before (the machine is already Ready, Draining or gone) is 409. On success the machine
 * is marked Ready (conditional write), `MachineReady` is appended, and the workflow task waiting for this machine
 * is completed with SendTaskSuccess. The engine is lib/machine-ready.ts.
 */
import type { Deps } from '../adapters/deps.js';
import { httpHandler, type ApiRequest, type ApiResponse } from '../middleware/http.js';
import { pathParameter } from './lib/body.js';
import { authenticMachine, bearer, recordReady, reportedProviderId } from './lib/machine-ready.js';

/** Marks the machine Ready and releases the workflow step waiting for it. Safe to retry. */
export async function machineReady(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  const clusterName = pathParameter(request, 'cluster');
  const machineName = pathParameter(request, 'machine');
  const machine = await authenticMachine(deps, clusterName, machineName, bearer(request));
  const ready = await recordReady(deps, clusterName, machine, reportedProviderId(request));
  return { status: 200, body: { machine: ready.name, phase: ready.phase } };
}

export const handler = httpHandler(machineReady, { auth: false });
