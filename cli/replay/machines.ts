/**
 * The machines the replay tracks: their state, how an event names its machine's pool and version, and which
 * machines were alive before the window.
 *
 * Its own file because the replay loop and every guarantee checker read this state; only the loop (../replay.ts)
 * changes it.
 */
import type { ReplayEvent } from './types.js';

/** The pool name of the control plane in events and results. */
export const CONTROL_PLANE = 'control-plane';

/** What the replay knows of one machine after the events so far. Mutable: the replay loop updates it in place. */
export interface MachineState {
  pool: string;
  version: string | undefined;
  ready: boolean;
  gone: boolean;
  /** Existed before the first event (or was created at another version than toVersion). */
  old: boolean;
  createdAt?: number;
  drainAt?: number;
}

/** The event types that change a machine's state; any other event only triggers the checks. */
export const MACHINE_EVENTS = new Set(['MachineCreated', 'MachineReady', 'MachineDraining', 'MachineDrainBlocked', 'MachineDeleted', 'MachineFailed', 'MachineUnhealthy', 'MachineMissing']);

/** The pool an event names: its `pool`, else the control plane when `data.role` says so. */
export function poolOf(event: ReplayEvent): string | undefined {
  if (event.pool) return event.pool;
  return event.data?.role === CONTROL_PLANE ? CONTROL_PLANE : undefined;
}

/** The machine version an event carries in `data.version`, if any. */
export function versionOf(event: ReplayEvent): string | undefined {
  const v = event.data?.version;
  return typeof v === 'string' ? v : undefined;
}

/** Machines that were alive before the window: first seen with anything but MachineCreated. */
export function inferInitial(events: readonly ReplayEvent[]): Map<string, MachineState> {
  const seen = new Map<string, MachineState>();
  const first = new Set<string>();
  for (const e of events) {
    if (!e.machine || !MACHINE_EVENTS.has(e.type) || first.has(e.machine)) continue;
    first.add(e.machine);
    const pool = poolOf(e);
    if (e.type === 'MachineCreated' || !pool) continue;
    seen.set(e.machine, { pool, version: versionOf(e), ready: e.type !== 'MachineReady' && e.type !== 'MachineFailed', gone: false, old: true });
  }
  return seen;
}

/** The machines of `pool` not yet deleted or missing. */
export function liveMachines(machines: ReadonlyMap<string, MachineState>, pool: string): MachineState[] {
  return [...machines.values()].filter((m) => m.pool === pool && !m.gone);
}

/** An event as violation messages name it: `MachineDeleted cp-0 (seq 12)`. */
export function describeEvent(event: ReplayEvent): string {
  return `${event.type}${event.machine ? ` ${event.machine}` : ''} (seq ${event.seq})`;
}
