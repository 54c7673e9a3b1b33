/**
 * Checks a request against the API model the AWS SDK v3 packages ship, and against the constraints of the service's
 * published API model where python3-botocore provides it, so the fake AWS refuses what the service would refuse (and
 * what the SDK would silently drop) instead of answering a request AWS never accepts.
 *
 * Where the model comes from: every generated command class is built with its operation schema
 * (`command(…, "RegisterTargets", RegisterTargets$)` in `dist-es/commands/*.js`, stored by `.sc()` as the instance's
 * `schema`): `[9, namespace, name, traits, () => Input$, () => Output$]`. The input is a static structure schema from
 * `dist-es/schemas/schemas_0.js`, `[3, namespace, name, traits, memberNames, memberSchemas, requiredCount]`, read
 * here through the SDK's own `NormalizedSchema` (@smithy/core/schema), which resolves the thunks, list/map sentinels
 * (64|x, 128|x) and member traits.
 *
 * Checked against the SDK schema, recursively: required members are present; no member the model does not know;
 * every value has the model's type (string, number, boolean, timestamp = Date, blob = Uint8Array, list, map,
 * structure, union = exactly one member); list members are not null.
 *
 * The shipped SDK schema carries no constraints (its traits are only xmlName, ec2QueryName, idempotencyToken,
 * sensitive and the error traits: an enum member is a plain string, every number one sentinel). Those are checked
 * against the services' published models in botocore's JSON form, from the Debian package python3-botocore
 * 1.29.27+repack-1 (Debian 12 bookworm; botocore 1.29.27, December 2022):
 * `/usr/lib/python3/dist-packages/botocore/data/<service>/<newest api-version>/service-2.json` (or `.json.gz`), for
 * ec2 (2016-11-15), elbv2 (2015-12-01), secretsmanager (2017-10-17) and sts (2011-06-15). The SDK command name is
 * the botocore operation name; each member of the operation's input shape is checked, recursively, for:
 *  - `enum`: the value is one of the shape's values, or of the SDK's enum constant of the same shape name
 *    (`models/enums.js`, e.g. `_InstanceType`): the 2022 lists lack the values added since (m7i.large);
 *  - `min`/`max`: the length of a string (Unicode code points), blob (bytes), list or map, or the range of a number;
 *  - integer versus floating point (botocore's `integer`/`long` shapes);
 *  - `pattern`: against the whole value (the services match whole values: `[\w+=,.@-]*`, STS's role session name,
 *    would otherwise match anything), the Java regex translated to a JS one (see `javaPattern`); a pattern JS cannot
 *    express is skipped and listed in `loadConstraints(…).skippedPatterns`.
 * A member, operation or shape the 2022 model does not know is skipped, not refused: the SDK schema checks structure.
 * Without python3-botocore the constraint checks are skipped; api-model.test.ts requires it (.ci/run installs it).
 *
 * Not checked: constraints the published model does not carry, only the service's documentation (e.g. ELBv2's
 * 32-character load balancer and target group names: `LoadBalancerName` and `TargetGroupName` are plain strings).
 */
import * as ec2 from '@aws-sdk/client-ec2';
import * as elb from '@aws-sdk/client-elastic-load-balancing-v2';
import * as sm from '@aws-sdk/client-secrets-manager';
import * as sts from '@aws-sdk/client-sts';
import { NormalizedSchema } from '@smithy/core/schema';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/**
 * Each service by IAM service prefix: its SDK package (whose `${action}Command` classes carry the schema), the
 * namespace of its operation schemas, and its directory under botocore's data.
 */
const SERVICES = {
  ec2: { sdk: ec2, namespace: 'com.amazonaws.ec2', botocore: 'ec2' },
  elasticloadbalancing: { sdk: elb, namespace: 'com.amazonaws.elasticloadbalancingv2', botocore: 'elbv2' },
  secretsmanager: { sdk: sm, namespace: 'com.amazonaws.secretsmanager', botocore: 'secretsmanager' },
  sts: { sdk: sts, namespace: 'com.amazonaws.sts', botocore: 'sts' },
} as const;

/** A service whose model this module reads (its IAM service prefix). */
export type ModelService = keyof typeof SERVICES;

/** Where the Debian package python3-botocore puts the services' published API models. */
export const BOTOCORE_DATA = '/usr/lib/python3/dist-packages/botocore/data';

type Rule = 'required' | 'unknown' | 'type' | 'enum' | 'length' | 'range' | 'pattern';
interface Problem {
  readonly path: string;
  readonly rule: Rule;
  readonly message: string;
}
type SchemaRef = Parameters<typeof NormalizedSchema.of>[0];

/**
 * The SDK command for `action` of `service` around `input`: aws-sdk-client-mock hands a fake only the input, and the
 * command class is where the operation schema lives.
 */
export function commandFor(service: ModelService, action: string, input: unknown): unknown {
  const Command = (SERVICES[service]?.sdk as unknown as Record<string, new (input: unknown) => unknown>)[`${action}Command`];
  if (!Command) throw new TypeError(`api-model: the ${service} SDK has no ${action}Command`);
  return new Command(input);
}

/**
 * Every way `command`'s input breaks its operation's model, each as `Operation.path: rule`, e.g.
 * `RegisterTargets.Targets[0].Id: required member of TargetDescription is missing`. Empty when it conforms.
 */
export function validateAgainstModel(command: unknown): string[] {
  return inspect(command).problems.map(format);
}

/**
 * Throws what the service answers to a request that breaks its model: HTTP 400 with every problem in the message
 * (`2 validation errors detected: …`, the form AWS uses). The error has the generic AWS shape (`name` = code,
 * `$fault`, `$metadata`) that fake-aws re-shapes into the service's SDK exception.
 *
 * The code is the one the service documents for invalid input:
 *  - EC2 has no ValidationError; it names the rule: `MissingParameter`, `UnknownParameter`, `InvalidParameterValue`
 *    (a wrong type, enum value, length, range or pattern; common client error codes,
 *    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html); the first problem picks the code,
 *    as EC2 reports one;
 *  - ELBv2, Secrets Manager and STS: `ValidationError`, "the input fails to satisfy the constraints specified by an
 *    AWS service", 400 (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html,
 *    https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html,
 *    https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html).
 *
 * Note: stricter than the wire in two ways. The SDK serializes only modeled members, so AWS never sees an unknown
 * member (the SDK drops it silently); and the query protocols would send `"80"` for a number as is. Both are refused
 * here: the caller's intent would be lost, or would depend on the protocol.
 */
export function assertValidRequest(command: unknown): void {
  const { namespace, problems } = inspect(command);
  const first = problems[0];
  if (!first) return;
  const ec2Codes: Partial<Record<Rule, string>> = { required: 'MissingParameter', unknown: 'UnknownParameter' };
  const code = namespace === 'com.amazonaws.ec2' ? (ec2Codes[first.rule] ?? 'InvalidParameterValue') : 'ValidationError';
  const summary = `${problems.length} validation error${problems.length === 1 ? '' : 's'} detected: ${problems.map(format).join('; ')}`;
  throw Object.assign(new Error(summary), { name: code, $fault: 'client' as const, $metadata: { httpStatusCode: 400 } });
}

const format = (p: Problem) => `${p.path}: ${p.message}`;

/**
 * The problems of an SDK command's input, read through its operation schema (a static array in the SDKs of
 * package.json, an OperationSchema object in older ones; the Command class reads both the same way).
 */
function inspect(command: unknown): { namespace: string; problems: Problem[] } {
  const { schema, input } = (command ?? {}) as { schema?: unknown; input?: unknown };
  const op = Array.isArray(schema) && schema[0] === 9 ? { namespace: schema[1], name: schema[2], input: schema[4] } : (schema as { namespace?: string; name?: string; input?: unknown } | undefined);
  if (!op?.input || !op.name) throw new TypeError('api-model: not an AWS SDK v3 command with an operation schema');
  const problems: Problem[] = [];
  check(NormalizedSchema.of(op.input as SchemaRef), input ?? {}, op.name, problems);
  const service = (Object.keys(SERVICES) as ModelService[]).find((s) => SERVICES[s].namespace === op.namespace);
  const model = service && constraintsOf(service);
  const inputShape = model?.operations[op.name];
  if (model && inputShape) constrain(model, inputShape, input ?? {}, op.name, problems);
  return { namespace: op.namespace ?? '', problems };
}

/** Appends to `out` every problem of `value` against `schema`, at `path`. */
function check(schema: NormalizedSchema, value: unknown, path: string, out: Problem[]): void {
  const wrong = (expected: string) => out.push({ path, rule: 'type', message: `must be ${expected}, got ${shown(value)}` });
  if (schema.isStructSchema()) {
    if (isRecord(value)) checkStructure(schema, value, path, out);
    else wrong(`a structure (${schema.getName()})`);
  } else if (schema.isListSchema()) {
    if (!Array.isArray(value)) return void wrong('a list');
    const member = schema.getValueSchema();
    value.forEach((v, i) => (v == null ? out.push({ path: `${path}[${i}]`, rule: 'type', message: `list member must not be null, got ${shown(v)}` }) : check(member, v, `${path}[${i}]`, out)));
  } else if (schema.isMapSchema()) {
    if (!isRecord(value)) return void wrong('a map');
    const member = schema.getValueSchema();
    for (const [k, v] of Object.entries(value)) if (v !== undefined) check(member, v, `${path}[${JSON.stringify(k)}]`, out);
  } else if (schema.isStringSchema()) {
    if (typeof value !== 'string') wrong('a string');
  } else if (schema.isNumericSchema()) {
    if (typeof value !== 'number') wrong('a number');
  } else if (schema.isBooleanSchema()) {
    if (typeof value !== 'boolean') wrong('a boolean');
  } else if (schema.isTimestampSchema()) {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) wrong('a timestamp (a valid Date)');
  } else if (schema.isBlobSchema() && !schema.isStreaming()) {
    if (!(value instanceof Uint8Array)) wrong('a blob (Uint8Array)');
  }
  // Documents, big numbers and streams: the model asks nothing of them a request here could break.
}

/**
 * Required members, unknown members and each member's value. A member set to `undefined` or `null` is absent: the
 * SDK's serializers skip it.
 */
function checkStructure(schema: NormalizedSchema, value: Record<string, unknown>, path: string, out: Problem[]): void {
  const members = new Map(schema.structIterator());
  const name = schema.getName();
  // The code generator puts required members first and their count last in the schema array; @smithy/core reads it
  // the same way (`source[6]`, protocols/HttpBindingNormalizedSchema.js).
  const requiredCount = Number((schema.getSchema() as readonly unknown[])[6] ?? 0);
  for (const member of [...members.keys()].slice(0, requiredCount)) {
    if (value[member] == null) out.push({ path: `${path}.${member}`, rule: 'required', message: `required member of ${name} is missing` });
  }
  for (const [key, v] of Object.entries(value)) {
    if (v == null) continue;
    const member = members.get(key);
    if (member) {
      check(member, v, `${path}.${key}`, out);
      continue;
    }
    const near = [...members.keys()].find((m) => m.toLowerCase() === key.toLowerCase());
    out.push({ path: `${path}.${key}`, rule: 'unknown', message: `unknown member of ${name}; ${near ? `did you mean ${near}?` : `its members are ${[...members.keys()].join(', ') || 'none'}`}` });
  }
  if (schema.isUnionSchema()) {
    const set = Object.keys(value).filter((k) => value[k] != null);
    if (set.length !== 1) out.push({ path, rule: 'type', message: `union ${name} must have exactly one member set, got ${set.length} (${set.join(', ')})` });
  }
}

/** A shape of a botocore model (`service-2.json`), as far as a constraint check reads it. */
interface BotocoreShape {
  readonly type: string;
  readonly members?: Readonly<Record<string, { readonly shape: string }>>;
  readonly member?: { readonly shape: string };
  readonly key?: { readonly shape: string };
  readonly value?: { readonly shape: string };
  readonly enum?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: string;
}

/** A botocore model, as far as a constraint check reads it. */
interface BotocoreModel {
  readonly operations: Readonly<Record<string, { readonly input?: { readonly shape: string } }>>;
  readonly shapes: Readonly<Record<string, BotocoreShape>>;
}

/** A botocore shape ready to check values against: its enum values merged with the SDK's, its pattern compiled. */
interface ConstraintShape extends BotocoreShape {
  readonly allowed?: ReadonlySet<string>;
  readonly regex?: RegExp;
}

/** The constraints of one service's published API model (python3-botocore), ready to check requests against. */
export interface ServiceConstraints {
  /** The model file read: the newest api-version of the service. */
  readonly file: string;
  /**
   * How many shapes carry each constraint: `length` counts strings, blobs, lists and maps with `min` or `max`, `range`
   * numbers with `min` or `max`, `pattern` the patterns compiled (skipped ones are in `skippedPatterns`).
   */
  readonly counts: { readonly enum: number; readonly length: number; readonly range: number; readonly pattern: number };
  /** The patterns JS cannot express with Java's meaning, by shape: not checked. */
  readonly skippedPatterns: readonly { readonly shape: string; readonly pattern: string; readonly reason: string }[];
  /** The input shape of each operation, by operation name (the SDK command name without `Command`). */
  readonly operations: Readonly<Record<string, string>>;
  /** Every shape of the model, by name. */
  readonly shapes: Readonly<Record<string, ConstraintShape>>;
}

/**
 * The constraints of `service`'s published API model: the newest `<api-version>/service-2.json` (or `.json.gz`)
 * under `dataDir`, or undefined when python3-botocore is not installed (or has no model of the service).
 *
 * @param dataDir where botocore's models are. @default BOTOCORE_DATA
 */
export function loadConstraints(service: ModelService, dataDir = BOTOCORE_DATA): ServiceConstraints | undefined {
  const dir = join(dataDir, SERVICES[service].botocore);
  if (!existsSync(dir)) return undefined;
  const versions = readdirSync(dir).filter((v) => /^\d{4}-\d{2}-\d{2}$/.test(v)).sort().reverse();
  for (const version of versions) {
    const file = ['service-2.json', 'service-2.json.gz'].map((name) => join(dir, version, name)).find((f) => existsSync(f));
    if (!file) continue;
    const bytes = readFileSync(file);
    const model = JSON.parse((file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8')) as BotocoreModel;
    return compileConstraints(service, file, model);
  }
  return undefined;
}

function compileConstraints(service: ModelService, file: string, model: BotocoreModel): ServiceConstraints {
  const counts = { enum: 0, length: 0, range: 0, pattern: 0 };
  const skippedPatterns: { shape: string; pattern: string; reason: string }[] = [];
  const shapes: Record<string, ConstraintShape> = {};
  for (const [name, shape] of Object.entries(model.shapes)) {
    let allowed: Set<string> | undefined;
    let regex: RegExp | undefined;
    if (shape.enum) {
      allowed = new Set([...shape.enum, ...sdkEnum(SERVICES[service].sdk, name)]);
      counts.enum++;
    }
    if (shape.min !== undefined || shape.max !== undefined) counts[NUMERIC.has(shape.type) ? 'range' : 'length']++;
    if (shape.pattern !== undefined) {
      const compiled = javaPattern(shape.pattern);
      if (typeof compiled === 'string') skippedPatterns.push({ shape: name, pattern: shape.pattern, reason: compiled });
      else {
        regex = compiled;
        counts.pattern++;
      }
    }
    shapes[name] = { ...shape, ...(allowed && { allowed }), ...(regex && { regex }) };
  }
  const operations: Record<string, string> = {};
  for (const [name, op] of Object.entries(model.operations)) if (op.input) operations[name] = op.input.shape;
  return { file, counts, skippedPatterns, operations, shapes };
}

const NUMERIC = new Set(['integer', 'long', 'float', 'double']);

/**
 * The values of the SDK's enum constant of botocore shape `name` (`models/enums.js`: `ProtocolEnum`, or
 * `_InstanceType` where the name is taken; botocore's `scope` is the SDK's `Scope`), or none.
 */
function sdkEnum(sdk: object, name: string): string[] {
  const pascal = name.charAt(0).toUpperCase() + name.slice(1);
  for (const candidate of [name, `_${name}`, pascal, `_${pascal}`]) {
    const constant = (sdk as Record<string, unknown>)[candidate];
    if (typeof constant !== 'object' || constant === null) continue;
    const values = Object.values(constant);
    if (values.length > 0 && values.every((v) => typeof v === 'string')) return values as string[];
  }
  return [];
}

const constraintCache = new Map<ModelService, ServiceConstraints | undefined>();
function constraintsOf(service: ModelService): ServiceConstraints | undefined {
  if (!constraintCache.has(service)) constraintCache.set(service, loadConstraints(service));
  return constraintCache.get(service);
}

/**
 * A botocore pattern (a Java regex: the services are Java) as a JS regex matching whole values, or why it is skipped.
 *
 * Translated: an escaped punctuation character (`\!`, `\:`, `\/`, `\-`: literal in Java, a syntax error in a JS
 * `u` regex) becomes a `\u{…}` escape. Kept as they are, with the same meaning in a JS `u` regex: `\d`, `\w`, `\s`,
 * `\uXXXX` (exactly four digits in both: STS's `\u10000-\u10FFFF` is `\u1000`, then `0-\u10FF`, then `FF`, in Java
 * as here), `\p{…}` of a Unicode general category (`\p{L}`, `\p{Nd}`) or `\p{ASCII}`.
 * Skipped: what JS cannot compile (possessive quantifiers, `\Q…\E`, `\A`, `\Z`, atomic groups, inline flags), and
 * what it would compile with another meaning: Java's other `\p{…}` (`\p{Alpha}` is ASCII in Java, any alphabetic
 * character in JS), `\v` (vertical whitespace in Java, U+000B in JS), class unions `[a[b]]` and intersections `&&`.
 */
export function javaPattern(java: string): RegExp | string {
  let js = '';
  let inClass = false;
  for (let i = 0; i < java.length; i++) {
    const c = java.charAt(i);
    if (c === '\\') {
      const next = java.charAt(++i);
      if (!next) return 'ends in a lone backslash';
      if (next === 'p' || next === 'P') {
        const property = /^\{([^}]*)\}/.exec(java.slice(i + 1));
        if (!property || !/^(?:[LMNPSZC][a-z]?|ASCII)$/.test(property[1]!)) return `\\${next}${property?.[0] ?? ''} is a Java-specific property`;
        js += `\\${next}${property[0]}`;
        i += property[0].length;
      } else if (next === 'v') return '\\v is vertical whitespace in Java, U+000B in JS';
      else if (/[A-Za-z0-9]/.test(next)) js += `\\${next}`;
      else if ('^$\\.*+?()[]{}|/'.includes(next)) js += `\\${next}`;
      else js += `\\u{${next.codePointAt(0)!.toString(16)}}`;
    } else if (inClass && c === '[') return 'a nested character class (a union in Java)';
    else if (inClass && c === '&' && java.charAt(i + 1) === '&') return 'a character class intersection (&&)';
    else {
      if (c === '[' && !inClass) {
        inClass = true;
        js += c;
        // Java takes a `]` right after `[` or `[^` as a literal; JS as the end of an empty class.
        const negated = java.charAt(i + 1) === '^';
        if (java.charAt(i + (negated ? 2 : 1)) === ']') return 'a character class opening with ]';
        continue;
      }
      if (c === ']' && inClass) inClass = false;
      js += c;
    }
  }
  try {
    return new RegExp(`^(?:${js})$`, 'u');
  } catch (error) {
    return `JS cannot compile it: ${(error as Error).message}`;
  }
}

/**
 * Appends to `out` every way `value` breaks the constraints of botocore shape `shapeName`, at `path`. A value the SDK
 * schema check already refuses for its type, and a member the model does not know, are left alone.
 */
function constrain(model: ServiceConstraints, shapeName: string, value: unknown, path: string, out: Problem[]): void {
  const shape = model.shapes[shapeName];
  if (!shape || value == null) return;
  const push = (rule: Rule, message: string) => out.push({ path, rule, message });
  const length = (n: number, [one, many]: readonly [string, string]) => {
    if ((shape.min !== undefined && n < shape.min) || (shape.max !== undefined && n > shape.max)) push('length', `length must be ${bounds(shape)} (${shapeName}), got ${n} ${n === 1 ? one : many}`);
  };
  switch (shape.type) {
    case 'structure':
      if (!isRecord(value)) return;
      for (const [key, v] of Object.entries(value)) {
        const member = shape.members?.[key];
        if (member) constrain(model, member.shape, v, `${path}.${key}`, out);
      }
      return;
    case 'list':
      if (!Array.isArray(value)) return;
      length(value.length, ['member', 'members']);
      if (shape.member) value.forEach((v, i) => constrain(model, shape.member!.shape, v, `${path}[${i}]`, out));
      return;
    case 'map': {
      if (!isRecord(value)) return;
      const entries = Object.entries(value).filter(([, v]) => v !== undefined);
      length(entries.length, ['entry', 'entries']);
      for (const [k, v] of entries) {
        if (shape.key) constrain(model, shape.key.shape, k, `${path}[${JSON.stringify(k)}] (key)`, out);
        if (shape.value) constrain(model, shape.value.shape, v, `${path}[${JSON.stringify(k)}]`, out);
      }
      return;
    }
    case 'string':
      if (typeof value !== 'string') return;
      if (shape.allowed && !shape.allowed.has(value)) {
        const values = [...shape.allowed];
        const listed = values.length <= 12 ? values.join(', ') : `${values.slice(0, 6).join(', ')}, … ${values.length} in all`;
        push('enum', `must be a value of enum ${shapeName} (${listed}), got ${shown(value)}`);
      }
      length([...value].length, ['character', 'characters']);
      if (shape.regex && !shape.regex.test(value)) push('pattern', `must match the pattern ${shape.pattern} (${shapeName}), got ${shown(value)}`);
      return;
    case 'blob':
      if (value instanceof Uint8Array) length(value.byteLength, ['byte', 'bytes']);
      return;
    case 'integer':
    case 'long':
    case 'float':
    case 'double':
      if (typeof value !== 'number') return;
      if ((shape.type === 'integer' || shape.type === 'long') && !Number.isInteger(value)) push('type', `must be an integer (${shape.type} ${shapeName}), got ${shown(value)}`);
      if ((shape.min !== undefined && value < shape.min) || (shape.max !== undefined && value > shape.max)) push('range', `must be ${bounds(shape)} (range of ${shapeName}), got ${value}`);
      return;
  }
}

/** `between 1 and 32`, `at least 1` or `at most 32`. */
function bounds({ min, max }: BotocoreShape): string {
  if (min !== undefined && max !== undefined) return `between ${min} and ${max}`;
  return min !== undefined ? `at least ${min}` : `at most ${max}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array);

/** A received value for a message: its type, and the value when it is short. */
function shown(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (v instanceof Date) return `a Date (${Number.isNaN(v.getTime()) ? 'invalid' : v.toISOString()})`;
  if (typeof v === 'object') return 'an object';
  const text = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return `${typeof v} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}
