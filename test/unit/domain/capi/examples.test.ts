/**
 * Every manifest in test/fixtures/capi/examples (public CAPI/CAPA templates, variables filled in) is either imported
 * with the replicas, versions, machine types, region and account the manifest states, or refused with the kind
 * and document index named. Expectations are written by hand from the manifests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { importManifests } from '../../../../functions/domain/capi/index.js';
import { UnsupportedError, ValidationError } from '../../../../functions/domain/errors.js';
import { parseClusterDocument } from '../../../../functions/domain/spec/index.js';
import { CAPI_EXAMPLES_DIR as EXAMPLES } from '../../../fixtures/capi/paths.js';

function load(...files: string[]): unknown[] {
  return files.flatMap((file) => parseAllDocuments(readFileSync(path.join(EXAMPLES, file), 'utf8')).map((d) => d.toJS() as unknown));
}

interface Summary {
  name: string;
  sourceIndexes: number[];
  infrastructure: unknown;
  version: unknown;
  controlPlane: { replicas: unknown; instanceType: unknown };
  workers: { name: unknown; replicas: unknown; instanceType: unknown; failureDomains?: unknown }[];
  failureDomains?: unknown;
  healthCheck?: unknown;
}

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function summarize(cluster: { name: string; sourceIndexes: number[]; document: unknown }): Summary {
  const spec = (cluster.document as Raw)['spec'] as Raw;
  return {
    name: cluster.name,
    sourceIndexes: cluster.sourceIndexes,
    infrastructure: spec['infrastructure'],
    version: spec['version'],
    controlPlane: { replicas: spec['controlPlane']['replicas'], instanceType: spec['controlPlane']['machine']['instanceType'] },
    workers: (spec['workers'] as Raw[]).map((w) => ({
      name: w['name'],
      replicas: w['replicas'],
      instanceType: w['machine']['instanceType'],
      ...(w['failureDomains'] ? { failureDomains: w['failureDomains'] } : {}),
    })),
    ...(spec['failureDomains'] ? { failureDomains: spec['failureDomains'] } : {}),
    ...(spec['healthCheck'] ? { healthCheck: spec['healthCheck'] } : {}),
  };
}

function catchError(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, got none');
}

/** Adds `capstan.dev/account` to the first Cluster API Cluster (the way to import CAPA's default-identity templates). */
function withAccountAnnotation(docs: unknown[], account: string): unknown[] {
  return docs.map((d) => {
    const doc = d as Raw | null;
    if (doc?.['kind'] !== 'Cluster') return d;
    return { ...doc, metadata: { ...doc['metadata'], annotations: { 'capstan.dev/account': account } } };
  });
}

const IMPORTED: { name: string; files: string[]; annotateAccount?: string; expected: Summary }[] = [
  {
    name: 'capa-e2e-cluster-template-simple-multitenancy.yaml (AWSCluster identityRef → AWSClusterRoleIdentity)',
    files: ['capa-e2e-cluster-template-simple-multitenancy.yaml'],
    expected: {
      name: 'capstan-demo',
      sourceIndexes: [0, 1, 2, 3, 4, 5, 6, 13],
      infrastructure: {
        provider: 'aws',
        account: '111122223333',
        roleArn: 'arn:aws:iam::111122223333:role/capa-tenant-a',
        region: 'us-west-2',
        sshKeyName: 'capstan-ops',
      },
      version: 'v1.32.5',
      controlPlane: { replicas: 3, instanceType: 't3.large' },
      workers: [{ name: 'md-0', replicas: 3, instanceType: 'm6i.large' }],
    },
  },
  {
    name: 'capa-cluster-template-multitenancy-clusterclass.yaml (topology, patched variables, chained identity)',
    files: ['capa-cluster-template-multitenancy-clusterclass.yaml'],
    expected: {
      name: 'capstan-demo',
      // 9 (the jump identity) is not used: Capstan assumes the last role of the chain directly.
      sourceIndexes: [0, 1, 2, 3, 4, 5, 6, 10],
      infrastructure: {
        provider: 'aws',
        account: '777788889999',
        roleArn: 'arn:aws:iam::777788889999:role/capa-nested',
        region: 'us-west-2',
        sshKeyName: 'capstan-ops',
      },
      version: 'v1.32.5',
      controlPlane: { replicas: 3, instanceType: 't3.large' },
      workers: [{ name: 'md-0', replicas: 3, instanceType: 'm6i.large' }],
    },
  },
  {
    name: 'capa-cluster-template.yaml with a capstan.dev/account annotation',
    files: ['capa-cluster-template.yaml'],
    annotateAccount: '123456789012',
    expected: {
      name: 'capstan-demo',
      sourceIndexes: [0, 1, 2, 3, 4, 5, 6],
      infrastructure: { provider: 'aws', account: '123456789012', region: 'us-west-2', sshKeyName: 'capstan-ops' },
      version: 'v1.32.5',
      controlPlane: { replicas: 3, instanceType: 't3.large' },
      workers: [{ name: 'md-0', replicas: 3, instanceType: 'm6i.large' }],
    },
  },
  {
    name: 'capd-e2e-cluster-with-kcp-md-mhc.yaml (v1beta2 KCP, MachineDeployment, MachineHealthCheck, failure domains)',
    files: ['capd-e2e-cluster-with-kcp-md-mhc.yaml'],
    expected: {
      name: 'capstan-demo',
      sourceIndexes: [0, 1, 2, 3, 5, 6, 7, 8],
      infrastructure: { provider: 'local' },
      version: 'v1.32.5',
      controlPlane: { replicas: 3, instanceType: undefined },
      workers: [{ name: 'md-0', replicas: 3, instanceType: undefined, failureDomains: ['fd4'] }],
      failureDomains: ['fd1', 'fd2', 'fd3'],
      healthCheck: { unhealthyTimeout: '10s', maxUnhealthy: '100%' },
    },
  },
  {
    name: 'capd-cluster-template-development.yaml with capd-clusterclass-quick-start.yaml (v1beta2 topology)',
    files: ['capd-cluster-template-development.yaml', 'capd-clusterclass-quick-start.yaml'],
    expected: {
      name: 'capstan-demo',
      // 1 is the empty document after `---`; 7 (DevMachinePoolTemplate) serves machinePools, which the Cluster does not use.
      sourceIndexes: [0, 2, 3, 4, 5, 6, 8],
      infrastructure: { provider: 'local' },
      version: 'v1.32.5',
      controlPlane: { replicas: 3, instanceType: undefined },
      workers: [{ name: 'md-0', replicas: 3, instanceType: undefined }],
      failureDomains: ['fd1', 'fd2', 'fd3', 'fd4', 'fd5'],
      healthCheck: { unhealthyTimeout: '5m' },
    },
  },
];

const REFUSED: { name: string; files: string[]; error: typeof UnsupportedError | typeof ValidationError; issues: { path: string; message: string | RegExp }[] }[] = [
  {
    name: 'capa-cluster-template-eks.yaml (EKS managed control plane)',
    files: ['capa-cluster-template-eks.yaml'],
    error: UnsupportedError,
    issues: [
      { path: 'documents[1]', message: 'kind AWSManagedCluster (infrastructure.cluster.x-k8s.io/v1beta2) is not supported yet' },
      { path: 'documents[2]', message: 'kind AWSManagedControlPlane (controlplane.cluster.x-k8s.io/v1beta2) is not supported yet' },
      { path: 'documents[5]', message: 'kind NodeadmConfigTemplate (bootstrap.cluster.x-k8s.io/v1beta2) is not supported yet' },
    ],
  },
  {
    name: 'capa-cluster-template-machinepool.yaml (MachinePool / AWSMachinePool)',
    files: ['capa-cluster-template-machinepool.yaml'],
    error: UnsupportedError,
    issues: [
      { path: 'documents[4]', message: 'kind MachinePool (cluster.x-k8s.io/v1beta1) is not supported yet' },
      { path: 'documents[5]', message: 'kind AWSMachinePool (infrastructure.cluster.x-k8s.io/v1beta2) is not supported yet' },
      { path: 'documents[6]', message: 'kind KubeadmConfig (bootstrap.cluster.x-k8s.io/v1beta1) is not supported yet' },
    ],
  },
  {
    name: 'capa-cluster-template.yaml (default identity: no AWS account)',
    files: ['capa-cluster-template.yaml'],
    error: ValidationError,
    issues: [{ path: 'documents[1] (AWSCluster capstan-demo)', message: /^spec\.identityRef: an AWS account is needed; add an AWSClusterRoleIdentity/ }],
  },
  {
    name: 'capd-cluster-template-development.yaml alone (its ClusterClass is in another file)',
    files: ['capd-cluster-template-development.yaml'],
    error: ValidationError,
    issues: [{ path: 'documents[0] (Cluster capstan-demo)', message: /^spec\.topology\.classRef: ClusterClass quick-start is not in the documents/ }],
  },
];

describe('importManifests on the Cluster API examples', () => {
  it('covers every example file', () => {
    // Prepare
    const covered = new Set([...IMPORTED, ...REFUSED].flatMap((c) => c.files));
    // Act
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
    // Assess
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => !covered.has(f))).toEqual([]);
  });

  it.each(IMPORTED)('imports $name', ({ files, annotateAccount, expected }) => {
    // Prepare
    const docs = annotateAccount ? withAccountAnnotation(load(...files), annotateAccount) : load(...files);
    // Act
    const result = importManifests(docs);
    // Assess
    expect(result.clusters.map(summarize)).toEqual([expected]);
    for (const cluster of result.clusters) expect(() => parseClusterDocument(cluster.document)).not.toThrow();
  });

  it.each(REFUSED)('refuses $name', ({ files, error, issues }) => {
    // Prepare
    const docs = load(...files);
    // Act
    const thrown = catchError(() => importManifests(docs));
    // Assess
    expect(thrown).toBeInstanceOf(error);
    expect((thrown as ValidationError).details).toEqual(
      issues.map((i) => ({ path: i.path, message: typeof i.message === 'string' ? i.message : expect.stringMatching(i.message) })),
    );
  });

  it('imports no cluster from a lone ClusterClass (capd-clusterclass-quick-start.yaml)', () => {
    // Prepare
    const docs = load('capd-clusterclass-quick-start.yaml');
    // Act
    const result = importManifests(docs);
    // Assess
    expect(result.clusters).toEqual([]);
  });

  it('renders the quick-start ClusterClass patches into the kubeadm settings', () => {
    // Prepare
    const docs = load('capd-cluster-template-development.yaml', 'capd-clusterclass-quick-start.yaml');
    // Act
    const [cluster] = importManifests(docs).clusters;
    // Assess
    const kubeadm = (cluster?.document as Raw)['spec']['kubeadm'] as Raw;
    expect(kubeadm['clusterConfiguration']['apiServer']['extraArgs']).toEqual([
      { name: 'admission-control-config-file', value: '/etc/kubernetes/kube-apiserver-admission-pss.yaml' },
    ]);
    // imageRepository, etcdImageTag and coreDNSImageTag are "": their patches are disabled by enabledIf.
    expect(kubeadm['clusterConfiguration']['imageRepository']).toBeUndefined();
    expect(kubeadm['clusterConfiguration']['etcd']).toBeUndefined();
    const file = (kubeadm['files'] as Raw[])[0];
    expect(file?.['path']).toBe('/etc/kubernetes/kube-apiserver-admission-pss.yaml');
    // semverCompare "< v1.25-0" is false for v1.32.5: the v1 (not v1beta1) PodSecurityConfiguration.
    expect(file?.['content']).toContain('apiVersion: pod-security.admission.config.k8s.io/v1\n');
    expect(file?.['content']).toContain('enforce: "baseline"');
    expect(kubeadm['joinConfiguration']['nodeRegistration']['kubeletExtraArgs']).toEqual([
      { name: 'eviction-hard', value: 'nodefs.available<0%,nodefs.inodesFree<0%,imagefs.available<0%' },
    ]);
  });

  it('carries the KubeadmControlPlane kubeadmConfigSpec of a CAPA template', () => {
    // Prepare
    const docs = load('capa-e2e-cluster-template-simple-multitenancy.yaml');
    // Act
    const [cluster] = importManifests(docs).clusters;
    // Assess
    expect((cluster?.document as Raw)['spec']['kubeadm']).toEqual({
      clusterConfiguration: { controllerManager: { extraArgs: { 'cloud-provider': 'external' } } },
      initConfiguration: { nodeRegistration: { kubeletExtraArgs: { 'cloud-provider': 'external' }, name: '{{ ds.meta_data.local_hostname }}' } },
      joinConfiguration: { nodeRegistration: { kubeletExtraArgs: { 'cloud-provider': 'external' }, name: '{{ ds.meta_data.local_hostname }}' } },
    });
  });
});
