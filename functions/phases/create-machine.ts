/**
 * CreateMachine phase (a `.waitForTaskToken` step): record the machine, ask the provider for it, and leave the
 * step waiting until the machine calls back Ready (functions/api/callbacks.ts completes it).
 *
 * Note: one intent, one machine. The record is written first (conditional create on the deterministic name), and
 * the provider call is idempotent on the same name (client token), so a retry at any line returns the machine
 * already made. The callback token is derived from the machine's identity, so a retried call hands the provider
 * the same token the running machine already holds.
 */
import type { Deps } from '../adapters/deps.js';
import { phaseHandler } from '../middleware/phase.js';
import { provisionMachine, recordMachine } from '../core/provision.js';
import { providerOf } from '../core/records.js';
import { readyEvents } from '../domain/machine-events.js';
import type { MachineIntent } from '../domain/planner/types.js';
import { PhaseInputError } from './lib/errors.js';
import { field, intentOf } from './lib/input.js';

/** Records and creates the machine; completes the task itself when the machine is already Ready. */
export async function createMachine(input: unknown, deps: Deps): Promise<{ machine: string; phase: string }> {
  const clusterName = field(input, 'cluster');
  const taskToken = field(input, 'taskToken');
  const intent = intentOf<{ kind: string; machine: MachineIntent }>(input);
  if (intent.kind !== 'CreateMachine' || !intent.machine?.name) throw new PhaseInputError('phase input: intent must be a CreateMachine intent');
  const want = intent.machine;
  const done = async (phase: string) => {
    await deps.workflow.sendTaskSuccess(taskToken, { machine: want.name, phase }).catch((error: unknown) => {
      // The callback may have released this step already (or it timed out): nothing is waiting any more.
      if (!/TaskDoesNotExist|TaskTimedOut|InvalidToken/.test((error as Error)?.name ?? '')) throw error;
    });
    return { machine: want.name, phase };
  };

  const cluster = await deps.store.getCluster(clusterName);
  if (!cluster || cluster.metadata.deletionTimestamp) return done('Skipped');
  const machine = await recordMachine(deps, cluster, want, taskToken);
  if (machine.clusterUid !== cluster.metadata.uid) return done('Skipped');
  if (machine.phase === 'Ready') {
    // Released by the callback already, or a retry of this step: make sure the log has what happened.
    await deps.store.appendEvents(clusterName, readyEvents(machine));
    return done('Ready');
  }
  if (machine.phase !== 'Pending' && machine.phase !== 'Provisioning') return done(machine.phase);

  const provider = providerOf(deps, cluster);
  const provisioned = await provisionMachine(deps, provider, cluster, machine, want);
  // The callback may have landed between our reads (then the update was a no-op): read again. A provider that
  // cannot call back is polled by Plan.
  const latest = await deps.store.getMachine(clusterName, want.name);
  if (latest?.phase === 'Ready') {
    await deps.store.appendEvents(clusterName, readyEvents(latest));
    return done('Ready');
  }
  if (!provider.callsBack) return done('Provisioning');
  return { machine: want.name, phase: provisioned?.phase ?? 'Provisioning' };
}

export const handler = phaseHandler(createMachine);
