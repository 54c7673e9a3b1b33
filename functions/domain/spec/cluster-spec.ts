/**
 * The Cluster document: its schema, its defaults, and `parseClusterDocument`, which turns untrusted input into a
 * validated, defaulted `ClusterDocument` or throws ONE ValidationError listing every problem.
 *
 * Two passes, so that every problem is reported at once:
 *  1. the zod schema checks each field on its own (types, patterns, bounds, unknown fields) and fills defaults;
 *  2. `crossFieldIssues` checks rules between fields (CIDR overlap, unique pool names, min ≤ replicas ≤ max, version
 *     skew, surge/unavailable) on the raw input, each rule only where the fields it reads are themselves valid.
 * Note: zod skips an object's refinements once any field inside it failed; that is why pass 2 does not live in zod.
 *
 * Each section of the spec (infrastructure, network, control plane, workers, rollout and drain, health check,
 * kubeadm) has its schema and its rules between fields in its own file under sections/; this file composes them. The
 * defaults and limits live in cluster-defaults.ts. Every name exported here before the split still is.
 */
import { z } from 'zod';
import { API_VERSION, CLUSTER_KIND, type ClusterDocument } from '../cluster.js';
import { ValidationError, type Issue } from '../errors.js';
import { CLUSTER_LIMITS } from './cluster-defaults.js';
import { hostileValueIssues } from './documents.js';
import { annotationsField, dnsLabel, labelsField, toIssues, versionField } from './fields.js';
import { controlPlaneSchema } from './sections/control-plane.js';
import { healthCheckSchema } from './sections/health-check.js';
import { infrastructureIssues, infrastructureSchema } from './sections/infrastructure.js';
import { kubeadmSchema } from './sections/kubeadm.js';
import { failureDomainsSchema } from './sections/machine.js';
import { networkIssues, networkSchema } from './sections/network.js';
import { asObject } from './sections/raw.js';
import { drainSchema } from './sections/rollout.js';
import { workersIssues, workersSchema } from './sections/workers.js';

export { CLUSTER_DEFAULTS, CLUSTER_LIMITS } from './cluster-defaults.js';
export { ENDPOINT_SCHEMES } from './sections/control-plane.js';
export { poolSkewIssues } from './sections/workers.js';

const specSchema = z.strictObject({
  infrastructure: infrastructureSchema,
  version: versionField,
  network: networkSchema,
  failureDomains: failureDomainsSchema.default([]),
  controlPlane: controlPlaneSchema,
  workers: workersSchema,
  healthCheck: healthCheckSchema,
  drain: drainSchema,
  paused: z.boolean().default(false),
  kubeadm: kubeadmSchema,
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

/**
 * Rules between fields of a (raw) document. Each rule runs only when the fields it reads are valid on their own.
 * Issues come section by section: network, infrastructure, then the worker pools in order.
 */
export function crossFieldIssues(raw: unknown): Issue[] {
  const spec = asObject(asObject(raw)?.spec);
  if (!spec) return [];
  const infrastructure = asObject(spec.infrastructure);
  return [...networkIssues(spec.network, infrastructure), ...infrastructureIssues(infrastructure), ...workersIssues(spec.workers, spec.version)];
}
