/**
 * Field schemas shared by the Cluster document (zod 4), each failing with a message that names the rule and the value
 * received, plus the translation of zod issues into Capstan `Issue`s.
 *
 * Why zod: one declaration gives the checks, the defaults, the output type and the JSON Schema of the API. Why our
 * own messages: zod's defaults ("Invalid input") do not say what was received or what is allowed, and the API promises
 * both (`spec.controlPlane.replicas: must be odd (1, 3, 5, 7), got 2`).
 */
import { z } from 'zod';
import type { IntOrPercent } from '../cluster.js';
import type { Issue } from '../errors.js';
import { formatDuration, parseDuration } from '../duration.js';
import { parseVersion } from '../semver.js';
import { cidrProblem, parseCidr } from './cidr.js';
import { describeValue, joinPath } from './documents.js';

/** Longest free-form string accepted where no tighter rule applies (names, key names, commands are tighter). */
export const MAX_STRING_LENGTH = 4096;
/** Most entries in a labels, annotations or tags map. */
export const MAX_MAP_ENTRIES = 64;

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;
const PERCENT = /^(\d+)%$/;

/** A string with a length cap (checked first, so an over-long value gets one clear issue) and a pattern. */
export function patternString(pattern: RegExp, rule: string, maxLength = 256) {
  return z
    .string()
    .max(maxLength, { abort: true })
    .regex(pattern, { error: (iss) => `must be ${rule}, got ${describeValue(iss.input)}` });
}

/** A string passing `test`, else failing with `must be <rule>, got <value>`. */
export function checkedString(test: (value: string) => boolean, rule: string, maxLength = 256) {
  return z
    .string()
    .max(maxLength, { abort: true })
    .refine(test, { error: (iss) => `must be ${rule}, got ${describeValue(iss.input)}` });
}

/** A DNS-1123 label (Kubernetes object names): lowercase alphanumerics and '-', alphanumeric at both ends. */
export function dnsLabel(maxLength: number) {
  return patternString(DNS_LABEL, "a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit)", maxLength);
}

/** True for a Kubernetes label or annotation key: `[prefix/]name`, prefix a DNS subdomain ≤ 253, name ≤ 63. */
export function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return false;
  return name.length > 0 && name.length <= 63 && QUALIFIED_NAME.test(name);
}

/** True for a Kubernetes label value: empty, or ≤ 63 alphanumerics, '-', '_', '.' with alphanumeric ends. */
export function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && QUALIFIED_NAME.test(value));
}

function boundedMap<K extends z.ZodType<string>, V extends z.ZodType>(key: K, value: V, maxEntries = MAX_MAP_ENTRIES) {
  return z.record(key, value).check((ctx) => {
    const count = Object.keys(ctx.value).length;
    if (count > maxEntries) {
      ctx.issues.push({ code: 'custom', input: ctx.value, message: `must have at most ${maxEntries} entries, got ${count}` });
    }
  });
}

const LABEL_KEY_RULE = 'a label key ([prefix/]name: name at most 63 letters, digits, "-", "_", "." with alphanumeric ends; prefix a DNS subdomain)';

/** Kubernetes labels: keys and values follow the label syntax. */
export const labelsField = boundedMap(
  checkedString(isLabelKey, LABEL_KEY_RULE, 317),
  checkedString(isLabelValue, 'a label value (at most 63 letters, digits, "-", "_", "." with alphanumeric ends, or empty)', 63 + 1),
);

/** Kubernetes annotations: keys follow the label-key syntax, values are bounded free text. */
export const annotationsField = boundedMap(checkedString(isLabelKey, LABEL_KEY_RULE, 317), z.string().max(MAX_STRING_LENGTH));

/** True for an RFC 3339 timestamp with a real calendar date and time. */
export function isRfc3339(text: string): boolean {
  const m = RFC3339.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offsetHour = m[7] === undefined ? 0 : Number(m[7]);
  const offsetMinute = m[8] === undefined ? 0 : Number(m[8]);
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day &&
    hour <= 23 && minute <= 59 && second <= 60 && offsetHour <= 23 && offsetMinute <= 59
  );
}

/** An RFC 3339 timestamp such as `2024-05-01T12:00:00Z`. */
export const timestampField = checkedString(isRfc3339, 'an RFC 3339 timestamp like 2024-05-01T12:00:00Z', 64);

/** A Kubernetes version `vX.Y.Z`. */
export const versionField = checkedString((v) => parseVersion(v) !== undefined, 'a Kubernetes version like v1.30.2', 64);

/**
 * An IPv4 CIDR block, optionally with bounds on its prefix length (e.g. a VPC is /16 to /28).
 * @param role what the block is for, used in the bounds message
 */
export function cidrField(bounds?: { readonly minPrefix: number; readonly maxPrefix: number; readonly role: string }) {
  return z
    .string()
    .max(32, { abort: true })
    .check((ctx) => {
      const problem = cidrProblem(ctx.value);
      if (problem) {
        ctx.issues.push({ code: 'custom', input: ctx.value, message: `must be ${problem}, got ${describeValue(ctx.value)}` });
        return;
      }
      const prefix = parseCidr(ctx.value)?.prefix ?? 0;
      if (bounds && (prefix < bounds.minPrefix || prefix > bounds.maxPrefix)) {
        ctx.issues.push({
          code: 'custom',
          input: ctx.value,
          message: `must have a prefix length between /${bounds.minPrefix} and /${bounds.maxPrefix} for ${bounds.role}, got ${describeValue(ctx.value)}`,
        });
      }
    });
}

/** An integer in [min, max]. */
export function intField(min: number, max: number) {
  return z.number().int().min(min).max(max);
}

/** Why a value is not a valid IntOrPercent within bounds (completes "must be …"), or undefined. */
export function intOrPercentProblem(value: unknown, maxInt: number, maxPercent: number | undefined): string | undefined {
  const rule = `an integer 0..${maxInt} or a percentage like "25%"${maxPercent === undefined ? '' : ` (at most "${maxPercent}%")`}`;
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= maxInt ? undefined : rule;
  if (typeof value !== 'string') return rule;
  const m = PERCENT.exec(value);
  if (!m || value.length > 8) return rule;
  return maxPercent !== undefined && Number(m[1]) > maxPercent ? rule : undefined;
}

/** A Kubernetes IntOrString: a non-negative integer or `"N%"`. Any other string is an error, as in Kubernetes. */
export function intOrPercentField(options: { readonly maxInt?: number; readonly maxPercent?: number } = {}) {
  const maxInt = options.maxInt ?? 1000;
  return z
    .custom<IntOrPercent>((v) => intOrPercentProblem(v, maxInt, options.maxPercent) === undefined, {
      error: (iss) => `must be ${intOrPercentProblem(iss.input, maxInt, options.maxPercent) ?? 'valid'}, got ${describeValue(iss.input)}`,
    })
    .meta({
      anyOf: [
        { type: 'integer', minimum: 0, maximum: maxInt },
        { type: 'string', pattern: '^\\d+%$' },
      ],
    });
}

/** Shortest duration accepted, in seconds: a zero timeout would fire before anything could happen. */
export const MIN_DURATION_SECONDS = 1;
/** Longest duration accepted, in seconds (24h): longer timeouts hide stuck rollouts instead of reporting them. */
export const MAX_DURATION_SECONDS = 24 * 3600;

/** A duration (`30s`, `10m`, `1h30m`, or integer seconds), normalized to its canonical string. */
export const durationField = z
  .custom<string | number>(
    (v) => {
      const seconds = parseDuration(v);
      return seconds !== undefined && seconds >= MIN_DURATION_SECONDS && seconds <= MAX_DURATION_SECONDS;
    },
    {
      error: (iss) =>
        parseDuration(iss.input) === undefined
          ? `must be a duration like 30s, 10m, 1h30m or a whole number of seconds, got ${describeValue(iss.input)}`
          : `must be between ${formatDuration(MIN_DURATION_SECONDS)} and ${formatDuration(MAX_DURATION_SECONDS)}, got ${describeValue(iss.input)}`,
    },
  )
  .meta({
    anyOf: [
      { type: 'string', pattern: '^(?:\\d+h)?(?:\\d+m)?(?:\\d+s)?$|^\\d+$' },
      { type: 'integer', minimum: MIN_DURATION_SECONDS, maximum: MAX_DURATION_SECONDS },
    ],
  })
  .transform((v) => formatDuration(parseDuration(v) as number));

/** An array whose items must be unique (compared as JSON), each duplicate reported at its index. */
export function uniqueArray<T extends z.ZodType>(item: T, maxItems: number) {
  return z
    .array(item)
    .max(maxItems)
    .check((ctx) => {
      const seen = new Map<string, number>();
      ctx.value.forEach((value, i) => {
        const key = JSON.stringify(value);
        const first = seen.get(key);
        if (first === undefined) seen.set(key, i);
        else ctx.issues.push({ code: 'custom', input: value, path: [i], message: `must be unique, got ${describeValue(value)} again (first at [${first}])` });
      });
    });
}

/** Renders a zod path: `spec.workers[0].name`. The document root is `document`. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  const text = path.reduce<string>((acc, key) => joinPath(acc, typeof key === 'number' ? key : String(key)), prefix);
  return text === '' ? 'document' : text;
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean (true or false)',
  object: 'an object',
  record: 'an object',
  array: 'an array',
};

/** Translates one zod issue into Capstan issues (an unknown-keys issue becomes one issue per key). */
export function toIssues(issue: z.core.$ZodIssue, prefix = ''): Issue[] {
  const path = formatPath(issue.path, prefix);
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: joinPath(path === 'document' ? '' : path, key) || 'document', message: 'unknown field' }));
    case 'invalid_type': {
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      return [{ path, message: input === undefined ? `is required (${expected})` : `must be ${expected}, got ${describeValue(input)}` }];
    }
    case 'invalid_value': {
      const allowed = issue.values.map((v) => JSON.stringify(v));
      const rule = allowed.length === 1 ? allowed[0] : `one of ${allowed.join(', ')}`;
      return [{ path, message: input === undefined ? `is required (${rule})` : `must be ${rule}, got ${describeValue(input)}` }];
    }
    case 'invalid_union': {
      if ('discriminator' in issue && typeof issue.discriminator === 'string') {
        const received = input !== null && typeof input === 'object' ? (input as Record<string, unknown>)[issue.discriminator] : undefined;
        const options = ((issue as { options?: unknown[] }).options ?? []).map((v) => JSON.stringify(v)).join(', ');
        if (input === null || typeof input !== 'object' || Array.isArray(input)) {
          return [{ path: formatPath(issue.path.slice(0, -1), prefix), message: `must be an object, got ${describeValue(input)}` }];
        }
        return [{ path, message: received === undefined ? `is required (one of ${options})` : `must be one of ${options}, got ${describeValue(received)}` }];
      }
      return [{ path, message: `is not valid, got ${describeValue(input)}` }];
    }
    case 'too_big':
    case 'too_small': {
      const bound = Number(issue.code === 'too_big' ? (issue as { maximum: number | bigint }).maximum : (issue as { minimum: number | bigint }).minimum);
      const side = issue.code === 'too_big' ? 'at most' : 'at least';
      if (issue.origin === 'string' && typeof input === 'string') {
        return [{ path, message: `must be ${side} ${bound} characters long, got ${input.length} characters` }];
      }
      if (issue.origin === 'array' && Array.isArray(input)) {
        return [{ path, message: `must have ${side} ${bound} items, got ${input.length}` }];
      }
      return [{ path, message: `must be ${side} ${bound}, got ${describeValue(input)}` }];
    }
    case 'invalid_key':
      return issue.issues.flatMap((inner) => toIssues(inner, path)).map((i) => ({ ...i, message: `key ${i.message}` }));
    default:
      return [{ path, message: issue.message }];
  }
}
