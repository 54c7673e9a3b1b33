/**
 * The control plane as the crash suite runs it: `startLocalStack` with its table on disk, plus a crash point
 * counter. Every store write (PutItem, UpdateItem, DeleteItem, BatchWriteItem) and every mutating provider call is a
 * crash point; at point `CHAOS_KILL_AT` the process records where it is and SIGKILLs itself, before or after the
 * call (`CHAOS_KILL_AFTER=1`). That is a real SIGKILL at a reproducible place, rather than at a wall-clock time
 * that would land somewhere else on every run.
 *
 * Environment: CAPSTAN_HOME, CAPSTAN_PORT, CAPSTAN_TOKEN, CHAOS_KILL_AT (0 = never), CHAOS_KILL_AFTER,
 * CHAOS_REPORT (a file the crash point is appended to, one JSON line), CHAOS_LOG (a file for the control plane's log).
 */
import { appendFileSync, writeSync } from 'node:fs';
import { createLogger } from '../../functions/adapters/logger.js';
import { installLoopbackGuard } from '../../infra/local/network-guard.js';
import { silenceNodeVersionWarning } from '../../infra/local/quiet-warnings.js';
import { startLocalStack } from '../../infra/local/stack.js';

const env = process.env;
const killAt = Number(env.CHAOS_KILL_AT ?? 0);
const killAfter = env.CHAOS_KILL_AFTER === '1';
const report = env.CHAOS_REPORT;
const logFile = env.CHAOS_LOG;
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);
let points = 0;

/** The handler module a call came from, read off the (async) stack. */
function phaseOf(stack: string | undefined): string {
  const frames = [...(stack ?? '').matchAll(/functions\/(phases|api|reconcile)\/((?:lib\/)?[\w-]+)\.ts/g)];
  // The handler itself, not a shared helper (phases/lib/phase.ts) it called.
  const match = frames.find((m) => !m[2]!.startsWith('lib/')) ?? frames[0];
  if (match) return `${match[1]}/${match[2]!.replace(/^lib\//, '')}`;
  if (stack?.includes('infra/local/stack.ts')) return 'local/resume';
  return 'unknown';
}

function die(what: string, phase: string, when: 'before' | 'after'): never {
  if (report) appendFileSync(report, `${JSON.stringify({ point: points, what, phase, when, pid: process.pid })}\n`);
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL is not delivered synchronously everywhere: never run another line of the control plane.
  for (;;) writeSync(2, '');
}

/** Counts one crash point; dies here (before) or returns a function that dies after the call. */
function crashPoint(what: string): (() => void) | undefined {
  if (!killAt) return undefined;
  points++;
  if (points !== killAt) return undefined;
  const phase = phaseOf(new Error().stack);
  if (!killAfter) die(what, phase, 'before');
  return () => die(what, phase, 'after');
}

async function main(): Promise<void> {
  silenceNodeVersionWarning();
  installLoopbackGuard();
  const stack = await startLocalStack({
    home: env.CAPSTAN_HOME!,
    port: Number(env.CAPSTAN_PORT),
    token: env.CAPSTAN_TOKEN!,
    persist: true,
    bootMs: Number(env.CAPSTAN_LOCAL_BOOT_MS ?? 200),
    drainMsPerPod: Number(env.CAPSTAN_LOCAL_DRAIN_MS_PER_POD ?? 20),
    reconcileSeconds: 1,
    settings: { pollSeconds: 1, orphanGraceSeconds: 1 },
    logger: createLogger({ level: 'info', write: (line) => (logFile ? appendFileSync(logFile, `${line}\n`) : undefined) }),
  });

  stack.dynamo.client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context as { commandName?: string }).commandName ?? '';
      if (!WRITES.has(name)) return next(args);
      const input = args.input as { Item?: { SK?: { S?: string } }; Key?: { SK?: { S?: string } } };
      const sk = input.Item?.SK?.S ?? input.Key?.SK?.S ?? '';
      const after = crashPoint(`store.${name.replace(/Command$/, '')}${sk ? ` ${sk.split('#')[0]}` : ''}`);
      // "After" means after the call whatever it answered: a failed conditional write is a crash point too (before
      // this `finally`, such a point was consumed without a kill and the life ran to the end of its scenario).
      try {
        return await next(args);
      } finally {
        after?.();
      }
    },
    { step: 'initialize', name: 'chaosCrashPoints' },
  );

  const provider = stack.provider as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const method of ['ensureInfrastructure', 'deleteInfrastructure', 'createMachine', 'deleteMachine', 'drain', 'cordon']) {
    const original = provider[method]!.bind(stack.provider);
    provider[method] = async (...args: unknown[]) => {
      const after = crashPoint(`provider.${method}`);
      try {
        return await original(...args);
      } finally {
        after?.();
      }
    };
  }
  process.stdout.write(`ready ${stack.url}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`crash-child: could not start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
