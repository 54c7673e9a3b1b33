/** Fault configuration of the local provider: parsing CAPSTAN_LOCAL_FAULTS, machine selectors, call faults. */
import { describe, expect, it } from '@jest/globals';
import { applyCallFaults, machineFaults, parseLocalFaults, seededRandom, selects, type MachineSelector } from '../../providers/local/faults.js';

describe('parseLocalFaults', () => {
  it.each([
    ['unset', undefined, {}],
    ['blank', '  ', {}],
    ['rates and lists', '{"throttleRate":0.1,"slowCallMs":200,"neverBoot":["demo-md-0-3"],"pdbBlocksDrain":0.5}', { throttleRate: 0.1, slowCallMs: 200, neverBoot: ['demo-md-0-3'], pdbBlocksDrain: 0.5 }],
    ['operations', '{"errorRate":1,"operations":["createMachine","drain"]}', { errorRate: 1, operations: ['createMachine', 'drain'] }],
    ['booleans', '{"dieDuringDrain":true}', { dieDuringDrain: true }],
  ])('parses %s', (_case, json, expected) => {
    expect(parseLocalFaults(json)).toEqual(expected);
  });

  it.each([
    ['it is not JSON', '{throttleRate:1}', ['CAPSTAN_LOCAL_FAULTS']],
    ['a rate is above 1', '{"throttleRate":1.5}', ['CAPSTAN_LOCAL_FAULTS.throttleRate']],
    ['a field is unknown', '{"throttle":0.5}', ['CAPSTAN_LOCAL_FAULTS']],
    ['an operation is unknown', '{"operations":["launch"]}', ['CAPSTAN_LOCAL_FAULTS.operations.0']],
    ['several fields are bad', '{"errorRate":-1,"neverBoot":"all"}', ['CAPSTAN_LOCAL_FAULTS.errorRate', 'CAPSTAN_LOCAL_FAULTS.neverBoot']],
  ])('fails when %s, naming every bad field', (_case, json, paths) => {
    let error: unknown;
    try {
      parseLocalFaults(json);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ name: 'ValidationError' });
    expect((error as { details: { path: string }[] }).details.map((d) => d.path)).toEqual(paths);
  });
});

describe('selects', () => {
  const never = () => {
    throw new Error('random must not be drawn');
  };
  it.each<[string, MachineSelector | undefined, string, boolean]>([
    ['undefined', undefined, 'demo-md-0-1', false],
    ['false', false, 'demo-md-0-1', false],
    ['true', true, 'demo-md-0-1', true],
    ['rate 0', 0, 'demo-md-0-1', false],
    ['rate 1', 1, 'demo-md-0-1', true],
    ['exact name', ['demo-md-0-1'], 'demo-md-0-1', true],
    ['exact name of another machine', ['demo-md-0-1'], 'demo-md-0-10', false],
    ['glob', ['demo-md-*'], 'demo-md-0-7', true],
    ['glob that does not match', ['demo-cp-*'], 'demo-md-0-7', false],
    ['dots are literal', ['demo.md'], 'demoxmd', false],
    ['predicate', (m: string) => m.endsWith('-2'), 'demo-md-0-2', true],
  ])('decides %s without drawing a random number', (_case, selector, machine, expected) => {
    expect(selects(selector, machine, never)).toBe(expected);
  });

  it('draws once for a fractional rate', () => {
    const draws: number[] = [];
    const random = () => {
      draws.push(1);
      return 0.2;
    };
    expect([selects(0.5, 'm', random), selects(0.1, 'm', random)]).toEqual([true, false]);
    expect(draws).toHaveLength(2);
  });
});

describe('machineFaults', () => {
  it('decides each machine fault independently', () => {
    expect(machineFaults({ neverBoot: ['a'], dieDuringDrain: true }, 'a', Math.random)).toEqual({ neverBoot: true, dieDuringDrain: true, pdbBlocksDrain: false });
  });
});

describe('applyCallFaults', () => {
  it.each([
    ['throttleRate', { throttleRate: 1 }, 'listMachines', 'ProviderThrottledError'],
    ['errorRate', { errorRate: 1 }, 'drain', 'ProviderUnavailableError'],
    ['capacityErrorRate', { capacityErrorRate: 1 }, 'createMachine', 'ProviderCapacityError'],
  ] as const)('fails with the named error under %s', async (_case, faults, operation, name) => {
    await expect(applyCallFaults(faults, operation, Math.random)).rejects.toHaveProperty('name', name);
  });

  it('applies capacity errors to createMachine only', async () => {
    await expect(applyCallFaults({ capacityErrorRate: 1 }, 'listMachines', Math.random)).resolves.toBeUndefined();
  });

  it('lets calls through with no faults', async () => {
    await expect(applyCallFaults({}, 'createMachine', Math.random)).resolves.toBeUndefined();
  });
});

describe('seededRandom', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const take = (seed: number) => Array.from({ length: 5 }, seededRandom(seed));
    expect(take(42)).toEqual(take(42));
    expect(take(42)).not.toEqual(take(43));
    expect(take(42).every((n) => n >= 0 && n < 1)).toBe(true);
  });
});
