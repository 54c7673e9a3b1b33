/**
 * etcd membership math for control-plane removal: may a member go without losing quorum, which member should lead
 * instead, and which members belong to no machine. Pure: both providers and the removal step use it.
 *
 * Modelled on Cluster API's KubeadmControlPlane (controlplane/kubeadm/reconcilers/kubeadmcontrolplane/remediation.go,
 * `targetEtcdClusterHealthy`; kubeadmcontrolplane_controller.go, `reconcileEtcdMembers`): the target cluster (members
 * after the change) must keep `healthy voting members ≥ ⌊voting / 2⌋ + 1`, a member without a name (added, not yet
 * started) counts as unhealthy, and the last member is never removed (pkg/workload_cluster_etcd.go, RemoveEtcdMember).
 * Fault tolerance formula: https://etcd.io/docs/v3.4/faq/#what-is-failure-tolerance
 */
import type { EtcdMember } from './provider.js';

/** Quorum of `voting` voting members. */
export function etcdQuorum(voting: number): number {
  return Math.floor(voting / 2) + 1;
}

/** Why a removal is refused, or undefined when it is safe. */
export function etcdRemovalRefusal(members: readonly EtcdMember[], id: string): string | undefined {
  const target = members.find((m) => m.id === id);
  if (!target) return undefined;
  if (members.length <= 1) return `etcd member ${describeMember(target)} is the last member of the cluster`;
  // A learner does not vote: removing it never changes the quorum.
  if (target.learner) return undefined;
  const voting = members.filter((m) => !m.learner && m.id !== id);
  const healthy = voting.filter((m) => m.healthy && m.name !== '');
  const quorum = etcdQuorum(voting.length);
  if (healthy.length < quorum) {
    return `removing etcd member ${describeMember(target)} leaves ${healthy.length} healthy of ${voting.length} voting members, quorum needs ${quorum} (members: ${members.map(describeMember).join(', ')})`;
  }
  return undefined;
}

/** The member leadership should move to before `id` goes: a healthy, started voting member, by name for determinism. */
export function etcdLeaderCandidate(members: readonly EtcdMember[], id: string): EtcdMember | undefined {
  return members
    .filter((m) => m.id !== id && !m.learner && m.healthy && m.name !== '')
    .sort((a, b) => a.name.localeCompare(b.name))[0];
}

/**
 * Members that belong to no machine in `machines` (live control-plane machines at the provider): the ones to remove.
 * A member is matched by its name (= node name = machine name, as kubeadm names it) or by the machine the provider
 * attributes it to (`member.machine`: an added member that has not started has no name yet).
 *
 * Note: as Cluster API does, a member that no machine explains while some machine has no member yet may be that
 * machine's (still joining), so unnamed members are kept while any machine lacks a member.
 */
export function strayEtcdMembers(members: readonly EtcdMember[], machines: readonly string[]): EtcdMember[] {
  const live = new Set(machines);
  const owner = (m: EtcdMember) => (m.name !== '' ? m.name : m.machine);
  const explained = new Set(members.map(owner).filter((n): n is string => n !== undefined && live.has(n)));
  const provisioning = machines.some((name) => !explained.has(name));
  return members.filter((m) => {
    const name = owner(m);
    if (name !== undefined && live.has(name)) return false;
    return !(m.name === '' && m.machine === undefined && provisioning);
  });
}

/** `name` of a member, or its peer URL while it has none. */
export function describeMember(m: Pick<EtcdMember, 'name' | 'peerUrls' | 'id'>): string {
  return m.name || `(unstarted ${m.peerUrls[0] ?? m.id})`;
}
