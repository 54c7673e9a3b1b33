/**
 * Ctrl-C of `npm start` in the middle of a rollout: the control plane closes its workflow, its table and its server,
 * and exits 0 with no unhandled rejection, within a bounded time (issue 16). Two moments: a CreateMachine handler
 * still in its provider call (the bench's crash: the step's waiter was rejected before anything awaited it), and a
 * CreateMachine step waiting for its machine's callback. The machines keep running, and the next start adopts them
 * and finishes the rollout (test/integration/crash.test.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { clusterDoc, freePort, waitFor } from './harness.js';

const ROOT = resolve(import.meta.dirname ?? '.', '../..');
const TOKEN = 'ctrl-c-test-token-0123456789abcdef';

/** From SIGINT to exit: the workflow waits at most 10 s for handlers still running; main.ts gives up after 20 s. */
const EXIT_BOUND_MS = 15_000;

type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

describe('npm start on SIGINT mid-rollout', () => {
  let home: string;
  let port: number;

  beforeEach(async () => {
    home = mkdtempSync(join(tmpdir(), 'capstan-sigint-'));
    port = await freePort();
  });

  afterEach(() => rmSync(home, { recursive: true, force: true })); // machine processes exit when their state dir goes

  it.each([
    [
      'a CreateMachine handler is still in its provider call',
      // Every createMachine call takes 3 s: once the record is written, the handler is in the provider call.
      { CAPSTAN_LOCAL_FAULTS: JSON.stringify({ slowCallMs: 3000, operations: ['createMachine'] }) },
      async (call: Call) => ((await call('GET', '/v1/clusters/sigint/machines')).body.items as unknown[]).length > 0 || undefined,
    ],
    [
      'a CreateMachine step waits for its machine to boot',
      { CAPSTAN_LOCAL_BOOT_MS: '3000' },
      async (call: Call) => ((await call('GET', '/v1/clusters/sigint/events?limit=100')).body.items as { type: string }[]).some((e) => e.type === 'MachineCreated') || undefined,
    ],
  ])('exits 0 within the bound and without an unhandled rejection when %s', async (_moment, env, reached) => {
    // Prepare
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'infra/local/main.ts')], {
      cwd: ROOT,
      env: { ...process.env, CAPSTAN_HOME: home, CAPSTAN_PORT: String(port), CAPSTAN_TOKEN: TOKEN, CAPSTAN_LOG_LEVEL: 'warn', NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const call: Call = async (method, path, body) => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, {
          method,
          headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        return { status: res.status, body: (await res.json()) as any };
      };
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) || undefined, 30_000, 100);
      expect((await call('PUT', '/v1/clusters/sigint', clusterDoc('sigint', { controlPlane: { replicas: 1 }, workers: [{ name: 'md-0', replicas: 1 }] }))).status).toBe(201);
      await waitFor(() => reached(call), 30_000, 50);

      // Act
      const signalled = Date.now();
      child.kill('SIGINT');
      const code = await exited;
      const exitMs = Date.now() - signalled;

      // Assess
      expect(stderr).not.toMatch(/local workflow closed|Unhandled|unhandled|shutdown (failed|did not finish)/);
      expect(code).toBe(0);
      expect(exitMs).toBeLessThan(EXIT_BOUND_MS);
    } finally {
      child.kill('SIGKILL');
    }
  }, 90_000);
});
