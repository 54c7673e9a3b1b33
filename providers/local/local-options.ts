/**
 * The options of the local provider and their defaults (explicit option, else a `CAPSTAN_*` environment variable,
 * else a constant).
 *
 * Its own file because the defaults are read once, in one place, in a fixed order: `LocalProvider` keeps the
 * resolved settings and the files it delegates to receive only the values they need.
 */
import { ProviderRejectedError } from '../../functions/domain/errors.js';
import { systemClock, type Clock } from '../../functions/domain/ports.js';
import { parseLocalFaults, type LocalFaults } from './faults.js';

/** Options of `LocalProvider`. */
export interface LocalProviderOptions {
  /** CAPSTAN_HOME: the local cloud lives under `${home}/machines` and `${home}/infra`. */
  readonly home: string;
  /** How long a machine takes to boot before it calls back. @default CAPSTAN_LOCAL_BOOT_MS or 2000 */
  readonly bootMs?: number;
  /** How long evicting one simulated pod takes. @default CAPSTAN_LOCAL_DRAIN_MS_PER_POD or 200 */
  readonly drainMsPerPod?: number;
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

/** `LocalProviderOptions` with every default applied (`home` is resolved by the provider, into its layout). */
export interface LocalSettings {
  readonly bootMs: number;
  readonly drainMsPerPod: number;
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

/**
 * Applies the defaults of `LocalProviderOptions`.
 *
 * Note: evaluated in declaration order, so an invalid environment variable is reported as it always was (the first
 * invalid one, in the order boot, drain, faults, node-monitor grace).
 */
export function resolveLocalSettings(options: LocalProviderOptions): LocalSettings {
  const bootMs = options.bootMs ?? envNumber('CAPSTAN_LOCAL_BOOT_MS', 2000);
  const drainMsPerPod = options.drainMsPerPod ?? envNumber('CAPSTAN_LOCAL_DRAIN_MS_PER_POD', 200);
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
  return { bootMs, drainMsPerPod, faults, clock, random, terminateGraceMs, agentTimeoutMs, nodeMonitorGraceMs, etcd };
}
