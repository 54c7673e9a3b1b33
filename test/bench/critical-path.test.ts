/**
 * The bound of figure 1 (bench/lib/critical-path.ts) against hand-computed cases: a wave lasts as long as its
 * slowest boot plus its slowest retirement, the control plane goes one machine at a time, and pools do not wait for
 * each other.
 */
import { describe, expect, it } from '@jest/globals';
import type { Machine } from '../../functions/domain/machine.js';
import { criticalPath, poolChainMs, rolloutTimes, type PoolTimes } from '../../bench/lib/critical-path.js';
import { localSpec } from '../providers/local-harness.js';

const pool = (name: string, waveSize: number, bootMs: number[], drainMs: number[]): PoolTimes => ({ pool: name, waveSize, bootMs, drainMs });

describe('poolChainMs', () => {
  it.each([
    // name, pool, expected ms, expected waves
    ['one at a time: the sum of every boot and retirement', pool('cp', 1, [10, 20, 30], [1, 2, 3]), 66, 3],
    // waves [1,5]/[3,1] → 5+3; [2,2]/[1,4] → 2+4; [9]/[2] → 9+2
    ['waves of two: each wave its slowest boot plus its slowest retirement', pool('md-0', 2, [1, 5, 2, 2, 9], [3, 1, 1, 4, 2]), 25, 3],
    // one wave of all five: max boot 9 + max retirement 4
    ['a wave as wide as the pool', pool('md-0', 5, [1, 5, 2, 2, 9], [3, 1, 1, 4, 2]), 13, 1],
    // a boot that failed and was replaced: 3 boots, 2 retirements → waves [4]/[1], [6]/[2], [8]/[]
    ['more boots than retirements', pool('md-0', 1, [4, 6, 8], [1, 2]), 21, 3],
    ['nothing replaced', pool('md-0', 3, [], []), 0, 0],
  ])('%s', (_name, times, ms, waves) => {
    expect(poolChainMs(times)).toEqual({ ms, waves });
  });
});

describe('criticalPath', () => {
  it('adds the control plane to the slowest pool only: pools do not wait for each other', () => {
    // Prepare: control plane 3 × (1000 + 500) = 4500; md-0 (maxSurge 2) [1000, 3000]/[500, 500] + [1000]/[500] = 5000;
    // md-1 (maxSurge 1) 1000 + 500 = 1500.
    const times = {
      controlPlane: pool('control-plane', 1, [1000, 1000, 1000], [500, 500, 500]),
      workers: [pool('md-0', 2, [1000, 3000, 1000], [500, 500, 500]), pool('md-1', 1, [1000], [500])],
    };

    // Act
    const path = criticalPath(times);

    // Assess
    expect(path).toEqual({ totalMs: 9500, controlPlaneMs: 4500, poolMs: { 'md-0': 5000, 'md-1': 1500 }, steps: 5 });
  });

  it('is steps × (boot + drain) when every machine draws the same times (the former median bound)', () => {
    const same = (n: number) => Array.from({ length: n }, () => 1);
    const times = { controlPlane: pool('control-plane', 1, same(5), same(5)), workers: [pool('md-0', 10, same(100), same(100))] };
    expect(criticalPath(times)).toMatchObject({ totalMs: 15 * 2, steps: 15 });
  });

  it('is the control plane alone when there is no worker pool', () => {
    expect(criticalPath({ controlPlane: pool('control-plane', 1, [7], [3]), workers: [] })).toEqual({ totalMs: 10, controlPlaneMs: 10, poolMs: {}, steps: 1 });
  });
});

describe('rolloutTimes', () => {
  const t = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s)).toISOString();
  const record = (name: string, pool: string, times: Partial<Machine>): Machine =>
    ({ name, pool, cluster: 'c', clusterUid: 'u', role: pool === 'control-plane' ? 'control-plane' : 'worker', ordinal: 0, version: 'v1', templateHash: 'h', phase: 'Ready', createdAt: t(0), recordVersion: 1, ...times }) as Machine;

  it('takes new machines in creation order and retired ones in retirement order, per pool, with the wave size of maxSurge', () => {
    // Prepare
    const spec = localSpec({
      workers: [{ ...localSpec().workers[0]!, replicas: 2, rollout: { strategy: 'RollingUpdate', maxSurge: 2, maxUnavailable: 0, deletionOrder: 'Oldest' } }],
    });
    const before = [{ name: 'cp-1' }, { name: 'md-1' }, { name: 'md-2' }];
    const records = [
      record('cp-1', 'control-plane', { phase: 'Deleted', drainStartedAt: t(10), deletedAt: t(13) }),
      record('cp-2', 'control-plane', { createdAt: t(0), readyAt: t(9) }),
      record('md-2', 'md-0', { phase: 'Deleted', drainStartedAt: t(30), deletedAt: t(31) }),
      record('md-1', 'md-0', { phase: 'Deleted', drainStartedAt: t(29), deletedAt: t(33) }),
      record('md-4', 'md-0', { createdAt: t(14), readyAt: t(20) }),
      record('md-3', 'md-0', { createdAt: t(13), readyAt: t(28) }),
      record('md-5', 'md-0', { createdAt: t(15) }), // never Ready: not a boot of this rollout
    ];

    // Act
    const times = rolloutTimes(spec, before, records);

    // Assess
    expect(times).toEqual({
      controlPlane: { pool: 'control-plane', bootMs: [9000], drainMs: [3000], waveSize: 1 },
      workers: [{ pool: 'md-0', bootMs: [15_000, 6000], drainMs: [4000, 1000], waveSize: 2 }],
    });
  });

  it('fails when a pool resolves maxUnavailable above 0 (not modelled)', () => {
    const spec = localSpec({ workers: [{ ...localSpec().workers[0]!, replicas: 4, rollout: { strategy: 'RollingUpdate', maxSurge: 1, maxUnavailable: 1, deletionOrder: 'Oldest' } }] });
    expect(() => rolloutTimes(spec, [], [])).toThrow(/pool md-0 resolves maxUnavailable to 1; only maxUnavailable 0 is modelled/);
  });
});
