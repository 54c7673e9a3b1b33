/**
 * etcd membership of an EC2 cluster (P10, P11), through the workload cluster's API server with the admin kubeconfig:
 * `etcdctl` runs inside a surviving control-plane node's etcd static pod (`etcd-<node>` in kube-system, labels
 * `component=etcd,tier=control-plane`, as kubeadm writes them) over pods/exec, against its local member
 * (https://127.0.0.1:2379) with the client certificate kubeadm issues under /etc/kubernetes/pki/etcd
 * (https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/kubeadm-certs/).
 *
 * Commands (etcdctl 3.4+, `-w simple`: hex ids, https://etcd.io/docs/v3.4/op-guide/runtime-configuration/):
 *   member list        → `id, started|unstarted, name, peerURLs, clientURLs, isLearner`
 *   endpoint status    → `endpoint, id, version, dbSize, isLeader, isLearner, raftTerm, raftIndex, appliedIndex, errors`
 *   move-leader <id>   → sent to the leader's own member (MoveLeader is served by the leader only)
 *   member remove <id>
 *
 * RBAC the admin kubeconfig needs (kubeadm's admin.conf is cluster-admin; a narrower identity needs): `pods` list in
 * kube-system, `pods/exec` create in kube-system, `nodes` delete (P12), besides what health checks and drain need.
 * Cluster API reaches etcd by a port-forward instead (controlplane/kubeadm/pkg/proxy); exec keeps etcdctl's own
 * command line as the contract and needs no etcd client library here.
 */
import { PassThrough } from 'node:stream';
import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { describeMember, etcdLeaderCandidate, etcdRemovalRefusal } from '../../functions/domain/etcd.js';
import { ProviderUnavailableError } from '../../functions/domain/errors.js';
import type { EtcdMember, EtcdMemberRemoval } from '../../functions/domain/provider.js';
import { loadKubernetesClient } from './kube-client.js';

/** What runs `etcdctl` in a pod: the pods/exec call, injectable for tests. */
export type EtcdctlRunner = (pod: string, args: readonly string[]) => Promise<{ stdout: string; stderr: string; ok: boolean }>;

const PKI = '/etc/kubernetes/pki/etcd';
/** Flags of every call: the node-local member, kubeadm's etcd CA and its health-check client certificate. */
export const ETCDCTL_TLS = ['--endpoints=https://127.0.0.1:2379', `--cacert=${PKI}/ca.crt`, `--cert=${PKI}/healthcheck-client.crt`, `--key=${PKI}/healthcheck-client.key`, '--command-timeout=5s'] as const;

/** Parses `etcdctl member list -w simple`. */
export function parseMemberList(out: string): { id: string; started: boolean; name: string; peerUrls: string[]; clientUrls: string[]; learner: boolean }[] {
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [id = '', started = '', name = '', peers = '', clients = '', learner = 'false'] = line.split(', ');
      const urls = (v: string) => v.split(',').filter(Boolean);
      return { id, started: started === 'started', name, peerUrls: urls(peers), clientUrls: urls(clients), learner: learner === 'true' };
    });
}

/** Parses `etcdctl endpoint status -w simple`: the member id and whether it leads. */
export function parseEndpointStatus(out: string): { id: string; leader: boolean } | undefined {
  const fields = out.trim().split(', ');
  return fields.length >= 5 ? { id: fields[1]!, leader: fields[4] === 'true' } : undefined;
}

/** A runner over @kubernetes/client-node's Exec (pods/exec over websocket), container `etcd` of the pod. */
export async function execRunner(config: KubeConfig): Promise<EtcdctlRunner> {
  const k8s = await loadKubernetesClient();
  const exec = new k8s.Exec(config);
  return (pod, args) =>
    new Promise((resolve, reject) => {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let out = '';
      let err = '';
      stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
      exec
        .exec('kube-system', pod, 'etcd', ['etcdctl', ...ETCDCTL_TLS, ...args], stdout, stderr, null, false, (status) => {
          resolve({ stdout: out, stderr: err, ok: status.status === 'Success' });
        })
        .catch(reject);
    });
}

/** One cluster's etcd, reached through its etcd static pods. */
export class PodEtcd {
  constructor(
    private readonly api: CoreV1Api,
    private readonly run: EtcdctlRunner,
  ) {}

  /** Running etcd pods by node name. */
  private async pods(): Promise<Map<string, string>> {
    const list = await this.api.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'component=etcd,tier=control-plane' });
    const out = new Map<string, string>();
    for (const pod of list.items) {
      if (pod.status?.phase === 'Running' && pod.spec?.nodeName && pod.metadata?.name) out.set(pod.spec.nodeName, pod.metadata.name);
    }
    return out;
  }

  async members(avoid?: string): Promise<{ members: EtcdMember[]; pods: Map<string, string> }> {
    const pods = await this.pods();
    if (pods.size === 0) return { members: [], pods };
    const order = [...pods].sort(([a], [b]) => Number(a === avoid) - Number(b === avoid));
    let listed: ReturnType<typeof parseMemberList> | undefined;
    let lastError = '';
    for (const [, pod] of order) {
      const r = await this.run(pod, ['member', 'list', '-w', 'simple']).catch((e: Error) => ({ ok: false, stdout: '', stderr: e.message }));
      if (r.ok) {
        listed = parseMemberList(r.stdout);
        break;
      }
      lastError = r.stderr.trim();
    }
    if (!listed) throw new ProviderUnavailableError(`etcd: no etcd pod answered member list: ${lastError}`);
    // Health and leadership: each started member's own pod answers endpoint status about its local member.
    const statuses = new Map<string, { leader: boolean }>();
    await Promise.all(
      listed.map(async (m) => {
        const pod = pods.get(m.name);
        if (!pod) return;
        const r = await this.run(pod, ['endpoint', 'status', '-w', 'simple']).catch(() => undefined);
        const status = r?.ok ? parseEndpointStatus(r.stdout) : undefined;
        if (status?.id === m.id) statuses.set(m.id, { leader: status.leader });
      }),
    );
    const members = listed.map((m): EtcdMember => ({ id: m.id, name: m.started ? m.name : '', peerUrls: m.peerUrls, learner: m.learner, leader: statuses.get(m.id)?.leader === true, healthy: statuses.has(m.id) }));
    return { members, pods };
  }

  async removeMachineMember(machine: string): Promise<EtcdMemberRemoval> {
    const { members } = await this.members(machine);
    const target = members.find((m) => m.name === machine);
    if (!target) return { removed: false, leadershipMoved: false, members: members.map(describeMember) };
    return this.removeMember(target.id, machine);
  }

  async removeMember(id: string, avoid?: string): Promise<EtcdMemberRemoval> {
    const { members, pods } = await this.members(avoid);
    const target = members.find((m) => m.id === id);
    if (!target) return { removed: false, leadershipMoved: false, members: members.map(describeMember) };
    const refusal = etcdRemovalRefusal(members, id);
    if (refusal) throw new ProviderUnavailableError(`etcd: refusing to remove a member: ${refusal}`);
    let leadershipMoved = false;
    const next = etcdLeaderCandidate(members, id);
    if (target.leader && next) {
      const r = await this.run(pods.get(target.name)!, ['move-leader', next.id]);
      if (!r.ok) throw new ProviderUnavailableError(`etcd: move-leader ${target.name} → ${next.name} failed: ${r.stderr.trim()}`);
      leadershipMoved = true;
    }
    const via = pods.get(next?.name ?? '');
    if (!via) throw new ProviderUnavailableError(`etcd: no healthy member other than ${describeMember(target)} to remove it through`);
    const r = await this.run(via, ['member', 'remove', id]);
    if (!r.ok && !/member not found/i.test(r.stderr)) throw new ProviderUnavailableError(`etcd: member remove ${describeMember(target)} failed: ${r.stderr.trim()}`);
    const after = (await this.members(target.name)).members;
    return { removed: r.ok, leadershipMoved, members: after.map(describeMember) };
  }
}
