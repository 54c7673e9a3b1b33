/**
 * Closing the local stack in the middle of a rollout (the end of a bench figure, a test's afterAll, Ctrl-C of
 * `npm start`) stops its execution within a bounded time and leaves no rejection unhandled (issue 16: the bench died
 * of `States.Runtime: local workflow closed`). Each moment runs in a child process (close-mid-rollout-child.ts) whose
 * `unhandledRejection` listener sees what Node would otherwise turn into a crash; Jest's own handler hides that
 * event from listeners in a test. test/integration/ctrl-c.test.ts covers the same through `npm start`'s entry.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { CloseReport } from './close-mid-rollout-child.js';
import { clusterDoc, startTestStack } from './harness.js';

const ROOT = resolve(import.meta.dirname ?? '.', '../..');
const require = createRequire(import.meta.url);

/** LocalWorkflow.close waits at most 10 s for handlers still running; the server and the table close in milliseconds. */
const CLOSE_BOUND_MS = 15_000;

/** Runs the child at one moment; its report, its exit code and its stderr. */
async function closeAt(moment: string): Promise<{ report: CloseReport | undefined; code: number; stderr: string }> {
  const child = join(ROOT, 'test/integration/close-mid-rollout-child.ts');
  const args = ['--import', require.resolve('tsx'), '--no-warnings', child, moment];
  const env = { ...process.env, NODE_OPTIONS: '' };
  const run = await promisify(execFile)(process.execPath, args, { cwd: ROOT, env, timeout: 120_000 }).then(
    (r) => ({ ...r, code: 0 }),
    (e: { stdout?: string; stderr?: string; code?: number }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code ?? -1 }),
  );
  const last = run.stdout.trim().split('\n').at(-1);
  return { report: last?.startsWith('{') ? (JSON.parse(last) as CloseReport) : undefined, code: run.code, stderr: run.stderr };
}

describe('closing the local stack mid-rollout', () => {
  it.each([
    ['a CreateMachine handler is still creating its machine'],
    ['a CreateMachine step waits for its machine to boot'],
    ['an upgrade drains a machine while its replacements boot'],
  ])('stops the execution within the bound and leaves no rejection unhandled when %s', async (moment) => {
    // Act
    const { report, code, stderr } = await closeAt(moment);

    // Assess
    expect({ code, stderr: stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
    expect(report).toMatchObject({ moment, runningAtClose: true, unhandled: [], runningAfter: false, lastStatus: 'ABORTED' });
    expect(report!.closeMs).toBeLessThan(CLOSE_BOUND_MS);
  }, 150_000);

  it('closes once when closed twice at the same time', async () => {
    // Prepare
    const stack = await startTestStack();
    expect((await stack.call('PUT', '/v1/clusters/mid', clusterDoc('mid', { workers: [{ name: 'md-0', replicas: 2 }] }))).status).toBe(201);

    // Act
    const [first, second] = [stack.close(), stack.close()];
    await Promise.all([first, second]);

    // Assess
    expect(second).toBe(first);
    await stack.destroy(); // and once more, as a test's afterAll would after a failure: the same close, no error
  }, 60_000);
});
