import { parse, parseAllDocuments } from 'yaml';
import {
  INIT_TOKEN_TTL,
  PLACEHOLDERS,
  encodeUserData,
  kubeadmApiVersion,
  renderUserData,
  type BootstrapKind,
} from '../../../providers/aws-ec2/bootstrap.js';
import { generateBootstrapToken } from '../../../providers/aws-ec2/cluster-secrets.js';
import { CALLBACK_TOKEN, SECRETS, userDataInput } from './user-data-input.js';

const secrets = SECRETS;
const input = userDataInput;

interface CloudConfig {
  write_files: { path: string; content: string; permissions: string }[];
  runcmd: unknown[];
}

function parseUserData(text: string) {
  expect(text.startsWith('#cloud-config\n')).toBe(true);
  const doc = parse(text) as CloudConfig;
  const tpl = doc.write_files.find((f) => f.path === '/etc/capstan/kubeadm.yaml.tpl')!;
  const kubeadm = parseAllDocuments(tpl.content).map((d) => d.toJS() as Record<string, any>);
  return { doc, kubeadm, byKind: (kind: string) => kubeadm.find((d) => d.kind === kind)! };
}

describe('renderUserData', () => {
  // A 3 control-plane + 3 worker cluster: one init, two control-plane joins, three worker joins.
  const machines: [BootstrapKind, string][] = [
    ['init', 'demo-cp-0'],
    ['join-control-plane', 'demo-cp-1'],
    ['join-control-plane', 'demo-cp-2'],
    ['join-worker', 'demo-md-0-0'],
    ['join-worker', 'demo-md-0-1'],
    ['join-worker', 'demo-md-0-2'],
  ];

  it('configures kubeadm init for the first control-plane machine', () => {
    const { byKind } = parseUserData(renderUserData(input('init', 'demo-cp-0')));
    const cluster = byKind('ClusterConfiguration');
    expect(cluster).toMatchObject({
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kubernetesVersion: 'v1.31.4',
      controlPlaneEndpoint: 'demo-api-123.elb.eu-west-1.amazonaws.com:6443',
      networking: { podSubnet: '192.168.0.0/16', serviceSubnet: '10.96.0.0/12' },
      clusterName: 'demo',
    });
    expect(cluster.apiServer.certSANs).toContain('demo-api-123.elb.eu-west-1.amazonaws.com');
    const init = byKind('InitConfiguration');
    expect(init.bootstrapTokens[0].token).toBe(PLACEHOLDERS.token);
    expect(init.certificateKey).toBe(PLACEHOLDERS.certificateKey);
    expect(init.nodeRegistration.name).toBe('demo-cp-0');
  });

  it('keeps a joining control plane a control-plane join and skips the download of the 2-hour kubeadm-certs Secret (issue 12, defect 4)', () => {
    const { byKind, doc } = parseUserData(renderUserData(input('join-control-plane', 'demo-cp-1')));
    const join = byKind('JoinConfiguration');
    expect(join.controlPlane).toEqual({ certificateKey: PLACEHOLDERS.certificateKey });
    expect(join.skipPhases).toEqual(['control-plane-prepare/download-certs']);
    const script = doc.write_files.find((f) => f.path === '/usr/local/bin/capstan-bootstrap')!.content;
    expect(script).not.toContain('certificateKey:/d'); // the old sed emptied controlPlane: kubeadm joined as a worker
  });

  it.each(machines.filter(([k]) => k !== 'init'))('configures %s for %s', (kind, name) => {
    const { kubeadm, byKind } = parseUserData(renderUserData(input(kind, name)));
    expect(kubeadm.map((d) => d.kind)).toEqual(['JoinConfiguration']);
    const join = byKind('JoinConfiguration');
    expect(join.discovery.bootstrapToken).toEqual({
      apiServerEndpoint: 'demo-api-123.elb.eu-west-1.amazonaws.com:6443',
      token: PLACEHOLDERS.token,
      caCertHashes: [PLACEHOLDERS.caCertHash],
    });
    expect(join.nodeRegistration.name).toBe(name);
    expect(join.controlPlane?.certificateKey).toBe(kind === 'join-control-plane' ? PLACEHOLDERS.certificateKey : undefined);
  });

  it.each(machines)('puts no secret value in the user data of %s %s except the callback token', (kind, name) => {
    const token = generateBootstrapToken();
    const text = renderUserData(input(kind, name));
    expect(text).not.toContain(token);
    expect(text).not.toMatch(/[a-z0-9]{6}\.[a-z0-9]{16}/);
    expect(text).not.toMatch(/sha256:[0-9a-f]{64}/);
    const { doc } = parseUserData(text);
    const holders = doc.write_files.filter((f) => f.content.includes(CALLBACK_TOKEN)).map((f) => [f.path, f.permissions]);
    expect(holders).toEqual([['/etc/capstan/callback.env', '0600']]);
    const script = doc.write_files.find((f) => f.path === '/usr/local/bin/capstan-bootstrap')!.content;
    expect(script).toContain(secrets.join);
    expect(script).toContain('Authorization: Bearer $CALLBACK_TOKEN');
  });

  it('merges imported kubeadm settings under Capstan-owned fields', () => {
    const text = renderUserData(
      input('init', 'demo-cp-0', {
        kubeadm: {
          clusterConfiguration: { kubernetesVersion: 'v1.0.0', apiServer: { extraArgs: { 'audit-log-maxage': '30' }, certSANs: ['api.example.com'] }, networking: { dnsDomain: 'corp.local' } },
          initConfiguration: { nodeRegistration: { kubeletExtraArgs: { 'max-pods': '50' } } },
          preKubeadmCommands: ['echo pre'],
          postKubeadmCommands: ['echo post'],
          files: [{ path: '/etc/extra.conf', content: 'x' }],
        },
      }),
    );
    const { doc, byKind } = parseUserData(text);
    const cluster = byKind('ClusterConfiguration');
    expect(cluster.kubernetesVersion).toBe('v1.31.4');
    expect(cluster.networking).toEqual({ dnsDomain: 'corp.local', podSubnet: '192.168.0.0/16', serviceSubnet: '10.96.0.0/12' });
    expect(cluster.apiServer.extraArgs).toEqual([{ name: 'audit-log-maxage', value: '30' }]);
    expect(cluster.apiServer.certSANs).toEqual(['api.example.com', 'demo-api-123.elb.eu-west-1.amazonaws.com']);
    expect(byKind('InitConfiguration').nodeRegistration).toEqual({ name: 'demo-cp-0', kubeletExtraArgs: [{ name: 'max-pods', value: '50' }] });
    expect(doc.runcmd).toEqual(['echo pre', ['/usr/local/bin/capstan-bootstrap', 'kubeadm'], 'echo post', ['/usr/local/bin/capstan-bootstrap', 'ready']]);
    expect(doc.write_files[0]!.path).toBe('/etc/extra.conf');
  });

  it('writes node labels as kubelet arguments in the format of the kubeadm API version', () => {
    const older = parseUserData(renderUserData(input('join-worker', 'demo-md-0-0', { version: 'v1.30.2', labels: { tier: 'web', zone: 'a' } })));
    expect(older.byKind('JoinConfiguration')).toMatchObject({ apiVersion: 'kubeadm.k8s.io/v1beta3', nodeRegistration: { kubeletExtraArgs: { 'node-labels': 'tier=web,zone=a' } } });
  });

  it.each([
    ['v1.30.2', { 'cloud-provider': 'external', 'node-labels': 'tier=web' }],
    ['v1.31.4', [{ name: 'cloud-provider', value: 'external' }, { name: 'node-labels', value: 'tier=web' }]],
  ])('keeps imported kubelet flags beside the node labels at %s, Capstan winning by flag name', (version, wanted) => {
    // A v1beta4 list used to replace the imported one whole: `cloud-provider: external` was lost once a pool had labels.
    const kubeadm = { joinConfiguration: { nodeRegistration: { kubeletExtraArgs: { 'cloud-provider': 'external', 'node-labels': 'imported=1' } } } };
    const { byKind } = parseUserData(renderUserData(input('join-worker', 'demo-md-0-0', { version, kubeadm, labels: { tier: 'web' } })));
    expect(byKind('JoinConfiguration').nodeRegistration.kubeletExtraArgs).toEqual(wanted);
  });
});

describe('kubeadmApiVersion', () => {
  it.each([
    ['v1.29.9', 'kubeadm.k8s.io/v1beta3'],
    ['v1.30.0', 'kubeadm.k8s.io/v1beta3'],
    ['v1.31.0', 'kubeadm.k8s.io/v1beta4'],
    ['v1.34.1', 'kubeadm.k8s.io/v1beta4'],
  ])('maps %s to %s', (version, expected) => expect(kubeadmApiVersion(version)).toBe(expected));
});

describe('encodeUserData', () => {
  it('base64-encodes the document', () => expect(Buffer.from(encodeUserData('#cloud-config\n'), 'base64').toString()).toBe('#cloud-config\n'));
  it('fails when the document exceeds 16 KiB', () => expect(() => encodeUserData('x'.repeat(16385))).toThrow(/16384/));
});

describe('renderUserData: the pod network', () => {
  const CALICO = 'https://raw.githubusercontent.com/projectcalico/calico/v3.29.1/manifests/calico.yaml';
  const script = (kind: BootstrapKind, cni?: string) =>
    parseUserData(renderUserData(input(kind, 'demo-cp-0', cni ? { cni } : {}))).doc.write_files.find((f) => f.path === '/usr/local/bin/capstan-bootstrap')!.content;

  it('has the first control-plane machine apply the CNI manifest after kubeadm init', () => {
    const text = script('init', CALICO);
    expect(text).toContain(`CNI='${CALICO}'`);
    expect(text).toMatch(/kubectl --kubeconfig \/etc\/kubernetes\/admin.conf apply -f "\$CNI"/);
    expect(text.indexOf('kubeadm init')).toBeLessThan(text.indexOf('apply -f "$CNI"'));
  });

  it('installs nothing when the user brings their own (cni: none, or not given)', () => {
    expect(script('init', 'none')).toContain("CNI='none'");
    expect(script('init')).toContain("CNI='none'");
  });
});
