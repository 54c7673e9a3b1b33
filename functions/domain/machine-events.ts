/**
 * Machine events with deterministic ids (type + machine + incarnation): a retried step, callback or plan appends the
 * same id again, which the store ignores, so no event is ever duplicated and none is lost to a crash between steps.
 */
import type { EventType, Machine, NewEvent } from './machine.js';

/** A machine event whose id is deterministic (type + machine + incarnation), so a retried step never duplicates it. */
export function machineEvent(type: EventType, machine: Machine, time: Date, message: string, data: NewEvent['data'] = {}): NewEvent {
  return {
    id: `${type}/${machine.name}/${machine.bootAttempt ?? 1}`,
    type,
    time: time.toISOString(),
    machine: machine.name,
    pool: machine.pool,
    message,
    data: { phase: machine.phase, version: machine.version, role: machine.role, ...data },
  };
}

/**
 * `MachineCreated` of a machine the provider acknowledged. Both the create step and the Ready callback append it
 * (same id, so once), which keeps it before `MachineReady` in the log even when the callback wins the race.
 */
export function machineCreatedEvent(machine: Machine, time: Date): NewEvent {
  const where = `${machine.role}${machine.role === 'worker' ? ` in ${machine.pool}` : ''}, ${machine.version}${machine.failureDomain ? `, ${machine.failureDomain}` : ''}`;
  return machineEvent('MachineCreated', { ...machine, phase: 'Provisioning' }, time, `machine ${machine.name} created (${where})`, { providerId: machine.providerId ?? null });
}

/** `MachineReady` of a machine whose record is Ready; appended by the callback and by the create step (same id). */
export function machineReadyEvent(machine: Machine): NewEvent {
  const readyAt = machine.readyAt ?? machine.createdAt;
  const seconds = Math.round((Date.parse(readyAt) - Date.parse(machine.createdAt)) / 100) / 10;
  return {
    id: `MachineReady/${machine.name}/${machine.bootAttempt ?? 1}`,
    type: 'MachineReady',
    time: readyAt,
    machine: machine.name,
    pool: machine.pool,
    message: `machine ${machine.name} is Ready (${machine.version}) after ${seconds}s`,
    data: { phase: 'Ready', version: machine.version, role: machine.role },
  };
}

/** The events of a machine that reached Ready, in log order (Created before Ready). */
export function readyEvents(machine: Machine): NewEvent[] {
  return [...(machine.providerId ? [machineCreatedEvent(machine, new Date(Date.parse(machine.createdAt)))] : []), machineReadyEvent(machine)];
}
