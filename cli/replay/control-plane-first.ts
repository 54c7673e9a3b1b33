/**
 * The `ControlPlaneFirst` guarantee: no control-plane machine is created, drained or deleted after a worker
 * replacement began (Cluster API upgrades the control plane before any MachineDeployment).
 *
 * Its own file because it is a rule about order, not counts: it remembers when the first worker replacement began
 * and the first control-plane change after it, and judges once the window is replayed.
 *
 * ```
 * seq:  … MachineDeleted cp-2   MachineCreated md-3 (beside an old md)   MachineDraining cp-0 …
 *                              ▲ worker replacement began                ▲ violation: the control plane still changing
 * ```
 */
import { CONTROL_PLANE, describeEvent, liveMachines, type MachineState } from './machines.js';
import type { GuaranteeCheck, ReplayEvent, Violation } from './types.js';

/** The control-plane events that count as changing it. */
const CONTROL_PLANE_CHANGES = ['MachineCreated', 'MachineDraining', 'MachineDeleted'];

/** Watches machine events for a control-plane change after a worker replacement began. */
export class ControlPlaneFirst {
  private workerReplacementSeq: number | undefined;
  private lateControlPlane: ReplayEvent | undefined;

  /**
   * @param machines the replay's machines, read to tell a replacement from a scale-up
   * @param violations where the broken guarantee is appended by `finish`
   */
  constructor(
    private readonly machines: ReadonlyMap<string, MachineState>,
    private readonly violations: Violation[],
  ) {}

  /**
   * Observes one machine event, after the replay applied it to `machine`.
   *
   * A worker replacement begins at a worker's MachineDraining, or at a worker's MachineCreated beside a live machine
   * of the same pool that is old or at another version.
   * @param pool the pool the event belongs to (as the replay resolved it)
   */
  observe(event: ReplayEvent, pool: string, machine: MachineState, deleting: boolean): void {
    if (deleting) return;
    if (pool !== CONTROL_PLANE) {
      if (this.workerReplacementSeq !== undefined) return;
      if (event.type === 'MachineDraining' || (event.type === 'MachineCreated' && this.replacesAnother(pool, machine))) this.workerReplacementSeq = event.seq;
      return;
    }
    if (this.workerReplacementSeq !== undefined && CONTROL_PLANE_CHANGES.includes(event.type)) this.lateControlPlane ??= event;
  }

  /** Records the violation, if any: the first control-plane change after the worker replacement began. */
  finish(): void {
    if (!this.lateControlPlane) return;
    this.violations.push({
      rule: 'ControlPlaneFirst',
      seq: this.lateControlPlane.seq,
      time: this.lateControlPlane.time,
      pool: CONTROL_PLANE,
      message: `control plane: ${describeEvent(this.lateControlPlane)} after the worker replacement began at seq ${this.workerReplacementSeq}`,
    });
  }

  /** The ControlPlaneFirst row of the summary. */
  summary(): GuaranteeCheck {
    const late = this.lateControlPlane;
    return {
      rule: 'ControlPlaneFirst',
      ok: !this.violations.some((v) => v.rule === 'ControlPlaneFirst'),
      detail: this.workerReplacementSeq === undefined ? 'no worker was replaced' : `worker replacement began at seq ${this.workerReplacementSeq}${late ? `, control plane still changing at seq ${late.seq}` : ', after the control plane finished'}`,
    };
  }

  /** A live machine of `pool` other than `created` is old or at another version than it. */
  private replacesAnother(pool: string, created: MachineState): boolean {
    return liveMachines(this.machines, pool).some(
      (other) => other !== created && (other.old || (created.version !== undefined && other.version !== undefined && other.version !== created.version)),
    );
  }
}
