/**
 * The local provider: every machine is a real OS process (providers/local/machine-agent.mjs) on this computer.
 *
 * It implements the same MUST/SHOULD contract as the EC2 provider (functions/domain/provider.ts), so `npm start`
 * exercises the real workflow: idempotent creates, orphans, machines dying, slow drains, the Ready callback.
 * Machines are spawned detached: like EC2 instances they outlive the control plane that made them, and a restarted
 * control plane finds them again by listing `${home}/machines`.
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterSpec } from '../../functions/domain/cluster.js';
import { ProviderRejectedError, ProviderUnavailableError } from '../../functions/domain/errors.js';
import type { MachineRole } from '../../functions/domain/machine.js';
import { systemClock, type Clock } from '../../functions/domain/ports.js';
import type {
  ClusterRef,
  CreateMachineRequest,
  DrainResult,
  EtcdMember,
  EtcdMemberRemoval,
  InfrastructureStatus,
  MachineProvider,
  NodeHealth,
  NodeStatus,
  ProviderMachine,
  ProviderMachineState,
  ProviderScope,
} from '../../functions/domain/provider.js';
import { mapLimit } from '../../functions/reconcile/limit.js';
import { callAgent, type AgentView } from './agent-client.js';
import { isEtcdOf } from './etcd-process.js';
import { LocalEtcd } from './etcd.js';
import { NodeMonitor } from './node-monitor.js';
import { applyCallFaults, machineFaults, parseLocalFaults, type LocalFaults, type LocalOperation, type MachineFaultFlags } from './faults.js';
import {
  LocalLayout,
  isAgentAlive,
  listSubdirs,
  readMachineFile,
  waitForExit,
  writeJsonAtomic,
  type MachineFile,
} from './machine-dir.js';

/** Absolute path of the agent script, next to this file. */
export const MACHINE_AGENT_PATH = fileURLToPath(new URL('./machine-agent.mjs', import.meta.url));

/** The API endpoint the local provider reports; nothing listens there (no real Kubernetes locally). */
export const LOCAL_CONTROL_PLANE_ENDPOINT = 'https://127.0.0.1:6443';

/** How long a machine directory may stay without a pid before it counts as a failed launch. */
const PENDING_GRACE_MS = 10_000;
/** How long createMachine waits for a new agent to report its pid and port. */
const AGENT_START_TIMEOUT_MS = 5_000;
/** Agents `listNodes` asks at once. */
const AGENT_CONCURRENCY = 16;

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

/** Runtime faults of one running machine (POST /fault on its agent). */
export interface MachineFaultPatch {
  /** /healthz reports not Ready (a node gone NotReady after being Ready). */
  readonly notReady?: boolean;
  readonly pdbBlocksDrain?: boolean;
  readonly dieDuringDrain?: boolean;
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new ProviderRejectedError(`${name}: must be a non-negative number of milliseconds, got ${JSON.stringify(raw)}`);
  return n;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function stateOf(file: MachineFile, now: Date): ProviderMachineState {
  if (file.pid === null || file.pid === undefined) {
    return now.getTime() - Date.parse(file.launchedAt) < PENDING_GRACE_MS ? 'pending' : 'terminated';
  }
  return isAgentAlive(file.pid, file.name) ? 'running' : 'terminated';
}

function toProviderMachine(file: MachineFile, state: ProviderMachineState): ProviderMachine {
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

/** Identity of a machine to launch (shared by createMachine and startOrphan). */
interface LaunchRequest {
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
  readonly bootMs: number;
  readonly drainMsPerPod: number;
  readonly launchedAt: string;
  /** Control-plane machines: start a new etcd cluster, or join the live one. @default 'off' */
  readonly etcd?: { readonly mode: 'new' | 'join'; readonly bin: string; readonly heartbeatMs: number; readonly electionMs: number };
}

/**
 * Launches (or finds) one machine: stage its directory, rename it into place (the lock), spawn the agent detached,
 * wait for its pid and port.
 */
async function launch(layout: LocalLayout, request: LaunchRequest): Promise<MachineFile> {
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
      `bootMs=${request.bootMs}`,
      `drainMsPerPod=${request.drainMsPerPod}`,
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

/** What the node monitor knows a machine process by (a reused name of another incarnation or pid is another node). */
function nodeKey(file: MachineFile): string {
  return `${file.clusterUid}/${file.name}/${file.pid ?? 'pending'}`;
}

/** A machine's identity file and whether its agent runs (it has a port and a live process). */
function agentState(file: MachineFile): { file: MachineFile; alive: boolean } {
  return { file, alive: file.port !== null && isAgentAlive(file.pid, file.name) };
}

/**
 * A `MachineProvider` whose machines are local OS processes.
 *
 * Note: `deleteMachine` receives no cluster uid (the contract's `Pick<ProviderMachine, 'name'|'providerId'|'cluster'>`),
 * so it finds the machine by cluster name + machine name across uids, narrowed by the pid in `providerId`.
 */
export class LocalProvider implements MachineProvider {
  readonly name = 'local' as const;
  readonly callsBack = true;
  readonly layout: LocalLayout;
  private faults: LocalFaults;
  private readonly bootMs: number;
  private readonly drainMsPerPod: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly terminateGraceMs: number;
  private readonly agentTimeoutMs: number;
  /** When each agent last answered: hung agents turn Ready=Unknown after the grace period. */
  private readonly nodeMonitor: NodeMonitor;
  private readonly etcdBin: string;
  private readonly etcdHeartbeatMs: number;
  private readonly etcdElectionMs: number;

  constructor(options: LocalProviderOptions) {
    this.layout = new LocalLayout(path.resolve(options.home));
    this.bootMs = options.bootMs ?? envNumber('CAPSTAN_LOCAL_BOOT_MS', 2000);
    this.drainMsPerPod = options.drainMsPerPod ?? envNumber('CAPSTAN_LOCAL_DRAIN_MS_PER_POD', 200);
    this.faults = options.faults ?? parseLocalFaults(process.env.CAPSTAN_LOCAL_FAULTS);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.terminateGraceMs = options.terminateGraceMs ?? 2000;
    this.agentTimeoutMs = options.agentTimeoutMs ?? 2000;
    this.nodeMonitor = new NodeMonitor(options.nodeMonitorGraceMs ?? envNumber('CAPSTAN_NODE_MONITOR_GRACE_MS', 40_000));
    this.etcdBin = options.etcdBin ?? (process.env.CAPSTAN_ETCD_BIN || '/usr/bin/etcd');
    this.etcdHeartbeatMs = options.etcdHeartbeatMs ?? 50;
    this.etcdElectionMs = options.etcdElectionMs ?? 1000;
  }

  /** Replaces the injected faults (tests turn faults on and off between steps). */
  setFaults(faults: LocalFaults): void {
    this.faults = faults;
  }

  /** The faults currently injected. */
  getFaults(): LocalFaults {
    return this.faults;
  }

  private guard(operation: LocalOperation, context?: { failureDomain?: string }): Promise<void> {
    return applyCallFaults(this.faults, operation, this.random, context);
  }

  private assertLocal(scope: ProviderScope): void {
    if (scope.provider !== 'local') {
      throw new ProviderRejectedError(`scope.provider: the local provider serves 'local', got ${JSON.stringify(scope.provider)}`);
    }
  }

  async ensureInfrastructure(cluster: ClusterRef, spec: ClusterSpec): Promise<InfrastructureStatus> {
    await this.guard('ensureInfrastructure');
    this.assertLocal(cluster.scope);
    const dir = this.layout.infraDir(cluster.uid);
    await fs.mkdir(dir, { recursive: true });
    const status: InfrastructureStatus = {
      ready: true,
      controlPlaneEndpoint: LOCAL_CONTROL_PLANE_ENDPOINT,
      // Decision: report the spec's failure domains as they are; [] means one implicit domain, as in the spec.
      failureDomains: [...spec.failureDomains],
    };
    await writeJsonAtomic(path.join(dir, 'infra.json'), { cluster: cluster.name, clusterUid: cluster.uid, ...status });
    return status;
  }

  async deleteInfrastructure(cluster: ClusterRef, _spec: ClusterSpec): Promise<{ readonly done: boolean }> {
    await this.guard('deleteInfrastructure');
    this.assertLocal(cluster.scope);
    const machinesDir = this.layout.clusterMachines(cluster.uid);
    if ((await listSubdirs(machinesDir)).length > 0) return { done: false }; // dependency order: machines first
    await fs.rm(machinesDir, { recursive: true, force: true });
    await fs.rm(this.layout.infraDir(cluster.uid), { recursive: true, force: true });
    return { done: true };
  }

  async createMachine(request: CreateMachineRequest): Promise<ProviderMachine> {
    await this.guard('createMachine', request.failureDomain !== undefined ? { failureDomain: request.failureDomain } : {});
    this.assertLocal(request.cluster.scope);
    const etcd = request.role === 'control-plane' ? await this.etcdLaunch(request.cluster.uid, request.name) : undefined;
    const file = await launch(this.layout, {
      ...(etcd ? { etcd } : {}),
      cluster: request.cluster.name,
      clusterUid: request.cluster.uid,
      name: request.name,
      pool: request.pool,
      role: request.role,
      version: request.version,
      instanceType: request.template.instanceType,
      ...(request.failureDomain !== undefined ? { failureDomain: request.failureDomain } : {}),
      bootstrap: { callbackUrl: request.bootstrap.callbackUrl, callbackToken: request.bootstrap.callbackToken },
      faults: machineFaults(this.faults, request.name, this.random),
      bootMs: this.bootMs,
      drainMsPerPod: this.drainMsPerPod,
      launchedAt: this.clock.now().toISOString(),
    });
    return toProviderMachine(file, stateOf(file, this.clock.now()));
  }

  async listMachines(scope: ProviderScope, filter: { readonly cluster?: string } = {}): Promise<ProviderMachine[]> {
    await this.guard('listMachines');
    this.assertLocal(scope);
    const now = this.clock.now();
    const root = this.layout.machinesRoot;
    const perCluster = await Promise.all(
      (await listSubdirs(root)).map(async (uid) => {
        const names = await listSubdirs(path.join(root, uid));
        const files = await Promise.all(names.map((name) => readMachineFile(path.join(root, uid, name))));
        return files.filter((f): f is MachineFile => f !== undefined);
      }),
    );
    return perCluster
      .flat()
      .filter((f) => filter.cluster === undefined || f.cluster === filter.cluster)
      .map((f) => toProviderMachine(f, stateOf(f, now)))
      .sort((a, b) => a.cluster.localeCompare(b.cluster) || a.name.localeCompare(b.name));
  }

  async deleteMachine(scope: ProviderScope, machine: Pick<ProviderMachine, 'name' | 'providerId' | 'cluster'>): Promise<void> {
    await this.guard('deleteMachine');
    this.assertLocal(scope);
    const pidMatch = /^local:\/\/\/(\d+)$/.exec(machine.providerId ?? '');
    const wantedPid = pidMatch ? Number(pidMatch[1]) : undefined;
    const root = this.layout.machinesRoot;
    for (const uid of await listSubdirs(root)) {
      const dir = path.join(root, uid, machine.name);
      const file = await readMachineFile(dir);
      if (!file || file.cluster !== machine.cluster) continue;
      if (wantedPid !== undefined && file.pid !== null && file.pid !== wantedPid) continue;
      await this.terminate(dir, file);
    }
    // Nothing matched: already gone, which is success (P4).
  }

  /**
   * How a new control-plane machine runs its etcd member: the first of its cluster uid starts a new etcd cluster
   * (kubeadm init), every later one joins the live cluster (kubeadm join --control-plane), as the EC2 bootstrap
   * decides init vs join. Fails clearly when etcd is not installed.
   */
  private async etcdLaunch(clusterUid: string, name: string): Promise<NonNullable<LaunchRequest['etcd']>> {
    try {
      await fs.access(this.etcdBin, fsConstants.X_OK);
    } catch {
      throw new ProviderRejectedError(
        `local provider: control-plane machines run a real etcd member, but ${this.etcdBin} is not an executable (install Debian's etcd-server and etcd-client packages, or set CAPSTAN_ETCD_BIN)`,
      );
    }
    const dir = this.layout.clusterMachines(clusterUid);
    const siblings = await Promise.all((await listSubdirs(dir)).filter((n) => n !== name).map((n) => readMachineFile(path.join(dir, n))));
    const joins = siblings.some((f) => f?.role === 'control-plane');
    return { mode: joins ? 'join' : 'new', bin: this.etcdBin, heartbeatMs: this.etcdHeartbeatMs, electionMs: this.etcdElectionMs };
  }

  /**
   * SIGTERM, SIGKILL after the grace, then remove the directory (which also stops an agent we could not signal).
   * Note: the agent kills its etcd member when it exits; a member left by an agent that was SIGKILLed is killed here
   * (by the pid in etcd.json, checked against its data dir), so no etcd outlives its machine.
   */
  private async terminate(dir: string, file: MachineFile): Promise<void> {
    if (file.pid !== null && isAgentAlive(file.pid, file.name)) {
      try {
        process.kill(file.pid, 'SIGTERM');
        process.kill(file.pid, 'SIGCONT'); // a hung (stopped) agent handles SIGTERM only once it runs again
      } catch {
        /* exited in between */
      }
      if (!(await waitForExit(file.pid, file.name, this.terminateGraceMs))) {
        try {
          process.kill(file.pid, 'SIGKILL');
        } catch {
          /* exited in between */
        }
        await waitForExit(file.pid, file.name, 1000);
      }
    }
    this.nodeMonitor.forget(nodeKey(file));
    // An etcd the agent was starting as it died may write its data dir after the first kill: kill and remove again.
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

  /** The running agent of a machine, or why there is none. */
  private async agentOf(cluster: ClusterRef, machineName: string): Promise<{ file: MachineFile; alive: boolean } | undefined> {
    this.assertLocal(cluster.scope);
    const file = await readMachineFile(this.layout.machineDir(cluster.uid, machineName));
    return file ? agentState(file) : undefined;
  }

  private async ask(file: MachineFile, method: 'GET' | 'POST', route: string, body?: unknown): Promise<AgentView | undefined> {
    try {
      return await callAgent(file.port ?? 0, method, route, body, this.agentTimeoutMs);
    } catch (error) {
      // An agent that died mid-call is a lost node (undefined); a live one that did not answer is a provider fault.
      if (!(await waitForExit(file.pid ?? 0, file.name, 500))) {
        throw new ProviderUnavailableError(`local machine ${file.name}: agent did not answer ${method} ${route}: ${(error as Error).message}`);
      }
      return undefined;
    }
  }

  /**
   * The node of a machine as Kubernetes would show it: the agent's answer, a dead machine's NotReady node, a hung
   * agent's last reported node (Ready=Unknown after the node-monitor grace period), or undefined when no node
   * registered (never booted, or no pid yet). A hung agent that never answered is ProviderUnavailableError within
   * the grace period (no information).
   */
  private async nodeOf(agent: { readonly file: MachineFile; readonly alive: boolean }): Promise<NodeStatus | undefined> {
    // A dead machine's Node object stays behind, NotReady (the kubelet stopped posting status), until deleteNode.
    const lost: NodeStatus = { ready: false, cordoned: false, pods: 0 };
    const key = nodeKey(agent.file);
    if (await nodeDeleted(this.layout.machineDir(agent.file.clusterUid, agent.file.name))) return undefined;
    if (!agent.alive) {
      this.nodeMonitor.forget(key);
      return agent.file.pid === null ? undefined : lost;
    }
    let view: AgentView | undefined;
    try {
      view = await this.ask(agent.file, 'GET', '/healthz');
    } catch (error) {
      const known = error instanceof ProviderUnavailableError ? this.nodeMonitor.silent(key, this.clock.now().getTime()) : undefined;
      if (!known) throw error;
      return known;
    }
    if (!view) {
      this.nodeMonitor.forget(key);
      return lost;
    }
    const node = view.registered ? { ready: view.ready, cordoned: view.cordoned, pods: view.pods } : undefined;
    this.nodeMonitor.reported(key, node, this.clock.now().getTime());
    return node;
  }

  /** Whether `error` is a hung agent's silence past the grace period: its node is Ready=Unknown (unreachable). */
  private unreachable(file: MachineFile, error: unknown): boolean {
    return error instanceof ProviderUnavailableError && this.nodeMonitor.isUnknown(nodeKey(file), this.clock.now().getTime());
  }

  async getNode(cluster: ClusterRef, machineName: string): Promise<NodeStatus | undefined> {
    await this.guard('getNode');
    const agent = await this.agentOf(cluster, machineName);
    return agent ? this.nodeOf(agent) : undefined;
  }

  /**
   * Every machine directory of the cluster uid, judged as `getNode` would; live agents are asked concurrently.
   *
   * Note: a live agent that does not answer keeps its last reported health, and reads Ready=Unknown once the
   * node-monitor grace period has passed since its last answer (NodeMonitor); one that never answered is left out
   * until then (no information). One hung agent never fails the whole list nor hides the cluster's other nodes.
   */
  async listNodes(cluster: ClusterRef): Promise<ReadonlyMap<string, NodeHealth>> {
    await this.guard('listNodes');
    this.assertLocal(cluster.scope);
    const dir = this.layout.clusterMachines(cluster.uid);
    const nodes = await mapLimit(await listSubdirs(dir), AGENT_CONCURRENCY, async (name) => {
      const file = await readMachineFile(path.join(dir, name));
      const node = file
        ? await this.nodeOf(agentState(file)).catch((error: unknown) => {
            if (error instanceof ProviderUnavailableError) return undefined;
            throw error;
          })
        : undefined;
      return [name, node] as const;
    });
    const out = new Map<string, NodeHealth>();
    for (const [name, node] of nodes) {
      if (node) out.set(name, { ready: node.ready, cordoned: node.cordoned, ...(node.readyStatus ? { readyStatus: node.readyStatus } : {}) });
    }
    return out;
  }

  async cordon(cluster: ClusterRef, machineName: string): Promise<void> {
    await this.guard('cordon');
    const agent = await this.agentOf(cluster, machineName);
    if (!agent?.alive) return; // no node to cordon: nothing can be scheduled on it either
    try {
      await this.ask(agent.file, 'POST', '/cordon');
    } catch (error) {
      // Cordoning is a write to the Node object in the API server: it succeeds on a node whose kubelet is gone.
      if (!this.unreachable(agent.file, error)) throw error;
    }
  }

  /**
   * Cordons and evicts, waiting at most `timeoutSeconds` for the pods to go.
   *
   * Returns early when only PDB-protected pods remain (waiting would not help); `force` deletes them anyway.
   * A machine that is gone (or dies while draining) has nothing left to evict: `done: true`; so has a hung one whose
   * node is Ready=Unknown (Cluster API drains an unreachable node without waiting for its pods, which can never
   * finish terminating).
   */
  async drain(cluster: ClusterRef, machineName: string, options: { readonly timeoutSeconds: number; readonly force: boolean }): Promise<DrainResult> {
    await this.guard('drain');
    const agent = await this.agentOf(cluster, machineName);
    if (!agent?.alive) return { done: true };
    try {
      return await this.drainAgent(agent.file, options);
    } catch (error) {
      if (this.unreachable(agent.file, error)) return { done: true };
      throw error;
    }
  }

  /** The drain loop against a live agent (see `drain`). */
  private async drainAgent(file: MachineFile, options: { readonly timeoutSeconds: number; readonly force: boolean }): Promise<DrainResult> {
    const deadline = performance.now() + Math.max(0, options.timeoutSeconds) * 1000;
    let view = await this.ask(file, 'POST', '/drain', { force: options.force });
    const pollMs = Math.min(100, Math.max(10, Math.floor(this.drainMsPerPod / 2)));
    for (;;) {
      if (!view || view.dying) {
        await waitForExit(file.pid ?? 0, file.name, 1000);
        return { done: true };
      }
      if (!view.registered || view.pods === 0) return { done: true };
      const pdbOnly = view.blockedBy.length > 0 && view.blockedBy.length >= view.pods;
      if (pdbOnly || performance.now() >= deadline) {
        return view.blockedBy.length > 0 ? { done: false, blockedBy: view.blockedBy } : { done: false };
      }
      await sleep(Math.min(pollMs, Math.max(1, deadline - performance.now())));
      view = await this.ask(file, 'GET', '/healthz');
    }
  }

  async listEtcdMembers(cluster: ClusterRef): Promise<readonly EtcdMember[]> {
    await this.guard('listEtcdMembers');
    this.assertLocal(cluster.scope);
    return new LocalEtcd(this.layout.clusterMachines(cluster.uid)).members();
  }

  async removeControlPlaneMember(cluster: ClusterRef, machineName: string): Promise<EtcdMemberRemoval> {
    await this.guard('removeControlPlaneMember');
    this.assertLocal(cluster.scope);
    return new LocalEtcd(this.layout.clusterMachines(cluster.uid)).removeMachineMember(machineName);
  }

  async removeEtcdMember(cluster: ClusterRef, memberId: string): Promise<EtcdMemberRemoval> {
    await this.guard('removeEtcdMember');
    this.assertLocal(cluster.scope);
    return new LocalEtcd(this.layout.clusterMachines(cluster.uid)).removeMember(memberId);
  }

  /**
   * The Node object of a local machine is its agent's registration; what is left of it once the machine is gone is
   * the NotReady node of a dead machine's directory, which a `node-deleted` marker hides (P12). Absent = success.
   */
  async deleteNode(cluster: ClusterRef, machineName: string): Promise<void> {
    await this.guard('deleteNode');
    this.assertLocal(cluster.scope);
    const dir = this.layout.machineDir(cluster.uid, machineName);
    if (!(await readMachineFile(dir))) return;
    await fs.writeFile(path.join(dir, 'node-deleted'), '').catch(() => undefined); // the directory went meanwhile: gone too
  }

  /** Changes a running machine's faults (e.g. `notReady: true` for health-check tests). False when it is not running. */
  async injectMachineFault(cluster: ClusterRef, machineName: string, patch: MachineFaultPatch): Promise<boolean> {
    const agent = await this.agentOf(cluster, machineName);
    if (!agent?.alive) return false;
    return (await this.ask(agent.file, 'POST', '/fault', patch)) !== undefined;
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


async function nodeDeleted(dir: string): Promise<boolean> {
  return fs.access(path.join(dir, 'node-deleted')).then(
    () => true,
    () => false,
  );
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
