import { DescribeImagesCommand, DescribeInstancesCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { RegisterTargetsCommand, DeregisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { parse } from 'yaml';
import { TAGS, type CreateMachineRequest } from '../../../functions/domain/provider.js';
import { toProviderError, withThrottleRetries } from '../../../providers/aws-ec2/aws-errors.js';
import { CAPA_AMI_OWNER } from '../../../providers/aws-ec2/ami.js';
import { Ec2Provider, machineClientToken } from '../../../providers/aws-ec2/ec2-provider.js';
import { clusterSecretNames } from '../../../providers/aws-ec2/cluster-secrets.js';
import { MemberCredentials } from '../../../providers/aws-ec2/credentials.js';
import { awsError, PUBLISHED_IMAGE_OWNER, type FakeAwsOptions } from './fake-aws.js';
import { makeEc2Harness } from './ec2-harness.js';

type Harness = Awaited<ReturnType<typeof makeEc2Harness>>;

describe('Ec2Provider', () => {
  let h: Harness;
  afterEach(() => h.cleanup());

  const request = (name: string, overrides: Partial<CreateMachineRequest> = {}): CreateMachineRequest => ({
    cluster: h.cluster,
    name,
    role: 'worker',
    pool: 'md-0',
    version: 'v1.31.4',
    template: { instanceType: 'm6i.large' },
    failureDomain: 'eu-west-1a',
    bootstrap: h.bootstrapFor!(name),
    spec: h.spec,
    ...overrides,
  });
  const runCalls = () => h.fake.ec2Mock.commandCalls(RunInstancesCommand).map((c) => c.args[0].input);
  const kubeadmKinds = (userData: string) => {
    const doc = parse(Buffer.from(userData, 'base64').toString()) as { write_files: { path: string; content: string }[] };
    const tpl = doc.write_files.find((f) => f.path === '/etc/capstan/kubeadm.yaml.tpl')!.content;
    return [...tpl.matchAll(/^kind: (\w+)$/gm)].map((m) => m[1]);
  };

  describe('createMachine', () => {
    beforeEach(async () => (h = await makeEc2Harness()));

    it('launches with a ClientToken from cluster uid + name, identity tags on instance and volume, IMDSv2 and an encrypted root volume', async () => {
      const machine = await h.provider.createMachine(request('demo-md-0-1'));
      const input = runCalls()[0]!;
      expect(input.ClientToken).toBe(machineClientToken('uid-0001', 'demo-md-0-1'));
      expect(input.ClientToken).toMatch(/^[0-9a-f]{64}$/);
      for (const type of ['instance', 'volume']) {
        const tags = Object.fromEntries(input.TagSpecifications!.find((t) => t.ResourceType === type)!.Tags!.map((t) => [t.Key, t.Value]));
        expect(tags).toMatchObject({ Name: 'demo-md-0-1', [TAGS.managed]: 'true', [TAGS.cluster]: 'demo', [TAGS.clusterUid]: 'uid-0001', [TAGS.machine]: 'demo-md-0-1', [TAGS.pool]: 'md-0', [TAGS.role]: 'worker', team: 'platform' });
      }
      expect(input.MetadataOptions).toMatchObject({ HttpTokens: 'required' });
      expect(input.BlockDeviceMappings![0]!.Ebs).toMatchObject({ Encrypted: true, VolumeSize: 40 });
      expect(input.IamInstanceProfile).toEqual({ Name: 'capstan-node' });
      expect(machine).toMatchObject({ name: 'demo-md-0-1', cluster: 'demo', role: 'worker', state: 'pending', failureDomain: 'eu-west-1a' });
      expect(machine.providerId).toMatch(/^aws:\/\/\/eu-west-1a\/i-[0-9a-f]+$/);
    });

    it('returns the same instance when a retry after a crash cannot see it yet (ClientToken)', async () => {
      const first = await h.provider.createMachine(request('demo-md-0-1'));
      h.fake.staleDescribes(1); // eventually consistent: the lookup misses it
      const second = await h.reopen!().createMachine(request('demo-md-0-1'));
      expect(runCalls().map((c) => c.ClientToken)).toEqual([first, second].map(() => machineClientToken('uid-0001', 'demo-md-0-1')));
      expect(second.providerId).toBe(first.providerId);
      expect(h.fake.instances()).toHaveLength(1);
    });

    it('initialises the first control-plane machine, joins the next ones, and registers both with the API target group', async () => {
      await h.provider.createMachine(request('demo-cp-1', { role: 'control-plane', pool: 'control-plane' }));
      await h.provider.createMachine(request('demo-cp-2', { role: 'control-plane', pool: 'control-plane', failureDomain: 'eu-west-1b' }));
      await h.provider.createMachine(request('demo-md-0-1'));
      expect(runCalls().map((c) => kubeadmKinds(c.UserData!))).toEqual([['InitConfiguration', 'ClusterConfiguration'], ['JoinConfiguration'], ['JoinConfiguration']]);
      expect(runCalls().map((c) => c.IamInstanceProfile?.Name)).toEqual(['capstan-control-plane', 'capstan-control-plane', 'capstan-node']);
      expect(h.fake.elbMock.commandCalls(RegisterTargetsCommand).map((c) => c.args[0].input.Targets)).toEqual(
        h.fake.instances().filter((i) => i.tags[TAGS.role] === 'control-plane').map((i) => [{ Id: i.id, Port: 6443 }]),
      );
    });

    it('uses the user data the workflow rendered, when given', async () => {
      await h.provider.createMachine(request('demo-md-0-1', { bootstrap: { ...h.bootstrapFor!('demo-md-0-1'), userData: '#cloud-config\nruncmd: [[echo, hi]]\n' } }));
      expect(Buffer.from(runCalls()[0]!.UserData!, 'base64').toString()).toBe('#cloud-config\nruncmd: [[echo, hi]]\n');
    });

    it('looks the AMI up by Kubernetes version (CAPA convention, newest) once per region and version', async () => {
      await h.cleanup();
      h = await makeEc2Harness({
        images: [
          { ImageId: 'ami-old', Name: 'capa-ami-ubuntu-24.04-v1.31.4-1700000000', CreationDate: '2024-11-01T00:00:00.000Z' },
          { ImageId: 'ami-new', Name: 'capa-ami-ubuntu-24.04-v1.31.4-1730000000', CreationDate: '2025-01-01T00:00:00.000Z' },
          { ImageId: 'ami-other', Name: 'capa-ami-ubuntu-24.04-v1.30.8-1730000000', CreationDate: '2025-02-01T00:00:00.000Z' },
        ],
      });
      await h.provider.createMachine(request('demo-md-0-1'));
      await h.provider.createMachine(request('demo-md-0-2'));
      expect(runCalls().map((c) => c.ImageId)).toEqual(['ami-new', 'ami-new']);
      const lookups = h.fake.ec2Mock.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input);
      expect(lookups).toEqual([{ Owners: [CAPA_AMI_OWNER], Filters: expect.arrayContaining([{ Name: 'name', Values: ['capa-ami-ubuntu-24.04-v1.31.4-*'] }]) }]);
    });

    it('fails when no AMI matches the version with ProviderRejectedError', async () => {
      await h.cleanup();
      h = await makeEc2Harness({ images: [{ ImageId: 'ami-x', Name: 'capa-ami-ubuntu-24.04-v1.29.0-1', CreationDate: '2024-01-01' }] });
      await expect(h.provider.createMachine(request('demo-md-0-1'))).rejects.toMatchObject({ name: 'ProviderRejectedError' });
    });

    it('tries a second AZ of the pool once when the first has no capacity', async () => {
      await h.cleanup();
      h = await makeEc2Harness({ noCapacityIn: ['eu-west-1a'] });
      const machine = await h.provider.createMachine(request('demo-md-0-1'));
      expect(machine.failureDomain).toBe('eu-west-1b');
      const [a, b] = runCalls();
      expect(a!.SubnetId).not.toBe(b!.SubnetId);
      expect(b!.ClientToken).not.toBe(a!.ClientToken);
    });

    it('fails when no AZ of the pool has capacity with ProviderCapacityError naming the AZ', async () => {
      await h.cleanup();
      h = await makeEc2Harness({ noCapacityIn: ['eu-west-1a', 'eu-west-1b'] });
      await expect(h.provider.createMachine(request('demo-md-0-1'))).rejects.toMatchObject({ name: 'ProviderCapacityError', failureDomain: 'eu-west-1b' });
      expect(runCalls()).toHaveLength(2);
    });
  });

  describe('listMachines', () => {
    beforeEach(async () => (h = await makeEc2Harness()));

    it('reads every page of DescribeInstances (3 pages)', async () => {
      for (let i = 1; i <= 5; i++) await h.provider.createMachine(request(`demo-md-0-${i}`));
      h.fake.setPageSize(2);
      h.fake.ec2Mock.resetHistory();
      const machines = await h.provider.listMachines(h.scope);
      expect(machines.map((m) => m.name).sort()).toEqual(['demo-md-0-1', 'demo-md-0-2', 'demo-md-0-3', 'demo-md-0-4', 'demo-md-0-5']);
      expect(h.fake.ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(3);
    });

    it('filters by the managed tag, the cluster and live states', async () => {
      const m = await h.provider.createMachine(request('demo-md-0-1'));
      await h.provider.deleteMachine(h.scope, m);
      await h.provider.listMachines(h.scope); // shutting-down → terminated
      h.fake.ec2Mock.resetHistory();
      expect(await h.provider.listMachines(h.scope, { cluster: 'demo' })).toEqual([]);
      expect(h.fake.ec2Mock.commandCalls(DescribeInstancesCommand)[0]!.args[0].input.Filters).toEqual([
        { Name: `tag:${TAGS.managed}`, Values: ['true'] },
        { Name: `tag:${TAGS.cluster}`, Values: ['demo'] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped', 'shutting-down'] },
      ]);
    });
  });

  describe('join tokens (issue 12, defect 6: bounded TTL, fresh tokens for later joins)', () => {
    beforeEach(async () => (h = await makeEc2Harness()));
    const joinSecret = () => JSON.parse(h.fake.secrets.get(clusterSecretNames(h.cluster).join)!.value!);

    it('keeps the token while it has more than an hour left', async () => {
      const before = joinSecret();
      expect(Date.parse(before.expires) - Date.now()).toBeGreaterThan(3 * 3600_000);
      await h.provider.createMachine(request('demo-md-0-1'));
      expect(joinSecret()).toEqual(before);
      expect(h.kube.secrets.size).toBe(0);
    });

    it('mints a new token in the cluster and stores it before a join, when the stored one is about to expire', async () => {
      // Prepare: the cluster had its first control plane (a kubeconfig), and the token expires in 10 minutes
      await h.provider.createMachine(request('demo-md-0-1'));
      const name = clusterSecretNames(h.cluster).join;
      const old = joinSecret();
      h.fake.secrets.get(name)!.value = JSON.stringify({ ...old, expires: new Date(Date.now() + 600_000).toISOString() });

      // Act
      await h.provider.createMachine(request('demo-md-0-2'));

      // Assess: a bootstrap-token Secret as kubeadm reads it, and the join secret now names it
      const now = joinSecret();
      expect(now.token).not.toBe(old.token);
      expect(now.caCertHash).toBe(old.caCertHash);
      expect(Date.parse(now.expires) - Date.now()).toBeGreaterThan(3.9 * 3600_000);
      const [id, secret] = now.token.split('.');
      expect(h.kube.secrets.get(`bootstrap-token-${id}`)).toMatchObject({
        type: 'bootstrap.kubernetes.io/token',
        metadata: { namespace: 'kube-system' },
        stringData: { 'token-id': id, 'token-secret': secret, 'usage-bootstrap-authentication': 'true', 'usage-bootstrap-signing': 'true', 'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token', expiration: now.expires.replace(/\.\d{3}Z$/, 'Z') },
      });
    });
  });

  describe('listNodes', () => {
    beforeEach(async () => (h = await makeEc2Harness()));

    it('returns an empty map before the cluster has a kubeconfig, without calling an API server', async () => {
      // A cluster whose secrets exist but which never had a control-plane machine: no kubeconfig yet
      const fresh = { ...h.cluster, uid: `${h.cluster.uid}-2` };
      expect((await h.provider.listNodes(fresh)).size).toBe(0);
      expect(h.kube.requests).toEqual([]);
    });

    it('reads every node of the cluster with one node LIST through its API server, and no pod listing', async () => {
      // Prepare
      await h.provider.createMachine(request('demo-md-0-1'));
      await h.provider.createMachine(request('demo-md-0-2'));
      h.kube.nodes.get('demo-md-0-2').status.conditions.find((c: { type: string }) => c.type === 'Ready').status = 'False';
      h.kube.requests.length = 0;

      // Act
      const nodes = await h.provider.listNodes(h.cluster);

      // Assess
      expect(Object.fromEntries(nodes)).toEqual({ 'demo-md-0-1': { ready: true, cordoned: false }, 'demo-md-0-2': { ready: false, cordoned: false } });
      expect(h.kube.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/nodes']);
    });
  });

  describe('deleteMachine', () => {
    beforeEach(async () => (h = await makeEc2Harness()));

    it('deregisters a control-plane instance from the API target group before terminating it', async () => {
      const m = await h.provider.createMachine(request('demo-cp-1', { role: 'control-plane', pool: 'control-plane' }));
      await h.provider.deleteMachine(h.scope, m);
      const id = m.providerId.split('/').pop();
      expect(h.fake.elbMock.commandCalls(DeregisterTargetsCommand).map((c) => c.args[0].input.Targets)).toEqual([[{ Id: id, Port: 6443 }]]);
      const order = h.fake.calls.filter((c) => c === 'DeregisterTargets' || c === 'TerminateInstances');
      expect(order).toEqual(['DeregisterTargets', 'TerminateInstances']);
    });

    it.each([
      ['DescribeInstances says the id is unknown', 'describe'],
      ['TerminateInstances says the id is unknown (gone in between)', 'terminate'],
    ])('succeeds when %s', async (_name, where) => {
      const m = await h.provider.createMachine(request('demo-md-0-1'));
      if (where === 'describe') h.fake.ec2Mock.on(DescribeInstancesCommand).rejects(awsError('InvalidInstanceID.NotFound'));
      else h.fake.ec2Mock.on(TerminateInstancesCommand).rejects(awsError('InvalidInstanceID.NotFound'));
      await expect(h.provider.deleteMachine(h.scope, m)).resolves.toBeUndefined();
    });
  });

  // Defects of issue 12: each of these failed on the provider before its fix, over the strict in-memory AWS.
  describe('on the strict in-memory AWS', () => {
    const strict = async (options: FakeAwsOptions = {}) => {
      h = await makeEc2Harness(options);
    };
    /** A provider with a short registration bound (the harness's waits up to 8 checks). */
    const withBound = (attempts: number) =>
      new Ec2Provider({ credentials: new MemberCredentials({ externalId: 'capstan-test' }), retry: { sleep: async () => undefined }, registration: { attempts } });
    const cp = (name: string, overrides: Partial<CreateMachineRequest> = {}) => request(name, { role: 'control-plane', pool: 'control-plane', ...overrides });
    const targets = () => h.fake.of('tg').flatMap((t) => [...t.targets]);

    it('finds the default image of a version without imageId from the account CAPA publishes from now', async () => {
      await strict();
      await h.provider.createMachine(request('demo-md-0-1'));
      expect(h.fake.ec2Mock.commandCalls(DescribeImagesCommand)[0]!.args[0].input.Owners).toEqual([PUBLISHED_IMAGE_OWNER]);
      expect(runCalls()[0]!.ImageId).toMatch(/^ami-[0-9a-f]{17}$/);
    });

    it('registers a control-plane instance with the API target group only once it is running', async () => {
      await strict({ instanceVisibilityLag: 1, instancePendingDescribes: 2 });
      const machine = await h.provider.createMachine(cp('demo-cp-1'));
      const id = machine.providerId.split('/').pop()!;
      expect(targets()).toEqual([id]);
      const register = h.fake.requests.filter((r) => r.action === 'RegisterTargets');
      expect(register.map((r) => r.result)).toEqual(['ok']);
      // Before it: DescribeInstances by id saw NotFound (not propagated), then pending, then running.
      const polls = h.fake.requests.filter((r) => r.action === 'DescribeInstances' && r.input.InstanceIds?.[0] === id).map((r) => r.result);
      expect(polls[0]).toBe('InvalidInstanceID.NotFound');
    });

    it('fails retryably (ProviderUnavailableError) while the instance is still pending, and a retry registers it', async () => {
      await strict({ instancePendingDescribes: 4 });
      await expect(withBound(2).createMachine(cp('demo-cp-1'))).rejects.toMatchObject({ name: 'ProviderUnavailableError' });
      expect(targets()).toEqual([]);
      const retried = await withBound(8).createMachine(cp('demo-cp-1')); // the workflow's Retry on ProviderUnavailableError
      expect(targets()).toEqual([retried.providerId.split('/').pop()]);
      expect(h.fake.instances()).toHaveLength(1);
    });

    it('repairs: ensureInfrastructure registers a running control-plane instance missing from the target group', async () => {
      await strict();
      const machine = await h.provider.createMachine(cp('demo-cp-1'));
      for (const t of h.fake.of('tg')) t.targets.clear(); // a crash between RunInstances and RegisterTargets, or removed by hand
      await h.provider.ensureInfrastructure(h.cluster, h.spec);
      expect(targets()).toEqual([machine.providerId.split('/').pop()]);
    });

    it('retries a launch refused for an instance profile IAM has not propagated yet (ProviderUnavailableError), then launches', async () => {
      await strict({ instanceProfilePropagationCalls: 1 });
      await expect(h.provider.createMachine(request('demo-md-0-1'))).rejects.toMatchObject({ name: 'ProviderUnavailableError', message: expect.stringContaining('Invalid IAM Instance Profile name') });
      await expect(h.provider.createMachine(request('demo-md-0-1'))).resolves.toMatchObject({ name: 'demo-md-0-1' });
    });

    it('fails when the instance profile does not exist with ProviderUnavailableError the workflow retries a bounded number of times', async () => {
      await strict({ instanceProfiles: [] });
      await expect(h.provider.createMachine(request('demo-md-0-1'))).rejects.toMatchObject({ name: 'ProviderUnavailableError' });
      expect(h.fake.instances()).toEqual([]);
    });

    it('lists a machine right after createMachine returned it (it waits until EC2 knows the instance)', async () => {
      await strict({ instanceVisibilityLag: 2 });
      await h.provider.createMachine(request('demo-md-0-1'));
      expect((await h.provider.listMachines(h.scope, { cluster: 'demo' })).map((m) => m.name)).toEqual(['demo-md-0-1']);
    });

    it('terminates an instance deleted right after its launch, when DescribeInstances does not know it yet', async () => {
      await strict({ instanceVisibilityLag: 5 });
      const machine = await withBound(1).createMachine(request('demo-md-0-1'));
      await h.provider.deleteMachine(h.scope, machine);
      expect(h.fake.of('instance').map((i) => i.state)).toEqual(['shutting-down']);
    });
  });
});

describe('withThrottleRetries', () => {
  let ec2: ReturnType<typeof mockClient>;
  beforeEach(() => (ec2 = mockClient(EC2Client)));
  afterEach(() => ec2.restore());

  it('retries throttling with bounded jitter and then succeeds', async () => {
    ec2.on(RunInstancesCommand).rejectsOnce(awsError('RequestLimitExceeded', 503)).rejectsOnce(awsError('Throttling', 400)).resolves({ Instances: [{ InstanceId: 'i-1' }] });
    const sleeps: number[] = [];
    const out = await withThrottleRetries('RunInstances', () => new EC2Client({}).send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1 })), { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 });
    expect(out.Instances?.[0]?.InstanceId).toBe('i-1');
    expect(sleeps).toEqual([100, 200]);
  });

  it('fails when throttling outlasts the attempts with ProviderThrottledError', async () => {
    ec2.on(RunInstancesCommand).rejects(awsError('RequestLimitExceeded', 503));
    await expect(withThrottleRetries('RunInstances', () => new EC2Client({}).send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1 })), { sleep: async () => undefined })).rejects.toMatchObject({ name: 'ProviderThrottledError' });
    expect(ec2.commandCalls(RunInstancesCommand)).toHaveLength(3);
  });

  it('does not retry other errors', async () => {
    ec2.on(RunInstancesCommand).rejects(awsError('InvalidAMIID.NotFound'));
    await expect(withThrottleRetries('RunInstances', () => new EC2Client({}).send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1 })), { sleep: async () => undefined })).rejects.toMatchObject({ name: 'ProviderRejectedError' });
    expect(ec2.commandCalls(RunInstancesCommand)).toHaveLength(1);
  });
});

describe('toProviderError', () => {
  it.each([
    ['RequestLimitExceeded', 503, 'ProviderThrottledError'],
    ['Throttling', 400, 'ProviderThrottledError'],
    ['ServiceUnavailable', 503, 'ProviderUnavailableError'],
    ['InternalError', 500, 'ProviderUnavailableError'],
    ['SomethingNew', 502, 'ProviderUnavailableError'],
    ['InsufficientInstanceCapacity', 500, 'ProviderCapacityError'],
    ['InsufficientCapacity', 500, 'ProviderCapacityError'],
    ['Unsupported', 400, 'ProviderCapacityError'],
    ['InvalidAMIID.NotFound', 400, 'ProviderRejectedError'],
    ['InvalidAMIID.Malformed', 400, 'ProviderRejectedError'],
    ['UnauthorizedOperation', 403, 'ProviderRejectedError'],
    ['InvalidParameterValue', 400, 'ProviderRejectedError'],
  ])('maps %s (%i) to %s', (code, status, expected) => {
    const mapped = toProviderError(awsError(code, status), { operation: 'RunInstances', failureDomain: 'eu-west-1a' });
    expect(mapped.name).toBe(expected);
    expect(mapped.message).toContain(code);
  });

  it('keeps the failure domain on a capacity error', () => {
    expect(toProviderError(awsError('InsufficientInstanceCapacity', 500), { operation: 'RunInstances', failureDomain: 'eu-west-1c' })).toMatchObject({ failureDomain: 'eu-west-1c' });
  });
});
