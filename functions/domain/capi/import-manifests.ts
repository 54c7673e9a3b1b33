/**
 * `importManifests`: turns the documents of one `POST /v1/apply` — Capstan Clusters and/or Cluster API objects —
 * into raw Capstan Cluster documents, one per Cluster, for the spec parser to validate and default.
 *
 * Order of checks: unknown kinds first (UnsupportedError listing every one), then malformed documents and dangling
 * references (ValidationError listing every one). Unsupported features found while mapping (e.g. an external
 * ClusterClass patch) are reported like unsupported kinds. See README.md for the field mapping.
 *
 * This file is the import's entry and its cross-document checks. A Cluster's parts are collected by
 * referenced-cluster.ts (explicit references) or topology.ts (a ClusterClass), then mapped onto Capstan fields by
 * assemble-cluster.ts (its infrastructure and AWS identity by infrastructure.ts). `ACCOUNT_ANNOTATION` and
 * `INFRA_CLUSTER_KINDS` are re-exported from there.
 */
import { type Issue, UnsupportedError, ValidationError } from '../errors.js';
import { assembleCluster } from './assemble-cluster.js';
import { CAPSTAN_GROUP, classify, CLUSTER_GROUP, ManifestIndex, type ManifestDoc, Problems } from './manifest.js';
import type { DraftCluster } from './mappers.js';
import { asObj, at } from './object.js';
import type { ImportContext } from './parts.js';
import { readReferencedCluster } from './referenced-cluster.js';
import { readTopologyCluster } from './topology.js';

export { ACCOUNT_ANNOTATION } from './infrastructure.js';
export { INFRA_CLUSTER_KINDS } from './referenced-cluster.js';

/** One Capstan Cluster produced by an import. */
export interface ImportedCluster {
  /** `metadata.name` of the Cluster. */
  readonly name: string;
  /** Indexes (ascending) of every request document that went into it; ignored addon documents are not listed. */
  readonly sourceIndexes: number[];
  /** A RAW Capstan Cluster document (apiVersion capstan.dev/v1alpha1): validate it with `parseClusterDocument`. */
  readonly document: unknown;
}

/** The outcome of `importManifests`: one entry per Cluster, in request order. */
export interface ImportResult {
  readonly clusters: ImportedCluster[];
}

/**
 * Imports Capstan and Cluster API documents (parsed YAML, one entry per document; `null` entries from empty YAML
 * documents are skipped but keep their index) into raw Capstan Cluster documents.
 *
 * Capstan Cluster documents pass through unchanged. Each Cluster API `Cluster` becomes one Capstan Cluster built
 * from the objects it references (or from its ClusterClass when it has `spec.topology`). Secrets, ConfigMaps,
 * ClusterResourceSets and ClusterResourceSetBindings are accepted and ignored: addons are out of scope.
 *
 * @throws UnsupportedError listing every document of a kind Capstan does not support (path `documents[i]`), or
 *   every unsupported feature used (e.g. a topology machinePool).
 * @throws ValidationError listing every malformed document, missing field and dangling reference, each named by
 *   index, kind and name (`documents[3] (AWSCluster capstan-demo)`).
 */
export function importManifests(documents: readonly unknown[]): ImportResult {
  const classified = classify(documents);
  if (classified.unsupported.length) throw new UnsupportedError(classified.unsupported);
  if (classified.invalid.length) throw new ValidationError(classified.invalid);

  const index = new ManifestIndex(classified.docs);
  const problems = new Problems();
  const clusters: ImportedCluster[] = [];
  const capiClusters = index.ofKind(CLUSTER_GROUP, 'Cluster');
  for (const doc of classified.docs) {
    if (doc.group === CAPSTAN_GROUP) {
      clusters.push({ name: doc.name, sourceIndexes: [doc.index], document: doc.body });
    } else if (doc.group === CLUSTER_GROUP && doc.kind === 'Cluster') {
      const sources = new Set([doc.index]);
      const document = importCluster({ index, problems, sources }, doc);
      if (document) clusters.push({ name: doc.name, sourceIndexes: [...sources].sort((a, b) => a - b), document });
    }
  }

  // MachineDeployments and MachineHealthChecks must belong to a Cluster API Cluster of this request.
  for (const kind of ['MachineDeployment', 'MachineHealthCheck']) {
    for (const doc of index.ofKind(CLUSTER_GROUP, kind)) {
      const clusterName = at(doc.body, 'spec', 'clusterName');
      if (!capiClusters.some((c) => c.name === clusterName)) {
        problems.invalidAt(doc, 'spec.clusterName', `Cluster ${JSON.stringify(clusterName ?? null)} is not in the documents (Cluster API objects are imported together with their Cluster)`);
      }
    }
  }
  const seen = new Map<string, number>();
  for (const c of classified.docs.filter((d) => d.kind === 'Cluster' && (d.group === CAPSTAN_GROUP || d.group === CLUSTER_GROUP))) {
    const first = seen.get(c.name);
    if (first !== undefined) problems.invalidAt(c, 'metadata.name', `cluster ${c.name} is also defined by documents[${first}]`);
    else seen.set(c.name, c.index);
  }

  if (problems.unsupported.length) throw new UnsupportedError(unique(problems.unsupported));
  if (problems.invalid.length) throw new ValidationError(unique(problems.invalid));
  return { clusters };
}

function unique(issues: readonly Issue[]): Issue[] {
  const keys = new Set<string>();
  return issues.filter((i) => !keys.has(`${i.path}\u0000${i.message}`) && Boolean(keys.add(`${i.path}\u0000${i.message}`)));
}

/** One Cluster API Cluster → raw Capstan document, or undefined after reporting problems. */
function importCluster(ctx: ImportContext, cluster: ManifestDoc): DraftCluster | undefined {
  const spec = asObj(cluster.body['spec']) ?? {};
  const topology = asObj(spec['topology']);
  const parts = topology ? readTopologyCluster(ctx, cluster, topology) : readReferencedCluster(ctx, cluster, spec);
  return parts && assembleCluster(ctx, cluster, parts);
}
