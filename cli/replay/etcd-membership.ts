/**
 * The `EtcdMembership` guarantee: a control-plane machine is an etcd member from its `MachineReady` until its
 * `EtcdMemberRemoved`; no member's machine is deleted before its member is removed, the members never outnumber
 * replicas + maxSurge, and the members that are up are at least a quorum of the members (Cluster API's
 * KubeadmControlPlane: controlplane/kubeadm/internal/workload_cluster_etcd.go `RemoveEtcdMemberForMachine` before
 * the machine goes).
 *
 * Its own file because it tracks state no other guarantee reads: the member set, and which members were seen
 * failing or unhealthy.
 */
import type { PoolRule } from './pool-bounds.js';
import { CONTROL_PLANE, describeEvent, type MachineState } from './machines.js';
import type { GuaranteeCheck, ReplayEvent, Violation } from './types.js';

/** Tracks etcd members through the events and checks their count and quorum after each. */
export class EtcdMembership {
  /** Members by machine name: the control-plane machines Ready before the window, then MachineReady adds and EtcdMemberRemoved removes. */
  private readonly members: Set<string>;
  /** Members seen failing or unhealthy since they were last Ready. */
  private readonly down = new Set<string>();
  private peakMembers: number;
  private lowestMemberMargin: number | undefined;

  /**
   * @param rule the control plane's bounds (its maxMachines caps the members)
   * @param machines the replay's machines; those alive and Ready now are the members before the window
   * @param violations where broken guarantees are appended (shared with the other checkers, in event order)
   */
  constructor(
    private readonly rule: PoolRule,
    private readonly machines: ReadonlyMap<string, MachineState>,
    private readonly violations: Violation[],
  ) {
    this.members = new Set([...machines].filter(([, m]) => m.pool === CONTROL_PLANE && m.ready).map(([name]) => name));
    this.peakMembers = this.members.size;
  }

  /**
   * Applies one event to the members; a control-plane `MachineDeleted` of a member still in etcd is a violation.
   * @param controlPlane the event's machine belongs to the control plane
   */
  observe(event: ReplayEvent, controlPlane: boolean, deleting: boolean): void {
    const name = event.machine;
    if (!name) return;
    switch (event.type) {
      case 'EtcdMemberRemoved':
        this.members.delete(name);
        break;
      case 'MachineReady':
        if (controlPlane) this.members.add(name);
        this.down.delete(name);
        break;
      case 'MachineFailed':
      case 'MachineUnhealthy':
        this.down.add(name);
        break;
      case 'MachineDeleted':
      case 'MachineMissing':
        if (event.type === 'MachineDeleted' && controlPlane && this.members.has(name) && !deleting) {
          this.violations.push({ rule: 'EtcdMembership', seq: event.seq, time: event.time, pool: CONTROL_PLANE, message: `etcd: ${describeEvent(event)} while ${name} was still an etcd member` });
        }
        // From here on no member: removed before (checked above), or a machine that died (MachineMissing), whose stray
        // member Capstan removes later and which this replay no longer counts.
        this.members.delete(name);
        break;
    }
  }

  /**
   * Checks the member count and, once the control plane was fully available and unless the cluster is being
   * deleted, the quorum of members up.
   * @param established the control plane has been fully available in the window
   */
  check(event: ReplayEvent, deleting: boolean, established: boolean): void {
    const members = this.members;
    this.peakMembers = Math.max(this.peakMembers, members.size);
    if (members.size > this.rule.maxMachines) {
      this.violations.push({ rule: 'EtcdMembership', seq: event.seq, time: event.time, pool: CONTROL_PLANE, message: `etcd: ${members.size} members after ${describeEvent(event)}, at most ${this.rule.maxMachines} (replicas + maxSurge)` });
    }
    if (deleting || !established || members.size === 0) return;
    // A member is up while its machine lives and has not been seen failing (a draining machine still runs etcd).
    const healthy = [...members].filter((n) => {
      const m = this.machines.get(n);
      return m !== undefined && !m.gone && !this.down.has(n);
    }).length;
    const quorum = Math.floor(members.size / 2) + 1;
    this.lowestMemberMargin = Math.min(this.lowestMemberMargin ?? Infinity, healthy - quorum);
    if (healthy < quorum) {
      this.violations.push({ rule: 'EtcdMembership', seq: event.seq, time: event.time, pool: CONTROL_PLANE, message: `etcd: ${healthy} of ${members.size} members up after ${describeEvent(event)}, quorum needs ${quorum}` });
    }
  }

  /** The EtcdMembership row of the summary. */
  summary(): GuaranteeCheck {
    return {
      rule: 'EtcdMembership',
      ok: !this.violations.some((v) => v.rule === 'EtcdMembership'),
      detail: `peak ${this.peakMembers} members, lowest margin over quorum ${this.lowestMemberMargin ?? '-'}, every member removed before its machine`,
    };
  }
}
