/**
 * GET /v1/clusters/{name}/machines[?includeDeleted=true]
 */
import type { Deps } from '../adapters/deps.js';
import type { Machine } from '../domain/machine.js';
import { httpHandler, type ApiRequest, type ApiResponse } from '../middleware/http.js';
import { visibleCluster } from './lib/access.js';
import { pathParameter } from './lib/body.js';

/** The API view of a machine record (no internal fields). */
export function machineView(m: Machine) {
  return {
    name: m.name,
    role: m.role,
    pool: m.pool,
    version: m.version,
    phase: m.phase,
    ...(m.providerId ? { providerId: m.providerId } : {}),
    ...(m.failureDomain ? { failureDomain: m.failureDomain } : {}),
    ...(m.address ? { address: m.address } : {}),
    createdAt: m.createdAt,
    ...(m.readyAt ? { readyAt: m.readyAt } : {}),
    ...(m.drainStartedAt ? { drainStartedAt: m.drainStartedAt } : {}),
    ...(m.deletedAt ? { deletedAt: m.deletedAt } : {}),
    ...(m.failureReason ? { failureReason: m.failureReason, failureMessage: m.failureMessage } : {}),
  };
}

/** Lists a cluster's machines, oldest first. */
export async function listMachines(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  const name = pathParameter(request, 'name');
  visibleCluster(request.principal, name, await deps.store.getCluster(name));
  const includeDeleted = request.query.includeDeleted === 'true';
  const machines = await deps.store.listMachines(name, { includeDeleted });
  const items = [...machines].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name)).map(machineView);
  return { status: 200, body: { items } };
}

export const handler = httpHandler(listMachines);
