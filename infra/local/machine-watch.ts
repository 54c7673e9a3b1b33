/**
 * The local event path (what EC2 instance state-change events are on AWS): notice within about a second that a local
 * machine's process exited or its directory vanished, and start its cluster's workflow through the same trigger as
 * functions/reconcile/instance-event.ts.
 *
 * Note: `kill -9` of a machine writes nothing to disk, so fs.watch alone cannot see it: a liveness check of every
 * machine (`listMachines`: one small file read and one /proc read per machine) runs every `intervalMs`, and fs.watch
 * on `${home}/machines` only makes it run sooner when directories change. Losses Capstan caused itself (records
 * Draining/Deleting/Deleted) are ignored by the trigger, so rollouts start no extra executions.
 */
import { watch, mkdirSync, type FSWatcher } from 'node:fs';
import type { Deps } from '../../functions/adapters/deps.js';
import { reconcileLostMachine, type TriggerResult } from '../../functions/reconcile/trigger.js';
import type { LocalProvider } from '../../providers/local/local-provider.js';

/** Options of `startMachineWatch`. */
export interface MachineWatchOptions {
  readonly provider: LocalProvider;
  readonly deps: Deps;
  /** Liveness check period. @default 1000 */
  readonly intervalMs?: number;
  /** Called with every trigger result (tests, logs). */
  readonly onTrigger?: (result: TriggerResult) => void;
}

/** A running watcher. */
export interface MachineWatch {
  /** Runs one liveness check now (and waits for the triggers it causes). */
  check(): Promise<void>;
  close(): Promise<void>;
}

const SCOPE = { provider: 'local', account: 'local', region: 'local' } as const;

/** Starts watching the local provider's machines. */
export function startMachineWatch(options: MachineWatchOptions): MachineWatch {
  const { provider, deps } = options;
  const alive = new Map<string, { cluster: string; clusterUid: string; machine: string }>();
  let closed = false;
  let running: Promise<void> | undefined;
  let again = false;
  let primed = false;

  const once = async (): Promise<void> => {
    const listed = await provider.listMachines(SCOPE);
    const now = new Set<string>();
    for (const m of listed) {
      const key = `${m.clusterUid}/${m.name}`;
      if (m.state === 'running' || m.state === 'pending') {
        now.add(key);
        alive.set(key, { cluster: m.cluster, clusterUid: m.clusterUid, machine: m.name });
      }
    }
    const lost = [...alive.entries()].filter(([key]) => !now.has(key));
    for (const [key] of lost) alive.delete(key);
    if (!primed) {
      primed = true;
      return;
    }
    for (const [, machine] of lost) {
      if (closed) return;
      const result = await reconcileLostMachine(deps, machine, 'machine-exit').catch((error: unknown) => {
        deps.log.warn('machine watch: could not reconcile a lost machine', { ...machine, error });
        return undefined;
      });
      if (result) options.onTrigger?.(result);
    }
  };

  const check = (): Promise<void> => {
    if (closed) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await once().catch((error: unknown) => deps.log.warn('machine watch: liveness check failed', { error }));
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  try {
    const root = provider.layout.machinesRoot;
    mkdirSync(root, { recursive: true });
    watcher = watch(root, { recursive: true, persistent: false }, () => {
      if (debounce || closed) return;
      debounce = setTimeout(() => {
        debounce = undefined;
        void check();
      }, 50);
      debounce.unref();
    });
    watcher.on('error', () => undefined); // polling still covers it
  } catch (error) {
    deps.log.debug('machine watch: fs.watch unavailable, polling only', { error });
  }
  const timer = setInterval(() => void check(), options.intervalMs ?? 1000);
  timer.unref();
  void check();

  return {
    check,
    async close() {
      closed = true;
      clearInterval(timer);
      if (debounce) clearTimeout(debounce);
      watcher?.close();
      await running;
    },
  };
}
