/**
 * The Cluster document: its schema, its defaults, and `parseClusterDocument`, which turns untrusted input into a
 * validated, defaulted `ClusterDocument` or throws ONE ValidationError listing every problem.
 *
 * Two passes, so that every problem is reported at once:
 *  1. the zod schema checks each field on its own (types, patterns, bounds, unknown fields) and fills defaults;
 *  2. `crossFieldIssues` checks rules between fields (CIDR overlap, unique pool names, min ≤ replicas ≤ max, version
 *     skew, surge/unavailable) on the raw input, each rule only where the fields it reads are themselves valid.
 * Note: zod skips an object's refinements once any field inside it failed; that is why pass 2 does not live in zod.
 */
import { z } from 'zod';
import {
  API_VERSION,
  CLUSTER_KIND,
  CONTROL_PLANE_POOL,
  DELETION_ORDERS,
  DRAIN_POLICIES,
  ROLLOUT_STRATEGIES,
  type ClusterDocument,
  type IntOrPercent,
} from '../cluster.js';
import { ValidationError, type Issue } from '../errors.js';
import { scaledValue } from '../intstr.js';
import { compareVersions, MAX_KUBELET_SKEW, minorSkew, parseVersion } from '../semver.js';
import { cidrsOverlap, parseCidr } from './cidr.js';
import { describeValue, hostileValueIssues } from './documents.js';
import {
  annotationsField,
  cidrField,
  dnsLabel,
  durationField,
  intField,
  intOrPercentField,
  labelsField,
  MAX_STRING_LENGTH,
  patternString,
  timestampField,
  toIssues,
  uniqueArray,
  versionField,
} from './fields.js';

/** The defaults `parseClusterDocument` fills in (see the `@default` tags of functions/domain/cluster.ts). */
export const CLUSTER_DEFAULTS = {
  podCidr: '192.168.0.0/16',
  serviceCidr: '10.96.0.0/12',
  cni: 'https://raw.githubusercontent.com/projectcalico/calico/v3.29.1/manifests/calico.yaml',
  /** Not materialized: the VPC the aws provider creates when neither vpcCidr nor vpcId is given. */
  awsVpcCidr: '10.0.0.0/16',
  controlPlaneReplicas: 3,
  controlPlaneInstanceType: 't3.large',
  controlPlaneMaxSurge: 1,
  workerInstanceType: 'm6i.large',
  workerReplicas: 1,
  workerStrategy: 'RollingUpdate',
  workerMaxSurge: 1,
  workerMaxUnavailable: 0,
  workerDeletionOrder: 'Random',
  nodeStartupTimeout: '10m',
  unhealthyTimeout: '5m',
  maxUnhealthy: '40%',
  drainTimeout: '10m',
  drainPolicy: 'Wait',
} as const;

/** Size limits of a document. */
export const CLUSTER_LIMITS = {
  clusterNameLength: 40,
  poolNameLength: 30,
  workerPools: 100,
  poolReplicas: 1000,
  failureDomains: 16,
  subnets: 32,
  /** API server allow-list entries: an AWS security group has at most 60 inbound rules; Capstan keeps some for itself. */
  endpointAllowedCidrs: 50,
  /** At most this many issues are listed; the rest are counted in a last issue. */
  issues: 100,
} as const;

const CP_REPLICAS = [1, 3, 5, 7] as const;

/** Schemes of the API server load balancer (CAPA's `controlPlaneLoadBalancer.scheme`). */
export const ENDPOINT_SCHEMES = ['internet-facing', 'internal'] as const;

/**
 * Who may reach the API server (6443) through its load balancer. Not materialized when absent: the provider then
 * uses `internet-facing` and no extra source (see `ControlPlaneEndpointSpec`).
 */
const endpointSchema = z.strictObject({
  scheme: z.enum(ENDPOINT_SCHEMES).default('internet-facing'),
  allowedCidrs: uniqueArray(cidrField(), CLUSTER_LIMITS.endpointAllowedCidrs).default([]),
});

const machineSchema = (defaultInstanceType: string) =>
  z
    .strictObject({
      instanceType: patternString(/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/, 'an EC2 instance type like t3.large', 64).default(defaultInstanceType),
      imageId: patternString(/^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/, 'an AMI id like ami-0123456789abcdef0', 32).optional(),
      rootVolumeSizeGiB: intField(8, 16384).optional(),
    })
    .prefault({});

const failureDomainsSchema = uniqueArray(
  patternString(/^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'a failure domain name like us-east-1a', 64),
  CLUSTER_LIMITS.failureDomains,
);

const ACCOUNT = /^\d{12}$/;
const ROLE_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;

const awsInfrastructureSchema = z.strictObject({
  provider: z.literal('aws'),
  account: patternString(ACCOUNT, 'a 12-digit AWS account id', 32),
  region: patternString(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, 'an AWS region like us-east-1', 32),
  roleArn: patternString(ROLE_ARN, 'an IAM role ARN like arn:aws:iam::123456789012:role/CapstanMemberRole', 600).optional(),
  sshKeyName: patternString(/^[\x20-\x7e]{1,255}$/, 'an EC2 key pair name (printable ASCII)', 255).optional(),
  vpcId: patternString(/^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$/, 'a VPC id like vpc-0123456789abcdef0', 32).optional(),
  subnetIds: uniqueArray(patternString(/^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$/, 'a subnet id like subnet-0123456789abcdef0', 32), CLUSTER_LIMITS.subnets).optional(),
  tags: z
    .record(
      patternString(/^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u, 'an EC2 tag key (1-128 characters, not starting with "aws:")', 128),
      z.string().max(256),
    )
    .check((ctx) => {
      const count = Object.keys(ctx.value).length;
      if (count > 40) ctx.issues.push({ code: 'custom', input: ctx.value, message: `must have at most 40 entries, got ${count}` });
    })
    .optional(),
});

const infrastructureSchema = z.discriminatedUnion('provider', [z.strictObject({ provider: z.literal('local') }), awsInfrastructureSchema]);

const workerRolloutSchema = z
  .strictObject({
    strategy: z.enum(ROLLOUT_STRATEGIES).default(CLUSTER_DEFAULTS.workerStrategy),
    maxSurge: intOrPercentField().default(CLUSTER_DEFAULTS.workerMaxSurge),
    maxUnavailable: intOrPercentField({ maxPercent: 100 }).default(CLUSTER_DEFAULTS.workerMaxUnavailable),
    after: timestampField.optional(),
    deletionOrder: z.enum(DELETION_ORDERS).default(CLUSTER_DEFAULTS.workerDeletionOrder),
  })
  .prefault({});

const workerPoolSchema = z.strictObject({
  name: dnsLabel(CLUSTER_LIMITS.poolNameLength).refine((name) => name !== CONTROL_PLANE_POOL, {
    error: `must not be "${CONTROL_PLANE_POOL}", got "${CONTROL_PLANE_POOL}" (reserved for the control plane)`,
  }),
  replicas: intField(0, CLUSTER_LIMITS.poolReplicas).default(CLUSTER_DEFAULTS.workerReplicas),
  minReplicas: intField(0, CLUSTER_LIMITS.poolReplicas).optional(),
  maxReplicas: intField(0, CLUSTER_LIMITS.poolReplicas).optional(),
  version: versionField.optional(),
  machine: machineSchema(CLUSTER_DEFAULTS.workerInstanceType),
  rollout: workerRolloutSchema,
  failureDomains: failureDomainsSchema.optional(),
  labels: labelsField.optional(),
});

const freeObject = z.record(z.string().max(256), z.unknown());
const commands = z.array(z.string().max(MAX_STRING_LENGTH)).max(100);

const specSchema = z.strictObject({
  infrastructure: infrastructureSchema,
  version: versionField,
  network: z
    .strictObject({
      podCidr: cidrField({ minPrefix: 8, maxPrefix: 24, role: 'pods (each node takes a /24)' }).default(CLUSTER_DEFAULTS.podCidr),
      serviceCidr: cidrField({ minPrefix: 12, maxPrefix: 28, role: 'services (Kubernetes allows at most a /12)' }).default(
        CLUSTER_DEFAULTS.serviceCidr,
      ),
      vpcCidr: cidrField({ minPrefix: 16, maxPrefix: 28, role: 'an AWS VPC' }).optional(),
      cni: z
        .string()
        .max(2048)
        .refine((v) => v === 'none' || /^https:\/\/[^\s'"`$\\]+$/.test(v), {
          message: 'must be an https:// manifest URL (no quotes, spaces or $) or "none"',
        })
        .default(CLUSTER_DEFAULTS.cni),
    })
    .prefault({}),
  failureDomains: failureDomainsSchema.default([]),
  controlPlane: z
    .strictObject({
      replicas: z
        .number()
        .int()
        .refine((n) => (CP_REPLICAS as readonly number[]).includes(n), {
          error: (iss) => `must be odd (${CP_REPLICAS.join(', ')}), got ${describeValue(iss.input)}`,
        })
        .default(CLUSTER_DEFAULTS.controlPlaneReplicas),
      machine: machineSchema(CLUSTER_DEFAULTS.controlPlaneInstanceType),
      rollout: z
        .strictObject({
          maxSurge: z.literal([0, 1]).default(CLUSTER_DEFAULTS.controlPlaneMaxSurge),
          after: timestampField.optional(),
        })
        .prefault({}),
      endpoint: endpointSchema.optional(),
    })
    .prefault({}),
  workers: z.array(workerPoolSchema).max(CLUSTER_LIMITS.workerPools).default([]),
  healthCheck: z
    .strictObject({
      nodeStartupTimeout: durationField.default(CLUSTER_DEFAULTS.nodeStartupTimeout),
      unhealthyTimeout: durationField.default(CLUSTER_DEFAULTS.unhealthyTimeout),
      maxUnhealthy: intOrPercentField({ maxPercent: 100 }).default(CLUSTER_DEFAULTS.maxUnhealthy),
    })
    .prefault({}),
  drain: z
    .strictObject({
      timeout: durationField.default(CLUSTER_DEFAULTS.drainTimeout),
      policy: z.enum(DRAIN_POLICIES).default(CLUSTER_DEFAULTS.drainPolicy),
    })
    .prefault({}),
  paused: z.boolean().default(false),
  kubeadm: z
    .strictObject({
      clusterConfiguration: freeObject.optional(),
      initConfiguration: freeObject.optional(),
      joinConfiguration: freeObject.optional(),
      files: z.array(freeObject).max(100).optional(),
      preKubeadmCommands: commands.optional(),
      postKubeadmCommands: commands.optional(),
    })
    .optional(),
});

/** The zod schema of a Cluster document as users send it (output: validated and defaulted). */
export const clusterDocumentSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(CLUSTER_KIND),
  metadata: z.strictObject({
    name: dnsLabel(CLUSTER_LIMITS.clusterNameLength),
    labels: labelsField.optional(),
    annotations: annotationsField.optional(),
  }),
  spec: specSchema,
});

/**
 * Validates and defaults a Cluster document.
 *
 * Every problem is reported at once, each naming the field path, the value received and the rule. Defaults are
 * filled in except a worker pool's `version`, which stays absent so the pool follows `spec.version`.
 * @param options.path prefix for issue paths, e.g. `body[1]` for the second document of a YAML body
 * @throws ValidationError listing every issue
 */
export function parseClusterDocument(raw: unknown, options: { readonly path?: string } = {}): ClusterDocument {
  // Note: documents from parseBodyDocuments already passed this; others (a stored record, an import) may not have.
  const hostile = hostileValueIssues(raw, options.path ?? '');
  if (hostile.length > 0) throw new ValidationError(hostile.map((i) => ({ ...i, path: i.path || 'document' })));
  const result = clusterDocumentSchema.safeParse(raw, { reportInput: true });
  const prefix = options.path ?? '';
  const issues: Issue[] = result.success ? [] : result.error.issues.flatMap((issue) => toIssues(issue, prefix));
  const seen = new Set(issues.map((i) => `${i.path}\n${i.message}`));
  for (const issue of crossFieldIssues(raw)) {
    const located = { path: prefix ? `${prefix}.${issue.path}` : issue.path, message: issue.message };
    if (!seen.has(`${located.path}\n${located.message}`)) issues.push(located);
  }
  if (issues.length > 0 || !result.success) {
    const shown = issues.slice(0, CLUSTER_LIMITS.issues);
    if (issues.length > shown.length) {
      shown.push({ path: prefix || 'document', message: `has ${issues.length - shown.length} more problems not listed` });
    }
    throw new ValidationError(shown);
  }
  const document: ClusterDocument = result.data;
  return document;
}

/** The JSON Schema (draft 2020-12, as OpenAPI 3.1 uses) of the Cluster document users send. */
export function clusterDocumentJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(clusterDocumentSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
}

// ---- pass 2: rules between fields, on the raw input ----

type Raw = Readonly<Record<string, unknown>>;

function asObject(value: unknown): Raw | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Raw) : undefined;
}

/** The value when it passes `schema` alone, the default when absent, else undefined (its own issue is reported). */
function validOr<T>(schema: z.ZodType<T>, value: unknown, fallback?: T): T | undefined {
  if (value === undefined) return fallback;
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

const cidrText = cidrField();
const replicasField = intField(0, CLUSTER_LIMITS.poolReplicas);
const surgeField = intOrPercentField();
const unavailableField = intOrPercentField({ maxPercent: 100 });

/** Rules between fields of a (raw) document. Each rule runs only when the fields it reads are valid on their own. */
export function crossFieldIssues(raw: unknown): Issue[] {
  const spec = asObject(asObject(raw)?.spec);
  if (!spec) return [];
  const issues: Issue[] = [];
  const infrastructure = asObject(spec.infrastructure);

  // Network blocks must not overlap one another (nor the VPC the aws provider would create by default).
  const network = spec.network === undefined ? {} : asObject(spec.network);
  if (network) {
    const blocks: { field: string; text: string | undefined; implicit?: boolean }[] = [
      { field: 'podCidr', text: validOr(cidrText, network.podCidr, CLUSTER_DEFAULTS.podCidr) },
      { field: 'serviceCidr', text: validOr(cidrText, network.serviceCidr, CLUSTER_DEFAULTS.serviceCidr) },
      { field: 'vpcCidr', text: validOr(cidrText, network.vpcCidr) },
    ];
    if (network.vpcCidr === undefined && infrastructure?.provider === 'aws' && infrastructure.vpcId === undefined) {
      blocks[2] = { field: 'vpcCidr', text: CLUSTER_DEFAULTS.awsVpcCidr, implicit: true };
    }
    for (let j = 1; j < blocks.length; j++) {
      for (let i = 0; i < j; i++) {
        const a = blocks[i] as (typeof blocks)[number];
        const b = blocks[j] as (typeof blocks)[number];
        const ca = a.text === undefined ? undefined : parseCidr(a.text);
        const cb = b.text === undefined ? undefined : parseCidr(b.text);
        if (!ca || !cb || !cidrsOverlap(ca, cb)) continue;
        const [reported, other] = b.implicit ? [a, b] : [b, a];
        const otherText = `${other.field} ${other.text}${other.implicit ? ' (the default VPC CIDR on aws)' : ''}`;
        issues.push({ path: `spec.network.${reported.field}`, message: `must not overlap ${otherText}, got ${reported.text}` });
      }
    }
  }

  // The role to assume must live in the cluster's account.
  if (infrastructure?.provider === 'aws' && typeof infrastructure.roleArn === 'string' && typeof infrastructure.account === 'string') {
    const arnAccount = ROLE_ARN.exec(infrastructure.roleArn)?.[1];
    if (arnAccount !== undefined && ACCOUNT.test(infrastructure.account) && arnAccount !== infrastructure.account) {
      issues.push({
        path: 'spec.infrastructure.roleArn',
        message: `must be a role in account ${infrastructure.account}, got ${describeValue(infrastructure.roleArn)} (account ${arnAccount})`,
      });
    }
  }

  const workers = Array.isArray(spec.workers) ? spec.workers.slice(0, CLUSTER_LIMITS.workerPools) : [];
  const controlPlaneVersion = validOr(versionField, spec.version);
  const names = new Map<string, number>();
  workers.forEach((item, i) => {
    const pool = asObject(item);
    if (!pool) return;
    const at = `spec.workers[${i}]`;
    if (typeof pool.name === 'string') {
      const first = names.get(pool.name);
      if (first === undefined) names.set(pool.name, i);
      else issues.push({ path: `${at}.name`, message: `must be unique, got ${describeValue(pool.name)} again (also spec.workers[${first}].name)` });
    }
    const replicas = validOr(replicasField, pool.replicas, CLUSTER_DEFAULTS.workerReplicas);
    const min = validOr(replicasField, pool.minReplicas);
    const max = validOr(replicasField, pool.maxReplicas);
    if (min !== undefined && max !== undefined && min > max) {
      issues.push({ path: `${at}.maxReplicas`, message: `must be at least minReplicas (${min}), got ${max}` });
    } else if (replicas !== undefined) {
      if (min !== undefined && replicas < min) issues.push({ path: `${at}.replicas`, message: `must be at least minReplicas (${min}), got ${replicas}` });
      if (max !== undefined && replicas > max) issues.push({ path: `${at}.replicas`, message: `must be at most maxReplicas (${max}), got ${replicas}` });
    }
    const poolVersion = validOr(versionField, pool.version);
    if (poolVersion !== undefined && controlPlaneVersion !== undefined) {
      issues.push(...poolSkewIssues(`${at}.version`, poolVersion, controlPlaneVersion));
    }
    const rollout = pool.rollout === undefined ? {} : asObject(pool.rollout);
    if (rollout && replicas !== undefined && (rollout.strategy ?? CLUSTER_DEFAULTS.workerStrategy) === 'RollingUpdate') {
      const surge = validOr(surgeField, rollout.maxSurge, CLUSTER_DEFAULTS.workerMaxSurge as IntOrPercent);
      const unavailable = validOr(unavailableField, rollout.maxUnavailable, CLUSTER_DEFAULTS.workerMaxUnavailable as IntOrPercent);
      if (surge !== undefined && unavailable !== undefined) {
        // Note: a pool scaled to 0 is judged as if it had 1 replica, so scaling it up later cannot strand a rollout.
        const total = Math.max(replicas, 1);
        if (scaledValue(surge, total, true) === 0 && scaledValue(unavailable, total, false) === 0) {
          issues.push({
            path: `${at}.rollout.maxUnavailable`,
            message: `must not be 0 when maxSurge is 0 (a rolling update could never make progress), got maxSurge ${describeValue(surge)} and maxUnavailable ${describeValue(unavailable)} for ${replicas} replicas`,
          });
        }
      }
    }
  });
  return issues;
}

/**
 * The kubelet skew rules for one pool: never newer than the control plane, at most MAX_KUBELET_SKEW minors older.
 * @param path where to report, e.g. `spec.workers[0].version`
 */
export function poolSkewIssues(path: string, poolVersion: string, controlPlaneVersion: string): Issue[] {
  if (parseVersion(poolVersion) === undefined || parseVersion(controlPlaneVersion) === undefined) return [];
  if (compareVersions(poolVersion, controlPlaneVersion) > 0) {
    return [{ path, message: `must not be newer than the control plane (spec.version ${controlPlaneVersion}), got ${poolVersion}` }];
  }
  const skew = minorSkew(controlPlaneVersion, poolVersion);
  if (skew > MAX_KUBELET_SKEW) {
    return [
      {
        path,
        message: `must be at most ${MAX_KUBELET_SKEW} minor versions older than the control plane (spec.version ${controlPlaneVersion}), got ${poolVersion} (${skew >= 100 ? 'a different major version' : `${skew} minors older`})`,
      },
    ];
  }
  return [];
}
