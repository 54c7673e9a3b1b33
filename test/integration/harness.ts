/**
 * Integration harness: the whole local control plane in-process (dynalite in memory, the ASL interpreter, the
 * local provider with real machine processes under a temp CAPSTAN_HOME), plus a small API client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../infra/local/stack.js';

export interface TestStack extends LocalStack {
  /** Calls the API with the admin token; JSON in and out. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  /** Stops the stack and removes its home (machine processes exit when their state dir goes). */
  destroy(): Promise<void>;
}

/** Starts a stack with fast machines (bootMs 200 by default) in a fresh temp home. */
export async function startTestStack(options: LocalStackOptions = {}): Promise<TestStack> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'capstan-it-'));
  const stack = await startLocalStack({ persist: false, bootMs: 200, drainMsPerPod: 20, reconcileSeconds: 0, ...options, home });
  const call: TestStack['call'] = async (method, path, body, headers = {}) => {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${stack.token}`, ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= typeof body === 'string' ? 'application/yaml' : 'application/json';
    }
    const res = await fetch(`${stack.url}${path}`, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return {
    ...stack,
    call,
    async destroy() {
      await stack.close();
      if (!options.home) rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws with the last value). */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const start = Date.now();
  let last: unknown;
  for (;;) {
    const value = await check();
    if (value) return value;
    last = value;
    if (Date.now() - start > timeoutMs) throw new Error(`waitFor: timed out after ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A minimal valid local cluster document. */
export function clusterDoc(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'capstan.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name },
    spec: { infrastructure: { provider: 'local' }, version: 'v1.18.8', controlPlane: { replicas: 1 }, workers: [], ...spec },
  };
}

/** Waits until the cluster is Ready at its current generation. */
export async function waitReady(stack: TestStack, name: string, timeoutMs = 60_000): Promise<any> {
  return waitFor(async () => {
    const r = await stack.call('GET', `/v1/clusters/${name}`);
    const c = r.body;
    return r.status === 200 && c.status.phase === 'Ready' && c.status.observedGeneration === c.metadata.generation ? c : undefined;
  }, timeoutMs);
}

/** Every event of a cluster through the paginated events API (what was read so far if a page is not a 200). */
export async function allEvents(call: (method: string, path: string) => Promise<{ status: number; body: any }>, name: string): Promise<any[]> {
  const items: any[] = [];
  let after = 0;
  for (;;) {
    const page = await call('GET', `/v1/clusters/${encodeURIComponent(name)}/events?after=${after}&limit=1000`);
    if (page.status !== 200) return items;
    items.push(...page.body.items);
    if (!page.body.next) return items;
    after = Number(page.body.next);
  }
}

/** A loopback port nothing listens on right now (for a control plane started as a child process). */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}
