/**
 * A small subset of Go `text/template` (with the few Sprig functions ClusterClass patches use), enough to evaluate
 * `enabledIf` and `valueFrom.template` of inline ClusterClass patches without a management cluster.
 *
 * Supported: `{{ .a.b }}` lookups, string/number/bool literals, pipelines (`x | f y`), parentheses, trim markers
 * (`{{-`, `-}}`), comments, `if`/`else if`/`else`/`end`, and the functions in `FUNCTIONS` (`eq`, `ne`, `not`, `and`,
 * `or`, `semverCompare`, `replace`, `quote`, `default`, …). Anything else (`range`, `with`, variables, `printf`, …)
 * throws a `TemplateUnsupportedError` naming it: the importer refuses such a ClusterClass rather than guess.
 */
import { asObj, type Obj } from './object.js';

/** The template uses a construct outside the supported subset; `message` names it. */
export class TemplateUnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateUnsupportedError';
  }
}

type Node =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'print'; readonly expr: string }
  | { readonly type: 'if'; readonly branches: readonly { readonly cond: string; readonly body: Node[] }[]; readonly otherwise: Node[] };

type Token =
  | { readonly t: 'str'; readonly v: string }
  | { readonly t: 'num'; readonly v: number }
  | { readonly t: 'field'; readonly v: readonly string[] }
  | { readonly t: 'ident'; readonly v: string }
  | { readonly t: 'pipe' | 'lparen' | 'rparen' };

const ACTION = /\{\{(-\s)?([\s\S]*?)(\s-)?\}\}/g;

/** Renders `text` with `data` as the dot. */
export function renderTemplate(text: string, data: Obj): string {
  return renderNodes(parseTemplate(text), data);
}

function parseTemplate(text: string): Node[] {
  const root: Node[] = [];
  // Stack of open `if`s: where their current branch's body is collected.
  const stack: { node: Extract<Node, { type: 'if' }>; body: Node[] }[] = [];
  const out = (): Node[] => stack[stack.length - 1]?.body ?? root;
  let pos = 0;
  let trimNext = false;
  for (const m of text.matchAll(ACTION)) {
    let literal = text.slice(pos, m.index);
    if (trimNext) literal = literal.replace(/^\s+/, '');
    if (m[1]) literal = literal.replace(/\s+$/, '');
    if (literal) out().push({ type: 'text', text: literal });
    pos = m.index + m[0].length;
    trimNext = Boolean(m[3]);
    const action = (m[2] ?? '').trim();
    if (action.startsWith('/*')) continue;
    const split = /^([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(action);
    const word = split?.[1] ?? '';
    const args = split?.[2] ?? '';
    if (word === 'if') {
      const node: Extract<Node, { type: 'if' }> = { type: 'if', branches: [{ cond: args, body: [] }], otherwise: [] };
      out().push(node);
      stack.push({ node, body: node.branches[0]!.body });
    } else if (word === 'else') {
      const top = stack[stack.length - 1];
      if (!top) throw new TemplateUnsupportedError('template: {{ else }} without {{ if }}');
      const elseIf = /^if\s+([\s\S]*)$/.exec(args);
      if (elseIf) {
        const branch = { cond: elseIf[1] ?? '', body: [] as Node[] };
        (top.node.branches as { cond: string; body: Node[] }[]).push(branch);
        top.body = branch.body;
      } else {
        top.body = top.node.otherwise;
      }
    } else if (word === 'end') {
      if (!stack.pop()) throw new TemplateUnsupportedError('template: {{ end }} without {{ if }}');
    } else if (action.startsWith('$')) {
      throw new TemplateUnsupportedError(`template variables (${action}) are not supported`);
    } else if (['range', 'with', 'define', 'template', 'block', 'break', 'continue'].includes(word)) {
      throw new TemplateUnsupportedError(`template action "${word}" is not supported`);
    } else {
      out().push({ type: 'print', expr: action });
    }
  }
  let tail = text.slice(pos);
  if (trimNext) tail = tail.replace(/^\s+/, '');
  if (tail) out().push({ type: 'text', text: tail });
  if (stack.length) throw new TemplateUnsupportedError('template: {{ if }} without {{ end }}');
  return root;
}

function renderNodes(nodes: readonly Node[], data: Obj): string {
  let result = '';
  for (const node of nodes) {
    if (node.type === 'text') result += node.text;
    else if (node.type === 'print') result += show(evaluate(node.expr, data));
    else {
      const branch = node.branches.find((b) => truthy(evaluate(b.cond, data)));
      result += renderNodes(branch ? branch.body : node.otherwise, data);
    }
  }
  return result;
}

/** Go's default printing: missing map keys print as `<no value>`. */
function show(value: unknown): string {
  if (value === undefined || value === null) return '<no value>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Go template truthiness: false, 0, nil and empty strings, lists and maps are false. */
function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  const o = asObj(value);
  return o ? Object.keys(o).length > 0 : true;
}

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|`([^`]*)`|(-?\d+(?:\.\d+)?)|(\.[A-Za-z0-9_.]*)|([A-Za-z_][A-Za-z0-9_]*)|(\|)|(\()|(\))|(\S))/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < expr.length && (m = re.exec(expr))) {
    if (m[1] !== undefined) tokens.push({ t: 'str', v: JSON.parse(`"${m[1]}"`) as string });
    else if (m[2] !== undefined) tokens.push({ t: 'str', v: m[2] });
    else if (m[3] !== undefined) tokens.push({ t: 'num', v: Number(m[3]) });
    else if (m[4] !== undefined) tokens.push({ t: 'field', v: m[4] === '.' ? [] : m[4].slice(1).split('.') });
    else if (m[5] !== undefined) tokens.push({ t: 'ident', v: m[5] });
    else if (m[6]) tokens.push({ t: 'pipe' });
    else if (m[7]) tokens.push({ t: 'lparen' });
    else if (m[8]) tokens.push({ t: 'rparen' });
    else if (m[9] && m[9].trim()) throw new TemplateUnsupportedError(`template: unexpected "${m[9]}" in {{ ${expr} }}`);
  }
  return tokens;
}

function evaluate(expr: string, data: Obj): unknown {
  const tokens = tokenize(expr);
  let pos = 0;
  const pipeline = (): unknown => {
    let value = command(undefined, false);
    while (tokens[pos]?.t === 'pipe') {
      pos += 1;
      value = command(value, true);
    }
    return value;
  };
  const command = (piped: unknown, hasPiped: boolean): unknown => {
    const head = tokens[pos];
    if (head?.t === 'ident' && !['true', 'false', 'nil'].includes(head.v)) {
      pos += 1;
      const args: unknown[] = [];
      while (pos < tokens.length && tokens[pos]?.t !== 'pipe' && tokens[pos]?.t !== 'rparen') args.push(operand());
      if (hasPiped) args.push(piped);
      return call(head.v, args);
    }
    if (hasPiped) throw new TemplateUnsupportedError(`template: cannot pipe into a value in {{ ${expr} }}`);
    return operand();
  };
  const operand = (): unknown => {
    const token = tokens[pos];
    pos += 1;
    if (!token) throw new TemplateUnsupportedError(`template: missing value in {{ ${expr} }}`);
    switch (token.t) {
      case 'str':
      case 'num':
        return token.v;
      case 'field':
        return token.v.reduce<unknown>((v, key) => asObj(v)?.[key], data);
      case 'ident':
        if (token.v === 'true' || token.v === 'false') return token.v === 'true';
        if (token.v === 'nil') return undefined;
        return call(token.v, []);
      case 'lparen': {
        const value = pipeline();
        if (tokens[pos]?.t !== 'rparen') throw new TemplateUnsupportedError(`template: missing ")" in {{ ${expr} }}`);
        pos += 1;
        return value;
      }
      default:
        throw new TemplateUnsupportedError(`template: unexpected token in {{ ${expr} }}`);
    }
  };
  const value = pipeline();
  if (pos < tokens.length) throw new TemplateUnsupportedError(`template: cannot parse {{ ${expr} }}`);
  return value;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : show(v));

const FUNCTIONS: Readonly<Record<string, (...args: unknown[]) => unknown>> = {
  eq: (a, ...rest) => rest.some((b) => a === b),
  ne: (a, b) => a !== b,
  not: (a) => !truthy(a),
  and: (...args) => args.find((a) => !truthy(a)) ?? args[args.length - 1],
  or: (...args) => args.find((a) => truthy(a)) ?? args[args.length - 1],
  lt: (a, b) => (a as number) < (b as number),
  le: (a, b) => (a as number) <= (b as number),
  gt: (a, b) => (a as number) > (b as number),
  ge: (a, b) => (a as number) >= (b as number),
  replace: (from, to, s) => str(s).split(str(from)).join(str(to)),
  quote: (s) => JSON.stringify(str(s)),
  upper: (s) => str(s).toUpperCase(),
  lower: (s) => str(s).toLowerCase(),
  trim: (s) => str(s).trim(),
  trimPrefix: (p, s) => (str(s).startsWith(str(p)) ? str(s).slice(str(p).length) : str(s)),
  trimSuffix: (p, s) => (str(s).endsWith(str(p)) ? str(s).slice(0, str(s).length - str(p).length) : str(s)),
  contains: (sub, s) => str(s).includes(str(sub)),
  hasPrefix: (p, s) => str(s).startsWith(str(p)),
  hasSuffix: (p, s) => str(s).endsWith(str(p)),
  default: (d, v) => (truthy(v) ? v : d),
  toString: (v: unknown) => str(v),
  semverCompare: (constraint, version) => semverCompare(str(constraint), str(version)),
};

function call(name: string, args: unknown[]): unknown {
  const fn = FUNCTIONS[name];
  if (!fn) throw new TemplateUnsupportedError(`template function "${name}" is not supported`);
  return fn(...args);
}

interface SemVer {
  readonly nums: readonly [number, number, number];
  readonly pre: string | undefined;
}

const VERSION = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

function parseSemVer(text: string): SemVer | undefined {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  return { nums: [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)], pre: m[4] };
}

function compareSemVer(a: SemVer, b: SemVer): number {
  for (let i = 0; i < 3; i += 1) if (a.nums[i] !== b.nums[i]) return a.nums[i]! - b.nums[i]!;
  if (a.pre === b.pre) return 0;
  if (a.pre === undefined) return 1;
  if (b.pre === undefined) return -1;
  const x = a.pre.split('.');
  const y = b.pre.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i += 1) {
    const p = x[i];
    const q = y[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (p === q) continue;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return 0;
}

/**
 * Sprig's `semverCompare` for comparison constraints (`=`, `!=`, `<`, `<=`, `>`, `>=`, joined by `,` for AND and
 * `||` for OR), e.g. `semverCompare "< v1.25-0" .builtin.controlPlane.version`.
 */
export function semverCompare(constraint: string, version: string): boolean {
  const v = parseSemVer(version);
  if (!v) throw new TemplateUnsupportedError(`semverCompare: ${JSON.stringify(version)} is not a version`);
  return constraint.split('||').some((group) => {
    const parts = [...group.matchAll(/(!=|>=|<=|=|>|<|~|\^)?\s*(v?[0-9][0-9A-Za-z.+*-]*)/g)];
    if (parts.length === 0) throw new TemplateUnsupportedError(`semverCompare: cannot parse ${JSON.stringify(constraint)}`);
    return parts.every(([, op = '=', text = '']) => {
      const c = parseSemVer(text);
      if (!c || op === '~' || op === '^') {
        throw new TemplateUnsupportedError(`semverCompare: constraint ${JSON.stringify(constraint)} is not supported`);
      }
      const d = compareSemVer(v, c);
      return { '=': d === 0, '!=': d !== 0, '<': d < 0, '<=': d <= 0, '>': d > 0, '>=': d >= 0 }[op] ?? false;
    });
  });
}
