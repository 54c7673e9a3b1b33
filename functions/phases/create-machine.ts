/**
 * CreateMachine phase (a `.waitForTaskToken` step): record the machine, ask the provider for it, and leave the
 * step waiting until the machine calls back Ready (functions/api/callbacks.ts completes it).
 *
 * Note: one intent, one machine. The record is written first (conditional create on the deterministic name), and
 * the provider call is idempotent on the same name (client token), so a retry at any line returns the machine
 * already made. The callback token is derived from the machine's identity, so a retried call hands the provider
 * the same token the running machine already holds.
 */
import { getDeps, type Deps } from '../adapters/deps.js';
import { deriveCallbackToken } from '../adapters/callback-token.js';
import { StoreConflictError } from '../domain/errors.js';
import type { Machine } from '../domain/machine.js';
import type { MachineIntent } from '../domain/planner/types.js';
import { PhaseInputError } from './lib/errors.js';
import { field, intentOf, machineCreatedEvent, providerOf, readyEvents, refOf, updateMachine } from './lib/phase.js';

/** Records and creates the machine; completes the task itself when the machine is already Ready. */
export async function createMachine(input: unknown, deps: Deps): Promise<{ machine: string; phase: string }> {
  const clusterName = field(input, 'cluster');
  const taskToken = field(input, 'taskToken');
  const intent = intentOf<{ kind: string; machine: MachineIntent }>(input);
  if (intent.kind !== 'CreateMachine' || !intent.machine?.name) throw new PhaseInputError('phase input: intent must be a CreateMachine intent');
  const want = intent.machine;
  const now = deps.clock.now();
  const done = async (phase: string) => {
    await deps.workflow.sendTaskSuccess(taskToken, { machine: want.name, phase }).catch((error: unknown) => {
      // The callback may have released this step already (or it timed out): nothing is waiting any more.
      if (!/TaskDoesNotExist|TaskTimedOut|InvalidToken/.test((error as Error)?.name ?? '')) throw error;
    });
    return { machine: want.name, phase };
  };

  const cluster = await deps.store.getCluster(clusterName);
  if (!cluster || cluster.metadata.deletionTimestamp) return done('Skipped');

  let machine = await deps.store.getMachine(clusterName, want.name);
  if (!machine) {
    const record: Machine = {
      name: want.name,
      cluster: clusterName,
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
    try {
      machine = await deps.store.putMachine(record);
    } catch (error) {
      if (!(error instanceof StoreConflictError)) throw error;
      machine = await deps.store.getMachine(clusterName, want.name);
    }
  }
  if (!machine) throw new StoreConflictError(`machine ${want.name}: record vanished while being created`);
  if (machine.clusterUid !== cluster.metadata.uid) return done('Skipped');
  if (machine.phase === 'Ready') {
    // Released by the callback already, or a retry of this step: make sure the log has what happened.
    await deps.store.appendEvents(clusterName, readyEvents(machine));
    return done('Ready');
  }
  if (machine.phase !== 'Pending' && machine.phase !== 'Provisioning') return done(machine.phase);
  if (machine.taskToken !== taskToken) {
    machine = (await updateMachine(deps, clusterName, want.name, (m) => (m.taskToken === taskToken ? undefined : { ...m, taskToken }))) ?? machine;
  }

  const provider = providerOf(deps, cluster);
  const secret = await deps.callbackSecret();
  const callbackToken = deriveCallbackToken(secret, { clusterUid: machine.clusterUid, machine: machine.name, bootAttempt: machine.bootAttempt ?? 1 });
  const made = await provider.createMachine({
    cluster: refOf(cluster),
    name: machine.name,
    role: machine.role,
    pool: machine.pool,
    version: machine.version,
    template: want.template,
    ...(machine.failureDomain ? { failureDomain: machine.failureDomain } : {}),
    bootstrap: {
      callbackUrl: `${deps.callbackBaseUrl.replace(/\/$/, '')}/v1/callbacks/${encodeURIComponent(clusterName)}/${encodeURIComponent(machine.name)}/ready`,
      callbackToken,
    },
    spec: cluster.spec,
  });

  const provisioned = await updateMachine(deps, clusterName, want.name, (m) =>
    m.phase === 'Pending' || (m.phase === 'Provisioning' && m.providerId !== made.providerId)
      ? { ...m, phase: m.phase === 'Pending' ? 'Provisioning' : m.phase, providerId: made.providerId, ...(made.address ? { address: made.address } : {}), ...(made.failureDomain && !m.failureDomain ? { failureDomain: made.failureDomain } : {}) }
      : undefined,
  );
  // Appended whenever the machine exists at the provider (deterministic id): a retry after a failure between the
  // record update and the append still records it.
  if (provisioned?.providerId) {
    await deps.store.appendEvents(clusterName, [machineCreatedEvent(provisioned, now)]);
  }
  // The callback may have landed between our reads (then our update above was a no-op): read again. A provider
  // that cannot call back is polled by Plan.
  const latest = await deps.store.getMachine(clusterName, want.name);
  if (latest?.phase === 'Ready') {
    await deps.store.appendEvents(clusterName, readyEvents(latest));
    return done('Ready');
  }
  if (!provider.callsBack) return done('Provisioning');
  return { machine: want.name, phase: provisioned?.phase ?? 'Provisioning' };
}

export const handler = async (input: unknown) => createMachine(input, await getDeps());
