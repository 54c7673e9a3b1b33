/**
 * Closing the local workflow (Ctrl-C of `npm start`, the end of a bench figure, a test's afterAll) while a
 * CreateMachine step is still running must not leave an unhandled rejection: the bench once died of
 * `States.Runtime: local workflow closed` thrown from close() (issue 16).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

describe('LocalWorkflow.close', () => {
  it('rejects a step still waiting for its machine without an unhandled rejection', () => {
    const child = spawnSync(
      process.execPath,
      ['--import', require.resolve('tsx'), '--no-warnings', path.join(process.cwd(), 'test/infra/local/close-child.ts')],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } },
    );
    expect(child.stderr).not.toMatch(/local workflow closed/);
    expect(child.stdout).toContain('closed cleanly');
    expect(child.status).toBe(0);
  }, 70_000);
});
