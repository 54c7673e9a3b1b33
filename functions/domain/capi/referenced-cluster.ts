/**
 * Reads a Cluster API Cluster without `spec.topology` into `ClusterParts`: the objects it references
 * (infrastructure cluster, KubeadmControlPlane and its machine template), and, per kind, the MachineDeployments and
 * MachineHealthChecks that name it.
 *
 * Its own file because it is the collection half of the import (the topology path, topology.ts, is the other way to
 * collect parts); assemble-cluster.ts maps either onto Capstan fields.
 */
import { CLUSTER_GROUP, type ManifestDoc } from './manifest.js';
import { providerOfKind, readDrainTimeout, readWorkerRollout } from './mappers.js';
import { asObj, at, firstDefined, type Obj } from './object.js';
import { type ClusterParts, type ImportContext, type Located, resolveRef, type WorkerPart } from './parts.js';
import { MACHINE_TEMPLATE_KINDS } from './topology.js';

/** Cluster infrastructure kinds a Cluster's `infrastructureRef` may point at. */
export const INFRA_CLUSTER_KINDS = ['AWSCluster', 'DockerCluster', 'DevCluster'] as const;

/**
 * A Cluster with explicit `infrastructureRef` and `controlPlaneRef`, its MachineDeployments and MachineHealthChecks.
 *
 * Every document used is added to `ctx.sources`; every dangling reference or missing field is reported to
 * `ctx.problems`. Undefined when a reference the cluster cannot do without is missing.
 */
export function readReferencedCluster(ctx: ImportContext, cluster: ManifestDoc, spec: Obj): ClusterParts | undefined {
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
