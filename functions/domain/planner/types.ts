/**
 * What the planner decides. The planner is pure: `planCluster(input)` looks at the spec and the observed machines
 * and returns intents; the workflow applies them (idempotently) and asks again. Re-running the planner after a
 * crash recomputes the same intents from the same observations.
 */
import type { Cluster, MachineTemplate } from '../cluster.js';
import type { Machine, MachineRole } from '../machine.js';

export interface PlanInput {
  readonly cluster: Cluster;
  /** Every machine record of the cluster, INCLUDING `Deleted` ones (ordinals, boot-failure history). */
  readonly machines: readonly Machine[];
  readonly now: Date;
  /** Failure domains the infrastructure actually offers; @default cluster.spec.failureDomains */
  readonly failureDomains?: readonly string[];
  /** Seeded randomness for `deletionOrder: Random`. @default a deterministic choice by name */
  readonly random?: () => number;
  /** Consecutive boot failures after which the rollout blocks. @default 3 */
  readonly maxBootAttempts?: number;
}

/** A machine the planner wants made. `name` is deterministic so a re-plan after a crash names the same machine. */
export interface MachineIntent {
  readonly name: string;
  readonly pool: string;
  readonly role: MachineRole;
  readonly ordinal: number;
  readonly version: string;
  readonly template: MachineTemplate;
  readonly templateHash: string;
  readonly failureDomain?: string;
  /** 1 for a first try; n for the n-th try after boot failures. */
  readonly bootAttempt: number;
}

export const REMOVAL_REASONS = ['Outdated', 'ScaleDown', 'Unhealthy', 'DeleteRequested', 'ClusterDeleting', 'Failed', 'Orphaned'] as const;
export type RemovalReason = (typeof REMOVAL_REASONS)[number];

export type Intent =
  | { readonly kind: 'EnsureInfrastructure' }
  | { readonly kind: 'CreateMachine'; readonly machine: MachineIntent }
  /** Cordon, drain (disruption-budget aware, timeout, policy), then delete. For machines whose node may carry pods. */
  | { readonly kind: 'RetireMachine'; readonly machine: string; readonly pool: string; readonly reason: RemovalReason }
  /** Delete without draining: the machine never became Ready (failed, pending) or is already gone at the provider. */
  | { readonly kind: 'DeleteMachine'; readonly machine: string; readonly pool: string; readonly reason: RemovalReason }
  | { readonly kind: 'DeleteInfrastructure' }
  /** Nothing is left: remove the cluster record. */
  | { readonly kind: 'DeleteCluster' };

export type PlanAction =
  /** Apply `intents`, then plan again. */
  | 'Act'
  /** Something is in flight (a machine booting, a backoff); plan again after `waitSeconds`. */
  | 'Wait'
  /** The cluster matches its spec. */
  | 'Done'
  /** Progress is impossible without a change (see `blocked`). */
  | 'Blocked'
  /** `spec.paused`. */
  | 'Paused';

export interface Plan {
  readonly action: PlanAction;
  readonly intents: readonly Intent[];
  readonly waitSeconds?: number;
  /** Why the rollout cannot progress (condition reason + message), with action `Blocked` (or `Wait` on backoff). */
  readonly blocked?: { readonly reason: string; readonly message: string };
  /** Human notes on each decision, Cluster API style ("scaling up md-0 from 3 to 4 (maxSurge 1)"). */
  readonly notes: readonly string[];
}
