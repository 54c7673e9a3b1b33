import { ValidationError, type Issue } from '../../../../functions/domain/errors.js';
import { CLUSTER_DEFAULTS, clusterDocumentJsonSchema, parseClusterDocument } from '../../../../functions/domain/spec/cluster-spec.js';
import { parseBodyDocuments } from '../../../../functions/domain/spec/documents.js';
import { mergePatch } from '../../../../functions/domain/spec/merge-patch.js';

/** A minimal valid raw document; each case patches it (RFC 7386: null deletes, arrays replace). */
function baseDocument(): Record<string, unknown> {
  return {
    apiVersion: 'capstan.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'demo' },
    spec: { infrastructure: { provider: 'local' }, version: 'v1.30.2', workers: [{ name: 'md-0', replicas: 3 }] },
  };
}

const aws = (extra: Record<string, unknown> = {}) => ({
  spec: { infrastructure: { provider: 'aws', account: '123456789012', region: 'us-east-1', ...extra }, network: { vpcCidr: '10.10.0.0/16' } },
});
const worker = (fields: Record<string, unknown>) => ({ spec: { workers: [{ name: 'md-0', replicas: 3, ...fields }] } });

function issuesOf(raw: unknown): readonly Issue[] {
  try {
    parseClusterDocument(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).details;
  }
  throw new Error('expected a ValidationError');
}

describe('parseClusterDocument', () => {
  // [case, patch, exact path, fragments the message must contain (the rule and the received value)]
  const badDocuments: [string, unknown, string, string[]][] = [
    ['apiVersion is wrong', { apiVersion: 'v1' }, 'apiVersion', ['must be "capstan.dev/v1alpha1"', 'got "v1"']],
    ['apiVersion is missing', { apiVersion: null }, 'apiVersion', ['is required', 'capstan.dev/v1alpha1']],
    ['kind is not Cluster', { kind: 'Machine' }, 'kind', ['must be "Cluster"', 'got "Machine"']],
    ['metadata is missing', { metadata: null }, 'metadata', ['is required', 'an object']],
    ['metadata.name has capitals', { metadata: { name: 'Demo' } }, 'metadata.name', ['DNS-1123 label', 'got "Demo"']],
    ['metadata.name starts with a dash', { metadata: { name: '-demo' } }, 'metadata.name', ['DNS-1123 label', 'got "-demo"']],
    ['metadata.name is 41 characters', { metadata: { name: 'a'.repeat(41) } }, 'metadata.name', ['at most 40 characters', 'got 41']],
    ['metadata.name is a number', { metadata: { name: 5 } }, 'metadata.name', ['must be a string', 'got 5']],
    ['a label key has a space', { metadata: { labels: { 'a b': 'x' } } }, 'metadata.labels["a b"]', ['label key', 'got "a b"']],
    ['a label value is 64 characters', { metadata: { labels: { team: 'x'.repeat(64) } } }, 'metadata.labels.team', ['label value', `got "${'x'.repeat(64)}"`]],
    ['a label value is a number', { metadata: { labels: { team: 5 } } }, 'metadata.labels.team', ['must be a string', 'got 5']],
    ['annotations is an array', { metadata: { annotations: ['x'] } }, 'metadata.annotations', ['must be an object', 'got an array of 1 item']],
    ['metadata carries server fields', { metadata: { uid: 'abc' } }, 'metadata.uid', ['unknown field']],
    ['the document carries status', { status: { phase: 'Ready' } }, 'status', ['unknown field']],
    ['spec is missing', { spec: null }, 'spec', ['is required', 'an object']],
    ['spec has an unknown field', { spec: { foo: 1 } }, 'spec.foo', ['unknown field']],
    ['the provider is unknown', { spec: { infrastructure: { provider: 'gcp' } } }, 'spec.infrastructure.provider', ['one of "local", "aws"', 'got "gcp"']],
    ['the provider is missing', { spec: { infrastructure: { provider: null } } }, 'spec.infrastructure.provider', ['is required', '"local", "aws"']],
    ['infrastructure is a string', { spec: { infrastructure: 'aws' } }, 'spec.infrastructure', ['must be an object', 'got "aws"']],
    ['local infrastructure has an account', { spec: { infrastructure: { account: '123456789012' } } }, 'spec.infrastructure.account', ['unknown field']],
    ['the account has 11 digits', mergePatch(aws(), { spec: { infrastructure: { account: '12345678901' } } }), 'spec.infrastructure.account', ['12-digit AWS account id', 'got "12345678901"']],
    ['the account is a number', mergePatch(aws(), { spec: { infrastructure: { account: 123456789012 } } }), 'spec.infrastructure.account', ['must be a string', 'got 123456789012']],
    ['the region is upper case', mergePatch(aws(), { spec: { infrastructure: { region: 'US-EAST-1' } } }), 'spec.infrastructure.region', ['AWS region', 'got "US-EAST-1"']],
    ['the region is missing', mergePatch(aws(), { spec: { infrastructure: { region: null } } }), 'spec.infrastructure.region', ['is required', 'a string']],
    ['roleArn is not an ARN', aws({ roleArn: 'CapstanMemberRole' }), 'spec.infrastructure.roleArn', ['IAM role ARN', 'got "CapstanMemberRole"']],
    ['roleArn is in another account', aws({ roleArn: 'arn:aws:iam::210987654321:role/Capstan' }), 'spec.infrastructure.roleArn', ['role in account 123456789012', '210987654321']],
    ['vpcId is malformed', aws({ vpcId: 'vpc-xyz' }), 'spec.infrastructure.vpcId', ['VPC id', 'got "vpc-xyz"']],
    ['a subnet id is malformed', aws({ subnetIds: ['subnet-1'] }), 'spec.infrastructure.subnetIds[0]', ['subnet id', 'got "subnet-1"']],
    ['subnet ids repeat', aws({ subnetIds: ['subnet-0123abcd', 'subnet-0123abcd'] }), 'spec.infrastructure.subnetIds[1]', ['must be unique', 'got "subnet-0123abcd"']],
    ['a tag key is reserved by AWS', aws({ tags: { 'aws:owner': 'me' } }), 'spec.infrastructure.tags["aws:owner"]', ['not starting with "aws:"', 'got "aws:owner"']],
    ['sshKeyName is 300 characters', aws({ sshKeyName: 'k'.repeat(300) }), 'spec.infrastructure.sshKeyName', ['at most 255 characters', 'got 300']],
    ['aws infrastructure has an unknown field', aws({ zone: 'a' }), 'spec.infrastructure.zone', ['unknown field']],
    ['version has no v', { spec: { version: '1.30.2' } }, 'spec.version', ['Kubernetes version like v1.30.2', 'got "1.30.2"']],
    ['the endpoint scheme is unknown', mergePatch(aws(), { spec: { controlPlane: { endpoint: { scheme: 'public' } } } }), 'spec.controlPlane.endpoint.scheme', ['"internet-facing", "internal"', 'got "public"']],
    ['an allowed CIDR is not a CIDR', mergePatch(aws(), { spec: { controlPlane: { endpoint: { allowedCidrs: ['10.0.0.0'] } } } }), 'spec.controlPlane.endpoint.allowedCidrs[0]', ['got "10.0.0.0"']],
    ['allowed CIDRs repeat', mergePatch(aws(), { spec: { controlPlane: { endpoint: { allowedCidrs: ['192.0.2.0/24', '192.0.2.0/24'] } } } }), 'spec.controlPlane.endpoint.allowedCidrs[1]', ['must be unique']],
    ['the endpoint has an unknown field', mergePatch(aws(), { spec: { controlPlane: { endpoint: { public: true } } } }), 'spec.controlPlane.endpoint.public', ['unknown field']],
    ['version has no patch', { spec: { version: 'v1.30' } }, 'spec.version', ['Kubernetes version', 'got "v1.30"']],
    ['version is a number', { spec: { version: 1.3 } }, 'spec.version', ['must be a string', 'got 1.3']],
    ['version is missing', { spec: { version: null } }, 'spec.version', ['is required', 'a string']],
    ['podCidr has prefix 33', { spec: { network: { podCidr: '10.0.0.0/33' } } }, 'spec.network.podCidr', ['prefix length of 0..32', 'got "10.0.0.0/33"']],
    ['podCidr has an octet 300', { spec: { network: { podCidr: '300.0.0.0/8' } } }, 'spec.network.podCidr', ['octets 0..255', 'got "300.0.0.0/8"']],
    ['podCidr has host bits set', { spec: { network: { podCidr: '10.0.0.1/16' } } }, 'spec.network.podCidr', ['without host bits set (did you mean 10.0.0.0/16?)', 'got "10.0.0.1/16"']],
    ['podCidr is IPv6', { spec: { network: { podCidr: 'fd00::/48' } } }, 'spec.network.podCidr', ['IPv4 CIDR block', 'got "fd00::/48"']],
    ['podCidr is too small for /24 nodes', { spec: { network: { podCidr: '10.0.0.0/26' } } }, 'spec.network.podCidr', ['between /8 and /24', 'got "10.0.0.0/26"']],
    ['serviceCidr is larger than a /12', { spec: { network: { serviceCidr: '10.0.0.0/8' } } }, 'spec.network.serviceCidr', ['between /12 and /28', 'got "10.0.0.0/8"']],
    ['serviceCidr overlaps podCidr', { spec: { network: { serviceCidr: '192.168.100.0/24' } } }, 'spec.network.serviceCidr', ['must not overlap podCidr 192.168.0.0/16', 'got 192.168.100.0/24']],
    ['vpcCidr overlaps podCidr', mergePatch(aws(), { spec: { network: { vpcCidr: '192.168.0.0/16' } } }), 'spec.network.vpcCidr', ['must not overlap podCidr 192.168.0.0/16', 'got 192.168.0.0/16']],
    ['serviceCidr overlaps the default VPC', mergePatch(aws(), { spec: { network: { vpcCidr: null, serviceCidr: '10.0.0.0/12' } } }), 'spec.network.serviceCidr', ['default VPC CIDR', 'got 10.0.0.0/12']],
    ['network has an unknown field', { spec: { network: { dnsDomain: 'cluster.local' } } }, 'spec.network.dnsDomain', ['unknown field']],
    ['failure domains repeat', { spec: { failureDomains: ['a', 'b', 'a'] } }, 'spec.failureDomains[2]', ['must be unique', 'got "a"']],
    ['failureDomains is a string', { spec: { failureDomains: 'us-east-1a' } }, 'spec.failureDomains', ['must be an array', 'got "us-east-1a"']],
    ['there are 17 failure domains', { spec: { failureDomains: Array.from({ length: 17 }, (_, i) => `z${i}`) } }, 'spec.failureDomains', ['at most 16 items', 'got 17']],
    ['control plane replicas are even', { spec: { controlPlane: { replicas: 2 } } }, 'spec.controlPlane.replicas', ['must be odd (1, 3, 5, 7)', 'got 2']],
    ['control plane replicas are 9', { spec: { controlPlane: { replicas: 9 } } }, 'spec.controlPlane.replicas', ['must be odd (1, 3, 5, 7)', 'got 9']],
    ['control plane replicas are fractional', { spec: { controlPlane: { replicas: 3.5 } } }, 'spec.controlPlane.replicas', ['must be an integer', 'got 3.5']],
    ['control plane replicas are a string', { spec: { controlPlane: { replicas: '3' } } }, 'spec.controlPlane.replicas', ['must be a number', 'got "3"']],
    ['instanceType has no family', { spec: { controlPlane: { machine: { instanceType: 'large' } } } }, 'spec.controlPlane.machine.instanceType', ['EC2 instance type like t3.large', 'got "large"']],
    ['imageId is short', { spec: { controlPlane: { machine: { imageId: 'ami-123' } } } }, 'spec.controlPlane.machine.imageId', ['AMI id', 'got "ami-123"']],
    ['the root volume is 4 GiB', { spec: { controlPlane: { machine: { rootVolumeSizeGiB: 4 } } } }, 'spec.controlPlane.machine.rootVolumeSizeGiB', ['at least 8', 'got 4']],
    ['the root volume is 20000 GiB', { spec: { controlPlane: { machine: { rootVolumeSizeGiB: 20000 } } } }, 'spec.controlPlane.machine.rootVolumeSizeGiB', ['at most 16384', 'got 20000']],
    ['control plane maxSurge is 2', { spec: { controlPlane: { rollout: { maxSurge: 2 } } } }, 'spec.controlPlane.rollout.maxSurge', ['one of 0, 1', 'got 2']],
    ['control plane rollout.after is prose', { spec: { controlPlane: { rollout: { after: 'yesterday' } } } }, 'spec.controlPlane.rollout.after', ['RFC 3339 timestamp', 'got "yesterday"']],
    ['control plane rollout.after is Feb 30', { spec: { controlPlane: { rollout: { after: '2024-02-30T00:00:00Z' } } } }, 'spec.controlPlane.rollout.after', ['RFC 3339', 'got "2024-02-30T00:00:00Z"']],
    ['control plane has an unknown field', { spec: { controlPlane: { version: 'v1.30.2' } } }, 'spec.controlPlane.version', ['unknown field']],
    ['workers is an object', { spec: { workers: { name: 'md-0' } } }, 'spec.workers', ['must be an array', 'got an object']],
    ['a pool name has capitals', worker({ name: 'MD-0' }), 'spec.workers[0].name', ['DNS-1123 label', 'got "MD-0"']],
    ['a pool name is 31 characters', worker({ name: 'p'.repeat(31) }), 'spec.workers[0].name', ['at most 30 characters', 'got 31']],
    ['a pool is named control-plane', worker({ name: 'control-plane' }), 'spec.workers[0].name', ['reserved for the control plane', 'got "control-plane"']],
    ['a pool has no name', { spec: { workers: [{ replicas: 3 }] } }, 'spec.workers[0].name', ['is required', 'a string']],
    ['a pool name is null', worker({ name: null }), 'spec.workers[0].name', ['must be a string', 'got null']],
    ['pool names repeat', { spec: { workers: [{ name: 'md-0' }, { name: 'md-0' }] } }, 'spec.workers[1].name', ['must be unique', 'got "md-0"', 'spec.workers[0].name']],
    ['pool replicas are negative', worker({ replicas: -1 }), 'spec.workers[0].replicas', ['at least 0', 'got -1']],
    ['pool replicas are 1001', worker({ replicas: 1001 }), 'spec.workers[0].replicas', ['at most 1000', 'got 1001']],
    ['replicas are below minReplicas', worker({ minReplicas: 4 }), 'spec.workers[0].replicas', ['at least minReplicas (4)', 'got 3']],
    ['replicas are above maxReplicas', worker({ maxReplicas: 2 }), 'spec.workers[0].replicas', ['at most maxReplicas (2)', 'got 3']],
    ['minReplicas exceeds maxReplicas', worker({ minReplicas: 5, maxReplicas: 4 }), 'spec.workers[0].maxReplicas', ['at least minReplicas (5)', 'got 4']],
    ['a pool version is newer than the control plane', worker({ version: 'v1.31.0' }), 'spec.workers[0].version', ['must not be newer than the control plane (spec.version v1.30.2)', 'got v1.31.0']],
    ['a pool version is 4 minors older', worker({ version: 'v1.26.9' }), 'spec.workers[0].version', ['at most 3 minor versions older', 'got v1.26.9']],
    ['a pool version is another major', worker({ version: 'v0.30.0' }), 'spec.workers[0].version', ['at most 3 minor versions older', 'got v0.30.0']],
    ['a pool version is not a version', worker({ version: 'latest' }), 'spec.workers[0].version', ['Kubernetes version', 'got "latest"']],
    ['the strategy is Recreate', worker({ rollout: { strategy: 'Recreate' } }), 'spec.workers[0].rollout.strategy', ['one of "RollingUpdate", "OnDelete"', 'got "Recreate"']],
    ['maxSurge is a word', worker({ rollout: { maxSurge: 'abc' } }), 'spec.workers[0].rollout.maxSurge', ['integer 0..1000 or a percentage like "25%"', 'got "abc"']],
    ['maxSurge is negative', worker({ rollout: { maxSurge: -1 } }), 'spec.workers[0].rollout.maxSurge', ['integer 0..1000', 'got -1']],
    ['maxSurge is a fraction', worker({ rollout: { maxSurge: 0.5 } }), 'spec.workers[0].rollout.maxSurge', ['integer 0..1000', 'got 0.5']],
    ['maxUnavailable is 150%', worker({ rollout: { maxUnavailable: '150%' } }), 'spec.workers[0].rollout.maxUnavailable', ['at most "100%"', 'got "150%"']],
    ['maxSurge and maxUnavailable are both 0', worker({ rollout: { maxSurge: 0, maxUnavailable: 0 } }), 'spec.workers[0].rollout.maxUnavailable', ['must not be 0 when maxSurge is 0', 'got maxSurge 0 and maxUnavailable 0']],
    ['maxSurge 0% and maxUnavailable 10% of 3 both resolve to 0', worker({ rollout: { maxSurge: '0%', maxUnavailable: '10%' } }), 'spec.workers[0].rollout.maxUnavailable', ['must not be 0 when maxSurge is 0', 'got maxSurge "0%" and maxUnavailable "10%" for 3 replicas']],
    ['deletionOrder is Largest', worker({ rollout: { deletionOrder: 'Largest' } }), 'spec.workers[0].rollout.deletionOrder', ['one of "Random", "Oldest", "Newest"', 'got "Largest"']],
    ['the pool rollout has an unknown field', worker({ rollout: { maxSkew: 1 } }), 'spec.workers[0].rollout.maxSkew', ['unknown field']],
    ['the pool rollout.after is a date only', worker({ rollout: { after: '2024-05-01' } }), 'spec.workers[0].rollout.after', ['RFC 3339', 'got "2024-05-01"']],
    ['pool failure domains repeat', worker({ failureDomains: ['a', 'a'] }), 'spec.workers[0].failureDomains[1]', ['must be unique', 'got "a"']],
    ['a pool label key is bad', worker({ labels: { '-x': 'y' } }), 'spec.workers[0].labels["-x"]', ['label key', 'got "-x"']],
    ['there are 101 pools', { spec: { workers: Array.from({ length: 101 }, (_, i) => ({ name: `md-${i}` })) } }, 'spec.workers', ['at most 100 items', 'got 101']],
    ['nodeStartupTimeout is fractional hours', { spec: { healthCheck: { nodeStartupTimeout: '1.5h' } } }, 'spec.healthCheck.nodeStartupTimeout', ['duration like 30s, 10m, 1h30m', 'got "1.5h"']],
    ['unhealthyTimeout is 0', { spec: { healthCheck: { unhealthyTimeout: 0 } } }, 'spec.healthCheck.unhealthyTimeout', ['between 1s and 24h', 'got 0']],
    ['maxUnhealthy is 120%', { spec: { healthCheck: { maxUnhealthy: '120%' } } }, 'spec.healthCheck.maxUnhealthy', ['at most "100%"', 'got "120%"']],
    ['maxUnhealthy is a boolean', { spec: { healthCheck: { maxUnhealthy: true } } }, 'spec.healthCheck.maxUnhealthy', ['a percentage like "25%"', 'got true']],
    ['the drain timeout is 25h', { spec: { drain: { timeout: '25h' } } }, 'spec.drain.timeout', ['between 1s and 24h', 'got "25h"']],
    ['the drain policy is Retry', { spec: { drain: { policy: 'Retry' } } }, 'spec.drain.policy', ['one of "Wait", "Force"', 'got "Retry"']],
    ['paused is a string', { spec: { paused: 'yes' } }, 'spec.paused', ['must be a boolean', 'got "yes"']],
    ['kubeadm.clusterConfiguration is an array', { spec: { kubeadm: { clusterConfiguration: [] } } }, 'spec.kubeadm.clusterConfiguration', ['must be an object', 'got an array of 0 items']],
    ['a pre-kubeadm command is a number', { spec: { kubeadm: { preKubeadmCommands: [1] } } }, 'spec.kubeadm.preKubeadmCommands[0]', ['must be a string', 'got 1']],
    ['kubeadm has an unknown field', { spec: { kubeadm: { users: [] } } }, 'spec.kubeadm.users', ['unknown field']],
  ];

  it.each(badDocuments)('fails when %s', (_name, patch, path, fragments) => {
    // Prepare
    const raw = mergePatch(baseDocument(), patch);
    // Act
    const issues = issuesOf(raw);
    // Assess: exactly one issue, at the exact path, naming the rule and the value received
    expect(issues.map((i) => i.path)).toEqual([path]);
    for (const fragment of fragments) expect(issues[0]?.message).toContain(fragment);
  });

  it('has at least 60 bad-document cases', () => {
    expect(badDocuments.length).toBeGreaterThanOrEqual(60);
  });

  it('reports every problem of a document at once', () => {
    const raw = mergePatch(baseDocument(), {
      metadata: { name: 'Bad_Name' },
      spec: { controlPlane: { replicas: 2 }, network: { serviceCidr: '192.168.0.0/20' }, workers: [{ name: 'md-0', version: 'v1.31.0' }], foo: 1 },
    });
    const issues = issuesOf(raw);
    expect(issues.map((i) => i.path).sort()).toEqual(
      ['metadata.name', 'spec.controlPlane.replicas', 'spec.foo', 'spec.network.serviceCidr', 'spec.workers[0].version'].sort(),
    );
    expect(issues.find((i) => i.path === 'spec.controlPlane.replicas')?.message).toBe('must be odd (1, 3, 5, 7), got 2');
  });

  it.each([
    ['a number', 5, 'must be an object, got 5'],
    ['an array', [], 'must be an object, got an array of 0 items'],
    ['null', null, 'must be an object, got null'],
  ])('fails when the document is %s', (_name, raw, message) => {
    expect(issuesOf(raw)).toEqual([{ path: 'document', message }]);
  });

  it('prefixes issue paths with the document location when asked', () => {
    const raw = mergePatch(baseDocument(), { spec: { controlPlane: { replicas: 4 }, network: { serviceCidr: '192.168.0.0/24' } } });
    let issues: readonly Issue[] = [];
    try {
      parseClusterDocument(raw, { path: 'body[1]' });
    } catch (error) {
      issues = (error as ValidationError).details;
    }
    expect(issues.map((i) => i.path)).toEqual(['body[1].spec.controlPlane.replicas', 'body[1].spec.network.serviceCidr']);
  });

  it('caps the number of listed issues and counts the rest', () => {
    const labels = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, `bad value ${i}`]));
    const annotations = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`-bad${i}`, 'v']));
    const issues = issuesOf(mergePatch(baseDocument(), { metadata: { labels, annotations } }));
    expect(issues).toHaveLength(101);
    expect(issues[100]).toEqual({ path: 'document', message: 'has 20 more problems not listed' });
  });

  it('fills every default of a minimal document', () => {
    const doc = parseClusterDocument({ apiVersion: 'capstan.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'min' }, spec: { infrastructure: { provider: 'local' }, version: 'v1.30.2', workers: [{ name: 'md-0' }] } });
    expect(doc).toEqual({
      apiVersion: 'capstan.dev/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'min' },
      spec: {
        infrastructure: { provider: 'local' },
        version: 'v1.30.2',
        network: { podCidr: '192.168.0.0/16', serviceCidr: '10.96.0.0/12', cni: CLUSTER_DEFAULTS.cni },
        failureDomains: [],
        controlPlane: { replicas: 3, machine: { instanceType: 't3.large' }, rollout: { maxSurge: 1 } },
        workers: [
          {
            name: 'md-0',
            replicas: 1,
            machine: { instanceType: 'm6i.large' },
            rollout: { strategy: 'RollingUpdate', maxSurge: 1, maxUnavailable: 0, deletionOrder: 'Random' },
          },
        ],
        healthCheck: { nodeStartupTimeout: '10m', unhealthyTimeout: '5m', maxUnhealthy: '40%' },
        drain: { timeout: '10m', policy: 'Wait' },
        paused: false,
      },
    });
    expect('version' in (doc.spec.workers[0] ?? {})).toBe(false);
  });

  it('defaults workers to none', () => {
    const doc = parseClusterDocument(mergePatch(baseDocument(), { spec: { workers: null } }));
    expect(doc.spec.workers).toEqual([]);
  });

  it('parses the example of the product issue', () => {
    const yaml = [
      'apiVersion: capstan.dev/v1alpha1',
      'kind: Cluster',
      'metadata: { name: demo, labels: { team: payments } }',
      'spec:',
      '  infrastructure: { provider: local }',
      '  version: v1.18.8',
      '  network: { podCidr: 192.168.0.0/16, serviceCidr: 10.96.0.0/12 }',
      '  controlPlane: { replicas: 3, machine: { instanceType: t3.large }, rollout: { maxSurge: 1 } }',
      '  workers:',
      '    - name: md-0',
      '      replicas: 3',
      '      machine: { instanceType: m6i.large }',
      '      rollout: { strategy: RollingUpdate, maxSurge: 1, maxUnavailable: 0 }',
      '  healthCheck: { nodeStartupTimeout: 10m, unhealthyTimeout: 5m, maxUnhealthy: "40%" }',
      '  drain: { timeout: 10m }',
      '  paused: false',
    ].join('\n');
    const [raw] = parseBodyDocuments(yaml, 'application/yaml');
    const doc = parseClusterDocument(raw);
    expect(doc.metadata).toEqual({ name: 'demo', labels: { team: 'payments' } });
    expect(doc.spec.version).toBe('v1.18.8');
    expect(doc.spec.controlPlane).toEqual({ replicas: 3, machine: { instanceType: 't3.large' }, rollout: { maxSurge: 1 } });
    expect(doc.spec.workers).toEqual([
      { name: 'md-0', replicas: 3, machine: { instanceType: 'm6i.large' }, rollout: { strategy: 'RollingUpdate', maxSurge: 1, maxUnavailable: 0, deletionOrder: 'Random' } },
    ]);
    expect(doc.spec.drain).toEqual({ timeout: '10m', policy: 'Wait' });
  });

  it('keeps every optional field of a full aws document', () => {
    const spec = {
      infrastructure: {
        provider: 'aws', account: '123456789012', region: 'eu-central-1', roleArn: 'arn:aws:iam::123456789012:role/path/CapstanMemberRole',
        sshKeyName: 'ops key', vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123abcd', 'subnet-0123abce'], tags: { 'cost-center': '42' },
      },
      version: 'v1.30.2',
      network: { podCidr: '172.16.0.0/16', serviceCidr: '172.20.0.0/16', vpcCidr: '10.0.0.0/16', cni: 'none' },
      failureDomains: ['eu-central-1a', 'eu-central-1b', 'eu-central-1c'],
      controlPlane: { replicas: 5, machine: { instanceType: 'm7g.xlarge', imageId: 'ami-0123456789abcdef0', rootVolumeSizeGiB: 100 }, rollout: { maxSurge: 0, after: '2024-05-01T12:00:00+02:00' } },
      workers: [
        { name: 'gpu', replicas: 2, minReplicas: 0, maxReplicas: 10, version: 'v1.27.9', machine: { instanceType: 'g5.2xlarge' },
          rollout: { strategy: 'OnDelete', maxSurge: 0, maxUnavailable: 0, after: '2024-05-01T12:00:00Z', deletionOrder: 'Oldest' },
          failureDomains: ['eu-central-1a'], labels: { 'node.example.com/gpu': 'true' } },
      ],
      healthCheck: { nodeStartupTimeout: '20m', unhealthyTimeout: '1m', maxUnhealthy: 2 },
      drain: { timeout: '1h', policy: 'Force' },
      paused: true,
      kubeadm: { clusterConfiguration: { apiServer: { extraArgs: { 'audit-log-maxage': '30' } } }, files: [{ path: '/etc/x', content: 'y' }], preKubeadmCommands: ['echo hi'], postKubeadmCommands: [] },
    };
    const raw = { apiVersion: 'capstan.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'prod', annotations: { 'example.com/note': 'any text at all' } }, spec };
    expect(parseClusterDocument(raw).spec).toEqual(spec);
  });

  it.each([
    ['90', 90, '1m30s'],
    ['"3600s"', '3600s', '1h'],
    ['"90m"', '90m', '1h30m'],
    ['"1h0m5s"', '1h0m5s', '1h5s'],
    ['"45"', '45', '45s'],
  ])('normalizes the duration %s to its canonical form', (_name, input, canonical) => {
    const doc = parseClusterDocument(mergePatch(baseDocument(), { spec: { drain: { timeout: input } } }));
    expect(doc.spec.drain.timeout).toBe(canonical);
  });

  it.each([
    ['maxSurge 0 with maxUnavailable 1', { maxSurge: 0, maxUnavailable: 1 }],
    ['maxSurge 0% with maxUnavailable 34% of 3', { maxSurge: '0%', maxUnavailable: '34%' }],
    ['both 0 for an OnDelete pool', { strategy: 'OnDelete', maxSurge: 0, maxUnavailable: 0 }],
    ['maxSurge 25% of 3 (rounds up to 1)', { maxSurge: '25%', maxUnavailable: 0 }],
  ])('accepts a rollout with %s', (_name, rollout) => {
    expect(() => parseClusterDocument(mergePatch(baseDocument(), worker({ rollout })))).not.toThrow();
  });

  it.each([
    ['the same version', 'v1.30.2'],
    ['an older patch', 'v1.30.0'],
    ['3 minors older', 'v1.27.0'],
  ])('accepts a pool version at %s', (_name, version) => {
    expect(parseClusterDocument(mergePatch(baseDocument(), worker({ version }))).spec.workers[0]?.version).toBe(version);
  });
});

describe('clusterDocumentJsonSchema', () => {
  it('describes the input document with unknown fields refused and required fields listed', () => {
    const schema = clusterDocumentJsonSchema() as {
      additionalProperties: boolean; required: string[];
      properties: { spec: { required: string[]; additionalProperties: boolean; properties: Record<string, { default?: unknown }> } };
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required.sort()).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(schema.properties.spec.additionalProperties).toBe(false);
    expect(schema.properties.spec.required.sort()).toEqual(['infrastructure', 'version']);
    expect(schema.properties.spec.properties.paused?.default).toBe(false);
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });
});

describe('parseClusterDocument on hostile values', () => {
  it.each([
    ['a __proto__ key in kubeadm settings', '{"clusterConfiguration":{"__proto__":{"polluted":true}}}', 'spec.kubeadm.clusterConfiguration.__proto__'],
    ['a constructor key deep in kubeadm files', '{"files":[{"constructor":{"prototype":1}}]}', 'spec.kubeadm.files[0].constructor'],
  ])('fails when a document has %s', (_name, kubeadmJson, path) => {
    const raw = { apiVersion: 'capstan.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'x' }, spec: { infrastructure: { provider: 'local' }, version: 'v1.30.0', kubeadm: JSON.parse(kubeadmJson) as unknown } };
    let error: unknown;
    try {
      parseClusterDocument(raw);
    } catch (e) {
      error = e;
    }
    expect((error as ValidationError).details).toEqual([{ path, message: expect.stringContaining('reserved key') }]);
  });
});

describe('parseClusterDocument: spec.network.cni', () => {
  const base = { apiVersion: 'capstan.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'c' }, spec: { infrastructure: { provider: 'local' }, version: 'v1.31.4' } };
  const withCni = (cni: unknown) => ({ ...base, spec: { ...base.spec, network: { cni } } });

  it('defaults to Calico, whose manifest reads the pod CIDR from kubeadm', () => {
    expect(parseClusterDocument(base).spec.network.cni).toMatch(/^https:\/\/.*calico.*\.yaml$/);
  });

  it.each(['none', 'https://example.com/cilium.yaml'])('accepts %s', (cni) => {
    expect(parseClusterDocument(withCni(cni)).spec.network.cni).toBe(cni);
  });

  it.each(['http://example.com/x.yaml', 'https://example.com/$(reboot)', "https://example.com/a'b", 'calico'])('fails when cni is %s', (cni) => {
    expect(() => parseClusterDocument(withCni(cni))).toThrow(/spec\.network\.cni: must be an https:\/\/ manifest URL/);
  });
});
