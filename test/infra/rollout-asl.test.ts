import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ROLLOUT_ASL_PATH } from '../../infra/constructs/capstan-control-plane.js';
import { PHASE_FUNCTIONS } from '../../infra/constructs/function-catalog.js';

type AslValidator = (definition: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

const source = readFileSync(ROLLOUT_ASL_PATH, 'utf8');

describe('rollout.asl.json', () => {
  it('is a valid state machine definition (asl-validator, default options)', () => {
    // Act
    const result = aslValidator(JSON.parse(source));

    // Assess
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('uses only placeholders the construct substitutes, and every one of them', () => {
    // Prepare
    const placeholders = new Set([...source.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]));

    // Act
    const substituted = new Set(PHASE_FUNCTIONS.map((p) => p.substitution));

    // Assess
    expect([...placeholders].sort()).toEqual([...substituted].sort());
  });

  it('fails validation of a definition with a dangling Next (the validator is live)', () => {
    // Prepare
    const broken = JSON.parse(source) as { States: Record<string, { Next?: string }> };
    broken.States.Plan!.Next = 'NoSuchState';

    // Act
    const result = aslValidator(broken);

    // Assess
    expect(result.isValid).toBe(false);
  });
});
