/**
 * Realistic boots and drains of the local provider: every machine draws its boot and eviction times from a seeded
 * distribution keyed by its name (deterministic whatever the launch order), with the median and spread asked; the
 * default stays fixed; the agents honour the drawn times and the PodDisruptionBudget of the `web` pods.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CreateMachineRequest } from '../../functions/domain/provider.js';
import { drawDurations, drawMachineTimes, resolveLocalSettings, spreadFactor, type DurationDistribution } from '../../providers/local/local-options.js';
import { makeLocalHarness, type LocalHarness } from './local-harness.js';

const names = (n: number) => Array.from({ length: n }, (_, i) => `demo-md-0-${i + 1}`);
const quantile = (values: readonly number[], q: number) => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))]!;
const boots = (d: DurationDistribution, of: readonly string[]) => of.map((name) => drawMachineTimes(d, 200, name).bootMs);

describe('drawMachineTimes', () => {
  it('launches every machine with the fixed times when no spread or PDB is asked for (the default)', () => {
    const settings = resolveLocalSettings({ home: '/tmp/unused', bootMs: 2000, drainMsPerPod: 200 });
    expect({ boot: settings.bootMs, drain: settings.drainMsPerPod }).toEqual({ boot: 2000, drain: 200 });
    expect(drawMachineTimes(settings.bootMs, settings.drainMsPerPod, 'demo-md-0-1')).toEqual({ bootMs: 2000, drainMsPerPod: 200 });
  });

  it('draws the same times for the same seed and machine name, whatever the order of the launches', () => {
    const d: DurationDistribution = { medianMs: 1000, spread: 0.5, seed: 7 };
    const forwards = boots(d, names(50));
    const backwards = boots(d, [...names(50)].reverse()).reverse();
    expect(backwards).toEqual(forwards);
    expect(new Set(forwards).size).toBeGreaterThan(40);
  });

  it('draws other times for another seed, another boot attempt and another stream', () => {
    const d: DurationDistribution = { medianMs: 1000, spread: 0.5, seed: 7 };
    const base = drawDurations(d, 'boot', 'demo-md-0-1', 1, 3);
    expect(drawDurations({ ...d, seed: 8 }, 'boot', 'demo-md-0-1', 1, 3)).not.toEqual(base);
    expect(drawDurations(d, 'boot', 'demo-md-0-1', 2, 3)).not.toEqual(base);
    expect(drawDurations(d, 'evict', 'demo-md-0-1', 1, 3)).not.toEqual(base);
  });

  it.each([0.25, 0.5, 1])('has the median asked and a log-normal spread of sigma %p', (sigma) => {
    const drawn = boots({ medianMs: 3000, spread: sigma, seed: 1 }, names(4000));
    const logs = drawn.map((b) => Math.log(b / 3000));
    const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
    const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / (logs.length - 1));
    expect(quantile(drawn, 0.5) / 3000).toBeGreaterThan(0.96);
    expect(quantile(drawn, 0.5) / 3000).toBeLessThan(1.04);
    expect(sd / sigma).toBeGreaterThan(0.95);
    expect(sd / sigma).toBeLessThan(1.05);
  });

  it("has EC2's shape with the 'ec2' profile: the median asked, p10 0.73×, p90 1.38×, a tail to p99 ≈ 2.5×, never past 10×", () => {
    const drawn = boots({ medianMs: 90_000, spread: 'ec2', seed: 1 }, names(8000)).map((b) => b / 90_000);
    expect(quantile(drawn, 0.5)).toBeCloseTo(1, 1);
    expect(quantile(drawn, 0.1)).toBeCloseTo(0.73, 1);
    expect(quantile(drawn, 0.9)).toBeCloseTo(1.38, 1);
    expect(quantile(drawn, 0.99)).toBeGreaterThan(2.1);
    expect(quantile(drawn, 0.99)).toBeLessThan(3);
    expect(Math.max(...drawn)).toBeLessThanOrEqual(10);
    expect([spreadFactor('ec2', 0), spreadFactor('ec2', 1.645), spreadFactor('ec2', 8)]).toEqual([1, Math.exp(0.25 * 1.645), 10]);
  });

  it('draws one eviction time per pod and a PDB restart per machine around their medians', () => {
    const times = drawMachineTimes(1000, { medianMs: 100, spread: 0.5, seed: 3, pdbRestartMs: 800 }, 'demo-md-0-1');
    expect(times).toEqual({ bootMs: 1000, drainMsPerPod: 100, evictMs: [expect.any(Number), expect.any(Number), expect.any(Number), expect.any(Number), expect.any(Number)], pdbRestartMs: expect.any(Number) });
    expect(drawMachineTimes(1000, { medianMs: 100, spread: 0, seed: 3, pdbRestartMs: 800 }, 'demo-md-0-1')).toEqual({ bootMs: 1000, drainMsPerPod: 100, pdbRestartMs: 800 });
  });
});

describe('resolveLocalSettings (timing)', () => {
  const keys = ['CAPSTAN_LOCAL_BOOT_SPREAD', 'CAPSTAN_LOCAL_DRAIN_SPREAD', 'CAPSTAN_LOCAL_PDB_RESTART_MS', 'CAPSTAN_LOCAL_SEED'] as const;
  const saved = keys.map((k) => [k, process.env[k]] as const);
  afterEach(() => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('reads the spread, the PDB restart and the seed from the environment', () => {
    Object.assign(process.env, { CAPSTAN_LOCAL_BOOT_SPREAD: 'ec2', CAPSTAN_LOCAL_DRAIN_SPREAD: '0.3', CAPSTAN_LOCAL_PDB_RESTART_MS: '500', CAPSTAN_LOCAL_SEED: '42' });
    const settings = resolveLocalSettings({ home: '/tmp/unused', bootMs: 3000, drainMsPerPod: 100 });
    expect({ boot: settings.bootMs, drain: settings.drainMsPerPod }).toEqual({
      boot: { medianMs: 3000, spread: 'ec2', seed: 42 },
      drain: { medianMs: 100, spread: 0.3, seed: 42, pdbRestartMs: 500 },
    });
  });

  it('prefers the options given in code', () => {
    process.env.CAPSTAN_LOCAL_BOOT_SPREAD = 'ec2';
    const settings = resolveLocalSettings({ home: '/tmp/unused', bootMs: 3000, bootSpread: 0.4, seed: 5 });
    expect(settings.bootMs).toEqual({ medianMs: 3000, spread: 0.4, seed: 5 });
  });

  it.each([
    ['CAPSTAN_LOCAL_BOOT_SPREAD', 'wide', /CAPSTAN_LOCAL_BOOT_SPREAD: must be a log-normal sigma \(a non-negative number\) or 'ec2', got "wide"/],
    ['CAPSTAN_LOCAL_DRAIN_SPREAD', 'ec2', /CAPSTAN_LOCAL_DRAIN_SPREAD: must be a log-normal sigma \(a non-negative number\), got "ec2"/],
    ['CAPSTAN_LOCAL_SEED', '1.5', /CAPSTAN_LOCAL_SEED: must be a non-negative integer, got "1.5"/],
  ])('fails when %s is %p', (key, value, message) => {
    process.env[key] = value;
    expect(() => resolveLocalSettings({ home: '/tmp/unused' })).toThrow(message);
  });
});

describe('LocalProvider with drawn times', () => {
  let h: LocalHarness | undefined;
  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
  });

  const request = (harness: LocalHarness, name: string): CreateMachineRequest => ({
    cluster: harness.cluster,
    name,
    role: 'worker',
    pool: 'md-0',
    version: 'v1.30.2',
    template: { instanceType: 'm6i.large' },
    bootstrap: harness.callbackServer.bootstrapFor(name),
    spec: harness.spec,
  });

  it('boots each machine in the time it drew', async () => {
    // Prepare: of the first names, the quickest and the slowest draw of this seed, at least 600 ms apart.
    const d: DurationDistribution = { medianMs: 500, spread: 1, seed: 11 };
    const drawn = names(20).map((name) => ({ name, bootMs: drawMachineTimes(d, 20, name).bootMs })).sort((a, b) => a.bootMs - b.bootMs);
    const [fast, slow] = [drawn[0]!, drawn[drawn.length - 1]!];
    expect(slow.bootMs - fast.bootMs).toBeGreaterThan(600);
    h = await makeLocalHarness({ bootMs: 500, bootSpread: 1, seed: 11 });
    const harness = h;

    // Act
    const started = performance.now();
    const readyAfter = async (name: string) => {
      await harness.provider.createMachine(request(harness, name));
      await harness.callbackServer.waitForReady(name);
      return performance.now() - started;
    };
    const [fastMs, slowMs] = await Promise.all([readyAfter(fast.name), readyAfter(slow.name)]);

    // Assess
    expect(fastMs).toBeGreaterThanOrEqual(fast.bootMs - 5);
    expect(slowMs).toBeGreaterThanOrEqual(slow.bootMs - 5);
    expect(slowMs).toBeGreaterThan(fastMs);
  });

  it('drains each machine in the sum of the eviction times it drew', async () => {
    // Prepare
    h = await makeLocalHarness({ drainMsPerPod: 100, drainSpread: 1, seed: 5 });
    const harness = h;
    const name = 'demo-md-0-1';
    const drawn = drawMachineTimes(100, { medianMs: 100, spread: 1, seed: 5, pdbRestartMs: 0 }, name).evictMs!;
    const totalMs = drawn.reduce((a, b) => a + b, 0);
    await harness.provider.createMachine(request(harness, name));
    await harness.callbackServer.waitForReady(name);

    // Act
    const started = performance.now();
    const result = await harness.provider.drain(harness.cluster, name, { timeoutSeconds: 30, force: false });
    const ms = performance.now() - started;

    // Assess: one pod after the other, each in its own drawn time (plus the provider's poll of at most 50 ms).
    expect(result).toEqual({ done: true });
    expect(new Set(drawn).size).toBeGreaterThan(1);
    expect(ms).toBeGreaterThanOrEqual(totalMs - 5);
    expect(ms).toBeLessThan(totalMs + 600);
  });

  it("makes a drain wait while a sibling's PDB-protected pod is not back yet", async () => {
    // Prepare: a PDB restart of 1 s, no spread; two machines drained at once.
    h = await makeLocalHarness({ drainMsPerPod: 20, pdbRestartMs: 1000 });
    const harness = h;
    const [a, b] = ['demo-md-0-1', 'demo-md-0-2'];
    for (const name of [a, b]) await harness.provider.createMachine(request(harness, name));
    await Promise.all([a, b].map((name) => harness.callbackServer.waitForReady(name)));

    // Act
    const started = performance.now();
    const drained = async (name: string) => {
      const result = await harness.provider.drain(harness.cluster, name, { timeoutSeconds: 10, force: false });
      return { result, ms: performance.now() - started };
    };
    const [first, second] = (await Promise.all([drained(a), drained(b)])).sort((x, y) => x.ms - y.ms);

    // Assess: one evicts its web pod at once (5 pods × 20 ms); the other evicts its own only once that one is back.
    expect([first!.result, second!.result]).toEqual([{ done: true }, { done: true }]);
    expect(first!.ms).toBeLessThan(700);
    expect(second!.ms).toBeGreaterThanOrEqual(900);
    const claims = (await fs.readdir(path.join(harness.home, 'machines', harness.cluster.uid))).filter((n) => n.startsWith('.pdb-web.'));
    expect(claims.sort()).toEqual(['.pdb-web.1', '.pdb-web.2']);
  });
});
