/**
 * Creating a machine: its Pending record (conditional create on the deterministic name), then the provider call
 * (idempotent on the same name: client token) and the record's Provisioning update. Either half can be retried at any
 * line: a retry finds the record, and the provider returns the machine it already made.
 */
import type { Deps } from '../adapters/deps.js';
import { deriveCallbackToken } from '../adapters/callback-token.js';
import type { Cluster } from '../domain/cluster.js';
import { StoreConflictError } from '../domain/errors.js';
import type { Machine } from '../domain/machine.js';
import { machineCreatedEvent } from '../domain/machine-events.js';
import type { MachineIntent } from '../domain/planner/types.js';
import type { MachineProvider } from '../domain/provider.js';
import { refOf } from '../domain/reconcile/scope.js';
import { updateMachine } from './records.js';

/** The Pending record of a machine the planner asked for. */
export function pendingRecord(cluster: Cluster, want: MachineIntent, taskToken: string, now: Date): Machine {
  return {
    name: want.name,
    cluster: cluster.metadata.name,
    clusterUid: cluster.metadata.uid,
    role: want.role,
    pool: want.pool,
    ordinal: want.ordinal,
    version: want.version,
    templateHash: want.templateHash,
    ...(want.failureDomain ? { failureDomain: want.failureDomain } : {}),
    phase: 'Pending',
    createdAt: now.toISOString(),
    bootAttempt: want.bootAttempt,
    taskToken,
    recordVersion: 0,
  };
}

/**
 * The machine's record, created Pending if absent (a lost create race reads the winner's), with this step's task
 * token when the machine still waits for its Ready callback.
 */
export async function recordMachine(deps: Pick<Deps, 'store' | 'clock'>, cluster: Cluster, want: MachineIntent, taskToken: string): Promise<Machine> {
  const name = cluster.metadata.name;
  let machine = await deps.store.getMachine(name, want.name);
  if (!machine) {
    try {
      machine = await deps.store.putMachine(pendingRecord(cluster, want, taskToken, deps.clock.now()));
    } catch (error) {
      if (!(error instanceof StoreConflictError)) throw error;
      machine = await deps.store.getMachine(name, want.name);
    }
  }
  if (!machine) throw new StoreConflictError(`machine ${want.name}: record vanished while being created`);
  if ((machine.phase === 'Pending' || machine.phase === 'Provisioning') && machine.clusterUid === cluster.metadata.uid && machine.taskToken !== taskToken) {
    machine = (await updateMachine(deps, name, want.name, (m) => (m.taskToken === taskToken ? undefined : { ...m, taskToken }))) ?? machine;
  }
  return machine;
}

/**
 * Asks the provider for the machine (same name, same callback token on a retry) and records what it answered;
 * appends `MachineCreated` whenever the machine exists at the provider (deterministic id: a retry after a failure
 * between the record update and the append still records it). Returns the record as stored.
 */
export async function provisionMachine(deps: Pick<Deps, 'store' | 'clock' | 'callbackSecret' | 'callbackBaseUrl'>, provider: MachineProvider, cluster: Cluster, machine: Machine, want: MachineIntent): Promise<Machine | undefined> {
  const name = cluster.metadata.name;
  const now = deps.clock.now();
  const callbackToken = deriveCallbackToken(await deps.callbackSecret(), { clusterUid: machine.clusterUid, machine: machine.name, bootAttempt: machine.bootAttempt ?? 1 });
  const made = await provider.createMachine({
    cluster: refOf(cluster),
    name: machine.name,
    role: machine.role,
    pool: machine.pool,
    version: machine.version,
    template: want.template,
    ...(machine.failureDomain ? { failureDomain: machine.failureDomain } : {}),
    bootstrap: {
      callbackUrl: `${deps.callbackBaseUrl.replace(/\/$/, '')}/v1/callbacks/${encodeURIComponent(name)}/${encodeURIComponent(machine.name)}/ready`,
      callbackToken,
    },
    spec: cluster.spec,
  });
  const provisioned = await updateMachine(deps, name, want.name, (m) =>
    m.phase === 'Pending' || (m.phase === 'Provisioning' && m.providerId !== made.providerId)
      ? { ...m, phase: m.phase === 'Pending' ? 'Provisioning' : m.phase, providerId: made.providerId, ...(made.address ? { address: made.address } : {}), ...(made.failureDomain && !m.failureDomain ? { failureDomain: made.failureDomain } : {}) }
      : undefined,
  );
  if (provisioned?.providerId) await deps.store.appendEvents(name, [machineCreatedEvent(provisioned, now)]);
  return provisioned;
}
