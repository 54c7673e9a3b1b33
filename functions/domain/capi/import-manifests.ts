/**
 * `importManifests`: turns the documents of one `POST /v1/apply` — Capstan Clusters and/or Cluster API objects —
 * into raw Capstan Cluster documents, one per Cluster, for the spec parser to validate and default.
 *
 * Order of checks: unknown kinds first (UnsupportedError listing every one), then malformed documents and dangling
 * references (ValidationError listing every one). Unsupported features found while mapping (e.g. an external
 * ClusterClass patch) are reported like unsupported kinds. See README.md for the field mapping.
 */
import { API_VERSION, CLUSTER_KIND } from '../cluster.js';
import { type Issue, UnsupportedError, ValidationError } from '../errors.js';
import {
  CAPSTAN_GROUP,
  classify,
  CLUSTER_GROUP,
  describeRef,
  INFRASTRUCTURE_GROUP,
  ManifestIndex,
  type ManifestDoc,
  Problems,
} from './manifest.js';
import {
  type DraftCluster,
  type DraftHealthCheck,
  type DraftMachine,
  normalizeVersion,
  providerOfKind,
  readAwsClusterSpec,
  readControlPlaneRollout,
  readDrainTimeout,
  readDuration,
  readHealthCheck,
  readKubeadmConfigSpec,
  readLocalFailureDomains,
  readMachineSpec,
  readWorkerRollout,
} from './mappers.js';
import { asArr, asObj, asStr, at, firstDefined, type Obj, prune } from './object.js';
import { type ClusterParts, type ImportContext, type Located, resolveRef, type Sourced, type WorkerPart } from './parts.js';
import { MACHINE_TEMPLATE_KINDS, readTopologyCluster } from './topology.js';

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
 * Annotation on a Cluster API Cluster that names the AWS account when no AWSClusterRoleIdentity does (CAPA's
 * default identity is the controller's own credentials, which Capstan does not have).
 */
export const ACCOUNT_ANNOTATION = 'capstan.dev/account';

/** Cluster infrastructure kinds a Cluster's `infrastructureRef` may point at. */
export const INFRA_CLUSTER_KINDS = ['AWSCluster', 'DockerCluster', 'DevCluster'] as const;

const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::(\d{12}):role\/.+$/;

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

/** A Cluster with explicit `infrastructureRef` and `controlPlaneRef`, its MachineDeployments and MachineHealthChecks. */
function readReferencedCluster(ctx: ImportContext, cluster: ManifestDoc, spec: Obj): ClusterParts | undefined {
  const { index, problems } = ctx;
  const infraDoc = resolveRef(ctx, cluster, 'spec.infrastructureRef', spec['infrastructureRef'], INFRA_CLUSTER_KINDS);
  const kcpDoc = resolveRef(ctx, cluster, 'spec.controlPlaneRef', spec['controlPlaneRef'], ['KubeadmControlPlane']);
  const kcp = asObj(kcpDoc?.body['spec']) ?? {};
  // v1beta1: machineTemplate.infrastructureRef; v1beta2: machineTemplate.spec.infrastructureRef.
  const v1Machine = at(kcp, 'machineTemplate', 'infrastructureRef');
  const cpMachineDoc =
    kcpDoc &&
    resolveRef(
      ctx,
      kcpDoc,
      v1Machine !== undefined ? 'spec.machineTemplate.infrastructureRef' : 'spec.machineTemplate.spec.infrastructureRef',
      firstDefined(v1Machine, at(kcp, 'machineTemplate', 'spec', 'infrastructureRef')),
      MACHINE_TEMPLATE_KINDS,
    );

  const workers: WorkerPart[] = [];
  for (const md of index.ofKind(CLUSTER_GROUP, 'MachineDeployment').filter((d) => at(d.body, 'spec', 'clusterName') === cluster.name)) {
    ctx.sources.add(md.index);
    const mdSpec = asObj(md.body['spec']) ?? {};
    const template = asObj(at(mdSpec, 'template', 'spec')) ?? {};
    const machineDoc = resolveRef(ctx, md, 'spec.template.spec.infrastructureRef', template['infrastructureRef'], MACHINE_TEMPLATE_KINDS);
    const configRef = at(template, 'bootstrap', 'configRef');
    if (configRef !== undefined) resolveRef(ctx, md, 'spec.template.spec.bootstrap.configRef', configRef, ['KubeadmConfigTemplate']);
    const rollout = readWorkerRollout(mdSpec);
    const drain = readDrainTimeout(template);
    if (!machineDoc) continue;
    workers.push({
      // Pool names are short: `capstan-demo-md-0` → `md-0` (machine names are `<cluster>-<pool>-<n>`).
      name: md.name.startsWith(`${cluster.name}-`) ? md.name.slice(cluster.name.length + 1) : md.name,
      replicas: mdSpec['replicas'],
      version: template['version'],
      ...(rollout ? { rollout } : {}),
      failureDomain: template['failureDomain'],
      annotations: at(md.body, 'metadata', 'annotations'),
      machine: templateSpec(machineDoc),
      ...(drain !== undefined ? { drainTimeout: { value: drain, doc: md, field: template['nodeDrainTimeout'] !== undefined ? 'spec.template.spec.nodeDrainTimeout' : 'spec.template.spec.deletion.nodeDrainTimeoutSeconds' } } : {}),
    });
  }
  const healthChecks = index
    .ofKind(CLUSTER_GROUP, 'MachineHealthCheck')
    .filter((d) => at(d.body, 'spec', 'clusterName') === cluster.name)
    .map((d) => {
      ctx.sources.add(d.index);
      return { doc: d, spec: asObj(d.body['spec']) ?? {}, field: 'spec' };
    });

  if (!infraDoc || !kcpDoc || !cpMachineDoc) return undefined;
  const provider = providerOfKind(infraDoc.kind);
  if (!provider) return undefined;
  const cpTemplate = asObj(at(kcp, 'machineTemplate')) ?? {};
  const cpDrain = firstDefined(readDrainTimeout(cpTemplate), readDrainTimeout(at(cpTemplate, 'spec')));
  if (kcp['version'] === undefined) problems.invalidAt(kcpDoc, 'spec.version', 'required, got none');
  return {
    infrastructure: { doc: infraDoc, spec: asObj(infraDoc.body['spec']) ?? {}, provider },
    version: kcp['version'],
    controlPlane: {
      doc: kcpDoc,
      spec: kcp,
      replicas: kcp['replicas'],
      machine: templateSpec(cpMachineDoc),
      ...(cpDrain !== undefined ? { drainTimeout: { value: cpDrain, doc: kcpDoc, field: cpTemplate['nodeDrainTimeout'] !== undefined ? 'spec.machineTemplate.nodeDrainTimeout' : 'spec.machineTemplate.spec.deletion.nodeDrainTimeoutSeconds' } } : {}),
    },
    workers,
    healthChecks,
  };
}

function templateSpec(doc: ManifestDoc): Located {
  return { doc, spec: asObj(at(doc.body, 'spec', 'template', 'spec')) ?? {} };
}

/** Maps the parts of one cluster onto a raw Capstan Cluster document. */
function assembleCluster(ctx: ImportContext, cluster: ManifestDoc, parts: ClusterParts): DraftCluster {
  const { problems } = ctx;
  const { provider } = parts.infrastructure;
  const machine = (located: Located): DraftMachine => {
    const machineProvider = providerOfKind(located.doc.kind);
    if (machineProvider !== provider) {
      problems.invalidAt(located.doc, 'kind', `${located.doc.kind} does not match the cluster's infrastructure ${parts.infrastructure.doc.kind}`);
      return {};
    }
    return readMachineSpec(provider, located.spec, (field, message) => problems.invalidAt(located.doc, field, message));
  };
  const duration = (s: Sourced | undefined): string | undefined => s && readDuration(s.value, s.field, (f, m) => problems.invalidAt(s.doc, f, m));

  const infra = readInfrastructure(ctx, cluster, parts);
  const version = normalizeVersion(parts.version);
  const workers = parts.workers.map((w) => {
    const annotations = asObj(w.annotations) ?? {};
    const min = toCount(annotations['cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size']);
    const max = toCount(annotations['cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size']);
    const poolVersion = normalizeVersion(w.version);
    return {
      name: w.name,
      // Like Cluster API: an autoscaled MachineDeployment without replicas starts at its minimum size.
      replicas: firstDefined(w.replicas, min),
      minReplicas: min,
      maxReplicas: max,
      // A pool at the cluster's version follows spec.version, so an upgrade stays one field change.
      version: poolVersion === version ? undefined : poolVersion,
      machine: machine(w.machine),
      rollout: w.rollout,
      failureDomains: w.failureDomain === undefined || w.failureDomain === null ? undefined : [w.failureDomain],
    };
  });

  const healthCheck: DraftHealthCheck = {};
  for (const source of parts.healthChecks) {
    const read = readHealthCheck(source.spec, (f, m) => problems.invalidAt(source.doc, f, m), source.field);
    for (const key of ['nodeStartupTimeout', 'unhealthyTimeout', 'maxUnhealthy'] as const) {
      if (healthCheck[key] === undefined && read[key] !== undefined) healthCheck[key] = read[key];
    }
  }

  // CAPI drains until nodeDrainTimeout and then deletes anyway: Capstan's Force policy.
  const drainTimeout = duration(parts.controlPlane.drainTimeout) ?? parts.workers.map((w) => duration(w.drainTimeout)).find((d) => d !== undefined);
  const clusterNetwork = asObj(at(cluster.body, 'spec', 'clusterNetwork'));
  const network = {
    podCidr: asArr(at(clusterNetwork, 'pods', 'cidrBlocks'))?.[0],
    serviceCidr: asArr(at(clusterNetwork, 'services', 'cidrBlocks'))?.[0],
    vpcCidr: infra.vpcCidr,
  };
  const metadata = asObj(cluster.body['metadata']) ?? {};
  const paused = at(cluster.body, 'spec', 'paused');
  const document: DraftCluster = {
    apiVersion: API_VERSION,
    kind: CLUSTER_KIND,
    metadata: { name: cluster.name, labels: metadata['labels'] ?? undefined, annotations: metadata['annotations'] ?? undefined },
    spec: {
      infrastructure: infra.infrastructure,
      version,
      ...(Object.values(network).some((v) => v !== undefined) ? { network } : {}),
      failureDomains: infra.failureDomains,
      controlPlane: {
        // KubeadmControlPlane defaults replicas to 1 (Capstan would default to 3): keep the Cluster API meaning.
        replicas: parts.controlPlane.replicas ?? 1,
        machine: machine(parts.controlPlane.machine),
        rollout: readControlPlaneRollout(parts.controlPlane.spec),
      },
      workers,
      ...(Object.keys(healthCheck).length ? { healthCheck } : {}),
      ...(drainTimeout !== undefined && drainTimeout !== '0s' ? { drain: { timeout: drainTimeout, policy: 'Force' } } : {}),
      paused: typeof paused === 'boolean' ? paused : undefined,
      kubeadm: readKubeadmConfigSpec(parts.controlPlane.spec['kubeadmConfigSpec']),
    },
  };
  return prune(document);
}

function toCount(value: unknown): number | undefined {
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : typeof value === 'number' ? value : undefined;
}

/** The Capstan infrastructure of a cluster, with its AWS account resolved through the identity. */
function readInfrastructure(
  ctx: ImportContext,
  cluster: ManifestDoc,
  parts: ClusterParts,
): { infrastructure: NonNullable<DraftCluster['spec']>['infrastructure']; failureDomains?: unknown; vpcCidr?: unknown } {
  const { doc, spec, provider } = parts.infrastructure;
  if (provider === 'local') return { infrastructure: { provider: 'local' }, failureDomains: readLocalFailureDomains(spec) };

  const aws = readAwsClusterSpec(spec);
  const { problems } = ctx;
  const identityField = doc.kind === 'AWSCluster' ? 'spec.identityRef' : 'spec.template.spec.identityRef';
  if (aws.region === undefined) problems.invalidAt(doc, doc.kind === 'AWSCluster' ? 'spec.region' : 'spec.template.spec.region', 'required, got none');
  let account: string | undefined;
  let roleArn: string | undefined;
  let identityName: string | undefined;
  const ref = aws.identityRef;
  if (ref?.kind === 'AWSClusterRoleIdentity') {
    // The identity the cluster names is the LAST role of a chain (sourceIdentityRef points back towards the
    // controller): it is the account the cluster lives in, and the role Capstan assumes. Capstan assumes it
    // directly, so the jump roles before it are not used.
    const identity = ctx.index.find({ group: INFRASTRUCTURE_GROUP, kind: ref.kind, name: ref.name });
    if (!identity) {
      problems.invalidAt(doc, identityField, `${describeRef(ref)} is not in the documents; send it in the same request`);
    } else {
      ctx.sources.add(identity.index);
      identityName = identity.name;
      const arn = at(identity.body, 'spec', 'roleARN');
      const match = typeof arn === 'string' ? ROLE_ARN.exec(arn) : null;
      if (!match) problems.invalidAt(identity, 'spec.roleARN', `must be an IAM role ARN like arn:aws:iam::123456789012:role/name, got ${JSON.stringify(arn ?? null)}`);
      else [roleArn, account] = [match[0], match[1]];
    }
  } else if (ref && ref.kind !== 'AWSClusterControllerIdentity') {
    problems.unsupportedAt(doc, identityField, `kind ${ref.kind} is not supported yet; use an AWSClusterRoleIdentity`);
  } else if (ref) {
    const controller = ctx.index.find({ group: INFRASTRUCTURE_GROUP, kind: ref.kind, name: ref.name });
    if (controller) ctx.sources.add(controller.index);
  }

  const annotated = asStr(at(cluster.body, 'metadata', 'annotations', ACCOUNT_ANNOTATION));
  if (account !== undefined && annotated !== undefined && annotated !== account) {
    problems.invalidAt(cluster, `metadata.annotations["${ACCOUNT_ANNOTATION}"]`, `${annotated} contradicts account ${account} of AWSClusterRoleIdentity ${identityName ?? ''}`);
  }
  account ??= annotated;
  if (account === undefined && !(ref?.kind === 'AWSClusterRoleIdentity')) {
    problems.invalidAt(
      doc,
      identityField,
      `an AWS account is needed; add an AWSClusterRoleIdentity, annotate the Cluster with ${ACCOUNT_ANNOTATION}, or use a Capstan document`,
    );
  }
  return {
    infrastructure: {
      provider: 'aws',
      account,
      region: aws.region,
      roleArn,
      sshKeyName: aws.sshKeyName,
      vpcId: aws.vpcId,
      subnetIds: aws.subnetIds,
      tags: aws.tags,
    },
    failureDomains: aws.failureDomains,
    vpcCidr: aws.vpcCidr,
  };
}

