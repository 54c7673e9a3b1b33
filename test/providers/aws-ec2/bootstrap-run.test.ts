/**
 * The EC2 bootstrap, run (issue 12): the user data of a 3 + 2 cluster is checked with `cloud-init schema` and
 * `shellcheck`, then each machine's runcmd runs for real under bash in a scratch root — a private mount namespace whose
 * /etc, /var/log and /usr/local/bin are overlays and /run a tmpfs, so nothing of the host changes — with stand-in
 * `aws`, `kubeadm`, `kubectl`, `curl` and `systemctl` that record their arguments. The stand-in `aws` answers only the
 * secrets the machine's role may read, as decided by a real IAM evaluator over the synthesised member stack; every
 * kubeadm configuration it ends with is checked against kubeadm's documented types for its version.
 *
 * Needs root (mount namespaces, overlayfs), `unshare`, `cloud-init` and `shellcheck` (.ci/run installs the last two).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { renderUserData, shellQuote, type BootstrapKind } from '../../../providers/aws-ec2/bootstrap.js';
import { BOOTSTRAP_TOKEN_TTL_MS, clusterSecretNames, generateBootstrapToken, type ControlPlaneSecret, type JoinSecret } from '../../../providers/aws-ec2/cluster-secrets.js';
import { SECRET_AUDIENCES, SECRET_AUDIENCE_TAG, SECRET_VPC_TAG } from '../../../providers/aws-ec2/network.js';
import { caCertHash, generateClusterPki, pkiFiles } from '../../../providers/aws-ec2/pki.js';
import { Evaluator, iamRequestsFor, type World } from '../../infra/iam/authorize.js';
import { DEPLOYMENT, synthesizeDeployment, type Deployment } from '../../infra/iam/deployment.js';
import { kubeadmTypeProblems } from './kubeadm-types.js';

const REGION = DEPLOYMENT.region;
const ACCOUNT = DEPLOYMENT.memberAccount;
const VPC = 'vpc-0123456789abcdef0';
const cluster = { name: 'demo', uid: 'uid-run' };
const names = clusterSecretNames(cluster);
const arn = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;
const secrets = { join: arn(names.join), controlPlane: arn(names.controlPlane) };

/** The stand-ins: each records its argv (one JSON array a line) in $STUB_OUT/calls.jsonl. */
const STUBS: Record<string, string> = {
  aws: `
# aws secretsmanager get-secret-value --region R --secret-id ID --query SecretString --output text
id=""; prev=""
for a in "$@"; do [ "$prev" = --secret-id ] && id="$a"; prev="$a"; done
f="$STUB_SECRETS/$(printf '%s' "$id" | sha256sum | cut -c1-32)"
if [ "$1 $2" != "secretsmanager get-secret-value" ] || [ ! -f "$f" ]; then
  echo "An error occurred (AccessDeniedException) when calling the $2 operation" >&2; exit 254
fi
cat "$f"`,
  kubeadm: `
cfg=""; prev=""
for a in "$@"; do [ "$prev" = --config ] && cfg="$a"; prev="$a"; done
cp "$cfg" "$STUB_OUT/kubeadm-$1.yaml"
(cd /etc/kubernetes/pki 2>/dev/null && find . -type f | sort) > "$STUB_OUT/pki-at-$1.txt" || true
mkdir -p /etc/kubernetes
[ "$1" = init ] && echo 'kind: Config' > /etc/kubernetes/admin.conf
echo 'kind: Config' > /etc/kubernetes/kubelet.conf`,
  kubectl: `
case " $* " in *" get node "*) printf 'True' ;; esac`,
  curl: `
case "$*" in
  *latest/api/token*) printf 'imds-token' ;;
  *placement/availability-zone*) printf 'eu-west-1a' ;;
  *meta-data/instance-id*) printf 'i-0123456789abcdef0' ;;
  *) printf '%s\\n' "$@" > "$STUB_OUT/callback.txt" ;;
esac`,
  systemctl: ``,
};

interface Machine {
  readonly name: string;
  readonly kind: BootstrapKind;
  readonly role: 'control-plane' | 'worker';
}
const MACHINES: Machine[] = [
  { name: 'demo-cp-0', kind: 'init', role: 'control-plane' },
  { name: 'demo-cp-1', kind: 'join-control-plane', role: 'control-plane' },
  { name: 'demo-cp-2', kind: 'join-control-plane', role: 'control-plane' },
  { name: 'demo-md-0-0', kind: 'join-worker', role: 'worker' },
  { name: 'demo-md-0-1', kind: 'join-worker', role: 'worker' },
];

interface Run {
  readonly machine: Machine;
  readonly status: number | null;
  readonly stderr: string;
  readonly calls: { tool: string; args: string[] }[];
  readonly kubeadm: Record<string, unknown>[];
  readonly pkiAtKubeadm: string[];
  readonly root: string;
  readonly callback: string;
}

let dir: string;
let deployment: Deployment;
let join: JoinSecret;
let cp: ControlPlaneSecret;
const runs = new Map<string, Run>();
const evaluator = new Evaluator();
const SECRET_TAGS: Record<string, Record<string, string>> = {};

/** The world as IAM sees it: the cluster's secrets with the tags Capstan gives them (cluster-secrets.ts). */
const world = (): World => ({
  tags: (id) => SECRET_TAGS[id],
  secretArn: (name) => (name.startsWith('arn:') ? name : arn(name)),
  roleOfInstanceProfile: (name) => deployment.instanceProfiles.get(name)!.arn,
  elbServiceLinkedRoleExists: () => true,
  markElbServiceLinkedRole: () => undefined,
});

/** The verdicts of the real evaluator on a machine reading `secretArn` with its instance-role credentials. */
async function mayRead(role: Machine['role'], secretArn: string): Promise<boolean> {
  const deployed = deployment.memberRole(role === 'control-plane' ? 'capstan-control-plane' : 'capstan-node');
  const call = { service: 'secretsmanager', action: 'GetSecretValue', input: { SecretId: secretArn }, region: REGION, account: ACCOUNT, sourceInstanceArn: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`, sourceVpc: VPC };
  const verdicts = await Promise.all((await iamRequestsFor(call, world())).map((r) => evaluator.evaluate(deployed, r)));
  return verdicts.every((v) => v.result === 'Allowed');
}

/** Runs one machine's user data in a scratch root and collects what it did. */
async function runMachine(machine: Machine, version: string): Promise<Run> {
  const userData = renderUserData({
    kind: machine.kind,
    clusterName: cluster.name,
    machineName: machine.name,
    version,
    controlPlaneEndpoint: 'demo-api-0123456789.elb.eu-west-1.amazonaws.com:6443',
    podCidr: '192.168.0.0/16',
    serviceCidr: '10.96.0.0/12',
    cni: 'https://example.invalid/calico.yaml',
    region: REGION,
    secrets,
    callbackUrl: `https://capstan.example/v1/callbacks/${machine.name}`,
    callbackToken: `cb-${machine.name}`,
  });
  const root = path.join(dir, version, machine.name);
  const out = path.join(root, 'out');
  const secretDir = path.join(root, 'secrets');
  for (const d of ['etc', 'var/log', 'usr/local/bin']) {
    mkdirSync(path.join(root, 'upper', d), { recursive: true });
    mkdirSync(path.join(root, 'work', d), { recursive: true });
  }
  mkdirSync(out, { recursive: true });
  mkdirSync(secretDir, { recursive: true });
  // The stand-in aws answers only what IAM allows this machine's role to read.
  const values: Record<string, string> = { [secrets.join]: JSON.stringify(join), [secrets.controlPlane]: JSON.stringify(cp) };
  for (const [id, value] of Object.entries(values)) {
    if (await mayRead(machine.role, id)) writeFileSync(path.join(secretDir, execFileSync('sha256sum', { input: id, encoding: 'utf8' }).slice(0, 32)), value);
  }
  // cloud-init's write_files, into the overlays' upper directories (what the machine sees at those paths).
  const doc = parse(userData) as { write_files: { path: string; content: string; permissions: string }[]; runcmd: (string | string[])[] };
  for (const f of doc.write_files) {
    const top = ['/etc/', '/var/log/', '/usr/local/bin/'].find((p) => f.path.startsWith(p));
    if (!top) throw new Error(`write_files: ${f.path} is outside the scratch root's overlays`);
    const target = path.join(root, 'upper', top.slice(1, -1), f.path.slice(top.length));
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, f.content);
    chmodSync(target, parseInt(f.permissions, 8));
  }
  const runcmd = doc.runcmd.map((c) => (Array.isArray(c) ? c.map(shellQuote).join(' ') : c)).join('\n');
  const mounts = ['etc', 'var/log', 'usr/local/bin']
    .map((d) => `mount -t overlay overlay -o lowerdir=/${d},upperdir=${root}/upper/${d},workdir=${root}/work/${d} /${d}`)
    .join('\n');
  const script = `set -e\n${mounts}\nmount -t tmpfs tmpfs /run\nexport PATH=${dir}/bin:$PATH\n${runcmd}\n`;
  const result = spawnSync('unshare', ['--mount', '--propagation', 'private', 'bash', '-c', script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, STUB_OUT: out, STUB_SECRETS: secretDir, HOME: root },
    timeout: 60_000,
  });
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : '');
  const kubeadmFile = path.join(out, `kubeadm-${machine.kind === 'init' ? 'init' : 'join'}.yaml`);
  return {
    machine,
    status: result.status,
    stderr: `${result.stderr}${read(path.join(root, 'upper/var/log/capstan-bootstrap.log'))}`,
    calls: read(path.join(out, 'calls.jsonl')).split('\n').filter(Boolean).map((l) => {
      const [tool, ...args] = JSON.parse(l) as string[];
      return { tool: path.basename(tool!), args };
    }),
    kubeadm: parseAllDocuments(read(kubeadmFile)).map((d) => d.toJS() as Record<string, unknown>),
    pkiAtKubeadm: read(path.join(out, `pki-at-${machine.kind === 'init' ? 'init' : 'join'}.txt`)).split('\n').filter(Boolean),
    root,
    callback: read(path.join(out, 'callback.txt')),
  };
}

const canRun = process.getuid?.() === 0 && spawnSync('unshare', ['--mount', 'true']).status === 0;

beforeAll(async () => {
  if (!canRun) throw new Error('bootstrap-run needs root and mount namespaces (unshare --mount); run the suite as root, as CI does');
  dir = mkdtempSync(path.join(tmpdir(), 'capstan-bootstrap-run-'));
  mkdirSync(path.join(dir, 'bin'));
  for (const [tool, body] of Object.entries(STUBS)) {
    const p = path.join(dir, 'bin', tool);
    writeFileSync(p, `#!/bin/bash\npython3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$0" "$@" >> "$STUB_OUT/calls.jsonl"\n${body}\nexit 0\n`);
    chmodSync(p, 0o755);
  }
  deployment = synthesizeDeployment();
  const pki = generateClusterPki();
  cp = { certificateKey: 'ab'.repeat(32), pki: pkiFiles(pki) };
  join = { token: generateBootstrapToken(), expires: new Date(Date.now() + BOOTSTRAP_TOKEN_TTL_MS).toISOString(), caCertHash: caCertHash(pki.ca.cert) };
  for (const kind of ['join', 'controlPlane'] as const) {
    SECRET_TAGS[secrets[kind]] = { 'capstan.dev/managed': 'true', 'capstan.dev/cluster': cluster.name, [SECRET_AUDIENCE_TAG]: SECRET_AUDIENCES[kind], [SECRET_VPC_TAG]: VPC };
  }
  for (const version of ['v1.31.4', 'v1.30.8']) {
    for (const m of MACHINES) runs.set(`${version} ${m.name}`, await runMachine(m, version));
  }
}, 240_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the user data of a 3 + 2 cluster, checked by the tools that will read it', () => {
  const rendered = (m: Machine) =>
    renderUserData({ kind: m.kind, clusterName: 'demo', machineName: m.name, version: 'v1.31.4', controlPlaneEndpoint: 'api.example:6443', podCidr: '192.168.0.0/16', serviceCidr: '10.96.0.0/12', region: REGION, secrets, callbackUrl: 'https://c.example/cb', callbackToken: 't' });

  it.each(MACHINES.map((m) => [m.name, m] as const))('%s: cloud-init schema finds it valid', (_name, m) => {
    const file = path.join(dir, `${m.name}.cloud-config`);
    writeFileSync(file, rendered(m));
    const r = spawnSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toMatch(/Valid cloud-config/);
    expect(r.status).toBe(0);
  });

  it.each(MACHINES.map((m) => [m.name, m] as const))('%s: shellcheck finds nothing in the bootstrap script', (_name, m) => {
    const script = (parse(rendered(m)) as { write_files: { path: string; content: string }[] }).write_files.find((f) => f.path === '/usr/local/bin/capstan-bootstrap')!.content;
    const r = spawnSync('shellcheck', ['--shell=bash', '--severity=style', '-'], { input: script, encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });
});

describe.each(['v1.31.4', 'v1.30.8'])('the bootstrap of a 3 + 2 cluster at %s, run in a scratch root', (version) => {
  const run = (m: Machine) => runs.get(`${version} ${m.name}`)!;

  it.each(MACHINES.map((m) => [m.name, m] as const))('%s runs to the end and calls Capstan back as its instance', (_name, m) => {
    const r = run(m);
    expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.callback).toContain(`Authorization: Bearer cb-${m.name}`);
    expect(r.callback).toContain(`{"machine":"${m.name}","providerId":"aws:///eu-west-1a/i-0123456789abcdef0"}`);
    expect(r.calls.filter((c) => c.tool === 'kubeadm').map((c) => c.args[0])).toEqual([m.kind === 'init' ? 'init' : 'join']);
  });

  it('reads only what its role may read, and writes no secret (defects 3 and 6)', () => {
    for (const m of MACHINES) {
      const read = run(m).calls.filter((c) => c.tool === 'aws').map((c) => `${c.args.slice(0, 2).join(' ')} ${c.args[c.args.indexOf('--secret-id') + 1]}`);
      expect([m.name, read]).toEqual([m.name, m.role === 'worker' ? [`secretsmanager get-secret-value ${secrets.join}`] : [`secretsmanager get-secret-value ${secrets.join}`, `secretsmanager get-secret-value ${secrets.controlPlane}`]]);
    }
  });

  it('gives control-plane machines the cluster CAs before kubeadm runs, keys root-only, and workers none', () => {
    for (const m of MACHINES) {
      const r = run(m);
      if (m.role === 'worker') {
        expect(r.pkiAtKubeadm).toEqual([]);
        continue;
      }
      expect(r.pkiAtKubeadm).toEqual(['./ca.crt', './ca.key', './etcd/ca.crt', './etcd/ca.key', './front-proxy-ca.crt', './front-proxy-ca.key', './sa.key', './sa.pub']);
      const pki = path.join(r.root, 'upper/etc/kubernetes/pki');
      expect(readFileSync(path.join(pki, 'ca.crt'), 'utf8')).toBe(cp.pki['ca.crt']);
      expect(statSync(path.join(pki, 'ca.key')).mode & 0o777).toBe(0o600);
      expect(statSync(path.join(pki, 'etcd/ca.key')).mode & 0o777).toBe(0o600);
      expect(statSync(path.join(pki, 'ca.crt')).mode & 0o777).toBe(0o644);
    }
  });

  it('ends with kubeadm configurations that kubeadm\'s types for this version accept, secrets filled in', () => {
    for (const m of MACHINES) {
      const docs = run(m).kubeadm;
      expect([m.name, kubeadmTypeProblems(docs, version)]).toEqual([m.name, []]);
      const text = JSON.stringify(docs);
      expect(text).not.toMatch(/__CAPSTAN_/);
      const [first] = docs as any[];
      if (m.kind === 'init') {
        expect(first.bootstrapTokens).toEqual([expect.objectContaining({ token: join.token, ttl: '4h0m0s' })]);
      } else {
        expect(first.discovery.bootstrapToken).toEqual({ apiServerEndpoint: 'demo-api-0123456789.elb.eu-west-1.amazonaws.com:6443', token: join.token, caCertHashes: [join.caCertHash] });
      }
      // defect 4: a joining control plane stays a control-plane join, with its certificate key
      if (m.kind === 'join-control-plane') expect(first.controlPlane).toEqual({ certificateKey: cp.certificateKey });
      if (m.kind === 'join-worker') expect(first.controlPlane).toBeUndefined();
    }
  });

  it('has the first control-plane machine apply the pod network with the admin kubeconfig, and no other machine', () => {
    const applies = MACHINES.map((m) => run(m).calls.filter((c) => c.tool === 'kubectl' && c.args.includes('apply')).length);
    expect(applies).toEqual([1, 0, 0, 0, 0]);
  });
});

describe('the stand-in aws enforces IAM: a worker that asks for the CAs is refused', () => {
  it('fails the bootstrap when a worker is given a control-plane kind', async () => {
    const r = await runMachine({ name: 'demo-md-0-9', kind: 'join-control-plane', role: 'worker' }, 'v1.31.4');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/AccessDeniedException/);
    expect(r.calls.filter((c) => c.tool === 'kubeadm')).toEqual([]);
  });
});
