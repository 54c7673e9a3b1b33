/**
 * The options of the local provider and their defaults (explicit option, else a `CAPSTAN_*` environment variable,
 * else a constant), and what the timing options mean: the seeded distributions each machine draws its boot and
 * drain times from (`drawMachineTimes`).
 *
 * Its own file because the defaults are read once, in one place, in a fixed order: `LocalProvider` keeps the
 * resolved settings and the files it delegates to receive only the values they need.
 */
import { ProviderRejectedError } from '../../functions/domain/errors.js';
import { systemClock, type Clock } from '../../functions/domain/ports.js';
import { parseLocalFaults, seededRandom, type LocalFaults } from './faults.js';

/** Options of `LocalProvider`. */
export interface LocalProviderOptions {
  /** CAPSTAN_HOME: the local cloud lives under `${home}/machines` and `${home}/infra`. */
  readonly home: string;
  /** How long a machine takes to boot before it calls back (the median when `bootSpread` is set). @default CAPSTAN_LOCAL_BOOT_MS or 2000 */
  readonly bootMs?: number;
  /** How long evicting one simulated pod takes (the median when `drainSpread` is set). @default CAPSTAN_LOCAL_DRAIN_MS_PER_POD or 200 */
  readonly drainMsPerPod?: number;
  /**
   * How boot times spread around `bootMs`: 0 = every machine boots in exactly `bootMs`; a number = the sigma of a
   * log-normal with median `bootMs`; `'ec2'` = EC2's shape (see `spreadFactor`: p10 0.73×, p90 1.38×, p99 2.5× the median).
   * @default CAPSTAN_LOCAL_BOOT_SPREAD or 0
   */
  readonly bootSpread?: DurationSpread;
  /** How pod eviction times (and PDB restarts) spread around their medians, as a log-normal sigma. @default CAPSTAN_LOCAL_DRAIN_SPREAD or 0 */
  readonly drainSpread?: number;
  /**
   * Median time an evicted `web` pod takes to be Ready again elsewhere. Above 0, a PodDisruptionBudget (maxUnavailable
   * 1) covers the `web` pod of every machine of a cluster: a drain waits to evict its `web` pod while a sibling's is
   * not back yet. @default CAPSTAN_LOCAL_PDB_RESTART_MS or 0 (no budget)
   */
  readonly pdbRestartMs?: number;
  /** Seed of the timing draws: the same seed gives every machine name the same times. @default CAPSTAN_LOCAL_SEED or 1 */
  readonly seed?: number;
  /** Injected faults. @default parsed from CAPSTAN_LOCAL_FAULTS (none when unset) */
  readonly faults?: LocalFaults;
  /** Source of `launchedAt`. @default the system clock */
  readonly clock?: Clock;
  /** Random source of the fault rates; pass `seededRandom(n)` for replayable runs. @default Math.random */
  readonly random?: () => number;
  /** SIGTERM grace before SIGKILL on delete. @default 2000 */
  readonly terminateGraceMs?: number;
  /** Timeout of one HTTP call to an agent. @default 2000 */
  readonly agentTimeoutMs?: number;
  /**
   * How long an agent may go without answering before its node reads Ready=Unknown (Kubernetes'
   * `--node-monitor-grace-period`); until then its last reported health stands.
   * @default CAPSTAN_NODE_MONITOR_GRACE_MS or 40000
   */
  readonly nodeMonitorGraceMs?: number;
  /**
   * The etcd binary every control-plane machine runs (Debian's `etcd-server` package installs /usr/bin/etcd).
   * @default CAPSTAN_ETCD_BIN or /usr/bin/etcd
   */
  readonly etcdBin?: string;
  /** etcd `--heartbeat-interval` (ms). @default 50 */
  readonly etcdHeartbeatMs?: number;
  /** etcd `--election-timeout` (ms). @default 1000 */
  readonly etcdElectionMs?: number;
}

/** The etcd every control-plane machine runs: its binary and timing (see `LocalProviderOptions`). */
export interface LocalEtcdSettings {
  readonly bin: string;
  readonly heartbeatMs: number;
  readonly electionMs: number;
}

/** How durations spread around their median: a log-normal sigma (0 = not at all), or the named EC2 boot profile. */
export type DurationSpread = number | 'ec2';

/** A seeded distribution each machine draws its own value of (`drawMachineTimes`). */
export interface DurationDistribution {
  readonly medianMs: number;
  readonly spread: DurationSpread;
  readonly seed: number;
}

/** The drain's distribution: per-pod eviction times, plus the PodDisruptionBudget of the `web` pods. */
export interface DrainDistribution extends DurationDistribution {
  /** Median time an evicted `web` pod takes to be back (0 = no budget); spread as the evictions. */
  readonly pdbRestartMs: number;
}

/** A boot time: exactly this many ms for every machine, or a distribution each machine draws from. */
export type BootTime = number | DurationDistribution;
/** A per-pod eviction time: exactly this many ms, or a distribution (with the PDB waits). */
export type DrainTime = number | DrainDistribution;

/**
 * `LocalProviderOptions` with every default applied (`home` is resolved by the provider, into its layout).
 *
 * Note: `bootMs` and `drainMsPerPod` stay plain numbers unless a spread or a PDB is asked for, so the default run
 * launches every machine with exactly the arguments it always had. They carry the distribution (rather than new
 * fields) so `LocalProvider` hands it to `launch` unchanged, which draws each machine's times.
 */
export interface LocalSettings {
  readonly bootMs: BootTime;
  readonly drainMsPerPod: DrainTime;
  /** The faults injected at construction (`LocalProvider.setFaults` replaces them later). */
  readonly faults: LocalFaults;
  readonly clock: Clock;
  readonly random: () => number;
  readonly terminateGraceMs: number;
  readonly agentTimeoutMs: number;
  readonly nodeMonitorGraceMs: number;
  readonly etcd: LocalEtcdSettings;
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new ProviderRejectedError(`${name}: must be a non-negative number of milliseconds, got ${JSON.stringify(raw)}`);
  return n;
}

function spreadSetting(envName: string, optionName: string, value: DurationSpread | undefined, allowProfile: boolean): DurationSpread {
  const raw = value ?? process.env[envName];
  if (raw === undefined || raw === '') return 0;
  if (allowProfile && raw === 'ec2') return 'ec2';
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) {
    const what = `a log-normal sigma (a non-negative number)${allowProfile ? " or 'ec2'" : ''}`;
    throw new ProviderRejectedError(`${value === undefined ? envName : optionName}: must be ${what}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function seedSetting(value: number | undefined): number {
  const raw = value ?? process.env.CAPSTAN_LOCAL_SEED;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new ProviderRejectedError(`${value === undefined ? 'CAPSTAN_LOCAL_SEED' : 'seed'}: must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * Applies the defaults of `LocalProviderOptions`.
 *
 * Note: evaluated in declaration order, so an invalid environment variable is reported as it always was (the first
 * invalid one, in the order boot, drain, faults, node-monitor grace; then the timing settings added after them).
 */
export function resolveLocalSettings(options: LocalProviderOptions): LocalSettings {
  const bootMedianMs = options.bootMs ?? envNumber('CAPSTAN_LOCAL_BOOT_MS', 2000);
  const drainMedianMs = options.drainMsPerPod ?? envNumber('CAPSTAN_LOCAL_DRAIN_MS_PER_POD', 200);
  const faults = options.faults ?? parseLocalFaults(process.env.CAPSTAN_LOCAL_FAULTS);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const terminateGraceMs = options.terminateGraceMs ?? 2000;
  const agentTimeoutMs = options.agentTimeoutMs ?? 2000;
  const nodeMonitorGraceMs = options.nodeMonitorGraceMs ?? envNumber('CAPSTAN_NODE_MONITOR_GRACE_MS', 40_000);
  const etcd: LocalEtcdSettings = {
    bin: options.etcdBin ?? (process.env.CAPSTAN_ETCD_BIN || '/usr/bin/etcd'),
    heartbeatMs: options.etcdHeartbeatMs ?? 50,
    electionMs: options.etcdElectionMs ?? 1000,
  };
  const bootSpread = spreadSetting('CAPSTAN_LOCAL_BOOT_SPREAD', 'bootSpread', options.bootSpread, true);
  const drainSpread = spreadSetting('CAPSTAN_LOCAL_DRAIN_SPREAD', 'drainSpread', options.drainSpread, false);
  const pdbRestartMs = options.pdbRestartMs ?? envNumber('CAPSTAN_LOCAL_PDB_RESTART_MS', 0);
  const seed = seedSetting(options.seed);
  const bootMs: BootTime = bootSpread === 0 ? bootMedianMs : { medianMs: bootMedianMs, spread: bootSpread, seed };
  const drainMsPerPod: DrainTime = drainSpread === 0 && pdbRestartMs === 0 ? drainMedianMs : { medianMs: drainMedianMs, spread: drainSpread, seed, pdbRestartMs };
  return { bootMs, drainMsPerPod, faults, clock, random, terminateGraceMs, agentTimeoutMs, nodeMonitorGraceMs, etcd };
}

/** The median of a boot or eviction time (the time itself when it is fixed). */
export function medianMs(time: BootTime | DrainTime): number {
  return typeof time === 'number' ? time : time.medianMs;
}

/** Pods of a local machine (machine-agent.mjs schedules 5): one eviction time is drawn for each. */
export const PODS_PER_MACHINE = 5;

/** The EC2 profile: a log-normal body of this sigma… */
const EC2_SIGMA = 0.25;
/** …up to this z (p95), above which the log-slope is EC2_TAIL_SIGMA: stragglers (capacity, ENI, image pulls). */
const EC2_TAIL_Z = 1.645;
const EC2_TAIL_SIGMA = 0.75;
/** No simulated EC2 boot takes longer than this many medians. */
const EC2_MAX_FACTOR = 10;

/**
 * How far a draw lies from its median, as a factor, for a standard normal `z`: `exp(sigma z)` for a log-normal.
 *
 * The `'ec2'` profile is a log-normal of sigma 0.25 (p10 0.73×, p90 1.38×: 66–124 s around a 90 s kubeadm boot)
 * whose tail above p95 climbs three times as steeply (p99 2.5×, p99.9 4.5×, at most 10×): EC2 boots of a kubeadm
 * node commonly run 60–120 s with a tail of minutes. Both are increasing in `z` with factor 1 at z = 0, so the median
 * is the median asked for.
 */
export function spreadFactor(spread: DurationSpread, z: number): number {
  if (spread !== 'ec2') return Math.exp(spread * z);
  if (z <= EC2_TAIL_Z) return Math.exp(EC2_SIGMA * z);
  return Math.min(EC2_MAX_FACTOR, Math.exp(EC2_SIGMA * EC2_TAIL_Z + EC2_TAIL_SIGMA * (z - EC2_TAIL_Z)));
}

/** FNV-1a of a string: the seed of one machine's stream of draws. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * `count` draws of `d` for one machine: whole milliseconds from a PRNG keyed by seed + stream + machine name + boot
 * attempt, so a machine's times do not depend on which other machines launched first (concurrency order).
 */
export function drawDurations(d: DurationDistribution, stream: string, machine: string, attempt: number, count: number): number[] {
  const random = seededRandom(hash32(`${d.seed}/${stream}/${machine}/${attempt}`));
  return Array.from({ length: count }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()); // Box-Muller
    return Math.round(d.medianMs * spreadFactor(d.spread, z));
  });
}

/** The times one machine was dealt (the arguments its agent starts with). */
export interface MachineTimes {
  readonly bootMs: number;
  /** The median eviction time (the agent's default, and the drain poll interval). */
  readonly drainMsPerPod: number;
  /** One eviction time per pod, when evictions spread. */
  readonly evictMs?: readonly number[];
  /** How long this machine's evicted `web` pod takes to be back, when a PDB covers it. */
  readonly pdbRestartMs?: number;
}

/**
 * Draws one machine's boot, eviction and PDB restart times. Fixed times come back as they are, so a provider with no
 * spread and no PDB launches every machine as it always did.
 *
 * Note: the planner never reuses a machine name (a retried boot is a new ordinal), so the name alone already tells
 * boot attempts apart; `attempt` keys a re-launch under the same name.
 */
export function drawMachineTimes(boot: BootTime, drain: DrainTime, machine: string, attempt = 1): MachineTimes {
  const bootMs = typeof boot === 'number' ? boot : drawDurations(boot, 'boot', machine, attempt, 1)[0]!;
  if (typeof drain === 'number') return { bootMs, drainMsPerPod: drain };
  const evictMs = drain.spread === 0 ? undefined : drawDurations(drain, 'evict', machine, attempt, PODS_PER_MACHINE);
  const pdb = { ...drain, medianMs: drain.pdbRestartMs };
  const pdbRestartMs = drain.pdbRestartMs > 0 ? drawDurations(pdb, 'pdb', machine, attempt, 1)[0]! : undefined;
  return { bootMs, drainMsPerPod: drain.medianMs, ...(evictMs ? { evictMs } : {}), ...(pdbRestartMs !== undefined ? { pdbRestartMs: Math.max(1, pdbRestartMs) } : {}) };
}
