/**
 * MachineFailed phase: the CreateMachine step timed out (no Ready callback within nodeStartupTimeout) or failed.
 * The machine is marked Failed; the next Plan deletes it and retries with backoff, or blocks the rollout after
 * too many failures. Capacity is untouched: a machine that never became Ready never counted as available.
 */
import type { Deps } from '../adapters/deps.js';
import { phaseHandler } from '../middleware/phase.js';
import type { MachineIntent } from '../domain/planner/types.js';
import { field, intentOf } from './lib/input.js';
import { machineEvent } from '../domain/machine-events.js';
import { updateMachine } from '../core/records.js';

function causeOf(error: unknown): string {
  const e = error as { Error?: string; Cause?: string } | undefined;
  let cause = e?.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    if (parsed.errorMessage) cause = parsed.errorMessage;
  } catch {
    // Locally the cause is the bare message; on AWS a JSON string.
  }
  return [e?.Error, cause].filter(Boolean).join(': ').slice(0, 500);
}

/** Marks the intent's machine Failed (unless it made it to Ready after all). */
export async function machineFailed(input: unknown, deps: Deps): Promise<{ machine: string; phase: string }> {
  const clusterName = field(input, 'cluster');
  const reason = field(input, 'reason');
  const intent = intentOf<{ machine: MachineIntent }>(input);
  const now = deps.clock.now();
  const message = reason === 'NodeStartupTimeout' ? `machine ${intent.machine.name} did not become Ready within the node startup timeout` : `creating machine ${intent.machine.name} failed: ${causeOf((input as { error?: unknown }).error)}`;
  // Event first, then the record (a crash between them must not lose the event; a retry redoes both, same id).
  const current = await deps.store.getMachine(clusterName, intent.machine.name);
  if (current && (current.phase === 'Pending' || current.phase === 'Provisioning')) {
    await deps.store.appendEvents(clusterName, [machineEvent('MachineFailed', { ...current, phase: 'Failed' }, now, message, { reason })]);
  } else if (current?.phase === 'Failed' && current.failureReason === reason) {
    await deps.store.appendEvents(clusterName, [machineEvent('MachineFailed', current, now, message, { reason })]);
  }
  const failed = await updateMachine(deps, clusterName, intent.machine.name, (m) =>
    m.phase === 'Pending' || m.phase === 'Provisioning' ? { ...m, phase: 'Failed', failedAt: now.toISOString(), failureReason: reason, failureMessage: message } : undefined,
  );
  return { machine: intent.machine.name, phase: failed?.phase ?? 'Unknown' };
}

export const handler = phaseHandler(machineFailed);
