/**
 * Peers side by side: the wall time kOps, EKS managed node groups and Cluster API would take for the SAME boot and
 * drain times a Capstan rollout drew, each by its documented algorithm, and Capstan's wall as a ratio to each.
 *
 * Its own file because the three models are reference material with a source beside every rule: pure functions of
 * the measured times (bench/lib/critical-path.ts), checked against hand-computed cases (test/bench/peers.test.ts).
 *
 * Assumptions common to the three (each peer at its best within its own rules, so every ratio favours the peer):
 * - A reaction to a watch event or an API answer is instantaneous; only documented fixed waits, validation ticks and
 *   requeue intervals cost time.
 * - Each peer replaces as many machines at once as the Capstan pool does (its maxSurge): kOps `maxSurge`, EKS
 *   `maxUnavailable`, Cluster API MachineDeployment `maxSurge`.
 * - Boots and retirements (drain + delete) take what the run measured, consumed in the run's order.
 * - Fixed waits are multiplied by `timeScale`: a local run's boots stand for EC2 boots (EC2_REFERENCE_BOOT_MS)
 *   scaled down, so the peers' constants are scaled down alike (`peerTimeScale`).
 */
import { poolChainMs, type PoolTimes, type RolloutTimes } from './lib/critical-path.js';
import { figure, median, type Figure } from './lib/figure.js';

/** The EC2 boot a local run's median boot stands for: a kubeadm node commonly boots in 60–120 s. */
export const EC2_REFERENCE_BOOT_MS = 90_000;

/** The peers' fixed waits scale with the run: its median boot ÷ the EC2 boot it stands for. */
export function peerTimeScale(times: RolloutTimes): number {
  const boots = [...times.controlPlane.bootMs, ...times.workers.flatMap((p) => p.bootMs)];
  return boots.length ? median(boots) / EC2_REFERENCE_BOOT_MS : 1;
}

/** The i-th time of a list, or its mean when the run measured fewer (a failed boot). */
function pick(list: readonly number[], i: number): number {
  return list[i] ?? (list.length ? list.reduce((a, b) => a + b, 0) / list.length : 0);
}

/** Replacements a pool needs: one per replaced machine (or per new one, if fewer were retired). */
const replacements = (p: PoolTimes): number => Math.max(p.drainMs.length, p.bootMs.length);

// ---- kOps ---------------------------------------------------------------------------------------------------------

/**
 * kOps `rolling-update cluster` (https://github.com/kubernetes/kops, docs/cli/kops_rolling-update_cluster.md at
 * 268927e, pkg/instancegroups/{rollingupdate,instancegroups,settings}.go).
 */
export const KOPS = {
  /** `--control-plane-interval` (formerly `--master-interval`): slept after terminating a control-plane node. Default 15s. */
  controlPlaneIntervalMs: 15_000,
  /** `--node-interval`: slept after terminating a node (drainTerminateAndWait). Default 15s. */
  nodeIntervalMs: 15_000,
  /** `--post-drain-delay`: slept after draining, before terminating (drainNode). Default 5s. */
  postDrainDelayMs: 5_000,
  /** ValidateTickDuration (cmd/kops/rolling-update_cluster.go): wait after a failed validation. */
  validateTickMs: 30_000,
  /** ValidateSuccessDuration: wait between consecutive successful validations. */
  validateSuccessMs: 10_000,
  /** `--validate-count`: consecutive successful validations after each node. Default 2. */
  validateCount: 2,
} as const;

/**
 * When kOps validation started at `startMs` has passed `validateCount` times in a row, the cluster being valid
 * (every replacement joined and Ready) from `readyAtMs` on: attempts at start, then every tick after a failure, then
 * `validateSuccess` between successes (validateClusterWithTimeout). Validation itself is taken as instantaneous.
 */
export function kopsValidatedAtMs(startMs: number, readyAtMs: number, timeScale = 1): number {
  const tick = KOPS.validateTickMs * timeScale;
  const first = readyAtMs <= startMs ? startMs : startMs + Math.ceil((readyAtMs - startMs) / tick) * tick;
  return first + (KOPS.validateCount - 1) * KOPS.validateSuccessMs * timeScale;
}

/**
 * One instance group (rollingUpdateInstanceGroup): with `surge` > 0, detach that many instances (the ASG launches
 * their replacements), sleep the interval and validate; then, `max(1, surge)` at a time (maxSurge + maxUnavailable 0;
 * a control plane never surges and goes one at a time), drain → post-drain delay → terminate → sleep the interval,
 * and validate until the replacements of the terminated attached instances are Ready. Attached instances go first,
 * the detached last (prioritizeUpdate); terminating a detached one launches nothing.
 *
 * Note: kOps starts the next drain as soon as one finishes and validates (a sweep); batches of `max(1, surge)` are
 * that schedule when the batch's drains end together, and exact for one at a time.
 */
export function kopsInstanceGroupMs(times: PoolTimes, surge: number, intervalMs: number, timeScale = 1): number {
  const n = replacements(times);
  const s = Math.min(surge, n);
  const interval = intervalMs * timeScale;
  const postDrain = KOPS.postDrainDelayMs * timeScale;
  let boot = 0;
  let t = 0;
  if (s > 0) {
    let readyAt = 0;
    for (let i = 0; i < s; i++) readyAt = Math.max(readyAt, pick(times.bootMs, boot++));
    t = kopsValidatedAtMs(interval, readyAt, timeScale);
  }
  const attached = n - s;
  const concurrency = Math.max(1, s);
  for (let i = 0; i < n; i += concurrency) {
    let done = 0;
    let readyAt = 0;
    for (let j = i; j < Math.min(n, i + concurrency); j++) {
      const terminatedAt = pick(times.drainMs, j) + postDrain;
      done = Math.max(done, terminatedAt + interval);
      if (j < attached) readyAt = Math.max(readyAt, terminatedAt + pick(times.bootMs, boot++));
    }
    t += kopsValidatedAtMs(done, readyAt, timeScale);
  }
  return t;
}

/**
 * The whole cluster (RollingUpdate): control-plane groups in series, then node groups in series ("We run nodes in
 * series, even if they are in separate instance groups"). The control plane never surges ("Control plane nodes are
 * incapable of surging"); node groups surge as the Capstan pool does (kOps' own AWS default is 1: resolveSettings).
 */
export function kopsRollingUpdateMs(times: RolloutTimes, timeScale = 1): number {
  const cp = kopsInstanceGroupMs(times.controlPlane, 0, KOPS.controlPlaneIntervalMs, timeScale);
  return times.workers.reduce((t, p) => t + kopsInstanceGroupMs(p, p.waveSize, KOPS.nodeIntervalMs, timeScale), cp);
}

// ---- EKS managed node groups ----------------------------------------------------------------------------------------

/**
 * EKS managed node group update ("Understand each phase of node updates",
 * https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html; source
 * awsdocs/amazon-eks-user-guide latest/ug/nodes/managed-node-update-behavior.adoc), default update strategy.
 */
export const EKS = {
  /** Upgrade phase: "It cordons the node after every Pod is evicted and waits for 60 seconds", then terminates it. */
  postCordonWaitMs: 60_000,
  /** Assumption: node groups span three Availability Zones (the scale-up phase launches up to twice as many nodes). */
  availabilityZones: 3,
} as const;

/**
 * One node group: scale up (max and desired grow by the larger of twice the Availability Zones and maxUnavailable,
 * capped here at the nodes to replace; the phase ends when every new node is Ready), then upgrade (up to
 * maxUnavailable random old nodes at a time: drain, 60 s after cordon, terminate; the ASG's replacements boot in the
 * background and are not waited for), then scale down (an ASG size change: taken as instantaneous).
 */
export function eksNodeGroupMs(times: PoolTimes, maxUnavailable: number, timeScale = 1, availabilityZones: number = EKS.availabilityZones): number {
  const n = replacements(times);
  const u = Math.max(1, maxUnavailable);
  const surge = Math.min(n, Math.max(2 * availabilityZones, u));
  let t = 0;
  for (let i = 0; i < surge; i++) t = Math.max(t, pick(times.bootMs, i));
  for (let i = 0; i < n; i += u) {
    let batch = 0;
    for (let j = i; j < Math.min(n, i + u); j++) batch = Math.max(batch, pick(times.drainMs, j));
    t += batch + EKS.postCordonWaitMs * timeScale;
  }
  return t;
}

/**
 * The cluster on EKS: the control plane is AWS's (not modelled: taken to take Capstan's own control-plane bound, one
 * replacement at a time with these times), then every node group updates on its own (one UpdateNodegroupVersion call
 * each; assumed in parallel), with maxUnavailable = the Capstan pool's maxSurge.
 */
export function eksManagedNodeGroupsMs(times: RolloutTimes, timeScale = 1): number {
  const nodeGroups = times.workers.map((p) => eksNodeGroupMs(p, p.waveSize, timeScale));
  return poolChainMs(times.controlPlane).ms + Math.max(0, ...nodeGroups);
}

// ---- Cluster API ---------------------------------------------------------------------------------------------------

/**
 * Cluster API (https://github.com/kubernetes-sigs/cluster-api at ae7ff04; the book's tasks/upgrading-clusters.md:
 * "first upgrade the control plane and then upgrade the worker machines").
 */
export const CAPI = {
  /**
   * drainRetryInterval (core/reconcilers/machine/machine_controller.go): a drain evicts, then is re-checked every
   * 20 s until the Node is empty (DeferNextReconcileForObject holds off earlier reconciles).
   */
  drainRetryIntervalMs: 20_000,
} as const;

/** A Machine's deletion: the first pass evicts, later passes every drainRetryInterval check the pods are gone. */
export function capiRetireMs(drainMs: number, timeScale = 1): number {
  const interval = CAPI.drainRetryIntervalMs * timeScale;
  return drainMs <= 0 ? 0 : Math.ceil(drainMs / interval) * interval;
}

/**
 * KubeadmControlPlane rollout, maxSurge 1 (its default; docs/proposals/20191017-kubeadm-based-control-plane.md,
 * "Rolling update strategy"): scale up one machine with the new spec, wait until it is Ready and the preflight
 * checks pass, scale down the oldest outdated one (etcd member removed, Machine deleted: drained), and scale up the
 * next only once no machine is being deleted (preflightChecks: HasDeletingMachine). Preflight requeues
 * (preflightFailedRequeueAfter 15 s, deleteRequeueAfter 30 s, controlplane/kubeadm/reconcilers/kubeadmcontrolplane/
 * consts.go) are taken as cut short by the watch event of the machine turning Ready or going away.
 */
export function kubeadmControlPlaneMs(times: PoolTimes, timeScale = 1): number {
  let t = 0;
  for (let i = 0; i < replacements(times); i++) t += pick(times.bootMs, i) + capiRetireMs(pick(times.drainMs, i), timeScale);
  return t;
}

/**
 * MachineDeployment rolling update, maxUnavailable 0, per machine (not per wave; the rules Capstan's planner mirrors
 * in functions/domain/planner/rollout-math.ts): machines may reach replicas + maxSurge, a machine being deleted still
 * counts; each new machine turning Ready lets the old MachineSet scale down by one (oldest first), and each old
 * machine gone lets the new one scale up by one.
 */
export function machineDeploymentMs(times: PoolTimes, timeScale = 1): number {
  const n = replacements(times);
  const events: { at: number; ready: boolean }[] = [];
  let created = 0;
  let retired = 0;
  const create = (at: number): void => {
    events.push({ at: at + pick(times.bootMs, created++), ready: true });
  };
  for (let i = 0; i < Math.min(Math.max(1, times.waveSize), n); i++) create(0);
  let end = 0;
  while (events.length > 0) {
    events.sort((a, b) => a.at - b.at);
    const e = events.shift()!;
    end = Math.max(end, e.at);
    if (e.ready && retired < n) events.push({ at: e.at + capiRetireMs(pick(times.drainMs, retired++), timeScale), ready: false });
    else if (!e.ready && created < n) create(e.at);
  }
  return end;
}

/**
 * The cluster: the control plane, then the MachineDeployments one at a time (a managed topology's
 * `topology.cluster.x-k8s.io/upgrade-concurrency` defaults to 1: docs/book/src/reference/api/labels-and-annotations.md).
 */
export function clusterApiMs(times: RolloutTimes, timeScale = 1): number {
  return times.workers.reduce((t, p) => t + machineDeploymentMs(p, timeScale), kubeadmControlPlaneMs(times.controlPlane, timeScale));
}

// ---- figures ---------------------------------------------------------------------------------------------------------

/** The peers, by figure name. */
export const PEERS = {
  kops: { label: 'kOps rolling-update, modelled on the same times', wallMs: kopsRollingUpdateMs },
  eks: { label: 'EKS managed node group update, modelled on the same times', wallMs: eksManagedNodeGroupsMs },
  capi: { label: 'Cluster API KCP + MachineDeployment, modelled on the same times', wallMs: clusterApiMs },
} as const;

/** What a peer figure needs of a rollout run (bench/rollout.ts RolloutRun). */
export interface PeerRun {
  readonly label: string;
  readonly wallMs: number;
  readonly times: RolloutTimes;
}

/** The wall time of each peer for one run's times, at the run's time scale. */
export function peerWalls(times: RolloutTimes, timeScale = peerTimeScale(times)): Record<keyof typeof PEERS, number> {
  return { kops: kopsRollingUpdateMs(times, timeScale), eks: eksManagedNodeGroupsMs(times, timeScale), capi: clusterApiMs(times, timeScale) };
}

/** `rollout.peer.<peer>.<case>`: Capstan's wall (ms) against each peer's modelled wall; the ratio is the finding. */
export function peerFigures(runs: readonly PeerRun[]): Figure[] {
  return runs.flatMap((r) => {
    const timeScale = peerTimeScale(r.times);
    const walls = peerWalls(r.times, timeScale);
    return (Object.keys(PEERS) as (keyof typeof PEERS)[]).map((peer) =>
      figure(`rollout.peer.${peer}.${r.label}`, r.wallMs, 'ms', walls[peer], 'baseline', PEERS[peer].label, {
        peerMs: Math.round(walls[peer]),
        timeScale: Number(timeScale.toPrecision(3)),
        unscaledPeerMs: Math.round(PEERS[peer].wallMs(r.times, 1)),
      }),
    );
  });
}
