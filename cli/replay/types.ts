/**
 * The public shapes of the rollout replay: the events and spec it reads, and the result it reports.
 *
 * Their own file so that each guarantee's checker (pool-bounds.ts, control-plane-first.ts, etcd-membership.ts) and
 * the replay loop (../replay.ts, which re-exports every name here) share them without importing one another.
 */

/** The fields of an event the replay reads (what the events API serves). */
export interface ReplayEvent {
  readonly seq: number;
  readonly time: string;
  readonly type: string;
  readonly machine?: string;
  readonly pool?: string;
  readonly message?: string;
  readonly data?: Readonly<Record<string, string | number | boolean | null>>;
}

/** The parts of a cluster spec the guarantees depend on (a served `Cluster.spec` fits). */
export interface ReplaySpec {
  readonly controlPlane: { readonly replicas: number; readonly rollout?: { readonly maxSurge?: number } };
  readonly workers: readonly {
    readonly name: string;
    readonly replicas: number;
    readonly rollout?: { readonly maxSurge?: number | string; readonly maxUnavailable?: number | string; readonly strategy?: string };
  }[];
}

/** Options of `replayGuarantees`. */
export interface ReplayOptions {
  /** Machines alive before the first event, with their pool and phase. @default inferred from the events */
  readonly initial?: readonly { readonly name: string; readonly pool: string; readonly version?: string; readonly ready: boolean }[];
  /** The version being rolled out; a machine at another version counts as replaced when it goes. @default any version */
  readonly toVersion?: string;
  /** Informational: the version rolled out from. */
  readonly fromVersion?: string;
}

/** Every guarantee the replay checks, in the order of `ReplayResult.checks`. */
export const GUARANTEES = ['MaxSurge', 'MaxUnavailable', 'Quorum', 'ControlPlaneFirst', 'EtcdMembership'] as const;
/** The name of one guarantee (see the module doc of ../replay.ts for what each means). */
export type Guarantee = (typeof GUARANTEES)[number];

/** One broken guarantee, located at the event after which it was observed. */
export interface Violation {
  readonly rule: Guarantee;
  readonly seq: number;
  readonly time: string;
  readonly pool: string;
  readonly message: string;
}

/** Extremes of one pool over the window. */
export interface PoolReplay {
  readonly pool: string;
  readonly replicas: number;
  /** replicas + maxSurge. */
  readonly maxMachines: number;
  /** replicas − maxUnavailable (control plane: quorum and surge rules, see module doc). */
  readonly minAvailable: number;
  readonly peakMachines: number;
  /** Lowest Ready count once the pool had been fully available; undefined when it never was. */
  readonly lowestAvailable: number | undefined;
  readonly created: number;
  readonly deleted: number;
}

/** One guarantee with its outcome, for a summary table. */
export interface GuaranteeCheck {
  readonly rule: Guarantee;
  readonly ok: boolean;
  readonly detail: string;
}

/** What `replayGuarantees` found: the broken guarantees, a summary check per guarantee, and the rollout's timing. */
export interface ReplayResult {
  /** Every guarantee held at every event. */
  readonly ok: boolean;
  readonly violations: readonly Violation[];
  readonly checks: readonly GuaranteeCheck[];
  /** Groups of machine creations in flight together (a new group starts when none is booting). */
  readonly waves: number;
  /** Machines that existed before their replacement and were deleted, in order. */
  readonly replaced: readonly string[];
  readonly created: readonly string[];
  /** Median MachineCreated → MachineReady, seconds; undefined when no machine booted in the window. */
  readonly medianBootSeconds: number | undefined;
  /** Median MachineDraining → MachineDeleted, seconds. */
  readonly medianDrainSeconds: number | undefined;
  /** First event → last event of the window, seconds. */
  readonly durationSeconds: number;
  /** waves × (median boot + median drain): no rollout respecting the bounds can be faster. */
  readonly lowerBoundSeconds: number;
  /** durationSeconds / lowerBoundSeconds (undefined when the bound is 0). */
  readonly ratio: number | undefined;
  /** A `RolloutCompleted` event is in the window. */
  readonly completed: boolean;
  /** A `RolloutBlocked` event is in the window. */
  readonly blocked: boolean;
  readonly pools: readonly PoolReplay[];
}
