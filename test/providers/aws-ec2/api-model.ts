/**
 * Checks a request against the API model the AWS SDK v3 packages ship, so the fake AWS refuses what the service
 * would refuse (and what the SDK would silently drop) instead of answering a request AWS never accepts.
 *
 * Where the model comes from: every generated command class is built with its operation schema
 * (`command(…, "RegisterTargets", RegisterTargets$)` in `dist-es/commands/*.js`, stored by `.sc()` as the instance's
 * `schema`): `[9, namespace, name, traits, () => Input$, () => Output$]`. The input is a static structure schema from
 * `dist-es/schemas/schemas_0.js`, `[3, namespace, name, traits, memberNames, memberSchemas, requiredCount]`, read
 * here through the SDK's own `NormalizedSchema` (@smithy/core/schema), which resolves the thunks, list/map sentinels
 * (64|x, 128|x) and member traits.
 *
 * Checked, recursively: required members are present; no member the model does not know; every value has the
 * model's type (string, number, boolean, timestamp = Date, blob = Uint8Array, list, map, structure, union = exactly
 * one member); list members are not null.
 *
 * Not checked, because the shipped model does not carry it (its traits are only xmlName, ec2QueryName,
 * idempotencyToken, sensitive and the error traits):
 *  - enum values: an enum member is a plain string (0) in the schema; the values live only in `models/enums.js`
 *    constants and the TypeScript types, linked to no member at runtime (tsc checks them at compile time);
 *  - length, range and pattern constraints (`@length`, `@range`, `@pattern`);
 *  - integer versus floating point: every numeric shape is one sentinel (1).
 */
import * as ec2 from '@aws-sdk/client-ec2';
import * as elb from '@aws-sdk/client-elastic-load-balancing-v2';
import * as sm from '@aws-sdk/client-secrets-manager';
import * as sts from '@aws-sdk/client-sts';
import { NormalizedSchema } from '@smithy/core/schema';

/** The SDK package of each service, by IAM service prefix: its `${action}Command` classes carry the model. */
const SDK_OF = { ec2, elasticloadbalancing: elb, secretsmanager: sm, sts } as const;

/** A service whose model this module reads (its IAM service prefix). */
export type ModelService = keyof typeof SDK_OF;

type Rule = 'required' | 'unknown' | 'type';
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
  const Command = (SDK_OF[service] as unknown as Record<string, new (input: unknown) => unknown>)[`${action}Command`];
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
 *    (common client error codes, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html);
 *    the first problem picks the code, as EC2 reports one;
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
  const ec2Codes: Record<Rule, string> = { required: 'MissingParameter', unknown: 'UnknownParameter', type: 'InvalidParameterValue' };
  const code = namespace === 'com.amazonaws.ec2' ? ec2Codes[first.rule] : 'ValidationError';
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
