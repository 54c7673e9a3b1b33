/**
 * The kubeadm configuration documents of an EC2 machine (InitConfiguration + ClusterConfiguration for the first
 * control-plane machine, JoinConfiguration for the others), in the kubeadm API version of its Kubernetes version, with
 * the settings imported from Cluster API manifests (`spec.kubeadm`) converted to that version and merged under
 * Capstan's own, and written as YAML that kubeadm's YAML 1.1 reader reads back unchanged (kubeadm-yaml.ts, re-exported
 * here). Checked against kubeadm's Go types in test/providers/aws-ec2/kubeadm-types.test.ts. bootstrap.ts puts them
 * into the user data.
 */
import type { KubeadmSpec } from '../../functions/domain/cluster.js';
import { parseVersion } from '../../functions/domain/semver.js';
import { BOOTSTRAP_TOKEN_TTL_MS } from './cluster-secrets.js';

export { kubeadmYaml } from './kubeadm-yaml.js';

/** Placeholders in the kubeadm config template, replaced at boot with values fetched from Secrets Manager. */
export const PLACEHOLDERS = {
  token: '__CAPSTAN_BOOTSTRAP_TOKEN__',
  caCertHash: '__CAPSTAN_CA_CERT_HASH__',
  certificateKey: '__CAPSTAN_CERTIFICATE_KEY__',
} as const;

/** The TTL of the token `kubeadm init` creates: Capstan's join-token TTL (cluster-secrets.ts), in kubeadm's duration format. */
export const INIT_TOKEN_TTL = `${BOOTSTRAP_TOKEN_TTL_MS / 3600_000}h0m0s`;

/** How a machine joins its cluster. */
export type BootstrapKind = 'init' | 'join-control-plane' | 'join-worker';

/** What the kubeadm documents of a machine depend on (a part of bootstrap.ts `UserDataInput`). */
export interface KubeadmInput {
  readonly kind: BootstrapKind;
  readonly clusterName: string;
  readonly machineName: string;
  /** Kubernetes version `vX.Y.Z` of this machine. */
  readonly version: string;
  /** `host:port` of the API server load balancer. */
  readonly controlPlaneEndpoint: string;
  readonly podCidr: string;
  readonly serviceCidr: string;
  readonly kubeadm?: KubeadmSpec;
  /** Node labels (worker pool labels plus Capstan's identity labels). */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The join phase a control-plane join skips (see `kubeadmDocuments`). */
export const SKIP_DOWNLOAD_CERTS = 'control-plane-prepare/download-certs';

/** kubeadm config API version for a Kubernetes version: v1beta4 from 1.31, v1beta3 before. */
export function kubeadmApiVersion(version: string): string {
  const v = parseVersion(version);
  return v && (v.major > 1 || v.minor >= 31) ? 'kubeadm.k8s.io/v1beta4' : 'kubeadm.k8s.io/v1beta3';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge: `over` wins; arrays are replaced, not concatenated. */
function merge(base: unknown, over: unknown): unknown {
  if (!isObj(base) || !isObj(over)) return over === undefined ? base : over;
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
  return out;
}

/** The fields that hold component flags: a map in v1beta3 (and Cluster API v1beta1), a list of {name, value} in v1beta4. */
const ARG_FIELDS = new Set(['extraArgs', 'kubeletExtraArgs']);

/** A flag value as kubeadm's string field wants it: a YAML number or bool as its text, no value as the empty string. */
const argValue = (value: unknown): string => (value === undefined || value === null ? '' : String(value));

/**
 * Writes every `extraArgs`/`kubeletExtraArgs` in the shape of the kubeadm API version: a list of {name, value} for
 * v1beta4, a map for v1beta3, whichever shape it came in (Cluster API v1beta1 uses maps, v1beta2 lists). Values are
 * always strings: kubeadm's fields are `string`, and `node-cidr-mask-size: 24` would not decode.
 */
function normalizeArgs(value: unknown, v1beta4: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => normalizeArgs(v, v1beta4));
  if (!isObj(value)) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    if (ARG_FIELDS.has(k) && (isObj(v) || Array.isArray(v))) {
      const args = isObj(v) ? Object.entries(v) : v.filter(isObj).map((a) => [a.name, a.value] as const);
      out[k] = v1beta4
        ? args.map(([name, val]) => ({ name, value: argValue(val) }))
        : Object.fromEntries(args.map(([name, val]) => [String(name), argValue(val)]));
    } else {
      out[k] = normalizeArgs(v, v1beta4);
    }
  }
  return out;
}

function kubeletArgs(labels: Readonly<Record<string, string>> | undefined, v1beta4: boolean): unknown {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return undefined;
  const value = entries.map(([k, v]) => `${k}=${v}`).join(',');
  return v1beta4 ? [{ name: 'node-labels', value }] : { 'node-labels': value };
}

/**
 * Capstan's kubelet flags over the imported ones. v1beta4 lists are joined by flag name (`merge` would replace the
 * whole list, losing e.g. an imported `cloud-provider: external`); v1beta3 maps are merged by `merge` itself.
 */
function withKubeletArgs(imported: unknown, own: unknown): unknown {
  if (!Array.isArray(imported) || !Array.isArray(own)) return own;
  const names = new Set(own.filter(isObj).map((a) => a.name));
  return [...imported.filter((a) => !(isObj(a) && names.has(a.name))), ...own];
}

/** Drops keys whose value is undefined (YAML would print them as null). */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (!isObj(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, compact(v)]));
}

/**
 * Cluster API v1beta2 `timeouts` fields (integer seconds) → kubeadm v1beta4 `Timeouts` fields (durations), as
 * Cluster API converts them (bootstrap/kubeadm/types/upstreamv1beta4/conversion.go,
 * Convert_v1beta2_Timeouts_To_upstreamv1beta4_Timeouts; api/bootstrap/kubeadm/v1beta2/kubeadm_types.go Timeouts).
 */
const CAPI_TIMEOUT_SECONDS: Readonly<Record<string, string>> = {
  controlPlaneComponentHealthCheckSeconds: 'controlPlaneComponentHealthCheck',
  kubeletHealthCheckSeconds: 'kubeletHealthCheck',
  kubernetesAPICallSeconds: 'kubernetesAPICall',
  etcdAPICallSeconds: 'etcdAPICall',
  tlsBootstrapSeconds: 'tlsBootstrap',
  discoverySeconds: 'discovery',
};

/** Cluster API v1beta2 ClusterConfiguration validity periods in days → kubeadm v1beta4 durations. */
const CAPI_VALIDITY_DAYS: Readonly<Record<string, string>> = {
  certificateValidityPeriodDays: 'certificateValidityPeriod',
  caCertificateValidityPeriodDays: 'caCertificateValidityPeriod',
};

const isWholeNumber = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Whole seconds as Go's time.Duration prints them (`10m0s`, `8760h0m0s`, `45s`): how metav1.Duration is written. */
function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${h}h${m}m${s}s` : m ? `${m}m${s}s` : `${s}s`;
}

/** A `timeouts` block in kubeadm v1beta4 field names: Cluster API's `*Seconds` converted, kubeadm's own fields kept. */
function timeoutsOf(timeouts: unknown): Obj {
  if (!isObj(timeouts)) return {};
  const converted: Obj = {};
  const own: Obj = {};
  for (const [k, v] of Object.entries(timeouts)) {
    const name = CAPI_TIMEOUT_SECONDS[k];
    if (name && isWholeNumber(v)) converted[name] = goDuration(v);
    else own[k] = v; // kubeadm's own field, or a value that is not seconds: kept for kubeadm to judge
  }
  return { ...converted, ...own };
}

const objAt = (o: Obj, key: string): Obj => (isObj(o[key]) ? (o[key] as Obj) : {});
const hasKeys = (o: Obj): boolean => Object.keys(o).length > 0;

/** The imported ClusterConfiguration, InitConfiguration and JoinConfiguration, each in kubeadm's shape for the version. */
interface ImportedConfigs {
  readonly cluster: Obj;
  readonly init: Obj;
  readonly join: Obj;
}

/**
 * The imported `spec.kubeadm` documents (Cluster API v1beta1 or v1beta2 KubeadmConfigSpec shapes, or kubeadm's own)
 * converted to the kubeadm API version Capstan renders, so that no setting is dropped as an unknown field:
 *  - flags: see `normalizeArgs`.
 *  - timeouts. kubeadm v1beta4 moved `ClusterConfiguration.apiServer.timeoutForControlPlane` to
 *    `timeouts.controlPlaneComponentHealthCheck` of BOTH InitConfiguration and JoinConfiguration, and
 *    `JoinConfiguration.discovery.timeout` to `JoinConfiguration.timeouts.discovery` (kubernetes
 *    cmd/kubeadm/app/apis/kubeadm/v1beta3/conversion.go: Convert_v1beta3_ClusterConfiguration_To_kubeadm_ClusterConfiguration
 *    → SetConversionTimeoutControlPlane, read back by v1beta4/conversion.go Convert_kubeadm_{Init,Join}Configuration_To_v1beta4_*;
 *    Convert_v1beta3_JoinConfiguration_To_kubeadm_JoinConfiguration for the discovery timeout). Capstan does the same;
 *    a join of either kind gets the control-plane timeout too, as kubeadm and Cluster API
 *    (api/bootstrap/kubeadm/v1beta1/conversion.go KubeadmConfigSpec.ConvertTo) do. Cluster API v1beta2 `*Seconds`
 *    become durations (`CAPI_TIMEOUT_SECONDS`). When both shapes set one timeout, the `timeouts` block wins.
 *    For v1beta3 the control-plane timeout goes back to `apiServer.timeoutForControlPlane` (init only: v1beta3 has no
 *    place for it in a JoinConfiguration; a joining control plane uses the cluster's stored ClusterConfiguration) and
 *    the discovery timeout to `discovery.timeout`; v1beta3 cannot express the other timeouts, they are dropped and
 *    kubeadm < 1.31 uses its built-in values.
 *    Note: for the discovery timeout Capstan follows kubeadm; Cluster API maps v1beta1 `discovery.timeout` to
 *    `tlsBootstrapSeconds` instead (same conversion.go files).
 *  - certificate validity. Cluster API v1beta2 `certificateValidityPeriodDays`/`caCertificateValidityPeriodDays`
 *    become v1beta4 `certificateValidityPeriod`/`caCertificateValidityPeriod` (v1beta4 since 1.31; kubeadm applies
 *    the CA one only to CAs it makes itself, and Capstan brings its own, see pki.ts). v1beta3 has neither: dropped.
 * Imported `bootstrapTokens` (v1beta2 `ttlSeconds`) need nothing: Capstan's token list replaces them.
 */
function importedConfigs(kubeadm: KubeadmSpec, v1beta4: boolean): ImportedConfigs {
  // normalizeArgs copies every object, so the conversion below may change them in place.
  const spec = normalizeArgs(kubeadm, v1beta4) as Obj;
  const cluster = objAt(spec, 'clusterConfiguration');
  const init = objAt(spec, 'initConfiguration');
  const join = objAt(spec, 'joinConfiguration');
  const apiServer = objAt(cluster, 'apiServer');
  const discovery = objAt(join, 'discovery');
  const controlPlane = compact({ controlPlaneComponentHealthCheck: apiServer.timeoutForControlPlane }) as Obj;
  const initTimeouts = { ...controlPlane, ...timeoutsOf(init.timeouts) };
  const joinTimeouts = { ...controlPlane, ...(compact({ discovery: discovery.timeout }) as Obj), ...timeoutsOf(join.timeouts) };
  delete apiServer.timeoutForControlPlane;
  delete discovery.timeout;
  delete init.timeouts;
  delete join.timeouts;
  if (v1beta4) {
    if (hasKeys(initTimeouts)) init.timeouts = initTimeouts;
    if (hasKeys(joinTimeouts)) join.timeouts = joinTimeouts;
  } else {
    if (initTimeouts.controlPlaneComponentHealthCheck !== undefined) apiServer.timeoutForControlPlane = initTimeouts.controlPlaneComponentHealthCheck;
    if (joinTimeouts.discovery !== undefined) discovery.timeout = joinTimeouts.discovery;
  }
  if (hasKeys(apiServer)) cluster.apiServer = apiServer;
  if (hasKeys(discovery)) join.discovery = discovery;
  for (const [daysField, field] of Object.entries(CAPI_VALIDITY_DAYS)) {
    const days = cluster[daysField];
    if (!isWholeNumber(days)) continue; // not days: kept for kubeadm to judge
    delete cluster[daysField];
    if (v1beta4 && cluster[field] === undefined) cluster[field] = goDuration(days * 86400);
  }
  if (!v1beta4) for (const field of Object.values(CAPI_VALIDITY_DAYS)) delete cluster[field];
  return { cluster, init, join };
}

/**
 * The kubeadm configuration documents of a machine, with secret placeholders. The imported `spec.kubeadm` settings,
 * converted to the kubeadm API version of the machine (`importedConfigs`), are merged under Capstan's: version,
 * endpoint, subnets, node name and secrets always come from Capstan.
 */
export function kubeadmDocuments(input: KubeadmInput): Obj[] {
  const apiVersion = kubeadmApiVersion(input.version);
  const v1beta4 = apiVersion.endsWith('v1beta4');
  const imported = importedConfigs(input.kubeadm ?? {}, v1beta4);
  const endpointHost = input.controlPlaneEndpoint.replace(/:\d+$/, '');
  const nodeRegistration = (importedConfig: Obj) =>
    compact({
      name: input.machineName,
      kubeletExtraArgs: withKubeletArgs(objAt(importedConfig, 'nodeRegistration').kubeletExtraArgs, kubeletArgs(input.labels, v1beta4)),
    });
  if (input.kind === 'init') {
    const sans = objAt(imported.cluster, 'apiServer').certSANs;
    const importedSans = Array.isArray(sans) ? sans : [];
    const init = merge(imported.init, {
      apiVersion,
      kind: 'InitConfiguration',
      bootstrapTokens: [{ token: PLACEHOLDERS.token, ttl: INIT_TOKEN_TTL, usages: ['signing', 'authentication'], groups: ['system:bootstrappers:kubeadm:default-node-token'] }],
      certificateKey: PLACEHOLDERS.certificateKey,
      nodeRegistration: nodeRegistration(imported.init),
    }) as Obj;
    const clusterConfig = merge(imported.cluster, {
      apiVersion,
      kind: 'ClusterConfiguration',
      clusterName: input.clusterName,
      kubernetesVersion: input.version,
      controlPlaneEndpoint: input.controlPlaneEndpoint,
      networking: { podSubnet: input.podCidr, serviceSubnet: input.serviceCidr },
      apiServer: { certSANs: [...new Set([...importedSans.map(String), endpointHost])] },
    }) as Obj;
    return [init, clusterConfig];
  }
  const importedSkips = Array.isArray(imported.join.skipPhases) ? imported.join.skipPhases.map(String) : [];
  const join = merge(imported.join, {
    apiVersion,
    kind: 'JoinConfiguration',
    discovery: { bootstrapToken: { apiServerEndpoint: input.controlPlaneEndpoint, token: PLACEHOLDERS.token, caCertHashes: [PLACEHOLDERS.caCertHash] } },
    nodeRegistration: nodeRegistration(imported.join),
    // Keeps controlPlane.certificateKey (a control-plane join) and skips download-certs: that phase runs whenever a
    // certificate key is set and fails once the 2-hour kubeadm-certs Secret is gone (kubernetes
    // cmd/kubeadm/app/cmd/phases/join/controlplaneprepare.go, phases/copycerts/copycerts.go DownloadCerts); the CAs
    // are restored from the `pki` field instead (manual certificate distribution).
    ...(input.kind === 'join-control-plane'
      ? { controlPlane: { certificateKey: PLACEHOLDERS.certificateKey }, skipPhases: [...new Set([...importedSkips, SKIP_DOWNLOAD_CERTS])] }
      : {}),
  }) as Obj;
  return [join];
}
