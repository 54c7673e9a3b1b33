/**
 * The local control plane for a benchmark: `startLocalStack` in a fresh temp home, in-memory table, no timer,
 * plus a small JSON client. The same hosting `npm start` runs; nothing is mocked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../infra/local/stack.js';

/** A running bench stack. */
export interface BenchStack extends LocalStack {
  /** Calls the API with the admin token; JSON in and out. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  /** Closes the stack and removes its home (machine agents exit when their directory goes). */
  destroy(): Promise<void>;
}

/** Options of `startBenchStack`. */
export interface BenchStackOptions extends LocalStackOptions {
  /**
   * Environment variables set while the stack starts, then restored: settings the local provider reads only from
   * the environment through `startLocalStack` (e.g. `CAPSTAN_LOCAL_BOOT_SPREAD`, `CAPSTAN_LOCAL_SEED`).
   * @default none
   */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts a stack in a temp home with the reconcile timer off. */
export async function startBenchStack(options: BenchStackOptions = {}): Promise<BenchStack> {
  const home = mkdtempSync(join(tmpdir(), 'capstan-bench-'));
  const { env = {}, ...stackOptions } = options;
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  let stack: LocalStack;
  try {
    stack = await startLocalStack({ persist: false, reconcileSeconds: 0, ...stackOptions, home });
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const call: BenchStack['call'] = async (method, path, body, headers = {}) => {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${stack.token}`, ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${stack.url}${path}`, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed };
  };
  return {
    ...stack,
    call,
    async destroy() {
      await stack.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a truthy value; throws after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, intervalMs = 50): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`bench: timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A local cluster document. */
export function clusterDoc(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'capstan.dev/v1alpha1', kind: 'Cluster', metadata: { name }, spec: { infrastructure: { provider: 'local' }, version: 'v1.18.8', ...spec } };
}

/** Waits (reading the store, not the API, so the wait adds no API load) until the cluster converged at its generation. */
export async function waitConverged(stack: LocalStack, name: string, timeoutMs: number): Promise<void> {
  await waitFor(async () => {
    const c = await stack.deps.store.getCluster(name);
    return !!c && c.status.phase === 'Ready' && c.status.observedGeneration === c.metadata.generation && !stack.workflow.isRunning(name);
  }, timeoutMs);
}
