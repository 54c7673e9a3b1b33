/**
 * The Kubernetes nodes of local machines, as the provider reads them from the machine agents: calls to an agent's
 * HTTP API, node health with the node-monitor grace of hung agents, the node list of a cluster and the drain loop.
 *
 * Its own file because it holds the provider's only in-memory state (NodeMonitor: when each agent last answered)
 * and the one rule every node call shares: a dead agent is a lost node, a live one that does not answer is a
 * provider fault until its grace period has passed, then an unreachable (Ready=Unknown) node.
 */
import path from 'node:path';
import { ProviderUnavailableError } from '../../functions/domain/errors.js';
import type { Clock } from '../../functions/domain/ports.js';
import type { DrainResult, NodeHealth, NodeStatus } from '../../functions/domain/provider.js';
import { mapLimit } from '../../functions/core/map-limit.js';
import { callAgent, type AgentView } from './agent-client.js';
import { medianMs, type DrainTime } from './local-options.js';
import { nodeDeleted } from './machine-cleanup.js';
import { isAgentAlive, listSubdirs, readMachineFile, waitForExit, type LocalLayout, type MachineFile } from './machine-dir.js';
import { NodeMonitor } from './node-monitor.js';

/** Agents `listNodes` asks at once. */
const AGENT_CONCURRENCY = 16;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A machine's identity file and whether its agent runs. */
export interface AgentState {
  readonly file: MachineFile;
  readonly alive: boolean;
}

/** A machine's identity file and whether its agent runs (it has a port and a live process). */
export function agentState(file: MachineFile): AgentState {
  return { file, alive: file.port !== null && isAgentAlive(file.pid, file.name) };
}

/** What the node monitor knows a machine process by (a reused name of another incarnation or pid is another node). */
function nodeKey(file: MachineFile): string {
  return `${file.clusterUid}/${file.name}/${file.pid ?? 'pending'}`;
}

/** What `AgentNodes` needs from the provider's settings. */
export interface AgentNodesOptions {
  readonly layout: LocalLayout;
  readonly clock: Clock;
  /** Timeout of one HTTP call to an agent. */
  readonly agentTimeoutMs: number;
  /** How long an agent may go without answering before its node reads Ready=Unknown. */
  readonly nodeMonitorGraceMs: number;
  /** How long evicting one simulated pod takes (its median sets the drain poll interval). */
  readonly drainMsPerPod: DrainTime;
}

/**
 * The nodes of the machine agents of one provider instance.
 *
 * Note: the node monitor lives as long as this object (one per `LocalProvider`): a restarted control plane grants
 * every silent node a fresh grace period, as Kubernetes' node lifecycle controller does.
 */
export class AgentNodes {
  /** When each agent last answered: hung agents turn Ready=Unknown after the grace period. */
  private readonly nodeMonitor: NodeMonitor;

  constructor(private readonly options: AgentNodesOptions) {
    this.nodeMonitor = new NodeMonitor(options.nodeMonitorGraceMs);
  }

  /** One call to the agent of `file`: its view, or undefined when the agent died (a lost node). */
  async ask(file: MachineFile, method: 'GET' | 'POST', route: string, body?: unknown): Promise<AgentView | undefined> {
    try {
      return await callAgent(file.port ?? 0, method, route, body, this.options.agentTimeoutMs);
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
  async nodeOf(agent: AgentState): Promise<NodeStatus | undefined> {
    // A dead machine's Node object stays behind, NotReady (the kubelet stopped posting status), until deleteNode.
    const lost: NodeStatus = { ready: false, cordoned: false, pods: 0 };
    const key = nodeKey(agent.file);
    if (await nodeDeleted(this.options.layout.machineDir(agent.file.clusterUid, agent.file.name))) return undefined;
    if (!agent.alive) {
      this.nodeMonitor.forget(key);
      return agent.file.pid === null ? undefined : lost;
    }
    let view: AgentView | undefined;
    try {
      view = await this.ask(agent.file, 'GET', '/healthz');
    } catch (error) {
      const known = error instanceof ProviderUnavailableError ? this.nodeMonitor.silent(key, this.options.clock.now().getTime()) : undefined;
      if (!known) throw error;
      return known;
    }
    if (!view) {
      this.nodeMonitor.forget(key);
      return lost;
    }
    const node = view.registered ? { ready: view.ready, cordoned: view.cordoned, pods: view.pods } : undefined;
    this.nodeMonitor.reported(key, node, this.options.clock.now().getTime());
    return node;
  }

  /** Whether `error` is a hung agent's silence past the grace period: its node is Ready=Unknown (unreachable). */
  unreachable(file: MachineFile, error: unknown): boolean {
    return error instanceof ProviderUnavailableError && this.nodeMonitor.isUnknown(nodeKey(file), this.options.clock.now().getTime());
  }

  /** Drops what the node monitor knows of the machine process of `file` (it is gone). */
  forget(file: MachineFile): void {
    this.nodeMonitor.forget(nodeKey(file));
  }

  /**
   * The nodes of every machine directory in `dir` (one cluster uid), judged as `nodeOf`; agents asked concurrently.
   * A machine whose agent gives no information (ProviderUnavailableError) is left out; see `LocalProvider.listNodes`.
   */
  async list(dir: string): Promise<ReadonlyMap<string, NodeHealth>> {
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

  /** The drain loop against a live agent (see `LocalProvider.drain`). */
  async drain(file: MachineFile, request: { readonly timeoutSeconds: number; readonly force: boolean }): Promise<DrainResult> {
    const deadline = performance.now() + Math.max(0, request.timeoutSeconds) * 1000;
    let view = await this.ask(file, 'POST', '/drain', { force: request.force });
    const pollMs = Math.min(100, Math.max(10, Math.floor(medianMs(this.options.drainMsPerPod) / 2)));
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
}
