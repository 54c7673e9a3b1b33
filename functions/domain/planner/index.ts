/**
 * The rollout planner's public API: `planCluster` and the Cluster API building blocks it is made of.
 */
export type { Intent, MachineIntent, Plan, PlanAction, PlanInput, RemovalReason } from './types.js';
export { REMOVAL_REASONS } from './types.js';
export { planCluster, infrastructureDeleted, INFRASTRUCTURE_DELETED_REASON } from './plan-cluster.js';
export { DEFAULT_MAX_BOOT_ATTEMPTS, type CreateMachineIntent } from './context.js';
export { etcdQuorum, infrastructureReady } from './control-plane.js';
export {
  resolveFenceposts,
  maxUnavailable,
  maxSurge,
  newMSNewReplicas,
  deploymentComplete,
  reconcileNewMachineSet,
  reconcileOldMachineSetsRollingUpdate,
  reconcileOldMachineSetsOnDelete,
  reconcileDeadlockBreaker,
  planRollingUpdate,
  planOnDelete,
  totalMachineSetsReplicaSum,
  type DeploymentRollout,
  type MachineSetState,
  type ScaleDecision,
  type Fenceposts,
} from './rollout-math.js';
export { kcpSelectMachineForScaleDown, shouldRolloutBefore, hasUnhealthyControlPlaneComponents, type ControlPlaneCandidate } from './control-plane-select.js';
export { pickFewestFailureDomain, pickMostFailureDomain, type FailureDomainMember } from './failure-domains.js';
export { kcpValidateVersionUpdate, machineSetPreflightVersionSkew, type PreflightResult } from './version-skew.js';
export { mhcIsAllowedRemediation, unhealthyReason, type RemediationGateInput } from './health.js';
export { bootBackoffSeconds, deletionPriority, outdatedReason } from './machines.js';
export { simulateRollout, estimateWaves, planSummary, type RolloutEstimate, type RolloutWave, type SimulationOptions } from './simulate.js';
export { templateHash } from '../template-hash.js';
