/**
 * Acceptance: every real Cluster API manifest in test/fixtures/capi/examples POSTed to /v1/apply over HTTP (issue
 * "Foundation", API point 4). Each is applied with the replicas, versions, machine types, region and account it
 * states (read back from the stored cluster), or refused naming the unsupported kind (or missing piece) and its
 * document index, with nothing stored.
 *
 * Every example names its cluster `capstan-demo`; each case renames it (all occurrences, so references stay
 * intact) so that the clusters can live side by side. AWS clusters are stored but not provisioned locally: they show
 * ProviderAvailable=False. Local (CAPD) clusters are deleted right after the check, so no long rollout runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { CAPI_EXAMPLES_DIR as EXAMPLES } from '../fixtures/capi/paths.js';
import { clusterDoc, startTestStack, waitFor, type TestStack } from './harness.js';

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let stack: TestStack;

/** The example files joined as one multi-document body, the cluster renamed to `name`. */
function manifest(name: string, ...files: string[]): string {
  return files.map((f) => readFileSync(path.join(EXAMPLES, f), 'utf8').replace(/capstan-demo/g, name)).join('\n---\n');
}

/** Adds the `capstan.dev/account` annotation to the Cluster API Cluster (CAPA's default identity names no account). */
function withAccount(body: string, account: string): string {
  return parseAllDocuments(body)
    .map((d) => {
      const doc = d.toJS() as Raw | null;
      if (doc?.kind === 'Cluster') doc.metadata = { ...doc.metadata, annotations: { ...doc.metadata.annotations, 'capstan.dev/account': account } };
      return stringify(doc);
    })
    .join('---\n');
}

async function post(body: string, query = ''): Promise<{ status: number; body: any }> {
  return stack.call('POST', `/v1/apply${query}`, body, { 'content-type': 'application/yaml' });
}

async function clusterNames(): Promise<string[]> {
  return (await stack.call('GET', '/v1/clusters')).body.items.map((c: Raw) => c.metadata.name);
}

interface Imported {
  readonly name: string;
  readonly files: string[];
  readonly account?: string;
  readonly infrastructure: Raw;
  readonly controlPlane: { replicas: number; instanceType: string };
  readonly workers: { name: string; replicas: number; instanceType: string; failureDomains?: string[] }[];
  readonly failureDomains?: string[];
}

const IMPORTED: Imported[] = [
  {
    name: 'ex-simple-mt',
    files: ['capa-e2e-cluster-template-simple-multitenancy.yaml'],
    infrastructure: { provider: 'aws', account: '111122223333', roleArn: 'arn:aws:iam::111122223333:role/capa-tenant-a', region: 'us-west-2', sshKeyName: 'capstan-ops' },
    controlPlane: { replicas: 3, instanceType: 't3.large' },
    workers: [{ name: 'md-0', replicas: 3, instanceType: 'm6i.large' }],
  },
  {
    name: 'ex-mt-class',
    files: ['capa-cluster-template-multitenancy-clusterclass.yaml'],
    infrastructure: { provider: 'aws', account: '777788889999', roleArn: 'arn:aws:iam::777788889999:role/capa-nested', region: 'us-west-2', sshKeyName: 'capstan-ops' },
    controlPlane: { replicas: 3, instanceType: 't3.large' },
    workers: [{ name: 'md-0', replicas: 3, instanceType: 'm6i.large' }],
  },
  {
    name: 'ex-capa',
    files: ['capa-cluster-template.yaml'],
    account: '123456789012',
    infrastructure: { provider: 'aws', account: '123456789012', region: 'us-west-2', sshKeyName: 'capstan-ops' },
    controlPlane: { replicas: 3, instanceType: 't3.large' },
    workers: [{ name: 'md-0', replicas: 3, instanceType: 'm6i.large' }],
  },
  {
    name: 'ex-kcp-md-mhc',
    files: ['capd-e2e-cluster-with-kcp-md-mhc.yaml'],
    infrastructure: { provider: 'local' },
    controlPlane: { replicas: 3, instanceType: 't3.large' },
    workers: [{ name: 'md-0', replicas: 3, instanceType: 'm6i.large', failureDomains: ['fd4'] }],
    failureDomains: ['fd1', 'fd2', 'fd3'],
  },
  {
    name: 'ex-dev-class',
    files: ['capd-cluster-template-development.yaml', 'capd-clusterclass-quick-start.yaml'],
    infrastructure: { provider: 'local' },
    controlPlane: { replicas: 3, instanceType: 't3.large' },
    workers: [{ name: 'md-0', replicas: 3, instanceType: 'm6i.large' }],
    failureDomains: ['fd1', 'fd2', 'fd3', 'fd4', 'fd5'],
  },
];

const REFUSED: { name: string; files: string[]; status: number; code: string; details: { path: string | RegExp; message: RegExp }[] }[] = [
  {
    name: 'capa-cluster-template-eks.yaml (EKS managed control plane)',
    files: ['capa-cluster-template-eks.yaml'],
    status: 422,
    code: 'Unsupported',
    details: [
      { path: 'documents[1]', message: /kind AWSManagedCluster .* is not supported/ },
      { path: 'documents[2]', message: /kind AWSManagedControlPlane .* is not supported/ },
      { path: 'documents[5]', message: /kind NodeadmConfigTemplate .* is not supported/ },
    ],
  },
  {
    name: 'capa-cluster-template-machinepool.yaml (MachinePool / AWSMachinePool)',
    files: ['capa-cluster-template-machinepool.yaml'],
    status: 422,
    code: 'Unsupported',
    details: [
      { path: 'documents[4]', message: /kind MachinePool .* is not supported/ },
      { path: 'documents[5]', message: /kind AWSMachinePool .* is not supported/ },
      { path: 'documents[6]', message: /kind KubeadmConfig .* is not supported/ },
    ],
  },
  {
    name: 'capa-cluster-template.yaml without an account (CAPA default identity)',
    files: ['capa-cluster-template.yaml'],
    status: 400,
    code: 'ValidationFailed',
    details: [{ path: /^documents\[1\] \(AWSCluster /, message: /an AWS account is needed/ }],
  },
  {
    name: 'capd-cluster-template-development.yaml without its ClusterClass',
    files: ['capd-cluster-template-development.yaml'],
    status: 400,
    code: 'ValidationFailed',
    details: [{ path: /^documents\[0\] \(Cluster /, message: /ClusterClass quick-start is not in the documents/ }],
  },
  {
    name: 'capd-clusterclass-quick-start.yaml alone (a ClusterClass, no Cluster)',
    files: ['capd-clusterclass-quick-start.yaml'],
    status: 400,
    code: 'ValidationFailed',
    details: [{ path: 'body', message: /no Cluster/ }],
  },
];

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack.destroy();
});

describe('POST /v1/apply with the Cluster API examples', () => {
  it('covers every example file', () => {
    // Act
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
    const covered = new Set([...IMPORTED, ...REFUSED].flatMap((c) => c.files));
    // Assess
    expect(files.length).toBeGreaterThanOrEqual(8);
    expect(files.filter((f) => !covered.has(f))).toEqual([]);
  });

  it.each(IMPORTED)('applies $files.0 as cluster $name with the stated topology', async (c) => {
    // Prepare
    const body = c.account ? withAccount(manifest(c.name, ...c.files), c.account) : manifest(c.name, ...c.files);
    // Act
    const res = await post(body);
    const stored = (await stack.call('GET', `/v1/clusters/${c.name}`)).body;
    const again = await post(body);
    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ applied: [{ name: c.name, action: 'created', generation: 1 }] });
    expect(again.body).toEqual({ applied: [{ name: c.name, action: 'unchanged', generation: 1 }] });
    expect(stored.spec.infrastructure).toEqual(c.infrastructure);
    expect(stored.spec.version).toBe('v1.32.5');
    expect(stored.spec.controlPlane).toMatchObject({ replicas: c.controlPlane.replicas, machine: { instanceType: c.controlPlane.instanceType } });
    expect(stored.spec.workers.map((w: Raw) => ({ name: w.name, replicas: w.replicas, instanceType: w.machine.instanceType, ...(w.failureDomains ? { failureDomains: w.failureDomains } : {}) }))).toEqual(c.workers);
    expect(stored.spec.failureDomains).toEqual(c.failureDomains ?? []);
    if (c.infrastructure.provider === 'aws') {
      await stack.workflow.settle(c.name);
      const settled = (await stack.call('GET', `/v1/clusters/${c.name}`)).body;
      expect(settled.status.conditions).toContainEqual(expect.objectContaining({ type: 'ProviderAvailable', status: 'False', reason: 'ProviderDisabled' }));
      expect((await stack.call('GET', `/v1/clusters/${c.name}/machines?includeDeleted=true`)).body.items).toEqual([]);
    } else {
      expect((await stack.call('DELETE', `/v1/clusters/${c.name}`)).status).toBe(202);
      await waitFor(async () => (await stack.call('GET', `/v1/clusters/${c.name}`)).status === 404, 20_000);
    }
  });

  it.each(REFUSED)('refuses $name, naming the document, and stores nothing', async (c) => {
    // Prepare
    const before = await clusterNames();
    // Act
    const res = await post(manifest('ex-refused', ...c.files));
    // Assess
    expect(res.status).toBe(c.status);
    expect(res.body.error.code).toBe(c.code);
    expect(res.body.error.details).toEqual(c.details.map((d) => ({ path: typeof d.path === 'string' ? d.path : expect.stringMatching(d.path), message: expect.stringMatching(d.message) })));
    expect(await clusterNames()).toEqual(before);
  });

  it('plans a dry run of an example without storing it', async () => {
    // Prepare
    const before = await clusterNames();
    // Act
    const res = await post(manifest('ex-dry', 'capd-e2e-cluster-with-kcp-md-mhc.yaml'), '?dryRun=true');
    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dryRun: true, applied: [{ name: 'ex-dry', action: 'created', plan: { waveCount: expect.any(Number), estimatedSeconds: expect.any(Number) } }] });
    expect(res.body.applied[0].plan.waves.flatMap((w: Raw) => w.creates)).toHaveLength(6);
    expect(await clusterNames()).toEqual(before);
  });

  it('refuses a whole request whose last document is an unsupported kind, keeping the valid first one out too', async () => {
    // Prepare
    const before = await clusterNames();
    const body = `${manifest('ex-mixed', 'capa-e2e-cluster-template-simple-multitenancy.yaml')}\n---\n${stringify(clusterDoc('ex-mixed-2'))}---\napiVersion: cluster.x-k8s.io/v1beta1\nkind: MachinePool\nmetadata:\n  name: mp\nspec: {}\n`;
    const index = parseAllDocuments(body).length - 1;
    // Act
    const res = await post(body);
    // Assess
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([{ path: `documents[${index}]`, message: expect.stringContaining('MachinePool') }]);
    expect(await clusterNames()).toEqual(before);
  });
});
