/**
 * The defaults `parseClusterDocument` fills in and the size limits of a Cluster document.
 *
 * Their own file because every section of the schema (sections/) and the cross-field rules read them; cluster-spec.ts
 * re-exports both.
 */

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
