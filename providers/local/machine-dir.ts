/**
 * The on-disk layout of the local "cloud" and how to tell whether a machine's process is alive.
 *
 * ```
 * ${home}/machines/<clusterUid>/<machineName>/machine.json     identity + pid + port (P2)
 *                                            /bootstrap.json   callback url + token, mode 0600, deleted after the callback
 * ${home}/infra/<clusterUid>/infra.json                         what ensureInfrastructure made
 * ```
 *
 * Note: a machine directory appears atomically (staged under a dot-name, then renamed into place), so a reader
 * never sees a machine without its identity, and the rename is the lock that stops two creators.
 */
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { ProviderRejectedError } from '../../functions/domain/errors.js';
import type { MachineRole } from '../../functions/domain/machine.js';

/** What `machine.json` holds. `pid`/`port` are null until the agent has started listening. */
export interface MachineFile {
  readonly cluster: string;
  readonly clusterUid: string;
  readonly name: string;
  readonly pool: string;
  readonly role: MachineRole;
  readonly version: string;
  readonly failureDomain?: string;
  readonly instanceType: string;
  readonly launchedAt: string;
  readonly pid: number | null;
  readonly port: number | null;
}

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/** Rejects names that could escape the state directory (`..`, `/`), so a bad request can never touch other files. */
export function assertSafeSegment(field: string, value: string): void {
  if (!SAFE_SEGMENT.test(value) || value.includes('..')) {
    throw new ProviderRejectedError(`${field}: must be letters, digits, '.', '_' or '-' (no '..'), got ${JSON.stringify(value)}`);
  }
}

/** Paths of the local cloud under one CAPSTAN_HOME. */
export class LocalLayout {
  constructor(readonly home: string) {}

  get machinesRoot(): string {
    return path.join(this.home, 'machines');
  }

  clusterMachines(clusterUid: string): string {
    assertSafeSegment('cluster uid', clusterUid);
    return path.join(this.machinesRoot, clusterUid);
  }

  machineDir(clusterUid: string, name: string): string {
    assertSafeSegment('machine name', name);
    return path.join(this.clusterMachines(clusterUid), name);
  }

  infraDir(clusterUid: string): string {
    assertSafeSegment('cluster uid', clusterUid);
    return path.join(this.home, 'infra', clusterUid);
  }
}

/** Reads `<dir>/machine.json`; undefined when the machine (or its identity) is not there. */
export async function readMachineFile(dir: string): Promise<MachineFile | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, 'machine.json'), 'utf8')) as MachineFile;
  } catch {
    return undefined;
  }
}

/** Writes a JSON file atomically (tmp + rename) so a reader never sees half a file. */
export async function writeJsonAtomic(file: string, value: unknown, mode = 0o644): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(value, null, 2), { mode });
  await fs.rename(tmp, file);
}

/** Subdirectories of `dir` that are machines or clusters (not staging dot-dirs); [] when `dir` is missing. */
export async function listSubdirs(dir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch {
    return [];
  }
}

const hasProc = (() => {
  try {
    readFileSync('/proc/self/cmdline');
    return true;
  } catch {
    return false;
  }
})();

/**
 * Whether `pid` is the live agent of `machine`.
 *
 * Note: `kill(pid, 0)` alone is not enough: it succeeds on zombies and on an unrelated process that reused the pid.
 * Where /proc exists, the process must also still carry the machine's name on its command line.
 */
export function isAgentAlive(pid: number | null | undefined, machine: string): boolean {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (!hasProc) return true;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return cmdline.includes('capstan-machine') && cmdline.includes(`machine=${machine} `);
  } catch {
    return false;
  }
}

/** Waits until `pid` is no longer the live agent of `machine`; true when it went within `timeoutMs`. */
export async function waitForExit(pid: number, machine: string, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (isAgentAlive(pid, machine)) {
    if (performance.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 15));
  }
  return true;
}
