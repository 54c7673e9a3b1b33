/**
 * The peer models (bench/peers.ts) against hand-computed timelines. Times are in seconds × 1000 at time scale 1
 * (the peers' real constants), so each expectation can be followed on the documented algorithm.
 */
import { describe, expect, it } from '@jest/globals';
import type { PoolTimes, RolloutTimes } from '../../bench/lib/critical-path.js';
import {
  capiRetireMs,
  clusterApiMs,
  EC2_REFERENCE_BOOT_MS,
  eksManagedNodeGroupsMs,
  eksNodeGroupMs,
  kopsInstanceGroupMs,
  kopsRollingUpdateMs,
  kopsValidatedAtMs,
  kubeadmControlPlaneMs,
  machineDeploymentMs,
  peerFigures,
  peerTimeScale,
} from '../../bench/peers.js';

const s = (seconds: number) => seconds * 1000;
const pool = (name: string, waveSize: number, boot: number[], drain: number[]): PoolTimes => ({ pool: name, waveSize, bootMs: boot.map(s), drainMs: drain.map(s) });

describe('kOps rolling-update', () => {
  it.each([
    // start, ready at, validated at: attempts at start, then every 30 s after a failure, then 10 s to the 2nd success
    ['valid from the start', 15, 0, 25],
    ['valid before the second attempt', 15, 40, 55],
    ['valid exactly at an attempt', 15, 45, 55],
    ['valid after two failed attempts', 40, 85, 110],
  ])('validates twice in a row: %s', (_name, start, readyAt, validatedAt) => {
    expect(kopsValidatedAtMs(s(start), s(readyAt))).toBe(s(validatedAt));
  });

  it('scales its fixed waits by the time scale', () => {
    expect(kopsValidatedAtMs(0, s(1), 0.1)).toBe(s(3 + 1)); // tick 3 s, success wait 1 s
  });

  it('replaces a control-plane instance: drain, post-drain 5 s, terminate, interval 15 s, validate until the replacement is Ready', () => {
    // drain 20 → terminated at 25 → interval until 40; replacement Ready at 25 + 60 = 85; attempts 40 ✗ 70 ✗ 100 ✓ 110 ✓
    expect(kopsInstanceGroupMs(pool('control-plane', 1, [60], [20]), 0, 15_000)).toBe(s(110));
  });

  it('surges one node first, drains attached nodes before the detached one, which needs no replacement', () => {
    // surge: detach, interval 15, replacement Ready at 60 → attempts 15 ✗ 45 ✗ 75 ✓ 85 ✓          → 85
    // attached: drain 20, terminated 25, interval → 40; replacement Ready at 85 → 100 ✓ 110 ✓      → +110 = 195
    // detached: drain 20, terminated 25, interval → 40; nothing to wait for → 40 ✓ 50 ✓            → +50 = 245
    expect(kopsInstanceGroupMs(pool('md-0', 1, [60, 60], [20, 20]), 1, 15_000)).toBe(s(245));
  });

  it('rolls the control plane, then the node groups one after the other', () => {
    const times: RolloutTimes = { controlPlane: pool('control-plane', 1, [60], [20]), workers: [pool('md-0', 1, [60, 60], [20, 20]), pool('md-1', 1, [60, 60], [20, 20])] };
    expect(kopsRollingUpdateMs(times)).toBe(s(110 + 245 + 245));
  });
});

describe('EKS managed node group update', () => {
  it('scales up by twice the AZs (capped at the nodes), waits for them Ready, then drains maxUnavailable at a time with 60 s after each cordon', () => {
    // surge min(4, 2 × 3) = 4: Ready at max(60, 70, 80, 90) = 90; then (10 + 60) + (20 + 60) + (30 + 60) + (40 + 60) = 340
    expect(eksNodeGroupMs(pool('md-0', 1, [60, 70, 80, 90], [10, 20, 30, 40]), 1, 1, 3)).toBe(s(430));
  });

  it('scales up by maxUnavailable when it is larger, and drains in batches of maxUnavailable', () => {
    // one AZ: surge max(2, 2) = 2 → Ready at 70; batches [10, 20] → 20 + 60, [30, 40] → 40 + 60 → 70 + 180
    expect(eksNodeGroupMs(pool('md-0', 2, [60, 70, 80, 90], [10, 20, 30, 40]), 2, 1, 1)).toBe(s(250));
  });

  it("takes the control plane to be Capstan's own control-plane chain, then updates node groups in parallel", () => {
    // control plane 2 × (60 + 20) = 160; md-0 (3 AZs, surge 2): Ready 60, then (20 + 60) × 2 = 220; md-1: 60 + 80 = 140
    const times: RolloutTimes = { controlPlane: pool('control-plane', 1, [60, 60], [20, 20]), workers: [pool('md-0', 1, [60, 60], [20, 20]), pool('md-1', 1, [60], [20])] };
    expect(eksManagedNodeGroupsMs(times)).toBe(s(160 + 220));
  });
});

describe('Cluster API', () => {
  it.each([
    ['nothing to drain', 0, 0],
    ['drained by the first re-check', 20, 20],
    ['a second re-check', 25, 40],
  ])('retires a machine on the 20 s drain re-checks: %s', (_name, drain, retire) => {
    expect(capiRetireMs(s(drain))).toBe(s(retire));
  });

  it('rolls KubeadmControlPlane one at a time: scale up, Ready, remove the oldest (drained), next', () => {
    expect(kubeadmControlPlaneMs(pool('control-plane', 1, [60, 60, 60], [10, 10, 10]))).toBe(s(3 * (60 + 20)));
  });

  it('rolls a MachineDeployment one machine at a time at maxSurge 1', () => {
    // 60 Ready → retire 20 → 80 create → 140 Ready → retire 40 (30 s drain) → 180 create → 240 Ready → retire 20 → 260
    expect(machineDeploymentMs(pool('md-0', 1, [60, 60, 60], [10, 30, 10]))).toBe(s(260));
  });

  it('rolls a MachineDeployment per machine, not per wave: a slow boot holds only its own slot', () => {
    // maxSurge 2: m0 Ready 10 → old0 gone 30 → m2 Ready 40 → old1 gone 60 → m3 Ready 70 → old2 gone 90;
    // m1 Ready 50 → old3 gone 70. Waves would take (50 + 20) + (10 + 20) = 100.
    expect(machineDeploymentMs(pool('md-0', 2, [10, 50, 10, 10], [20, 20, 20, 20]))).toBe(s(90));
  });

  it('rolls the control plane, then the MachineDeployments one at a time (upgrade-concurrency 1)', () => {
    const times: RolloutTimes = { controlPlane: pool('control-plane', 1, [60], [10]), workers: [pool('md-0', 1, [60], [10]), pool('md-1', 1, [30], [10])] };
    expect(clusterApiMs(times)).toBe(s(80 + 80 + 50));
  });
});

describe('peerFigures', () => {
  it("prints Capstan's wall against each peer's wall at the run's time scale", () => {
    // Prepare: boots of a 3 s median stand for 90 s EC2 boots: every peer wait is scaled by 1/30.
    const times: RolloutTimes = { controlPlane: pool('control-plane', 1, [3], [1]), workers: [pool('md-0', 1, [3], [1])] };
    const scale = peerTimeScale(times);

    // Act
    const figures = peerFigures([{ label: '1+1.boot3s', wallMs: s(10), times }]);

    // Assess
    expect(scale).toBe(s(3) / EC2_REFERENCE_BOOT_MS);
    expect(figures.map((f) => f.name)).toEqual(['rollout.peer.kops.1+1.boot3s', 'rollout.peer.eks.1+1.boot3s', 'rollout.peer.capi.1+1.boot3s']);
    // CAPI: KCP 3 s + retire (1 s drain on re-checks every 20/30 s: the second, at 4/3 s), MD the same.
    const capi = figures[2]!;
    expect(capi.bound).toBeCloseTo(2 * s(3 + 4 / 3), 6);
    expect(capi.ratio).toBeCloseTo(s(10) / capi.bound, 9);
    expect(figures.every((f) => f.unit === 'ms' && f.boundKind === 'baseline' && f.value === s(10))).toBe(true);
  });
});
