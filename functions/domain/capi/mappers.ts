/**
 * Pure field mappers from Cluster API objects (v1beta1 and v1beta2 shapes alike) to pieces of a raw Capstan Cluster
 * document. Each reads both API versions, because CAPA still ships v1beta1 core objects while CAPI main is v1beta2.
 */
import type { ClusterDocument, ProviderName, WorkerPoolSpec } from '../cluster.js';
import { parseDuration } from '../duration.js';
import { toCapstanDuration } from './go-duration.js';
import { AWS_KINDS, LOCAL_KINDS, readRef, type Ref } from './manifest.js';
import { asArr, asObj, asStr, at, firstDefined, type Obj } from './object.js';

/**
 * A raw (not yet validated or defaulted) version of a Capstan type: every field optional, every leaf `unknown`
 * (values are copied from the manifest as found; the spec parser judges them). Keys stay checked by the compiler.
 */
export type Draft<T> = T extends readonly unknown[] ? unknown : T extends object ? { -readonly [K in keyof T]?: Draft<T[K]> } : unknown;

/** A raw Capstan Cluster document under construction. */
export type DraftCluster = Draft<ClusterDocument>;
type DraftSpec = NonNullable<DraftCluster['spec']>;
/** Raw machine template. */
export type DraftMachine = NonNullable<NonNullable<DraftSpec['controlPlane']>['machine']>;
/** Raw health check. */
export type DraftHealthCheck = NonNullable<DraftSpec['healthCheck']>;
/** Raw worker rollout. */
export type DraftWorkerRollout = NonNullable<Draft<WorkerPoolSpec>['rollout']>;
/** Raw control-plane rollout. */
export type DraftControlPlaneRollout = NonNullable<NonNullable<DraftSpec['controlPlane']>['rollout']>;
/** Raw kubeadm settings. */
export type DraftKubeadm = NonNullable<DraftSpec['kubeadm']>;

/** Reports a problem with a field of the document being read (`field` is relative to that document). */
export type Report = (field: string, message: string) => void;

/** The Capstan provider of an infrastructure kind (`AWSMachineTemplate` → aws, `DevCluster` → local). */
export function providerOfKind(kind: string): ProviderName | undefined {
  if ((AWS_KINDS as readonly string[]).includes(kind)) return 'aws';
  if ((LOCAL_KINDS as readonly string[]).includes(kind)) return 'local';
  return undefined;
}

/** `v1.32.5` from `v1.32.5` or `1.32.5` (Cluster API tolerates the missing `v`; Capstan does not). */
export function normalizeVersion(value: unknown): unknown {
  return typeof value === 'string' && /^\d/.test(value) ? `v${value}` : value;
}

/** What an AWSCluster spec (or an AWSClusterTemplate's `spec.template.spec`) says about infrastructure. */
export interface AwsClusterFacts {
  readonly region?: unknown;
  readonly sshKeyName?: unknown;
  readonly vpcId?: unknown;
  readonly vpcCidr?: unknown;
  readonly subnetIds?: readonly unknown[];
  readonly tags?: unknown;
  /** Availability zones of the given subnets: CAPA derives failure domains from them. */
  readonly failureDomains?: readonly string[];
  readonly identityRef?: Ref;
}

/** Reads an AWSCluster spec. `sshKeyName: ""` means "no key" in CAPA and is dropped. */
export function readAwsClusterSpec(spec: Obj): AwsClusterFacts {
  const subnets = (asArr(at(spec, 'network', 'subnets')) ?? []).map((s) => asObj(s) ?? {});
  const subnetIds = subnets.map((s) => firstDefined(s['id'], s['resourceID'])).filter((id) => id !== undefined);
  const zones = [...new Set(subnets.map((s) => asStr(s['availabilityZone'])).filter((z): z is string => Boolean(z)))];
  const sshKeyName = spec['sshKeyName'];
  return {
    region: spec['region'],
    sshKeyName: sshKeyName === '' ? undefined : sshKeyName,
    vpcId: at(spec, 'network', 'vpc', 'id'),
    vpcCidr: at(spec, 'network', 'vpc', 'cidrBlock'),
    ...(subnetIds.length ? { subnetIds } : {}),
    tags: spec['additionalTags'],
    ...(zones.length ? { failureDomains: zones } : {}),
    ...(readRef(spec['identityRef']) ? { identityRef: readRef(spec['identityRef']) } : {}),
  };
}

/**
 * Failure domains of a Docker-provider cluster spec that may hold control-plane machines: v1beta1 DockerCluster
 * (`failureDomains: {fd1: {controlPlane: true}}`), v1beta2 DockerCluster (a list of `{name, controlPlane}`), or
 * DevCluster (`backend.docker.failureDomains`, a list).
 */
export function readLocalFailureDomains(spec: Obj): readonly string[] | undefined {
  const raw = firstDefined(spec['failureDomains'], at(spec, 'backend', 'docker', 'failureDomains'));
  const entries: [string, unknown][] = Array.isArray(raw)
    ? raw.map((d) => [asStr(at(d, 'name')) ?? '', d])
    : Object.entries(asObj(raw) ?? {});
  const names = entries.filter(([name, d]) => name && at(d, 'controlPlane') === true).map(([name]) => name);
  return names.length ? names : undefined;
}

/**
 * A Capstan machine template from a machine template's `spec.template.spec` (AWSMachineTemplate: `instanceType`,
 * `ami.id`, `rootVolume.size` in GiB). Docker/Dev machines have no size: their template maps to `{}`, and the spec
 * parser's default instance type is what the local provider records.
 */
export function readMachineSpec(provider: ProviderName, spec: Obj, report: Report): DraftMachine {
  if (provider === 'local') return {};
  if (spec['instanceType'] === undefined) report('spec.template.spec.instanceType', 'required, got none');
  return { instanceType: spec['instanceType'], imageId: at(spec, 'ami', 'id'), rootVolumeSizeGiB: at(spec, 'rootVolume', 'size') };
}

const KUBEADM_FIELDS = ['clusterConfiguration', 'initConfiguration', 'joinConfiguration', 'files', 'preKubeadmCommands', 'postKubeadmCommands'] as const;

/**
 * The kubeadm settings Capstan carries from a `kubeadmConfigSpec`, verbatim (v1beta1 `extraArgs` stay maps,
 * v1beta2 ones stay `{name, value}` lists). Other fields (users, ntp, mounts, diskSetup, format, ignition, …) are
 * ignored. Undefined when none is set.
 */
export function readKubeadmConfigSpec(spec: unknown): DraftKubeadm | undefined {
  const o = asObj(spec);
  if (!o) return undefined;
  const picked = Object.fromEntries(KUBEADM_FIELDS.filter((f) => o[f] !== undefined && o[f] !== null).map((f) => [f, o[f]]));
  return Object.keys(picked).length ? (picked as DraftKubeadm) : undefined;
}

/**
 * Control-plane rollout from a KubeadmControlPlane spec: v1beta1 `rolloutStrategy.rollingUpdate.maxSurge` and
 * `rolloutAfter`; v1beta2 `rollout.strategy.rollingUpdate.maxSurge` and `rollout.after`.
 */
export function readControlPlaneRollout(spec: Obj): DraftControlPlaneRollout | undefined {
  const maxSurge = firstDefined(at(spec, 'rolloutStrategy', 'rollingUpdate', 'maxSurge'), at(spec, 'rollout', 'strategy', 'rollingUpdate', 'maxSurge'));
  const after = firstDefined(spec['rolloutAfter'], at(spec, 'rollout', 'after'));
  return maxSurge === undefined && after === undefined ? undefined : { maxSurge, after };
}

/**
 * Worker rollout from a MachineDeployment spec or a topology machineDeployment: v1beta1 `strategy.type`,
 * `strategy.rollingUpdate.{maxSurge,maxUnavailable,deletePolicy}`, `rolloutAfter`; v1beta2 `rollout.strategy.type`,
 * `rollout.strategy.rollingUpdate.{maxSurge,maxUnavailable}`, `rollout.after`, `deletion.order`.
 */
export function readWorkerRollout(spec: Obj): DraftWorkerRollout | undefined {
  const strategy = firstDefined(asObj(spec['strategy']), asObj(at(spec, 'rollout', 'strategy')));
  const rollout: DraftWorkerRollout = {
    strategy: at(strategy, 'type'),
    maxSurge: at(strategy, 'rollingUpdate', 'maxSurge'),
    maxUnavailable: at(strategy, 'rollingUpdate', 'maxUnavailable'),
    after: firstDefined(spec['rolloutAfter'], at(spec, 'rollout', 'after')),
    deletionOrder: firstDefined(at(strategy, 'rollingUpdate', 'deletePolicy'), at(spec, 'deletion', 'order')),
  };
  return Object.values(rollout).some((v) => v !== undefined && v !== null) ? rollout : undefined;
}

/**
 * The node drain timeout of a machine template spec, KCP `machineTemplate` or topology control plane:
 * v1beta1 `nodeDrainTimeout` (Go duration) or v1beta2 `deletion.nodeDrainTimeoutSeconds`.
 */
export function readDrainTimeout(spec: unknown): unknown {
  return firstDefined(at(spec, 'nodeDrainTimeout'), at(spec, 'deletion', 'nodeDrainTimeoutSeconds'));
}

/**
 * A Capstan duration from a v1beta1 Go duration string or, for a v1beta2 field (its name ends in `Seconds`), an
 * integer number of seconds; anything else is reported against `field`.
 */
export function readDuration(value: unknown, field: string, report: Report): string | undefined {
  if (value === undefined || value === null) return undefined;
  const seconds = field.endsWith('Seconds');
  const duration = seconds === (typeof value === 'number') ? toCapstanDuration(value) : undefined;
  if (duration === undefined) {
    report(field, seconds ? `must be a non-negative integer number of seconds, got ${JSON.stringify(value)}` : `must be a duration like "300s" or "10m0s", got ${JSON.stringify(value)}`);
  }
  return duration;
}

/**
 * A health check from a MachineHealthCheck spec or a ClusterClass/topology health check, either version:
 * v1beta1 `nodeStartupTimeout`, `unhealthyConditions[].timeout`, `maxUnhealthy`; v1beta2
 * `checks.nodeStartupTimeoutSeconds`, `checks.unhealthyNodeConditions[].timeoutSeconds`,
 * `remediation.triggerIf.unhealthyLessThanOrEqualTo`.
 *
 * Note: Capstan has one NotReady timeout; it takes the shortest timeout among the `Ready` node conditions (or among
 * all node conditions when none is about `Ready`). `unhealthyRange`/`unhealthyInRange` and machine conditions have no
 * Capstan equivalent yet and are ignored; an external remediation template is refused.
 */
export function readHealthCheck(spec: Obj, report: Report, prefix = 'spec'): DraftHealthCheck {
  // External remediation hands unhealthy machines to another controller instead of replacing them; ignoring it would
  // have Capstan replace machines the user meant to be remediated elsewhere. Refused (issue 19: never a silent drop).
  // v1beta1 `remediationTemplate`, v1beta2 `remediation.templateRef` (cluster-api api/core/v1beta2 machinehealthcheck_types.go).
  const external: [unknown, string][] = [[spec['remediationTemplate'], `${prefix}.remediationTemplate`], [at(spec, 'remediation', 'templateRef'), `${prefix}.remediation.templateRef`]];
  for (const [value, field] of external) {
    if (value !== undefined && value !== null) report(field, 'external remediation is not supported: Capstan remediates by replacing the machine; remove it to let Capstan do that');
  }
  const v1 = asArr(spec['unhealthyConditions']);
  const conditions = (v1 ?? asArr(at(spec, 'checks', 'unhealthyNodeConditions')) ?? []).map((c) => asObj(c) ?? {});
  const conditionsField = v1 ? `${prefix}.unhealthyConditions` : `${prefix}.checks.unhealthyNodeConditions`;
  const timed = conditions
    .map((c, i) => ({ type: c['type'], seconds: readDuration(firstDefined(c['timeout'], c['timeoutSeconds']), `${conditionsField}[${i}].${v1 ? 'timeout' : 'timeoutSeconds'}`, report) }))
    .filter((c): c is { type: unknown; seconds: string } => c.seconds !== undefined);
  const ready = timed.filter((c) => c.type === 'Ready');
  const candidates = ready.length ? ready : timed;
  const shortest = candidates.map((c) => c.seconds).sort((a, b) => (parseDuration(a) ?? 0) - (parseDuration(b) ?? 0))[0];
  const startupV1 = spec['nodeStartupTimeout'];
  return {
    nodeStartupTimeout:
      startupV1 !== undefined
        ? readDuration(startupV1, `${prefix}.nodeStartupTimeout`, report)
        : readDuration(at(spec, 'checks', 'nodeStartupTimeoutSeconds'), `${prefix}.checks.nodeStartupTimeoutSeconds`, report),
    unhealthyTimeout: shortest,
    maxUnhealthy: firstDefined(spec['maxUnhealthy'], at(spec, 'remediation', 'triggerIf', 'unhealthyLessThanOrEqualTo')),
  };
}
