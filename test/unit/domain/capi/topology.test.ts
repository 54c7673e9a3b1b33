import { importManifests } from '../../../../functions/domain/capi/index.js';
import { UnsupportedError, ValidationError } from '../../../../functions/domain/errors.js';
import { parseClusterDocument } from '../../../../functions/domain/spec/index.js';

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type V = 'v1beta1' | 'v1beta2';

const INFRA = 'infrastructure.cluster.x-k8s.io/v1beta2';

function obj(apiVersion: string, kind: string, name: string, spec: Raw = {}): Raw {
  return { apiVersion, kind, metadata: { name }, spec };
}

/** A class reference: v1beta1 `{ref: {...}}`, v1beta2 `{templateRef: {...}}` (both carry apiVersion). */
function classRef(v: V, apiVersion: string, kind: string, name: string): Raw {
  return v === 'v1beta1' ? { ref: { apiVersion, kind, name } } : { templateRef: { apiVersion, kind, name } };
}

const PATCHES: Raw[] = [
  {
    name: 'region',
    definitions: [
      {
        selector: { apiVersion: INFRA, kind: 'AWSClusterTemplate', matchResources: { infrastructureCluster: true } },
        jsonPatches: [
          { op: 'add', path: '/spec/template/spec/region', valueFrom: { variable: 'region' } },
          { op: 'replace', path: '/spec/template/spec/identityRef', valueFrom: { variable: 'identityRef' } },
          { op: 'add', path: '/spec/template/spec/sshKeyName', valueFrom: { variable: 'builtin.cluster.name' } },
        ],
      },
    ],
  },
  {
    name: 'machineTypes',
    definitions: [
      {
        selector: { apiVersion: INFRA, kind: 'AWSMachineTemplate', matchResources: { controlPlane: true } },
        jsonPatches: [{ op: 'replace', path: '/spec/template/spec/instanceType', value: 'c6i.large' }],
      },
      {
        selector: { apiVersion: INFRA, kind: 'AWSMachineTemplate', matchResources: { machineDeploymentClass: { names: ['general'] } } },
        jsonPatches: [{ op: 'replace', path: '/spec/template/spec/instanceType', valueFrom: { variable: 'workerMachineType' } }],
      },
    ],
  },
  {
    name: 'imageForOldVersions',
    enabledIf: '{{ semverCompare "< v1.30.0" .builtin.controlPlane.version }}',
    definitions: [
      {
        selector: { apiVersion: INFRA, kind: 'AWSMachineTemplate', matchResources: { controlPlane: true } },
        jsonPatches: [{ op: 'add', path: '/spec/template/spec/ami/id', value: 'ami-0123456789abcdef0' }],
      },
    ],
  },
];

/** A ClusterClass (AWS templates) and a topology Cluster, both in API version `v`; index 0 is the ClusterClass. */
function topologyManifests(v: V, options: { topology?: Raw; patches?: Raw[]; classSpec?: Raw } = {}): Raw[] {
  const core = `cluster.x-k8s.io/${v}`;
  const worker = {
    class: 'general',
    ...(v === 'v1beta1'
      ? { template: { bootstrap: classRef(v, `bootstrap.cluster.x-k8s.io/${v}`, 'KubeadmConfigTemplate', 'worker'), infrastructure: classRef(v, INFRA, 'AWSMachineTemplate', 'worker') } }
      : { bootstrap: classRef(v, `bootstrap.cluster.x-k8s.io/${v}`, 'KubeadmConfigTemplate', 'worker'), infrastructure: classRef(v, INFRA, 'AWSMachineTemplate', 'worker') }),
  };
  const variable = (name: string, schema: Raw): Raw => ({ name, required: false, schema: { openAPIV3Schema: schema } });
  return [
    obj(core, 'ClusterClass', 'aws-class', {
      infrastructure: classRef(v, INFRA, 'AWSClusterTemplate', 'cluster'),
      controlPlane: { ...classRef(v, `controlplane.cluster.x-k8s.io/${v}`, 'KubeadmControlPlaneTemplate', 'cp'), machineInfrastructure: classRef(v, INFRA, 'AWSMachineTemplate', 'cp') },
      workers: { machineDeployments: [worker] },
      variables: [
        variable('region', { type: 'string', default: 'us-east-1' }),
        variable('workerMachineType', { type: 'string', default: 'm6i.large' }),
        variable('identityRef', { type: 'object' }),
      ],
      patches: options.patches ?? PATCHES,
      ...options.classSpec,
    }),
    obj(INFRA, 'AWSClusterTemplate', 'cluster', { template: { spec: {} } }),
    obj(`controlplane.cluster.x-k8s.io/${v}`, 'KubeadmControlPlaneTemplate', 'cp', { template: { spec: { kubeadmConfigSpec: { preKubeadmCommands: ['echo hi'] } } } }),
    obj(INFRA, 'AWSMachineTemplate', 'cp', { template: { spec: { instanceType: 'REPLACEME' } } }),
    obj(INFRA, 'AWSMachineTemplate', 'worker', { template: { spec: { instanceType: 'REPLACEME' } } }),
    obj(`bootstrap.cluster.x-k8s.io/${v}`, 'KubeadmConfigTemplate', 'worker', { template: { spec: {} } }),
    obj(INFRA, 'AWSClusterRoleIdentity', 'tenant', { roleARN: 'arn:aws:iam::111122223333:role/tenant' }),
    obj(core, 'Cluster', 'demo', {
      topology: {
        ...(v === 'v1beta1' ? { class: 'aws-class' } : { classRef: { name: 'aws-class' } }),
        version: 'v1.32.5',
        controlPlane: { replicas: 3 },
        variables: [{ name: 'identityRef', value: { kind: 'AWSClusterRoleIdentity', name: 'tenant' } }],
        workers: {
          machineDeployments: [
            { class: 'general', name: 'md-0', replicas: 2 },
            { class: 'general', name: 'md-1', replicas: 1, variables: { overrides: [{ name: 'workerMachineType', value: 'r6i.large' }] } },
          ],
        },
        ...options.topology,
      },
    }),
  ];
}

function catchError(act: () => unknown): Error & { details?: unknown } {
  try {
    act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, got none');
}

describe('importManifests (topology Clusters)', () => {
  it.each(['v1beta1', 'v1beta2'] as V[])('resolves a %s ClusterClass with variables, defaults, overrides and builtins', (v) => {
    // Prepare
    const docs = topologyManifests(v);
    // Act
    const [cluster] = importManifests(docs).clusters;
    // Assess
    const spec = (cluster?.document as Raw)['spec'];
    expect(() => parseClusterDocument(cluster?.document)).not.toThrow();
    expect(cluster?.sourceIndexes).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(spec['infrastructure']).toEqual({
      provider: 'aws',
      account: '111122223333',
      roleArn: 'arn:aws:iam::111122223333:role/tenant',
      region: 'us-east-1',
      sshKeyName: 'demo',
    });
    expect(spec['controlPlane']).toEqual({ replicas: 3, machine: { instanceType: 'c6i.large' } });
    expect(spec['workers']).toEqual([
      { name: 'md-0', replicas: 2, machine: { instanceType: 'm6i.large' } },
      { name: 'md-1', replicas: 1, machine: { instanceType: 'r6i.large' } },
    ]);
    expect(spec['kubeadm']).toEqual({ preKubeadmCommands: ['echo hi'] });
  });

  it.each([
    { version: 'v1.29.4', expected: { instanceType: 'c6i.large', imageId: 'ami-0123456789abcdef0' } },
    { version: 'v1.32.5', expected: { instanceType: 'c6i.large' } },
  ])('applies a patch only when its enabledIf renders "true" (version $version)', ({ version, expected }) => {
    // Prepare
    const docs = topologyManifests('v1beta2', { topology: { version, controlPlane: { replicas: 1 }, workers: {} } });
    // Act
    const [cluster] = importManifests(docs).clusters;
    // Assess
    expect((cluster?.document as Raw)['spec']['controlPlane']['machine']).toEqual(expected);
  });

  it.each([
    {
      name: 'v1beta1 machineHealthCheck with Go durations',
      v: 'v1beta1' as V,
      classSpec: { controlPlane: undefined },
      healthCheck: { machineHealthCheck: { nodeStartupTimeout: '20m', maxUnhealthy: 1, unhealthyConditions: [{ type: 'Ready', status: 'False', timeout: '3m' }] } },
    },
    {
      name: 'v1beta2 healthCheck with integer seconds',
      v: 'v1beta2' as V,
      classSpec: undefined,
      healthCheck: { healthCheck: { checks: { nodeStartupTimeoutSeconds: 1200, unhealthyNodeConditions: [{ type: 'Ready', status: 'False', timeoutSeconds: 180 }] }, remediation: { triggerIf: { unhealthyLessThanOrEqualTo: 1 } } } },
    },
  ])('maps a ClusterClass control-plane $name', ({ v, healthCheck }) => {
    // Prepare
    const docs = topologyManifests(v);
    Object.assign(docs[0]!['spec']['controlPlane'], healthCheck);
    // Act
    const [cluster] = importManifests(docs).clusters;
    // Assess
    expect((cluster?.document as Raw)['spec']['healthCheck']).toEqual({ nodeStartupTimeout: '20m', unhealthyTimeout: '3m', maxUnhealthy: 1 });
  });

  it('drops the class health check when the topology disables it', () => {
    // Prepare
    const docs = topologyManifests('v1beta2', { topology: { controlPlane: { replicas: 3, healthCheck: { enabled: false } } } });
    docs[0]!['spec']['controlPlane']['healthCheck'] = { checks: { nodeStartupTimeoutSeconds: 1200 } };
    // Act
    const [cluster] = importManifests(docs).clusters;
    // Assess
    expect((cluster?.document as Raw)['spec']['healthCheck']).toBeUndefined();
  });

  it.each([
    {
      name: 'a patch is external',
      options: { patches: [{ name: 'ext', external: { generatePatchesExtension: 'x' } }] },
      issue: { path: 'documents[0] (ClusterClass aws-class)', message: 'spec.patches[0].external: external patches (runtime extensions) are not supported yet' },
    },
    {
      name: 'a patch template uses an unsupported function',
      options: {
        patches: [
          {
            name: 'fmt',
            definitions: [
              {
                selector: { apiVersion: INFRA, kind: 'AWSClusterTemplate', matchResources: { infrastructureCluster: true } },
                jsonPatches: [{ op: 'add', path: '/spec/template/spec/region', valueFrom: { template: '{{ printf "%s" .region }}' } }],
              },
            ],
          },
        ],
      },
      issue: { path: 'documents[0] (ClusterClass aws-class)', message: 'spec.patches[0].definitions[0].jsonPatches[0]: template function "printf" is not supported yet' },
    },
    {
      name: 'the topology uses machinePools',
      options: { topology: { workers: { machinePools: [{ class: 'pool', name: 'mp-0' }] } } },
      issue: { path: 'documents[7] (Cluster demo)', message: 'spec.topology.workers.machinePools: MachinePools are not supported yet; use machineDeployments' },
    },
  ])('refuses as unsupported when $name', ({ options, issue }) => {
    // Prepare
    const docs = topologyManifests('v1beta2', options);
    // Act
    const error = catchError(() => importManifests(docs));
    // Assess
    expect(error).toBeInstanceOf(UnsupportedError);
    expect(error.details).toEqual([issue]);
  });

  it.each([
    {
      name: 'a machineDeployment names a class the ClusterClass lacks',
      mutate: (docs: Raw[]) => {
        docs[7]!['spec']['topology']['workers'] = { machineDeployments: [{ class: 'gpu', name: 'md-0' }] };
      },
      issue: { path: 'documents[7] (Cluster demo)', message: 'spec.topology.workers.machineDeployments[0].class: ClusterClass aws-class has no machineDeployment class "gpu"' },
    },
    {
      name: 'a ClusterClass template is missing',
      mutate: (docs: Raw[]) => {
        docs.splice(1, 1, obj('v1', 'ConfigMap', 'placeholder'));
      },
      issue: { path: 'documents[0] (ClusterClass aws-class)', message: 'spec.infrastructure.templateRef: AWSClusterTemplate cluster is not in the documents; send it in the same request' },
    },
    {
      name: 'a patch walks through a string',
      mutate: (docs: Raw[]) => {
        docs[0]!['spec']['patches'] = [
          {
            name: 'bad',
            definitions: [
              { selector: { apiVersion: INFRA, kind: 'AWSClusterTemplate', matchResources: { infrastructureCluster: true } }, jsonPatches: [{ op: 'add', path: '/spec/template/spec/region/x', value: 1 }] },
            ],
          },
          ...PATCHES,
        ];
        docs[1]!['spec']['template']['spec']['region'] = 'eu-west-1';
      },
      issue: { path: 'documents[0] (ClusterClass aws-class)', message: 'spec.patches[0].definitions[0].jsonPatches[0]: path /spec/template/spec/region/x: /spec/template/spec/region is a string, not an object or list' },
    },
  ])('fails when $name', ({ mutate, issue }) => {
    // Prepare
    const docs = topologyManifests('v1beta2');
    mutate(docs);
    // Act
    const error = catchError(() => importManifests(docs));
    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.details).toEqual([issue]);
  });
});
