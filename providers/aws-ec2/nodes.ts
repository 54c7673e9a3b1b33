/**
 * Node operations on a workload cluster through its API server (`@kubernetes/client-node`): read a node's Ready
 * condition (one node, or every node of the cluster in one LIST), cordon, and drain by Eviction (policy/v1) so
 * PodDisruptionBudgets are respected.
 *
 * Drain, within one call (P8: never longer than `timeoutSeconds`):
 *
 *   cordon ─ evict every movable pod ─ poll until gone ──┬─ all gone ─────────────────────────────→ done
 *            (429 = a PDB says no: retried each poll)     └─ deadline ─┬─ force: delete the rest ─→ done
 *                                                                      └─ wait:  report blockedBy
 *
 * DaemonSet pods and mirror (static) pods are never evicted (they would come back, or cannot be), and finished pods
 * (Succeeded/Failed) hold nothing up.
 *
 * Note: the machine name IS the node name (the bootstrap sets `nodeRegistration.name`).
 */
import type { CoreV1Api, KubeConfig, V1Node, V1Pod } from '@kubernetes/client-node';
import type { DrainResult, NodeHealth, NodeStatus } from '../../functions/domain/provider.js';
import { ProviderUnavailableError } from '../../functions/domain/errors.js';
import { realSleep } from './aws-errors.js';
import { loadKubernetesClient } from './kube-client.js';

/** Options of `NodeOperations`. */
export interface NodeOperationsOptions {
  /** How often a drain re-checks the node's pods. @default 2000 */
  readonly pollIntervalMs?: number;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds now, for the drain deadline. @default Date.now */
  readonly now?: () => number;
}

/** A pod a drain has to move. */
interface MovablePod {
  readonly namespace: string;
  readonly name: string;
}

function statusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The message of a Kubernetes Status body (the ApiException body is a JSON string or an object). */
function statusMessage(error: unknown): string {
  const body = (error as { body?: unknown } | null)?.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.slice(0, 300);
    }
  }
  const status = parsed as { message?: string; details?: { causes?: { message?: string }[] } } | undefined;
  const cause = status?.details?.causes?.[0]?.message;
  return [status?.message, cause].filter(Boolean).join(': ') || String((error as Error)?.message ?? error);
}

/** Node objects per LIST page: the client's usual chunk (kubectl's `--chunk-size`); most clusters fit one page. */
const NODE_PAGE_SIZE = 500;

/** A node's health: its Ready condition (Unknown kept: the kubelet stopped reporting) and `spec.unschedulable`. */
function healthOf(node: V1Node): NodeHealth {
  const condition = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const ready = condition?.status === 'True';
  return { ready, cordoned: node.spec?.unschedulable === true, ...(condition?.status === 'Unknown' ? { readyStatus: 'Unknown' as const } : {}) };
}

/** True when the pod belongs to a DaemonSet, is a mirror pod, or has finished: a drain leaves it alone. */
export function isDrainExempt(pod: V1Pod): boolean {
  if (pod.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined) return true;
  if ((pod.metadata?.ownerReferences ?? []).some((o) => o.kind === 'DaemonSet')) return true;
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/**
 * Node operations for one kubeconfig at a time. The kubeconfig is loaded per call (it comes from Secrets
 * Manager, see ec2-provider.ts) and never cached or logged.
 */
export class NodeOperations {
  private readonly pollIntervalMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(options: NodeOperationsOptions = {}) {
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.sleep = options.sleep ?? realSleep;
    this.now = options.now ?? Date.now;
  }

  /** The client configuration of a kubeconfig document (every API call of the provider goes through here). */
  async config(kubeconfig: string): Promise<KubeConfig> {
    const k8s = await loadKubernetesClient();
    const config = new k8s.KubeConfig();
    config.loadFromString(kubeconfig);
    return config;
  }

  /** A CoreV1Api for a kubeconfig document. */
  async api(kubeconfig: string): Promise<CoreV1Api> {
    const k8s = await loadKubernetesClient();
    return (await this.config(kubeconfig)).makeApiClient(k8s.CoreV1Api);
  }

  /** The node's view, or undefined when no node of that name has registered. */
  async getNode(api: CoreV1Api, nodeName: string): Promise<NodeStatus | undefined> {
    let node;
    try {
      node = await api.readNode({ name: nodeName });
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw this.mapError(error, `read node ${nodeName}`);
    }
    const pods = (await this.movablePods(api, nodeName)).length;
    return { ...healthOf(node), pods };
  }

  /**
   * The health of every registered node by node name (= machine name): one node LIST (paged beyond
   * NODE_PAGE_SIZE nodes), no pod listing.
   */
  async listNodes(api: CoreV1Api): Promise<Map<string, NodeHealth>> {
    const out = new Map<string, NodeHealth>();
    let _continue: string | undefined;
    try {
      do {
        const list = await api.listNode({ limit: NODE_PAGE_SIZE, ...(_continue ? { _continue } : {}) });
        for (const node of list.items) {
          if (node.metadata?.name) out.set(node.metadata.name, healthOf(node));
        }
        _continue = list.metadata?._continue || undefined;
      } while (_continue);
    } catch (error) {
      throw this.mapError(error, 'list nodes');
    }
    return out;
  }

  /**
   * Creates a kubeadm join token in the cluster: a `bootstrap.kubernetes.io/token` Secret in kube-system, usable for
   * authentication and signing, in kubeadm's node-token group, expiring at `expires`
   * (https://kubernetes.io/docs/reference/access-authn-authz/bootstrap-tokens/#bootstrap-token-secret-format).
   * Already there (a retry) is success.
   */
  async createBootstrapToken(api: CoreV1Api, token: string, expires: Date): Promise<void> {
    const [id, secret] = token.split('.');
    if (!id || !secret || !/^[a-z0-9]{6}$/.test(id) || !/^[a-z0-9]{16}$/.test(secret)) throw new Error('bootstrap token: must match [a-z0-9]{6}.[a-z0-9]{16}');
    try {
      await api.createNamespacedSecret({
        namespace: 'kube-system',
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' },
          type: 'bootstrap.kubernetes.io/token',
          stringData: {
            description: 'Capstan: join token for new machines',
            'token-id': id,
            'token-secret': secret,
            expiration: expires.toISOString().replace(/\.\d{3}Z$/, 'Z'),
            'usage-bootstrap-authentication': 'true',
            'usage-bootstrap-signing': 'true',
            'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token',
          },
        },
      });
    } catch (error) {
      if (statusCode(error) === 409) return;
      throw this.mapError(error, 'create bootstrap token');
    }
  }

  /** Marks the node unschedulable (a merge patch: idempotent). A node that is gone needs no cordon. */
  async cordon(api: CoreV1Api, nodeName: string): Promise<void> {
    const k8s = await loadKubernetesClient();
    try {
      await api.patchNode({ name: nodeName, body: { spec: { unschedulable: true } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    } catch (error) {
      if (statusCode(error) === 404) return;
      throw this.mapError(error, `cordon node ${nodeName}`);
    }
  }

  /**
   * Deletes the Node object (P12), as the Cluster API Machine controller does once the machine's infrastructure is
   * gone (core/reconcilers/machine/machine_controller.go, deleteNode). 404 = already gone = success.
   * https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/node-v1/#delete-delete-a-node
   */
  async deleteNode(api: CoreV1Api, nodeName: string): Promise<void> {
    try {
      await api.deleteNode({ name: nodeName });
    } catch (error) {
      if (statusCode(error) === 404) return;
      throw this.mapError(error, `delete node ${nodeName}`);
    }
  }

  /** Cordons, then evicts the node's movable pods (see the module timeline). */
  async drain(api: CoreV1Api, nodeName: string, options: { readonly timeoutSeconds: number; readonly force: boolean }): Promise<DrainResult> {
    const deadline = this.now() + Math.max(0, options.timeoutSeconds) * 1000;
    await this.cordon(api, nodeName);
    for (;;) {
      const pods = await this.movablePods(api, nodeName);
      if (pods.length === 0) return { done: true };
      const blockedBy: { pod: string; reason: string }[] = [];
      for (const pod of pods) {
        const reason = await this.evict(api, pod);
        if (reason) blockedBy.push({ pod: `${pod.namespace}/${pod.name}`, reason });
      }
      if (this.now() >= deadline) {
        if (!options.force) {
          const remaining = await this.movablePods(api, nodeName);
          if (remaining.length === 0) return { done: true };
          const reasons = new Map(blockedBy.map((b) => [b.pod, b.reason]));
          return { done: false, blockedBy: remaining.map((p) => ({ pod: `${p.namespace}/${p.name}`, reason: reasons.get(`${p.namespace}/${p.name}`) ?? 'terminating' })) };
        }
        for (const pod of await this.movablePods(api, nodeName)) await this.deletePod(api, pod);
        return { done: true };
      }
      await this.sleep(Math.min(this.pollIntervalMs, Math.max(0, deadline - this.now())));
    }
  }

  private async movablePods(api: CoreV1Api, nodeName: string): Promise<MovablePod[]> {
    const out: MovablePod[] = [];
    let _continue: string | undefined;
    try {
      do {
        const list = await api.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}`, limit: 500, ...(_continue ? { _continue } : {}) });
        for (const pod of list.items) {
          if (isDrainExempt(pod) || pod.metadata?.deletionTimestamp) continue;
          out.push({ namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '' });
        }
        _continue = list.metadata?._continue || undefined;
      } while (_continue);
    } catch (error) {
      throw this.mapError(error, `list pods of node ${nodeName}`);
    }
    return out;
  }

  /** Evicts one pod; returns why it cannot go yet, or undefined when the eviction was accepted (or the pod is gone). */
  private async evict(api: CoreV1Api, pod: MovablePod): Promise<string | undefined> {
    try {
      await api.createNamespacedPodEviction({
        name: pod.name,
        namespace: pod.namespace,
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.name, namespace: pod.namespace } },
      });
      return undefined;
    } catch (error) {
      const code = statusCode(error);
      if (code === 404) return undefined;
      if (code === 429) return `PodDisruptionBudget: ${statusMessage(error)}`;
      // 500 "too many PDBs", 403 namespace terminating …: report, a later drain retries.
      if (code !== undefined && code < 500 && code !== 403) throw this.mapError(error, `evict ${pod.namespace}/${pod.name}`);
      return statusMessage(error);
    }
  }

  private async deletePod(api: CoreV1Api, pod: MovablePod): Promise<void> {
    try {
      await api.deleteNamespacedPod({ name: pod.name, namespace: pod.namespace });
    } catch (error) {
      if (statusCode(error) === 404) return;
      throw this.mapError(error, `delete ${pod.namespace}/${pod.name}`);
    }
  }

  private mapError(error: unknown, what: string): Error {
    const code = statusCode(error);
    return new ProviderUnavailableError(`${what}: workload API server answered ${code ?? 'no response'}: ${statusMessage(error)}`);
  }
}
