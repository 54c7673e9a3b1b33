import { applyPatch, JsonPatchError, type PatchOperation } from '../../../../functions/domain/capi/index.js';

describe('applyPatch', () => {
  it.each<{ name: string; before: Record<string, unknown>; op: PatchOperation; after: Record<string, unknown> }>([
    { name: 'adds a member, creating parents', before: {}, op: { op: 'add', path: '/spec/template/spec/region', value: 'us-west-2' }, after: { spec: { template: { spec: { region: 'us-west-2' } } } } },
    { name: 'replaces a member', before: { a: { b: 1 } }, op: { op: 'replace', path: '/a/b', value: 2 }, after: { a: { b: 2 } } },
    { name: 'replaces a missing member like add', before: { a: {} }, op: { op: 'replace', path: '/a/bastion/enabled', value: true }, after: { a: { bastion: { enabled: true } } } },
    { name: 'removes a member', before: { a: { b: 1, c: 2 } }, op: { op: 'remove', path: '/a/b' }, after: { a: { c: 2 } } },
    { name: 'ignores removing below a missing member', before: { a: {} }, op: { op: 'remove', path: '/a/b/c' }, after: { a: {} } },
    { name: 'appends to a list with -', before: { l: [1] }, op: { op: 'add', path: '/l/-', value: 2 }, after: { l: [1, 2] } },
    { name: 'inserts into a list at an index', before: { l: [1, 3] }, op: { op: 'add', path: '/l/1', value: 2 }, after: { l: [1, 2, 3] } },
    { name: 'replaces a list item', before: { l: [{ n: 1 }] }, op: { op: 'replace', path: '/l/0/n', value: 5 }, after: { l: [{ n: 5 }] } },
    { name: 'unescapes ~1 and ~0', before: {}, op: { op: 'add', path: '/labels/a~1b~0c', value: 'x' }, after: { labels: { 'a/b~c': 'x' } } },
  ])('$name', ({ before, op, after }) => {
    // Prepare
    const target = structuredClone(before);
    // Act
    applyPatch(target, op);
    // Assess
    expect(target).toEqual(after);
  });

  it.each<{ name: string; before: Record<string, unknown>; op: PatchOperation; message: string }>([
    { name: 'the path walks through a string', before: { a: 'text' }, op: { op: 'add', path: '/a/b', value: 1 }, message: 'path /a/b: /a is a string, not an object or list' },
    { name: 'a list index is out of range', before: { l: [] }, op: { op: 'replace', path: '/l/3', value: 1 }, message: 'path /l/3: index 3 is out of range' },
    { name: 'the path does not start with /', before: {}, op: { op: 'add', path: 'a', value: 1 }, message: 'path "a" must start with "/"' },
  ])('fails when $name', ({ before, op, message }) => {
    // Act
    const act = (): void => applyPatch(structuredClone(before), op);
    // Assess
    expect(act).toThrow(JsonPatchError);
    expect(act).toThrow(message);
  });
});
