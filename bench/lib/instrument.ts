/**
 * Counters the benchmarks attach to a running local stack without changing it: DynamoDB requests and capacity
 * units (a middleware on the client), provider calls and the time spent in them (wrapping the instance's methods),
 * the ASL interpreter's event logs (teeing `StateMachine.run`), and when each cluster event was appended.
 *
 * Why wrap instead of adding hooks to the product: the numbers must describe the code that ships; every wrapper
 * here is removed again by `restore()`.
 */
import { performance } from 'node:perf_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StateMachine } from 'aws-local-stepfunctions';
import type { NewEvent } from '../../functions/domain/machine.js';
import type { Store } from '../../functions/domain/ports.js';

const READS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand']);
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);

/** DynamoDB traffic seen by one client. */
export interface DynamoCounts {
  /** Requests by command name (`GetItemCommand`, …). */
  readonly requests: Record<string, number>;
  reads: number;
  writes: number;
  /** Read/write request units as the emulator reports them (ReturnConsumedCapacity TOTAL). */
  readUnits: number;
  writeUnits: number;
}

/** A counter attached to something; `reset()` zeroes it, `restore()` detaches it. */
export interface Attached<T> {
  readonly counts: T;
  reset(): void;
  restore(): void;
}

function capacityOf(output: unknown): number {
  const c = (output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] } | undefined)?.ConsumedCapacity;
  if (!c) return 0;
  return (Array.isArray(c) ? c : [c]).reduce((n, x) => n + (x.CapacityUnits ?? 0), 0);
}

/** Counts every DynamoDB request the client sends, and the capacity units each consumed. */
export function countDynamo(client: DynamoDBClient): Attached<DynamoCounts> {
  const counts: DynamoCounts = { requests: {}, reads: 0, writes: 0, readUnits: 0, writeUnits: 0 };
  const name = 'capstanBenchCounter';
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String((context as { commandName?: string }).commandName ?? 'Unknown');
      const input = args.input as Record<string, unknown>;
      if (READS.has(command) || WRITES.has(command)) input.ReturnConsumedCapacity ??= 'TOTAL';
      const result = await next(args);
      counts.requests[command] = (counts.requests[command] ?? 0) + 1;
      const units = capacityOf(result.output);
      if (READS.has(command)) {
        counts.reads++;
        counts.readUnits += units;
      } else if (WRITES.has(command)) {
        counts.writes++;
        counts.writeUnits += units;
      }
      return result;
    },
    { step: 'initialize', name },
  );
  return {
    counts,
    reset() {
      for (const k of Object.keys(counts.requests)) delete counts.requests[k];
      counts.reads = counts.writes = counts.readUnits = counts.writeUnits = 0;
    },
    restore: () => void client.middlewareStack.remove(name),
  };
}

/** Provider calls by method, and the intervals (performance.now() ms) they ran in. */
export interface ProviderCounts {
  readonly calls: Record<string, number>;
  readonly intervals: { method: string; start: number; end: number }[];
}

/** Method names of the provider contract (functions/domain/provider.ts) that count as provider API calls. */
export const PROVIDER_METHODS = ['ensureInfrastructure', 'deleteInfrastructure', 'createMachine', 'deleteMachine', 'listMachines', 'getNode', 'listNodes', 'cordon', 'drain'] as const;

/** Wraps the provider instance's contract methods to count calls and time them. */
export function countProvider(provider: object): Attached<ProviderCounts> {
  const counts: ProviderCounts = { calls: {}, intervals: [] };
  const target = provider as Record<string, unknown>;
  const originals = new Map<string, unknown>();
  for (const method of PROVIDER_METHODS) {
    const original = target[method];
    if (typeof original !== 'function') continue;
    originals.set(method, Object.prototype.hasOwnProperty.call(target, method) ? original : undefined);
    target[method] = async function (this: unknown, ...args: unknown[]) {
      const start = performance.now();
      try {
        return await (original as (...a: unknown[]) => Promise<unknown>).apply(provider, args);
      } finally {
        counts.calls[method] = (counts.calls[method] ?? 0) + 1;
        counts.intervals.push({ method, start, end: performance.now() });
      }
    };
  }
  return {
    counts,
    reset() {
      for (const k of Object.keys(counts.calls)) delete counts.calls[k];
      counts.intervals.length = 0;
    },
    restore() {
      for (const [method, own] of originals) {
        if (own === undefined) delete target[method];
        else target[method] = own;
      }
    },
  };
}

/** Milliseconds covered by the union of the intervals, clipped to [from, to]. */
export function coveredMs(intervals: readonly { start: number; end: number }[], from: number, to: number): number {
  const clipped = intervals.map((i) => ({ start: Math.max(from, i.start), end: Math.min(to, i.end) })).filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  let total = 0;
  let cursor = -Infinity;
  for (const i of clipped) {
    const start = Math.max(cursor, i.start);
    if (i.end > start) total += i.end - start;
    cursor = Math.max(cursor, i.end);
  }
  return total;
}

/** One interpreter event as recorded (the interpreter's own shape, trimmed). */
export interface RecordedEvent {
  readonly type: string;
  readonly timestamp: number;
  readonly state?: { readonly name: string; readonly type: string };
  /** Bytes of the state's output JSON (StateExited only). */
  readonly outputBytes?: number;
  /** Map item index when inside a Map iteration. */
  readonly index?: number;
}

/** The event log of one execution. */
export interface RecordedExecution {
  readonly name: string;
  readonly events: RecordedEvent[];
}

/**
 * Records the event log of every execution the ASL interpreter runs from now on, by teeing the async generator
 * `StateMachine.run` returns (the local workflow still consumes it as before). Map items run as nested machines
 * whose events also reach the parent's log (with their `index`): only the top-level run of a name is recorded.
 */
export function recordExecutions(): Attached<RecordedExecution[]> {
  const executions: RecordedExecution[] = [];
  const proto = StateMachine.prototype as unknown as { run: (input: unknown, options?: unknown) => { eventLogs: AsyncGenerator<unknown> } };
  const original = proto.run;
  proto.run = function (this: unknown, input: unknown, options?: unknown) {
    const execution = original.call(this, input, options);
    const name = String((options as { context?: { Execution?: { Name?: string } } } | undefined)?.context?.Execution?.Name ?? `execution-${executions.length}`);
    // Map iterations run as nested machines with the parent's context; their events also reach the parent's log.
    if (executions.some((e) => e.name === name)) return execution;
    const record: RecordedExecution = { name, events: [] };
    executions.push(record);
    const source = execution.eventLogs;
    async function* tee(): AsyncGenerator<unknown> {
      for await (const raw of source) {
        const e = raw as { type: string; timestamp: number; state?: { name: string; type: string; output?: unknown }; index?: number };
        record.events.push({
          type: e.type,
          timestamp: e.timestamp,
          ...(e.state ? { state: { name: e.state.name, type: e.state.type } } : {}),
          ...(e.type === 'StateExited' && e.state?.output !== undefined ? { outputBytes: Buffer.byteLength(JSON.stringify(e.state.output)) } : {}),
          ...(typeof e.index === 'number' ? { index: e.index } : {}),
        });
        yield raw;
      }
    }
    return { ...execution, eventLogs: tee() };
  };
  return {
    counts: executions,
    reset: () => void (executions.length = 0),
    restore: () => void (proto.run = original),
  };
}

/** A cluster event as it was appended, with the moment (performance.now() ms) the store was asked to append it. */
export interface AppendedEvent {
  readonly cluster: string;
  readonly type: string;
  readonly machine?: string;
  readonly at: number;
}

/** Timestamps every event appended through the store (the moment the handler appends it, not its `time` field). */
export function watchAppends(store: Store): Attached<AppendedEvent[]> {
  const seen: AppendedEvent[] = [];
  const target = store as unknown as { appendEvents: Store['appendEvents'] };
  const own = Object.prototype.hasOwnProperty.call(target, 'appendEvents') ? target.appendEvents : undefined;
  const original = target.appendEvents;
  target.appendEvents = async (cluster: string, events: readonly NewEvent[]) => {
    const result = await original.call(store, cluster, events);
    const at = performance.now();
    for (const e of events) seen.push({ cluster, type: e.type, ...((e as { machine?: string }).machine ? { machine: (e as { machine?: string }).machine! } : {}), at });
    return result;
  };
  return {
    counts: seen,
    reset: () => void (seen.length = 0),
    restore() {
      if (own) target.appendEvents = own;
      else delete (target as { appendEvents?: unknown }).appendEvents;
    },
  };
}
