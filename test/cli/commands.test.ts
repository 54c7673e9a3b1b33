/**
 * Every `capstan` command against the local control plane in-process, success and failure paths, with the exit
 * codes scripts rely on.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { EXIT } from '../../cli/main.js';
import { clusterYaml, startCliStack, type CliStack } from './helpers.js';

let s: CliStack;

async function until<T>(check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function json(argv: string[]): Promise<any> {
  const r = await s.cli([...argv, '-o', 'json']);
  if (r.code !== 0) throw new Error(`capstan ${argv.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  s = await startCliStack({ settings: { maxBootAttempts: 1 } });
  // Prepare: one converged cluster most tests read.
  const file = s.write('alpha.yaml', clusterYaml('alpha'));
  const applied = await s.cli(['apply', '-f', file]);
  if (applied.code !== 0) throw new Error(applied.stderr);
  const status = await s.cli(['rollout', 'status', 'alpha', '--timeout', '30']);
  if (status.code !== 0) throw new Error(status.stderr + status.stdout);
}, 60_000);

afterAll(async () => {
  await s?.destroy();
});

describe('apply', () => {
  it('creates a cluster from a file and reports it unchanged on a second apply', async () => {
    // Prepare
    const file = s.write('beta.yaml', clusterYaml('beta', { workers: 0 }));
    // Act
    const first = await s.cli(['apply', '-f', file]);
    const second = await s.cli(['apply', '-f', file]);
    // Assess
    expect(first).toMatchObject({ code: 0, stdout: expect.stringContaining('cluster/beta created') });
    expect(second).toMatchObject({ code: 0, stdout: expect.stringContaining('cluster/beta unchanged') });
  });

  it('prints the rollout plan with --dry-run and changes nothing', async () => {
    const file = s.write('alpha-next.yaml', clusterYaml('alpha', { version: 'v1.19.1' }));
    const r = await s.cli(['apply', '-f', file, '--dry-run']);
    expect(r.code).toBe(EXIT.Ok);
    expect(r.stdout).toContain('cluster/alpha configured (dry run)');
    expect(r.stdout).toMatch(/plan: \d+ steps \(2 replacement waves\), 2 machines replaced/);
    expect(r.stdout).toMatch(/step +1: \+alpha-cp-\d+/);
    expect((await json(['get', 'clusters', 'alpha'])).spec.version).toBe('v1.18.8');
  });

  it('reads several files from a directory and from stdin', async () => {
    const dir = join(s.dir, 'multi');
    s.write('multi/a.yaml', clusterYaml('gamma-1', { workers: 0 }));
    s.write('multi/b.json', JSON.stringify({ apiVersion: 'capstan.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'gamma-2' }, spec: { infrastructure: { provider: 'local' }, version: 'v1.18.8', controlPlane: { replicas: 1 }, paused: true } }));
    const fromDir = await s.cli(['apply', '-f', dir, '--dry-run']);
    const fromStdin = await s.cli(['apply', '-f', '-', '--dry-run'], { stdin: clusterYaml('gamma-3') });
    expect(fromDir.code).toBe(0);
    expect(fromDir.stdout).toMatch(/cluster\/gamma-1 created \(dry run\)[\s\S]*cluster\/gamma-2 created \(dry run\)/);
    expect(fromStdin).toMatchObject({ code: 0, stdout: expect.stringContaining('cluster/gamma-3 created (dry run)') });
  });

  it('accepts Cluster API documents', async () => {
    const capi = [
      'apiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\nmetadata:\n  name: capi-one\nspec:\n  infrastructureRef:\n    apiVersion: infrastructure.cluster.x-k8s.io/v1beta1\n    kind: DockerCluster\n    name: capi-one\n  controlPlaneRef:\n    apiVersion: controlplane.cluster.x-k8s.io/v1beta1\n    kind: KubeadmControlPlane\n    name: capi-one-cp',
      'apiVersion: infrastructure.cluster.x-k8s.io/v1beta1\nkind: DockerCluster\nmetadata:\n  name: capi-one',
      'apiVersion: controlplane.cluster.x-k8s.io/v1beta1\nkind: KubeadmControlPlane\nmetadata:\n  name: capi-one-cp\nspec:\n  replicas: 3\n  version: v1.30.2\n  machineTemplate:\n    infrastructureRef:\n      apiVersion: infrastructure.cluster.x-k8s.io/v1beta1\n      kind: DockerMachineTemplate\n      name: capi-one-cp\n  kubeadmConfigSpec: {}',
      'apiVersion: infrastructure.cluster.x-k8s.io/v1beta1\nkind: DockerMachineTemplate\nmetadata:\n  name: capi-one-cp\nspec:\n  template:\n    spec: {}',
    ].join('\n---\n');
    const r = await s.cli(['apply', '-f', s.write('capi.yaml', capi), '--dry-run', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).applied).toEqual([expect.objectContaining({ name: 'capi-one', action: 'created' })]);
  });

  it.each([
    { name: 'an even control plane', yaml: clusterYaml('bad-1', { cp: 2 }), path: 'documents[0].spec.controlPlane.replicas' },
    { name: 'an unknown provider', yaml: clusterYaml('bad-2').replace('provider: local', 'provider: gce'), path: 'documents[0].spec.infrastructure.provider' },
    { name: 'a version that skips a minor', yaml: clusterYaml('alpha', { version: 'v1.20.0' }), path: 'documents[0].spec.version' },
  ])('fails when the file has $name: prints the field path, exits 3', async ({ yaml, path }) => {
    const r = await s.cli(['apply', '-f', s.write('bad.yaml', yaml)]);
    expect(r.code).toBe(EXIT.Invalid);
    expect(r.stderr).toContain(path);
    expect(r.stderr).toMatch(/HTTP 4(00|22)/);
    expect(r.stdout).toBe('');
  });

  it('fails when one file of a directory is bad, naming that file', async () => {
    s.write('mixed/1-good.yaml', clusterYaml('delta-1'));
    s.write('mixed/2-bad.yaml', clusterYaml('delta-2', { cp: 4 }));
    const r = await s.cli(['apply', '-f', join(s.dir, 'mixed')]);
    expect(r.code).toBe(EXIT.Invalid);
    expect(r.stderr).toContain('documents[1].spec.controlPlane.replicas (mixed/2-bad.yaml)');
    expect((await s.cli(['get', 'clusters', 'delta-1'])).code).toBe(EXIT.NotFound);
  });

  it('fails when the YAML does not parse, with file and line, before calling the API', async () => {
    const r = await s.cli(['apply', '-f', s.write('broken.yaml', 'kind: Cluster\nmetadata:\n  name: x\n   bad: indent\n')]);
    expect(r.code).toBe(EXIT.Invalid);
    expect(r.stderr).toMatch(/broken\.yaml:\d+:\d+/);
  });

  it.each([
    { name: 'the file does not exist', argv: ['apply', '-f', 'nope.yaml'], text: 'does not exist' },
    { name: '-f is missing', argv: ['apply'], text: "required option '-f, --filename <path>'" },
    { name: 'the command is unknown', argv: ['frobnicate'], text: "unknown command 'frobnicate'" },
    { name: 'the output format is unknown', argv: ['get', 'clusters', '-o', 'xml'], text: 'xml' },
    { name: 'the resource is unknown', argv: ['get', 'pods'], text: 'unknown resource "pods"' },
  ])('fails with exit 2 when $name', async ({ argv, text }) => {
    const r = await s.cli(argv);
    expect(r.code).toBe(EXIT.Usage);
    expect(r.stderr).toContain(text);
  });
});

describe('get', () => {
  it('lists clusters as a table and as JSON or YAML', async () => {
    const table = await s.cli(['get', 'clusters']);
    const asJson = await json(['get', 'clusters']);
    const asYaml = await s.cli(['get', 'clusters', '-o', 'yaml']);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME +PHASE +VERSION +CONTROL PLANE +WORKERS/);
    expect(table.stdout).toMatch(/alpha +Ready +v1\.18\.8 +1\/1 +1\/1/);
    expect(asJson.items.map((c: any) => c.metadata.name)).toContain('alpha');
    expect(asYaml.stdout).toContain('- apiVersion: capstan.dev/v1alpha1');
  });

  it('lists machines and events of a cluster', async () => {
    const machines = await s.cli(['get', 'machines', 'alpha']);
    const events = await json(['get', 'events', 'alpha']);
    expect(machines.stdout).toMatch(/alpha-cp-\d+ +control-plane +Ready +v1\.18\.8 +local:\/\/\/\d+/);
    expect(machines.stdout).toMatch(/alpha-md-0-\d+ +md-0 +Ready/);
    expect(events.items[0]).toMatchObject({ seq: 1, type: 'ClusterCreated' });
    expect(events.items.map((e: any) => e.type)).toContain('RolloutCompleted');
  });

  it('colours only on a terminal', async () => {
    const piped = await s.cli(['get', 'clusters']);
    const tty = await s.cli(['get', 'clusters'], { tty: true });
    const noColor = await s.cli(['get', 'clusters', '--no-color'], { tty: true });
    expect(piped.stdout).not.toContain('\u001b[');
    expect(tty.stdout).toContain('\u001b[32mReady\u001b[0m');
    expect(noColor.stdout).not.toContain('\u001b[');
  });

  it.each([
    { argv: ['get', 'clusters', 'nope'] },
    { argv: ['get', 'machines', 'nope'] },
    { argv: ['get', 'events', 'nope'] },
    { argv: ['describe', 'cluster', 'nope'] },
    { argv: ['upgrade', 'nope', '--version', 'v1.19.1'] },
    { argv: ['delete', 'nope'] },
    { argv: ['rollout', 'status', 'nope'] },
  ])('fails with exit 4 for an unknown cluster: $argv', async ({ argv }) => {
    const r = await s.cli(argv);
    expect(r.code).toBe(EXIT.NotFound);
    expect(r.stderr).toContain('cluster "nope" not found (NotFound, HTTP 404)');
  });
});

describe('describe cluster', () => {
  it('prints a tree of control plane, pools and machines, then the conditions', async () => {
    const r = await s.cli(['describe', 'cluster', 'alpha']);
    const lines = r.stdout.split('\n');
    expect(r.code).toBe(0);
    expect(lines[1]).toMatch(/^Cluster\/alpha +Ready +v1\.18\.8 +2\/2/);
    expect(lines[2]).toMatch(/^├─ControlPlane +Ready +v1\.18\.8 +1\/1/);
    expect(lines[3]).toMatch(/^│ └─Machine\/alpha-cp-\d+ +Ready +v1\.18\.8 +1\/1 +\d+s/);
    expect(lines[4]).toMatch(/^└─Workers/);
    expect(lines[5]).toMatch(/^ {2}└─MachineDeployment\/md-0 +Ready/);
    expect(lines[6]).toMatch(/^ {4}└─Machine\/alpha-md-0-\d+ +Ready/);
    expect(r.stdout).toMatch(/Conditions:\n +TYPE +STATUS +REASON/);
    expect(r.stdout).toMatch(/RolloutProgressing +False +RolloutCompleted/);
  });
});

describe('diff', () => {
  it('shows the changed field and the plan; --exit-code exits 1 on differences and 0 without', async () => {
    const changed = s.write('alpha-diff.yaml', clusterYaml('alpha', { version: 'v1.19.1', workers: 2 }));
    const same = s.write('alpha-same.yaml', clusterYaml('alpha'));
    const r = await s.cli(['diff', '-f', changed, '--exit-code']);
    const unchanged = await s.cli(['diff', '-f', same, '--exit-code']);
    expect(r.code).toBe(EXIT.Error);
    expect(r.stdout).toContain('cluster/alpha would change');
    expect(r.stdout).toContain('~ spec.version: v1.18.8 → v1.19.1');
    expect(r.stdout).toContain('~ spec.workers[md-0].replicas: 1 → 2');
    expect(r.stdout).toMatch(/plan: \d+ steps \(\d+ replacement waves?\)/);
    expect(unchanged).toMatchObject({ code: 0, stdout: expect.stringContaining('cluster/alpha unchanged') });
  });

  it('fails when the file is invalid, with field paths', async () => {
    const r = await s.cli(['diff', '-f', s.write('alpha-bad.yaml', clusterYaml('alpha', { cp: 2 }))]);
    expect(r.code).toBe(EXIT.Invalid);
    expect(r.stderr).toContain('documents[0].spec.controlPlane.replicas');
  });
});

describe('writes', () => {
  it('fails with exit 5 when --resource-version is stale (412)', async () => {
    const r = await s.cli(['upgrade', 'alpha', '--version', 'v1.19.1', '--resource-version', '0']);
    expect(r.code).toBe(EXIT.Conflict);
    expect(r.stderr).toContain('PreconditionFailed, HTTP 412');
    expect(r.stderr).toContain('If-Match: resourceVersion 0 is stale');
    expect((await json(['get', 'clusters', 'alpha'])).spec.version).toBe('v1.18.8');
  });

  it('fails with exit 3 when scaling a pool that does not exist', async () => {
    const r = await s.cli(['scale', 'alpha', '--pool', 'md-9', '--replicas', '2']);
    expect(r.code).toBe(EXIT.Invalid);
    expect(r.stderr).toContain('pools: control-plane, md-0');
  });

  it('pauses and resumes through spec.paused; rollout status exits 7 on a paused rollout', async () => {
    s.write('eps.yaml', clusterYaml('eps', { workers: 0 }));
    expect((await s.cli(['apply', '-f', 'eps.yaml'])).code).toBe(0);
    expect((await s.cli(['rollout', 'status', 'eps', '--timeout', '30'])).code).toBe(0);
    const paused = await s.cli(['pause', 'eps']);
    await s.cli(['scale', 'eps', '--pool', 'md-0', '--replicas', '1']);
    const status = await s.cli(['rollout', 'status', 'eps', '--timeout', '30']);
    const resumed = await s.cli(['resume', 'eps']);
    const after = await s.cli(['rollout', 'status', 'eps', '--timeout', '30']);
    expect(paused).toMatchObject({ code: 0, stdout: expect.stringContaining('cluster/eps paused') });
    expect(status.code).toBe(EXIT.Blocked);
    expect(status.stderr).toContain('rollout of eps is paused');
    expect(resumed.code).toBe(0);
    expect(after.code).toBe(0);
    expect((await json(['get', 'machines', 'eps'])).items.filter((m: any) => m.pool === 'md-0')).toHaveLength(1);
  }, 40_000);

  it('fails with exit 5 when applying to a cluster that is being deleted (409), then deletes with --wait', async () => {
    const file = s.write('zeta.yaml', clusterYaml('zeta', { workers: 0 }));
    await s.cli(['apply', '-f', file]);
    await s.cli(['rollout', 'status', 'zeta', '--timeout', '30']);
    const del = await s.cli(['delete', 'zeta']);
    const conflict = await s.cli(['apply', '-f', file]);
    const wait = await s.cli(['delete', 'zeta', '--wait', '--timeout', '30']);
    expect(del).toMatchObject({ code: 0, stdout: 'cluster/zeta deleting\n' });
    expect(conflict.code).toBe(EXIT.Conflict);
    expect(conflict.stderr).toContain('is being deleted');
    expect(wait.code === EXIT.Ok || wait.code === EXIT.NotFound).toBe(true);
    expect((await s.cli(['get', 'clusters', 'zeta'])).code).toBe(EXIT.NotFound);
  }, 40_000);
});

describe('upgrade and rollout status', () => {
  it('upgrades by one field and follows the rollout to completion (exit 0)', async () => {
    const before = (await json(['get', 'machines', 'alpha'])).items.map((m: any) => m.name);
    const up = await s.cli(['upgrade', 'alpha', '--version', 'v1.19.1']);
    const status = await s.cli(['rollout', 'status', 'alpha', '--timeout', '60']);
    const after = (await json(['get', 'machines', 'alpha'])).items;
    expect(up).toMatchObject({ code: 0, stdout: expect.stringContaining('cluster/alpha upgrading to v1.19.1 (generation 2') });
    expect(status.code).toBe(EXIT.Ok);
    expect(status.stdout).toMatch(/control-plane +█+ +updated 1\/1 +ready 1\/1/);
    expect(status.stdout).toContain('rollout of alpha complete: generation 2 at v1.19.1');
    expect(after.every((m: any) => m.version === 'v1.19.1' && !before.includes(m.name))).toBe(true);
  }, 60_000);

  it('restarts a rollout: every machine is replaced at the same version', async () => {
    const before = (await json(['get', 'machines', 'alpha'])).items.map((m: any) => m.name);
    const restart = await s.cli(['rollout', 'restart', 'alpha']);
    const status = await s.cli(['rollout', 'status', 'alpha', '--timeout', '60']);
    const cluster = await json(['get', 'clusters', 'alpha']);
    const after = (await json(['get', 'machines', 'alpha'])).items.map((m: any) => m.name);
    expect(restart.code).toBe(0);
    expect(status.code).toBe(EXIT.Ok);
    expect(cluster.spec.controlPlane.rollout.after).toEqual(cluster.spec.workers[0].rollout.after);
    expect(after.filter((n: string) => before.includes(n))).toEqual([]);
  }, 60_000);

  it('exits 7 when the rollout is blocked by a machine that never boots', async () => {
    // Prepare: a converged cluster (booted with the default startup timeout: a local control-plane machine starts a
    // real etcd member, which can take longer than a second on a busy machine) whose new machines will never report
    // Ready and are given one second to.
    s.write('theta.yaml', clusterYaml('theta', { workers: 0 }));
    await s.cli(['apply', '-f', 'theta.yaml']);
    expect((await s.cli(['rollout', 'status', 'theta', '--timeout', '30'])).code).toBe(0);
    s.stack.provider.setFaults({ neverBoot: ['theta-*'] });
    try {
      // Act
      s.write('theta-next.yaml', clusterYaml('theta', { workers: 0, version: 'v1.19.1', extra: '  healthCheck:\n    nodeStartupTimeout: 1s\n' }));
      expect((await s.cli(['apply', '-f', 'theta-next.yaml'])).code).toBe(EXIT.Ok);
      const status = await s.cli(['rollout', 'status', 'theta', '--timeout', '45']);
      // Assess
      expect(status.code).toBe(EXIT.Blocked);
      expect(status.stderr).toMatch(/rollout of theta is blocked: MachineBootstrapFailed/);
      const machines = (await json(['get', 'machines', 'theta'])).items;
      expect(machines.filter((m: any) => m.version === 'v1.18.8' && m.phase === 'Ready')).toHaveLength(1);
    } finally {
      s.stack.provider.setFaults({});
    }
  }, 60_000);
});

describe('connection and credentials', () => {
  it('fails with exit 6 on a wrong token and exit 9 when nothing listens', async () => {
    const bad = await s.cli(['get', 'clusters'], { env: { CAPSTAN_TOKEN: 'wrong' } });
    const nothing = await s.cli(['get', 'clusters', '--endpoint', 'http://127.0.0.1:7399']);
    expect(bad.code).toBe(EXIT.Unauthorized);
    expect(bad.stderr).toContain('HTTP 401');
    expect(nothing.code).toBe(EXIT.Unreachable);
    expect(nothing.stderr).toContain('cannot reach http://127.0.0.1:7399');
  });
});

describe('bin/capstan.js', () => {
  it('runs the real command through tsx and passes the exit code through', async () => {
    const bin = join(process.cwd(), 'bin', 'capstan.js');
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, 'get', 'clusters', 'alpha', '-o', 'json'], {
        env: { PATH: process.env.PATH ?? '', HOME: s.dir, CAPSTAN_ENDPOINT: s.stack.url, CAPSTAN_HOME: s.stack.home },
        cwd: s.dir,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).metadata.name).toBe('alpha');
  }, 30_000);
});
