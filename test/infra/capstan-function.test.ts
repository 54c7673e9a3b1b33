/**
 * Where a CapstanFunction's code comes from: the prebundled handler of the built package (dist/lambda/) when it is
 * there, else the source entry bundled at synth (this repository). test/package/pack.test.ts checks the built
 * package end to end.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PREBUNDLED_DIR, prebundledModule, resolveFunctionCode } from '../../infra/constructs/capstan-function.js';

describe('prebundledModule', () => {
  it.each([
    ['functions/api/healthz.ts', 'functions/api/healthz/index'],
    ['functions/phases/create-machine.ts', 'functions/phases/create-machine/index'],
    ['functions/reconcile/sweep.mts', 'functions/reconcile/sweep/index'],
  ])('maps %s to %s', (entry, module) => {
    expect(prebundledModule(entry)).toBe(module);
  });
});

describe('resolveFunctionCode', () => {
  let root: string;
  const touch = (file: string) => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), '');
  };

  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'capstan-function-code-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it.each([
    {
      name: 'the prebundled handler when the package was built (even with the source beside it)',
      files: [`${PREBUNDLED_DIR}/functions/api/healthz/index.mjs`, 'functions/api/healthz.ts'],
      expected: (r: string) => ({ kind: 'prebundled', dir: join(r, PREBUNDLED_DIR), handler: 'functions/api/healthz/index.handler' }),
    },
    {
      name: 'the source entry in a checkout',
      files: ['functions/api/healthz.ts'],
      expected: (r: string) => ({ kind: 'source', file: join(r, 'functions/api/healthz.ts') }),
    },
  ])('uses $name', ({ files, expected }) => {
    // Prepare
    for (const file of files) touch(file);

    // Act
    const code = resolveFunctionCode('functions/api/healthz.ts', root);

    // Assess
    expect(code).toEqual(expected(root));
  });

  it('fails when neither exists, naming both paths and the build command', () => {
    expect(() => resolveFunctionCode('functions/api/healthz.ts', root)).toThrow(
      `CapstanFunction functions/api/healthz.ts: no prebundled handler at ${join(root, PREBUNDLED_DIR, 'functions/api/healthz/index.mjs')} and no source at ${join(root, 'functions/api/healthz.ts')}; build the package with \`npm run build\``,
    );
  });
});
