/**
 * Ctrl-C of `npm start` in the middle of a rollout: the control plane closes its workflow (a CreateMachine step is
 * waiting for its machine), its table and its server, and exits 0 with no unhandled rejection (issue 16). The
 * machines keep running, and the next start adopts them and finishes the rollout.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { clusterDoc, freePort, waitFor } from './harness.js';

const ROOT = resolve(import.meta.dirname ?? '.', '../..');
const TOKEN = 'ctrl-c-test-token-0123456789abcdef';

describe('npm start on SIGINT mid-rollout', () => {
  let home: string;
  let port: number;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'capstan-sigint-'));
    port = await freePort();
  });

  afterAll(() => rmSync(home, { recursive: true, force: true })); // machine processes exit when their state dir goes

  it('exits 0 without an unhandled rejection while a machine is being created', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'infra/local/main.ts')], {
      cwd: ROOT,
      env: { ...process.env, CAPSTAN_HOME: home, CAPSTAN_PORT: String(port), CAPSTAN_TOKEN: TOKEN, CAPSTAN_LOCAL_BOOT_MS: '3000', CAPSTAN_LOG_LEVEL: 'warn', NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, {
          method,
          headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        return { status: res.status, body: (await res.json()) as any };
      };
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) || undefined, 30_000, 100);
      expect((await call('PUT', '/v1/clusters/sigint', clusterDoc('sigint', { controlPlane: { replicas: 1 }, workers: [{ name: 'md-0', replicas: 1 }] }))).status).toBe(201);
      // A CreateMachine step is waiting for its machine's callback (boots take 3 s).
      await waitFor(async () => ((await call('GET', '/v1/clusters/sigint/events?limit=100')).body.items as { type: string }[]).some((e) => e.type === 'MachineCreated') || undefined, 30_000, 50);

      child.kill('SIGINT');
      const code = await exited;

      expect(stderr).not.toMatch(/local workflow closed|Unhandled|unhandled/);
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
