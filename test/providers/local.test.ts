/**
 * The local provider: the shared contract suite (P1–P9), then what only the local provider promises — machines are
 * real detached processes named after their cluster and machine, keep their token off the command line, die with
 * their directory, outlive their parent, and misbehave on request.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CreateMachineRequest } from '../../functions/domain/provider.js';
import { killMachineProcess, MACHINE_AGENT_PATH, startOrphan } from '../../providers/local/local-provider.js';
import { isAgentAlive, readMachineFile, waitForExit } from '../../providers/local/machine-dir.js';
import { describeProviderContract } from './contract.js';
import { makeLocalHarness, type LocalHarness } from './local-harness.js';

describeProviderContract('local', () => makeLocalHarness(), { faultKinds: ['throttled', 'unavailable', 'capacity'], etcd: true });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cmdline(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!accept(value) && Date.now() < deadline) {
    await sleep(20);
    value = await probe();
  }
  return value;
}

describe('LocalProvider', () => {
  let h: LocalHarness;
  let counter = 0;

  async function makeHarness(options: Parameters<typeof makeLocalHarness>[0] = {}): Promise<LocalHarness> {
    await h?.cleanup();
    h = await makeLocalHarness(options);
    return h;
  }

  const request = (name: string, overrides: Partial<CreateMachineRequest> = {}): CreateMachineRequest => ({
    cluster: h.cluster,
    name,
    role: 'worker',
    pool: 'md-0',
    version: 'v1.30.2',
    template: { instanceType: 'm6i.large' },
    failureDomain: 'local-a',
    bootstrap: h.callbackServer.bootstrapFor(name),
    spec: h.spec,
    ...overrides,
  });
  const next = () => `demo-md-0-${++counter}`;
  const machineDir = (name: string) => path.join(h.home, 'machines', h.cluster.uid, name);
  const pidOf = (providerId: string) => Number(providerId.replace('local:///', ''));

  beforeEach(async () => {
    h = await makeLocalHarness();
  });
  afterEach(async () => {
    await h.cleanup(); // fails the test if any agent survives
  });

  describe('createMachine', () => {
    it('runs each machine as a process whose command line names its cluster and machine', async () => {
      const name = next();
      const machine = await h.provider.createMachine(request(name));
      const pid = pidOf(machine.providerId);
      expect(cmdline(pid)).toContain(`capstan-machine cluster=demo machine=${name} `);
      expect(machine.address).toMatch(/^127\.0\.0\.1:\d+$/);
    });

    it('keeps the callback token off the command line and in a 0600 file that is deleted after the callback', async () => {
      const name = next();
      const { callbackToken } = h.callbackServer.bootstrapFor(name);
      const machine = await h.provider.createMachine(request(name));
      const pid = pidOf(machine.providerId);

      const mode = (await fs.stat(path.join(machineDir(name), 'bootstrap.json'))).mode & 0o777;
      const onCommandLine = cmdline(pid).includes(callbackToken);
      const inIdentity = (await fs.readFile(path.join(machineDir(name), 'machine.json'), 'utf8')).includes(callbackToken);
      await h.callbackServer.waitForReady(name);
      const tokenFileGone = await eventually(
        () => fs.access(path.join(machineDir(name), 'bootstrap.json')).then(() => false, () => true),
        (gone) => gone,
      );

      expect({ mode, onCommandLine, inIdentity, tokenFileGone }).toEqual({ mode: 0o600, onCommandLine: false, inIdentity: false, tokenFileGone: true });
    });

    it('records the identity in machine.json', async () => {
      const name = next();
      const machine = await h.provider.createMachine(request(name, { role: 'control-plane', pool: 'control-plane', failureDomain: 'local-b' }));
      expect(await readMachineFile(machineDir(name))).toMatchObject({
        cluster: 'demo',
        clusterUid: h.cluster.uid,
        name,
        pool: 'control-plane',
        role: 'control-plane',
        version: 'v1.30.2',
        failureDomain: 'local-b',
        instanceType: 'm6i.large',
        launchedAt: machine.launchedAt,
        pid: pidOf(machine.providerId),
      });
    });

    it('reports a machine whose process died as terminated instead of starting another', async () => {
      const name = next();
      const first = await h.provider.createMachine(request(name));
      await killMachineProcess(h.home, h.cluster.uid, name);
      const again = await h.provider.createMachine(request(name));
      expect(again).toMatchObject({ providerId: first.providerId, state: 'terminated' });
    });

    it.each([
      ['machine name', { name: '../escape' }],
      ['cluster uid', { cluster: { name: 'demo', uid: 'a/b', scope: { provider: 'local', account: 'local', region: 'local' } } }],
    ] as const)('fails when the %s could escape CAPSTAN_HOME', async (_field, overrides) => {
      await expect(h.provider.createMachine(request('ok', overrides as Partial<CreateMachineRequest>))).rejects.toHaveProperty('name', 'ProviderRejectedError');
    });

    it('fails when the scope is not local', async () => {
      await expect(h.provider.listMachines({ provider: 'aws', account: '123456789012', region: 'us-east-1' })).rejects.toHaveProperty('name', 'ProviderRejectedError');
    });
  });

  describe('machine agent', () => {
    it('exits within a second when its directory is removed', async () => {
      const name = next();
      const pid = pidOf((await h.provider.createMachine(request(name))).providerId);
      const started = performance.now();
      await fs.rm(machineDir(name), { recursive: true, force: true });
      expect(await waitForExit(pid, name, 2000)).toBe(true);
      expect(performance.now() - started).toBeLessThan(1000);
    });

    it('exits when its directory is replaced by another of the same name', async () => {
      const name = next();
      const pid = pidOf((await h.provider.createMachine(request(name))).providerId);
      await fs.rename(machineDir(name), `${machineDir(name)}-moved`);
      await fs.mkdir(machineDir(name));
      await fs.rename(`${machineDir(name)}-moved/machine.json`, path.join(machineDir(name), 'machine.json'));
      expect(await waitForExit(pid, name, 2000)).toBe(true);
      await fs.rm(`${machineDir(name)}-moved`, { recursive: true, force: true });
    });

    it('exits on SIGTERM', async () => {
      const name = next();
      const pid = pidOf((await h.provider.createMachine(request(name))).providerId);
      process.kill(pid, 'SIGTERM');
      expect(await waitForExit(pid, name, 2000)).toBe(true);
    });

    it('survives the process that created it (machines outlive the control plane)', async () => {
      const name = next();
      const script = path.join(h.home, 'parent.mts');
      const providerUrl = new URL('../../providers/local/local-provider.ts', import.meta.url).href;
      await fs.writeFile(
        script,
        `import { startOrphan } from ${JSON.stringify(providerUrl)};\n` +
          `const m = await startOrphan({ home: ${JSON.stringify(h.home)}, cluster: 'demo', clusterUid: ${JSON.stringify(h.cluster.uid)}, name: ${JSON.stringify(name)} });\n` +
          `console.log(m.providerId);\n`,
      );
      const repo = fileURLToPath(new URL('../../', import.meta.url));
      const parent = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      parent.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const code = await new Promise<number | null>((resolve) => parent.on('exit', resolve));

      const pid = pidOf(out.trim());
      await sleep(200);
      expect({ code, alive: isAgentAlive(pid, name) }).toEqual({ code: 0, alive: true });
      expect(await h.provider.listMachines(h.scope)).toEqual([expect.objectContaining({ name, state: 'running' })]);
    }, 20_000);

    it('keeps calling back while the control plane answers 5xx, and stops after a 2xx', async () => {
      const name = next();
      h.callbackServer.respondWith = 503;
      await h.provider.createMachine(request(name));
      await eventually(async () => h.callbackServer.received.filter((r) => r.machine === name).length, (n) => n >= 2);
      h.callbackServer.respondWith = 204;
      await h.callbackServer.waitForReady(name);
      const attempts = h.callbackServer.received.filter((r) => r.machine === name).length;
      await sleep(400);
      expect(attempts).toBeGreaterThanOrEqual(3);
      expect(h.callbackServer.received.filter((r) => r.machine === name)).toHaveLength(attempts);
    });

    it('stops calling back after a 4xx (a token the control plane refuses)', async () => {
      const name = next();
      await h.provider.createMachine(request(name, { bootstrap: { callbackUrl: h.callbackServer.url, callbackToken: 'not-the-issued-token' } }));
      await eventually(async () => h.callbackServer.received.length, (n) => n >= 1);
      await sleep(500);
      expect(h.callbackServer.received).toEqual([{ machine: name, providerId: expect.stringMatching(/^local:\/\/\/\d+$/), authorized: false }]);
    });
  });

  describe('listMachines', () => {
    it('reports a killed machine as terminated and its node as NotReady', async () => {
      const name = next();
      await h.provider.createMachine(request(name));
      await h.callbackServer.waitForReady(name);
      await killMachineProcess(h.home, h.cluster.uid, name);
      expect(await h.provider.listMachines(h.scope)).toEqual([expect.objectContaining({ name, state: 'terminated' })]);
      expect(await h.provider.getNode(h.cluster, name)).toEqual({ ready: false, cordoned: false, pods: 0 });
    });

    it('lists an orphan started behind Capstan’s back with its identity', async () => {
      const orphan = await startOrphan({ home: h.home, cluster: 'demo', clusterUid: h.cluster.uid, name: 'demo-md-0-99', pool: 'md-0' });
      expect(await h.provider.listMachines(h.scope, { cluster: 'demo' })).toEqual([
        expect.objectContaining({ name: 'demo-md-0-99', cluster: 'demo', clusterUid: h.cluster.uid, pool: 'md-0', role: 'worker', providerId: orphan.providerId, state: 'running' }),
      ]);
    });
  });

  describe('deleteMachine', () => {
    it('stops the process and removes its directory', async () => {
      const name = next();
      const machine = await h.provider.createMachine(request(name));
      await h.provider.deleteMachine(h.scope, machine);
      expect(isAgentAlive(pidOf(machine.providerId), name)).toBe(false);
      await expect(fs.access(machineDir(name))).rejects.toHaveProperty('code', 'ENOENT');
    });

    it('leaves the same-named machine of another cluster incarnation alone', async () => {
      const name = next();
      const old = await startOrphan({ home: h.home, cluster: 'demo', clusterUid: 'uid-old', name });
      const current = await h.provider.createMachine(request(name));
      await h.provider.deleteMachine(h.scope, current);
      expect(await h.provider.listMachines(h.scope)).toEqual([expect.objectContaining({ name, clusterUid: 'uid-old', providerId: old.providerId, state: 'running' })]);
    });
  });

  describe('getNode', () => {
    it('is undefined until the node registers, then Ready with pods', async () => {
      await makeHarness({ bootMs: 400 });
      const name = next();
      await h.provider.createMachine(request(name));
      const early = await h.provider.getNode(h.cluster, name);
      await h.callbackServer.waitForReady(name);
      expect({ early, late: await h.provider.getNode(h.cluster, name) }).toEqual({ early: undefined, late: { ready: true, cordoned: false, pods: 5 } });
    });

    it('is undefined for a machine that does not exist', async () => {
      expect(await h.provider.getNode(h.cluster, 'demo-md-0-404')).toBeUndefined();
    });

    it('reports NotReady when the notReady fault is injected', async () => {
      const name = next();
      await h.provider.createMachine(request(name));
      await h.callbackServer.waitForReady(name);
      expect(await h.provider.injectMachineFault(h.cluster, name, { notReady: true })).toBe(true);
      expect(await h.provider.getNode(h.cluster, name)).toMatchObject({ ready: false });
    });
  });

  describe('listNodes', () => {
    it('judges every machine of the cluster as getNode does: Ready, NotReady, a dead machine NotReady, a never-booted one absent', async () => {
      // Prepare
      await makeHarness({ faults: { neverBoot: ['*-nb'] } });
      const [ready, sick, dead, never] = [next(), next(), next(), `${next()}-nb`];
      for (const name of [ready, sick, dead, never]) await h.provider.createMachine(request(name));
      for (const name of [ready, sick, dead]) await h.callbackServer.waitForReady(name);
      expect(await h.provider.injectMachineFault(h.cluster, sick, { notReady: true })).toBe(true);
      await killMachineProcess(h.home, h.cluster.uid, dead);

      // Act
      const nodes = await h.provider.listNodes(h.cluster);

      // Assess
      expect(Object.fromEntries(nodes)).toEqual({
        [ready]: { ready: true, cordoned: false },
        [sick]: { ready: false, cordoned: false },
        [dead]: { ready: false, cordoned: false },
      });
      for (const name of [ready, sick, dead, never]) {
        const node = await h.provider.getNode(h.cluster, name);
        expect({ name, node: node && { ready: node.ready, cordoned: node.cordoned } }).toEqual({ name, node: nodes.get(name) });
      }
    });

    it('is empty for a cluster without machines', async () => {
      expect((await h.provider.listNodes({ ...h.cluster, uid: 'uid-none' })).size).toBe(0);
    });

    it('is subject to the call faults like every provider call', async () => {
      await makeHarness({ faults: { errorRate: 1, operations: ['listNodes'] } });
      await expect(h.provider.listNodes(h.cluster)).rejects.toHaveProperty('name', 'ProviderUnavailableError');
      await expect(h.provider.getNode(h.cluster, 'demo-md-0-404')).resolves.toBeUndefined();
    });
  });

  describe('drain', () => {
    it('reports the pod a PodDisruptionBudget protects without waiting for the timeout, and force removes it', async () => {
      await makeHarness({ faults: { pdbBlocksDrain: ['demo-md-0-*'] } });
      const name = next();
      await h.provider.createMachine(request(name));
      await h.callbackServer.waitForReady(name);

      const started = performance.now();
      const blocked = await h.provider.drain(h.cluster, name, { timeoutSeconds: 30, force: false });
      const blockedMs = performance.now() - started;
      const forced = await h.provider.drain(h.cluster, name, { timeoutSeconds: 30, force: true });

      expect(blocked).toEqual({ done: false, blockedBy: [{ pod: 'web-0', reason: expect.stringContaining('PodDisruptionBudget') }] });
      expect(blockedMs).toBeLessThan(2000);
      expect(forced).toEqual({ done: true });
    });

    it('returns not done after timeoutSeconds when eviction is slow', async () => {
      await makeHarness({ drainMsPerPod: 1000 });
      const name = next();
      await h.provider.createMachine(request(name));
      await h.callbackServer.waitForReady(name);
      const started = performance.now();
      const result = await h.provider.drain(h.cluster, name, { timeoutSeconds: 0.3, force: false });
      const elapsed = performance.now() - started;
      expect(result).toEqual({ done: false });
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(1000);
    });

    it('reports done when the machine dies during the drain, and lists it as terminated', async () => {
      await makeHarness({ faults: { dieDuringDrain: true } });
      const name = next();
      await h.provider.createMachine(request(name));
      await h.callbackServer.waitForReady(name);
      expect(await h.provider.drain(h.cluster, name, { timeoutSeconds: 5, force: false })).toEqual({ done: true });
      expect(await h.provider.listMachines(h.scope)).toEqual([expect.objectContaining({ name, state: 'terminated' })]);
    });
  });

  describe('faults', () => {
    it('never boots a machine selected by neverBoot: no node, no callback', async () => {
      await makeHarness({ faults: { neverBoot: ['demo-md-0-*'] } });
      const name = next();
      const machine = await h.provider.createMachine(request(name));
      await sleep(400); // 4 × bootMs
      expect({ state: machine.state, node: await h.provider.getNode(h.cluster, name), callbacks: h.callbackServer.received }).toEqual({
        state: 'running',
        node: undefined,
        callbacks: [],
      });
    });

    it('replays the same throttling with the same seed', async () => {
      const { seededRandom } = await import('../../providers/local/faults.js');
      const outcomes = async (seed: number) => {
        const harness = await makeHarness({ faults: { throttleRate: 0.5 }, random: seededRandom(seed) });
        const out: string[] = [];
        for (let i = 0; i < 16; i++) out.push(await harness.provider.listMachines(harness.scope).then(() => 'ok', (e: Error) => e.name));
        return out;
      };
      const first = await outcomes(7);
      const second = await outcomes(7);
      expect(second).toEqual(first);
      expect(new Set(first)).toEqual(new Set(['ok', 'ProviderThrottledError']));
    });

    it('applies call faults only to the listed operations', async () => {
      await makeHarness({ faults: { errorRate: 1, operations: ['createMachine'] } });
      await expect(h.provider.listMachines(h.scope)).resolves.toEqual([]);
      await expect(h.provider.createMachine(request(next()))).rejects.toHaveProperty('name', 'ProviderUnavailableError');
    });

    it('names the failure domain in a capacity error', async () => {
      await makeHarness({ faults: { capacityErrorRate: 1 } });
      await expect(h.provider.createMachine(request(next(), { failureDomain: 'local-b' }))).rejects.toMatchObject({ name: 'ProviderCapacityError', failureDomain: 'local-b' });
    });

    it('delays every call by slowCallMs', async () => {
      await makeHarness({ faults: { slowCallMs: 150 } });
      const started = performance.now();
      await h.provider.listMachines(h.scope);
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    });
  });

  it('starts agents from the script next to the provider', async () => {
    await expect(fs.access(MACHINE_AGENT_PATH)).resolves.toBeUndefined();
  });
});
