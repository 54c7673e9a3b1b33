/**
 * How the local provider sees its machines: the `ProviderMachine` of a machine directory (its state judged from the
 * pid and the launch time) and the walks over `${home}/machines/<clusterUid>/<name>` that list and find them.
 *
 * Its own file because listing is the provider's only memory: a restarted control plane knows its machines from
 * these directories alone, so how a directory reads as a machine is one rule shared by create, list and orphans.
 */
import path from 'node:path';
import type { ProviderMachine, ProviderMachineState } from '../../functions/domain/provider.js';
import { isAgentAlive, listSubdirs, readMachineFile, type MachineFile } from './machine-dir.js';

/** How long a machine directory may stay without a pid before it counts as a failed launch. */
const PENDING_GRACE_MS = 10_000;

/** The state of a machine directory: pending while its agent starts, running while the agent lives, else terminated. */
export function stateOf(file: MachineFile, now: Date): ProviderMachineState {
  if (file.pid === null || file.pid === undefined) {
    return now.getTime() - Date.parse(file.launchedAt) < PENDING_GRACE_MS ? 'pending' : 'terminated';
  }
  return isAgentAlive(file.pid, file.name) ? 'running' : 'terminated';
}

/** The contract's view of a machine directory (`providerId` is `local:///<pid>`). */
export function toProviderMachine(file: MachineFile, state: ProviderMachineState): ProviderMachine {
  return {
    name: file.name,
    cluster: file.cluster,
    clusterUid: file.clusterUid,
    pool: file.pool,
    role: file.role,
    providerId: file.pid ? `local:///${file.pid}` : 'local:///pending',
    state,
    ...(file.failureDomain !== undefined ? { failureDomain: file.failureDomain } : {}),
    ...(file.port ? { address: `127.0.0.1:${file.port}` } : {}),
    launchedAt: file.launchedAt,
  };
}

/** The identity file of every machine directory under `root` (`${home}/machines`), all cluster uids. */
export async function readAllMachineFiles(root: string): Promise<MachineFile[]> {
  const perCluster = await Promise.all(
    (await listSubdirs(root)).map(async (uid) => {
      const names = await listSubdirs(path.join(root, uid));
      const files = await Promise.all(names.map((name) => readMachineFile(path.join(root, uid, name))));
      return files.filter((f): f is MachineFile => f !== undefined);
    }),
  );
  return perCluster.flat();
}

/**
 * The machine directories under `root` that `deleteMachine` means: the name in any cluster uid, of the cluster name,
 * narrowed by the pid in `providerId` when it has one (a pending machine, without a pid, always matches).
 *
 * Note: a generator, so each match is read only after the caller has dealt with the one before (one uid at a time).
 */
export async function* machinesMatching(
  root: string,
  machine: Pick<ProviderMachine, 'name' | 'providerId' | 'cluster'>,
): AsyncGenerator<{ readonly dir: string; readonly file: MachineFile }> {
  const pidMatch = /^local:\/\/\/(\d+)$/.exec(machine.providerId ?? '');
  const wantedPid = pidMatch ? Number(pidMatch[1]) : undefined;
  for (const uid of await listSubdirs(root)) {
    const dir = path.join(root, uid, machine.name);
    const file = await readMachineFile(dir);
    if (!file || file.cluster !== machine.cluster) continue;
    if (wantedPid !== undefined && file.pid !== null && file.pid !== wantedPid) continue;
    yield { dir, file };
  }
}
