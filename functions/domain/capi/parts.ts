/**
 * The intermediate shape both import paths produce: a Cluster with explicit references (Cluster → AWSCluster,
 * KubeadmControlPlane, MachineDeployments) and a topology Cluster (Cluster → ClusterClass → patched templates).
 * `assembleCluster` turns either into one raw Capstan document.
 */
import type { ProviderName } from '../cluster.js';
import { describeRef, type ManifestDoc, type ManifestIndex, type Problems, readRef } from './manifest.js';
import type { DraftWorkerRollout } from './mappers.js';
import type { Obj } from './object.js';

/** Shared state of one cluster's import: where to look things up and what was used. */
export interface ImportContext {
  readonly index: ManifestIndex;
  readonly problems: Problems;
  /** Indexes of every document that went into this cluster. */
  readonly sources: Set<number>;
}

/** An object read from a document: `spec` is the part that matters (e.g. a template's `spec.template.spec`). */
export interface Located {
  readonly doc: ManifestDoc;
  readonly spec: Obj;
}

/** A value with the document and field it came from, for error reporting. */
export interface Sourced {
  readonly value: unknown;
  readonly doc: ManifestDoc;
  readonly field: string;
}

/** One worker pool, from a MachineDeployment or a topology machineDeployment. */
export interface WorkerPart {
  readonly name: string;
  readonly replicas: unknown;
  readonly version?: unknown;
  readonly rollout?: DraftWorkerRollout;
  readonly failureDomain?: unknown;
  readonly annotations?: unknown;
  readonly machine: Located;
  readonly drainTimeout?: Sourced;
}

/** One cluster as read from Cluster API objects, before mapping onto Capstan fields. */
export interface ClusterParts {
  readonly infrastructure: Located & { readonly provider: ProviderName };
  readonly version: unknown;
  readonly controlPlane: {
    readonly doc: ManifestDoc;
    /** KubeadmControlPlane `spec`, or the KubeadmControlPlaneTemplate's `spec.template.spec`. */
    readonly spec: Obj;
    readonly replicas: unknown;
    readonly machine: Located;
    readonly drainTimeout?: Sourced;
  };
  readonly workers: readonly WorkerPart[];
  /** Health-check specs in priority order: the first to set a field wins. */
  readonly healthChecks: readonly (Located & { readonly field: string })[];
}

/**
 * The document `value` references from `field` of `from`, or undefined after reporting why not: missing (required),
 * a kind outside `allowed` (unsupported when the importer maps that kind nowhere, invalid otherwise), or dangling.
 */
export function resolveRef(ctx: ImportContext, from: ManifestDoc, field: string, value: unknown, allowed: readonly string[]): ManifestDoc | undefined {
  const ref = readRef(value);
  if (!ref) {
    ctx.problems.invalidAt(from, field, `required: a reference with kind and name (one of ${allowed.join(', ')}), got ${value === undefined ? 'none' : JSON.stringify(value)}`);
    return undefined;
  }
  if (!allowed.includes(ref.kind)) {
    ctx.problems.unsupportedAt(from, field, `kind ${ref.kind} is not supported yet here (supported: ${allowed.join(', ')})`);
    return undefined;
  }
  const doc = ctx.index.find(ref);
  if (!doc) {
    ctx.problems.invalidAt(from, field, `${describeRef(ref)} is not in the documents; send it in the same request`);
    return undefined;
  }
  ctx.sources.add(doc.index);
  return doc;
}
