import { ValidationError } from '../../../../functions/domain/errors.js';
import { mergePatch } from '../../../../functions/domain/spec/merge-patch.js';

describe('mergePatch', () => {
  // RFC 7386, Appendix A
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('applies RFC 7386 example %#', (target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });

  it('scales a worker pool without touching its siblings', () => {
    const target = { spec: { paused: false, workers: [{ name: 'md-0', replicas: 3 }] } };
    const patched = mergePatch(target, { spec: { workers: [{ name: 'md-0', replicas: 5 }] } });
    expect(patched).toEqual({ spec: { paused: false, workers: [{ name: 'md-0', replicas: 5 }] } });
  });

  it('leaves both inputs unchanged', () => {
    const target = { a: { b: 1, c: 2 } };
    const patch = { a: { b: null, d: { e: 3 } } };
    mergePatch(target, patch);
    expect(target).toEqual({ a: { b: 1, c: 2 } });
    expect(patch).toEqual({ a: { b: null, d: { e: 3 } } });
  });

  it.each([
    ['__proto__', JSON.parse('{"spec":{"__proto__":{"polluted":true}}}'), 'patch.spec.__proto__'],
    ['constructor', { constructor: { prototype: { polluted: true } } }, 'patch.constructor'],
    ['prototype', { a: { prototype: 1 } }, 'patch.a.prototype'],
  ])('fails when the patch uses the key %s', (key, patch, path) => {
    let error: unknown;
    try {
      mergePatch({ spec: {} }, patch);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([{ path, message: `must not use the reserved key "${key}"` }]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('fails when the patch nests deeper than 64 levels', () => {
    let patch: unknown = { x: 1 };
    for (let i = 0; i < 70; i++) patch = { a: patch };
    expect(() => mergePatch({}, patch)).toThrow(ValidationError);
  });
});
