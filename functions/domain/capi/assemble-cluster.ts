/**
 * Maps the parts of one cluster (from explicit references or from a topology) onto a raw Capstan Cluster document.
 *
 * Its own file because it is the assembly half of the import: whichever way the parts were collected
 * (referenced-cluster.ts, topology.ts), this is the one place Cluster API fields become Capstan fields.
 */
import { API_VERSION, CLUSTER_KIND } from '../cluster.js';
import { readInfrastructure } from './infrastructure.js';
import type { ManifestDoc } from './manifest.js';
import {
  type DraftCluster,
  type DraftHealthCheck,
  type DraftMachine,
  normalizeVersion,
  providerOfKind,
  readControlPlaneRollout,
  readDuration,
  readHealthCheck,
  readKubeadmConfigSpec,
  readMachineSpec,
} from './mappers.js';
import { asArr, asObj, at, firstDefined, prune } from './object.js';
import type { ClusterParts, ImportContext, Located, Sourced } from './parts.js';

/**
 * Maps the parts of one cluster onto a raw Capstan Cluster document (pruned of undefined fields).
 *
 * Problems (a machine template of another provider than the cluster's, a malformed duration or health check) are
 * reported to `ctx.problems`; the document is still returned.
 */
export function assembleCluster(ctx: ImportContext, cluster: ManifestDoc, parts: ClusterParts): DraftCluster {
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
