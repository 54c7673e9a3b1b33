/**
 * The local provider: every machine is a real OS process (providers/local/machine-agent.mjs) on this computer.
 *
 * It implements the same MUST/SHOULD contract as the EC2 provider (functions/domain/provider.ts), so `npm start`
 * exercises the real workflow: idempotent creates, orphans, machines dying, slow drains, the Ready callback.
 * Machines are spawned detached: like EC2 instances they outlive the control plane that made them, and a restarted
 * control plane finds them again by listing `${home}/machines`.
 *
 * The class keeps the contract's surface (guards, scope checks, dependency order); the work is in the files beside
 * it: local-options.ts (defaults), machine-launch.ts (spawning agents), machine-listing.ts (directories as
 * machines), machine-cleanup.ts (signals and removal), agent-nodes.ts (agent calls, node health, drain).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ClusterSpec } from '../../functions/domain/cluster.js';
import { ProviderRejectedError } from '../../functions/domain/errors.js';
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
  ProviderScope,
} from '../../functions/domain/provider.js';
import { AgentNodes, agentState, type AgentState } from './agent-nodes.js';
import { LocalEtcd } from './etcd.js';
import { applyCallFaults, machineFaults, type LocalFaults, type LocalOperation } from './faults.js';
import { resolveLocalSettings, type LocalProviderOptions, type LocalSettings } from './local-options.js';
import { markNodeDeleted, removeMachineDir, stopAgent } from './machine-cleanup.js';
import { LocalLayout, listSubdirs, readMachineFile, writeJsonAtomic, type MachineFile } from './machine-dir.js';
import { launch, planEtcdLaunch } from './machine-launch.js';
import { machinesMatching, readAllMachineFiles, stateOf, toProviderMachine } from './machine-listing.js';

export type { LocalProviderOptions } from './local-options.js';
export { killEtcdOf, killMachineProcess } from './machine-cleanup.js';
export { MACHINE_AGENT_PATH, startOrphan, type OrphanRequest } from './machine-launch.js';

/** The API endpoint the local provider reports; nothing listens there (no real Kubernetes locally). */
export const LOCAL_CONTROL_PLANE_ENDPOINT = 'https://127.0.0.1:6443';

/** Runtime faults of one running machine (POST /fault on its agent). */
export interface MachineFaultPatch {
  /** /healthz reports not Ready (a node gone NotReady after being Ready). */
  readonly notReady?: boolean;
  readonly pdbBlocksDrain?: boolean;
  readonly dieDuringDrain?: boolean;
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
  private readonly settings: LocalSettings;
  /** The agents' nodes, with the node monitor that turns hung agents Ready=Unknown after the grace period. */
  private readonly nodes: AgentNodes;

  constructor(options: LocalProviderOptions) {
    this.layout = new LocalLayout(path.resolve(options.home));
    this.settings = resolveLocalSettings(options);
    this.faults = this.settings.faults;
    const { clock, agentTimeoutMs, nodeMonitorGraceMs, drainMsPerPod } = this.settings;
    this.nodes = new AgentNodes({ layout: this.layout, clock, agentTimeoutMs, nodeMonitorGraceMs, drainMsPerPod });
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
    return applyCallFaults(this.faults, operation, this.settings.random, context);
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
    const etcd = request.role === 'control-plane' ? await planEtcdLaunch(this.layout, request.cluster.uid, request.name, this.settings.etcd) : undefined;
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
      faults: machineFaults(this.faults, request.name, this.settings.random),
      bootMs: this.settings.bootMs,
      drainMsPerPod: this.settings.drainMsPerPod,
      launchedAt: this.settings.clock.now().toISOString(),
    });
    return toProviderMachine(file, stateOf(file, this.settings.clock.now()));
  }

  async listMachines(scope: ProviderScope, filter: { readonly cluster?: string } = {}): Promise<ProviderMachine[]> {
    await this.guard('listMachines');
    this.assertLocal(scope);
    const now = this.settings.clock.now();
    return (await readAllMachineFiles(this.layout.machinesRoot))
      .filter((f) => filter.cluster === undefined || f.cluster === filter.cluster)
      .map((f) => toProviderMachine(f, stateOf(f, now)))
      .sort((a, b) => a.cluster.localeCompare(b.cluster) || a.name.localeCompare(b.name));
  }

  async deleteMachine(scope: ProviderScope, machine: Pick<ProviderMachine, 'name' | 'providerId' | 'cluster'>): Promise<void> {
    await this.guard('deleteMachine');
    this.assertLocal(scope);
    for await (const { dir, file } of machinesMatching(this.layout.machinesRoot, machine)) {
      await this.terminate(dir, file);
    }
    // Nothing matched: already gone, which is success (P4).
  }

  /**
   * SIGTERM, SIGKILL after the grace, then remove the directory (which also stops an agent we could not signal).
   * Note: the agent kills its etcd member when it exits; a member left by an agent that was SIGKILLed is killed here
   * (by the pid in etcd.json, checked against its data dir), so no etcd outlives its machine.
   */
  private async terminate(dir: string, file: MachineFile): Promise<void> {
    await stopAgent(file, this.settings.terminateGraceMs);
    this.nodes.forget(file);
    await removeMachineDir(dir);
  }

  /** The running agent of a machine, or why there is none. */
  private async agentOf(cluster: ClusterRef, machineName: string): Promise<AgentState | undefined> {
    this.assertLocal(cluster.scope);
    const file = await readMachineFile(this.layout.machineDir(cluster.uid, machineName));
    return file ? agentState(file) : undefined;
  }

  async getNode(cluster: ClusterRef, machineName: string): Promise<NodeStatus | undefined> {
    await this.guard('getNode');
    const agent = await this.agentOf(cluster, machineName);
    return agent ? this.nodes.nodeOf(agent) : undefined;
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
    return this.nodes.list(this.layout.clusterMachines(cluster.uid));
  }

  async cordon(cluster: ClusterRef, machineName: string): Promise<void> {
    await this.guard('cordon');
    const agent = await this.agentOf(cluster, machineName);
    if (!agent?.alive) return; // no node to cordon: nothing can be scheduled on it either
    try {
      await this.nodes.ask(agent.file, 'POST', '/cordon');
    } catch (error) {
      // Cordoning is a write to the Node object in the API server: it succeeds on a node whose kubelet is gone.
      if (!this.nodes.unreachable(agent.file, error)) throw error;
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
      return await this.nodes.drain(agent.file, options);
    } catch (error) {
      if (this.nodes.unreachable(agent.file, error)) return { done: true };
      throw error;
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
    await markNodeDeleted(this.layout.machineDir(cluster.uid, machineName));
  }

  /** Changes a running machine's faults (e.g. `notReady: true` for health-check tests). False when it is not running. */
  async injectMachineFault(cluster: ClusterRef, machineName: string, patch: MachineFaultPatch): Promise<boolean> {
    const agent = await this.agentOf(cluster, machineName);
    if (!agent?.alive) return false;
    return (await this.nodes.ask(agent.file, 'POST', '/fault', patch)) !== undefined;
  }
}
