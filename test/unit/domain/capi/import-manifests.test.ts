import { importManifests } from '../../../../functions/domain/capi/index.js';
import { UnsupportedError, ValidationError } from '../../../../functions/domain/errors.js';
import { parseClusterDocument } from '../../../../functions/domain/spec/index.js';

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type V = 'v1beta1' | 'v1beta2';

const CORE = 'cluster.x-k8s.io';
const CP = 'controlplane.cluster.x-k8s.io';
const BOOT = 'bootstrap.cluster.x-k8s.io';
const INFRA = 'infrastructure.cluster.x-k8s.io';

/** A reference in the shape of API version `v`: v1beta1 `apiVersion`+`kind`+`name`, v1beta2 `apiGroup`+`kind`+`name`. */
function ref(v: V, group: string, kind: string, name: string): Raw {
  return v === 'v1beta1' ? { apiVersion: `${group}/v1beta2`, kind, name } : { apiGroup: group, kind, name };
}

function obj(apiVersion: string, kind: string, name: string, spec: Raw = {}, metadata: Raw = {}): Raw {
  return { apiVersion, kind, metadata: { name, ...metadata }, spec };
}

interface StackOptions {
  infra?: 'aws' | 'docker';
  kcp?: Raw;
  md?: Raw;
  mdTemplate?: Raw;
  mhc?: Raw;
  awsCluster?: Raw;
  machine?: Raw;
  clusterMetadata?: Raw;
  identity?: Raw | null;
}

/**
 * A Cluster with explicit refs in API version `v`: Cluster, infrastructure cluster, KubeadmControlPlane + machine
 * template, one MachineDeployment (`demo-md-0`) + machine template + KubeadmConfigTemplate, and optionally an MHC
 * and an AWSClusterRoleIdentity. Spec fields given in `options` replace the defaults at their level.
 */
function stack(v: V, options: StackOptions = {}): Raw[] {
  const aws = (options.infra ?? 'aws') === 'aws';
  const clusterKind = aws ? 'AWSCluster' : 'DockerCluster';
  const machineKind = aws ? 'AWSMachineTemplate' : 'DockerMachineTemplate';
  const machineSpec = aws ? { instanceType: 't3.large', ...options.machine } : { ...options.machine };
  const cpMachineRef = ref(v, INFRA, machineKind, 'demo-cp');
  const docs: Raw[] = [
    obj(`${CORE}/${v}`, 'Cluster', 'demo', { infrastructureRef: ref(v, INFRA, clusterKind, 'demo'), controlPlaneRef: ref(v, CP, 'KubeadmControlPlane', 'demo-cp') }, options.clusterMetadata),
    obj(`${INFRA}/v1beta2`, clusterKind, 'demo', aws ? { region: 'eu-west-1', ...(options.identity === null ? {} : { identityRef: { kind: 'AWSClusterRoleIdentity', name: 'tenant' } }), ...options.awsCluster } : {}),
    obj(`${CP}/${v}`, 'KubeadmControlPlane', 'demo-cp', {
      replicas: 3,
      version: 'v1.32.5',
      machineTemplate: v === 'v1beta1' ? { infrastructureRef: cpMachineRef } : { spec: { infrastructureRef: cpMachineRef } },
      ...options.kcp,
    }),
    obj(`${INFRA}/v1beta2`, machineKind, 'demo-cp', { template: { spec: machineSpec } }),
    obj(`${CORE}/${v}`, 'MachineDeployment', 'demo-md-0', {
      clusterName: 'demo',
      replicas: 2,
      template: {
        spec: {
          clusterName: 'demo',
          version: 'v1.32.5',
          bootstrap: { configRef: ref(v, BOOT, 'KubeadmConfigTemplate', 'demo-md-0') },
          infrastructureRef: ref(v, INFRA, machineKind, 'demo-md-0'),
          ...options.mdTemplate,
        },
      },
      ...options.md,
    }),
    obj(`${INFRA}/v1beta2`, machineKind, 'demo-md-0', { template: { spec: machineSpec } }),
    obj(`${BOOT}/${v}`, 'KubeadmConfigTemplate', 'demo-md-0', { template: { spec: {} } }),
  ];
  if (aws && options.identity !== null) {
    docs.push(obj(`${INFRA}/v1beta2`, 'AWSClusterRoleIdentity', 'tenant', { roleARN: 'arn:aws:iam::111122223333:role/tenant', ...options.identity }));
  }
  if (options.mhc) docs.push(obj(`${CORE}/${v}`, 'MachineHealthCheck', 'demo-mhc', { clusterName: 'demo', ...options.mhc }));
  return docs;
}

function importOne(docs: readonly unknown[]): Raw {
  const result = importManifests(docs);
  expect(result.clusters).toHaveLength(1);
  const document = result.clusters[0]?.document as Raw;
  expect(() => parseClusterDocument(document)).not.toThrow();
  return document['spec'] as Raw;
}

function catchError(act: () => unknown): Error & { details?: unknown } {
  try {
    act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, got none');
}

describe('importManifests', () => {
  it.each([
    {
      name: 'v1beta1 Go duration strings',
      v: 'v1beta1' as V,
      mhc: {
        nodeStartupTimeout: '15m',
        maxUnhealthy: '40%',
        unhealthyConditions: [
          { type: 'Ready', status: 'Unknown', timeout: '300s' },
          { type: 'Ready', status: 'False', timeout: '10m0s' },
        ],
      },
      expected: { nodeStartupTimeout: '15m', unhealthyTimeout: '5m', maxUnhealthy: '40%' },
    },
    {
      name: 'v1beta1 fractional and sub-second Go durations, rounded up to whole seconds',
      v: 'v1beta1' as V,
      mhc: { nodeStartupTimeout: '1.5h', unhealthyConditions: [{ type: 'Ready', status: 'False', timeout: '2500ms' }] },
      expected: { nodeStartupTimeout: '1h30m', unhealthyTimeout: '3s' },
    },
    {
      name: 'v1beta2 integer seconds and triggerIf',
      v: 'v1beta2' as V,
      mhc: {
        checks: { nodeStartupTimeoutSeconds: 900, unhealthyNodeConditions: [{ type: 'Ready', status: 'Unknown', timeoutSeconds: 90 }] },
        remediation: { triggerIf: { unhealthyLessThanOrEqualTo: 2 } },
      },
      expected: { nodeStartupTimeout: '15m', unhealthyTimeout: '1m30s', maxUnhealthy: 2 },
    },
    {
      name: 'the shortest timeout of non-Ready conditions when none is about Ready',
      v: 'v1beta2' as V,
      mhc: {
        checks: {
          unhealthyNodeConditions: [
            { type: 'DiskPressure', status: 'True', timeoutSeconds: 600 },
            { type: 'MemoryPressure', status: 'True', timeoutSeconds: 120 },
          ],
        },
      },
      expected: { unhealthyTimeout: '2m' },
    },
  ])('maps a MachineHealthCheck with $name', ({ v, mhc, expected }) => {
    // Prepare
    const docs = stack(v, { mhc });
    // Act
    const spec = importOne(docs);
    // Assess
    expect(spec['healthCheck']).toEqual(expected);
  });

  it.each([
    { v: 'v1beta1' as V, mhc: { nodeStartupTimeout: 'soon' }, message: 'spec.nodeStartupTimeout: must be a duration like "300s" or "10m0s", got "soon"' },
    { v: 'v1beta1' as V, mhc: { nodeStartupTimeout: 600 }, message: 'spec.nodeStartupTimeout: must be a duration like "300s" or "10m0s", got 600' },
    { v: 'v1beta2' as V, mhc: { checks: { nodeStartupTimeoutSeconds: '10m' } }, message: 'spec.checks.nodeStartupTimeoutSeconds: must be a non-negative integer number of seconds, got "10m"' },
    {
      v: 'v1beta2' as V,
      mhc: { checks: { unhealthyNodeConditions: [{ type: 'Ready', status: 'False', timeoutSeconds: 1.5 }] } },
      message: 'spec.checks.unhealthyNodeConditions[0].timeoutSeconds: must be a non-negative integer number of seconds, got 1.5',
    },
  ])('fails when a $v MachineHealthCheck duration has the wrong shape', ({ v, mhc, message }) => {
    // Prepare
    const docs = stack(v, { mhc });
    // Act
    const error = catchError(() => importManifests(docs));
    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.details).toEqual([{ path: 'documents[8] (MachineHealthCheck demo-mhc)', message }]);
  });

  it.each([
    { v: 'v1beta1' as V, mhc: { remediationTemplate: { kind: 'Metal3RemediationTemplate', name: 'reboot', apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1' } }, field: 'spec.remediationTemplate' },
    { v: 'v1beta2' as V, mhc: { remediation: { templateRef: { kind: 'Metal3RemediationTemplate', name: 'reboot', apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1' } } }, field: 'spec.remediation.templateRef' },
  ])('refuses a $v MachineHealthCheck with external remediation, naming $field, and imports nothing', ({ v, mhc, field }) => {
    // Act
    const error = catchError(() => importManifests(stack(v, { mhc })));
    // Assess: not silently ignored (issue 19)
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.details).toEqual([
      { path: 'documents[8] (MachineHealthCheck demo-mhc)', message: `${field}: external remediation is not supported: Capstan remediates by replacing the machine; remove it to let Capstan do that` },
    ]);
  });

  it.each([
    {
      name: 'v1beta1 strategy with deletePolicy',
      v: 'v1beta1' as V,
      md: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: '25%', deletePolicy: 'Oldest' } } },
    },
    {
      name: 'v1beta2 rollout.strategy with deletion.order',
      v: 'v1beta2' as V,
      md: { rollout: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: '25%' } } }, deletion: { order: 'Oldest' } },
    },
  ])('maps a MachineDeployment $name', ({ v, md }) => {
    // Prepare
    const docs = stack(v, { md });
    // Act
    const spec = importOne(docs);
    // Assess
    expect(spec['workers']).toEqual([
      { name: 'md-0', replicas: 2, machine: { instanceType: 't3.large' }, rollout: { strategy: 'RollingUpdate', maxSurge: 2, maxUnavailable: '25%', deletionOrder: 'Oldest' } },
    ]);
  });

  it.each([
    { v: 'v1beta1' as V, kcp: { rolloutStrategy: { rollingUpdate: { maxSurge: 0 } }, rolloutAfter: '2025-01-01T00:00:00Z' } },
    { v: 'v1beta2' as V, kcp: { rollout: { strategy: { rollingUpdate: { maxSurge: 0 } }, after: '2025-01-01T00:00:00Z' } } },
  ])('maps $v KubeadmControlPlane rollout maxSurge and rollout time', ({ v, kcp }) => {
    // Prepare
    const docs = stack(v, { kcp });
    // Act
    const spec = importOne(docs);
    // Assess
    expect(spec['controlPlane']['rollout']).toEqual({ maxSurge: 0, after: '2025-01-01T00:00:00Z' });
  });

  it.each([
    { v: 'v1beta1' as V, md: {}, mdTemplate: { nodeDrainTimeout: '2m30s' }, kcp: {} },
    { v: 'v1beta2' as V, md: {}, mdTemplate: { deletion: { nodeDrainTimeoutSeconds: 150 } }, kcp: {} },
  ])('maps a $v node drain timeout to a Force drain', ({ v, mdTemplate }) => {
    // Prepare
    const docs = stack(v, { mdTemplate });
    // Act
    const spec = importOne(docs);
    // Assess
    expect(spec['drain']).toEqual({ timeout: '2m30s', policy: 'Force' });
  });

  it.each([
    { v: 'v1beta1' as V, field: 'spec.machineTemplate.infrastructureRef' },
    { v: 'v1beta2' as V, field: 'spec.machineTemplate.spec.infrastructureRef' },
  ])('fails when a $v KubeadmControlPlane points at a missing machine template', ({ v, field }) => {
    // Prepare
    const docs = stack(v).filter((d) => d['metadata']['name'] !== 'demo-cp' || d['kind'] !== 'AWSMachineTemplate');
    // Act
    const error = catchError(() => importManifests(docs));
    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.details).toEqual([
      { path: 'documents[2] (KubeadmControlPlane demo-cp)', message: `${field}: AWSMachineTemplate demo-cp is not in the documents; send it in the same request` },
    ]);
  });

  it.each([
    { v: 'v1beta1' as V, wrong: { apiVersion: `${INFRA}/v1beta2`, kind: 'AWSCluster', name: 'other' } },
    { v: 'v1beta2' as V, wrong: { apiGroup: INFRA, kind: 'AWSCluster', name: 'other' } },
  ])('fails when a $v Cluster infrastructureRef dangles', ({ v, wrong }) => {
    // Prepare
    const docs = stack(v);
    docs[0]!['spec']['infrastructureRef'] = wrong;
    // Act
    const error = catchError(() => importManifests(docs));
    // Assess
    expect(error.details).toEqual([{ path: 'documents[0] (Cluster demo)', message: 'spec.infrastructureRef: AWSCluster other is not in the documents; send it in the same request' }]);
  });

  it('maps the AWS infrastructure, machine image and volume, and subnets', () => {
    // Prepare
    const docs = stack('v1beta2', {
      awsCluster: {
        sshKeyName: 'ops',
        additionalTags: { team: 'platform' },
        network: {
          vpc: { id: 'vpc-0123456789abcdef0', cidrBlock: '10.1.0.0/16' },
          subnets: [
            { id: 'subnet-0123456789abcdef0', availabilityZone: 'eu-west-1a' },
            { id: 'subnet-0123456789abcdef1', availabilityZone: 'eu-west-1b' },
          ],
        },
      },
      machine: { instanceType: 'm7g.xlarge', ami: { id: 'ami-0123456789abcdef0' }, rootVolume: { size: 80 } },
    });
    // Act
    const spec = importOne(docs);
    // Assess
    expect(spec['infrastructure']).toEqual({
      provider: 'aws',
      account: '111122223333',
      roleArn: 'arn:aws:iam::111122223333:role/tenant',
      region: 'eu-west-1',
      sshKeyName: 'ops',
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      tags: { team: 'platform' },
    });
    expect(spec['network']).toEqual({ vpcCidr: '10.1.0.0/16' });
    expect(spec['failureDomains']).toEqual(['eu-west-1a', 'eu-west-1b']);
    expect(spec['controlPlane']['machine']).toEqual({ instanceType: 'm7g.xlarge', imageId: 'ami-0123456789abcdef0', rootVolumeSizeGiB: 80 });
  });

  it.each([
    { name: 'an annotation alone', identity: null, annotations: { 'capstan.dev/account': '444455556666' }, expected: { account: '444455556666' } },
    {
      name: 'an identity and an agreeing annotation',
      identity: undefined,
      annotations: { 'capstan.dev/account': '111122223333' },
      expected: { account: '111122223333', roleArn: 'arn:aws:iam::111122223333:role/tenant' },
    },
  ])('takes the AWS account from $name', ({ identity, annotations, expected }) => {
    // Prepare
    const docs = stack('v1beta1', { identity, clusterMetadata: { annotations } });
    // Act
    const spec = importOne(docs);
    // Assess
    expect(spec['infrastructure']).toEqual({ provider: 'aws', region: 'eu-west-1', ...expected });
  });

  it.each([
    {
      name: 'no identity and no annotation',
      options: { identity: null } as StackOptions,
      issue: { path: 'documents[1] (AWSCluster demo)', message: expect.stringMatching(/^spec\.identityRef: an AWS account is needed/) },
    },
    {
      name: 'the annotation contradicts the identity',
      options: { clusterMetadata: { annotations: { 'capstan.dev/account': '999999999999' } } } as StackOptions,
      issue: { path: 'documents[0] (Cluster demo)', message: 'metadata.annotations["capstan.dev/account"]: 999999999999 contradicts account 111122223333 of AWSClusterRoleIdentity tenant' },
    },
    {
      name: 'the identity role ARN is not an IAM role',
      options: { identity: { roleARN: 'arn:aws:iam::111122223333:user/bob' } } as StackOptions,
      issue: { path: 'documents[7] (AWSClusterRoleIdentity tenant)', message: expect.stringMatching(/^spec\.roleARN: must be an IAM role ARN/) },
    },
    {
      name: 'the AWSCluster has no region',
      options: { awsCluster: { region: undefined } } as StackOptions,
      issue: { path: 'documents[1] (AWSCluster demo)', message: 'spec.region: required, got none' },
    },
    {
      name: 'an AWSMachineTemplate has no instanceType',
      options: { machine: { instanceType: undefined } } as StackOptions,
      issue: { path: 'documents[3] (AWSMachineTemplate demo-cp)', message: 'spec.template.spec.instanceType: required, got none' },
    },
  ])('fails when $name', ({ options, issue }) => {
    // Prepare
    const docs = stack('v1beta1', options);
    // Act
    const error = catchError(() => importManifests(docs));
    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.details).toEqual(expect.arrayContaining([issue]));
  });

  it('fails when an AWSClusterRoleIdentity referenced by the AWSCluster is missing', () => {
    // Prepare
    const docs = stack('v1beta2').filter((d) => d['kind'] !== 'AWSClusterRoleIdentity');
    // Act
    const error = catchError(() => importManifests(docs));
    // Assess
    expect(error.details).toEqual([
      { path: 'documents[1] (AWSCluster demo)', message: 'spec.identityRef: AWSClusterRoleIdentity tenant is not in the documents; send it in the same request' },
    ]);
  });

  it('refuses an AWSClusterStaticIdentity as unsupported', () => {
    // Prepare
    const docs = stack('v1beta2', { awsCluster: { identityRef: { kind: 'AWSClusterStaticIdentity', name: 'static' } } });
    // Act
    const error = catchError(() => importManifests(docs));
    // Assess
    expect(error).toBeInstanceOf(UnsupportedError);
    expect(error.details).toEqual([
      { path: 'documents[1] (AWSCluster demo)', message: 'spec.identityRef: kind AWSClusterStaticIdentity is not supported yet; use an AWSClusterRoleIdentity' },
    ]);
  });

  it('fails when the machine templates belong to another provider than the cluster', () => {
    // Prepare
    const docs = stack('v1beta2');
    docs[3] = obj(`${INFRA}/v1beta2`, 'DockerMachineTemplate', 'demo-cp', { template: { spec: {} } });
    docs[2]!['spec']['machineTemplate']['spec']['infrastructureRef'] = ref('v1beta2', INFRA, 'DockerMachineTemplate', 'demo-cp');
    // Act
    const error = catchError(() => importManifests(docs));
    // Assess
    expect(error.details).toEqual([{ path: 'documents[3] (DockerMachineTemplate demo-cp)', message: "kind: DockerMachineTemplate does not match the cluster's infrastructure AWSCluster" }]);
  });

  it.each([
    { name: 'version equal to the control plane', version: 'v1.32.5', expected: undefined },
    { name: 'an older version', version: 'v1.31.2', expected: 'v1.31.2' },
    { name: 'a version without the v', version: '1.31.2', expected: 'v1.31.2' },
  ])('maps a MachineDeployment with $name', ({ version, expected }) => {
    // Prepare
    const docs = stack('v1beta1', { mdTemplate: { version } });
    // Act
    const spec = importOne(docs);
    // Assess
    expect(spec['workers'][0]['version']).toBe(expected);
  });

  it('maps autoscaler annotations to min/max and starts at the minimum when replicas is unset', () => {
    // Prepare
    const docs = stack('v1beta1');
    delete docs[4]!['spec']['replicas'];
    docs[4]!['metadata']['annotations'] = {
      'cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size': '2',
      'cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size': '6',
    };
    // Act
    const spec = importOne(docs);
    // Assess
    expect(spec['workers'][0]).toMatchObject({ replicas: 2, minReplicas: 2, maxReplicas: 6 });
  });

  it('keeps the KubeadmControlPlane default of 1 replica when replicas is unset', () => {
    // Prepare
    const docs = stack('v1beta2', { infra: 'docker' });
    delete docs[2]!['spec']['replicas'];
    // Act
    const spec = importOne(docs);
    // Assess
    expect(spec['controlPlane']['replicas']).toBe(1);
  });

  it('maps v1beta1 DockerCluster failure domains (a map) to the control-plane ones', () => {
    // Prepare
    const docs = stack('v1beta1', { infra: 'docker' });
    docs[1]!['spec'] = { failureDomains: { a: { controlPlane: true }, b: { controlPlane: false }, c: { controlPlane: true } } };
    // Act
    const spec = importOne(docs);
    // Assess
    expect(spec['failureDomains']).toEqual(['a', 'c']);
    expect(spec['infrastructure']).toEqual({ provider: 'local' });
  });

  it('refuses every unsupported kind and API version at once, naming each document', () => {
    // Prepare
    const docs = [
      ...stack('v1beta2', { infra: 'docker' }),
      obj(`${INFRA}/v1beta2`, 'AWSManagedMachinePool', 'pool'),
      obj(`${BOOT}/v1beta2`, 'EKSConfig', 'cfg'),
      obj(`${CORE}/v1alpha4`, 'Cluster', 'old'),
      obj('apps/v1', 'Deployment', 'app'),
    ];
    // Act
    const error = catchError(() => importManifests(docs));
    // Assess
    expect(error).toBeInstanceOf(UnsupportedError);
    expect(error.details).toEqual([
      { path: 'documents[7]', message: 'kind AWSManagedMachinePool (infrastructure.cluster.x-k8s.io/v1beta2) is not supported yet' },
      { path: 'documents[8]', message: 'kind EKSConfig (bootstrap.cluster.x-k8s.io/v1beta2) is not supported yet' },
      { path: 'documents[9]', message: 'kind Cluster (cluster.x-k8s.io/v1alpha4) is not supported yet' },
      { path: 'documents[10]', message: 'kind Deployment (apps/v1) is not supported yet' },
    ]);
  });

  it('passes Capstan documents through unchanged, ignores addons and skips empty documents', () => {
    // Prepare
    const capstan = { apiVersion: 'capstan.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'native' }, spec: { infrastructure: { provider: 'local' }, version: 'v1.32.5' } };
    const docs = [
      capstan,
      null,
      ...stack('v1beta2', { infra: 'docker' }),
      obj('v1', 'ConfigMap', 'cni'),
      obj('v1', 'Secret', 'creds'),
      obj('addons.cluster.x-k8s.io/v1beta2', 'ClusterResourceSet', 'crs'),
      obj('addons.cluster.x-k8s.io/v1beta1', 'ClusterResourceSetBinding', 'crsb'),
    ];
    // Act
    const result = importManifests(docs);
    // Assess
    expect(result.clusters.map((c) => [c.name, c.sourceIndexes])).toEqual([
      ['native', [0]],
      ['demo', [2, 3, 4, 5, 6, 7, 8]],
    ]);
    expect(result.clusters[0]?.document).toBe(capstan);
  });

  it.each([
    { name: 'a document is not an object', docs: ['just a string'], issue: { path: 'documents[0]', message: expect.stringMatching(/^must be a Kubernetes object/) } },
    { name: 'a document has no kind', docs: [{ apiVersion: 'v1', metadata: { name: 'x' } }], issue: { path: 'documents[0]', message: 'kind: required, got none' } },
    {
      name: 'two documents share group, kind and name',
      docs: [obj('v1', 'ConfigMap', 'x'), obj('v1', 'ConfigMap', 'x')],
      issue: { path: 'documents[1] (ConfigMap x)', message: 'metadata.name: ConfigMap x is already defined by documents[0]' },
    },
    {
      name: 'a MachineDeployment belongs to no Cluster of the request',
      docs: [obj(`${CORE}/v1beta2`, 'MachineDeployment', 'stray', { clusterName: 'elsewhere' })],
      issue: { path: 'documents[0] (MachineDeployment stray)', message: expect.stringMatching(/^spec\.clusterName: Cluster "elsewhere" is not in the documents/) },
    },
    {
      name: 'a Capstan and a Cluster API Cluster share a name',
      docs: [{ apiVersion: 'capstan.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'demo' }, spec: {} }, ...stack('v1beta2', { infra: 'docker' })],
      issue: { path: 'documents[1] (Cluster demo)', message: 'metadata.name: cluster demo is also defined by documents[0]' },
    },
  ])('fails when $name', ({ docs, issue }) => {
    // Prepare: docs
    // Act
    const error = catchError(() => importManifests(docs));
    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.details).toEqual([issue]);
  });
});
