import { UnsupportedMediaTypeError, ValidationError, type Issue } from '../../../../functions/domain/errors.js';
import { decodeUtf8Strict, parseBodyDocuments } from '../../../../functions/domain/spec/documents.js';

function issuesOf(act: () => unknown): readonly Issue[] {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).details;
  }
  throw new Error('expected a ValidationError');
}

const nestedJson = (depth: number) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

describe('parseBodyDocuments', () => {
  it.each([
    ['application/json', '{"kind":"Cluster","n":[1,2]}', [{ kind: 'Cluster', n: [1, 2] }]],
    ['application/json; charset=utf-8', '{"a":1}', [{ a: 1 }]],
    ['Application/JSON', '{"a":1}', [{ a: 1 }]],
    ['application/merge-patch+json', '{"spec":{"paused":null}}', [{ spec: { paused: null } }]],
    ['application/yaml', 'a: 1\nb: [x, y]\n', [{ a: 1, b: ['x', 'y'] }]],
    ['application/x-yaml', 'a: 1', [{ a: 1 }]],
    ['text/yaml', 'a: 1', [{ a: 1 }]],
  ])('reads a %s body', (contentType, text, expected) => {
    expect(parseBodyDocuments(text, contentType)).toEqual(expected);
  });

  it('reads every document of a multi-document YAML body, skipping empty ones', () => {
    const text = '---\na: 1\n---\n---\n# only a comment\n---\nb: 2\n...\n';
    expect(parseBodyDocuments(text, 'application/yaml')).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('keeps YAML 1.1 booleans such as yes and on as strings (YAML 1.2 core schema)', () => {
    expect(parseBodyDocuments('a: yes\nb: on\nc: true\nd: "010"', 'application/yaml')).toEqual([{ a: 'yes', b: 'on', c: true, d: '010' }]);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['no content type', undefined],
    ['a latin-1 charset', 'application/json; charset=iso-8859-1'],
    ['form data', 'application/x-www-form-urlencoded'],
  ])('fails when the content type is %s', (_name, contentType) => {
    expect(() => parseBodyDocuments('{}', contentType)).toThrow(UnsupportedMediaTypeError);
  });

  it.each([
    ['the JSON is invalid', '{"a":', 'application/json', 'body', 'must be valid JSON'],
    ['the JSON body is empty', '  ', 'application/json', 'body', 'must contain a document, got an empty body'],
    ['the YAML body holds only comments', '# nothing\n', 'application/yaml', 'body', 'must contain a document'],
    ['the JSON document is an array', '[{"a":1}]', 'application/json', 'body', 'must be an object (a mapping of fields), got an array of 1 item'],
    ['the JSON document is a string', '"Cluster"', 'application/json', 'body', 'must be an object (a mapping of fields), got "Cluster"'],
    ['the second YAML document is a scalar', 'a: 1\n---\njust text\n', 'application/yaml', 'body[1]', 'must be an object (a mapping of fields), got "just text"'],
    ['a JSON key is __proto__', '{"spec":{"__proto__":{"polluted":true}}}', 'application/json', 'body.spec.__proto__', 'must not use the reserved key "__proto__"'],
    ['a JSON key is constructor', '{"a":[{"constructor":{"prototype":{}}}]}', 'application/json', 'body.a[0].constructor', 'reserved key "constructor"'],
    ['a YAML key is prototype', 'a: 1\n---\nspec:\n  prototype: 1\n', 'application/yaml', 'body[1].spec.prototype', 'reserved key "prototype"'],
    ['a YAML key is __proto__', '__proto__: {x: 1}\n', 'application/yaml', 'body.__proto__', 'reserved key "__proto__"'],
    ['a JSON value is a lone surrogate', '{"name":"\\ud800"}', 'application/json', 'body.name', 'lone UTF-16 surrogate'],
    ['a JSON key is a lone surrogate', '{"\\udc00":1}', 'application/json', 'body["\\udc00"]', 'lone UTF-16 surrogate'],
    ['a YAML document is an explicit null', 'a: 1\n--- ~\n', 'application/yaml', 'body[1]', 'must be an object (a mapping of fields), got null'],
    ['a YAML number is infinite', 'a: .inf\n', 'application/yaml', 'body.a', 'must be a finite number, got Infinity'],
    ['YAML keys repeat', 'a: 1\na: 2\n', 'application/yaml', 'body', 'must be valid YAML'],
    ['JSON nests 65 levels', nestedJson(65), 'application/json', `body${'.a'.repeat(64)}`, 'deeper than 64 levels'],
  ])('fails when %s', (_name, text, contentType, path, message) => {
    const issues = issuesOf(() => parseBodyDocuments(text, contentType));
    expect(issues.map((i) => i.path)).toContain(path);
    expect(issues.find((i) => i.path === path)?.message).toContain(message);
  });

  it('accepts nesting of exactly 64 levels', () => {
    expect(() => parseBodyDocuments(nestedJson(64), 'application/json')).not.toThrow();
  });

  it('locates a YAML syntax error by line and column', () => {
    const issues = issuesOf(() => parseBodyDocuments('a: 1\nb: [1, 2\nc: 3\n', 'application/yaml'));
    expect(issues[0]?.path).toBe('body');
    expect(issues[0]?.message).toMatch(/^must be valid YAML, got a syntax error at line \d+, column \d+: /);
  });

  it('names the YAML document holding a syntax error', () => {
    const issues = issuesOf(() => parseBodyDocuments('a: 1\n---\nb: "unterminated\n', 'application/yaml'));
    expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining(['body[1]']));
    expect(issues.every((i) => i.path === 'body[1]')).toBe(true);
  });

  it('fails fast on a YAML alias bomb', () => {
    // Prepare: nine-fold expansion per level, 9^6 ≈ 530,000 leaves if expanded
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [prev, name] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f']] as const) {
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const started = performance.now();
    // Act
    const issues = issuesOf(() => parseBodyDocuments(levels.join('\n'), 'application/yaml'));
    // Assess
    expect(issues[0]).toEqual({ path: 'body', message: expect.stringContaining('must not expand YAML aliases more than 100 times') });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it.each([
    ['JSON arrays', 'application/json', '['.repeat(10000) + ']'.repeat(10000)],
    ['YAML flow sequences', 'application/yaml', '['.repeat(10000) + ']'.repeat(10000)],
    ['YAML block sequences', 'application/yaml', '- '.repeat(10000) + 'x'],
  ])('fails fast on 10,000 nested %s', (_name, contentType, text) => {
    const started = performance.now();
    const issues = issuesOf(() => parseBodyDocuments(text, contentType));
    expect(issues[0]?.message).toMatch(/deeper than 64 levels|must be an object/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('does not pollute Object.prototype through a parsed body', () => {
    issuesOf(() => parseBodyDocuments('{"__proto__":{"polluted":1}}', 'application/json'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('decodeUtf8Strict', () => {
  it.each([
    ['ASCII', [0x61, 0x62], 'ab'],
    ['a two-byte character', [0xc3, 0xa9], 'é'],
    ['a four-byte character', [0xf0, 0x9f, 0x9a, 0x80], '🚀'],
    ['a leading byte order mark (dropped)', [0xef, 0xbb, 0xbf, 0x61], 'a'],
  ])('decodes %s', (_name, bytes, text) => {
    expect(decodeUtf8Strict(Uint8Array.from(bytes))).toBe(text);
  });

  it.each([
    ['a lone continuation byte', [0x61, 0x80]],
    ['a truncated sequence', [0xc3]],
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a Latin-1 é', [0xe9]],
  ])('fails when the bytes hold %s', (_name, bytes) => {
    const issues = issuesOf(() => decodeUtf8Strict(Uint8Array.from(bytes)));
    expect(issues).toEqual([{ path: 'body', message: `must be valid UTF-8, got a malformed byte sequence (${bytes.length} bytes)` }]);
  });
});
