/**
 * Launching a local machine: stage its directory, rename it into place (the lock against a second creator), draw its
 * boot and drain times, spawn the agent (providers/local/machine-agent.mjs) detached, and wait for it to report its
 * pid and port. Also the etcd mode of a new control-plane machine and `startOrphan`, which launches a machine no
 * record knows.
 *
 * Its own file because this is the only code that starts processes: what a machine is started with (arguments,
 * environment, the 0600 bootstrap file) is read here in one place.
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProviderRejectedError, ProviderUnavailableError } from '../../functions/domain/errors.js';
import type { MachineRole } from '../../functions/domain/machine.js';
import { systemClock, type Clock } from '../../functions/domain/ports.js';
import type { ProviderMachine } from '../../functions/domain/provider.js';
import type { MachineFaultFlags } from './faults.js';
import { drawMachineTimes, type BootTime, type DrainTime, type LocalEtcdSettings } from './local-options.js';
import { LocalLayout, listSubdirs, readMachineFile, writeJsonAtomic, type MachineFile } from './machine-dir.js';
import { stateOf, toProviderMachine } from './machine-listing.js';

/** Absolute path of the agent script, next to this file. */
export const MACHINE_AGENT_PATH = fileURLToPath(new URL('./machine-agent.mjs', import.meta.url));

/** How long createMachine waits for a new agent to report its pid and port. */
const AGENT_START_TIMEOUT_MS = 5_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** How a control-plane machine runs its etcd member: start a new etcd cluster, or join the live one. */
export interface EtcdLaunch {
  readonly mode: 'new' | 'join';
  readonly bin: string;
  readonly heartbeatMs: number;
  readonly electionMs: number;
}

/** Identity of a machine to launch (shared by createMachine and startOrphan). */
export interface LaunchRequest {
  readonly cluster: string;
  readonly clusterUid: string;
  readonly name: string;
  readonly pool: string;
  readonly role: MachineRole;
  readonly version: string;
  readonly instanceType: string;
  readonly failureDomain?: string;
  readonly bootstrap?: { readonly callbackUrl: string; readonly callbackToken: string };
  readonly faults: MachineFaultFlags;
  /** Fixed, or the distribution this machine's boot time is drawn from (`drawMachineTimes`). */
  readonly bootMs: BootTime;
  /** Fixed, or the distribution this machine's eviction (and PDB restart) times are drawn from. */
  readonly drainMsPerPod: DrainTime;
  /** Keys the draws of a re-launch under the same name. @default 1 */
  readonly bootAttempt?: number;
  readonly launchedAt: string;
  /** Control-plane machines: start a new etcd cluster, or join the live one. @default 'off' */
  readonly etcd?: EtcdLaunch;
}

/**
 * Launches (or finds) one machine: stage its directory, rename it into place (the lock), spawn the agent detached,
 * wait for its pid and port.
 */
export async function launch(layout: LocalLayout, request: LaunchRequest): Promise<MachineFile> {
  const dir = layout.machineDir(request.clusterUid, request.name);
  const parent = path.dirname(dir);
  await fs.mkdir(parent, { recursive: true });
  const staging = await fs.mkdtemp(path.join(parent, `.staging-${request.name}-`));
  const identity: MachineFile = {
    cluster: request.cluster,
    clusterUid: request.clusterUid,
    name: request.name,
    pool: request.pool,
    role: request.role,
    version: request.version,
    ...(request.failureDomain !== undefined ? { failureDomain: request.failureDomain } : {}),
    instanceType: request.instanceType,
    launchedAt: request.launchedAt,
    pid: null,
    port: null,
  };
  await fs.writeFile(path.join(staging, 'machine.json'), JSON.stringify(identity, null, 2));
  if (request.bootstrap) {
    // P9: the token lives in a 0600 file, never on the agent's command line.
    await fs.writeFile(path.join(staging, 'bootstrap.json'), JSON.stringify(request.bootstrap), { mode: 0o600 });
  }
  try {
    await fs.rename(staging, dir);
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTEMPTY') return awaitIdentity(dir, request.name);
    throw new ProviderUnavailableError(`local provider could not create ${dir}: ${(error as Error).message}`);
  }

  // Drawn only by the launch that won the rename: an idempotent retry finds the agent that already has its times.
  const times = drawMachineTimes(request.bootMs, request.drainMsPerPod, request.name, request.bootAttempt ?? 1);
  const child = spawn(
    process.execPath,
    [
      MACHINE_AGENT_PATH,
      'capstan-machine',
      `cluster=${request.cluster}`,
      `machine=${request.name}`,
      `uid=${request.clusterUid}`,
      `pool=${request.pool}`,
      `dir=${dir}`,
      `bootMs=${times.bootMs}`,
      `drainMsPerPod=${times.drainMsPerPod}`,
      ...(times.evictMs ? [`evictMs=${times.evictMs.join(',')}`] : []),
      ...(times.pdbRestartMs !== undefined ? [`pdbRestartMs=${times.pdbRestartMs}`] : []),
      `neverBoot=${request.faults.neverBoot ? 1 : 0}`,
      `dieDuringDrain=${request.faults.dieDuringDrain ? 1 : 0}`,
      `pdbBlocksDrain=${request.faults.pdbBlocksDrain ? 1 : 0}`,
      ...(request.etcd
        ? [`etcd=${request.etcd.mode}`, `etcdBin=${request.etcd.bin}`, `etcdHeartbeatMs=${request.etcd.heartbeatMs}`, `etcdElectionMs=${request.etcd.electionMs}`]
        : []),
    ],
    { detached: true, stdio: 'ignore', cwd: dir, env: { PATH: process.env.PATH ?? '' } },
  );
  child.on('error', () => undefined); // reported below as a machine without a live pid
  child.unref();

  const file = await awaitIdentity(dir, request.name);
  if (file.pid === null && child.pid !== undefined) {
    // The agent never wrote its pid (failed to start): record the pid we know so the machine lists as terminated.
    const withPid: MachineFile = { ...file, pid: child.pid };
    await writeJsonAtomic(path.join(dir, 'machine.json'), withPid).catch(() => undefined);
    return withPid;
  }
  return file;
}

/** Waits until the agent in `dir` has written its pid and port (or the start timeout passes). */
async function awaitIdentity(dir: string, name: string): Promise<MachineFile> {
  const deadline = performance.now() + AGENT_START_TIMEOUT_MS;
  for (;;) {
    const file = await readMachineFile(dir);
    if (file && file.pid !== null) return file;
    if (performance.now() >= deadline) {
      if (file) return file;
      throw new ProviderUnavailableError(`local machine ${name}: no identity in ${dir} after ${AGENT_START_TIMEOUT_MS} ms`);
    }
    await sleep(10);
  }
}

/**
 * How a new control-plane machine runs its etcd member: the first of its cluster uid starts a new etcd cluster
 * (kubeadm init), every later one joins the live cluster (kubeadm join --control-plane), as the EC2 bootstrap
 * decides init vs join. Fails clearly when etcd is not installed.
 */
export async function planEtcdLaunch(layout: LocalLayout, clusterUid: string, name: string, etcd: LocalEtcdSettings): Promise<EtcdLaunch> {
  try {
    await fs.access(etcd.bin, fsConstants.X_OK);
  } catch {
    throw new ProviderRejectedError(
      `local provider: control-plane machines run a real etcd member, but ${etcd.bin} is not an executable (install Debian's etcd-server and etcd-client packages, or set CAPSTAN_ETCD_BIN)`,
    );
  }
  const dir = layout.clusterMachines(clusterUid);
  const siblings = await Promise.all((await listSubdirs(dir)).filter((n) => n !== name).map((n) => readMachineFile(path.join(dir, n))));
  const joins = siblings.some((f) => f?.role === 'control-plane');
  return { mode: joins ? 'join' : 'new', bin: etcd.bin, heartbeatMs: etcd.heartbeatMs, electionMs: etcd.electionMs };
}

/** A machine to start behind Capstan's back. */
export interface OrphanRequest {
  readonly home: string;
  readonly cluster: string;
  readonly clusterUid: string;
  readonly name: string;
  /** @default 'md-0' */
  readonly pool?: string;
  /** @default 'worker' */
  readonly role?: MachineRole;
  /** @default 'v1.30.0' */
  readonly version?: string;
  readonly failureDomain?: string;
  /** @default 100 */
  readonly bootMs?: number;
  readonly clock?: Clock;
}

/**
 * Starts an agent that carries Capstan's identity but that no record knows (an orphan: a crash between the provider
 * call and the record write, or a machine left by a deleted cluster incarnation). It never calls back.
 */
export async function startOrphan(request: OrphanRequest): Promise<ProviderMachine> {
  const clock = request.clock ?? systemClock;
  const file = await launch(new LocalLayout(path.resolve(request.home)), {
    cluster: request.cluster,
    clusterUid: request.clusterUid,
    name: request.name,
    pool: request.pool ?? 'md-0',
    role: request.role ?? 'worker',
    version: request.version ?? 'v1.30.0',
    instanceType: 'local',
    ...(request.failureDomain !== undefined ? { failureDomain: request.failureDomain } : {}),
    faults: { neverBoot: false, dieDuringDrain: false, pdbBlocksDrain: false },
    bootMs: request.bootMs ?? 100,
    drainMsPerPod: 20,
    launchedAt: clock.now().toISOString(),
  });
  return toProviderMachine(file, stateOf(file, clock.now()));
}
