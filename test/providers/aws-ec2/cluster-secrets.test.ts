import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  type CreateSecretCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import {
  BOOTSTRAP_TOKEN_TTL_MS,
  clusterSecretNames,
  ensureClusterSecrets,
  generateBootstrapToken,
  parseControlPlaneSecret,
  parseJoinSecret,
} from '../../../providers/aws-ec2/cluster-secrets.js';
import { CLIENT_VALIDITY_MS, RENEW_BEFORE_MS, caCertHash, inspectKubeconfig } from '../../../providers/aws-ec2/pki.js';

const cluster = { name: 'demo', uid: 'uid-1' };
const names = clusterSecretNames(cluster);
const NOW = new Date('2026-12-01T00:00:00Z');
const sm = mockClient(SecretsManagerClient);
const client = sm as unknown as SecretsManagerClient;
afterEach(() => sm.reset());

/** Secrets Manager as far as these calls go: create (with ClientRequestToken and tags), describe, get, put. */
function statefulSecrets(options: { readonly hiddenOnce?: string } = {}) {
  let hidden = options.hiddenOnce;
  const store = new Map<string, { arn: string; value?: string; tags: Record<string, string> }>();
  const byId = (id: string) => [...store.entries()].find(([name, s]) => name === id || s.arn === id)?.[1];
  const notFound = () => Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
  sm.on(DescribeSecretCommand).callsFake((i: { SecretId: string }) => {
    const s = byId(i.SecretId);
    if (i.SecretId === hidden) {
      hidden = undefined; // created by another run right after this describe
      throw notFound();
    }
    if (!s) throw notFound();
    return { ARN: s.arn, Name: i.SecretId };
  });
  sm.on(CreateSecretCommand).callsFake((i: CreateSecretCommandInput) => {
    if (store.has(i.Name!)) throw Object.assign(new Error('exists'), { name: 'ResourceExistsException' });
    const arn = `arn:aws:secretsmanager:eu-west-1:1:secret:${i.Name}-AbCdEf`;
    store.set(i.Name!, { arn, ...(i.SecretString ? { value: i.SecretString } : {}), tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key, t.Value])) });
    return { ARN: arn };
  });
  sm.on(GetSecretValueCommand).callsFake((i: { SecretId: string }) => {
    const s = byId(i.SecretId);
    if (!s) throw notFound();
    return { SecretString: s.value };
  });
  sm.on(PutSecretValueCommand).callsFake((i: { SecretId: string; SecretString: string }) => {
    const s = byId(i.SecretId);
    if (!s) throw notFound();
    s.value = i.SecretString;
    return {};
  });
  return store;
}

const ensure = (extra: Partial<Parameters<typeof ensureClusterSecrets>[2]> = {}) =>
  ensureClusterSecrets(client, cluster, { tags: { 'capstan.dev/cluster': 'demo' }, vpcId: 'vpc-0abc', now: NOW, ...extra });

describe('ensureClusterSecrets', () => {
  it('creates the CAs and the join secret before any machine, each tagged with its audience and the cluster VPC', async () => {
    const store = statefulSecrets();
    const refs = await ensure();
    expect(Object.keys(refs).sort()).toEqual(['controlPlane', 'join']); // no kubeconfig before the first control plane
    const cp = parseControlPlaneSecret(store.get(names.controlPlane)!.value, names.controlPlane);
    const join = parseJoinSecret(store.get(names.join)!.value, names.join);
    expect(cp.certificateKey).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(cp.pki).sort()).toEqual(['ca.crt', 'ca.key', 'etcd/ca.crt', 'etcd/ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub']);
    expect(join.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(join.caCertHash).toBe(caCertHash(cp.pki['ca.crt']!));
    expect(Date.parse(join.expires) - NOW.getTime()).toBe(BOOTSTRAP_TOKEN_TTL_MS);
    expect(store.get(names.join)!.tags).toEqual({ 'capstan.dev/cluster': 'demo', 'capstan.dev/secret-audience': 'worker', 'capstan.dev/vpc-id': 'vpc-0abc' });
    expect(store.get(names.controlPlane)!.tags['capstan.dev/secret-audience']).toBe('control-plane');
    expect(store.has(names.kubeconfig)).toBe(false);
  });

  it('creates Capstan\'s admin kubeconfig with the first control-plane machine, for the endpoint, signed by the cluster CA', async () => {
    const store = statefulSecrets();
    await ensure({ endpoint: 'https://demo-api.elb.eu-west-1.amazonaws.com:6443' });
    expect(store.has(names.kubeconfig)).toBe(false); // an endpoint alone creates nothing
    const refs = await ensure({ endpoint: 'https://demo-api.elb.eu-west-1.amazonaws.com:6443', createKubeconfig: true });
    expect(refs.kubeconfig).toContain(names.kubeconfig);
    const seen = inspectKubeconfig(store.get(names.kubeconfig)!.value!)!;
    expect(seen.server).toBe('https://demo-api.elb.eu-west-1.amazonaws.com:6443');
    expect(Math.abs(seen.notAfter.getTime() - (NOW.getTime() + CLIENT_VALIDITY_MS))).toBeLessThan(1000);
    expect(store.get(names.kubeconfig)!.tags['capstan.dev/secret-audience']).toBe('capstan');
  });

  it('renews the kubeconfig when its certificate has less than 30 days left, and not before (issue 12, defect 8)', async () => {
    const store = statefulSecrets();
    const endpoint = 'https://demo-api.elb.eu-west-1.amazonaws.com:6443';
    await ensure({ endpoint, createKubeconfig: true });
    const first = store.get(names.kubeconfig)!.value;
    const justBefore = new Date(NOW.getTime() + CLIENT_VALIDITY_MS - RENEW_BEFORE_MS - 3600_000);
    await ensure({ endpoint, now: justBefore });
    expect(store.get(names.kubeconfig)!.value).toBe(first);
    const due = new Date(NOW.getTime() + CLIENT_VALIDITY_MS - RENEW_BEFORE_MS + 3600_000);
    await ensure({ endpoint, now: due });
    const renewed = inspectKubeconfig(store.get(names.kubeconfig)!.value!)!;
    expect(renewed.notAfter.getTime()).toBeGreaterThan(due.getTime() + CLIENT_VALIDITY_MS - 1000);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
  });

  it('rewrites the kubeconfig when the endpoint changed', async () => {
    const store = statefulSecrets();
    await ensure({ endpoint: 'https://old.example:6443', createKubeconfig: true });
    await ensure({ endpoint: 'https://new.example:6443' });
    expect(inspectKubeconfig(store.get(names.kubeconfig)!.value!)!.server).toBe('https://new.example:6443');
  });

  it('creates nothing the second time and never changes the CAs or the token', async () => {
    const store = statefulSecrets();
    await ensure();
    const before = [store.get(names.controlPlane)!.value, store.get(names.join)!.value];
    await ensure();
    expect(sm.commandCalls(CreateSecretCommand)).toHaveLength(2);
    expect([store.get(names.controlPlane)!.value, store.get(names.join)!.value]).toEqual(before);
  });

  it('uses the same ClientRequestToken on a retry after a crash', async () => {
    statefulSecrets();
    await ensure();
    const tokens1 = sm.commandCalls(CreateSecretCommand).map((c) => c.args[0].input.ClientRequestToken).sort();
    sm.reset();
    statefulSecrets();
    await ensure();
    expect(sm.commandCalls(CreateSecretCommand).map((c) => c.args[0].input.ClientRequestToken).sort()).toEqual(tokens1);
    expect(tokens1.every((t) => t!.length >= 32)).toBe(true);
  });

  it('keeps the winner\'s CAs when it loses a create race, and derives the CA hash from them', async () => {
    // Prepare: another run's control-plane secret, which our first describe does not see yet
    const winner = statefulSecrets();
    await ensure();
    const winnersValue = winner.get(names.controlPlane)!.value!;
    sm.reset();
    const store = statefulSecrets({ hiddenOnce: names.controlPlane });
    store.set(names.controlPlane, { arn: `arn:aws:secretsmanager:eu-west-1:1:secret:${names.controlPlane}-Winner`, value: winnersValue, tags: {} });
    // Act
    const refs = await ensure();
    // Assess: our create lost (ResourceExistsException), the winner's CAs are the cluster's
    expect(sm.commandCalls(CreateSecretCommand).map((c) => c.args[0].input.Name).sort()).toEqual([names.controlPlane, names.join]);
    expect(refs.controlPlane).toMatch(/-Winner$/);
    expect(store.get(names.controlPlane)!.value).toBe(winnersValue);
    const join = parseJoinSecret(store.get(names.join)!.value, names.join);
    expect(join.caCertHash).toBe(caCertHash(parseControlPlaneSecret(winnersValue, names.controlPlane).pki['ca.crt']!));
  });

  it('names the secret when its value is not one Capstan wrote', () => {
    expect(() => parseJoinSecret('{"token":"a"}', 'capstan/x/join')).toThrow(/capstan\/x\/join: not a Capstan join secret/);
    expect(() => parseControlPlaneSecret('{}', 'capstan/x/control-plane')).toThrow(/capstan\/x\/control-plane/);
  });
});

describe('generateBootstrapToken', () => {
  it('makes kubeadm tokens [a-z0-9]{6}.[a-z0-9]{16}, different each time', () => {
    const tokens = new Set(Array.from({ length: 50 }, () => generateBootstrapToken()));
    expect(tokens.size).toBe(50);
    for (const t of tokens) expect(t).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  });
});
