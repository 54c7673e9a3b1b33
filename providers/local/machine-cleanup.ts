/**
 * The end of a local machine: stopping its agent (SIGTERM, then SIGKILL after a grace), killing an etcd member the
 * agent left behind, removing its directory, and the `node-deleted` marker that stands for a deleted Node object.
 * Also `killMachineProcess`, the crash tests use.
 *
 * Its own file because every signal the provider sends is here, each one guarded so that a reused pid is never
 * signalled (the agent's pid checked against its machine name, etcd's against its data dir).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isEtcdOf } from './etcd-process.js';
import { LocalLayout, isAgentAlive, readMachineFile, waitForExit, type MachineFile } from './machine-dir.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Name of the file whose presence in a machine directory means its Node object was deleted (P12). */
const NODE_DELETED_FILE = 'node-deleted';

/**
 * Stops the agent of `file` if it runs: SIGTERM (and SIGCONT, for a hung one), then SIGKILL once `graceMs` has passed.
 * The first half of `LocalProvider.terminate`; `removeMachineDir` is the second.
 */
export async function stopAgent(file: MachineFile, graceMs: number): Promise<void> {
  if (file.pid !== null && isAgentAlive(file.pid, file.name)) {
    try {
      process.kill(file.pid, 'SIGTERM');
      process.kill(file.pid, 'SIGCONT'); // a hung (stopped) agent handles SIGTERM only once it runs again
    } catch {
      /* exited in between */
    }
    if (!(await waitForExit(file.pid, file.name, graceMs))) {
      try {
        process.kill(file.pid, 'SIGKILL');
      } catch {
        /* exited in between */
      }
      await waitForExit(file.pid, file.name, 1000);
    }
  }
}

/**
 * Kills the etcd member of the machine in `dir` (if one is left) and removes the directory, which also stops an
 * agent that could not be signalled.
 *
 * Note: an etcd the agent was starting as it died may write its data dir after the first kill: kill and remove again.
 */
export async function removeMachineDir(dir: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await killEtcdOf(dir);
    try {
      await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY' || attempt >= 5) throw error;
      await sleep(200);
    }
  }
}

/**
 * Kills a machine's process with `signal` (default SIGKILL) and leaves its directory, as a crashed instance would.
 * For tests of health checks and the sweep. Returns the pid signalled, or undefined when none was running.
 */
export async function killMachineProcess(home: string, clusterUid: string, name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | undefined> {
  const file = await readMachineFile(new LocalLayout(path.resolve(home)).machineDir(clusterUid, name));
  if (!file || !isAgentAlive(file.pid, name) || file.pid === null) return undefined;
  process.kill(file.pid, signal);
  await waitForExit(file.pid, name, 2000);
  // A crashed instance loses every process on it: its etcd member (the agent's child, same group) dies too.
  if (signal === 'SIGKILL') await killEtcdOf(new LocalLayout(path.resolve(home)).machineDir(clusterUid, name));
  return file.pid;
}

/**
 * SIGKILLs the etcd member of the machine in `dir`, if one runs: the pid in its etcd.json, only while that process
 * is an etcd whose data dir is this machine's (a reused pid is never signalled).
 */
export async function killEtcdOf(dir: string): Promise<boolean> {
  let pid: number | undefined;
  try {
    pid = (JSON.parse(await fs.readFile(path.join(dir, 'etcd.json'), 'utf8')) as { pid?: number }).pid;
  } catch {
    return false;
  }
  if (typeof pid !== 'number' || !isEtcdOf(pid, dir)) return false;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return false;
  }
  for (let i = 0; i < 100 && isEtcdOf(pid, dir); i++) await sleep(10);
  return true;
}

/** Whether the Node object of the machine in `dir` was deleted (`deleteNode` left its marker). */
export async function nodeDeleted(dir: string): Promise<boolean> {
  return fs.access(path.join(dir, NODE_DELETED_FILE)).then(
    () => true,
    () => false,
  );
}

/**
 * Marks the Node object of the machine in `dir` deleted; a directory without a machine (already gone) is left alone.
 * Absent = success: a directory that goes meanwhile is gone too.
 */
export async function markNodeDeleted(dir: string): Promise<void> {
  if (!(await readMachineFile(dir))) return;
  await fs.writeFile(path.join(dir, NODE_DELETED_FILE), '').catch(() => undefined);
}
